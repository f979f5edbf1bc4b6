// Readiness probes and the console's reads, as pool jobs.
#include "actors/ops/ops_service.hpp"

#include <memory>
#include <mutex>

#include "actors/runtime/pool_jobs.hpp"
#include "persistence/sql/audit.hpp"

namespace marketlink::actors {

using persistence::Tx;

namespace {

// Collects the two probes and answers once both are in.
struct Probes {
  std::function<void(Readiness)> done;
  std::mutex mutex;
  Readiness result;
  int pending = 2;

  void set(std::optional<std::string> Readiness::*probe, bool ok) {
    std::unique_lock lock(mutex);
    if (!ok) result.*probe = "unreachable";
    if (--pending != 0) return;
    lock.unlock();
    done(result);
  }
};

}  // namespace

void OpsService::readiness(std::function<void(Readiness)> done) {
  auto probes = std::make_shared<Probes>();
  probes->done = std::move(done);
  run_read<Unit>(
      runtime_, "readyz",
      [](Tx& tx) -> Result<Unit> {
        tx.raw().exec("SELECT 1");
        return Unit{};
      },
      [probes](const Result<Unit>& r) { probes->set(&Readiness::postgresql, r.ok()); });
  redis_reachable([probes](bool ok) { probes->set(&Readiness::redis, ok); });
}

void OpsService::redis_reachable(std::function<void(bool)> done) {
  run_redis<Unit>(
      runtime_,
      [](persistence::RedisClient& redis) -> Result<Unit> {
        auto r = redis.command({"PING"});
        if (!r) return std::move(r).error();
        return Unit{};
      },
      [done = std::move(done)](const Result<Unit>& r) { done(r.ok()); });
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
                             persistence::ops::dead_jobs(tx, limit)};
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
