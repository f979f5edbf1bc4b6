// Outbox retry and lease arithmetic.
#include "actors/outbox/outbox_policy.hpp"

#include <algorithm>

namespace marketlink::actors {

int retry_delay_seconds(int attempts) {
  return std::min(300, 1 << std::clamp(attempts - 1, 0, 9));
}

bool lease_expired(std::chrono::steady_clock::time_point since,
                   std::chrono::steady_clock::time_point now, std::chrono::seconds lease) {
  return now - since > lease;
}

std::chrono::seconds held_at_most(std::chrono::seconds lease,
                                  std::chrono::milliseconds job_timeout) {
  return std::max(lease, std::chrono::ceil<std::chrono::seconds>(3 * job_timeout));
}

std::size_t in_flight_cap(int batch_size) {
  return 4 * static_cast<std::size_t>(std::max(batch_size, 1));
}

}  // namespace marketlink::actors
