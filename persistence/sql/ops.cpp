// SQL for the operator console.
#include "persistence/sql/ops.hpp"

#include "persistence/database.hpp"

namespace marketlink::persistence::ops {
namespace {

constexpr Statement kCounts{"ops_counts",
                            "SELECT (SELECT count(*) FROM orders WHERE status = 'pending'), "
                            "(SELECT count(*) FROM orders WHERE status = 'pending' "
                            " AND expires_at <= now() + interval '5 minutes'), "
                            "(SELECT count(*) FROM payments WHERE needs_review), "
                            "(SELECT count(*) FROM payments WHERE state = 'needs_refund'), "
                            "(SELECT count(*) FROM outbox WHERE state = 'pending'), "
                            "(SELECT count(*) FROM outbox WHERE state = 'dead'), "
                            "(SELECT count(*) FROM vendor_profiles WHERE NOT is_active)"};
constexpr Statement kAttention{
    "ops_attention_payments",
    "SELECT p.order_id::text, p.val_id, p.state, p.reason, coalesce(p.amount::text, ''), "
    "p.risk_level::text, ml_iso(p.created_at), o.status, p.needs_review "
    "FROM payments p JOIN orders o ON o.id = p.order_id "
    "WHERE p.needs_review OR p.state = 'needs_refund' ORDER BY p.created_at DESC LIMIT $1"};
constexpr Statement kPending{
    "ops_pending_orders",
    "SELECT o.id::text, u.email, s.name, v.name, o.total_amount::text, ml_iso(o.expires_at), "
    "o.variant_id FROM orders o JOIN users u ON u.id = o.customer_id "
    "JOIN service_variants v ON v.id = o.variant_id JOIN services s ON s.id = v.service_id "
    "WHERE o.status = 'pending' ORDER BY o.expires_at LIMIT $1"};
constexpr Statement kDead{
    "ops_dead_jobs",
    "SELECT id, kind, order_id::text, last_error, attempts FROM outbox WHERE state = 'dead' "
    "ORDER BY id DESC LIMIT $1"};
constexpr Statement kReconciliations{
    "ops_reconciliations",
    "SELECT substr(target, 7), result, ml_iso(at) FROM audit_log "
    "WHERE action = 'payment.reconcile' ORDER BY at DESC, id DESC LIMIT $1"};

}  // namespace

Counts counts(Tx& tx) {
  auto r = tx.exec(kCounts)[0];
  return {r[0].as<long long>(), r[1].as<long long>(), r[2].as<long long>(), r[3].as<long long>(),
          r[4].as<long long>(), r[5].as<long long>(), r[6].as<long long>()};
}

std::vector<AttentionPayment> attention_payments(Tx& tx, int limit) {
  std::vector<AttentionPayment> out;
  for (const auto& r : tx.exec(kAttention, limit)) {
    out.push_back({r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<std::string>(),
                   r[3].as<std::string>(), r[4].as<std::string>(), r[5].as<std::string>(),
                   r[6].as<std::string>(), r[7].as<std::string>(), r[8].as<bool>()});
  }
  return out;
}

std::vector<PendingOrder> pending_orders(Tx& tx, int limit) {
  std::vector<PendingOrder> out;
  for (const auto& r : tx.exec(kPending, limit)) {
    out.push_back({r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<std::string>(),
                   r[3].as<std::string>(), r[4].as<std::string>(), r[5].as<std::string>(),
                   r[6].as<int64_t>()});
  }
  return out;
}

std::vector<Reconciliation> reconciliations(Tx& tx, int limit) {
  std::vector<Reconciliation> out;
  for (const auto& r : tx.exec(kReconciliations, limit)) {
    out.push_back({r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<std::string>()});
  }
  return out;
}

std::vector<DeadJob> dead_jobs(Tx& tx, int limit) {
  std::vector<DeadJob> out;
  for (const auto& r : tx.exec(kDead, limit)) {
    out.push_back({r[0].as<int64_t>(), r[1].as<std::string>(), r[2].as<std::string>(),
                   r[3].as<std::string>(), r[4].as<int>()});
  }
  return out;
}

}  // namespace marketlink::persistence::ops
