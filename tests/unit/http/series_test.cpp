// The console's ring buffer: counts per second, percentiles of that second's latencies, the
// actors' figures, and never more than 15 minutes of samples.
#include "http/series.hpp"

#include <gtest/gtest.h>

#include "actors/runtime/inspector.hpp"

using marketlink::actors::ActorView;
using marketlink::http::Series;

namespace {

ActorView actor(const std::string& name, uint64_t mailbox,
                std::vector<std::pair<std::string, int64_t>> gauges = {}) {
  ActorView a;
  a.stats.name = name;
  a.stats.mailbox = mailbox;
  a.stats.gauges = std::move(gauges);
  return a;
}

}  // namespace

TEST(Series, ASecondCountsItsRequestsOrdersAndErrorsAndItsLatencies) {
  auto& series = Series::instance();
  series.tick(1, {});  // whatever came before this test
  for (int i = 1; i <= 100; ++i) {
    series.request("/api/v1/services/", "GET", 200, i / 1000.0);  // 1..100 ms
  }
  series.request("/api/v1/orders/", "POST", 201, 0.001);
  series.request("/api/v1/orders/", "POST", 400, 0.001);
  series.request("/api/v1/orders/{id}/cancel/", "POST", 201, 0.001);  // not an order created
  series.request("/readyz", "GET", 503, 0.001);
  series.tick(2, {actor("outbox_worker", 0, {{"pending", 7}}), actor("stock/4", 12),
                  actor("payment_actor", 3)});
  const auto s = series.samples().back();
  EXPECT_EQ(s.t, 2);
  EXPECT_EQ(s.requests, 104);
  EXPECT_EQ(s.orders, 1);
  EXPECT_EQ(s.errors, 1);
  EXPECT_NEAR(s.p50_ms, 49.0, 2.0);
  EXPECT_NEAR(s.p99_ms, 99.0, 2.0);
  EXPECT_EQ(s.outbox_pending, 7);
  EXPECT_EQ(s.mailbox_max, 12);
  EXPECT_EQ(s.mailbox_actor, "stock/4");

  series.tick(3, {});
  const auto quiet = series.samples().back();
  EXPECT_EQ(quiet.requests, 0) << "each second starts from nothing";
  EXPECT_EQ(quiet.p99_ms, 0);
}

TEST(Series, KeepsFifteenMinutesOldestFirst) {
  auto& series = Series::instance();
  for (int64_t t = 1000; t < 1000 + 2000; ++t) series.tick(t, {});
  const auto all = series.samples();
  ASSERT_EQ(all.size(), Series::kCapacity);
  EXPECT_EQ(all.front().t, 1000 + 2000 - static_cast<int64_t>(Series::kCapacity));
  EXPECT_EQ(all.back().t, 2999);
}

TEST(Series, HoldsABoundedNumberOfLatenciesInASecond) {
  auto& series = Series::instance();
  series.tick(1, {});
  for (std::size_t i = 0; i < 3 * Series::kLatencyKeep; ++i) {
    series.request("/healthz", "GET", 200, 0.002);
  }
  series.tick(2, {});
  const auto s = series.samples().back();
  EXPECT_EQ(s.requests, static_cast<int64_t>(3 * Series::kLatencyKeep));
  EXPECT_NEAR(s.p50_ms, 2.0, 0.01);
}
