// The application context every handler receives (App) and the route table of the whole API.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>

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
        ops(s.ops),
        membership(s.membership),
        ownership(s.ownership) {}

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
  actors::Membership& membership;
  actors::Ownership& ownership;
  // Set on SIGTERM: /readyz answers 503 "draining" so a balancer stops sending new requests.
  std::shared_ptr<std::atomic<bool>> draining = std::make_shared<std::atomic<bool>>(false);
  // Set once the HTTP server exists (for the console and /metrics).
  std::function<std::size_t()> open_connections = [] { return std::size_t{0}; };
};

Router build_router(App& app);

// What this process publishes for Membership::set_source, from one sample of its actors: its
// record (version, start time, address, pid, draining, load) and its actor snapshot as other
// members' consoles read it; `address` is where other members reach it.
std::function<actors::MemberPublication()> member_publication(App& app, std::string address);

}  // namespace marketlink::http
