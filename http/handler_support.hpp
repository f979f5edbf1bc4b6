// What every handler uses besides the App (http/app.hpp): authentication and role guards, JSON
// responses, pagination and the serializers of shared objects.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <initializer_list>

#include "actors/services.hpp"
#include "http/app.hpp"
#include "http/error_mapping.hpp"
#include "http/input/json_input.hpp"
#include "http/server/request.hpp"
#include "http/server/router.hpp"

namespace marketlink::http {

Response json_response(int status, const boost::json::value& body);
Response no_content(int status);

// Reports `error` for `request`.
void fail(const Responder& respond, const Request& request, const Error& error);

using persistence::Role;
using persistence::UserRow;

// Authenticates the bearer token, then calls next(user); answers 401 itself otherwise.
void require_user(App& app, const RequestPtr& req, const Responder& respond,
                  std::function<void(UserRow)> next);
// For endpoints open to anonymous users: no Authorization header → nullopt; a bad token is
// still a 401, as in DRF.
void optional_user(App& app, const RequestPtr& req, const Responder& respond,
                   std::function<void(actors::Viewer)> next);
// As require_user, and the user's role must be one of `roles` (403 otherwise).
void require_role(App& app, const RequestPtr& req, const Responder& respond,
                  std::initializer_list<Role> roles, std::function<void(UserRow)> next);

// A route handler from a function of the App, the request and the responder.
inline Handler route(App& app, void (*fn)(App&, RequestPtr, Responder)) {
  return [&app, fn](RequestPtr req, Responder respond) {
    fn(app, std::move(req), std::move(respond));
  };
}

// Turns an actor result into a response: ok → on_ok(value), error → the error envelope.
template <class T, class F>
actors::Callback<T> reply(const RequestPtr& req, const Responder& respond, F on_ok) {
  return [req, respond, on_ok = std::move(on_ok)](Result<T> result) mutable {
    if (!result) return fail(respond, *req, result.error());
    respond(on_ok(result.value()));
  };
}

// The callback of a list: its page as the paginated envelope, each row through `to_json`.
template <class Row, class ToJson>
actors::Callback<persistence::Page<Row>> reply_page(App& app, const RequestPtr& req,
                                                    const Responder& respond,
                                                    persistence::PageRequest page, ToJson to_json);

// ?page and ?page_size (capped at 100). A bad page is 404 "Invalid page.".
Result<persistence::PageRequest> page_request(const Request& req);
// The list envelope with absolute next/previous links; a page past the end is 404.
Result<boost::json::object> paginated(const App& app, const Request& req,
                                      const persistence::PageRequest& page, long long count,
                                      boost::json::array results);

template <class Row, class ToJson>
actors::Callback<persistence::Page<Row>> reply_page(App& app, const RequestPtr& req,
                                                    const Responder& respond,
                                                    persistence::PageRequest page, ToJson to_json) {
  return [&app, req, respond, page, to_json](Result<persistence::Page<Row>> result) {
    if (!result) return fail(respond, *req, result.error());
    boost::json::array rows;
    for (const auto& r : result->rows) rows.push_back(to_json(r));
    auto body = paginated(app, *req, page, result->count, std::move(rows));
    if (!body) return fail(respond, *req, body.error());
    respond(json_response(200, *body));
  };
}

boost::json::object user_json(const UserRow& u);
boost::json::object vendor_profile_json(const persistence::VendorProfileRow& p);

void add_account_routes(Router& router, App& app);
void add_admin_routes(Router& router, App& app);
void add_ops_routes(Router& router, App& app);
void add_catalog_routes(Router& router, App& app);
void add_order_routes(Router& router, App& app);
void add_payment_routes(Router& router, App& app);
void add_console_routes(Router& router, App& app);
void add_docs_routes(Router& router, App& app);
void add_cluster_routes(Router& router, App& app);
// The actor snapshot a member publishes for the others (the tree, its 50 busiest stock actors).
boost::json::object published_actors(std::vector<actors::ActorView> all, double uptime);
// The live ops stream (/api/v1/ops/stream/), for HttpServer::set_stream.
StreamEndpoint ops_stream(App& app);

}  // namespace marketlink::http
