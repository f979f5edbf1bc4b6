// Retention: rows nothing reads any more, deleted in bounded batches by the janitor. Idempotency
// keys past their 24 hours, refresh tokens past their expiry (a replay of an expired token is
// refused by its expiry alone), finished outbox jobs past the retention period. Orders, payments,
// invoices and the audit log are records and are kept.
#pragma once

#include "persistence/tx.hpp"

namespace marketlink::persistence::retention {

struct Purged {
  long long idempotency_keys = 0;
  long long refresh_tokens = 0;
  long long outbox_done = 0;
  long long total() const { return idempotency_keys + refresh_tokens + outbox_done; }
};

// Deletes at most `batch` rows of each kind; `retention_days` applies to refresh tokens (after
// expiry) and to finished outbox jobs.
Purged purge(Tx& tx, int retention_days, int batch);

}  // namespace marketlink::persistence::retention
