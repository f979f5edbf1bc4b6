// PostgreSQL connection handling and exception translation.
#include "persistence/database.hpp"

#include <spdlog/spdlog.h>

#include <atomic>

namespace marketlink::persistence {

DbSettings db_settings(const config::Config& c) {
  DbSettings s;
  s.url = c.database_url;
  s.time_zone = c.time_zone;
  s.connect_timeout_seconds = std::max(1, static_cast<int>(c.db_connect_timeout.count() / 1000));
  return s;
}

Reason rule_reason(std::string_view sqlstate) {
  if (sqlstate == "ML002") return Reason::inactive_vendor;
  if (sqlstate == "ML003") return Reason::variant_moved;
  if (sqlstate == "ML004") return Reason::illegal_transition;
  return Reason::other_rule;
}

namespace {
std::atomic<uint64_t> g_statements{0};
}

std::string array_literal(const std::vector<std::string>& values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i != 0) out.push_back(',');
    out += values[i];
  }
  out.push_back('}');
  return out;
}

uint64_t statements_executed() {
  return g_statements.load(std::memory_order_relaxed);
}
void count_statement() {
  g_statements.fetch_add(1, std::memory_order_relaxed);
}

Database::Database(DbSettings settings) : settings_(std::move(settings)) {}

pqxx::connection& Database::connection() {
  if (conn_ && conn_->is_open()) return *conn_;
  conn_.reset();
  prepared_.clear();
  std::string conninfo = settings_.url;
  // libpq accepts both URIs and key=value strings; add the timeout in the matching syntax.
  const bool uri = conninfo.rfind("postgres", 0) == 0;
  const auto timeout = std::to_string(settings_.connect_timeout_seconds);
  if (uri) {
    conninfo += (conninfo.find('?') == std::string::npos ? "?" : "&");
    conninfo += "connect_timeout=" + timeout + "&application_name=marketlink";
  } else {
    conninfo += " connect_timeout=" + timeout + " application_name=marketlink";
  }
  conn_ = std::make_unique<pqxx::connection>(conninfo);
  pqxx::nontransaction setup(*conn_);
  setup.exec0("SET TIME ZONE " + setup.quote(settings_.time_zone));
  return *conn_;
}

void Database::reset() {
  conn_.reset();
  prepared_.clear();
}

bool Database::is_open() const {
  return conn_ && conn_->is_open();
}

void Database::ensure_prepared(const Statement& s) {
  if (prepared_.count(s.name) != 0) return;
  connection().prepare(s.name, s.sql);
  prepared_.insert(s.name);
}

Error translate_exception(std::exception_ptr ep, const char* what_for) {
  try {
    std::rethrow_exception(ep);
  } catch (const pqxx::broken_connection& e) {
    spdlog::warn("db: {}: connection lost: {}", what_for, e.what());
    return Error::unavailable();
  } catch (const pqxx::in_doubt_error& e) {
    spdlog::error("db: {}: commit outcome unknown: {}", what_for, e.what());
    return Error::unavailable();
  } catch (const pqxx::unique_violation& e) {
    Error err = Error::make(ErrorCode::conflict, "conflict");
    spdlog::debug("db: {}: unique violation: {}", what_for, e.what());
    return err;
  } catch (const pqxx::check_violation& e) {
    spdlog::debug("db: {}: check violation: {}", what_for, e.what());
    return Error::make(ErrorCode::invalid_input, "check");
  } catch (const pqxx::sql_error& e) {
    // Our triggers raise with SQLSTATE class 'ML' for rule violations a client can cause.
    if (e.sqlstate().rfind("ML", 0) == 0) {
      spdlog::info("db: {}: rule {} refused the write", what_for, e.sqlstate());
      return Error::make(ErrorCode::forbidden, "refused by rule " + e.sqlstate(),
                         rule_reason(e.sqlstate()));
    }
    spdlog::error("db: {}: sql error {}: {}", what_for, e.sqlstate(), e.what());
    return Error::internal(e.what());
  } catch (const std::exception& e) {
    spdlog::error("db: {}: {}", what_for, e.what());
    return Error::internal(e.what());
  } catch (...) {
    spdlog::error("db: {}: unknown exception", what_for);
    return Error::internal("unknown exception");
  }
}

}  // namespace marketlink::persistence
