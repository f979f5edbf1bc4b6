// Order coordination (CAF): the coordinator runs each creation as a chain of steps whose results
// come back to it as messages, so all bookkeeping happens on the actor; the sweeper cancels
// expired pending orders through the stock actors (which return their stock exactly once).
#include "actors/orders/order_service.hpp"

#include <spdlog/spdlog.h>

#include <atomic>

#include <algorithm>
#include <array>
#include <map>

#include "actors/orders/visibility.hpp"
#include "actors/payments/notification_rules.hpp"
#include "actors/runtime/internal.hpp"
#include "actors/runtime/pool_jobs.hpp"
#include "persistence/sql/audit.hpp"
#include "persistence/sql/idempotency.hpp"

namespace marketlink::actors::detail {
struct CreateOrderMsg {
  persistence::UserRow customer;
  int64_t variant_id = 0;
  Callback<OrderRow> done;
  Deadline deadline = no_deadline;  // the request's; every step it causes carries it
};
}  // namespace marketlink::actors::detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(marketlink::actors::detail::CreateOrderMsg)

namespace marketlink::actors {

using detail::CreateOrderMsg;
using internal::continue_on;
using internal::Step;
using persistence::OrderStatus;
using persistence::Role;
using persistence::Tx;

namespace {

using tick_atom = caf::atom_constant<caf::atom("tick")>;
using sweep_atom = caf::atom_constant<caf::atom("sweep")>;

enum CoordinatorGauge : std::size_t {
  kInFlight,
  kCreated,
  kFailedGateway,
  kRejected,
  kCoordinatorGaugeCount
};
constexpr std::array kCoordinatorGaugesList{"in_flight", "created", "failed_at_gateway",
                                            "rejected"};
static_assert(kCoordinatorGaugesList.size() == kCoordinatorGaugeCount,
              "one name per gauge, in order");
const std::vector<std::string> kCoordinatorGauges = gauge_names(kCoordinatorGaugesList);

enum SweeperGauge : std::size_t { kSweeps, kCancelled, kAsked, kPostponed, kSweeperGaugeCount };
constexpr std::array kSweeperGaugesList{"sweeps", "cancelled", "asked_gateway", "postponed"};
static_assert(kSweeperGaugesList.size() == kSweeperGaugeCount, "one name per gauge, in order");
const std::vector<std::string> kSweeperGauges = gauge_names(kSweeperGaugesList);

// The order stopped being pending (swept as an orphan, cancelled) while its session opened.
Error session_too_late() {
  Error e = Error::make(ErrorCode::unavailable,
                        "The order expired while its payment session was opening; please order "
                        "again.");
  e.retry_after = std::chrono::seconds(1);
  return e;
}

std::string full_name(const persistence::UserRow& u) {
  std::string name = u.first_name;
  if (!u.last_name.empty()) name += (name.empty() ? "" : " ") + u.last_name;
  return name.empty() ? u.email : name;
}

// A gateway session waiting to be stored; `done` gets whether its order was still pending.
struct SessionWaiting {
  persistence::orders::SessionToStore session;
  Deadline deadline = no_deadline;
  Callback<bool> done;
};

// Sessions stored per transaction at most.
constexpr std::size_t kSessionBatchLimit = 256;

struct CoordinatorState {
  Runtime* runtime = nullptr;
  StockService* stock = nullptr;
  PaymentService* payments = nullptr;
  std::shared_ptr<ActorStats> stats;
  // Group commit of the gateway sessions: while one transaction stores a batch, the sessions
  // opened meanwhile wait here and go together in the next one.
  std::vector<SessionWaiting> sessions;
  bool storing = false;
};

using Coordinator = caf::stateful_actor<CoordinatorState>;

// Starts the next session batch unless one is being stored: one transaction for every session
// waiting, under the earliest deadline among them (those already past it are answered first).
void store_sessions(Coordinator* self) {
  auto& st = self->state;
  std::erase_if(st.sessions, [](SessionWaiting& w) {
    if (!passed(w.deadline)) return false;
    w.done(deadline_error("order session"));
    return true;
  });
  if (st.storing || st.sessions.empty()) return;
  const auto n = std::min(st.sessions.size(), kSessionBatchLimit);
  auto batch = std::make_shared<std::vector<SessionWaiting>>(
      std::make_move_iterator(st.sessions.begin()),
      std::make_move_iterator(st.sessions.begin() + static_cast<std::ptrdiff_t>(n)));
  st.sessions.erase(st.sessions.begin(), st.sessions.begin() + static_cast<std::ptrdiff_t>(n));
  std::vector<persistence::orders::SessionToStore> rows;
  Deadline deadline = batch->front().deadline;
  for (const auto& w : *batch) {
    rows.push_back(w.session);
    deadline = std::min(deadline, w.deadline);
  }
  st.storing = true;
  // One member of the process's shared write transaction (Runtime::commits): the sessions
  // usually commit with the next reservations.
  run_grouped<std::vector<std::string>>(
      *st.runtime, "order sessions",
      [rows = std::move(rows)](Tx& tx) -> Result<std::vector<std::string>> {
        return persistence::orders::set_payment_sessions(tx, rows);
      },
      continue_on<std::vector<std::string>>(self,
                                            [self, batch](Result<std::vector<std::string>> r) {
                                              self->state.storing = false;
                                              for (auto& w : *batch) {
                                                if (!r) {
                                                  w.done(r.error());
                                                } else {
                                                  w.done(std::find(r->begin(), r->end(),
                                                                   w.session.order_id) != r->end());
                                                }
                                              }
                                              store_sessions(self);
                                            }),
      deadline);
}

// One order's creation, step by step on the coordinator: reserve → open the gateway session →
// store it. A refused or unreachable gateway fails the order and gives its stock back. The
// request's deadline travels with every step: the reservation is skipped once it passed, no
// session is opened for a request already answered, and an order whose session could not be
// stored in time is cancelled at once.
class OrderCreation : public std::enable_shared_from_this<OrderCreation> {
 public:
  OrderCreation(Coordinator* self, CreateOrderMsg msg) : self_(self), msg_(std::move(msg)) {}

  void start() {
    stats().add(kInFlight, 1);
    self_->state.stock->reserve(msg_.variant_id, msg_.customer.id, msg_.deadline,
                                step<OrderRow>(&OrderCreation::reserved));
  }

 private:
  template <class T>
  Callback<T> step(void (OrderCreation::*next)(Result<T>)) {
    return continue_on<T>(self_, step_of(shared_from_this(), next));
  }

  void reserved(Result<OrderRow> r) {
    if (!r) {
      stats().add(kRejected, 1);
      return finish(std::move(r).error());
    }
    order_ = std::move(r).value();
    if (passed(msg_.deadline)) {
      return give_back(OrderStatus::cancelled, "system:deadline", deadline_error("order creation"));
    }
    const auto& c = msg_.customer;
    self_->state.payments->open_session(
        SessionRequest{order_.id, order_.total_amount, full_name(c), c.email,
                       order_.service_name + " - " + order_.variant_name},
        step<GatewaySession>(&OrderCreation::session_opened));
  }

  void session_opened(Result<GatewaySession> r) {
    if (!r) {
      stats().add(kFailedGateway, 1);
      return give_back(OrderStatus::failed, "gateway", std::move(r).error());
    }
    auto opened = std::move(r).value();
    order_.payment_url = opened.payment_url;
    self_->state.sessions.push_back({{order_.id, opened.payment_url, opened.session_key},
                                     msg_.deadline,
                                     [creation = shared_from_this()](Result<bool> stored) {
                                       if (!stored)
                                         return creation->stored(std::move(stored).error());
                                       if (!*stored) return creation->stored(session_too_late());
                                       creation->stored(creation->order_);
                                     }});
    store_sessions(self_);
  }

  // The order will not be paid for: its stock goes back, and the caller gets `why`.
  void give_back(OrderStatus status, const char* by, Error why) {
    error_ = std::move(why);
    self_->state.stock->release(order_.variant_id, {order_.id}, status, by,
                                step<std::vector<std::string>>(&OrderCreation::released));
  }

  void released(Result<std::vector<std::string>>) { finish(error_); }

  // Not stored (PostgreSQL failed, or the request's deadline passed first): nobody can pay for
  // the order, so it is cancelled now (should that fail too, the orphan sweep cancels it).
  void stored(Result<OrderRow> r) {
    if (!r) {
      const char* by = passed(msg_.deadline) ? "system:deadline" : "system:creation";
      return give_back(OrderStatus::cancelled, by, std::move(r).error());
    }
    stats().add(kCreated, 1);
    finish(std::move(r));
  }

  void finish(Result<OrderRow> r) {
    stats().add(kInFlight, -1);
    msg_.done(std::move(r));
  }

  ActorStats& stats() { return *self_->state.stats; }

  Coordinator* self_;
  CreateOrderMsg msg_;
  OrderRow order_;
  Error error_;
};

caf::behavior order_coordinator(Coordinator* self, Runtime* runtime, StockService* stock,
                                PaymentService* payments) {
  auto& st = self->state;
  st.runtime = runtime;
  st.stock = stock;
  st.payments = payments;
  st.stats = runtime->registry().enter("order_coordinator", "orders", "root_supervisor",
                                       kCoordinatorGauges);
  st.stats->set_state("running");
  return {
      [self](CreateOrderMsg& msg) {
        self->state.stats->handled(self->mailbox().size());
        std::make_shared<OrderCreation>(self, std::move(msg))->start();
      },
      [self](Step& step) {
        self->state.stats->handled(self->mailbox().size());
        step.run();
      },
  };
}

// How long an order may wait for its gateway session before the sweep takes it for an orphan
// (its creation crashed): longer than any creation can run. A creation ends by its request's
// deadline (HTTP_REQUEST_TIMEOUT at the latest: past it, nothing more is started and the order is
// cancelled by the creation itself); only a store already running may finish later, within the
// statement timeout plus the watchdog's second. Five seconds of margin on top. Even if the sweep
// did come first, the session is stored only on a pending order (set_payment_session).
std::chrono::seconds orphan_window(const config::Config& c) {
  const auto store = std::chrono::ceil<std::chrono::seconds>(c.db_statement_timeout);
  return c.request_timeout + store + std::chrono::seconds(1 + 5);
}

struct SweeperState {
  Runtime* runtime = nullptr;
  StockService* stock = nullptr;
  PaymentService* payments = nullptr;
  const config::Config* config = nullptr;
  std::shared_ptr<ActorStats> stats;
  bool sweeping = false;
  // Variants whose release just failed, left alone until then, so that one stuck variant never
  // takes every sweep (its orders come back once it rested).
  std::map<int64_t, std::chrono::steady_clock::time_point> resting;
};

using Sweeper = caf::stateful_actor<SweeperState>;

constexpr int kAskLimit = 32;  // orders the gateway is asked about per sweep
constexpr std::chrono::seconds kRest{60};

struct SweepFound {
  std::vector<persistence::orders::Expired> expired;
  std::vector<persistence::orders::ToAsk> to_ask;
};

GatewayAnswer answer_of(const Result<ReconcileOutcome>& r) {
  if (!r) return GatewayAnswer::unreachable;
  switch (r->kind) {
    case ReconcileOutcome::Kind::settled:
      return GatewayAnswer::settled;
    case ReconcileOutcome::Kind::not_paid:
      return GatewayAnswer::not_paid;
    case ReconcileOutcome::Kind::in_progress:
      return GatewayAnswer::in_progress;
    case ReconcileOutcome::Kind::unreachable:
      break;
  }
  return GatewayAnswer::unreachable;
}

// One sweep, in named steps on the sweeper: find the pending orders nobody can have paid for
// (no gateway session) that expired or were orphaned, and those with a session that expired or
// whose gateway check is due → release the first through their variants' stock actors (which
// return the stock exactly once); ask the gateway about each of the second
// (PaymentService::reconcile: a paid attempt is confirmed there) and then release, postpone or
// forget it as after_asking() says, each decision in the audit log → idle once all answered.
class Sweep : public std::enable_shared_from_this<Sweep> {
 public:
  explicit Sweep(Sweeper* self) : self_(self) {}

  void start() {
    auto& st = self_->state;
    const auto now = std::chrono::steady_clock::now();
    std::vector<int64_t> resting;
    for (auto it = st.resting.begin(); it != st.resting.end();) {
      if (it->second <= now) {
        it = st.resting.erase(it);
      } else {
        resting.push_back(it->first);
        ++it;
      }
    }
    const long long orphan_after = orphan_window(*st.config).count();
    const long long grace = st.config->order_payment_grace.count();
    run_transaction<SweepFound>(
        *st.runtime, "expired orders",
        [orphan_after, grace, resting,
         limit = st.config->order_sweep_batch](Tx& tx) -> Result<SweepFound> {
          return SweepFound{persistence::orders::expired(tx, orphan_after, limit, resting),
                            persistence::orders::to_ask_gateway(tx, grace, kAskLimit, resting)};
        },
        step<SweepFound>(&Sweep::found));
  }

 private:
  template <class T>
  Callback<T> step(void (Sweep::*next)(Result<T>)) {
    return continue_on<T>(self_, step_of(shared_from_this(), next));
  }
  // A callback that runs fn(*this, result) on the sweeper.
  template <class T, class F>
  Callback<T> then(F fn) {
    return continue_on<T>(
        self_, [sweep = shared_from_this(), fn](Result<T> r) mutable { fn(*sweep, std::move(r)); });
  }

  void found(Result<SweepFound> r) {
    auto& st = self_->state;
    st.stats->add(kSweeps, 1);
    ++pending_;  // held until every step below has been started
    if (r) {
      std::map<int64_t, std::vector<std::string>> by_variant;
      for (auto& e : r->expired) by_variant[e.variant_id].push_back(e.id);
      for (auto& [variant, ids] : by_variant) release(variant, ids);
      for (auto& order : r->to_ask) ask(order);
    }
    done_one();
  }

  void release(int64_t variant, const std::vector<std::string>& ids) {
    ++pending_;
    self_->state.stock->release(
        variant, ids, OrderStatus::cancelled, "system:expiry",
        then<std::vector<std::string>>(
            [variant](Sweep& sweep, const Result<std::vector<std::string>>& released) {
              auto& st = sweep.self_->state;
              if (released) {
                st.stats->add(kCancelled, static_cast<int64_t>(released->size()));
              } else {
                spdlog::warn("expiry: releasing orders of variant {} failed ({}); retried in {} s",
                             variant, released.error().message, kRest.count());
                st.resting[variant] = std::chrono::steady_clock::now() + kRest;
              }
              sweep.done_one();
            }));
  }

  void ask(const persistence::orders::ToAsk& order) {
    ++pending_;
    self_->state.stats->add(kAsked, 1);
    self_->state.payments->reconcile(
        order.id, then<ReconcileOutcome>([order](Sweep& sweep, Result<ReconcileOutcome> r) {
          sweep.answered(order, r);
        }));
  }

  void answered(const persistence::orders::ToAsk& order, const Result<ReconcileOutcome>& r) {
    auto& st = self_->state;
    auto action = after_asking(answer_of(r), order.expired, order.past_grace);
    // A failed order has nothing to release: once nothing more can pay for it, it is forgotten.
    if (!order.pending && action == AfterAsking::release) action = AfterAsking::clear;
    const std::string said = r ? r->said : "payment actor: " + r.error().message;
    const long long recheck = st.config->gateway_recheck_interval.count();
    const char* what = "";
    switch (action) {
      case AfterAsking::nothing:
        what = "settled";
        break;
      case AfterAsking::release:
        what = "cancelled";
        release(order.variant_id, {order.id});
        break;
      case AfterAsking::postpone:
        what = "asked again later";
        st.stats->add(kPostponed, 1);
        break;
      case AfterAsking::clear:
        what = "left as it is";
        break;
    }
    ++pending_;
    run_transaction<Unit>(
        *st.runtime, "reconcile record",
        [id = order.id, action, recheck,
         result = "gateway: " + said + "; " + what](Tx& tx) -> Result<Unit> {
          if (action == AfterAsking::postpone) {
            persistence::orders::postpone_gateway_check(tx, id, recheck);
          } else if (action == AfterAsking::clear) {
            persistence::orders::clear_gateway_check(tx, id);
          }
          persistence::audit::record(tx, "", "payment.reconcile", "order:" + id, result);
          return Unit{};
        },
        then<Unit>([](Sweep& sweep, const Result<Unit>&) { sweep.done_one(); }));
    done_one();  // the ask itself
  }

  void done_one() {
    if (--pending_ > 0) return;
    self_->state.sweeping = false;
    self_->state.stats->set_state("idle");
  }

  Sweeper* self_;
  std::size_t pending_ = 0;
};

void start_sweep(Sweeper* self) {
  auto& st = self->state;
  if (st.sweeping) return;
  st.sweeping = true;
  st.stats->set_state("sweeping");
  std::make_shared<Sweep>(self)->start();
}

caf::behavior expiry_sweeper(Sweeper* self, Runtime* runtime, StockService* stock,
                             PaymentService* payments, const config::Config* config) {
  auto& st = self->state;
  st.runtime = runtime;
  st.stock = stock;
  st.payments = payments;
  st.config = config;
  st.stats =
      runtime->registry().enter("expiry_sweeper", "sweeper", "root_supervisor", kSweeperGauges);
  st.stats->set_state("idle");
  // At start-up first: orders left pending by a crash or restart.
  self->send(self, sweep_atom::value);
  auto run_sweep = [self] { start_sweep(self); };
  return {
      [self, run_sweep](sweep_atom) {
        self->state.stats->handled(self->mailbox().size());
        run_sweep();
      },
      [self, run_sweep](tick_atom) {
        run_sweep();
        self->delayed_send(self, self->state.config->order_sweep_interval, tick_atom::value);
      },
      [](Step& step) { step.run(); },
  };
}

}  // namespace

struct OrderService::Impl {
  Runtime& runtime;
  const config::Config& config;
  StockService& stock;
  OrderLimits limits;
  std::shared_ptr<internal::Slot> coordinator;
  std::shared_ptr<internal::Slot> sweeper;
  std::shared_ptr<std::atomic<OrderRemote*>> remote =
      std::make_shared<std::atomic<OrderRemote*>>(nullptr);
};

OrderService::OrderService(Runtime& runtime, const config::Config& config, StockService& stock,
                           PaymentService& payments, Limiter& limiter)
    : impl_(std::make_shared<Impl>(
          Impl{runtime, config, stock, OrderLimits(runtime, config, limiter), nullptr, nullptr})) {
  Runtime* rt = &runtime;
  StockService* st = &stock;
  PaymentService* pay = &payments;
  const config::Config* cfg = &config;
  impl_->coordinator = internal::supervise(runtime, "order_coordinator",
                                           [rt, st, pay](caf::event_based_actor* parent) {
                                             return parent->spawn(order_coordinator, rt, st, pay);
                                           });
  impl_->sweeper = internal::supervise(
      runtime, "expiry_sweeper", [rt, st, pay, cfg](caf::event_based_actor* parent) {
        auto sweeper = parent->spawn(expiry_sweeper, rt, st, pay, cfg);
        caf::anon_send(sweeper, tick_atom::value);
        return sweeper;
      });
}

OrderService::~OrderService() = default;

void OrderService::sweep_now_for_test() {
  if (auto s = impl_->sweeper->get()) caf::anon_send(s, sweep_atom::value);
}

void OrderService::claim_key(std::string customer_id, std::string key, std::string request_hash,
                             Callback<std::optional<StoredResponse>> done) {
  // A claim outlives its request by at most the request deadline; five seconds more of margin.
  const long long abandoned_after = impl_->config.request_timeout.count() + 5;
  run_transaction<std::optional<StoredResponse>>(
      impl_->runtime, "idempotency claim",
      [customer_id, key, request_hash,
       abandoned_after](Tx& tx) -> Result<std::optional<StoredResponse>> {
        auto existing =
            persistence::idempotency::claim(tx, customer_id, key, request_hash, abandoned_after);
        if (!existing) return std::optional<StoredResponse>();
        if (existing->request_hash != request_hash) {
          return Error::make(ErrorCode::unprocessable,
                             "Idempotency-Key was already used with a different request body.");
        }
        if (!existing->status) {
          return Error::make(ErrorCode::conflict,
                             "A request with this Idempotency-Key is still being processed.");
        }
        return std::optional<StoredResponse>(StoredResponse{*existing->status, existing->body});
      },
      std::move(done));
}

void OrderService::finish_key(std::string customer_id, std::string key, int status,
                              std::string body, std::function<void()> then) {
  run_transaction<Unit>(
      impl_->runtime, "idempotency finish",
      [customer_id, key, status, body](Tx& tx) -> Result<Unit> {
        // "Try again later" answers are not the request's outcome: a retry must run it.
        if (status >= 500 || status == 429) {
          persistence::idempotency::forget(tx, customer_id, key);
        } else {
          persistence::idempotency::complete(tx, customer_id, key, status, body);
        }
        return Unit{};
      },
      [customer_id, then = std::move(then)](Result<Unit> r) {
        if (!r) {
          spdlog::warn("orders: could not store an idempotent response for customer {}",
                       customer_id);
        }
        then();
      });
}

void OrderService::create(persistence::UserRow customer, int64_t variant_id,
                          std::string client_address, Deadline deadline, Callback<OrderRow> done) {
  // The caller is answered by ASK_TIMEOUT_MS at the latest; that is the deadline the work carries.
  deadline = std::min(deadline, std::chrono::steady_clock::now() + impl_->runtime.ask_timeout());
  const auto customer_id = customer.id;
  impl_->limits.admit(
      customer_id, client_address,
      [impl = impl_, customer = std::move(customer), variant_id, deadline,
       done = std::move(done)](Result<OrderLimits::Admission> admitted) mutable {
        if (!admitted) return done(std::move(admitted).error());
        if (passed(deadline)) return done(deadline_error("order creation"));
        // The placing unit is held until the creation has ended (the order is a row by then,
        // counted as pending). It is given back before the caller is answered: the give-back
        // is queued on the Redis pool (one worker, in order) ahead of anything the caller's
        // next request can ask there, so a client ordering one after another is never refused
        // for an order that is already counted.
        place(
            impl, std::move(customer), variant_id, deadline,
            [placing = std::move(*admitted), done = std::move(done)](Result<OrderRow> r) mutable {
              placing.reset();
              done(std::move(r));
            },
            false);
      });
}

void OrderService::place(const std::shared_ptr<Impl>& impl, persistence::UserRow customer,
                         int64_t variant_id, Deadline deadline, Callback<OrderRow> done,
                         bool here) {
  // An order whose creation finished after its caller was answered 503 was never seen by
  // anyone: it is cancelled at once (by the variant's owner), so its unit is not held for the
  // whole reservation TTL.
  StockService* stock = &impl->stock;
  Callback<OrderRow> late = [stock](Result<OrderRow> r) {
    if (!r) return;
    spdlog::warn("order {}: created after its request was answered; cancelled", r->id);
    stock->release(r->variant_id, {r->id}, OrderStatus::cancelled, "system:deadline",
                   [](const Result<std::vector<std::string>>&) {});
  };
  if (auto* remote = here ? nullptr : impl->remote->load(); remote != nullptr) {
    if (auto owner = remote->owner(variant_id)) {
      return remote->place(*owner, std::move(customer), variant_id, deadline,
                           impl->runtime.with_deadline<OrderRow>("order placement", std::move(done),
                                                                 deadline, std::move(late)));
    }
  }
  internal::ask<OrderRow>(
      impl->runtime, *impl->coordinator, "order_coordinator", std::move(done),
      [&](Callback<OrderRow> answer) {
        return CreateOrderMsg{std::move(customer), variant_id, std::move(answer), deadline};
      },
      std::move(late), deadline);
}

void OrderService::place_here(persistence::UserRow customer, int64_t variant_id, Deadline deadline,
                              Callback<OrderRow> done) {
  // Never forwarded again: the placement came from another member, or back from it.
  place(impl_, std::move(customer), variant_id, deadline, std::move(done), true);
}

void OrderService::set_remote(OrderRemote* remote) {
  impl_->remote->store(remote);
}

namespace {
// The order, when `user` may see it; otherwise 404 (its existence is not revealed).
Result<OrderRow> visible_order(Tx& tx, const persistence::UserRow& user, const std::string& id) {
  auto o = persistence::orders::find(tx, id);
  if (!o || !can_see(user, *o)) return Error::not_found();
  return std::move(*o);
}
}  // namespace

void OrderService::get(persistence::UserRow user, std::string order_id, Callback<OrderRow> done) {
  run_transaction<OrderRow>(
      impl_->runtime, "get order",
      [user, order_id](Tx& tx) -> Result<OrderRow> { return visible_order(tx, user, order_id); },
      std::move(done));
}

void OrderService::detail(persistence::UserRow user, std::string order_id,
                          Callback<OrderDetail> done) {
  run_transaction<OrderDetail>(
      impl_->runtime, "order detail",
      [user, order_id](Tx& tx) -> Result<OrderDetail> {
        auto o = visible_order(tx, user, order_id);
        if (!o) return std::move(o).error();
        OrderDetail d{std::move(o).value(), persistence::payments::find_by_order(tx, order_id),
                      persistence::workflow::history(tx, order_id)};
        return d;
      },
      std::move(done));
}

void OrderService::invoice(persistence::UserRow user, std::string order_id,
                           Callback<persistence::invoices::Stored> done) {
  run_transaction<persistence::invoices::Stored>(
      impl_->runtime, "order invoice",
      [user, order_id](Tx& tx) -> Result<persistence::invoices::Stored> {
        auto o = visible_order(tx, user, order_id);
        if (!o) return std::move(o).error();
        auto stored = persistence::invoices::find(tx, order_id);
        if (!stored) return Error::not_found();
        return std::move(*stored);
      },
      std::move(done));
}

void OrderService::complete(persistence::UserRow vendor, std::string order_id,
                            Callback<Unit> done) {
  run_transaction<Unit>(
      impl_->runtime, "order complete",
      [vendor, order_id](Tx& tx) -> Result<Unit> {
        auto o = persistence::orders::find(tx, order_id);
        if (!o) return Error::not_found();
        if (o->vendor_user_id != vendor.id) {
          return Error::make(ErrorCode::forbidden, "Unauthorized access to this order.",
                             Reason::not_your_order);
        }
        if (!persistence::workflow::complete(tx, order_id, vendor.id)) {
          // Read again: a concurrent change is visible once the conditional update waited on it.
          auto now = persistence::orders::find(tx, order_id);
          return Error::make(ErrorCode::invalid_input,
                             "Cannot complete an order with status: " +
                                 std::string(to_string(now ? now->status : o->status)),
                             Reason::cannot_complete);
        }
        return Unit{};
      },
      std::move(done));
}

void OrderService::list(persistence::UserRow user, std::optional<std::string> status,
                        persistence::PageRequest page, Callback<persistence::Page<OrderRow>> done) {
  auto scope = scope_for(user);
  scope.status = std::move(status);
  run_transaction<persistence::Page<OrderRow>>(
      impl_->runtime, "list orders",
      [scope, page](Tx& tx) -> Result<persistence::Page<OrderRow>> {
        return persistence::orders::list(tx, scope, page);
      },
      std::move(done));
}

void OrderService::cancel(persistence::UserRow user, std::string order_id,
                          Callback<OrderRow> done) {
  auto impl = impl_;
  get(user, order_id, [impl, user, done = std::move(done)](Result<OrderRow> found) mutable {
    if (!found) return done(std::move(found).error());
    if (user.role == Role::vendor) return done(Error::forbidden());
    if (found->status != OrderStatus::pending) {
      return done(Error::make(ErrorCode::conflict, "Only pending orders can be cancelled."));
    }
    auto order = std::move(found).value();
    impl->stock.release(
        order.variant_id, {order.id}, OrderStatus::cancelled, user.id,
        [impl, order, done = std::move(done)](Result<std::vector<std::string>> released) mutable {
          if (!released) return done(std::move(released).error());
          if (released->empty()) {
            return done(Error::make(ErrorCode::conflict, "Only pending orders can be cancelled."));
          }
          order.status = OrderStatus::cancelled;
          done(std::move(order));
        });
  });
}

}  // namespace marketlink::actors
