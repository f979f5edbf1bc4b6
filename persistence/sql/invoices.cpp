// SQL for invoices (table invoices; what they show is read from orders, payments, users,
// vendor_profiles, services and service_variants).
#include "persistence/sql/invoices.hpp"

#include "persistence/database.hpp"

namespace marketlink::persistence {
namespace {

constexpr Statement kInvoiceData{
    "invoice_missing",
    "SELECT o.id::text, 'INV-' || lpad(pay.id::text, greatest(8, length(pay.id::text)), '0'), "
    "ml_iso(pay.created_at), "
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

}  // namespace

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

}  // namespace marketlink::persistence
