// SQL for payments, the outbox, invoices and the order history.
#include "persistence/sql/payments.hpp"

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
constexpr Statement kConfirm{
    "payments_confirm",
    "WITH paid AS (UPDATE orders SET status = 'paid', status_by = 'gateway', updated_at = now() "
    "WHERE id = $1 AND status = 'pending' RETURNING id), "
    "payment AS (INSERT INTO payments (" ML_PAYMENT_INSERT_COLUMNS
    ") SELECT paid.id, " ML_PAYMENT_VALUES
    " FROM paid RETURNING order_id), "
    "jobs AS (INSERT INTO outbox (kind, order_id, attempts, next_attempt_at) "
    "SELECT k.kind, payment.order_id, 1, now() + $19 * interval '1 second' FROM payment, "
    "(VALUES ('invoice'), ('workflow_start')) AS k(kind) RETURNING id, kind, order_id) "
    "SELECT id, kind, order_id::text FROM jobs ORDER BY id"};
constexpr Statement kRecordRefund{"payments_record_refund",
                                  "INSERT INTO payments (" ML_PAYMENT_INSERT_COLUMNS
                                  ") VALUES ($1, " ML_PAYMENT_VALUES
                                  ") ON CONFLICT DO NOTHING RETURNING id"};

constexpr Statement kClaimJobs{
    "outbox_claim",
    "UPDATE outbox o SET attempts = o.attempts + 1, "
    "next_attempt_at = now() + $2 * interval '1 second' "
    "FROM (SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_at <= now() "
    "ORDER BY next_attempt_at, id LIMIT $1 FOR UPDATE SKIP LOCKED) due "
    "WHERE o.id = due.id RETURNING o.id, o.kind, o.order_id::text, o.attempts"};
constexpr Statement kJobsDone{"outbox_done",
                              "UPDATE outbox SET state = 'done', done_at = now(), last_error = '' "
                              "WHERE id = ANY($1::bigint[]) AND state = 'pending'"};
constexpr Statement kJobFailed{"outbox_failed",
                               "UPDATE outbox SET last_error = $2, "
                               "state = CASE WHEN attempts >= $4 THEN 'dead' ELSE 'pending' END, "
                               "next_attempt_at = now() + $3 * interval '1 second' "
                               "WHERE id = $1 AND state = 'pending' RETURNING state"};
constexpr Statement kJobRetry{
    "outbox_retry",
    "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = now() "
    "WHERE id = $1 AND state = 'dead' RETURNING id"};
constexpr Statement kJobsPending{"outbox_pending",
                                 "SELECT count(*) FROM outbox WHERE state = 'pending'"};

constexpr Statement kInvoiceData{
    "invoice_missing",
    "SELECT o.id::text, 'INV-' || lpad(pay.id::text, 8, '0'), ml_iso(pay.created_at), "
    "ml_iso(o.created_at), p.business_name, p.address, "
    "trim(u.first_name || ' ' || u.last_name), u.email, s.name, v.name, o.total_amount::text, "
    "pay.val_id, pay.bank_tran_id, pay.card_type "
    "FROM orders o JOIN payments pay ON pay.order_id = o.id AND pay.state = 'confirmed' "
    "JOIN vendor_profiles p ON p.id = o.vendor_id JOIN users u ON u.id = o.customer_id "
    "JOIN service_variants v ON v.id = o.variant_id JOIN services s ON s.id = v.service_id "
    "WHERE o.id = ANY($1::uuid[]) "
    "AND NOT EXISTS (SELECT 1 FROM invoices i WHERE i.order_id = o.id)"};
constexpr Statement kInvoiceStore{
    "invoice_store",
    "INSERT INTO invoices (order_id, number, pdf, sha256) "
    "SELECT t.order_id, t.number, decode(t.pdf, 'hex'), t.sha256 FROM "
    "unnest($1::uuid[], $2::text[], $3::text[], $4::text[]) AS t(order_id, number, pdf, sha256) "
    "ON CONFLICT (order_id) DO NOTHING"};
constexpr Statement kInvoicesExisting{
    "invoices_existing", "SELECT order_id::text FROM invoices WHERE order_id = ANY($1::uuid[])"};
constexpr Statement kInvoiceFind{
    "invoice_find", "SELECT number, encode(pdf, 'hex'), sha256 FROM invoices WHERE order_id = $1"};

constexpr Statement kWorkflowStart{
    "workflow_start",
    "UPDATE orders SET status = 'processing', status_by = 'system:workflow', updated_at = now() "
    "WHERE id = ANY($1::uuid[]) AND status = 'paid' RETURNING id::text"};
constexpr Statement kWorkflowComplete{
    "workflow_complete",
    "UPDATE orders SET status = 'completed', status_by = $2, updated_at = now() "
    "WHERE id = $1 AND status = 'processing' RETURNING 1"};
constexpr Statement kHistory{
    "order_history",
    "SELECT from_status, to_status, changed_by, ml_iso(at) FROM order_events "
    "WHERE order_id = $1 ORDER BY id"};

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

std::string to_hex(const std::string& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xF]);
  }
  return out;
}

std::string from_hex(const std::string& hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    return c - 'a' + 10;
  };
  std::string out;
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>((nibble(hex[i]) << 4) | nibble(hex[i + 1])));
  }
  return out;
}

std::string id_array(const std::vector<int64_t>& ids) {
  std::string out = "{";
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) out += ',';
    out += std::to_string(ids[i]);
  }
  return out + "}";
}

}  // namespace

namespace payments {

std::optional<PaymentRow> find_by_order(Tx& tx, const std::string& order_id) {
  auto res = tx.exec(kFindPayment, order_id);
  if (res.empty()) return std::nullopt;
  return payment_from(res[0]);
}

std::optional<std::vector<outbox::Job>> confirm(Tx& tx, const NewPayment& p, int lease_seconds) {
  auto res = exec_payment(tx, kConfirm, p, lease_seconds);
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

namespace outbox {

std::vector<Job> claim_due(Tx& tx, int limit, int lease_seconds) {
  std::vector<Job> jobs;
  for (const auto& r : tx.exec(kClaimJobs, limit, lease_seconds)) {
    jobs.push_back(
        {r[0].as<int64_t>(), r[1].as<std::string>(), r[2].as<std::string>(), r[3].as<int>()});
  }
  return jobs;
}

void mark_done(Tx& tx, const std::vector<int64_t>& ids) {
  if (!ids.empty()) tx.exec(kJobsDone, id_array(ids));
}

bool mark_failed(Tx& tx, int64_t id, const std::string& error, int delay_seconds,
                 int max_attempts) {
  auto res = tx.exec(kJobFailed, id, error, delay_seconds, max_attempts);
  return !res.empty() && res[0][0].as<std::string>() == "dead";
}

bool retry_dead(Tx& tx, int64_t id) {
  return !tx.exec(kJobRetry, id).empty();
}

long long pending_count(Tx& tx) {
  return tx.exec(kJobsPending)[0][0].as<long long>();
}

}  // namespace outbox

namespace invoices {
namespace {
InvoiceData read(const pqxx::row& r) {
  InvoiceData d;
  d.order_id = r[0].as<std::string>();
  d.number = r[1].as<std::string>();
  d.issued_at = r[2].as<std::string>();
  d.order_created_at = r[3].as<std::string>();
  d.vendor_name = r[4].as<std::string>();
  d.vendor_address = r[5].as<std::string>();
  d.customer_name = r[6].as<std::string>();
  d.customer_email = r[7].as<std::string>();
  d.service_name = r[8].as<std::string>();
  d.variant_name = r[9].as<std::string>();
  d.amount = parse_money(r[10].as<std::string>(), 14).value.value_or(Money{});
  d.val_id = r[11].as<std::string>();
  d.bank_tran_id = r[12].as<std::string>();
  d.card_type = r[13].as<std::string>();
  return d;
}
}  // namespace

std::vector<InvoiceData> missing(Tx& tx, const std::vector<std::string>& order_ids) {
  std::vector<InvoiceData> out;
  if (order_ids.empty()) return out;
  for (const auto& r : tx.exec(kInvoiceData, array_literal(order_ids))) out.push_back(read(r));
  return out;
}

std::set<std::string> existing(Tx& tx, const std::vector<std::string>& order_ids) {
  std::set<std::string> out;
  if (order_ids.empty()) return out;
  for (const auto& r : tx.exec(kInvoicesExisting, array_literal(order_ids))) {
    out.insert(r[0].as<std::string>());
  }
  return out;
}

void store(Tx& tx, const std::vector<NewInvoice>& invoices) {
  if (invoices.empty()) return;
  std::vector<std::string> ids, numbers, pdfs, digests;
  for (const auto& inv : invoices) {
    ids.push_back(inv.order_id);
    numbers.push_back(inv.doc.number);  // INV-00000042: safe unquoted in an array literal
    pdfs.push_back(to_hex(inv.doc.pdf));
    digests.push_back(inv.doc.sha256);
  }
  tx.exec(kInvoiceStore, array_literal(ids), array_literal(numbers), array_literal(pdfs),
          array_literal(digests));
}

std::optional<Stored> find(Tx& tx, const std::string& order_id) {
  auto res = tx.exec(kInvoiceFind, order_id);
  if (res.empty()) return std::nullopt;
  return Stored{res[0][0].as<std::string>(), from_hex(res[0][1].as<std::string>()),
                res[0][2].as<std::string>()};
}

}  // namespace invoices

namespace workflow {

std::vector<std::string> start(Tx& tx, const std::vector<std::string>& order_ids) {
  std::vector<std::string> moved;
  if (order_ids.empty()) return moved;
  for (const auto& r : tx.exec(kWorkflowStart, array_literal(order_ids))) {
    moved.push_back(r[0].as<std::string>());
  }
  return moved;
}

bool complete(Tx& tx, const std::string& order_id, const std::string& by) {
  return !tx.exec(kWorkflowComplete, order_id, by).empty();
}

std::vector<OrderEvent> history(Tx& tx, const std::string& order_id) {
  std::vector<OrderEvent> out;
  for (const auto& r : tx.exec(kHistory, order_id)) {
    out.push_back({r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<std::string>(),
                   r[3].as<std::string>()});
  }
  return out;
}

}  // namespace workflow

}  // namespace marketlink::persistence
