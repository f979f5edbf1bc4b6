// The migration runner.
#include "persistence/migrations.hpp"

#include <spdlog/spdlog.h>

namespace marketlink::persistence {
namespace {
// An arbitrary constant naming "the migration lock" for pg_advisory_lock.
constexpr long long kMigrationLockKey = 0x6d6c5f6d6967LL;
}  // namespace

Result<MigrationReport> migrate(Database& db, const std::vector<Migration>& migrations) {
  MigrationReport report;
  try {
    auto& conn = db.connection();
    {
      pqxx::nontransaction n(conn);
      n.exec("SELECT pg_advisory_lock(" + std::to_string(kMigrationLockKey) + ")");
    }
    struct Unlock {
      pqxx::connection& c;
      ~Unlock() {
        try {
          pqxx::nontransaction n(c);
          n.exec("SELECT pg_advisory_unlock(" + std::to_string(kMigrationLockKey) + ")");
        } catch (const std::exception& e) {
          spdlog::warn("migrate: releasing the lock failed: {}", e.what());
        }
      }
    } unlock{conn};
    {
      pqxx::work w(conn);
      w.exec0(
          "CREATE TABLE IF NOT EXISTS schema_migrations ("
          " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())");
      w.commit();
    }
    for (const auto& m : migrations) {
      pqxx::work w(conn);
      auto done = w.exec_params("SELECT 1 FROM schema_migrations WHERE name = $1", m.name);
      if (!done.empty()) {
        ++report.already;
        continue;
      }
      w.exec0(m.sql);
      w.exec_params0("INSERT INTO schema_migrations (name) VALUES ($1)", m.name);
      w.commit();
      spdlog::info("migrate: applied {}", m.name);
      report.applied.push_back(m.name);
    }
  } catch (...) {
    return translate_exception(std::current_exception(), "migrate");
  }
  return report;
}

}  // namespace marketlink::persistence
