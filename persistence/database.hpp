// One PostgreSQL connection with its prepared statements, and the transaction helper that turns
// libpqxx's exceptions into marketlink::Error values. Owned by exactly one worker at a time.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <pqxx/pqxx>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "persistence/page.hpp"
#include "persistence/result.hpp"

namespace marketlink::persistence {

// SQL text with the name it is prepared under. Repositories define these as constants.
struct Statement {
  const char* name;
  const char* sql;
};

struct DbSettings {
  std::string url;
  std::string time_zone = "UTC";
  int connect_timeout_seconds = 3;
  // Set on each new connection (zero: the server's default).
  std::chrono::milliseconds statement_timeout{0};
  std::chrono::milliseconds lock_timeout{0};
  std::chrono::milliseconds idle_in_transaction_timeout{0};
  // The client-side bound on one transact() (zero: none). Past it a watchdog thread shuts the
  // connection's socket, so the blocked call returns at once, whatever the server is doing (a
  // frozen host ACKs nothing, or its kernel ACKs everything while the process is stopped).
  std::chrono::milliseconds operation_timeout{0};
  // Called when a connection attempt fails or an operation overruns (from the failing thread or
  // the watchdog); the runtime's health state listens.
  std::function<void()> on_stall;
};

class Database {
 public:
  explicit Database(DbSettings settings);
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // The open connection, (re)connecting when needed. Throws pqxx::broken_connection.
  pqxx::connection& connection();
  // Drops the connection; the next call to connection() opens a new one.
  void reset();
  bool is_open() const;

  // Prepares `s` on this connection the first time it is used.
  void ensure_prepared(const Statement& s);

  // Starts the operation deadline (settings' operation_timeout; nothing when zero) and ends it.
  // overran() says whether the watchdog cut the connection since arm().
  void arm();
  void disarm();
  bool overran() const;

  ~Database();

  struct Watch;  // shared with the watchdog thread

 private:
  DbSettings settings_;
  std::shared_ptr<Watch> watch_;
  std::unique_ptr<pqxx::connection> conn_;
  std::set<std::string> prepared_;
};

// "{a,b,c}": a PostgreSQL array literal, bound as one parameter, of values that need no quoting
// (UUIDs).
std::string array_literal(const std::vector<std::string>& values);
std::string array_literal(const std::vector<int64_t>& values);
// The same for any text: every element double-quoted, its quotes and backslashes escaped.
std::string quoted_array_literal(const std::vector<std::string>& values);

// Statements executed through Tx::exec by this process (tests count queries per request with it).
uint64_t statements_executed();
void count_statement();

// A transaction plus the connection's statement registry, handed to repository functions.
class Tx {
 public:
  Tx(Database& db, pqxx::transaction_base& tx) : db_(db), tx_(tx) {}

  template <class... Args>
  pqxx::result exec(const Statement& s, Args&&... args) {
    db_.ensure_prepared(s);
    count_statement();
    return tx_.exec_prepared(s.name, std::forward<Args>(args)...);
  }
  pqxx::transaction_base& raw() { return tx_; }

 private:
  Database& db_;
  pqxx::transaction_base& tx_;
};

// A page of a list query whose column `count_column` is `count(*) OVER ()`: each row through
// `map`, the count from any row (0 when the page is empty).
template <class Row, class Map>
Page<Row> page_from(const pqxx::result& res, Map map, int count_column) {
  Page<Row> out;
  out.rows.reserve(res.size());
  for (const auto& r : res) {
    out.rows.push_back(map(r));
    out.count = r[count_column].template as<long long>();
  }
  return out;
}

// Maps a libpqxx / standard exception to an Error (logging the unexpected ones once).
Error translate_exception(std::exception_ptr ep, const char* what_for);
// The connection settings of the configuration.
DbSettings db_settings(const config::Config& config);
// The same for `migrate`: the longer MIGRATE_* limits (a migration may lock and rewrite tables).
DbSettings migrate_db_settings(const config::Config& config);
// The Reason of a rule our triggers enforce, from its SQLSTATE (ML002 → inactive_vendor, ...).
Reason rule_reason(std::string_view sqlstate);

// Runs `fn(Tx&)` in one read-committed transaction and commits when it returns a success.
// `fn` returns Result<T>; an error result rolls back. A broken connection is retried once on a
// fresh connection when nothing was sent yet; otherwise the caller gets 503 (unavailable).
// With Work = pqxx::nontransaction, each statement commits on its own (one round trip for a
// single read, no BEGIN/COMMIT).
// The answer of an operation the watchdog cut at its deadline.
Error overran_error(const char* what_for);

// Runs `fn(Tx&)` in one read-committed transaction and commits when it returns a success.
// `fn` returns Result<T>; an error result rolls back. The whole call, a retry included, has the
// connection's operation deadline (DbSettings::operation_timeout). A broken connection is retried
// once on a fresh connection, and a deadlock or serialization failure (the server rolled the
// transaction back) is retried once; otherwise the caller gets 503 (unavailable) for those, for
// a statement or lock timeout, a read-only server and a missed deadline.
// With Work = pqxx::nontransaction, each statement commits on its own (one round trip for a
// single read, no BEGIN/COMMIT).
template <class F, class Work = pqxx::work>
auto transact(Database& db, const char* what_for, F&& fn) -> decltype(fn(std::declval<Tx&>())) {
  struct Armed {
    Database& db;
    explicit Armed(Database& d) : db(d) { db.arm(); }
    Armed(const Armed&) = delete;
    Armed& operator=(const Armed&) = delete;
    ~Armed() { db.disarm(); }
  } armed(db);
  for (int attempt = 0;; ++attempt) {
    try {
      Work w(db.connection());
      Tx tx(db, w);
      auto result = fn(tx);
      if (result.ok()) w.commit();
      return result;
    } catch (const pqxx::broken_connection&) {
      db.reset();
      if (db.overran()) return overran_error(what_for);
      if (attempt == 0) continue;
      return translate_exception(std::current_exception(), what_for);
    } catch (const pqxx::in_doubt_error&) {
      db.reset();
      return translate_exception(std::current_exception(), what_for);
    } catch (const pqxx::statement_completion_unknown&) {
      db.reset();
      return translate_exception(std::current_exception(), what_for);
    } catch (const pqxx::transaction_rollback&) {
      // Rolled back by the server: nothing of this attempt was kept, so once more is safe.
      if (attempt == 0 && !db.overran()) continue;
      return translate_exception(std::current_exception(), what_for);
    } catch (...) {
      if (db.overran()) {
        db.reset();
        return overran_error(what_for);
      }
      auto error = translate_exception(std::current_exception(), what_for);
      if (!db.is_open()) db.reset();
      return error;
    }
  }
}

}  // namespace marketlink::persistence
