// Payment actor (CAF) and the SSLCommerz session protocol (docs/sslcommerz.md §1, §2, §4).
#include "actors/payments/payment_service.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "actors/net/gateway_client.hpp"
#include "actors/outbox/outbox_service.hpp"
#include "actors/payments/notification_rules.hpp"
#include "actors/runtime/internal.hpp"
#include "actors/runtime/pool_jobs.hpp"
#include "actors/stock/stock_service.hpp"
#include "persistence/ids.hpp"
#include "persistence/sql/orders.hpp"
#include "persistence/sql/payments.hpp"

namespace marketlink::actors::detail {
struct OpenSessionMsg {
  SessionRequest request;
  Callback<GatewaySession> done;
};
struct NotifyMsg {
  Notification notification;
  Callback<NotificationOutcome> done;
};
}  // namespace marketlink::actors::detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(marketlink::actors::detail::OpenSessionMsg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(marketlink::actors::detail::NotifyMsg)

namespace marketlink::actors {

using detail::NotifyMsg;
using detail::OpenSessionMsg;
using internal::continue_on;
using internal::Step;
using persistence::OrderRow;
using persistence::OrderStatus;
using persistence::Tx;

Error gateway_refused(const std::string& reason) {
  return Error::make(ErrorCode::bad_gateway, "Payment Gateway Error: " + reason,
                     Reason::gateway_refused);
}

Error gateway_unreachable() {
  return Error::make(ErrorCode::bad_gateway, "Payment gateway communication failed.",
                     Reason::gateway_unreachable);
}

namespace {

enum Gauge : std::size_t {
  kOpened,
  kRefused,
  kFailed,
  kInFlight,
  kNotifications,
  kConfirmed,
  kDuplicates,
  kReleased,
  kRefunds,
  kRejected,
  kValidationFailures,
  kGaugeCount
};
constexpr std::array kGaugeNamesList{"sessions_opened",
                                     "sessions_refused",
                                     "gateway_failures",
                                     "in_flight",
                                     "notifications",
                                     "confirmed",
                                     "duplicates",
                                     "released",
                                     "needs_refund",
                                     "rejected",
                                     "validation_unreachable"};
static_assert(kGaugeNamesList.size() == kGaugeCount, "one name per gauge, in order");
const std::vector<std::string> kGaugeNames = gauge_names(kGaugeNamesList);

FormFields session_form(const config::Config& c, const SessionRequest& r) {
  const auto& base = c.base_domain;
  return {{"store_id", c.sslcommerz_store_id},
          {"store_passwd", c.webhook_secret},
          {"total_amount", r.amount.to_string()},
          {"currency", "BDT"},
          {"tran_id", r.order_id},
          {"success_url", base + "/orders/success/"},
          {"fail_url", base + "/orders/fail/"},
          {"cancel_url", base + "/orders/cancel/"},
          {"ipn_url", base + "/webhooks/payment/" + r.order_id + "/"},
          {"cus_name", r.customer_name},
          {"cus_email", r.customer_email},
          {"cus_add1", "N/A"},
          {"cus_city", "Dhaka"},
          {"cus_postcode", "1000"},
          {"cus_country", "Bangladesh"},
          {"cus_phone", "01700000000"},
          {"shipping_method", "NO"},
          {"num_of_item", "1"},
          {"product_name", r.product_name},
          {"product_category", "Vehicle Repair"},
          {"product_profile", "general"},
          {"value_a", r.order_id}};
}

// The gateway's answer as a JSON object; std::nullopt when it did not answer, answered other than
// 200, or sent something that is not a JSON object.
std::optional<boost::json::object> json_reply(const Result<HttpReply>& reply) {
  if (!reply || reply->status != 200) return std::nullopt;
  boost::system::error_code ec;
  auto json = boost::json::parse(reply->body, ec);
  if (ec || !json.is_object()) return std::nullopt;
  return std::move(json.as_object());
}

// A text field of a gateway answer ("" when absent); integers too when `integers` is set.
std::string json_text(const boost::json::object& o, const char* key, bool integers = false) {
  auto it = o.find(key);
  if (it == o.end()) return {};
  if (it->value().is_string()) return std::string(it->value().as_string());
  if (integers && it->value().is_int64()) return std::to_string(it->value().as_int64());
  return {};
}

// Reads the session-init answer: SUCCESS with GatewayPageURL, or FAILED with failedreason.
Result<GatewaySession> read_session_reply(const Result<HttpReply>& reply) {
  auto json = json_reply(reply);
  if (!json) return gateway_unreachable();
  auto text = [&o = *json](const char* key) { return json_text(o, key); };
  if (text("status") == "SUCCESS" && !text("GatewayPageURL").empty()) {
    return GatewaySession{text("GatewayPageURL"), text("sessionkey")};
  }
  auto reason = text("failedreason");
  return gateway_refused(reason.empty() ? "unknown error" : reason);
}

// --- Notifications ------------------------------------------------------------------------

Error notification_error(std::string message, Reason reason) {
  return Error::make(ErrorCode::invalid_input, std::move(message), reason);
}
Error order_not_found() {
  return Error::make(ErrorCode::not_found, "Order not found");
}
Error validation_unreachable() {
  return Error::make(ErrorCode::unavailable, "Payment validation is temporarily unavailable.");
}

std::string field(const PostedFields& f, const char* name) {
  auto it = f.find(name);
  return it == f.end() ? std::string() : it->second;
}

// What the validation API said about a val_id.
struct Validation {
  std::string status, tran_id, val_id, amount, store_amount, currency, currency_type, bank_tran_id,
      card_type, card_no, card_brand, tran_date, risk_title, json;
  int risk_level = 0;
};

// Non-200, a body that is not a JSON object, or no answer: the gateway could not be asked.
Result<Validation> read_validation(const Result<HttpReply>& reply) {
  auto json = json_reply(reply);
  if (!json) return validation_unreachable();
  auto text = [&o = *json](const char* key) { return json_text(o, key, true); };
  Validation v;
  v.status = text("status");
  v.tran_id = text("tran_id");
  v.val_id = text("val_id");
  v.amount = text("amount");
  v.store_amount = text("store_amount");
  v.currency = text("currency");
  v.currency_type = text("currency_type");
  v.bank_tran_id = text("bank_tran_id");
  v.card_type = text("card_type");
  v.card_no = text("card_no");
  v.card_brand = text("card_brand");
  v.tran_date = text("tran_date");
  v.risk_title = text("risk_title");
  v.risk_level = text("risk_level") == "1" ? 1 : 0;
  v.json = boost::json::serialize(*json);
  return v;
}

std::string validation_url(const config::Config& c, const std::string& val_id) {
  const auto& base = c.sslcommerz_validation_url;
  return base + (base.find('?') == std::string::npos ? "?" : "&") +
         form_encode({{"val_id", val_id},
                      {"store_id", c.sslcommerz_store_id},
                      {"store_passwd", c.webhook_secret},
                      {"v", "1"},
                      {"format", "json"}});
}

persistence::payments::NewPayment new_payment(const std::string& order_id, const Validation& v,
                                              NotificationSource source) {
  persistence::payments::NewPayment p;
  p.order_id = order_id;
  p.val_id = v.val_id;
  p.tran_id = v.tran_id;
  p.gateway_status = v.status;
  p.amount = plain_decimal(v.amount) ? v.amount : "";
  p.store_amount = plain_decimal(v.store_amount) ? v.store_amount : "";
  p.currency = v.currency_type.empty() ? v.currency : v.currency_type;
  p.bank_tran_id = v.bank_tran_id;
  p.card_type = v.card_type;
  p.card_no = v.card_no;
  p.card_brand = v.card_brand;
  p.tran_date = v.tran_date;
  p.risk_level = v.risk_level;
  p.risk_title = v.risk_title;
  p.source = source == NotificationSource::ipn ? "ipn" : "redirect";
  p.validation_json = v.json;
  return p;
}

struct OrderLookup {
  OrderRow order;
  bool has_payment = false;
};

// The outcome of one confirmation attempt inside a (shared) transaction.
struct Confirmed {
  std::optional<std::vector<persistence::outbox::Job>> jobs;  // set: this call paid the order
  std::optional<OrderStatus> status_now;  // otherwise: the order's status (none: no such order)
  bool refund_recorded = false;
};

Result<Confirmed> confirm_one(Tx& tx, const persistence::payments::NewPayment& p, int lease) {
  Confirmed c;
  c.jobs = persistence::payments::confirm(tx, p, lease);
  if (c.jobs) return c;
  // Lost a race: another notification confirmed it, or the order expired meanwhile.
  auto order = persistence::orders::find(tx, p.order_id);
  if (order) c.status_now = order->status;
  if (c.status_now == OrderStatus::cancelled || c.status_now == OrderStatus::failed) {
    auto refund = p;
    refund.state = "needs_refund";
    refund.reason = "order was " + std::string(to_string(*c.status_now));
    c.refund_recorded = persistence::payments::record_refund(tx, refund);
  }
  return c;
}

struct PendingConfirm {
  persistence::payments::NewPayment payment;
  Callback<Confirmed> done;
};

constexpr std::size_t kConfirmBatch = 64;

struct PaymentState {
  Runtime* runtime = nullptr;
  StockService* stock = nullptr;
  OutboxService* outbox = nullptr;
  std::unique_ptr<GatewayClient> client;
  std::shared_ptr<ActorStats> stats;
  const config::Config* config = nullptr;
  // Group commit: confirmations that arrive while one transaction runs share the next one.
  std::vector<PendingConfirm> confirm_queue;
  bool confirming = false;
};

using PaymentActor = caf::stateful_actor<PaymentState>;

// Runs the queued confirmations in one transaction; the next batch starts when it commits.
void flush_confirms(PaymentActor* self) {
  auto& st = self->state;
  if (st.confirming || st.confirm_queue.empty()) return;
  st.confirming = true;
  const auto n = std::min(kConfirmBatch, st.confirm_queue.size());
  auto batch = std::make_shared<std::vector<PendingConfirm>>(
      std::make_move_iterator(st.confirm_queue.begin()),
      std::make_move_iterator(st.confirm_queue.begin() + static_cast<std::ptrdiff_t>(n)));
  st.confirm_queue.erase(st.confirm_queue.begin(),
                         st.confirm_queue.begin() + static_cast<std::ptrdiff_t>(n));
  std::vector<persistence::payments::NewPayment> payments;
  for (const auto& c : *batch) payments.push_back(c.payment);
  const int lease = static_cast<int>(st.config->outbox_lease.count());
  run_transaction<std::vector<Confirmed>>(
      *st.runtime, "payment confirm",
      [payments = std::move(payments), lease](Tx& tx) -> Result<std::vector<Confirmed>> {
        std::vector<Confirmed> out;
        for (const auto& p : payments) {
          auto c = confirm_one(tx, p, lease);
          if (!c) return std::move(c).error();
          out.push_back(std::move(c).value());
        }
        return out;
      },
      continue_on<std::vector<Confirmed>>(
          self, [self, batch, lease](Result<std::vector<Confirmed>> r) {
            auto& st = self->state;
            if (r) {
              for (std::size_t i = 0; i < batch->size(); ++i) (*batch)[i].done((*r)[i]);
            } else if (batch->size() > 1 && r.error().code != ErrorCode::unavailable) {
              // One statement failed and took the batch with it: each on its own, so only it fails.
              for (auto& c : *batch) {
                auto p = c.payment;
                run_transaction<Confirmed>(
                    *st.runtime, "payment confirm",
                    [p, lease](Tx& tx) -> Result<Confirmed> { return confirm_one(tx, p, lease); },
                    c.done);
              }
            } else {
              for (auto& c : *batch) c.done(r.error());
            }
            st.confirming = false;
            flush_confirms(self);
          }));
}

// One notification's journey; every step runs on the payment actor.
class NotificationJob : public std::enable_shared_from_this<NotificationJob> {
 public:
  NotificationJob(PaymentActor* self, Notification n, Callback<NotificationOutcome> done)
      : self_(self), n_(std::move(n)), done_(std::move(done)) {}

  void start() {
    auto& st = self_->state;
    st.stats->add(kNotifications, 1);
    st.stats->add(kInFlight, 1);
    if (verify_notification(n_.fields, st.config->webhook_secret) != SignatureCheck::valid) {
      return reject("Invalid verify_sign", Reason::invalid_signature);
    }
    const auto tran_id = field(n_.fields, "tran_id");
    if (n_.source == NotificationSource::ipn && tran_id != n_.order_id) {
      return reject("Transaction mismatch", Reason::transaction_mismatch);
    }
    order_id_ = n_.source == NotificationSource::ipn ? n_.order_id : tran_id;
    posted_ = field(n_.fields, "status");
    if (!is_uuid(order_id_)) return finish(order_not_found());
    auto id = order_id_;
    run_read<OrderLookup>(
        *st.runtime, "payment lookup",
        [id](Tx& tx) -> Result<OrderLookup> {
          auto found = persistence::orders::find_for_payment(tx, id);
          if (!found) return order_not_found();
          return OrderLookup{std::move(found->first), found->second};
        },
        step<OrderLookup>([](NotificationJob& job, Result<OrderLookup> found) {
          if (!found) return job.finish(std::move(found).error());
          job.order_ = std::move(found->order);
          job.route(found->has_payment);
        }));
  }

 private:
  template <class T, class F>
  Callback<T> step(F fn) {
    return continue_on<T>(
        self_, [job = shared_from_this(), fn](Result<T> r) mutable { fn(*job, std::move(r)); });
  }

  void route(bool has_payment) {
    const auto val_id = field(n_.fields, "val_id");
    const auto route = route_notification(posted_, val_id, has_payment, order_.status);
    switch (route.kind) {
      case NotificationRoute::Kind::release:
        return release(route.target);
      case NotificationRoute::Kind::reject:
        return reject(route.message);
      case NotificationRoute::Kind::duplicate:
        return outcome(NotificationOutcome::Kind::duplicate);
      case NotificationRoute::Kind::validate:
        break;
    }
    auto& st = self_->state;
    st.client->get(validation_url(*st.config, val_id),
                   step<HttpReply>([val_id](NotificationJob& job, Result<HttpReply> reply) {
                     job.validated(val_id, read_validation(reply));
                   }));
  }

  // FAILED / CANCELLED / EXPIRED / UNATTEMPTED: a pending order gives its stock back.
  void release(OrderStatus target) {
    if (order_.status != OrderStatus::pending) return outcome(NotificationOutcome::Kind::duplicate);
    self_->state.stock->release(
        order_.variant_id, {order_.id}, target, "gateway",
        step<std::vector<std::string>>(
            [target](NotificationJob& job, Result<std::vector<std::string>> released) {
              if (!released) return job.finish(std::move(released).error());
              if (released->empty()) return job.reread();  // changed meanwhile
              job.order_.status = target;
              job.self_->state.stats->add(kReleased, 1);
              job.outcome(NotificationOutcome::Kind::released);
            }));
  }

  void validated(const std::string& val_id, Result<Validation> v) {
    auto& st = self_->state;
    if (!v) {
      st.stats->add(kValidationFailures, 1);
      st.stats->failed("validation API unreachable for order " + order_.id);
      return finish(std::move(v).error());
    }
    const auto verdict =
        judge_validation({v->status, v->val_id, v->tran_id, v->amount, v->currency_type}, val_id,
                         order_.id, order_.total_amount, order_.status);
    switch (verdict) {
      case ValidationVerdict::not_valid:
        return reject("Payment not valid", Reason::payment_not_valid);
      case ValidationVerdict::transaction_mismatch:
        return reject("Transaction mismatch", Reason::transaction_mismatch);
      case ValidationVerdict::amount_mismatch:
        spdlog::warn("payments: order {} paid {} {} but costs {} BDT; failing it, refund needed",
                     order_.id, v->amount, v->currency_type, order_.total_amount.to_string());
        payment_ = new_payment(order_.id, *v, n_.source);
        payment_.state = "needs_refund";
        payment_.reason = "amount or currency mismatch: paid " + v->amount + " " + v->currency_type;
        return mismatch();
      case ValidationVerdict::order_not_pending:
        payment_ = new_payment(order_.id, *v, n_.source);
        return refund("order was " + std::string(to_string(order_.status)));
      case ValidationVerdict::confirm:
        payment_ = new_payment(order_.id, *v, n_.source);
        return confirm();
    }
  }

  // Order pending → paid, the payment and the outbox jobs, in one transaction (shared with the
  // other confirmations waiting at that moment).
  void confirm() {
    auto& st = self_->state;
    st.confirm_queue.push_back(
        {payment_, step<Confirmed>([](NotificationJob& job, Result<Confirmed> c) {
           if (!c) return job.finish(std::move(c).error());
           auto& st = job.self_->state;
           if (c->jobs) {
             fault_drill_for_test(*st.config, "kill_after_payment_commit");
             st.stats->add(kConfirmed, 1);
             st.outbox->submit(std::move(*c->jobs));
             job.order_.status = OrderStatus::paid;
             return job.outcome(NotificationOutcome::Kind::confirmed);
           }
           if (c->status_now) job.order_.status = *c->status_now;
           if (c->refund_recorded) {
             st.stats->add(kRefunds, 1);
             spdlog::warn("payments: order {} was {} when its payment {} arrived; refund needed",
                          job.order_.id, to_string(*c->status_now), job.payment_.val_id);
             return job.outcome(NotificationOutcome::Kind::refund_recorded);
           }
           job.outcome(NotificationOutcome::Kind::duplicate);
         })});
    flush_confirms(self_);
  }

  // VALID for an order that is no longer pending: the money must go back.
  void refund(std::string reason) {
    payment_.state = "needs_refund";
    payment_.reason = std::move(reason);
    auto p = payment_;
    run_transaction<bool>(
        *self_->state.runtime, "payment refund",
        [p](Tx& tx) -> Result<bool> { return persistence::payments::record_refund(tx, p); },
        step<bool>([](NotificationJob& job, Result<bool> recorded) {
          if (!recorded) return job.finish(std::move(recorded).error());
          if (!*recorded) return job.outcome(NotificationOutcome::Kind::duplicate);
          job.self_->state.stats->add(kRefunds, 1);
          spdlog::warn("payments: order {} was {} when its payment {} arrived; refund needed",
                       job.order_.id, to_string(job.order_.status), job.payment_.val_id);
          job.outcome(NotificationOutcome::Kind::refund_recorded);
        }));
  }

  // Wrong amount or currency: the order fails (stock back) and the money is marked for refund.
  void mismatch() {
    auto after_release = [](NotificationJob& job) {
      auto p = job.payment_;
      run_transaction<bool>(
          *job.self_->state.runtime, "payment mismatch",
          [p](Tx& tx) -> Result<bool> { return persistence::payments::record_refund(tx, p); },
          job.step<bool>([](NotificationJob& j, Result<bool> recorded) {
            if (!recorded) return j.finish(std::move(recorded).error());
            if (*recorded) j.self_->state.stats->add(kRefunds, 1);
            j.reject("Amount mismatch", Reason::amount_mismatch);
          }));
    };
    if (order_.status != OrderStatus::pending) return after_release(*this);
    self_->state.stock->release(
        order_.variant_id, {order_.id}, OrderStatus::failed, "gateway",
        step<std::vector<std::string>>(
            [after_release](NotificationJob& job, Result<std::vector<std::string>> released) {
              if (!released) return job.finish(std::move(released).error());
              after_release(job);
            }));
  }

  // The order changed under us: answer with what it is now (a duplicate).
  void reread() {
    auto id = order_.id;
    run_transaction<OrderRow>(
        *self_->state.runtime, "payment reread",
        [id](Tx& tx) -> Result<OrderRow> {
          auto o = persistence::orders::find(tx, id);
          if (!o) return order_not_found();
          return std::move(*o);
        },
        step<OrderRow>([](NotificationJob& job, Result<OrderRow> o) {
          if (!o) return job.finish(std::move(o).error());
          job.order_ = std::move(o).value();
          job.outcome(NotificationOutcome::Kind::duplicate);
        }));
  }

  void reject(std::string message, Reason reason = Reason::notification_rejected) {
    self_->state.stats->add(kRejected, 1);
    finish(notification_error(std::move(message), reason));
  }

  void outcome(NotificationOutcome::Kind kind) {
    if (kind == NotificationOutcome::Kind::duplicate) self_->state.stats->add(kDuplicates, 1);
    finish(NotificationOutcome{kind, order_.id, std::string(to_string(order_.status)), posted_});
  }

  void finish(Result<NotificationOutcome> r) {
    self_->state.stats->add(kInFlight, -1);
    done_(std::move(r));
  }

  PaymentActor* self_;
  Notification n_;
  Callback<NotificationOutcome> done_;
  std::string order_id_, posted_;
  OrderRow order_;
  persistence::payments::NewPayment payment_;
};

caf::behavior payment_actor(PaymentActor* self, Runtime* runtime, const config::Config* config,
                            StockService* stock, OutboxService* outbox) {
  auto& st = self->state;
  st.runtime = runtime;
  st.stock = stock;
  st.outbox = outbox;
  st.config = config;
  // Registered first: the client below loads the system's CA store, which takes a moment.
  st.stats = runtime->registry().enter("payment_actor", "payment", "root_supervisor", kGaugeNames);
  st.client = std::make_unique<GatewayClient>(
      std::chrono::duration_cast<std::chrono::milliseconds>(config->gateway_timeout));
  st.stats->set_state("running");
  return {
      [self](OpenSessionMsg& msg) {
        auto& st = self->state;
        st.stats->handled(self->mailbox().size());
        st.stats->add(kInFlight, 1);
        // The reply arrives on the client's I/O thread; the caller's callback is thread-safe.
        st.client->post_form(st.config->sslcommerz_session_url,
                             session_form(*st.config, msg.request),
                             [stats = st.stats, done = std::move(msg.done),
                              order = msg.request.order_id](Result<HttpReply> reply) {
                               auto session = read_session_reply(reply);
                               stats->add(kInFlight, -1);
                               if (session) {
                                 stats->add(kOpened, 1);
                               } else if (session.error().reason == Reason::gateway_refused) {
                                 stats->add(kRefused, 1);
                                 spdlog::info("payments: gateway refused order {}: {}", order,
                                              session.error().message);
                               } else {
                                 stats->add(kFailed, 1);
                                 stats->failed("session init failed for order " + order);
                               }
                               done(std::move(session));
                             });
      },
      [self](NotifyMsg& msg) {
        self->state.stats->handled(self->mailbox().size());
        std::make_shared<NotificationJob>(self, std::move(msg.notification), std::move(msg.done))
            ->start();
      },
      [self](Step& step) {
        self->state.stats->handled(self->mailbox().size());
        step.run();
      },
  };
}

}  // namespace

struct PaymentService::Impl {
  Runtime& runtime;
  std::shared_ptr<internal::Slot> actor;
};

PaymentService::PaymentService(Runtime& runtime, const config::Config& config, StockService& stock,
                               OutboxService& outbox)
    : impl_(std::make_shared<Impl>(Impl{runtime, nullptr})) {
  Runtime* rt = &runtime;
  const config::Config* cfg = &config;
  StockService* st = &stock;
  OutboxService* ob = &outbox;
  impl_->actor = internal::supervise(runtime, "payment_actor",
                                     [rt, cfg, st, ob](caf::event_based_actor* parent) {
                                       return parent->spawn(payment_actor, rt, cfg, st, ob);
                                     });
}

PaymentService::~PaymentService() = default;

void PaymentService::open_session(SessionRequest request, Callback<GatewaySession> done) {
  internal::ask<GatewaySession>(impl_->runtime, *impl_->actor, "payment_actor", std::move(done),
                                [&](Callback<GatewaySession> answer) {
                                  return OpenSessionMsg{std::move(request), std::move(answer)};
                                });
}

void PaymentService::notify(Notification notification, Callback<NotificationOutcome> done) {
  internal::ask<NotificationOutcome>(impl_->runtime, *impl_->actor, "payment_actor",
                                     std::move(done), [&](Callback<NotificationOutcome> answer) {
                                       return NotifyMsg{std::move(notification), std::move(answer)};
                                     });
}

}  // namespace marketlink::actors
