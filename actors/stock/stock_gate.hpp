// The stock gate's decisions, as pure functions: what the Redis gate's answer says, and what a
// batch's callers and the Redis counters get once PostgreSQL has decided. The stock actor
// (stock_actor.cpp) does the I/O around them.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "persistence/redis_client.hpp"

namespace marketlink::actors {

// The gate script answers {taken, left}, or {-1, 0} when the counter is missing.
struct GateAnswer {
  enum class Kind {
    taken,     // `taken` units taken from the counter, `left` remain
    missing,   // no counter: seed it from PostgreSQL and ask again
    unusable,  // unreachable or malformed: PostgreSQL alone decides (degraded)
  };
  Kind kind = Kind::unusable;
  long long taken = 0;
  long long left = 0;
};
GateAnswer read_gate(const Result<persistence::RedisReply>& reply);

// A batch of `callers` reservations, after PostgreSQL granted `granted` of the `asked` units
// (what the gate let through, or all of them while degraded): the first `granted` callers in
// arrival order get orders, the rest are told the variant is fully booked. The settle gives
// `asked - granted` units back to the counter (and removes the batch from the in-flight hash).
struct BatchOutcome {
  std::size_t with_order = 0;
  std::size_t sold_out = 0;
  long long give_back = 0;
};
BatchOutcome batch_outcome(std::size_t callers, long long asked, long long granted);

// A batch still in flight in Redis (gated, not settled): its name, the units it took from the
// counter, and the order ids it will insert (the first of them names it).
struct InFlightBatch {
  std::string name;
  long long units = 0;
  std::vector<std::string> order_ids;
};
// The flat reply of the in-flight script: name, units, comma-separated ids, repeated. Entries that
// do not parse are left out.
std::vector<InFlightBatch> read_in_flight(const persistence::RedisReply& reply);

// The counter that equals PostgreSQL once every batch in flight has settled, from one database
// snapshot: its stock minus, per batch, the units it took minus the orders it has committed (a
// committed batch's settle gives back exactly that difference; an uncommitted one's commit and
// settle together take what it committed). Never below zero.
long long exact_counter(int db_stock, const std::vector<InFlightBatch>& batches,
                        const std::vector<int>& committed);

}  // namespace marketlink::actors
