// Stock gate decisions.
#include "actors/stock/stock_gate.hpp"

#include <algorithm>

namespace marketlink::actors {

GateAnswer read_gate(const Result<persistence::RedisReply>& reply) {
  GateAnswer out;
  if (!reply || reply->elements.size() != 2) return out;
  const long long taken = reply->elements[0].integer;
  if (taken < 0) {
    out.kind = GateAnswer::Kind::missing;
    return out;
  }
  out.kind = GateAnswer::Kind::taken;
  out.taken = taken;
  out.left = reply->elements[1].integer;
  return out;
}

BatchOutcome batch_outcome(std::size_t callers, long long asked, long long granted) {
  BatchOutcome o;
  granted = std::clamp(granted, 0LL, std::min(asked, static_cast<long long>(callers)));
  o.with_order = static_cast<std::size_t>(granted);
  o.sold_out = callers - o.with_order;
  o.give_back = asked - granted;
  o.clear_in_flight = asked;
  return o;
}

}  // namespace marketlink::actors
