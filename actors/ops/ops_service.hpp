// What the operator console, the ops API and /readyz read: readiness (the health prober's
// state), and from PostgreSQL the overview's counts, the payments board, and the audit row every
// guarded action writes. Pool jobs, not an actor; the HTTP layer only serialises what these return.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "actors/runtime/runtime.hpp"
#include "persistence/sql/ops.hpp"

namespace marketlink::actors {

// Each probe: nullopt when it answered, otherwise why not.
struct Readiness {
  std::optional<std::string> postgresql;
  std::optional<std::string> redis;
  bool ok() const { return !postgresql && !redis; }
};

struct PaymentsBoard {
  std::vector<persistence::ops::AttentionPayment> needs_attention;
  std::vector<persistence::ops::PendingOrder> pending_orders;
  std::vector<persistence::ops::DeadJob> dead_jobs;
  std::vector<persistence::ops::Reconciliation> reconciliations;
};

class OpsService {
 public:
  explicit OpsService(Runtime& runtime) : runtime_(runtime) {}

  // PostgreSQL and Redis as the health prober last found them; `done` runs at once.
  void readiness(std::function<void(Readiness)> done);
  void redis_reachable(std::function<void(bool)> done);
  void counts(Callback<persistence::ops::Counts> done);
  // At most `limit` rows of each list.
  void payments_board(int limit, Callback<PaymentsBoard> done);
  // One audit_log row: who did what to which target, with what result.
  void audit(std::string actor_id, std::string action, std::string target, std::string result,
             Callback<Unit> done);

 private:
  Runtime& runtime_;
};

}  // namespace marketlink::actors
