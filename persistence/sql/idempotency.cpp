// SQL for idempotency keys (table idempotency_keys).
#include "persistence/sql/idempotency.hpp"

#include "persistence/database.hpp"

namespace marketlink::persistence {
namespace {

constexpr Statement kForgetOldKeys{
    "idem_forget_old",
    "DELETE FROM idempotency_keys WHERE customer_id = $1 AND key = $2 "
    "AND (created_at < now() - interval '24 hours' "
    "     OR (response_status IS NULL AND created_at < now() - make_interval(secs => $3)))"};
constexpr Statement kClaimKey{
    "idem_claim",
    "INSERT INTO idempotency_keys (customer_id, key, request_hash) VALUES ($1, $2, $3) "
    "ON CONFLICT DO NOTHING RETURNING 1"};
constexpr Statement kReadKey{
    "idem_read",
    "SELECT request_hash, response_status, coalesce(response_body, '') FROM idempotency_keys "
    "WHERE customer_id = $1 AND key = $2"};
constexpr Statement kCompleteKey{
    "idem_complete",
    "UPDATE idempotency_keys SET response_status = $3, response_body = $4 "
    "WHERE customer_id = $1 AND key = $2"};
constexpr Statement kDeleteKey{"idem_delete",
                               "DELETE FROM idempotency_keys WHERE customer_id = $1 AND key = $2"};

}  // namespace

namespace idempotency {

std::optional<Record> claim(Tx& tx, const std::string& customer_id, const std::string& key,
                            const std::string& request_hash, long long abandoned_after_seconds) {
  tx.exec(kForgetOldKeys, customer_id, key, abandoned_after_seconds);
  if (!tx.exec(kClaimKey, customer_id, key, request_hash).empty()) return std::nullopt;
  auto res = tx.exec(kReadKey, customer_id, key);
  if (res.empty()) return Record{request_hash, std::nullopt, ""};  // deleted meanwhile: in progress
  Record r;
  r.request_hash = res[0][0].as<std::string>();
  if (!res[0][1].is_null()) r.status = res[0][1].as<int>();
  r.body = res[0][2].as<std::string>();
  return r;
}

void complete(Tx& tx, const std::string& customer_id, const std::string& key, int status,
              const std::string& body) {
  tx.exec(kCompleteKey, customer_id, key, status, body);
}

void forget(Tx& tx, const std::string& customer_id, const std::string& key) {
  tx.exec(kDeleteKey, customer_id, key);
}

}  // namespace idempotency

}  // namespace marketlink::persistence
