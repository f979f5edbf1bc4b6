// Stock gate decisions.
#include "actors/stock/stock_gate.hpp"

#include <algorithm>
#include <charconv>

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
  return o;
}

std::vector<InFlightBatch> read_in_flight(const persistence::RedisReply& reply) {
  std::vector<InFlightBatch> out;
  const auto& e = reply.elements;
  for (std::size_t i = 0; i + 2 < e.size(); i += 3) {
    InFlightBatch b;
    b.name = e[i].str;
    const auto& units = e[i + 1].str;
    auto [ptr, ec] = std::from_chars(units.data(), units.data() + units.size(), b.units);
    if (ec != std::errc{} || b.units <= 0) continue;
    std::size_t start = 0;
    const auto& ids = e[i + 2].str;
    while (start < ids.size()) {
      auto end = ids.find(',', start);
      if (end == std::string::npos) end = ids.size();
      if (end > start) b.order_ids.push_back(ids.substr(start, end - start));
      start = end + 1;
    }
    out.push_back(std::move(b));
  }
  return out;
}

long long exact_counter(int db_stock, const std::vector<InFlightBatch>& batches,
                        const std::vector<int>& committed) {
  long long value = db_stock;
  for (std::size_t i = 0; i < batches.size(); ++i) {
    const long long done = i < committed.size() ? committed[i] : 0;
    value -= std::max(0LL, batches[i].units - done);
  }
  return std::max(0LL, value);
}

}  // namespace marketlink::actors
