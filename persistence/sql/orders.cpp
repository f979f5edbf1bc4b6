// SQL for orders (table orders, read with its variant, service and vendor).
#include "persistence/sql/orders.hpp"

#include "persistence/database.hpp"

namespace marketlink::persistence {
namespace {

#define ML_ORDER_COLUMNS                                                                          \
  "o.id::text, o.customer_id::text, o.vendor_id::text, p.user_id::text, o.variant_id, o.status, " \
  "o.total_amount::text, coalesce(o.payment_url, ''), ml_iso(o.expires_at), "                     \
  "ml_iso(o.created_at), "                                                                        \
  "s.name, v.name"
#define ML_ORDER_JOIN                                                                       \
  " JOIN service_variants v ON v.id = o.variant_id JOIN services s ON s.id = v.service_id " \
  "JOIN vendor_profiles p ON p.id = o.vendor_id"

constexpr Statement kInsertOrders{
    "orders_insert_batch",
    "WITH o AS (INSERT INTO orders (id, customer_id, vendor_id, variant_id, total_amount, "
    "expires_at) "
    "SELECT t.id, t.customer, $4, $3, $5::numeric, now() + $6 * interval '1 second' "
    "FROM unnest($1::uuid[], $2::uuid[]) WITH ORDINALITY AS t(id, customer, n) ORDER BY t.n "
    "RETURNING *) SELECT " ML_ORDER_COLUMNS " FROM o" ML_ORDER_JOIN};
constexpr Statement kReleaseOrders{
    "orders_release",
    "UPDATE orders SET status = $3, status_by = $4, updated_at = now() WHERE id = "
    "ANY($2::uuid[]) AND variant_id = $1 "
    "AND status = 'pending' RETURNING id::text"};
constexpr Statement kFindOrder{
    "orders_find", "SELECT " ML_ORDER_COLUMNS " FROM orders o" ML_ORDER_JOIN " WHERE o.id = $1"};
constexpr Statement kFindForPayment{"orders_find_for_payment",
                                    "SELECT " ML_ORDER_COLUMNS
                                    ", coalesce((SELECT pay.state FROM payments pay "
                                    "WHERE pay.order_id = o.id), '') "
                                    "FROM orders o" ML_ORDER_JOIN " WHERE o.id = $1"};
constexpr Statement kFindForPayments{"orders_find_for_payments",
                                     "SELECT " ML_ORDER_COLUMNS
                                     ", coalesce((SELECT pay.state FROM payments pay "
                                     "WHERE pay.order_id = o.id), '') "
                                     "FROM orders o" ML_ORDER_JOIN " WHERE o.id = ANY($1::uuid[])"};
constexpr Statement kSetSessions{
    "orders_set_sessions",
    "UPDATE orders o SET payment_url = t.url, session_key = t.key, updated_at = now() "
    "FROM unnest($1::uuid[], $2::text[], $3::text[]) AS t(id, url, key) "
    "WHERE o.id = t.id AND o.status = 'pending' RETURNING o.id::text"};
constexpr Statement kCountPending{
    "orders_count_pending",
    "SELECT count(*) FROM (SELECT 1 FROM orders WHERE customer_id = $1 AND status = 'pending' "
    "LIMIT $2) p"};
constexpr Statement kListOrders{
    "orders_list",
    "SELECT " ML_ORDER_COLUMNS ", count(*) OVER () FROM orders o" ML_ORDER_JOIN
    " WHERE ($1 = '' OR o.customer_id = NULLIF($1, '')::uuid) "
    "AND ($2 = '' OR p.user_id = NULLIF($2, '')::uuid) AND ($3 = '' OR o.status = $3) "
    "ORDER BY o.created_at DESC, o.id LIMIT $4 OFFSET $5"};
constexpr Statement kExpired{
    "orders_expired",
    "SELECT id::text, variant_id FROM orders WHERE status = 'pending' AND payment_url IS NULL AND "
    "(expires_at <= now() OR created_at <= now() - $1 * interval '1 second') "
    "AND NOT (variant_id = ANY($3::bigint[])) ORDER BY expires_at LIMIT $2"};
constexpr Statement kToAsk{
    "orders_to_ask_gateway",
    "SELECT id::text, variant_id, expires_at <= now(), "
    "expires_at + $1 * interval '1 second' <= now(), status = 'pending' FROM orders "
    "WHERE ((status = 'pending' AND payment_url IS NOT NULL AND gateway_check_at IS NULL AND "
    "expires_at <= now()) OR (status IN ('pending', 'failed') AND gateway_check_at <= now())) "
    "AND NOT (variant_id = ANY($3::bigint[])) "
    "ORDER BY coalesce(gateway_check_at, expires_at) LIMIT $2"};
constexpr Statement kCheckSoon{
    "orders_check_soon",
    "UPDATE orders SET gateway_check_at = least(coalesce(gateway_check_at, 'infinity'), "
    "now() + $2 * interval '1 second') WHERE id = $1 AND status = 'pending'"};
constexpr Statement kCheckAtExpiry{
    "orders_check_at_expiry",
    "UPDATE orders SET gateway_check_at = expires_at WHERE id = $1 AND status = 'failed'"};
constexpr Statement kPostponeCheck{
    "orders_postpone_check",
    "UPDATE orders SET gateway_check_at = now() + $2 * interval '1 second', "
    "gateway_checks = gateway_checks + 1 WHERE id = $1 AND status IN ('pending', 'failed')"};
constexpr Statement kClearCheck{"orders_clear_check",
                                "UPDATE orders SET gateway_check_at = NULL WHERE id = $1"};

OrderRow order_from(const pqxx::row& r) {
  OrderRow o;
  o.id = r[0].as<std::string>();
  o.customer_id = r[1].as<std::string>();
  o.vendor_id = r[2].as<std::string>();
  o.vendor_user_id = r[3].as<std::string>();
  o.variant_id = r[4].as<int64_t>();
  o.status = parse_order_status(r[5].as<std::string>()).value_or(OrderStatus::pending);
  o.total_amount = parse_money(r[6].as<std::string>(), 14).value.value_or(Money{});
  o.payment_url = r[7].as<std::string>();
  o.expires_at = r[8].as<std::string>();
  o.created_at = r[9].as<std::string>();
  o.service_name = r[10].as<std::string>();
  o.variant_name = r[11].as<std::string>();
  return o;
}

}  // namespace

std::string_view to_string(OrderStatus status) {
  switch (status) {
    case OrderStatus::pending:
      return "pending";
    case OrderStatus::paid:
      return "paid";
    case OrderStatus::processing:
      return "processing";
    case OrderStatus::completed:
      return "completed";
    case OrderStatus::failed:
      return "failed";
    case OrderStatus::cancelled:
      return "cancelled";
  }
  return "pending";
}

std::optional<OrderStatus> parse_order_status(std::string_view text) {
  for (auto s : {OrderStatus::pending, OrderStatus::paid, OrderStatus::processing,
                 OrderStatus::completed, OrderStatus::failed, OrderStatus::cancelled}) {
    if (to_string(s) == text) return s;
  }
  return std::nullopt;
}

namespace orders {

std::vector<OrderRow> insert_batch(Tx& tx, int64_t variant_id, const std::string& vendor_id,
                                   Money price, const std::vector<std::string>& ids,
                                   const std::vector<std::string>& customers,
                                   long long ttl_seconds) {
  std::vector<OrderRow> out;
  if (ids.empty()) return out;
  auto res = tx.exec(kInsertOrders, array_literal(ids), array_literal(customers), variant_id,
                     vendor_id, price.to_string(), ttl_seconds);
  for (const auto& r : res) out.push_back(order_from(r));
  // RETURNING order is unspecified: hand rows back in the order of `ids`.
  std::vector<OrderRow> ordered;
  ordered.reserve(out.size());
  for (const auto& id : ids) {
    for (auto& o : out) {
      if (o.id == id) {
        ordered.push_back(std::move(o));
        break;
      }
    }
  }
  return ordered;
}

std::vector<std::string> release(Tx& tx, int64_t variant_id, const std::vector<std::string>& ids,
                                 OrderStatus status, const std::string& by) {
  std::vector<std::string> out;
  for (const auto& r : tx.exec(kReleaseOrders, variant_id, array_literal(ids),
                               std::string(to_string(status)), by)) {
    out.push_back(r[0].as<std::string>());
  }
  return out;
}

std::optional<OrderRow> find(Tx& tx, const std::string& id) {
  auto res = tx.exec(kFindOrder, id);
  if (res.empty()) return std::nullopt;
  return order_from(res[0]);
}

std::optional<std::pair<OrderRow, std::string>> find_for_payment(Tx& tx, const std::string& id) {
  auto res = tx.exec(kFindForPayment, id);
  if (res.empty()) return std::nullopt;
  return std::pair{order_from(res[0]), res[0][12].as<std::string>()};
}

std::vector<std::pair<OrderRow, std::string>> find_for_payments(
    Tx& tx, const std::vector<std::string>& ids) {
  std::vector<std::pair<OrderRow, std::string>> out;
  for (const auto& r : tx.exec(kFindForPayments, array_literal(ids))) {
    out.emplace_back(order_from(r), r[12].as<std::string>());
  }
  return out;
}

long long count_pending(Tx& tx, const std::string& customer_id, long long cap) {
  return tx.exec(kCountPending, customer_id, cap)[0][0].as<long long>();
}

std::vector<std::string> set_payment_sessions(Tx& tx, const std::vector<SessionToStore>& sessions) {
  std::vector<std::string> ids, urls, keys;
  for (const auto& s : sessions) {
    ids.push_back(s.order_id);
    urls.push_back(s.payment_url);
    keys.push_back(s.session_key);
  }
  std::vector<std::string> stored;
  for (const auto& r : tx.exec(kSetSessions, array_literal(ids), quoted_array_literal(urls),
                               quoted_array_literal(keys))) {
    stored.push_back(r[0].as<std::string>());
  }
  return stored;
}

Page<OrderRow> list(Tx& tx, const Scope& scope, const PageRequest& page) {
  count_statement();
  tx.raw().exec0("SET LOCAL plan_cache_mode = force_custom_plan");
  auto res = tx.exec(kListOrders, scope.customer_id.value_or(""), scope.vendor_user_id.value_or(""),
                     scope.status.value_or(""), page.page_size, page.offset());
  return page_from<OrderRow>(
      res, [](const pqxx::row& r) { return order_from(r); }, 12);
}

std::vector<ToAsk> to_ask_gateway(Tx& tx, long long grace_seconds, int limit,
                                  const std::vector<int64_t>& skip_variants) {
  std::vector<ToAsk> out;
  for (const auto& r : tx.exec(kToAsk, grace_seconds, limit, array_literal(skip_variants))) {
    out.push_back({r[0].as<std::string>(), r[1].as<int64_t>(), r[2].as<bool>(), r[3].as<bool>(),
                   r[4].as<bool>()});
  }
  return out;
}

void check_gateway_soon(Tx& tx, const std::string& id, long long delay_seconds) {
  tx.exec(kCheckSoon, id, delay_seconds);
}

void check_gateway_at_expiry(Tx& tx, const std::string& id) {
  tx.exec(kCheckAtExpiry, id);
}

void postpone_gateway_check(Tx& tx, const std::string& id, long long delay_seconds) {
  tx.exec(kPostponeCheck, id, delay_seconds);
}

void clear_gateway_check(Tx& tx, const std::string& id) {
  tx.exec(kClearCheck, id);
}

std::vector<Expired> expired(Tx& tx, long long orphan_after_seconds, int limit,
                             const std::vector<int64_t>& skip_variants) {
  std::vector<Expired> out;
  for (const auto& r :
       tx.exec(kExpired, orphan_after_seconds, limit, array_literal(skip_variants))) {
    out.push_back({r[0].as<std::string>(), r[1].as<int64_t>()});
  }
  return out;
}

}  // namespace orders

}  // namespace marketlink::persistence
