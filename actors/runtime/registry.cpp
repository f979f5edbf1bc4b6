// The inspection registry.
#include "actors/runtime/registry.hpp"

#include "actors/runtime/counters.hpp"
#include "persistence/database.hpp"

namespace marketlink::actors {

Counters& counters() {
  static Counters c;
  return c;
}

uint64_t db_statements() {
  return persistence::statements_executed();
}

void ActorStats::failed(std::string error) {
  std::lock_guard lock(error_mutex_);
  last_error_ = std::move(error);
  last_error_at_ = std::chrono::system_clock::now();
}

ActorStats::Snapshot ActorStats::snapshot() const {
  Snapshot s;
  s.name = name_;
  s.kind = kind_;
  s.parent = parent_;
  s.state = state_.load(std::memory_order_relaxed);
  s.handled = handled_.load(std::memory_order_relaxed);
  s.mailbox = mailbox_.load(std::memory_order_relaxed);
  s.restarts = restarts_.load(std::memory_order_relaxed);
  for (std::size_t i = 0; i < gauge_names_.size() && i < kGauges; ++i) {
    s.gauges.emplace_back(gauge_names_[i], gauges_[i].load(std::memory_order_relaxed));
  }
  std::lock_guard lock(error_mutex_);
  s.last_error = last_error_;
  s.last_error_at = last_error_at_;
  return s;
}

std::shared_ptr<ActorStats> InspectionRegistry::enter(const std::string& name,
                                                      const std::string& kind,
                                                      const std::string& parent,
                                                      const std::vector<std::string>& gauge_names) {
  std::lock_guard lock(mutex_);
  auto& slot = entries_[name];
  if (!slot) {
    slot = std::make_shared<ActorStats>(name, kind, parent);
    slot->set_gauge_names(gauge_names);
  }
  return slot;
}

void InspectionRegistry::leave(const std::string& name) {
  std::lock_guard lock(mutex_);
  entries_.erase(name);
}

std::size_t InspectionRegistry::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

std::vector<ActorStats::Snapshot> InspectionRegistry::snapshot() const {
  std::vector<std::shared_ptr<ActorStats>> entries;
  {
    std::lock_guard lock(mutex_);
    entries.reserve(entries_.size());
    for (const auto& [name, stats] : entries_) entries.push_back(stats);
  }
  std::vector<ActorStats::Snapshot> out;
  out.reserve(entries.size());
  for (const auto& e : entries) out.push_back(e->snapshot());
  return out;
}

}  // namespace marketlink::actors
