// SQL for the outbox of after-payment jobs (table outbox).
#include "persistence/sql/outbox.hpp"

#include "persistence/database.hpp"

namespace marketlink::persistence {
namespace {

// A claim is an attempt: a job whose lease ran out (its process died, or its job actor never
// answered) as often as OUTBOX_MAX_ATTEMPTS allows is given up here instead of claimed again.
constexpr Statement kClaimJobs{
    "outbox_claim",
    "UPDATE outbox o SET attempts = o.attempts + 1, "
    "next_attempt_at = now() + $2 * interval '1 second', "
    "state = CASE WHEN o.attempts >= $3 THEN 'dead' ELSE 'pending' END, "
    "last_error = CASE WHEN o.attempts >= $3 THEN 'gave up: never finished after ' || o.attempts "
    "|| ' attempts (last: ' || o.last_error || ')' ELSE o.last_error END "
    "FROM (SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_at <= now() "
    "ORDER BY next_attempt_at, id LIMIT $1 FOR UPDATE SKIP LOCKED) due "
    "WHERE o.id = due.id RETURNING o.id, o.kind, o.order_id::text, o.attempts, o.state"};
// The lease of jobs this process is still running, renewed (a heartbeat): a process that dies
// stops renewing, and its jobs are claimable once their short lease runs out.
constexpr Statement kRenew{"outbox_renew",
                           "UPDATE outbox SET next_attempt_at = now() + $2 * interval '1 second' "
                           "WHERE id = ANY($1::bigint[]) AND state = 'pending'"};
constexpr Statement kJobsDone{"outbox_done",
                              "UPDATE outbox SET state = 'done', done_at = now(), last_error = '' "
                              "WHERE id = ANY($1::bigint[]) AND state = 'pending'"};
constexpr Statement kJobFailed{"outbox_failed",
                               "UPDATE outbox SET last_error = $2, "
                               "state = CASE WHEN attempts >= $4 THEN 'dead' ELSE 'pending' END, "
                               "next_attempt_at = now() + $3 * interval '1 second' "
                               "WHERE id = $1 AND state = 'pending' RETURNING state"};
constexpr Statement kJobRetry{
    "outbox_retry",
    "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = now() "
    "WHERE id = $1 AND state = 'dead' RETURNING id"};
constexpr Statement kJobsPending{"outbox_pending",
                                 "SELECT count(*) FROM outbox WHERE state = 'pending'"};

}  // namespace

namespace outbox {

Claimed claim_due(Tx& tx, int limit, int lease_seconds, int max_attempts) {
  Claimed out;
  for (const auto& r : tx.exec(kClaimJobs, limit, lease_seconds, max_attempts)) {
    Job j{r[0].as<int64_t>(), r[1].as<std::string>(), r[2].as<std::string>(), r[3].as<int>()};
    (r[4].as<std::string>() == "dead" ? out.gave_up : out.jobs).push_back(std::move(j));
  }
  return out;
}

void renew(Tx& tx, const std::vector<int64_t>& ids, int lease_seconds) {
  if (!ids.empty()) tx.exec(kRenew, array_literal(ids), lease_seconds);
}

void mark_done(Tx& tx, const std::vector<int64_t>& ids) {
  if (!ids.empty()) tx.exec(kJobsDone, array_literal(ids));
}

bool mark_failed(Tx& tx, int64_t id, const std::string& error, int delay_seconds,
                 int max_attempts) {
  auto res = tx.exec(kJobFailed, id, error, delay_seconds, max_attempts);
  return !res.empty() && res[0][0].as<std::string>() == "dead";
}

bool retry_dead(Tx& tx, int64_t id) {
  return !tx.exec(kJobRetry, id).empty();
}

long long pending_count(Tx& tx) {
  return tx.exec(kJobsPending)[0][0].as<long long>();
}

}  // namespace outbox

}  // namespace marketlink::persistence
