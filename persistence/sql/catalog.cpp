// SQL for the catalog.
#include "persistence/sql/catalog.hpp"

#include "persistence/database.hpp"

namespace marketlink::persistence {
namespace {

#define ML_SERVICE_COLUMNS                                                               \
  "s.id::text, s.vendor_id::text, p.user_id::text, p.is_active, s.name, s.description, " \
  "s.is_active, ml_iso(s.created_at)"
#define ML_VARIANT_COLUMNS                                                                       \
  "v.id, v.service_id::text, v.name, v.price::text, v.estimated_minutes, v.stock, v.is_active, " \
  "ml_iso(v.created_at), ml_iso(v.updated_at), s.is_active, p.is_active, p.user_id::text"
#define ML_VARIANT_JOIN \
  " JOIN services s ON s.id = v.service_id JOIN vendor_profiles p ON p.id = s.vendor_id"

// Lists are planned for their actual parameters (plan_cache_mode, set per transaction), so the
// optional filters written as "$n IS NULL OR ..." fold away and the partial indexes apply.
constexpr Statement kListServices{
    "services_list",
    "SELECT " ML_SERVICE_COLUMNS
    ", count(*) OVER () FROM services s "
    "JOIN vendor_profiles p ON p.id = s.vendor_id WHERE s.is_active "
    "AND CASE WHEN $1 = '' THEN p.is_active ELSE p.user_id = NULLIF($1, '')::uuid END "
    "AND ($2 = '' OR s.vendor_id = NULLIF($2, '')::uuid) "
    "AND ($3 = '' OR s.name ILIKE $3 OR s.description ILIKE $3) "
    "ORDER BY s.created_at DESC, s.id LIMIT $4 OFFSET $5"};
constexpr Statement kFindService{
    "services_find",
    "SELECT " ML_SERVICE_COLUMNS
    " FROM services s JOIN vendor_profiles p ON p.id = s.vendor_id WHERE s.id = $1"};
constexpr Statement kInsertService{
    "services_insert",
    "WITH s AS (INSERT INTO services (vendor_id, name, description) VALUES ($1, $2, $3) "
    "RETURNING *) SELECT " ML_SERVICE_COLUMNS
    " FROM s JOIN vendor_profiles p ON p.id = s.vendor_id"};
constexpr Statement kUpdateService{
    "services_update",
    "WITH s AS (UPDATE services SET name = $2, description = $3, updated_at = now() WHERE id = $1 "
    "RETURNING *) SELECT " ML_SERVICE_COLUMNS
    " FROM s JOIN vendor_profiles p ON p.id = s.vendor_id"};
constexpr Statement kDeactivateService{
    "services_deactivate",
    "UPDATE services SET is_active = false, updated_at = now() WHERE id = $1"};

constexpr Statement kVariantsOfService{
    "variants_of_service", "SELECT " ML_VARIANT_COLUMNS " FROM service_variants v" ML_VARIANT_JOIN
                           " WHERE v.service_id = $1 AND v.is_active ORDER BY v.id"};
constexpr Statement kListVariants{
    "variants_list",
    "SELECT " ML_VARIANT_COLUMNS ", count(*) OVER () FROM service_variants v" ML_VARIANT_JOIN
    " WHERE v.is_active AND s.is_active "
    "AND (p.is_active OR ($2 <> '' AND p.user_id = NULLIF($2, '')::uuid)) "
    "AND ($1 = '' OR v.service_id = NULLIF($1, '')::uuid) "
    "ORDER BY v.id DESC LIMIT $3 OFFSET $4"};
constexpr Statement kFindVariant{"variants_find",
                                 "SELECT " ML_VARIANT_COLUMNS
                                 " FROM service_variants v" ML_VARIANT_JOIN " WHERE v.id = $1"};
constexpr Statement kInsertVariant{
    "variants_insert",
    "WITH v AS (INSERT INTO service_variants (service_id, name, price, estimated_minutes, stock) "
    "VALUES ($1, $2, $3::numeric, $4, $5) RETURNING *) SELECT " ML_VARIANT_COLUMNS
    " FROM v" ML_VARIANT_JOIN};
constexpr Statement kUpdateVariant{
    "variants_update",
    "WITH v AS (UPDATE service_variants SET name = $2, price = $3::numeric, estimated_minutes = "
    "$4, updated_at = now() WHERE id = $1 RETURNING *) SELECT " ML_VARIANT_COLUMNS
    " FROM v" ML_VARIANT_JOIN};
constexpr Statement kDeactivateVariant{
    "variants_deactivate",
    "UPDATE service_variants SET is_active = false, updated_at = now() WHERE id = $1"};
constexpr Statement kVariantNameTaken{"variants_name_taken",
                                      "SELECT 1 FROM service_variants WHERE service_id = $1 AND "
                                      "name = $2 AND is_active AND id <> $3"};

ServiceRow service_from(const pqxx::row& r) {
  ServiceRow s;
  s.id = r[0].as<std::string>();
  s.vendor_id = r[1].as<std::string>();
  s.vendor_user_id = r[2].as<std::string>();
  s.vendor_active = r[3].as<bool>();
  s.name = r[4].as<std::string>();
  s.description = r[5].as<std::string>();
  s.is_active = r[6].as<bool>();
  s.created_at = r[7].as<std::string>();
  return s;
}

VariantRow variant_from(const pqxx::row& r) {
  VariantRow v;
  v.id = r[0].as<int64_t>();
  v.service_id = r[1].as<std::string>();
  v.name = r[2].as<std::string>();
  v.price = parse_money(r[3].as<std::string>(), 14).value.value_or(Money{});
  v.estimated_minutes = r[4].as<int>();
  v.stock = r[5].as<int>();
  v.is_active = r[6].as<bool>();
  v.created_at = r[7].as<std::string>();
  v.updated_at = r[8].as<std::string>();
  v.service_active = r[9].as<bool>();
  v.vendor_active = r[10].as<bool>();
  v.vendor_user_id = r[11].as<std::string>();
  return v;
}

void plan_for_actual_parameters(Tx& tx) {
  count_statement();
  tx.raw().exec0("SET LOCAL plan_cache_mode = force_custom_plan");
}

}  // namespace

std::string like_pattern(std::string_view term) {
  std::string out = "%";
  for (char c : term) {
    if (c == '%' || c == '_' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('%');
  return out;
}

namespace services {

Page<ServiceRow> list(Tx& tx, const ServiceQuery& q, const PageRequest& page) {
  plan_for_actual_parameters(tx);
  // Absent filters are bound as '' (the statements treat '' as "no filter").
  const std::string pattern = q.search && !q.search->empty() ? like_pattern(*q.search) : "";
  auto res = tx.exec(kListServices, q.viewer_vendor_user_id.value_or(""), q.vendor_id.value_or(""),
                     pattern, page.page_size, page.offset());
  return page_from<ServiceRow>(
      res, [](const pqxx::row& r) { return service_from(r); }, 8);
}

std::optional<ServiceRow> find(Tx& tx, const std::string& id) {
  auto res = tx.exec(kFindService, id);
  if (res.empty()) return std::nullopt;
  return service_from(res[0]);
}

ServiceRow insert(Tx& tx, const std::string& vendor_id, const std::string& name,
                  const std::string& description) {
  return service_from(tx.exec(kInsertService, vendor_id, name, description)[0]);
}

std::optional<ServiceRow> update(Tx& tx, const std::string& id, const std::string& name,
                                 const std::string& description) {
  auto res = tx.exec(kUpdateService, id, name, description);
  if (res.empty()) return std::nullopt;
  return service_from(res[0]);
}

void deactivate(Tx& tx, const std::string& id) {
  tx.exec(kDeactivateService, id);
}

}  // namespace services

namespace variants {

std::vector<VariantRow> of_service(Tx& tx, const std::string& service_id) {
  std::vector<VariantRow> out;
  for (const auto& r : tx.exec(kVariantsOfService, service_id)) out.push_back(variant_from(r));
  return out;
}

Page<VariantRow> list(Tx& tx, const std::optional<std::string>& service_id,
                      const std::optional<std::string>& viewer_user_id, const PageRequest& page) {
  plan_for_actual_parameters(tx);
  auto res = tx.exec(kListVariants, service_id.value_or(""), viewer_user_id.value_or(""),
                     page.page_size, page.offset());
  return page_from<VariantRow>(
      res, [](const pqxx::row& r) { return variant_from(r); }, 12);
}

std::optional<VariantRow> find(Tx& tx, int64_t id) {
  auto res = tx.exec(kFindVariant, id);
  if (res.empty()) return std::nullopt;
  return variant_from(res[0]);
}

Result<VariantRow> insert(Tx& tx, const std::string& service_id, const NewVariant& v) {
  if (!tx.exec(kVariantNameTaken, service_id, v.name, 0).empty()) {
    return Error::make(ErrorCode::conflict, "name");
  }
  return variant_from(tx.exec(kInsertVariant, service_id, v.name, v.price.to_string(),
                              v.estimated_minutes, v.stock)[0]);
}

Result<VariantRow> update(Tx& tx, int64_t id, const NewVariant& v) {
  auto current = find(tx, id);
  if (!current) return Error::not_found();
  if (!tx.exec(kVariantNameTaken, current->service_id, v.name, id).empty()) {
    return Error::make(ErrorCode::conflict, "name");
  }
  auto res = tx.exec(kUpdateVariant, id, v.name, v.price.to_string(), v.estimated_minutes);
  return variant_from(res[0]);
}

void deactivate(Tx& tx, int64_t id) {
  tx.exec(kDeactivateVariant, id);
}

}  // namespace variants

}  // namespace marketlink::persistence
