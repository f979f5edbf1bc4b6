// Orders (table orders). Orders are created and released only by the variant's stock actor
// (actors/stock/stock_actor.cpp), in the same transaction as the stock they take or give back.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "persistence/money.hpp"
#include "persistence/page.hpp"
#include "persistence/result.hpp"
#include "persistence/tx.hpp"

namespace marketlink::persistence {

// The statuses the database allows (orders.status CHECK); order_events refuses any transition
// but pending → paid | failed | cancelled and paid → processing → completed.
enum class OrderStatus { pending, paid, processing, completed, failed, cancelled };
std::string_view to_string(OrderStatus status);
std::optional<OrderStatus> parse_order_status(std::string_view text);

struct OrderRow {
  std::string id;
  std::string customer_id;
  std::string vendor_id;       // vendor profile id
  std::string vendor_user_id;  // the vendor's user
  int64_t variant_id = 0;
  OrderStatus status = OrderStatus::pending;
  Money total_amount;
  std::string payment_url;  // empty until the gateway session is open
  std::string expires_at;
  std::string created_at;
  std::string service_name;
  std::string variant_name;
};

namespace orders {

// Inserts one pending order per (id, customer) pair for the variant at `price`.
std::vector<OrderRow> insert_batch(Tx& tx, int64_t variant_id, const std::string& vendor_id,
                                   Money price, const std::vector<std::string>& ids,
                                   const std::vector<std::string>& customers,
                                   long long ttl_seconds);
// Flips pending orders of the variant to `status` (a change made by `by`); returns the ids that
// were pending.
std::vector<std::string> release(Tx& tx, int64_t variant_id, const std::vector<std::string>& ids,
                                 OrderStatus status, const std::string& by);
std::optional<OrderRow> find(Tx& tx, const std::string& id);
// The order and the state of its payment row ("" when it has none, else confirmed or
// needs_refund), in one statement (a notification's first look).
std::optional<std::pair<OrderRow, std::string>> find_for_payment(Tx& tx, const std::string& id);
// The same for many orders in one statement (those that exist).
std::vector<std::pair<OrderRow, std::string>> find_for_payments(
    Tx& tx, const std::vector<std::string>& ids);
// A gateway session to store on its order.
struct SessionToStore {
  std::string order_id;
  std::string payment_url;
  std::string session_key;
};
// Stores the gateway sessions of pending orders, all in one statement (the coordinator
// group-commits them); returns the ids of the orders stored. An order no longer pending (the
// orphan sweep or a cancellation came first) is left alone: nobody may be sent to pay for it.
std::vector<std::string> set_payment_sessions(Tx& tx, const std::vector<SessionToStore>& sessions);
// How many unpaid orders the customer holds; counting stops at `cap` (what a limit needs).
long long count_pending(Tx& tx, const std::string& customer_id, long long cap);

struct Scope {
  std::optional<std::string> customer_id;
  std::optional<std::string> vendor_user_id;
  std::optional<std::string> status;
};
Page<OrderRow> list(Tx& tx, const Scope& scope, const PageRequest& page);

struct Expired {
  std::string id;
  int64_t variant_id = 0;
};
// Pending orders without a gateway session (nobody can have paid for them) that are past
// expires_at, or whose session never opened (a crash between reservation and session) after
// `orphan_after_seconds`. Orders with a session go through to_ask_gateway instead. Skips the orders
// of `skip_variants` (variants whose release failed a moment ago, so one stuck variant never takes
// every sweep).
std::vector<Expired> expired(Tx& tx, long long orphan_after_seconds, int limit,
                             const std::vector<int64_t>& skip_variants = {});

// A pending order to ask the gateway about before anything else happens to it: it had a session
// and is past expires_at, or a check is due (a VALID notification that could not be validated,
// a payment the gateway reported in progress).
struct ToAsk {
  std::string id;
  int64_t variant_id = 0;
  bool expired = false;     // past expires_at
  bool past_grace = false;  // past expires_at + the grace: cancel unless the gateway says paid
  bool pending = true;      // else failed by a FAILED attempt: only a later paid one matters
};
std::vector<ToAsk> to_ask_gateway(Tx& tx, long long grace_seconds, int limit,
                                  const std::vector<int64_t>& skip_variants = {});
// Ask the gateway about the order within `delay_seconds` (an earlier check stays).
void check_gateway_soon(Tx& tx, const std::string& id, long long delay_seconds);
// A failed order (a FAILED attempt) is asked about at its expiry: a later attempt of the same
// session may have paid.
void check_gateway_at_expiry(Tx& tx, const std::string& id);
// Ask again in `delay_seconds` (counted in gateway_checks).
void postpone_gateway_check(Tx& tx, const std::string& id, long long delay_seconds);
void clear_gateway_check(Tx& tx, const std::string& id);

}  // namespace orders

}  // namespace marketlink::persistence
