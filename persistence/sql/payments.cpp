// SQL for payments (table payments; the confirmation also flips orders and writes outbox).
#include "persistence/sql/payments.hpp"

#include "persistence/database.hpp"

namespace marketlink::persistence {
namespace {

#define ML_PAYMENT_COLUMNS                                                                    \
  "id, order_id::text, val_id, tran_id, state, reason, gateway_status, "                      \
  "coalesce(amount::text, ''), coalesce(store_amount::text, ''), currency, bank_tran_id, "    \
  "card_type, card_no, card_brand, tran_date, risk_level, risk_title, needs_review, source, " \
  "ml_iso(created_at)"

// The values of a NewPayment, $2..$19 after the order id in $1.
#define ML_PAYMENT_VALUES                                                                \
  "$2, $3, $4, $5, $6, NULLIF($7, '')::numeric, NULLIF($8, '')::numeric, $9, $10, $11, " \
  "$12, $13, $14, $15::smallint, $16, $15::smallint = 1, $17, $18::json"
#define ML_PAYMENT_INSERT_COLUMNS                                                    \
  "order_id, val_id, tran_id, state, reason, gateway_status, amount, store_amount, " \
  "currency, bank_tran_id, card_type, card_no, card_brand, tran_date, risk_level, "  \
  "risk_title, needs_review, source, validation"

constexpr Statement kFindPayment{"payments_find",
                                 "SELECT " ML_PAYMENT_COLUMNS " FROM payments WHERE order_id = $1"};

// The update, the payment row and the jobs in one statement: all or nothing, and nothing at all
// when the order is no longer pending (the UPDATE returns no row, so the INSERTs insert none).
#define ML_CONFIRM_FROM(FROM_STATUS)                                                             \
  "WITH paid AS (UPDATE orders SET status = 'paid', status_by = 'gateway', updated_at = now(), " \
  "gateway_check_at = NULL WHERE id = $1 AND status = '" FROM_STATUS                             \
  "' RETURNING id), "                                                                            \
  "payment AS (INSERT INTO payments (" ML_PAYMENT_INSERT_COLUMNS                                 \
  ") SELECT paid.id, " ML_PAYMENT_VALUES                                                         \
  " FROM paid RETURNING order_id), "                                                             \
  "jobs AS (INSERT INTO outbox (kind, order_id, attempts, next_attempt_at) "                     \
  "SELECT k.kind, payment.order_id, 1, now() + $19 * interval '1 second' FROM payment, "         \
  "(VALUES ('invoice'), ('workflow_start')) AS k(kind) RETURNING id, kind, order_id) "           \
  "SELECT id, kind, order_id::text FROM jobs ORDER BY id"
constexpr Statement kConfirm{"payments_confirm", ML_CONFIRM_FROM("pending")};
// A failed order booked again by a later VALID attempt of the same session (its unit was taken
// back in the same transaction).
constexpr Statement kRevive{"payments_revive", ML_CONFIRM_FROM("failed")};
constexpr Statement kRecordRefund{"payments_record_refund",
                                  "INSERT INTO payments (" ML_PAYMENT_INSERT_COLUMNS
                                  ") VALUES ($1, " ML_PAYMENT_VALUES
                                  ") ON CONFLICT DO NOTHING RETURNING id"};

PaymentRow payment_from(const pqxx::row& r) {
  PaymentRow p;
  p.id = r[0].as<int64_t>();
  p.order_id = r[1].as<std::string>();
  p.val_id = r[2].as<std::string>();
  p.tran_id = r[3].as<std::string>();
  p.state = r[4].as<std::string>();
  p.reason = r[5].as<std::string>();
  p.gateway_status = r[6].as<std::string>();
  p.amount = r[7].as<std::string>();
  p.store_amount = r[8].as<std::string>();
  p.currency = r[9].as<std::string>();
  p.bank_tran_id = r[10].as<std::string>();
  p.card_type = r[11].as<std::string>();
  p.card_no = r[12].as<std::string>();
  p.card_brand = r[13].as<std::string>();
  p.tran_date = r[14].as<std::string>();
  p.risk_level = r[15].as<int>();
  p.risk_title = r[16].as<std::string>();
  p.needs_review = r[17].as<bool>();
  p.source = r[18].as<std::string>();
  p.created_at = r[19].as<std::string>();
  return p;
}

template <class... Extra>
pqxx::result exec_payment(Tx& tx, const Statement& s, const payments::NewPayment& p,
                          Extra&&... extra) {
  return tx.exec(s, p.order_id, p.val_id, p.tran_id, p.state, p.reason, p.gateway_status, p.amount,
                 p.store_amount, p.currency, p.bank_tran_id, p.card_type, p.card_no, p.card_brand,
                 p.tran_date, p.risk_level, p.risk_title, p.source, p.validation_json,
                 std::forward<Extra>(extra)...);
}

}  // namespace

namespace payments {

std::optional<PaymentRow> find_by_order(Tx& tx, const std::string& order_id) {
  auto res = tx.exec(kFindPayment, order_id);
  if (res.empty()) return std::nullopt;
  return payment_from(res[0]);
}

std::optional<std::vector<outbox::Job>> confirm(Tx& tx, const NewPayment& p, int lease_seconds,
                                                bool from_failed) {
  auto res = exec_payment(tx, from_failed ? kRevive : kConfirm, p, lease_seconds);
  if (res.empty()) return std::nullopt;
  std::vector<outbox::Job> jobs;
  for (const auto& r : res) {
    jobs.push_back({r[0].as<int64_t>(), r[1].as<std::string>(), r[2].as<std::string>(), 1});
  }
  return jobs;
}

bool record_refund(Tx& tx, const NewPayment& p) {
  return !exec_payment(tx, kRecordRefund, p).empty();
}

}  // namespace payments

}  // namespace marketlink::persistence
