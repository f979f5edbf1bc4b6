// The payment actor: the only component that talks to SSLCommerz. Opens gateway sessions for new
// orders, and handles the gateway's notifications (IPN and the customer's redirects): signature,
// validation API, amount and currency, then the exactly-once confirmation in PostgreSQL.
#pragma once

#include <memory>
#include <string>

#include "actors/payments/sslcommerz_signature.hpp"
#include "actors/runtime/runtime.hpp"
#include "persistence/money.hpp"

namespace marketlink::actors {

struct SessionRequest {
  std::string order_id;
  Money amount;
  std::string customer_name;
  std::string customer_email;
  std::string product_name;
};

struct GatewaySession {
  std::string payment_url;
  std::string session_key;
};

// "Payment Gateway Error: <failedreason>" (502) or "Payment gateway communication failed." (502).
Error gateway_refused(const std::string& reason);
Error gateway_unreachable();

// reconcile: not a notification, the server asking the gateway (the transaction query).
enum class NotificationSource { ipn, redirect, reconcile };

struct Notification {
  std::string order_id;  // the IPN path's order; empty for redirects (tran_id names the order)
  PostedFields fields;
  NotificationSource source = NotificationSource::ipn;
};

struct NotificationOutcome {
  enum class Kind {
    confirmed,        // the order is paid now
    duplicate,        // nothing changed: the order was already past pending
    released,         // FAILED / CANCELLED / ...: the order failed or was cancelled, stock back
    refund_recorded,  // money arrived for an order that was no longer pending
  };
  Kind kind = Kind::duplicate;
  std::string order_id;
  std::string order_status;   // the order's status afterwards
  std::string posted_status;  // VALID, FAILED, CANCELLED, ...
  bool refund_due = false;    // the order's payment must go back (recorded now or before)
};

// What asking the gateway about an order (the transaction query by tran_id) found and did.
struct ReconcileOutcome {
  enum class Kind {
    settled,      // paid now (or a refund recorded), or the order was no longer pending
    not_paid,     // no paid attempt and none in progress
    in_progress,  // an attempt is PENDING or PROCESSING at the gateway
    unreachable,  // the gateway (or PostgreSQL) could not be asked
  };
  Kind kind = Kind::unreachable;
  std::string said;  // what happened, for the audit log ("VALID → paid", "PROCESSING", ...)
};

class StockService;
class OutboxService;

class PaymentService {
 public:
  PaymentService(Runtime& runtime, const config::Config& config, StockService& stock,
                 OutboxService& outbox);
  ~PaymentService();

  void open_session(SessionRequest request, Callback<GatewaySession> done);

  // Handles one signed notification, in this order: signature, tran_id, the order, then release or
  // validation (docs/sslcommerz.md). Errors: 400 {"error": "Invalid verify_sign" | "Transaction
  // mismatch" | "val_id missing" | "Payment not valid" | "Amount mismatch"}, 404 {"detail": "Order
  // not found"}, 503 when the validation API or the database cannot be reached (nothing changed).
  void notify(Notification notification, Callback<NotificationOutcome> done);

  // Asks the gateway what became of a pending order's payment (the transaction query by
  // tran_id) and acts on a paid attempt exactly as on a VALID notification: the same validation
  // checks (amount, currency, tran_id), the same exactly-once confirmation. What to do with an
  // order that is not paid is the caller's (the expiry sweeper's) decision.
  void reconcile(std::string order_id, Callback<ReconcileOutcome> done);

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace marketlink::actors
