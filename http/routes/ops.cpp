// /healthz and /readyz.
#include "http/handler_support.hpp"

namespace marketlink::http {
namespace {

// 503 while PostgreSQL or Redis does not answer, and while the process drains before stopping.
void readyz(App& app, RequestPtr, Responder respond) {
  app.ops.readiness(
      [draining = app.draining->load(), respond = std::move(respond)](const actors::Readiness& r) {
        boost::json::object checks{{"postgresql", r.postgresql.value_or("ok")},
                                   {"redis", r.redis.value_or("ok")}};
        const bool ready = r.ok() && !draining;
        boost::json::object body{{"status", draining ? "draining" : (ready ? "ok" : "unavailable")},
                                 {"checks", std::move(checks)}};
        auto response = json_response(ready ? 200 : 503, body);
        if (!ready) response.headers.emplace_back("Retry-After", "1");
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
