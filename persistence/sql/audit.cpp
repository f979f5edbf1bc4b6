// SQL for the audit log (table audit_log): admin actions and vendor stock edits.
#include "persistence/sql/audit.hpp"

#include "persistence/database.hpp"

namespace marketlink::persistence {
namespace {

constexpr Statement kAudit{
    "audit_insert",
    "INSERT INTO audit_log (actor_id, action, target, result) VALUES (NULLIF($1, '')::uuid, $2, "
    "$3, $4)"};

}  // namespace

namespace audit {
void record(Tx& tx, const std::string& actor_id, const std::string& action,
            const std::string& target, const std::string& result) {
  tx.exec(kAudit, actor_id, action, target, result);
}
}  // namespace audit

}  // namespace marketlink::persistence
