// /healthz and /readyz.
#include "http/handler_support.hpp"

namespace marketlink::http {
namespace {

void readyz(App& app, RequestPtr, Responder respond) {
  app.ops.readiness([respond = std::move(respond)](const actors::Readiness& r) {
    boost::json::object checks{{"postgresql", r.postgresql.value_or("ok")},
                               {"redis", r.redis.value_or("ok")}};
    boost::json::object body{{"status", r.ok() ? "ok" : "unavailable"},
                             {"checks", std::move(checks)}};
    auto response = json_response(r.ok() ? 200 : 503, body);
    if (!r.ok()) response.headers.emplace_back("Retry-After", "1");
    respond(std::move(response));
  });
}

}  // namespace

void add_ops_routes(Router& router, App& app) {
  router.add("GET", "/healthz", [](RequestPtr, Responder respond) {
    respond(json_response(200, boost::json::object{{"status", "ok"}}));
  });
  router.add("GET", "/readyz",
             [&app](RequestPtr r, Responder s) { readyz(app, std::move(r), std::move(s)); });
}

}  // namespace marketlink::http
