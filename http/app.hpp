// The application context every handler receives (App) and the route table of the whole API.
#pragma once

#include <cstddef>
#include <functional>

#include "actors/services.hpp"
#include "config/config.hpp"
#include "http/server/router.hpp"

namespace marketlink::http {

struct App {
  App(const config::Config& c, actors::Services& s)
      : config(c),
        runtime(s.runtime),
        accounts(s.accounts),
        catalog(s.catalog),
        orders(s.orders),
        payments(s.payments),
        outbox(s.outbox),
        stock(s.stock),
        inspector(s.inspector),
        ops(s.ops) {}

  const config::Config& config;
  actors::Runtime& runtime;
  actors::Accounts& accounts;
  actors::Catalog& catalog;
  actors::OrderService& orders;
  actors::PaymentService& payments;
  actors::OutboxService& outbox;
  actors::StockService& stock;
  actors::Inspector& inspector;
  actors::OpsService& ops;
  // Set once the HTTP server exists (for the console and /metrics).
  std::function<std::size_t()> open_connections = [] { return std::size_t{0}; };
};

Router build_router(App& app);

}  // namespace marketlink::http
