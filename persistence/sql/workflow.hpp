// The repair workflow (orders.status paid → processing → completed) and the order history
// (table order_events). Every change is conditional on the current status.
#pragma once

#include <string>
#include <vector>

#include "persistence/result.hpp"
#include "persistence/tx.hpp"

namespace marketlink::persistence {

struct OrderEvent {
  std::string from, to, by, at;
};

namespace workflow {

// paid → processing for those of `order_ids` that are paid; returns the ids moved.
std::vector<std::string> start(Tx& tx, const std::vector<std::string>& order_ids);
// processing → completed by `by`; returns false when the order was not processing.
bool complete(Tx& tx, const std::string& order_id, const std::string& by);
std::vector<OrderEvent> history(Tx& tx, const std::string& order_id);

}  // namespace workflow

}  // namespace marketlink::persistence
