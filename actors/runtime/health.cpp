#include "actors/runtime/health.hpp"

#include <spdlog/spdlog.h>

namespace marketlink::actors {

namespace {
const char* name_of(Dependency d) {
  return d == Dependency::postgresql ? "PostgreSQL" : "Redis";
}
int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
}  // namespace

void Health::set(Dependency d, bool up, const std::string& why) {
  auto& s = slot(d);
  std::lock_guard lock(s.mutex);
  if (s.up.load() == up) {
    if (!up) s.error = why;
    return;
  }
  s.up.store(up);
  s.error = up ? "" : why;
  s.changed_unix_ms = unix_ms();
  if (up) {
    spdlog::info("health: {} answers again", name_of(d));
  } else {
    ++s.outages;
    spdlog::warn("health: {} is down ({}); failing fast until it answers", name_of(d), why);
  }
}

void Health::failed(Dependency d, const std::string& why) {
  if (!up(d)) return;
  set(d, false, why);
}

void Health::probed(Dependency d, bool ok, const std::string& why) {
  set(d, ok, why);
}

DependencyStatus Health::status(Dependency d) const {
  const auto& s = slot(d);
  std::lock_guard lock(s.mutex);
  return {s.up.load(), s.error, s.changed_unix_ms, s.outages};
}

}  // namespace marketlink::actors
