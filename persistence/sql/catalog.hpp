// Services and variants: SQL in named prepared statements, rows as plain structs.
// Visibility rules are expressed in the queries so a list costs one statement whatever its size.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "persistence/money.hpp"
#include "persistence/page.hpp"
#include "persistence/result.hpp"
#include "persistence/tx.hpp"

namespace marketlink::persistence {

struct ServiceRow {
  std::string id;
  std::string vendor_id;       // vendor profile id
  std::string vendor_user_id;  // the owning user
  bool vendor_active = false;
  std::string name;
  std::string description;
  bool is_active = true;
  std::string created_at;
};

struct VariantRow {
  int64_t id = 0;
  std::string service_id;
  std::string name;
  Money price;
  int estimated_minutes = 0;
  int stock = 0;
  bool is_active = true;
  std::string created_at;
  std::string updated_at;
  // Of its service, for visibility and ownership checks.
  bool service_active = true;
  bool vendor_active = false;
  std::string vendor_user_id;
};

struct NewVariant {
  std::string name;
  Money price;
  int estimated_minutes = 1;
  int stock = 0;
};

struct ServiceQuery {
  std::optional<std::string> viewer_vendor_user_id;  // a vendor sees only its own services
  std::optional<std::string> vendor_id;              // ?vendor=
  std::optional<std::string> search;                 // ?search=, literal substring
};

// A `search` term as an ILIKE pattern in which % and _ are literal.
std::string like_pattern(std::string_view term);

namespace services {
Page<ServiceRow> list(Tx& tx, const ServiceQuery& query, const PageRequest& page);
std::optional<ServiceRow> find(Tx& tx, const std::string& id);
ServiceRow insert(Tx& tx, const std::string& vendor_id, const std::string& name,
                  const std::string& description);
std::optional<ServiceRow> update(Tx& tx, const std::string& id, const std::string& name,
                                 const std::string& description);
void deactivate(Tx& tx, const std::string& id);
}  // namespace services

namespace variants {
// Live variants of one service.
std::vector<VariantRow> of_service(Tx& tx, const std::string& service_id);
// Live variants visible to the viewer (public ones, plus the viewer's own when a vendor).
Page<VariantRow> list(Tx& tx, const std::optional<std::string>& service_id,
                      const std::optional<std::string>& viewer_user_id, const PageRequest& page);
std::optional<VariantRow> find(Tx& tx, int64_t id);
// ErrorCode::conflict when (service, name) is taken.
Result<VariantRow> insert(Tx& tx, const std::string& service_id, const NewVariant& v);
// Name, price and minutes; never `stock` (v.stock is ignored): only stock::set and the stock
// actor's take/give_back write it, each under the row's lock, so an edit that read the row
// earlier cannot write back a stale figure over another process's reservation.
Result<VariantRow> update(Tx& tx, int64_t id, const NewVariant& v);
void deactivate(Tx& tx, int64_t id);
}  // namespace variants

}  // namespace marketlink::persistence
