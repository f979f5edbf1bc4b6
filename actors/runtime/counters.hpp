// Process-wide counters the metrics endpoint reads (monotonic, unlike the registry entries of
// stock actors, which leave when evicted). Lock-free: written on hot paths.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

namespace marketlink::actors {

// A fixed-bucket histogram of non-negative values (upper bounds in `bounds`, +Inf last).
template <std::size_t N>
struct AtomicHistogram {
  std::array<double, N> bounds;
  std::array<std::atomic<uint64_t>, N + 1> buckets{};
  std::atomic<uint64_t> sum_micros{0};  // sum of observed values × 1e6

  void observe(double v) {
    std::size_t i = 0;
    while (i < N && v > bounds[i]) ++i;
    buckets[i].fetch_add(1, std::memory_order_relaxed);
    sum_micros.fetch_add(static_cast<uint64_t>(v * 1e6), std::memory_order_relaxed);
  }
};

struct Counters {
  std::atomic<uint64_t> reservations_accepted{0};
  std::atomic<uint64_t> reservations_rejected{0};
  std::atomic<uint64_t> reservations_released{0};
  // Reservations per group commit.
  AtomicHistogram<8> batch_sizes{{1, 2, 4, 8, 16, 32, 64, 128}};
  // Seconds per job on the PostgreSQL pool and on the Redis pool (queueing excluded).
  AtomicHistogram<10> db_seconds{{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1}};
  AtomicHistogram<10> redis_seconds{
      {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.1, 1}};
};

Counters& counters();
// PostgreSQL statements this process has sent (persistence counts them).
uint64_t db_statements();

}  // namespace marketlink::actors
