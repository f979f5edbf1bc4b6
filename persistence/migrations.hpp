// Numbered SQL migrations shipped inside the binary, and the runner behind `marketlink migrate`.
#pragma once

#include <string>
#include <vector>

#include "persistence/database.hpp"

namespace marketlink::persistence {

struct Migration {
  std::string name;  // "0001_accounts": the number orders them
  std::string sql;
};

const std::vector<Migration>& embedded_migrations();

struct MigrationReport {
  std::vector<std::string> applied;  // names applied by this run
  std::size_t already = 0;           // names found applied before
};

// Applies every migration not yet recorded in schema_migrations, each in its own transaction.
// Safe to run twice and from several processes at once (a session advisory lock serialises them).
Result<MigrationReport> migrate(Database& db, const std::vector<Migration>& migrations);

}  // namespace marketlink::persistence
