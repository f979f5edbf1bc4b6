// Metrics families and the scrape.
#include "http/metrics.hpp"

#include "http/series.hpp"

#include <arpa/inet.h>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <set>

#include <atomic>
#include <cstring>
#include <map>
#include <mutex>

#include "actors/runtime/counters.hpp"
#include "actors/runtime/inspector.hpp"

namespace marketlink::http {

namespace {

const prometheus::Histogram::BucketBoundaries kLatency{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                       0.1,   0.25,   0.5,   1,    2.5,   5};

// Feeds the growth of an atomic histogram since the last scrape into a prometheus histogram.
template <std::size_t N>
struct HistogramMirror {
  prometheus::Histogram* target = nullptr;
  std::array<uint64_t, N + 1> seen{};
  uint64_t seen_sum = 0;

  void sync(const actors::AtomicHistogram<N>& source) {
    std::vector<double> increments(N + 1);
    for (std::size_t i = 0; i <= N; ++i) {
      const auto now = source.buckets[i].load(std::memory_order_relaxed);
      increments[i] = static_cast<double>(now - seen[i]);
      seen[i] = now;
    }
    const auto sum = source.sum_micros.load(std::memory_order_relaxed);
    target->ObserveMultiple(increments, static_cast<double>(sum - seen_sum) / 1e6);
    seen_sum = sum;
  }
};

template <std::size_t N>
prometheus::Histogram::BucketBoundaries bounds_of(const actors::AtomicHistogram<N>& h) {
  return {h.bounds.begin(), h.bounds.end()};
}

}  // namespace

struct Metrics::Impl {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  prometheus::Family<prometheus::Counter>& requests =
      prometheus::BuildCounter()
          .Name("marketlink_http_requests_total")
          .Help("HTTP requests answered, by route pattern, method and status")
          .Register(*registry);
  prometheus::Family<prometheus::Histogram>& latency =
      prometheus::BuildHistogram()
          .Name("marketlink_http_request_duration_seconds")
          .Help("Time from a request's headers to its response, by route pattern")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge>& gauges =
      prometheus::BuildGauge()
          .Name("marketlink_state")
          .Help("Point-in-time figures (see the `what` label)")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge>& actors_by_kind = prometheus::BuildGauge()
                                                              .Name("marketlink_actors")
                                                              .Help("Actors running, by kind")
                                                              .Register(*registry);
  prometheus::Family<prometheus::Gauge>& mailbox =
      prometheus::BuildGauge()
          .Name("marketlink_actor_mailbox_depth")
          .Help("Mailbox depth last seen, by actor (stock actors: the deepest, as actor=stock)")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge>& restarts =
      prometheus::BuildGauge()
          .Name("marketlink_actor_restarts")
          .Help("Restarts since the process started, by actor")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge>& reservations =
      prometheus::BuildGauge()
          .Name("marketlink_reservations_total")
          .Help("Stock reservations by outcome (accepted, rejected, released)")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge>& outbox =
      prometheus::BuildGauge()
          .Name("marketlink_outbox_jobs")
          .Help("Outbox: jobs pending in the table now, and totals done/failed/retried/dead")
          .Register(*registry);
  prometheus::Family<prometheus::Histogram>& batches = prometheus::BuildHistogram()
                                                           .Name("marketlink_stock_batch_size")
                                                           .Help("Reservations per group commit")
                                                           .Register(*registry);
  prometheus::Family<prometheus::Histogram>& stores =
      prometheus::BuildHistogram()
          .Name("marketlink_store_call_seconds")
          .Help("Time per PostgreSQL transaction / Redis call on the worker pools")
          .Register(*registry);
  std::atomic<uint64_t> total{0};
  std::mutex mutex;  // the scrape
  HistogramMirror<8> batch_mirror;
  HistogramMirror<10> db_mirror, redis_mirror;
};

Metrics::Metrics() : impl_(std::make_unique<Impl>()) {
  auto& c = actors::counters();
  impl_->batch_mirror.target = &impl_->batches.Add({}, bounds_of(c.batch_sizes));
  impl_->db_mirror.target = &impl_->stores.Add({{"store", "postgresql"}}, bounds_of(c.db_seconds));
  impl_->redis_mirror.target = &impl_->stores.Add({{"store", "redis"}}, bounds_of(c.redis_seconds));
}

Metrics& Metrics::instance() {
  static Metrics m;
  return m;
}

namespace {
const std::string kOtherMethod = "other";
}  // namespace

void Metrics::request(const std::string& route, const std::string& method, int status,
                      double seconds) {
  impl_->total.fetch_add(1, std::memory_order_relaxed);
  Series::instance().request(route, method, status, seconds);
  // Family::Add is thread-safe and returns the existing child for known labels.
  // The method is the client's word: anything but the methods of HTTP/1.1 is one label, so made-up
  // methods cannot add series without end.
  static const std::set<std::string> kMethods{"GET",    "HEAD",    "POST",  "PUT",    "PATCH",
                                              "DELETE", "OPTIONS", "TRACE", "CONNECT"};
  const std::string& label = kMethods.count(method) > 0 ? method : kOtherMethod;
  impl_->requests.Add({{"route", route}, {"method", label}, {"status", std::to_string(status)}})
      .Increment();
  impl_->latency.Add({{"route", route}}, kLatency).Observe(seconds);
}

uint64_t Metrics::requests_total() const {
  return impl_->total.load(std::memory_order_relaxed);
}

std::string Metrics::render(const std::vector<actors::ActorView>& actors,
                            std::size_t open_connections) {
  std::lock_guard lock(impl_->mutex);
  auto& m = *impl_;
  m.gauges.Add({{"what", "open_connections"}}).Set(static_cast<double>(open_connections));
  // PostgreSQL statements this process sent since it started (the benchmark's cost figure).
  m.gauges.Add({{"what", "db_statements"}}).Set(static_cast<double>(actors::db_statements()));
  std::map<std::string, double> kinds;
  double stock_mailbox = 0;
  bool degraded = false;
  std::map<std::string, double> outbox;
  for (const auto& a : actors) {
    const auto& s = a.stats;
    kinds[s.kind] += 1;
    if (s.kind == "stock") {
      stock_mailbox = std::max(stock_mailbox, static_cast<double>(s.mailbox));
      for (const auto& [name, value] : s.gauges) {
        if (name == "redis_degraded" && value > 0) degraded = true;
      }
      continue;
    }
    m.mailbox.Add({{"actor", s.name}}).Set(static_cast<double>(s.mailbox));
    m.restarts.Add({{"actor", s.name}}).Set(static_cast<double>(s.restarts));
    if (s.name == "outbox_worker") {
      for (const auto& [name, value] : s.gauges) outbox[name] = static_cast<double>(value);
    }
  }
  for (const auto& [kind, n] : kinds) m.actors_by_kind.Add({{"kind", kind}}).Set(n);
  m.mailbox.Add({{"actor", "stock"}}).Set(stock_mailbox);
  m.gauges.Add({{"what", "redis_degraded"}}).Set(degraded ? 1 : 0);
  for (const char* k : {"pending", "done", "failed", "retried", "dead"}) {
    m.outbox.Add({{"state", k}}).Set(outbox[k]);
  }
  auto& c = actors::counters();
  m.reservations.Add({{"outcome", "accepted"}})
      .Set(static_cast<double>(c.reservations_accepted.load()));
  m.reservations.Add({{"outcome", "rejected"}})
      .Set(static_cast<double>(c.reservations_rejected.load()));
  m.reservations.Add({{"outcome", "released"}})
      .Set(static_cast<double>(c.reservations_released.load()));
  m.batch_mirror.sync(c.batch_sizes);
  m.db_mirror.sync(c.db_seconds);
  m.redis_mirror.sync(c.redis_seconds);
  return prometheus::TextSerializer().Serialize(m.registry->Collect());
}

}  // namespace marketlink::http
