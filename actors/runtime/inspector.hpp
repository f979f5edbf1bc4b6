// What operators see of the running system: registry snapshots with message rates (from the
// previous sample), grouped into the supervision tree. Readers never touch an actor; the rates
// are computed here, between two snapshots of the counters each actor publishes.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "actors/runtime/registry.hpp"

namespace marketlink::actors {

struct ActorView {
  ActorStats::Snapshot stats;
  double per_second = 0;  // messages handled per second since the previous sample
};

class Inspector {
 public:
  explicit Inspector(InspectionRegistry& registry);

  // Every actor now; rates against the previous sample (which this call replaces when it is at
  // least a second old, so several readers do not flatten the rates).
  std::vector<ActorView> sample();
  double uptime_seconds() const;

 private:
  InspectionRegistry& registry_;
  const std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  std::mutex mutex_;
  std::chrono::steady_clock::time_point previous_at_ = started_;
  std::map<std::string, uint64_t> previous_;
  std::map<std::string, double> rates_;
};

}  // namespace marketlink::actors
