// The catalog: services and their variants, with the visibility and vendor rules of the
// contract. Each call is one transaction on the PostgreSQL pool.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "actors/catalog/page_cache.hpp"
#include "actors/runtime/runtime.hpp"
#include "actors/stock/stock_service.hpp"
#include "persistence/sql/accounts.hpp"
#include "persistence/sql/catalog.hpp"

namespace marketlink::actors {

using persistence::NewVariant;
using persistence::ServiceRow;
using persistence::VariantRow;

struct ServiceDetail {
  ServiceRow service;
  std::vector<VariantRow> variants;
};

struct NewService {
  std::string name;
  std::string description;
  std::vector<NewVariant> variants;
};

// The rules a new service's variants must follow: at least one, and names unique within the
// service. Each failure is added to `errors` under "variants". A pure function: the handler
// runs it on what it parsed, and create_service again before writing anything.
void check_new_variants(const std::vector<NewVariant>& variants, FieldErrors& errors);

// The most bookings a variant may have open: far beyond any repair shop, and far enough below
// the integer limit that giving units back can never overflow (400 above it).
constexpr int kMaxStock = 1000000;
// Variants one service is created with at most (a repair shop's price list, not a data dump).
constexpr std::size_t kMaxVariantsPerService = 100;

struct VariantPatch {
  std::optional<std::string> name;
  std::optional<Money> price;
  std::optional<int> estimated_minutes;
  std::optional<int> stock;
  std::optional<std::string> service;  // must stay the variant's own service
};

// The caller of an endpoint that anonymous users may call.
using Viewer = std::optional<persistence::UserRow>;

Error inactive_vendor_error();
Error duplicate_variant_error();

class Catalog {
 public:
  Catalog(Runtime& runtime, const config::Config& config, StockService& stock)
      : runtime_(runtime),
        stock_(stock),
        pages_(config.catalog_cache_ttl, static_cast<std::size_t>(config.catalog_cache_entries)) {}

  // Rendered pages of the catalog's reads; every successful write below invalidates it (and
  // so must anything else that changes what the catalog shows: a vendor's activation).
  PageCache& pages() { return pages_; }

  void list_services(Viewer viewer, persistence::ServiceQuery query, persistence::PageRequest page,
                     Callback<persistence::Page<ServiceRow>> done);
  void get_service(Viewer viewer, std::string id, Callback<ServiceDetail> done);
  void create_service(persistence::UserRow vendor, NewService in, Callback<ServiceDetail> done);
  void update_service(persistence::UserRow vendor, std::string id, std::optional<std::string> name,
                      std::optional<std::string> description, Callback<ServiceDetail> done);
  void delete_service(persistence::UserRow vendor, std::string id, Callback<Unit> done);

  // All visible variants (?service= narrows), or those of one visible service (404 otherwise).
  void list_variants(Viewer viewer, std::optional<std::string> service_id, bool service_must_exist,
                     persistence::PageRequest page, Callback<persistence::Page<VariantRow>> done);
  void get_variant(Viewer viewer, int64_t id, Callback<VariantRow> done);
  void create_variant(persistence::UserRow vendor, std::string service_id, NewVariant in,
                      Callback<VariantRow> done);
  void update_variant(persistence::UserRow vendor, int64_t id, VariantPatch patch,
                      Callback<VariantRow> done);
  void delete_variant(persistence::UserRow vendor, int64_t id, Callback<Unit> done);

 private:
  // `done`, with the page cache invalidated first when the write succeeded.
  template <class T>
  Callback<T> invalidating(Callback<T> done) {
    return [this, done = std::move(done)](Result<T> r) {
      if (r) pages_.invalidate();
      done(std::move(r));
    };
  }

  Runtime& runtime_;
  StockService& stock_;
  PageCache pages_;
};

}  // namespace marketlink::actors
