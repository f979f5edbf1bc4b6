// The last 15 minutes of this process, one sample a second, for the console's charts: requests,
// orders created, 5xx answers, p50/p99 latency, the outbox backlog and the busiest mailbox. The
// server feeds every request in (through Metrics::request); a sampler thread closes each second.
// Bounded: 900 samples, and at most kLatencyKeep latencies held for the current second.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace marketlink::actors {
struct ActorView;
}

namespace marketlink::http {

struct App;

struct SeriesSample {
  int64_t t = 0;  // unix seconds at the end of the second
  int64_t requests = 0;
  int64_t orders = 0;  // POST /api/v1/orders/ answered 201
  int64_t errors = 0;  // 5xx answers
  double p50_ms = 0;
  double p99_ms = 0;
  int64_t outbox_pending = 0;
  int64_t mailbox_max = 0;
  std::string mailbox_actor;  // the actor with that mailbox
};

class Series {
 public:
  static constexpr std::size_t kCapacity = 900;
  static constexpr std::size_t kLatencyKeep = 8192;

  static Series& instance();
  void request(const std::string& route, const std::string& method, int status, double seconds);
  // Ends the current second: its counts, its latency percentiles and the actors' figures now.
  void tick(int64_t unix_seconds, const std::vector<actors::ActorView>& actors);
  // Oldest first.
  std::vector<SeriesSample> samples() const;

  struct Impl;

 private:
  Series();
  std::unique_ptr<Impl> impl_;
};

// Ticks Series::instance() once a second while it lives (a thread of its own).
class SeriesSampler {
 public:
  explicit SeriesSampler(App& app);
  ~SeriesSampler();
  SeriesSampler(const SeriesSampler&) = delete;
  SeriesSampler& operator=(const SeriesSampler&) = delete;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace marketlink::http
