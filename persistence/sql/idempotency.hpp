// Idempotency keys (table idempotency_keys): (customer, key) → the request's hash and its first
// response, for 24 hours.
#pragma once

#include <optional>
#include <string>

#include "persistence/result.hpp"
#include "persistence/tx.hpp"

namespace marketlink::persistence {

namespace idempotency {

struct Record {
  std::string request_hash;
  std::optional<int> status;  // nullopt: the first request is still in progress
  std::string body;
};
// Claims (customer, key) for this request; returns the existing record when the key is taken.
// Keys older than 24 hours are forgotten first, and so is a claim still in progress after
// `abandoned_after_seconds` (its request can no longer be running: the server answered it at its
// deadline, or the process died).
std::optional<Record> claim(Tx& tx, const std::string& customer_id, const std::string& key,
                            const std::string& request_hash, long long abandoned_after_seconds);
void complete(Tx& tx, const std::string& customer_id, const std::string& key, int status,
              const std::string& body);
void forget(Tx& tx, const std::string& customer_id, const std::string& key);

}  // namespace idempotency

}  // namespace marketlink::persistence
