// Readiness probes and the console's reads, as pool jobs.
#include "actors/ops/ops_service.hpp"

#include <memory>

#include "actors/runtime/pool_jobs.hpp"
#include "persistence/sql/audit.hpp"

namespace marketlink::actors {

using persistence::Tx;

void OpsService::readiness(std::function<void(Readiness)> done) {
  // The health prober's verdict: no I/O here, so /readyz answers at once even while PostgreSQL
  // is frozen (it says so within HEALTH_INTERVAL_MS plus a probe's two-second bound).
  Readiness r;
  auto& health = runtime_.health();
  if (auto db = health.status(Dependency::postgresql); !db.up) r.postgresql = "unreachable";
  if (auto redis = health.status(Dependency::redis); !redis.up) r.redis = "unreachable";
  done(r);
}

void OpsService::redis_reachable(std::function<void(bool)> done) {
  done(runtime_.health().up(Dependency::redis));
}

void OpsService::counts(Callback<persistence::ops::Counts> done) {
  run_transaction<persistence::ops::Counts>(
      runtime_, "ops counts",
      [](Tx& tx) -> Result<persistence::ops::Counts> { return persistence::ops::counts(tx); },
      std::move(done));
}

void OpsService::payments_board(int limit, Callback<PaymentsBoard> done) {
  run_transaction<PaymentsBoard>(
      runtime_, "ops payments",
      [limit](Tx& tx) -> Result<PaymentsBoard> {
        return PaymentsBoard{persistence::ops::attention_payments(tx, limit),
                             persistence::ops::pending_orders(tx, limit),
                             persistence::ops::dead_jobs(tx, limit),
                             persistence::ops::reconciliations(tx, limit)};
      },
      std::move(done));
}

void OpsService::audit(std::string actor_id, std::string action, std::string target,
                       std::string result, Callback<Unit> done) {
  run_transaction<Unit>(
      runtime_, "audit",
      [actor_id = std::move(actor_id), action = std::move(action), target = std::move(target),
       result = std::move(result)](Tx& tx) -> Result<Unit> {
        persistence::audit::record(tx, actor_id, action, target, result);
        return Unit{};
      },
      std::move(done));
}

}  // namespace marketlink::actors
