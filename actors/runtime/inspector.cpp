// Rates between registry samples.
#include "actors/runtime/inspector.hpp"

namespace marketlink::actors {

Inspector::Inspector(InspectionRegistry& registry) : registry_(registry) {}

double Inspector::uptime_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
}

std::vector<ActorView> Inspector::sample() {
  auto snapshots = registry_.snapshot();
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mutex_);
  const double elapsed = std::chrono::duration<double>(now - previous_at_).count();
  const bool resample = elapsed >= 1.0;
  if (resample) {
    std::map<std::string, uint64_t> current;
    rates_.clear();
    for (const auto& s : snapshots) {
      current[s.name] = s.handled;
      auto it = previous_.find(s.name);
      const uint64_t before = it == previous_.end() ? 0 : it->second;
      rates_[s.name] = s.handled >= before ? static_cast<double>(s.handled - before) / elapsed : 0;
    }
    previous_ = std::move(current);
    previous_at_ = now;
  }
  std::vector<ActorView> out;
  out.reserve(snapshots.size());
  for (auto& s : snapshots) {
    auto it = rates_.find(s.name);
    const double rate = it == rates_.end() ? 0 : it->second;
    out.push_back({std::move(s), rate});
  }
  return out;
}

}  // namespace marketlink::actors
