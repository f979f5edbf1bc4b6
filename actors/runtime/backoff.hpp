// The delay before a supervisor restarts a child: 50 ms, doubling per crash up to 5 s, and back
// to 50 ms once the child has run for a quiet period without crashing (one crash a day never
// waits 5 s). Pure: the caller says what time it is.
#pragma once

#include <algorithm>
#include <chrono>

namespace marketlink::actors {

class Backoff {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::milliseconds kFirst{50};
  static constexpr std::chrono::milliseconds kMax{5000};
  static constexpr std::chrono::seconds kQuietPeriod{30};

  // The delay for a crash at `now`.
  std::chrono::milliseconds next(Clock::time_point now) {
    if (crashed_ && now - last_crash_ > kQuietPeriod) current_ = kFirst;
    crashed_ = true;
    last_crash_ = now;
    const auto delay = current_;
    current_ = std::min(current_ * 2, kMax);
    return delay;
  }

 private:
  std::chrono::milliseconds current_{kFirst};
  Clock::time_point last_crash_{};
  bool crashed_ = false;
};

}  // namespace marketlink::actors
