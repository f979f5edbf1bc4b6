// /api/v1/services/: services and variants.
#include <boost/json/serialize.hpp>
#include <charconv>

#include "http/handler_support.hpp"
#include "persistence/ids.hpp"

namespace marketlink::http {
namespace {

using actors::NewService;
using actors::ServiceDetail;
using actors::VariantPatch;
using actors::Viewer;
using persistence::ServiceRow;
using persistence::VariantRow;

constexpr int64_t kMaxInt = 2147483647;

boost::json::object variant_json(const VariantRow& v) {
  return {{"id", v.id},
          {"service", v.service_id},
          {"name", v.name},
          {"price", v.price.to_string()},
          {"estimated_minutes", v.estimated_minutes},
          {"stock", v.stock},
          {"created_at", v.created_at},
          {"updated_at", v.updated_at}};
}

boost::json::object service_summary_json(const ServiceRow& s) {
  return {{"id", s.id},
          {"vendor", s.vendor_id},
          {"name", s.name},
          {"description", s.description},
          {"created_at", s.created_at}};
}

boost::json::object service_json(const ServiceDetail& d) {
  boost::json::array variants;
  for (const auto& v : d.variants) variants.push_back(variant_json(v));
  return {{"id", d.service.id},
          {"vendor", d.service.vendor_id},
          {"name", d.service.name},
          {"description", d.service.description},
          {"variants", std::move(variants)},
          {"created_at", d.service.created_at}};
}

std::optional<int> bounded_int(const JsonObject& o, const char* key, FieldErrors& errors,
                               bool required, int64_t min, int64_t max = kMaxInt) {
  auto v = o.integer(key, errors, required);
  if (!v) return std::nullopt;
  if (*v < min) {
    errors.add(key, "Ensure this value is greater than or equal to " + std::to_string(min) + ".");
    return std::nullopt;
  }
  if (*v > max) {
    errors.add(key, "Ensure this value is less than or equal to " + std::to_string(max) + ".");
    return std::nullopt;
  }
  return static_cast<int>(*v);
}

std::optional<Money> price_field(const JsonObject& o, FieldErrors& errors, bool required) {
  auto text = o.decimal_text("price", errors, required);
  if (!text) return std::nullopt;
  auto parsed = parse_money(*text, 10);
  if (!parsed.value) {
    errors.add("price", decimal_problem_message(parsed.problem, 10));
    return std::nullopt;
  }
  if (parsed.value->minor <= 0) {
    errors.add("price", "Ensure this value is greater than or equal to 0.01.");
    return std::nullopt;
  }
  return parsed.value;
}

// The variant fields of a body; `creating` makes name, price and estimated_minutes required.
VariantPatch read_variant(const JsonObject& o, FieldErrors& errors, bool creating) {
  VariantPatch p;
  p.name = o.string("name", errors, {.required = creating, .max_chars = 100});
  p.price = price_field(o, errors, creating);
  p.estimated_minutes = bounded_int(o, "estimated_minutes", errors, creating, 1);
  p.stock = bounded_int(o, "stock", errors, false, 0, actors::kMaxStock);
  return p;
}

persistence::NewVariant to_new(const VariantPatch& p) {
  return {*p.name, *p.price, *p.estimated_minutes, p.stock.value_or(0)};
}

std::optional<int64_t> variant_id(const Request& req) {
  const auto s = req.param("id");
  int64_t id = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), id);
  if (ec != std::errc{} || ptr != s.data() + s.size() || id <= 0) return std::nullopt;
  return id;
}

// ?name=<uuid>: absent → nullopt; malformed → a 400 naming the parameter.
Result<std::optional<std::string>> uuid_query(const Request& req, const char* name) {
  auto v = req.query_param(name);
  if (!v || v->empty()) return std::optional<std::string>();
  if (!is_uuid(*v)) return Error::field(name, "Enter a valid UUID.");
  return std::optional<std::string>(*v);
}

// ---- cached reads ---------------------------------------------------------------------------

using Rendered = std::function<void(Result<std::string>)>;

// A catalog read's key in the page cache: the target as sent (a list's links repeat its query)
// and what the viewer may see — a vendor also sees its own hidden services; every other viewer
// (anonymous, customer, admin) sees the same pages.
std::string page_key(const Request& req, const Viewer& viewer) {
  const bool vendor = viewer && viewer->role == Role::vendor;
  return (vendor ? viewer->id : std::string()) + " " + req.path + "?" + req.query;
}

// Whether an If-None-Match header names `etag` (or is "*"); weak validators compare by value.
bool etag_matches(const std::string* header, const std::string& etag) {
  if (header == nullptr) return false;
  std::string_view rest = *header;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    std::string_view tag = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    while (!tag.empty() && (tag.front() == ' ' || tag.front() == '\t')) tag.remove_prefix(1);
    while (!tag.empty() && (tag.back() == ' ' || tag.back() == '\t')) tag.remove_suffix(1);
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag == "*" || tag == etag) return true;
  }
  return false;
}

// 200 with the page, or 304 when the client holds it already; either way with its ETag.
Response page_response(const Request& req, const actors::CachedPage& page) {
  Response r;
  if (etag_matches(req.header("if-none-match"), page.etag)) {
    r.status = 304;
    r.content_type.clear();
  } else {
    r.body = page.body;
  }
  r.headers.emplace_back("ETag", page.etag);
  // What a viewer sees depends on who it is: shared caches keep nothing, clients revalidate.
  r.headers.emplace_back("Cache-Control", "private, no-cache");
  r.headers.emplace_back("Vary", "Authorization");
  return r;
}

// Serves a catalog read from the page cache, or has `load` render it (then cached).
void serve_page(App& app, const RequestPtr& req, const Responder& respond, const Viewer& viewer,
                const std::function<void(Rendered)>& load) {
  auto key = page_key(*req, viewer);
  auto& pages = app.catalog.pages();
  if (auto hit = pages.find(key)) return respond(page_response(*req, *hit));
  load([&pages, req, respond, key = std::move(key),
        ticket = pages.ticket()](Result<std::string> body) {
    if (!body) return fail(respond, *req, body.error());
    respond(page_response(*req, *pages.store(key, ticket, std::move(*body))));
  });
}

template <class T, class ToJson>
actors::Callback<T> render(Rendered done, ToJson to_json) {
  return [done = std::move(done), to_json](Result<T> r) {
    if (!r) return done(std::move(r).error());
    done(boost::json::serialize(to_json(*r)));
  };
}

template <class Row, class ToJson>
actors::Callback<persistence::Page<Row>> render_page(App& app, const RequestPtr& req,
                                                     persistence::PageRequest page, ToJson to_json,
                                                     Rendered done) {
  return [&app, req, page, to_json, done = std::move(done)](Result<persistence::Page<Row>> r) {
    if (!r) return done(std::move(r).error());
    boost::json::array rows;
    for (const auto& row : r->rows) rows.push_back(to_json(row));
    auto body = paginated(app, *req, page, r->count, std::move(rows));
    if (!body) return done(std::move(body).error());
    done(boost::json::serialize(*body));
  };
}

// ---- services -----------------------------------------------------------------------------

void list_services(App& app, RequestPtr req, Responder respond) {
  optional_user(app, req, respond, [&app, req, respond](Viewer viewer) {
    auto page = page_request(*req);
    if (!page) return fail(respond, *req, page.error());
    auto vendor = uuid_query(*req, "vendor");
    if (!vendor) return fail(respond, *req, vendor.error());
    persistence::ServiceQuery query;
    query.vendor_id = *vendor;
    query.search = req->query_param("search");
    serve_page(app, req, respond, viewer, [&app, req, viewer, query, page = *page](Rendered done) {
      app.catalog.list_services(
          viewer, query, page,
          render_page<ServiceRow>(app, req, page, service_summary_json, std::move(done)));
    });
  });
}

void create_service(App& app, RequestPtr req, Responder respond) {
  require_role(app, req, respond, {Role::vendor}, [&app, req, respond](UserRow vendor) {
    auto body = JsonObject::parse_request(*req);
    if (!body) return fail(respond, *req, body.error());
    FieldErrors errors;
    NewService in;
    auto name = body->string("name", errors, {.required = true, .max_chars = 255});
    auto description = body->string("description", errors, {.required = true});
    JsonObject::ListProblem problem{};
    auto items = body->objects("variants", problem);
    if (items.size() > actors::kMaxVariantsPerService) {
      // Refused before any element is read: the cap bounds the work a body can ask for.
      errors.add("variants", "Ensure this field has no more than " +
                                 std::to_string(actors::kMaxVariantsPerService) + " elements.");
      return fail(respond, *req, std::move(errors).to_error());
    }
    std::vector<std::vector<FieldError>> item_errors;
    bool item_failed = false;
    for (const auto& item : items) {
      if (!item.object) {
        item_errors.push_back({{"non_field_errors",
                                {"Invalid data. Expected a dictionary, but got " + item.type + "."},
                                {}}});
        item_failed = true;
        continue;
      }
      FieldErrors e;
      auto v = read_variant(*item.object, e, true);
      if (e.empty()) {
        in.variants.push_back(to_new(v));
        item_errors.emplace_back();
      } else {
        item_errors.push_back(std::move(e).to_error().fields);
        item_failed = true;
      }
    }
    switch (problem) {
      case JsonObject::ListProblem::missing:
        errors.add("variants", "This field is required.");
        break;
      case JsonObject::ListProblem::null:
        errors.add("variants", "This field may not be null.");
        break;
      case JsonObject::ListProblem::not_a_list:
        errors.add("variants", "Expected a list of items but got type \"" +
                                   body->type_name("variants") + "\".");
        break;
      case JsonObject::ListProblem::none:
        if (!item_failed) actors::check_new_variants(in.variants, errors);
        break;
    }
    if (!errors.empty() || item_failed) {
      Error e = std::move(errors).to_error();
      if (item_failed) e.fields.push_back({"variants", {}, std::move(item_errors)});
      return fail(respond, *req, e);
    }
    in.name = *name;
    in.description = *description;
    app.catalog.create_service(std::move(vendor), std::move(in),
                               reply<ServiceDetail>(req, respond, [](auto& d) {
                                 return json_response(201, service_json(d));
                               }));
  });
}

void get_service(App& app, RequestPtr req, Responder respond) {
  optional_user(app, req, respond, [&app, req, respond](Viewer viewer) {
    auto id = req->param("id");
    if (!is_uuid(id)) return fail(respond, *req, Error::not_found());
    serve_page(app, req, respond, viewer, [&app, viewer, id](Rendered done) {
      app.catalog.get_service(viewer, id, render<ServiceDetail>(std::move(done), service_json));
    });
  });
}

void update_service(App& app, RequestPtr req, Responder respond, bool partial) {
  require_role(app, req, respond, {Role::vendor}, [&app, req, respond, partial](UserRow vendor) {
    auto id = req->param("id");
    if (!is_uuid(id)) return fail(respond, *req, Error::not_found());
    auto body = JsonObject::parse_request(*req);
    if (!body) return fail(respond, *req, body.error());
    FieldErrors errors;
    // `variants` is read-only here: variants are changed through their own endpoints.
    auto name = body->string("name", errors, {.required = !partial, .max_chars = 255});
    auto description = body->string("description", errors, {.required = !partial});
    if (!errors.empty()) return fail(respond, *req, std::move(errors).to_error());
    app.catalog.update_service(
        std::move(vendor), std::move(id), std::move(name), std::move(description),
        reply<ServiceDetail>(req, respond,
                             [](auto& d) { return json_response(200, service_json(d)); }));
  });
}

void delete_service(App& app, RequestPtr req, Responder respond) {
  require_role(app, req, respond, {Role::vendor}, [&app, req, respond](UserRow vendor) {
    auto id = req->param("id");
    if (!is_uuid(id)) return fail(respond, *req, Error::not_found());
    app.catalog.delete_service(std::move(vendor), std::move(id),
                               reply<Unit>(req, respond, [](Unit&) { return no_content(204); }));
  });
}

void service_variants(App& app, RequestPtr req, Responder respond) {
  optional_user(app, req, respond, [&app, req, respond](Viewer viewer) {
    auto id = req->param("id");
    if (!is_uuid(id)) return fail(respond, *req, Error::not_found());
    auto page = page_request(*req);
    if (!page) return fail(respond, *req, page.error());
    serve_page(app, req, respond, viewer, [&app, req, viewer, id, page = *page](Rendered done) {
      app.catalog.list_variants(
          viewer, id, true, page,
          render_page<VariantRow>(app, req, page, variant_json, std::move(done)));
    });
  });
}

// ---- variants -----------------------------------------------------------------------------

void list_variants(App& app, RequestPtr req, Responder respond) {
  optional_user(app, req, respond, [&app, req, respond](Viewer viewer) {
    auto page = page_request(*req);
    if (!page) return fail(respond, *req, page.error());
    auto service = uuid_query(*req, "service");
    if (!service) return fail(respond, *req, service.error());
    serve_page(app, req, respond, viewer,
               [&app, req, viewer, service = *service, page = *page](Rendered done) {
                 app.catalog.list_variants(
                     viewer, service, false, page,
                     render_page<VariantRow>(app, req, page, variant_json, std::move(done)));
               });
  });
}

void create_variant(App& app, RequestPtr req, Responder respond) {
  require_role(app, req, respond, {Role::vendor}, [&app, req, respond](UserRow vendor) {
    auto body = JsonObject::parse_request(*req);
    if (!body) return fail(respond, *req, body.error());
    FieldErrors errors;
    auto service = body->string("service", errors, {.required = true});
    if (service && !is_uuid(*service)) errors.add("service", "Must be a valid UUID.");
    auto v = read_variant(*body, errors, true);
    if (!errors.empty()) return fail(respond, *req, std::move(errors).to_error());
    app.catalog.create_variant(std::move(vendor), *service, to_new(v),
                               reply<VariantRow>(req, respond, [](auto& row) {
                                 return json_response(201, variant_json(row));
                               }));
  });
}

void get_variant(App& app, RequestPtr req, Responder respond) {
  optional_user(app, req, respond, [&app, req, respond](Viewer viewer) {
    auto id = variant_id(*req);
    if (!id) return fail(respond, *req, Error::not_found());
    serve_page(app, req, respond, viewer, [&app, viewer, id = *id](Rendered done) {
      app.catalog.get_variant(viewer, id, render<VariantRow>(std::move(done), variant_json));
    });
  });
}

void update_variant(App& app, RequestPtr req, Responder respond, bool partial) {
  require_role(app, req, respond, {Role::vendor}, [&app, req, respond, partial](UserRow vendor) {
    auto id = variant_id(*req);
    if (!id) return fail(respond, *req, Error::not_found());
    auto body = JsonObject::parse_request(*req);
    if (!body) return fail(respond, *req, body.error());
    FieldErrors errors;
    auto patch = read_variant(*body, errors, !partial);
    patch.service = body->string("service", errors, {});
    if (!errors.empty()) return fail(respond, *req, std::move(errors).to_error());
    app.catalog.update_variant(std::move(vendor), *id, std::move(patch),
                               reply<VariantRow>(req, respond, [](auto& row) {
                                 return json_response(200, variant_json(row));
                               }));
  });
}

void delete_variant(App& app, RequestPtr req, Responder respond) {
  require_role(app, req, respond, {Role::vendor}, [&app, req, respond](UserRow vendor) {
    auto id = variant_id(*req);
    if (!id) return fail(respond, *req, Error::not_found());
    app.catalog.delete_variant(std::move(vendor), *id,
                               reply<Unit>(req, respond, [](Unit&) { return no_content(204); }));
  });
}

}  // namespace

void add_catalog_routes(Router& router, App& app) {
  auto bind_partial = [&app](auto fn, bool partial) {
    return [&app, fn, partial](RequestPtr req, Responder respond) {
      fn(app, std::move(req), std::move(respond), partial);
    };
  };
  router.add("GET", "/api/v1/services/", route(app, list_services));
  router.add("POST", "/api/v1/services/", route(app, create_service));
  router.add("GET", "/api/v1/services/{id}/", route(app, get_service));
  router.add("PUT", "/api/v1/services/{id}/", bind_partial(update_service, false));
  router.add("PATCH", "/api/v1/services/{id}/", bind_partial(update_service, true));
  router.add("DELETE", "/api/v1/services/{id}/", route(app, delete_service));
  router.add("GET", "/api/v1/services/{id}/variants/", route(app, service_variants));
  router.add("GET", "/api/v1/services/variants/", route(app, list_variants));
  router.add("POST", "/api/v1/services/variants/", route(app, create_variant));
  router.add("GET", "/api/v1/services/variants/{id}/", route(app, get_variant));
  router.add("PUT", "/api/v1/services/variants/{id}/", bind_partial(update_variant, false));
  router.add("PATCH", "/api/v1/services/variants/{id}/", bind_partial(update_variant, true));
  router.add("DELETE", "/api/v1/services/variants/{id}/", route(app, delete_variant));
}

}  // namespace marketlink::http
