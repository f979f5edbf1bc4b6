// PostgreSQL connection handling and exception translation.
#include "persistence/database.hpp"

#include <spdlog/spdlog.h>

#include <sys/socket.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace marketlink::persistence {

DbSettings db_settings(const config::Config& c) {
  DbSettings s;
  s.url = c.database_url;
  s.time_zone = c.time_zone;
  s.connect_timeout_seconds = std::max(1, static_cast<int>(c.db_connect_timeout.count() / 1000));
  s.statement_timeout = c.db_statement_timeout;
  s.lock_timeout = c.db_lock_timeout;
  s.idle_in_transaction_timeout = c.db_idle_in_transaction_timeout;
  s.operation_timeout = c.db_statement_timeout + std::chrono::seconds(1);
  return s;
}

DbSettings migrate_db_settings(const config::Config& c) {
  DbSettings s = db_settings(c);
  s.statement_timeout = c.migrate_statement_timeout;
  s.lock_timeout = c.migrate_lock_timeout;
  s.idle_in_transaction_timeout = c.migrate_statement_timeout;
  s.operation_timeout = c.migrate_statement_timeout + std::chrono::seconds(1);
  return s;
}

Error overran_error(const char* what_for) {
  spdlog::warn("db: {}: no answer within the operation deadline; connection cut", what_for);
  Error e = Error::make(ErrorCode::unavailable, std::string(what_for) + " did not answer in time",
                        Reason::deadline_exceeded);
  e.retry_after = std::chrono::seconds(1);
  return e;
}

Reason rule_reason(std::string_view sqlstate) {
  if (sqlstate == "ML002") return Reason::inactive_vendor;
  if (sqlstate == "ML003") return Reason::variant_moved;
  if (sqlstate == "ML004") return Reason::illegal_transition;
  return Reason::other_rule;
}

namespace {
std::atomic<uint64_t> g_statements{0};
}  // namespace

// What the watchdog needs of a Database: its socket while connected, and the armed deadline.
struct Database::Watch {
  std::mutex mutex;
  int fd = -1;
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  bool overran = false;
  std::function<void()> on_stall;
};

namespace {

// One thread for the process: every 50 ms, shuts the socket of each armed connection past its
// deadline (shutdown(2), not close: the descriptor stays the connection's until it is reset).
class Watchdog {
 public:
  static Watchdog& instance() {
    static Watchdog dog;
    return dog;
  }
  void add(const std::shared_ptr<Database::Watch>& w) {
    std::lock_guard lock(mutex_);
    watches_.push_back(w);
  }
  void remove(const Database::Watch* w) {
    std::lock_guard lock(mutex_);
    std::erase_if(watches_, [w](const auto& p) { return p.get() == w; });
  }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

 private:
  Watchdog() : thread_([this] { run(); }) {}
  ~Watchdog() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }
  void run() {
    std::unique_lock lock(mutex_);
    while (!stop_) {
      wake_.wait_for(lock, std::chrono::milliseconds(50));
      const auto now = std::chrono::steady_clock::now();
      std::vector<std::function<void()>> stalls;
      for (const auto& w : watches_) {
        std::lock_guard wl(w->mutex);
        if (w->fd < 0 || w->overran || w->deadline > now) continue;
        ::shutdown(w->fd, SHUT_RDWR);
        w->overran = true;
        if (w->on_stall) stalls.push_back(w->on_stall);
      }
      lock.unlock();
      for (auto& f : stalls) f();
      lock.lock();
    }
  }
  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<std::shared_ptr<Database::Watch>> watches_;
  bool stop_ = false;
  std::thread thread_;
};

std::string ms(std::chrono::milliseconds d) {
  return std::to_string(d.count());
}

}  // namespace

std::string array_literal(const std::vector<std::string>& values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i != 0) out.push_back(',');
    out += values[i];
  }
  out.push_back('}');
  return out;
}

std::string array_literal(const std::vector<int64_t>& values) {
  std::vector<std::string> text;
  text.reserve(values.size());
  for (auto v : values) text.push_back(std::to_string(v));
  return array_literal(text);
}

std::string quoted_array_literal(const std::vector<std::string>& values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i != 0) out.push_back(',');
    out.push_back('"');
    for (char c : values[i]) {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    out.push_back('"');
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

Database::Database(DbSettings settings)
    : settings_(std::move(settings)), watch_(std::make_shared<Watch>()) {
  watch_->on_stall = settings_.on_stall;
  if (settings_.operation_timeout.count() > 0) Watchdog::instance().add(watch_);
}

Database::~Database() {
  if (settings_.operation_timeout.count() > 0) Watchdog::instance().remove(watch_.get());
  reset();
}

pqxx::connection& Database::connection() {
  if (conn_ && conn_->is_open()) return *conn_;
  reset();
  std::string conninfo = settings_.url;
  // libpq accepts both URIs and key=value strings; add the parameters in the matching syntax.
  // Keepalives and tcp_user_timeout end a connection whose peer vanished (no RST ever comes).
  const auto user_timeout = settings_.operation_timeout.count() > 0
                                ? settings_.operation_timeout
                                : std::chrono::milliseconds(30000);
  const std::vector<std::pair<std::string, std::string>> params{
      {"connect_timeout", std::to_string(settings_.connect_timeout_seconds)},
      {"application_name", "marketlink"},
      {"keepalives", "1"},
      {"keepalives_idle", "5"},
      {"keepalives_interval", "2"},
      {"keepalives_count", "3"},
      {"tcp_user_timeout", ms(user_timeout)}};
  const bool uri = conninfo.rfind("postgres", 0) == 0;
  for (const auto& [key, value] : params) {
    conninfo += uri ? (conninfo.find('?') == std::string::npos ? "?" : "&") : " ";
    conninfo.append(key).append("=").append(value);
  }
  try {
    conn_ = std::make_unique<pqxx::connection>(conninfo);
  } catch (const pqxx::broken_connection&) {
    if (settings_.on_stall) settings_.on_stall();
    throw;
  }
  {
    std::lock_guard lock(watch_->mutex);
    watch_->fd = conn_->sock();
  }
  pqxx::nontransaction setup(*conn_);
  std::string sql = "SET TIME ZONE " + setup.quote(settings_.time_zone);
  const std::vector<std::pair<const char*, std::chrono::milliseconds>> limits{
      {"statement_timeout", settings_.statement_timeout},
      {"lock_timeout", settings_.lock_timeout},
      {"idle_in_transaction_session_timeout", settings_.idle_in_transaction_timeout}};
  for (const auto& [name, value] : limits) {
    if (value.count() > 0) sql += std::string("; SET ") + name + " = " + ms(value);
  }
  setup.exec0(sql);
  return *conn_;
}

void Database::reset() {
  {
    // The watchdog never touches a descriptor after this: it may be reused once closed.
    std::lock_guard lock(watch_->mutex);
    watch_->fd = -1;
  }
  conn_.reset();
  prepared_.clear();
}

void Database::arm() {
  if (settings_.operation_timeout.count() <= 0) return;
  std::lock_guard lock(watch_->mutex);
  watch_->deadline = std::chrono::steady_clock::now() + settings_.operation_timeout;
  watch_->overran = false;
}

void Database::disarm() {
  std::lock_guard lock(watch_->mutex);
  watch_->deadline = std::chrono::steady_clock::time_point::max();
}

bool Database::overran() const {
  std::lock_guard lock(watch_->mutex);
  return watch_->overran;
}

bool Database::is_open() const {
  return conn_ && conn_->is_open();
}

void Database::ensure_prepared(const Statement& s) {
  if (prepared_.count(s.name) != 0) return;
  connection().prepare(s.name, s.sql);
  prepared_.insert(s.name);
}

namespace {
// SQLSTATEs that say "not now" rather than "never": the client gets 503 and may retry.
const char* transient(const std::string& sqlstate) {
  if (sqlstate.rfind("40", 0) == 0) return "transaction rolled back";
  if (sqlstate == "25006") return "read-only server (failover?)";
  if (sqlstate == "57014") return "statement timeout";
  if (sqlstate == "55P03") return "lock timeout";
  if (sqlstate.rfind("57P", 0) == 0) return "server shutting down";
  if (sqlstate.rfind("53", 0) == 0) return "server out of resources";
  return nullptr;
}
}  // namespace

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
  } catch (const pqxx::transaction_rollback& e) {
    // Deadlock or serialization failure: the server rolled back; the client may retry.
    spdlog::warn("db: {}: transaction rolled back by the server: {}", what_for, e.what());
    Error err = Error::unavailable();
    err.retry_after = std::chrono::seconds(1);
    return err;
  } catch (const pqxx::sql_error& e) {
    if (const auto reason = transient(e.sqlstate())) {
      spdlog::warn("db: {}: {} ({})", what_for, reason, e.sqlstate());
      Error err = Error::unavailable();
      err.retry_after = std::chrono::seconds(1);
      return err;
    }
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
