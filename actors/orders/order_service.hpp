// Orders: creation (reserve → gateway session → payment_url), cancellation, expiry, listing and
// Idempotency-Key records. Creation is coordinated by the order_coordinator actor; expiry by the
// expiry_sweeper actor; both are supervised by the root supervisor.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "actors/orders/order_limits.hpp"
#include "actors/payments/payment_service.hpp"
#include "actors/runtime/runtime.hpp"
#include "actors/stock/stock_service.hpp"
#include "persistence/sql/accounts.hpp"
#include "persistence/sql/invoices.hpp"
#include "persistence/sql/orders.hpp"
#include "persistence/sql/payments.hpp"
#include "persistence/sql/workflow.hpp"

namespace marketlink::actors {

using persistence::OrderRow;

// An order with its payment (if any) and its status history.
struct OrderDetail {
  OrderRow order;
  std::optional<persistence::PaymentRow> payment;
  std::vector<persistence::OrderEvent> history;
};

// Where an order is placed when another member owns its variant (actors/cluster/ownership): the
// owner's order_coordinator reserves and opens the gateway session, so the variant's
// reservations and sessions commit together there. Correctness never depends on it.
class OrderRemote {
 public:
  virtual ~OrderRemote() = default;
  // The member that owns the variant, when it is not this process.
  virtual std::optional<std::string> owner(int64_t variant_id) const = 0;
  // Places the order on `owner`, or here when it cannot be reached.
  virtual void place(const std::string& owner, persistence::UserRow customer, int64_t variant_id,
                     Deadline deadline, Callback<OrderRow> done) = 0;
};

struct StoredResponse {
  int status = 0;
  std::string body;
};

class OrderService {
 public:
  OrderService(Runtime& runtime, const config::Config& config, StockService& stock,
               PaymentService& payments, Limiter& limiter);
  ~OrderService();

  // Idempotency-Key: nullopt → go ahead (the key is now held for this request); a stored
  // response → replay it. Errors: same key, other body (422); first request still running (409).
  void claim_key(std::string customer_id, std::string key, std::string request_hash,
                 Callback<std::optional<StoredResponse>> done);
  // Stores the response of a claimed key (5xx and 429 answers are not kept, so the client can
  // retry), then calls `then`: the response goes out only once a retry would find it.
  void finish_key(std::string customer_id, std::string key, int status, std::string body,
                  std::function<void()> then);

  // The order limits (OrderLimits; `client_address` is the bucket the per-address rate counts)
  // → reserve → gateway session → payment_url, by the request's `deadline` (ASK_TIMEOUT_MS at
  // the latest): work still waiting when it passes is skipped, and an order made for a caller
  // who was answered already is cancelled at once.
  void create(persistence::UserRow customer, int64_t variant_id, std::string client_address,
              Deadline deadline, Callback<OrderRow> done);
  // After the limits admitted it: reserve → session → payment_url on this process's
  // order_coordinator (the owner serving a forwarded placement, or one coming back).
  void place_here(persistence::UserRow customer, int64_t variant_id, Deadline deadline,
                  Callback<OrderRow> done);
  // Placements go to the variant's owner when `remote` names another member (nullptr: here).
  // Not owned: it must outlive its use.
  void set_remote(OrderRemote* remote);
  void cancel(persistence::UserRow user, std::string order_id, Callback<OrderRow> done);
  void get(persistence::UserRow user, std::string order_id, Callback<OrderRow> done);
  void detail(persistence::UserRow user, std::string order_id, Callback<OrderDetail> done);
  // The invoice PDF of a paid order the user may see; 404 before payment (and until rendered).
  void invoice(persistence::UserRow user, std::string order_id,
               Callback<persistence::invoices::Stored> done);
  // processing → completed by the order's vendor. Errors: another vendor's order 403
  // {"error": "Unauthorized access to this order."}; not processing 400 {"error": "Cannot
  // complete an order with status: <status>"}; not visible 404.
  void complete(persistence::UserRow vendor, std::string order_id, Callback<Unit> done);
  void list(persistence::UserRow user, std::optional<std::string> status,
            persistence::PageRequest page, Callback<persistence::Page<OrderRow>> done);

  // Runs the expiry sweep now (tests and operators); the sweeper also runs every
  // ORDER_SWEEP_INTERVAL and once at start-up.
  void sweep_now_for_test();

  struct Impl;

 private:
  // `here`: on this process's coordinator, whoever owns the variant.
  static void place(const std::shared_ptr<Impl>& impl, persistence::UserRow customer,
                    int64_t variant_id, Deadline deadline, Callback<OrderRow> done, bool here);
  std::shared_ptr<Impl> impl_;
};

}  // namespace marketlink::actors
