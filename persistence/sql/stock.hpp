// Stock (the column service_variants.stock). Used only by the variant's stock actor
// (actors/stock/stock_actor.cpp), the single writer of a variant's stock in this process.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "persistence/money.hpp"
#include "persistence/result.hpp"
#include "persistence/tx.hpp"

namespace marketlink::persistence {

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

// In one snapshot: the variant's stock, and for each batch of order ids how many of them exist
// (the batch committed them). Reconciles the Redis counter with batches still in flight.
struct Snapshot {
  std::optional<int> stock;
  std::vector<int> committed;  // per batch, in order
};
Snapshot snapshot(Tx& tx, int64_t variant_id, const std::vector<std::vector<std::string>>& batches);

}  // namespace stock

}  // namespace marketlink::persistence
