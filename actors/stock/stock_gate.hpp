// The stock gate's decisions, as pure functions: what the Redis gate's answer says, and what a
// batch's callers and the Redis counters get once PostgreSQL has decided. The stock actor
// (stock_actor.cpp) does the I/O around them.
#pragma once

#include <cstddef>

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
// `asked - granted` units back to the counter and clears `asked` units in flight.
struct BatchOutcome {
  std::size_t with_order = 0;
  std::size_t sold_out = 0;
  long long give_back = 0;
  long long clear_in_flight = 0;
};
BatchOutcome batch_outcome(std::size_t callers, long long asked, long long granted);

}  // namespace marketlink::actors
