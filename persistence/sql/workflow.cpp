// SQL for the repair workflow: orders.status along paid → processing → completed, and the
// order history (table order_events, written by a trigger).
#include "persistence/sql/workflow.hpp"

#include "persistence/database.hpp"

namespace marketlink::persistence {
namespace {

constexpr Statement kWorkflowStart{
    "workflow_start",
    "UPDATE orders SET status = 'processing', status_by = 'system:workflow', updated_at = now() "
    "WHERE id = ANY($1::uuid[]) AND status = 'paid' RETURNING id::text"};
constexpr Statement kWorkflowComplete{
    "workflow_complete",
    "UPDATE orders SET status = 'completed', status_by = $2, updated_at = now() "
    "WHERE id = $1 AND status = 'processing' RETURNING 1"};
constexpr Statement kHistory{
    "order_history",
    "SELECT from_status, to_status, changed_by, ml_iso(at) FROM order_events "
    "WHERE order_id = $1 ORDER BY id"};

}  // namespace

namespace workflow {

std::vector<std::string> start(Tx& tx, const std::vector<std::string>& order_ids) {
  std::vector<std::string> moved;
  if (order_ids.empty()) return moved;
  for (const auto& r : tx.exec(kWorkflowStart, array_literal(order_ids))) {
    moved.push_back(r[0].as<std::string>());
  }
  return moved;
}

bool complete(Tx& tx, const std::string& order_id, const std::string& by) {
  return !tx.exec(kWorkflowComplete, order_id, by).empty();
}

std::vector<OrderEvent> history(Tx& tx, const std::string& order_id) {
  std::vector<OrderEvent> out;
  for (const auto& r : tx.exec(kHistory, order_id)) {
    out.push_back({r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<std::string>(),
                   r[3].as<std::string>()});
  }
  return out;
}

}  // namespace workflow

}  // namespace marketlink::persistence
