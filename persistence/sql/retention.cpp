// SQL for the janitor.
#include "persistence/sql/retention.hpp"

#include "persistence/database.hpp"

namespace marketlink::persistence::retention {
namespace {

constexpr Statement kKeys{
    "retention_keys",
    "DELETE FROM idempotency_keys WHERE ctid IN (SELECT ctid FROM idempotency_keys "
    "WHERE created_at < now() - interval '24 hours' LIMIT $1)"};
constexpr Statement kTokens{
    "retention_tokens",
    "DELETE FROM refresh_tokens WHERE ctid IN (SELECT ctid FROM refresh_tokens "
    "WHERE expires_at < now() - make_interval(days => $2) LIMIT $1)"};
constexpr Statement kOutbox{
    "retention_outbox",
    "DELETE FROM outbox WHERE ctid IN (SELECT ctid FROM outbox "
    "WHERE state = 'done' AND done_at < now() - make_interval(days => $2) LIMIT $1)"};

}  // namespace

Purged purge(Tx& tx, int retention_days, int batch) {
  Purged p;
  p.idempotency_keys = static_cast<long long>(tx.exec(kKeys, batch).affected_rows());
  p.refresh_tokens =
      static_cast<long long>(tx.exec(kTokens, batch, retention_days).affected_rows());
  p.outbox_done = static_cast<long long>(tx.exec(kOutbox, batch, retention_days).affected_rows());
  return p;
}

}  // namespace marketlink::persistence::retention
