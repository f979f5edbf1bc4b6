// The ring buffer and its sampler.
#include "http/series.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "http/app.hpp"

namespace marketlink::http {

struct Series::Impl {
  mutable std::mutex mutex;
  std::vector<SeriesSample> ring = std::vector<SeriesSample>(kCapacity);
  std::size_t next = 0;
  std::size_t size = 0;
  // The current second.
  std::atomic<int64_t> requests{0};
  std::atomic<int64_t> orders{0};
  std::atomic<int64_t> errors{0};
  std::mutex latency_mutex;
  std::vector<double> latencies_ms;
  std::size_t seen = 0;  // latencies this second, kept or not
};

Series::Series() : impl_(std::make_unique<Impl>()) {
  impl_->latencies_ms.reserve(kLatencyKeep);
}

Series& Series::instance() {
  static Series series;
  return series;
}

void Series::request(const std::string& route, const std::string& method, int status,
                     double seconds) {
  auto& m = *impl_;
  m.requests.fetch_add(1, std::memory_order_relaxed);
  if (status >= 500) m.errors.fetch_add(1, std::memory_order_relaxed);
  if (status == 201 && method == "POST" && route == "/api/v1/orders/") {
    m.orders.fetch_add(1, std::memory_order_relaxed);
  }
  std::lock_guard lock(m.latency_mutex);
  // Beyond kLatencyKeep a second, every later latency replaces a kept one in turn (a sample of
  // the whole second, never an unbounded list).
  const double ms = seconds * 1000.0;
  if (m.latencies_ms.size() < kLatencyKeep) {
    m.latencies_ms.push_back(ms);
  } else {
    m.latencies_ms[m.seen % kLatencyKeep] = ms;
  }
  ++m.seen;
}

void Series::tick(int64_t unix_seconds, const std::vector<actors::ActorView>& actors) {
  auto& m = *impl_;
  SeriesSample s;
  s.t = unix_seconds;
  s.requests = m.requests.exchange(0, std::memory_order_relaxed);
  s.orders = m.orders.exchange(0, std::memory_order_relaxed);
  s.errors = m.errors.exchange(0, std::memory_order_relaxed);
  std::vector<double> latencies;
  {
    std::lock_guard lock(m.latency_mutex);
    latencies.swap(m.latencies_ms);
    m.latencies_ms.reserve(kLatencyKeep);
    m.seen = 0;
  }
  if (!latencies.empty()) {
    auto at = [&latencies](double q) {
      const auto i = static_cast<std::size_t>(q * static_cast<double>(latencies.size() - 1));
      std::nth_element(latencies.begin(), latencies.begin() + static_cast<std::ptrdiff_t>(i),
                       latencies.end());
      return latencies[i];
    };
    s.p50_ms = at(0.5);
    s.p99_ms = at(0.99);
  }
  for (const auto& a : actors) {
    if (a.stats.name == "outbox_worker") {
      for (const auto& [k, v] : a.stats.gauges) {
        if (k == "pending") s.outbox_pending = v;
      }
    }
    if (static_cast<int64_t>(a.stats.mailbox) > s.mailbox_max) {
      s.mailbox_max = static_cast<int64_t>(a.stats.mailbox);
      s.mailbox_actor = a.stats.name;
    }
  }
  std::lock_guard lock(m.mutex);
  m.ring[m.next] = std::move(s);
  m.next = (m.next + 1) % kCapacity;
  m.size = std::min(m.size + 1, kCapacity);
}

std::vector<SeriesSample> Series::samples() const {
  const auto& m = *impl_;
  std::lock_guard lock(m.mutex);
  std::vector<SeriesSample> out;
  out.reserve(m.size);
  const std::size_t first = (m.next + kCapacity - m.size) % kCapacity;
  for (std::size_t i = 0; i < m.size; ++i) out.push_back(m.ring[(first + i) % kCapacity]);
  return out;
}

struct SeriesSampler::Impl {
  std::mutex mutex;
  std::condition_variable wake;
  bool stopping = false;
  std::thread thread;
};

SeriesSampler::SeriesSampler(App& app) : impl_(std::make_unique<Impl>()) {
  impl_->thread = std::thread([impl = impl_.get(), &app] {
    auto next = std::chrono::steady_clock::now();
    std::unique_lock lock(impl->mutex);
    while (true) {
      next += std::chrono::seconds(1);
      if (impl->wake.wait_until(lock, next, [impl] { return impl->stopping; })) return;
      lock.unlock();
      const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
      Series::instance().tick(now, app.inspector.sample());
      lock.lock();
    }
  });
}

SeriesSampler::~SeriesSampler() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->wake.notify_all();
  impl_->thread.join();
}

}  // namespace marketlink::http
