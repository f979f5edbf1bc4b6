// /api/v1/auth/ and /api/v1/vendors/: registration, tokens, profiles.
#include "http/handler_support.hpp"

namespace marketlink::http {
namespace {

using actors::RegisterInput;
using actors::TokenPair;

boost::json::object tokens_json(const TokenPair& t) {
  return {{"refresh", t.refresh}, {"access", t.access}};
}

const StringRule kPassword{
    .required = true, .allow_blank = false, .max_chars = 4096, .trim = false};

void register_user(App& app, RequestPtr req, Responder respond) {
  auto body = JsonObject::parse_request(*req);
  if (!body) return fail(respond, *req, body.error());
  FieldErrors errors;
  RegisterInput in;
  const StringRule optional_text{.allow_blank = true};
  in.email = body->string("email", errors, {.allow_blank = true, .max_chars = 254});
  // The same cap as at login: a password is hashed, and hashing work must stay bounded.
  const StringRule password{.allow_blank = true, .max_chars = kPassword.max_chars, .trim = false};
  in.password = body->string("password", errors, password);
  in.password2 = body->string("password2", errors, password);
  in.role = body->string("role", errors, {.allow_blank = true});
  in.first_name = body->string("first_name", errors, optional_text);
  in.last_name = body->string("last_name", errors, optional_text);
  in.business_name = body->string("business_name", errors, optional_text);
  in.address = body->string("address", errors, optional_text);
  actors::validate_registration(in, errors);
  if (!errors.empty()) return fail(respond, *req, std::move(errors).to_error());
  app.accounts.register_user(
      std::move(in), address_bucket(req->remote_address),
      reply<actors::RegisterOutput>(req, respond, [](actors::RegisterOutput& out) {
        return json_response(201, boost::json::object{{"user", user_json(out.user)},
                                                      {"tokens", tokens_json(out.tokens)}});
      }));
}

void login(App& app, RequestPtr req, Responder respond) {
  auto body = JsonObject::parse_request(*req);
  if (!body) return fail(respond, *req, body.error());
  FieldErrors errors;
  auto email = body->string("email", errors, {.required = true, .max_chars = 254});
  auto password = body->string("password", errors, kPassword);
  if (!errors.empty()) return fail(respond, *req, std::move(errors).to_error());
  app.accounts.login(*email, *password, address_bucket(req->remote_address),
                     reply<TokenPair>(req, respond, [](TokenPair& t) {
                       return json_response(200, tokens_json(t));
                     }));
}

void refresh(App& app, RequestPtr req, Responder respond) {
  auto body = JsonObject::parse_request(*req);
  if (!body) return fail(respond, *req, body.error());
  FieldErrors errors;
  auto token = body->string("refresh", errors, {.required = true, .trim = false});
  if (!errors.empty()) return fail(respond, *req, std::move(errors).to_error());
  app.accounts.refresh(*token, reply<TokenPair>(req, respond, [](TokenPair& t) {
    return json_response(200, boost::json::object{{"access", t.access}, {"refresh", t.refresh}});
  }));
}

void logout(App& app, RequestPtr req, Responder respond) {
  require_user(app, req, respond, [&app, req, respond](UserRow user) {
    auto body = JsonObject::parse_request(*req);
    if (!body) return fail(respond, *req, body.error());
    FieldErrors errors;
    auto token = body->string("refresh", errors, {.required = true, .trim = false});
    if (!errors.empty()) return fail(respond, *req, std::move(errors).to_error());
    app.accounts.logout(std::move(user), *token,
                        reply<Unit>(req, respond, [](Unit&) { return no_content(205); }));
  });
}

void get_profile(App& app, RequestPtr req, Responder respond) {
  require_user(app, req, respond,
               [respond](UserRow user) { respond(json_response(200, user_json(user))); });
}

void update_profile(App& app, RequestPtr req, Responder respond, bool partial) {
  require_user(app, req, respond, [&app, req, respond, partial](UserRow user) {
    auto body = JsonObject::parse_request(*req);
    if (!body) return fail(respond, *req, body.error());
    FieldErrors errors;
    actors::ProfilePatch patch;
    // `role`, `id` and `date_joined` are read-only: ignored when sent.
    patch.email = body->string("email", errors, {.required = !partial, .max_chars = 254});
    patch.first_name = body->string("first_name", errors, {.allow_blank = true, .max_chars = 150});
    patch.last_name = body->string("last_name", errors, {.allow_blank = true, .max_chars = 150});
    if (patch.email && !actors::valid_email(*patch.email))
      errors.add("email", "Enter a valid email address.");
    if (!errors.empty()) return fail(respond, *req, std::move(errors).to_error());
    app.accounts.update_profile(
        std::move(user), std::move(patch),
        reply<UserRow>(req, respond, [](UserRow& u) { return json_response(200, user_json(u)); }));
  });
}

void get_vendor_profile(App& app, RequestPtr req, Responder respond) {
  require_role(app, req, respond, {Role::vendor}, [&app, req, respond](UserRow user) {
    app.accounts.vendor_profile(std::move(user),
                                reply<persistence::VendorProfileRow>(req, respond, [](auto& p) {
                                  return json_response(200, vendor_profile_json(p));
                                }));
  });
}

void update_vendor_profile(App& app, RequestPtr req, Responder respond, bool partial) {
  require_role(app, req, respond, {Role::vendor}, [&app, req, respond, partial](UserRow user) {
    auto body = JsonObject::parse_request(*req);
    if (!body) return fail(respond, *req, body.error());
    FieldErrors errors;
    actors::VendorPatch patch;
    // `is_active` is read-only here: only an admin activates a vendor.
    patch.business_name =
        body->string("business_name", errors, {.required = !partial, .max_chars = 255});
    patch.address = body->string("address", errors, {.required = !partial});
    if (!errors.empty()) return fail(respond, *req, std::move(errors).to_error());
    app.accounts.update_vendor_profile(
        std::move(user), std::move(patch),
        reply<persistence::VendorProfileRow>(
            req, respond, [](auto& p) { return json_response(200, vendor_profile_json(p)); }));
  });
}

}  // namespace

void add_account_routes(Router& router, App& app) {
  router.add("POST", "/api/v1/auth/register/", route(app, register_user));
  router.add("POST", "/api/v1/auth/login/", route(app, login));
  router.add("POST", "/api/v1/auth/token/refresh/", route(app, refresh));
  router.add("POST", "/api/v1/auth/logout/", route(app, logout));
  router.add("GET", "/api/v1/auth/profile/", route(app, get_profile));
  router.add("PUT", "/api/v1/auth/profile/", route(app, [](App& a, RequestPtr r, Responder s) {
               update_profile(a, std::move(r), std::move(s), false);
             }));
  router.add("PATCH", "/api/v1/auth/profile/", route(app, [](App& a, RequestPtr r, Responder s) {
               update_profile(a, std::move(r), std::move(s), true);
             }));
  router.add("GET", "/api/v1/vendors/profile/", route(app, get_vendor_profile));
  router.add("PUT", "/api/v1/vendors/profile/", route(app, [](App& a, RequestPtr r, Responder s) {
               update_vendor_profile(a, std::move(r), std::move(s), false);
             }));
  router.add("PATCH", "/api/v1/vendors/profile/", route(app, [](App& a, RequestPtr r, Responder s) {
               update_vendor_profile(a, std::move(r), std::move(s), true);
             }));
}

}  // namespace marketlink::http
