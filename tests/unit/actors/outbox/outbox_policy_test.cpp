// Outbox retry and lease arithmetic.
#include "actors/outbox/outbox_policy.hpp"

#include <gtest/gtest.h>

using namespace marketlink::actors;
using namespace std::chrono_literals;

TEST(OutboxPolicy, RetriesDoubleFromOneSecondUpToFiveMinutes) {
  EXPECT_EQ(retry_delay_seconds(1), 1);
  EXPECT_EQ(retry_delay_seconds(2), 2);
  EXPECT_EQ(retry_delay_seconds(3), 4);
  EXPECT_EQ(retry_delay_seconds(9), 256);
  EXPECT_EQ(retry_delay_seconds(10), 300);
  EXPECT_EQ(retry_delay_seconds(1000), 300) << "no overflow for many attempts";
  EXPECT_EQ(retry_delay_seconds(0), 1) << "a job never tried still waits a second";
}

TEST(OutboxPolicy, ALeaseExpiresOnlyAfterItsFullLength) {
  const auto t0 = std::chrono::steady_clock::time_point{} + 1h;
  EXPECT_FALSE(lease_expired(t0, t0, 60s));
  EXPECT_FALSE(lease_expired(t0, t0 + 60s, 60s));
  EXPECT_TRUE(lease_expired(t0, t0 + 61s, 60s));
}

TEST(OutboxPolicy, AtMostFourBatchesAreHeldAtOnce) {
  EXPECT_EQ(in_flight_cap(64), 256u);
  EXPECT_EQ(in_flight_cap(0), 4u);
}
