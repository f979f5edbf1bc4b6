// Every service of the running system, started in dependency order and stopped in reverse. The
// server (main.cpp) and the test server build the same set through this one struct.
#pragma once

#include "actors/accounts/accounts.hpp"
#include "actors/catalog/catalog.hpp"
#include "actors/cluster/membership.hpp"
#include "actors/cluster/ownership.hpp"
#include "actors/limits/limiter.hpp"
#include "actors/ops/janitor.hpp"
#include "actors/ops/ops_service.hpp"
#include "actors/orders/order_service.hpp"
#include "actors/outbox/outbox_service.hpp"
#include "actors/payments/payment_service.hpp"
#include "actors/runtime/inspector.hpp"
#include "actors/runtime/runtime.hpp"
#include "actors/stock/stock_service.hpp"

namespace marketlink::actors {

struct Services {
  explicit Services(const config::Config& config)
      : runtime(config),
        inspector(runtime.registry()),
        limiter(runtime),
        accounts(runtime, config, limiter),
        stock(runtime, config),
        outbox(runtime, config),
        payments(runtime, config, stock, outbox),
        orders(runtime, config, stock, payments, limiter),
        catalog(runtime, config, stock),
        ops(runtime),
        janitor(runtime, config),
        membership(runtime, config),
        ownership(runtime, config, membership, stock, orders) {}

  // Stops every actor before any service goes: continuations capture the services.
  ~Services() { runtime.shutdown(); }
  Services(const Services&) = delete;
  Services& operator=(const Services&) = delete;

  Runtime runtime;
  Inspector inspector;
  Limiter limiter;
  Accounts accounts;
  StockService stock;
  OutboxService outbox;
  PaymentService payments;
  OrderService orders;
  Catalog catalog;
  OpsService ops;
  Janitor janitor;
  Membership membership;
  Ownership ownership;
};

}  // namespace marketlink::actors
