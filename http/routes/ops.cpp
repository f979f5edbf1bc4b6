// /healthz and /readyz.
#include <atomic>
#include <mutex>

#include "http/handler_support.hpp"

namespace marketlink::http {
namespace {

// Collects the PostgreSQL and Redis probes and answers once both are in.
struct Readiness {
  Responder respond;
  std::mutex mutex;
  std::optional<std::string> db_error, redis_error;
  int pending = 2;

  void done(bool is_db, std::optional<std::string> error) {
    std::lock_guard lock(mutex);
    (is_db ? db_error : redis_error) = std::move(error);
    if (--pending != 0) return;
    boost::json::object body;
    boost::json::object checks{{"postgresql", db_error ? *db_error : "ok"},
                               {"redis", redis_error ? *redis_error : "ok"}};
    const bool ok = !db_error && !redis_error;
    body["status"] = ok ? "ok" : "unavailable";
    body["checks"] = std::move(checks);
    respond(json_response(ok ? 200 : 503, body));
  }
};

void readyz(App& app, RequestPtr, Responder respond) {
  auto state = std::make_shared<Readiness>();
  state->respond = std::move(respond);
  actors::run_transaction<Unit>(
      app.runtime, "readyz",
      [](persistence::Tx& tx) -> Result<Unit> {
        tx.raw().exec("SELECT 1");
        return Unit{};
      },
      [state](Result<Unit> r) {
        state->done(true, r ? std::nullopt : std::optional<std::string>("unreachable"));
      });
  ping_redis(app, [state](bool ok) {
    state->done(false, ok ? std::nullopt : std::optional<std::string>("unreachable"));
  });
}

}  // namespace

void ping_redis(App& app, std::function<void(bool)> done) {
  actors::run_redis<Unit>(
      app.runtime,
      [](persistence::RedisClient& redis) -> Result<Unit> {
        auto r = redis.command({"PING"});
        if (!r) return std::move(r).error();
        return Unit{};
      },
      [done = std::move(done)](Result<Unit> r) { done(r.ok()); });
}

void add_ops_routes(Router& router, App& app) {
  router.add("GET", "/healthz", [](RequestPtr, Responder respond) {
    respond(json_response(200, boost::json::object{{"status", "ok"}}));
  });
  router.add("GET", "/readyz",
             [&app](RequestPtr r, Responder s) { readyz(app, std::move(r), std::move(s)); });
}

}  // namespace marketlink::http
