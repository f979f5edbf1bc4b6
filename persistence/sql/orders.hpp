// Orders, stock movements and idempotency keys. Stock SQL is used only by the variant's stock
// actor (actors/stock/stock_actor.cpp), which is the single writer of a variant's stock in this
// process.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "persistence/database.hpp"
#include "persistence/money.hpp"
#include "persistence/page.hpp"

namespace marketlink::persistence {

struct OrderRow {
  std::string id;
  std::string customer_id;
  std::string vendor_id;       // vendor profile id
  std::string vendor_user_id;  // the vendor's user
  int64_t variant_id = 0;
  std::string status;
  Money total_amount;
  std::string payment_url;  // empty until the gateway session is open
  std::string expires_at;
  std::string created_at;
  std::string service_name;
  std::string variant_name;
};

namespace stock {

// The outcome of taking up to `units` from a variant in one statement.
struct Take {
  bool sellable = false;  // the variant, its service and its vendor are active
  int before = 0;
  int after = 0;
  Money price;
  std::string vendor_id;
  int granted() const { return before - after; }
};
// Takes min(units, stock) under the row lock; price and vendor are read in the same statement.
Take take(Tx& tx, int64_t variant_id, int units);
std::optional<int> current(Tx& tx, int64_t variant_id);
int give_back(Tx& tx, int64_t variant_id, int units);
// Sets the stock; returns (before, after).
std::optional<std::pair<int, int>> set(Tx& tx, int64_t variant_id, int stock);

}  // namespace stock

namespace orders {

// Inserts one pending order per (id, customer) pair for the variant at `price`.
std::vector<OrderRow> insert_batch(Tx& tx, int64_t variant_id, const std::string& vendor_id,
                                   Money price, const std::vector<std::string>& ids,
                                   const std::vector<std::string>& customers,
                                   long long ttl_seconds);
// Flips pending orders of the variant to `status` (a change made by `by`); returns the ids that
// were pending.
std::vector<std::string> release(Tx& tx, int64_t variant_id, const std::vector<std::string>& ids,
                                 const std::string& status, const std::string& by);
std::optional<OrderRow> find(Tx& tx, const std::string& id);
// The order and whether it has a payment row, in one statement (a notification's first look).
std::optional<std::pair<OrderRow, bool>> find_for_payment(Tx& tx, const std::string& id);
void set_payment_session(Tx& tx, const std::string& id, const std::string& payment_url,
                         const std::string& session_key);

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
// Pending orders past expires_at, and those whose gateway session never opened (a crash between
// reservation and session) after `orphan_after_seconds`.
std::vector<Expired> expired(Tx& tx, long long orphan_after_seconds, int limit);

}  // namespace orders

namespace idempotency {

struct Record {
  std::string request_hash;
  std::optional<int> status;  // nullopt: the first request is still in progress
  std::string body;
};
// Claims (customer, key) for this request; returns the existing record when the key is taken.
// Keys older than 24 hours are forgotten first.
std::optional<Record> claim(Tx& tx, const std::string& customer_id, const std::string& key,
                            const std::string& request_hash);
void complete(Tx& tx, const std::string& customer_id, const std::string& key, int status,
              const std::string& body);
void forget(Tx& tx, const std::string& customer_id, const std::string& key);

}  // namespace idempotency

}  // namespace marketlink::persistence
