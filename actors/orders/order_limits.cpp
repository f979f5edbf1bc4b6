// OrderLimits: Limiter counters (Redis, this process while Redis is down) and one indexed count
// of the customer's pending orders (orders_pending_customer_idx).
#include "actors/orders/order_limits.hpp"

#include "actors/runtime/pool_jobs.hpp"
#include "persistence/redis_keys.hpp"
#include "persistence/sql/orders.hpp"

namespace marketlink::actors {

OrderLimits::OrderLimits(Runtime& runtime, const config::Config& config, Limiter& limiter)
    : runtime_(runtime), config_(config), limiter_(limiter) {}

void OrderLimits::admit(const std::string& customer_id, const std::string& address,
                        Callback<Admission> done) {
  if (config_.order_rate_per_minute == 0) return count_pending(customer_id, std::move(done));
  limiter_.hit(persistence::redis_keys::limit("order", address), std::chrono::seconds(60),
               [this, customer_id, done = std::move(done)](Result<Limiter::Window> w) mutable {
                 if (!w) return done(std::move(w).error());
                 if (w->count > config_.order_rate_per_minute) {
                   return done(throttled("Too many orders from this address. Try again later.",
                                         w->resets_in));
                 }
                 count_pending(customer_id, std::move(done));
               });
}

void OrderLimits::count_pending(const std::string& customer_id, Callback<Admission> done) {
  const long long limit = config_.order_pending_per_customer;
  if (limit == 0) return done(Admission{});
  // A placing unit a crashed process never gave back lapses after the longest creation.
  const auto ttl =
      std::chrono::ceil<std::chrono::seconds>(runtime_.ask_timeout()) + std::chrono::seconds(5);
  auto key = persistence::redis_keys::limit("placing", customer_id);
  limiter_.take(
      key, ttl,
      [this, key, customer_id, limit, done = std::move(done)](Result<Limiter::Held> held) mutable {
        if (!held) return done(std::move(held).error());
        auto placing = std::make_shared<Placing>(limiter_, key, held->local);
        const long long others_placing = held->count - 1;
        run_read<long long>(
            runtime_, "count pending orders",
            [customer_id, cap = limit + 1](persistence::Tx& tx) -> Result<long long> {
              return persistence::orders::count_pending(tx, customer_id, cap);
            },
            [placing, others_placing, limit, done = std::move(done)](Result<long long> n) {
              if (!n) return done(std::move(n).error());
              if (*n + others_placing >= limit) {
                return done(
                    throttled("You already have " + std::to_string(limit) +
                                  " unpaid orders, the most allowed; pay for or cancel one before "
                                  "ordering again.",
                              std::chrono::seconds(60)));
              }
              done(placing);
            });
      });
}

}  // namespace marketlink::actors
