// The outbox of after-payment jobs (table outbox): claimed with a lease, retried with back-off,
// dead after too many attempts. Every write is conditional on the current state.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "persistence/result.hpp"
#include "persistence/tx.hpp"

namespace marketlink::persistence {

namespace outbox {

struct Job {
  int64_t id = 0;
  std::string kind;  // invoice | workflow_start
  std::string order_id;
  int attempts = 0;  // including this one
};

struct Claimed {
  std::vector<Job> jobs;     // to run now
  std::vector<Job> gave_up;  // due again after max_attempts attempts: dead now
};
// Claims up to `limit` due jobs for `lease_seconds` (another worker skips them meanwhile); each
// claim counts as an attempt, and a job already tried `max_attempts` times goes dead instead.
Claimed claim_due(Tx& tx, int limit, int lease_seconds, int max_attempts);
// Extends the lease of jobs still running here to `lease_seconds` from now.
void renew(Tx& tx, const std::vector<int64_t>& ids, int lease_seconds);
void mark_done(Tx& tx, const std::vector<int64_t>& ids);
// Schedules a retry after `delay_seconds`, or gives up (state dead) once attempts reach
// `max_attempts`. Returns true when the job is dead.
bool mark_failed(Tx& tx, int64_t id, const std::string& error, int delay_seconds, int max_attempts);
// A dead job goes back to pending with a fresh attempt budget; false when it was not dead.
bool retry_dead(Tx& tx, int64_t id);
long long pending_count(Tx& tx);

}  // namespace outbox

}  // namespace marketlink::persistence
