// The order limits (issue: one customer could hold every unit of a variant): ORDER_RATE_PER_MINUTE
// orders per client address, ORDER_PENDING_PER_CUSTOMER unpaid orders per customer, each 0 = off.
#pragma once

#include <memory>
#include <string>

#include "actors/limits/limiter.hpp"

namespace marketlink::actors {

class OrderLimits {
 public:
  // A unit of the customer's "orders being placed" counter, given back when destroyed (after
  // the order's creation answered: by then the order is a pending row, counted by PostgreSQL).
  class Placing {
   public:
    Placing(Limiter& limiter, std::string key, bool local)
        : limiter_(limiter), key_(std::move(key)), local_(local) {}
    ~Placing() { limiter_.give_back(std::move(key_), local_); }
    Placing(const Placing&) = delete;
    Placing& operator=(const Placing&) = delete;

   private:
    Limiter& limiter_;
    std::string key_;
    bool local_;
  };
  using Admission = std::shared_ptr<Placing>;  // nullptr when the pending limit is off

  OrderLimits(Runtime& runtime, const config::Config& config, Limiter& limiter);

  // The address's rate first, then the customer's unpaid orders: those PostgreSQL holds plus
  // those being placed right now in any process (the counter is taken before PostgreSQL is
  // asked, so two orders placed at once always see each other: never more than the limit).
  // Errors: 429 with Retry-After.
  void admit(const std::string& customer_id, const std::string& address, Callback<Admission> done);

 private:
  void count_pending(const std::string& customer_id, Callback<Admission> done);

  Runtime& runtime_;
  const config::Config& config_;
  Limiter& limiter_;
};

}  // namespace marketlink::actors
