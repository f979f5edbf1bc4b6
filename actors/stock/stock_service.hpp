// Stock: one actor per service variant, the only writer of that variant's stock in this process.
// Reservations are processed serially per variant and committed in groups (group commit): one
// Redis call (atomic Lua gate) and one PostgreSQL transaction for every reservation that queued
// while the previous commit was in flight. Releases and vendor edits go through the same actor.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/runtime/runtime.hpp"
#include "persistence/sql/orders.hpp"
#include "persistence/sql/stock.hpp"

namespace marketlink::actors {

struct StockChange {
  int delta = 0;  // units added (negative: removed) by the change
  int stock = 0;  // the variant's stock afterwards
};

// Where the work for a variant that another member owns goes (actors/cluster/ownership, over
// CAF's network layer). A call that cannot be sent to the owner (unreachable) runs on this
// process's own stock actor, and one in flight when the owner's link breaks is answered 503:
// ownership is for throughput, never for correctness (the Redis gate and the conditional UPDATE
// hold whoever writes).
class StockRemote {
 public:
  virtual ~StockRemote() = default;
  // The member that owns the variant, when it is not this process.
  virtual std::optional<std::string> owner(int64_t variant_id) const = 0;
  virtual void reserve(const std::string& owner, int64_t variant_id, std::string customer_id,
                       Deadline deadline, Callback<persistence::OrderRow> done) = 0;
  virtual void release(const std::string& owner, int64_t variant_id,
                       std::vector<std::string> order_ids, persistence::OrderStatus status,
                       std::string by, Callback<std::vector<std::string>> done) = 0;
  virtual void resync(const std::string& owner, int64_t variant_id, Callback<int> done) = 0;
};

Error sold_out_error();
Error unknown_variant_error(int64_t variant_id);

class StockService {
 public:
  StockService(Runtime& runtime, const config::Config& config);
  ~StockService();

  // Reservations, releases and resyncs go to the variant's owner when `remote` names another
  // member (nullptr: every variant is this process's). Not owned: it must outlive its use.
  void set_remote(StockRemote* remote);

  // Reserves one unit and creates the pending order for `customer_id`, unless the request's
  // `deadline` passes before its batch runs (then it takes nothing and answers 503).
  // Errors: sold out (400), unknown or hidden variant (400 on `variant`), unavailable (503).
  void reserve(int64_t variant_id, std::string customer_id, Deadline deadline,
               Callback<persistence::OrderRow> done);
  // Moves pending orders of the variant to `status` and gives their stock back, once: returns the
  // ids that were still pending (a second release of the same order returns nothing). `by` is
  // who made the change, for the order history (a user id, "gateway", "system:expiry").
  void release(int64_t variant_id, std::vector<std::string> order_ids,
               persistence::OrderStatus status, std::string by,
               Callback<std::vector<std::string>> done);
  // Runs `change` in a transaction serialised with the variant's reservations (a vendor's stock
  // edit), then applies its delta to Redis.
  void exclusive(int64_t variant_id, std::function<Result<StockChange>(persistence::Tx&)> change,
                 Callback<StockChange> done);
  // Rewrites the variant's Redis counter from PostgreSQL.
  void resync(int64_t variant_id, Callback<int> done);

  // The same three in this process's stock actor, whoever owns the variant (the owner serving a
  // forwarded call, and a forwarded call coming back).
  void reserve_here(int64_t variant_id, std::string customer_id, Deadline deadline,
                    Callback<persistence::OrderRow> done);
  void release_here(int64_t variant_id, std::vector<std::string> order_ids,
                    persistence::OrderStatus status, std::string by,
                    Callback<std::vector<std::string>> done);
  void resync_here(int64_t variant_id, Callback<int> done);

  // Live stock actors right now.
  std::size_t live_actors() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace marketlink::actors
