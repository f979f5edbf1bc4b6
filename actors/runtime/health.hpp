// The process-wide health of PostgreSQL and Redis. The health prober (a detached actor of the
// runtime, on connections of its own) checks both every HEALTH_INTERVAL_MS and is the only one that
// marks a dependency up again; any component that sees a dependency fail (a connection attempt
// refused or timed out, an operation cut at its deadline, a Redis timeout) marks it down at once.
// While PostgreSQL is down the PostgreSQL pool answers 503 at once instead of queueing; while
// Redis is down the stock gate skips it (PostgreSQL alone decides), and stock counters are
// reseeded once when it is back. /readyz reads this state and does no I/O.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace marketlink::actors {

enum class Dependency { postgresql, redis };

struct DependencyStatus {
  bool up = true;
  std::string error;  // why it is down ("" when up)
  int64_t changed_unix_ms = 0;
  uint64_t outages = 0;  // transitions to down since start
};

class Health {
 public:
  bool up(Dependency d) const { return slot(d).up.load(std::memory_order_relaxed); }
  // Marks `d` down (no-op when it already is); logs the transition.
  void failed(Dependency d, const std::string& why);
  // The prober's verdict: up, or down with `why`.
  void probed(Dependency d, bool ok, const std::string& why);
  DependencyStatus status(Dependency d) const;

 private:
  struct Slot {
    std::atomic<bool> up{true};
    mutable std::mutex mutex;
    std::string error;
    int64_t changed_unix_ms = 0;
    uint64_t outages = 0;
  };
  void set(Dependency d, bool up, const std::string& why);
  Slot& slot(Dependency d) { return d == Dependency::postgresql ? db_ : redis_; }
  const Slot& slot(Dependency d) const { return d == Dependency::postgresql ? db_ : redis_; }
  Slot db_;
  Slot redis_;
};

}  // namespace marketlink::actors
