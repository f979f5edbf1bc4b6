// /api/v1/admin/: vendor activation and user management (role admin only).
#include "http/handler_support.hpp"
#include "persistence/ids.hpp"

namespace marketlink::http {
namespace {

// Admins also see whether a user is active.
boost::json::object admin_user_json(const UserRow& u) {
  auto j = user_json(u);
  j["is_active"] = u.is_active;
  return j;
}

void list_vendors(App& app, RequestPtr req, Responder respond) {
  require_role(app, req, respond, {Role::admin}, [&app, req, respond](UserRow) {
    std::optional<bool> active;
    if (auto v = req->query_param("is_active")) {
      if (*v == "true" || *v == "True" || *v == "1") {
        active = true;
      } else if (*v == "false" || *v == "False" || *v == "0") {
        active = false;
      } else if (!v->empty()) {
        return fail(respond, *req, Error::field("is_active", "Must be a valid boolean."));
      }
    }
    auto page = page_request(*req);
    if (!page) return fail(respond, *req, page.error());
    app.accounts.list_vendors(
        active, *page,
        reply_page<persistence::VendorProfileRow>(app, req, respond, *page, vendor_profile_json));
  });
}

void set_vendor_active(App& app, RequestPtr req, Responder respond, bool active) {
  require_role(app, req, respond, {Role::admin}, [&app, req, respond, active](UserRow admin) {
    auto id = req->param("id");
    if (!is_uuid(id)) return fail(respond, *req, Error::not_found());
    auto done = reply<persistence::VendorProfileRow>(
        req, respond, [](auto& p) { return json_response(200, vendor_profile_json(p)); });
    // A vendor's activation shows or hides its services: the cached catalog pages go.
    app.accounts.set_vendor_active(std::move(admin), std::move(id), active,
                                   [&app, done](Result<persistence::VendorProfileRow> r) {
                                     if (r) app.catalog.pages().invalidate();
                                     done(std::move(r));
                                   });
  });
}

void list_users(App& app, RequestPtr req, Responder respond) {
  require_role(app, req, respond, {Role::admin}, [&app, req, respond](UserRow) {
    std::optional<std::string> role = req->query_param("role");
    if (role && role->empty()) role.reset();
    if (role && *role != "customer" && *role != "vendor" && *role != "admin") {
      return fail(respond, *req,
                  Error::field("role", "Select a valid choice. " + *role +
                                           " is not one of the available choices."));
    }
    auto page = page_request(*req);
    if (!page) return fail(respond, *req, page.error());
    app.accounts.list_users(role, *page,
                            reply_page<UserRow>(app, req, respond, *page, admin_user_json));
  });
}

void set_user_active(App& app, RequestPtr req, Responder respond, bool active) {
  require_role(app, req, respond, {Role::admin}, [&app, req, respond, active](UserRow admin) {
    auto id = req->param("id");
    if (!is_uuid(id)) return fail(respond, *req, Error::not_found());
    app.accounts.set_user_active(std::move(admin), std::move(id), active,
                                 reply<UserRow>(req, respond, [](UserRow& u) {
                                   return json_response(200, admin_user_json(u));
                                 }));
  });
}

}  // namespace

void add_admin_routes(Router& router, App& app) {
  router.add("GET", "/api/v1/admin/vendors/",
             [&app](RequestPtr r, Responder s) { list_vendors(app, std::move(r), std::move(s)); });
  router.add("POST", "/api/v1/admin/vendors/{id}/activate/", [&app](RequestPtr r, Responder s) {
    set_vendor_active(app, std::move(r), std::move(s), true);
  });
  router.add("POST", "/api/v1/admin/vendors/{id}/deactivate/", [&app](RequestPtr r, Responder s) {
    set_vendor_active(app, std::move(r), std::move(s), false);
  });
  router.add("GET", "/api/v1/admin/users/",
             [&app](RequestPtr r, Responder s) { list_users(app, std::move(r), std::move(s)); });
  router.add("POST", "/api/v1/admin/users/{id}/activate/", [&app](RequestPtr r, Responder s) {
    set_user_active(app, std::move(r), std::move(s), true);
  });
  router.add("POST", "/api/v1/admin/users/{id}/deactivate/", [&app](RequestPtr r, Responder s) {
    set_user_active(app, std::move(r), std::move(s), false);
  });
}

}  // namespace marketlink::http
