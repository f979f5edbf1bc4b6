// The audit log (table audit_log): who did what to which target, with what result, when.
#pragma once

#include <string>

#include "persistence/result.hpp"
#include "persistence/tx.hpp"

namespace marketlink::persistence {

namespace audit {
// `actor_id` "" for the system itself (reconciliation, say).
void record(Tx& tx, const std::string& actor_id, const std::string& action,
            const std::string& target, const std::string& result);
}  // namespace audit

}  // namespace marketlink::persistence
