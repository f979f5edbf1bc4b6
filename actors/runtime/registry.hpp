// The inspection registry: every actor publishes its own figures here (it is the only writer of
// its entry), and operators read snapshots. No CAF types: readers never touch an actor.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace marketlink::actors {

// The names of an actor's gauges from a fixed array (whose size each actor checks against its
// gauge enum at compile time).
template <std::size_t N>
std::vector<std::string> gauge_names(const std::array<const char*, N>& names) {
  return {names.begin(), names.end()};
}

class ActorStats {
 public:
  ActorStats(std::string name, std::string kind, std::string parent)
      : name_(std::move(name)), kind_(std::move(kind)), parent_(std::move(parent)) {}

  const std::string& name() const { return name_; }
  const std::string& kind() const { return kind_; }
  const std::string& parent() const { return parent_; }

  void handled(std::size_t mailbox_depth) {
    handled_.fetch_add(1, std::memory_order_relaxed);
    mailbox_.store(mailbox_depth, std::memory_order_relaxed);
  }
  void set_state(const char* state) { state_.store(state, std::memory_order_relaxed); }
  // Kind-specific figures (a stock actor's available units, queue length, ...), by index into
  // the names given to InspectionRegistry::enter.
  void gauge(std::size_t index, int64_t value) {
    if (index < gauges_.size()) gauges_[index].store(value, std::memory_order_relaxed);
  }
  void add(std::size_t index, int64_t delta) {
    if (index < gauges_.size()) gauges_[index].fetch_add(delta, std::memory_order_relaxed);
  }
  int64_t gauge(std::size_t index) const {
    return index < gauges_.size() ? gauges_[index].load(std::memory_order_relaxed) : 0;
  }
  void set_gauge_names(std::vector<std::string> names) { gauge_names_ = std::move(names); }
  void restarted() { restarts_.fetch_add(1, std::memory_order_relaxed); }
  void failed(std::string error);

  struct Snapshot {
    std::string name, kind, parent, state, last_error;
    uint64_t handled = 0;
    uint64_t mailbox = 0;
    uint32_t restarts = 0;
    std::chrono::system_clock::time_point last_error_at{};
    std::vector<std::pair<std::string, int64_t>> gauges;
  };
  Snapshot snapshot() const;

 private:
  const std::string name_, kind_, parent_;
  std::atomic<uint64_t> handled_{0};
  std::atomic<uint64_t> mailbox_{0};
  std::atomic<uint32_t> restarts_{0};
  std::atomic<const char*> state_{"starting"};
  mutable std::mutex error_mutex_;
  std::string last_error_;
  std::chrono::system_clock::time_point last_error_at_{};
  static constexpr std::size_t kGauges = 12;
  std::array<std::atomic<int64_t>, kGauges> gauges_{};
  std::vector<std::string> gauge_names_;
};

class InspectionRegistry {
 public:
  // The entry for `name`, created on first use; a restarted actor gets its old entry back.
  std::shared_ptr<ActorStats> enter(const std::string& name, const std::string& kind,
                                    const std::string& parent,
                                    const std::vector<std::string>& gauge_names = {});
  // Drops an entry (an actor stopped for good, e.g. an idle stock actor).
  void leave(const std::string& name);
  std::size_t size() const;
  std::vector<ActorStats::Snapshot> snapshot() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<ActorStats>> entries_;
};

}  // namespace marketlink::actors
