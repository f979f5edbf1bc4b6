// The supervisor's restart back-off: doubling per crash up to its cap, and starting over after a
// quiet period (the time is passed in, so no test waits for it).
#include "actors/runtime/backoff.hpp"

#include <gtest/gtest.h>

using marketlink::actors::Backoff;
using namespace std::chrono_literals;

TEST(Backoff, DoublesPerCrashUpToItsCap) {
  Backoff b;
  auto t = Backoff::Clock::time_point{} + 1h;
  EXPECT_EQ(b.next(t), 50ms);
  EXPECT_EQ(b.next(t += 10ms), 100ms);
  EXPECT_EQ(b.next(t += 10ms), 200ms);
  for (int i = 0; i < 10; ++i) b.next(t += 10ms);
  EXPECT_EQ(b.next(t += 10ms), Backoff::kMax);
}

TEST(Backoff, StartsOverAfterAQuietPeriod) {
  Backoff b;
  auto t = Backoff::Clock::time_point{} + 1h;
  for (int i = 0; i < 12; ++i) b.next(t += 1s);
  EXPECT_EQ(b.next(t += 1s), Backoff::kMax);
  // Just inside the quiet period: still at the cap.
  EXPECT_EQ(b.next(t += Backoff::kQuietPeriod), Backoff::kMax);
  // One crash after a quiet period waits the first delay again, and doubles from there.
  EXPECT_EQ(b.next(t += Backoff::kQuietPeriod + 1ms), Backoff::kFirst);
  EXPECT_EQ(b.next(t += 1s), 2 * Backoff::kFirst);
}

TEST(Backoff, TheFirstCrashEverWaitsTheFirstDelay) {
  Backoff b;
  // Whatever the clock says (a freshly booted machine's steady clock may be near zero).
  EXPECT_EQ(b.next(Backoff::Clock::time_point{} + 1ms), Backoff::kFirst);
}
