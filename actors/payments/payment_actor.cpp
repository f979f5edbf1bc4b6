// Payment actor (CAF) and the SSLCommerz session protocol (docs/sslcommerz.md §1, §2, §4).
#include "actors/payments/payment_service.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <map>

#include "actors/net/gateway_client.hpp"
#include "actors/outbox/outbox_service.hpp"
#include "actors/payments/notification_rules.hpp"
#include "actors/runtime/internal.hpp"
#include "actors/runtime/pool_jobs.hpp"
#include "actors/stock/stock_service.hpp"
#include "persistence/ids.hpp"
#include "persistence/sql/orders.hpp"
#include "persistence/sql/payments.hpp"
#include "persistence/sql/stock.hpp"

namespace marketlink::actors::detail {
struct OpenSessionMsg {
  SessionRequest request;
  Callback<GatewaySession> done;
};
struct NotifyMsg {
  Notification notification;
  Callback<NotificationOutcome> done;
};
struct ReconcileMsg {
  std::string order_id;
  Callback<ReconcileOutcome> done;
};
}  // namespace marketlink::actors::detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(marketlink::actors::detail::OpenSessionMsg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(marketlink::actors::detail::NotifyMsg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(marketlink::actors::detail::ReconcileMsg)

namespace marketlink::actors {

using detail::NotifyMsg;
using detail::OpenSessionMsg;
using detail::ReconcileMsg;
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
  kReconciled,
  kRebooked,
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
                                     "validation_unreachable",
                                     "reconciled",
                                     "rebooked"};
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

// The validation API's answer, or one attempt of the transaction query's (same field names).
Validation validation_from(const boost::json::object& o) {
  auto text = [&o](const char* key) { return json_text(o, key, true); };
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
  v.json = boost::json::serialize(o);
  return v;
}

// Non-200, a body that is not a JSON object, or no answer: the gateway could not be asked.
Result<Validation> read_validation(const Result<HttpReply>& reply) {
  auto json = json_reply(reply);
  if (!json) return validation_unreachable();
  return validation_from(*json);
}

// The transaction query's attempts (§6.2); unreachable unless APIConnect is DONE (an unknown
// tran_id is DONE with one INVALID element, or none).
Result<std::vector<Validation>> read_attempts(const Result<HttpReply>& reply) {
  auto json = json_reply(reply);
  if (!json || json_text(*json, "APIConnect") != "DONE") return validation_unreachable();
  std::vector<Validation> attempts;
  if (auto it = json->find("element"); it != json->end() && it->value().is_array()) {
    for (const auto& e : it->value().as_array()) {
      if (e.is_object()) attempts.push_back(validation_from(e.as_object()));
    }
  }
  return attempts;
}

// A GET of one of the gateway's validator APIs: `base` asked about `key`=`value`, with the
// store's credentials.
std::string validator_url(const config::Config& c, const std::string& base, const char* key,
                          const std::string& value) {
  return base + (base.find('?') == std::string::npos ? "?" : "&") +
         form_encode({{key, value},
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
  p.source = source == NotificationSource::ipn        ? "ipn"
             : source == NotificationSource::redirect ? "redirect"
                                                      : "reconcile";
  p.validation_json = v.json;
  return p;
}

struct OrderLookup {
  OrderRow order;
  std::string payment_state;  // "" (none), confirmed or needs_refund
};

Result<OrderLookup> lookup_order(Tx& tx, const std::string& id) {
  auto found = persistence::orders::find_for_payment(tx, id);
  if (!found) return order_not_found();
  return OrderLookup{std::move(found->first), std::move(found->second)};
}

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
constexpr std::size_t kLookupBatch = 256;

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
  // Order lookups, batched the same way: one statement for the notifications that came while
  // the previous one ran.
  std::map<std::string, std::vector<Callback<OrderLookup>>> lookups_waiting;
  bool looking_up = false;
};

using PaymentActor = caf::stateful_actor<PaymentState>;

// Looks up the waiting notifications' orders in one statement (up to kLookupBatch of them);
// the next batch starts when it answered.
void flush_lookups(PaymentActor* self) {
  auto& st = self->state;
  if (st.looking_up || st.lookups_waiting.empty()) return;
  st.looking_up = true;
  auto waiting = std::make_shared<std::map<std::string, std::vector<Callback<OrderLookup>>>>();
  std::vector<std::string> ids;
  while (!st.lookups_waiting.empty() && ids.size() < kLookupBatch) {
    auto node = st.lookups_waiting.extract(st.lookups_waiting.begin());
    ids.push_back(node.key());
    waiting->insert(std::move(node));
  }
  using Found = std::map<std::string, OrderLookup>;
  run_read<Found>(
      *st.runtime, "payment lookup",
      [ids = std::move(ids)](Tx& tx) -> Result<Found> {
        Found out;
        for (auto& [order, state] : persistence::orders::find_for_payments(tx, ids)) {
          auto id = order.id;
          out.emplace(std::move(id), OrderLookup{std::move(order), std::move(state)});
        }
        return out;
      },
      continue_on<Found>(self, [self, waiting](Result<Found> found) {
        self->state.looking_up = false;
        for (auto& [id, callbacks] : *waiting) {
          Result<OrderLookup> outcome = order_not_found();
          if (!found) {
            outcome = found.error();
          } else if (auto it = found->find(id); it != found->end()) {
            outcome = it->second;
          }
          for (auto& cb : callbacks) cb(outcome);
        }
        flush_lookups(self);
      }));
}

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
  // One member of the process's shared write transaction (Runtime::commits).
  run_grouped<std::vector<Confirmed>>(
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
                run_grouped<Confirmed>(
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

// Has the gateway asked about `order_id` within GATEWAY_RECHECK_SECONDS. Best effort: should
// PostgreSQL refuse this too, the expiry sweep still asks the gateway before it cancels.
void check_soon(Runtime& runtime, const config::Config& config, const std::string& order_id) {
  const long long delay = config.gateway_recheck_interval.count();
  run_transaction<Unit>(
      runtime, "gateway check",
      [order_id, delay](Tx& tx) -> Result<Unit> {
        persistence::orders::check_gateway_soon(tx, order_id, delay);
        return Unit{};
      },
      [order_id](const Result<Unit>& r) {
        if (!r) spdlog::warn("payments: could not schedule a gateway check of order {}", order_id);
      });
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
    // Signed by our store password, but for our store? (One password may serve two stores.)
    if (!st.config->sslcommerz_store_id.empty() &&
        field(n_.fields, "store_id") != st.config->sslcommerz_store_id) {
      return reject("Invalid verify_sign", Reason::invalid_signature);
    }
    const auto tran_id = field(n_.fields, "tran_id");
    if (n_.source == NotificationSource::ipn && tran_id != n_.order_id) {
      return reject("Transaction mismatch", Reason::transaction_mismatch);
    }
    order_id_ = n_.source == NotificationSource::ipn ? n_.order_id : tran_id;
    posted_ = field(n_.fields, "status");
    if (!is_uuid(order_id_)) return finish(order_not_found());
    st.lookups_waiting[order_id_].push_back(
        step<OrderLookup>([](NotificationJob& job, Result<OrderLookup> found) {
          if (!found) return job.finish(std::move(found).error());
          job.order_ = std::move(found->order);
          job.payment_state_ = std::move(found->payment_state);
          job.route();
        }));
    flush_lookups(self_);
  }

  // The reconciler's way in: the gateway's transaction query found attempt `v` paid for
  // `order`, which has no payment row yet; from here on it is a VALID notification's path.
  void start_validated(OrderRow order, Validation v) {
    auto& st = self_->state;
    st.stats->add(kInFlight, 1);
    order_id_ = order.id;
    order_ = std::move(order);
    posted_ = v.status;
    const auto val_id = v.val_id;
    validated(val_id, std::move(v));
  }

 private:
  template <class T, class F>
  Callback<T> step(F fn) {
    return continue_on<T>(
        self_, [job = shared_from_this(), fn](Result<T> r) mutable { fn(*job, std::move(r)); });
  }

  void route() {
    const auto val_id = field(n_.fields, "val_id");
    const auto route = route_notification(posted_, val_id, !payment_state_.empty(), order_.status);
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
    st.client->get(
        validator_url(*st.config, st.config->sslcommerz_validation_url, "val_id", val_id),
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
              // The session may see another attempt that pays: asked about at its expiry
              // (recorded before the answer goes out).
              if (target == OrderStatus::failed) return job.check_at_expiry();
              job.outcome(NotificationOutcome::Kind::released);
            }));
  }

  void validated(const std::string& val_id, Result<Validation> v) {
    auto& st = self_->state;
    if (!v) {
      st.stats->add(kValidationFailures, 1);
      st.stats->failed("validation API unreachable for order " + order_.id);
      // The gateway does not promise to notify again: the server asks it itself, soon.
      if (n_.source != NotificationSource::reconcile)
        check_soon(*st.runtime, *st.config, order_.id);
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
      case ValidationVerdict::rebook:
        payment_ = new_payment(order_.id, *v, n_.source);
        return rebook();
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

  // VALID for an order a FAILED attempt of the same session failed (the customer tried again):
  // if a unit is still free it is taken back and the order paid, in one transaction run by the
  // variant's stock actor (the only writer of its stock); otherwise the money goes back.
  void rebook() {
    auto& st = self_->state;
    struct Rebooked {
      std::optional<std::vector<persistence::outbox::Job>> jobs;
      bool refund_recorded = false;
    };
    auto out = std::make_shared<Rebooked>();
    const int lease = static_cast<int>(st.config->outbox_lease.count());
    st.stock->exclusive(
        order_.variant_id,
        [p = payment_, variant = order_.variant_id, lease, out](Tx& tx) -> Result<StockChange> {
          auto taken = persistence::stock::take(tx, variant, 1);
          if (taken.sellable && taken.granted() == 1) {
            out->jobs = persistence::payments::confirm(tx, p, lease, true);
            if (out->jobs) return StockChange{-1, taken.after};
            // No longer failed (another notification came first): nothing happened.
            return Error::make(ErrorCode::conflict, "order changed", Reason::order_changed);
          }
          auto refund = p;
          refund.state = "needs_refund";
          refund.reason = "paid after a failed attempt, and no unit was left";
          out->refund_recorded = persistence::payments::record_refund(tx, refund);
          return StockChange{0, taken.after};
        },
        step<StockChange>([out](NotificationJob& job, Result<StockChange> r) {
          auto& st = job.self_->state;
          if (!r && r.error().reason == Reason::order_changed) return job.reread();
          if (!r) return job.finish(std::move(r).error());
          if (out->jobs) {
            st.stats->add(kRebooked, 1);
            st.stats->add(kConfirmed, 1);
            spdlog::info("payments: order {} paid after a failed attempt; booked again",
                         job.order_.id);
            st.outbox->submit(std::move(*out->jobs));
            job.order_.status = OrderStatus::paid;
            return job.outcome(NotificationOutcome::Kind::confirmed);
          }
          if (!out->refund_recorded) return job.outcome(NotificationOutcome::Kind::duplicate);
          st.stats->add(kRefunds, 1);
          spdlog::warn(
              "payments: order {} paid after a failed attempt with no unit left; refund "
              "needed",
              job.order_.id);
          job.outcome(NotificationOutcome::Kind::refund_recorded);
        }));
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

  void check_at_expiry() {
    run_transaction<Unit>(
        *self_->state.runtime, "gateway check",
        [id = order_.id](Tx& tx) -> Result<Unit> {
          persistence::orders::check_gateway_at_expiry(tx, id);
          return Unit{};
        },
        step<Unit>([](NotificationJob& job, const Result<Unit>& r) {
          if (!r)
            spdlog::warn("payments: order {} failed; no gateway check at its expiry",
                         job.order_.id);
          job.outcome(NotificationOutcome::Kind::released);
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
    const bool refund_due =
        payment_state_ == "needs_refund" || kind == NotificationOutcome::Kind::refund_recorded;
    finish(NotificationOutcome{kind, order_.id, std::string(to_string(order_.status)), posted_,
                               refund_due});
  }

  void finish(Result<NotificationOutcome> r) {
    self_->state.stats->add(kInFlight, -1);
    done_(std::move(r));
  }

  PaymentActor* self_;
  Notification n_;
  Callback<NotificationOutcome> done_;
  std::string order_id_, posted_;
  std::string payment_state_;  // of the order's payment row, when it has one
  OrderRow order_;
  persistence::payments::NewPayment payment_;
};

// Asking the gateway about one pending order, in named steps on the payment actor: the order and
// its payment row → the transaction query by tran_id → a paid attempt goes the way of a VALID
// notification (NotificationJob::start_validated: the same checks, the same exactly-once
// confirmation); anything else is reported to the caller, who decides.
class ReconcileJob : public std::enable_shared_from_this<ReconcileJob> {
 public:
  using Kind = ReconcileOutcome::Kind;
  ReconcileJob(PaymentActor* self, std::string order_id, Callback<ReconcileOutcome> done)
      : self_(self), order_id_(std::move(order_id)), done_(std::move(done)) {}

  void start() {
    auto& st = self_->state;
    st.stats->add(kReconciled, 1);
    if (!is_uuid(order_id_)) return answer(Kind::settled, "no such order");
    run_read<OrderLookup>(
        *st.runtime, "reconcile lookup",
        [id = order_id_](Tx& tx) -> Result<OrderLookup> { return lookup_order(tx, id); },
        step<OrderLookup>(&ReconcileJob::found));
  }

 private:
  template <class T>
  Callback<T> step(void (ReconcileJob::*next)(Result<T>)) {
    return continue_on<T>(self_, step_of(shared_from_this(), next));
  }

  void found(Result<OrderLookup> r) {
    if (!r && r.error().code == ErrorCode::not_found) return answer(Kind::settled, "no such order");
    if (!r) return answer(Kind::unreachable, "database: " + r.error().message);
    const auto status = r->order.status;
    if ((status != OrderStatus::pending && status != OrderStatus::failed) ||
        !r->payment_state.empty()) {
      return answer(Kind::settled, "order already " + std::string(to_string(r->order.status)));
    }
    order_ = std::move(r->order);
    auto& st = self_->state;
    st.client->get(
        validator_url(*st.config, st.config->sslcommerz_transaction_url, "tran_id", order_.id),
        step<HttpReply>(&ReconcileJob::asked));
  }

  void asked(Result<HttpReply> reply) {
    auto attempts = read_attempts(reply);
    if (!attempts) return answer(Kind::unreachable, "gateway unreachable");
    std::vector<std::string> statuses;
    for (const auto& a : *attempts) {
      statuses.push_back(a.status);
      said_ += (said_.empty() ? "" : ", ") + a.status;
    }
    if (said_.empty()) said_ = "no attempt";
    const auto verdict = judge_attempts(statuses);
    if (verdict.kind == AttemptsVerdict::Kind::in_progress) return answer(Kind::in_progress, said_);
    if (verdict.kind == AttemptsVerdict::Kind::not_paid) return answer(Kind::not_paid, said_);
    auto self = shared_from_this();
    std::make_shared<NotificationJob>(
        self_, Notification{order_.id, {}, NotificationSource::reconcile},
        [self](Result<NotificationOutcome> r) { self->validated(std::move(r)); })
        ->start_validated(order_, std::move((*attempts)[verdict.index]));
  }

  void validated(Result<NotificationOutcome> r) {
    using N = NotificationOutcome::Kind;
    if (r && r->kind == N::confirmed) return answer(Kind::settled, said_ + " → paid");
    if (r && r->refund_due) return answer(Kind::settled, said_ + " → refund recorded");
    if (r) return answer(Kind::settled, said_ + " → order already " + r->order_status);
    if (r.error().reason == Reason::amount_mismatch) {
      return answer(Kind::settled, said_ + " → amount mismatch: order failed, refund recorded");
    }
    if (r.error().code == ErrorCode::unavailable) {
      return answer(Kind::unreachable, said_ + " → not recorded: " + r.error().message);
    }
    answer(Kind::not_paid, said_ + " → not valid: " + r.error().message);
  }

  void answer(Kind kind, std::string said) {
    spdlog::info("payments: asked the gateway about order {}: {}", order_id_, said);
    done_(ReconcileOutcome{kind, std::move(said)});
  }

  PaymentActor* self_;
  std::string order_id_;
  Callback<ReconcileOutcome> done_;
  OrderRow order_;
  std::string said_;
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
      [self](ReconcileMsg& msg) {
        self->state.stats->handled(self->mailbox().size());
        std::make_shared<ReconcileJob>(self, std::move(msg.order_id), std::move(msg.done))->start();
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

void PaymentService::reconcile(std::string order_id, Callback<ReconcileOutcome> done) {
  internal::ask<ReconcileOutcome>(impl_->runtime, *impl_->actor, "payment_actor", std::move(done),
                                  [&](Callback<ReconcileOutcome> answer) {
                                    return ReconcileMsg{std::move(order_id), std::move(answer)};
                                  });
}

}  // namespace marketlink::actors
