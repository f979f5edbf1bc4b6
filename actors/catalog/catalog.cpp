// Catalog rules: who sees what, who may write what.
#include "actors/catalog/catalog.hpp"

#include <set>

#include "actors/runtime/pool_jobs.hpp"
#include "persistence/sql/audit.hpp"
#include "persistence/sql/orders.hpp"
#include "persistence/sql/stock.hpp"

namespace marketlink::actors {
namespace {

namespace services = persistence::services;
namespace variants = persistence::variants;
using persistence::Tx;
using persistence::UserRow;

bool owns(const Viewer& viewer, const std::string& owner_user_id) {
  return viewer && viewer->id == owner_user_id;
}

// Hidden services (deleted, or of an inactive vendor) exist only for their owner.
bool visible(const ServiceRow& s, const Viewer& viewer) {
  return (s.is_active && s.vendor_active) || owns(viewer, s.vendor_user_id);
}

bool visible(const VariantRow& v, const Viewer& viewer) {
  return v.is_active && ((v.service_active && v.vendor_active) || owns(viewer, v.vendor_user_id));
}

// The writer's vendor profile must be active; returns its id.
Result<std::string> active_vendor(Tx& tx, const UserRow& user) {
  auto profile = persistence::vendor_profiles::find_by_user(tx, user.id);
  if (!profile || !profile->is_active) return inactive_vendor_error();
  return profile->id;
}

// A service the vendor may write: visible to it (404 otherwise) and its own (403 otherwise).
Result<ServiceRow> writable_service(Tx& tx, const UserRow& user, const std::string& id) {
  auto active = active_vendor(tx, user);
  if (!active) return std::move(active).error();
  auto s = services::find(tx, id);
  if (!s || !visible(*s, user)) return Error::not_found();
  if (s->vendor_user_id != user.id) return Error::forbidden();
  return std::move(*s);
}

Result<VariantRow> writable_variant(Tx& tx, const UserRow& user, int64_t id) {
  auto active = active_vendor(tx, user);
  if (!active) return std::move(active).error();
  auto v = variants::find(tx, id);
  if (!v || !visible(*v, user)) return Error::not_found();
  if (v->vendor_user_id != user.id) return Error::forbidden();
  return std::move(*v);
}

// A rule refused by the database itself (trigger) means the vendor lost its activation while
// the request ran; a unique violation is the (service, name) rule.
template <class T>
Callback<T> translate(Callback<T> done) {
  return [done = std::move(done)](Result<T> r) {
    if (!r && r.error().reason == Reason::inactive_vendor) return done(inactive_vendor_error());
    if (!r && r.error().reason == Reason::variant_moved) {
      return done(Error::field("service", "A variant cannot be moved to another service."));
    }
    if (!r && r.error().code == ErrorCode::conflict) return done(duplicate_variant_error());
    done(std::move(r));
  };
}

}  // namespace

Error inactive_vendor_error() {
  return Error::make(ErrorCode::forbidden,
                     "Your vendor account must be active to perform this action.",
                     Reason::inactive_vendor);
}

Error duplicate_variant_error() {
  return Error::field("non_field_errors", "The fields service, name must make a unique set.");
}

void Catalog::list_services(Viewer viewer, persistence::ServiceQuery query,
                            persistence::PageRequest page,
                            Callback<persistence::Page<ServiceRow>> done) {
  if (viewer && viewer->role == persistence::Role::vendor) query.viewer_vendor_user_id = viewer->id;
  run_transaction<persistence::Page<ServiceRow>>(
      runtime_, "list services",
      [query = std::move(query), page](Tx& tx) -> Result<persistence::Page<ServiceRow>> {
        return services::list(tx, query, page);
      },
      std::move(done));
}

void Catalog::get_service(Viewer viewer, std::string id, Callback<ServiceDetail> done) {
  run_transaction<ServiceDetail>(
      runtime_, "get service",
      [viewer = std::move(viewer), id = std::move(id)](Tx& tx) -> Result<ServiceDetail> {
        auto s = services::find(tx, id);
        if (!s || !visible(*s, viewer)) return Error::not_found();
        auto vs = variants::of_service(tx, s->id);
        return ServiceDetail{std::move(*s), std::move(vs)};
      },
      std::move(done));
}

void check_new_variants(const std::vector<NewVariant>& variants, FieldErrors& errors) {
  if (variants.empty()) return errors.add("variants", "At least one variant is required.");
  if (variants.size() > kMaxVariantsPerService) {
    return errors.add("variants", "Ensure this field has no more than " +
                                      std::to_string(kMaxVariantsPerService) + " elements.");
  }
  std::set<std::string> names;
  for (const auto& v : variants) {
    if (!names.insert(v.name).second) {
      return errors.add("variants", "Variant names must be unique within a service.");
    }
  }
}

void Catalog::create_service(UserRow vendor, NewService in, Callback<ServiceDetail> done) {
  FieldErrors rules;
  check_new_variants(in.variants, rules);
  if (!rules.empty()) return done(std::move(rules).to_error());
  run_transaction<ServiceDetail>(
      runtime_, "create service",
      [vendor = std::move(vendor), in = std::move(in)](Tx& tx) -> Result<ServiceDetail> {
        auto vendor_id = active_vendor(tx, vendor);
        if (!vendor_id) return std::move(vendor_id).error();
        // One transaction: the service and all its variants, or nothing.
        ServiceDetail out{services::insert(tx, *vendor_id, in.name, in.description), {}};
        for (const auto& v : in.variants) {
          auto row = variants::insert(tx, out.service.id, v);
          if (!row) return std::move(row).error();
          out.variants.push_back(std::move(*row));
        }
        return out;
      },
      invalidating<ServiceDetail>(translate<ServiceDetail>(std::move(done))));
}

void Catalog::update_service(UserRow vendor, std::string id, std::optional<std::string> name,
                             std::optional<std::string> description, Callback<ServiceDetail> done) {
  run_transaction<ServiceDetail>(
      runtime_, "update service",
      [vendor = std::move(vendor), id = std::move(id), name = std::move(name),
       description = std::move(description)](Tx& tx) -> Result<ServiceDetail> {
        auto s = writable_service(tx, vendor, id);
        if (!s) return std::move(s).error();
        auto updated =
            services::update(tx, id, name.value_or(s->name), description.value_or(s->description));
        if (!updated) return Error::not_found();
        auto vs = variants::of_service(tx, id);
        return ServiceDetail{std::move(*updated), std::move(vs)};
      },
      invalidating<ServiceDetail>(translate<ServiceDetail>(std::move(done))));
}

void Catalog::delete_service(UserRow vendor, std::string id, Callback<Unit> done) {
  run_transaction<Unit>(
      runtime_, "delete service",
      [vendor = std::move(vendor), id = std::move(id)](Tx& tx) -> Result<Unit> {
        auto s = writable_service(tx, vendor, id);
        if (!s) return std::move(s).error();
        services::deactivate(tx, id);  // soft: orders and payments keep their service
        return Unit{};
      },
      invalidating<Unit>(std::move(done)));
}

void Catalog::list_variants(Viewer viewer, std::optional<std::string> service_id,
                            bool service_must_exist, persistence::PageRequest page,
                            Callback<persistence::Page<VariantRow>> done) {
  run_transaction<persistence::Page<VariantRow>>(
      runtime_, "list variants",
      [viewer = std::move(viewer), service_id = std::move(service_id), service_must_exist,
       page](Tx& tx) -> Result<persistence::Page<VariantRow>> {
        if (service_must_exist) {
          auto s = services::find(tx, *service_id);
          if (!s || !visible(*s, viewer)) return Error::not_found();
        }
        std::optional<std::string> viewer_id;
        if (viewer) viewer_id = viewer->id;
        return variants::list(tx, service_id, viewer_id, page);
      },
      std::move(done));
}

void Catalog::get_variant(Viewer viewer, int64_t id, Callback<VariantRow> done) {
  run_transaction<VariantRow>(
      runtime_, "get variant",
      [viewer = std::move(viewer), id](Tx& tx) -> Result<VariantRow> {
        auto v = variants::find(tx, id);
        if (!v || !visible(*v, viewer)) return Error::not_found();
        return std::move(*v);
      },
      std::move(done));
}

void Catalog::create_variant(UserRow vendor, std::string service_id, NewVariant in,
                             Callback<VariantRow> done) {
  run_transaction<VariantRow>(
      runtime_, "create variant",
      [vendor = std::move(vendor), service_id = std::move(service_id),
       in = std::move(in)](Tx& tx) -> Result<VariantRow> {
        auto active = active_vendor(tx, vendor);
        if (!active) return std::move(active).error();
        auto s = services::find(tx, service_id);
        if (!s || !visible(*s, vendor) || !s->is_active) {
          return Error::field("service",
                              "Invalid pk \"" + service_id + "\" - object does not exist.");
        }
        if (s->vendor_user_id != vendor.id) return Error::forbidden("You do not own this service");
        return variants::insert(tx, service_id, in);
      },
      invalidating<VariantRow>(translate<VariantRow>(std::move(done))));
}

void Catalog::update_variant(UserRow vendor, int64_t id, VariantPatch patch,
                             Callback<VariantRow> done) {
  // Every stock change goes through the variant's stock actor, serialised with reservations, so
  // Redis and PostgreSQL move together; the whole update is that actor's one transaction.
  auto row = std::make_shared<std::optional<VariantRow>>();
  auto change = [vendor = std::move(vendor), id, patch = std::move(patch),
                 row](Tx& tx) -> Result<StockChange> {
    auto v = writable_variant(tx, vendor, id);
    if (!v) return std::move(v).error();
    if (patch.service && *patch.service != v->service_id) {
      return Error::field("service", "A variant cannot be moved to another service.");
    }
    NewVariant next{patch.name.value_or(v->name), patch.price.value_or(v->price),
                    patch.estimated_minutes.value_or(v->estimated_minutes), v->stock};
    if (patch.stock) {
      auto moved = persistence::stock::set(tx, id, *patch.stock);
      if (!moved) return Error::not_found();
      next.stock = moved->second;
      auto updated = variants::update(tx, id, next);
      if (!updated) return std::move(updated).error();
      *row = std::move(*updated);
      const int delta = moved->second - moved->first;
      // The stock ledger of vendor edits: initial + edits == stock + active orders.
      persistence::audit::record(tx, vendor.id, "variant.stock_edit",
                                 "variant:" + std::to_string(id), std::to_string(delta));
      return StockChange{delta, moved->second};
    }
    auto updated = variants::update(tx, id, next);
    if (!updated) return std::move(updated).error();
    *row = std::move(*updated);
    return StockChange{0, (*row)->stock};
  };
  stock_.exclusive(id, std::move(change),
                   [row, done = invalidating<VariantRow>(translate<VariantRow>(std::move(done)))](
                       Result<StockChange> r) {
                     if (!r) return done(std::move(r).error());
                     done(std::move(**row));
                   });
}

void Catalog::delete_variant(UserRow vendor, int64_t id, Callback<Unit> done) {
  run_transaction<Unit>(
      runtime_, "delete variant",
      [vendor = std::move(vendor), id](Tx& tx) -> Result<Unit> {
        auto v = writable_variant(tx, vendor, id);
        if (!v) return std::move(v).error();
        variants::deactivate(tx, id);
        return Unit{};
      },
      invalidating<Unit>(std::move(done)));
}

}  // namespace marketlink::actors
