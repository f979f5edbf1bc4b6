// Read models for the operator console: counts for the overview, payments that need a person,
// pending orders about to expire, the outbox's dead jobs.
#pragma once

#include <string>
#include <vector>

#include "persistence/result.hpp"
#include "persistence/tx.hpp"

namespace marketlink::persistence::ops {

struct Counts {
  long long pending_orders = 0;
  long long expiring_soon = 0;  // pending, expiring within 5 minutes
  long long needs_review = 0;
  long long needs_refund = 0;
  long long outbox_pending = 0;
  long long outbox_dead = 0;
  long long vendors_awaiting = 0;
};
Counts counts(Tx& tx);

struct AttentionPayment {
  std::string order_id, val_id, state, reason, amount, risk_level, created_at, order_status;
  bool needs_review = false;
};
std::vector<AttentionPayment> attention_payments(Tx& tx, int limit);

struct PendingOrder {
  std::string order_id, customer_email, service_name, variant_name, total_amount, expires_at;
  int64_t variant_id = 0;
};
std::vector<PendingOrder> pending_orders(Tx& tx, int limit);

struct DeadJob {
  int64_t id = 0;
  std::string kind, order_id, last_error;
  int attempts = 0;
};
std::vector<DeadJob> dead_jobs(Tx& tx, int limit);

// What asking the gateway about an order found and did (the audit log's payment.reconcile rows),
// newest first.
struct Reconciliation {
  std::string order_id, result, at;
};
std::vector<Reconciliation> reconciliations(Tx& tx, int limit);

}  // namespace marketlink::persistence::ops
