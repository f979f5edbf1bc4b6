// SQL for stock (the column service_variants.stock).
#include "persistence/sql/stock.hpp"

#include "persistence/database.hpp"

namespace marketlink::persistence {
namespace {

constexpr Statement kTake{
    "stock_take",
    "WITH b AS (SELECT id, stock AS before FROM service_variants WHERE id = $1 FOR UPDATE) "
    "UPDATE service_variants v SET stock = v.stock - LEAST(v.stock, $2), updated_at = now() "
    "FROM b, services s, vendor_profiles p "
    "WHERE v.id = b.id AND s.id = v.service_id AND p.id = s.vendor_id "
    "AND v.is_active AND s.is_active AND p.is_active "
    "RETURNING b.before, v.stock, v.price::text, s.vendor_id::text"};
constexpr Statement kCurrent{"stock_current", "SELECT stock FROM service_variants WHERE id = $1"};
// One statement, one snapshot: the stock beside each batch's count of committed orders.
constexpr Statement kSnapshot{
    "stock_snapshot",
    "SELECT (SELECT stock FROM service_variants WHERE id = $1), x.b, count(o.id) "
    "FROM unnest($2::uuid[], $3::int[]) AS x(id, b) LEFT JOIN orders o ON o.id = x.id "
    "GROUP BY x.b ORDER BY x.b"};
constexpr Statement kGiveBack{"stock_give_back",
                              "UPDATE service_variants SET stock = stock + $2, updated_at = now() "
                              "WHERE id = $1 RETURNING stock"};
constexpr Statement kSetStock{
    "stock_set",
    "WITH b AS (SELECT id, stock AS before FROM service_variants WHERE id = $1 FOR UPDATE) "
    "UPDATE service_variants v SET stock = $2, updated_at = now() FROM b WHERE v.id = b.id "
    "RETURNING b.before, v.stock"};

}  // namespace

namespace stock {

Take take(Tx& tx, int64_t variant_id, int units) {
  Take t;
  auto res = tx.exec(kTake, variant_id, units);
  if (res.empty()) return t;
  t.sellable = true;
  t.before = res[0][0].as<int>();
  t.after = res[0][1].as<int>();
  t.price = parse_money(res[0][2].as<std::string>(), 14).value.value_or(Money{});
  t.vendor_id = res[0][3].as<std::string>();
  return t;
}

Snapshot snapshot(Tx& tx, int64_t variant_id,
                  const std::vector<std::vector<std::string>>& batches) {
  Snapshot out;
  out.committed.assign(batches.size(), 0);
  std::vector<std::string> ids;
  std::vector<int64_t> index;
  for (std::size_t b = 0; b < batches.size(); ++b) {
    for (const auto& id : batches[b]) {
      ids.push_back(id);
      index.push_back(static_cast<int64_t>(b));
    }
  }
  if (ids.empty()) {
    out.stock = current(tx, variant_id);
    return out;
  }
  for (const auto& r : tx.exec(kSnapshot, variant_id, array_literal(ids), array_literal(index))) {
    if (!r[0].is_null()) out.stock = r[0].as<int>();
    const auto b = r[1].as<std::size_t>();
    if (b < out.committed.size()) out.committed[b] = r[2].as<int>();
  }
  return out;
}

std::optional<int> current(Tx& tx, int64_t variant_id) {
  auto res = tx.exec(kCurrent, variant_id);
  if (res.empty()) return std::nullopt;
  return res[0][0].as<int>();
}

int give_back(Tx& tx, int64_t variant_id, int units) {
  auto res = tx.exec(kGiveBack, variant_id, units);
  return res.empty() ? 0 : res[0][0].as<int>();
}

std::optional<std::pair<int, int>> set(Tx& tx, int64_t variant_id, int value) {
  auto res = tx.exec(kSetStock, variant_id, value);
  if (res.empty()) return std::nullopt;
  return std::pair{res[0][0].as<int>(), res[0][1].as<int>()};
}

}  // namespace stock

}  // namespace marketlink::persistence
