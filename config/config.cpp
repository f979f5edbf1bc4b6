// Reading and validating the configuration.
#include "config/config.hpp"
#include "config/text.hpp"

#include <boost/url/parse.hpp>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

namespace marketlink::config {
namespace {

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    auto t = trim(item);
    if (!t.empty()) out.push_back(t);
  }
  return out;
}

// Collects the problems while reading typed values, so all of them are reported at once.
class Reader {
 public:
  Reader(const Lookup& lookup, std::vector<std::string>& problems)
      : lookup_(lookup), problems_(problems) {}

  std::optional<std::string> raw(const std::string& name) const { return lookup_(name); }

  void string(const std::string& name, std::string& out) const {
    if (auto v = lookup_(name)) out = *v;
  }

  void boolean(const std::string& name, bool& out) const {
    auto v = lookup_(name);
    if (!v) return;
    std::string s;
    for (char c : trim(*v))
      s.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    if (s == "1" || s == "true" || s == "yes" || s == "on") {
      out = true;
    } else if (s == "0" || s == "false" || s == "no" || s == "off" || s.empty()) {
      out = false;
    } else {
      problems_.push_back(name + ": expected a boolean (true/false), got \"" + *v + "\"");
    }
  }

  template <class Int>
  void integer(const std::string& name, Int& out, long long min, long long max) const {
    auto v = lookup_(name);
    if (!v) return;
    const auto s = trim(*v);
    long long parsed = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), parsed);
    if (ec != std::errc{} || ptr != s.data() + s.size() || s.empty()) {
      problems_.push_back(name + ": expected an integer, got \"" + *v + "\"");
      return;
    }
    if (parsed < min || parsed > max) {
      problems_.push_back(name + ": " + s + " is out of range [" + std::to_string(min) + ", " +
                          std::to_string(max) + "]");
      return;
    }
    out = static_cast<Int>(parsed);
  }

  template <class Duration>
  void duration(const std::string& name, Duration& out, long long min, long long max) const {
    long long count = out.count();
    integer(name, count, min, max);
    out = Duration(count);
  }

  void url(const std::string& name, std::string& out,
           std::initializer_list<std::string_view> schemes, bool required) const {
    auto v = lookup_(name);
    if (!v || v->empty()) {
      if (required && out.empty()) problems_.push_back(name + ": is required");
      return;
    }
    auto parsed = boost::urls::parse_absolute_uri(*v);
    bool ok = parsed.has_value() && parsed->has_authority() && !parsed->host().empty();
    if (ok) {
      ok = false;
      for (auto scheme : schemes) ok = ok || parsed->scheme() == scheme;
    }
    if (!ok) {
      // The value may hold a password: name the variable, never echo it.
      problems_.push_back(name + ": is not a valid URL of the expected scheme");
      return;
    }
    out = *v;
  }

 private:
  const Lookup& lookup_;
  std::vector<std::string>& problems_;
};

}  // namespace

std::vector<std::pair<std::string, std::string>> parse_env_file(const std::string& text) {
  std::vector<std::pair<std::string, std::string>> out;
  std::stringstream ss(text);
  std::string line;
  while (std::getline(ss, line)) {
    auto t = trim(line);
    if (t.empty() || t[0] == '#') continue;
    if (t.rfind("export ", 0) == 0) t = trim(t.substr(7));
    const auto eq = t.find('=');
    if (eq == std::string::npos) continue;
    auto key = trim(t.substr(0, eq));
    auto value = trim(t.substr(eq + 1));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
        value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    }
    if (!key.empty()) out.emplace_back(std::move(key), std::move(value));
  }
  return out;
}

Lookup environment_with_file(const std::string& env_file) {
  auto file_values = std::make_shared<std::map<std::string, std::string>>();
  std::ifstream in(env_file);
  if (in) {
    std::stringstream buf;
    buf << in.rdbuf();
    for (auto& [k, v] : parse_env_file(buf.str())) (*file_values)[k] = v;
  }
  return [file_values](const std::string& name) -> std::optional<std::string> {
    if (const char* v = std::getenv(name.c_str())) return std::string(v);
    if (auto it = file_values->find(name); it != file_values->end()) return it->second;
    return std::nullopt;
  };
}

LoadResult load(const Lookup& lookup) {
  LoadResult result;
  auto& c = result.config;
  auto& problems = result.problems;
  Reader r(lookup, problems);

  r.boolean("DEBUG", c.debug);
  r.string("SECRET_KEY", c.secret_key);
  if (c.secret_key.empty() && !c.debug) {
    problems.emplace_back("SECRET_KEY: is required when DEBUG is off");
  } else if (!c.secret_key.empty() && c.secret_key.size() < 16) {
    problems.emplace_back("SECRET_KEY: must be at least 16 characters long");
  } else if (c.secret_key.size() < 32 && !c.debug) {
    // RFC 7518 §3.2: an HS256 key of at least 256 bits.
    result.serve_problems.emplace_back(
        "SECRET_KEY: must be at least 32 bytes (256 bits) of random data when DEBUG is off");
  }
  if (auto v = r.raw("ALLOWED_HOSTS")) c.allowed_hosts = split_list(*v);
  if (c.allowed_hosts.empty()) {
    problems.emplace_back("ALLOWED_HOSTS: must name at least one host (or *)");
  }
  if (auto v = r.raw("TRUSTED_PROXIES")) c.trusted_proxies = split_list(*v);

  r.url("DATABASE_URL", c.database_url, {"postgresql", "postgres"}, true);
  r.string("REDIS_HOST", c.redis_host);
  if (c.redis_host.empty()) problems.emplace_back("REDIS_HOST: must not be empty");
  r.integer("REDIS_PORT", c.redis_port, 1, 65535);
  r.integer("REDIS_DB", c.redis_db, 0, 15);
  r.string("REDIS_PASSWORD", c.redis_password);
  r.duration("REDIS_TIMEOUT_MS", c.redis_timeout, 10, 60000);
  r.duration("DB_CONNECT_TIMEOUT_MS", c.db_connect_timeout, 100, 60000);
  r.duration("DB_STATEMENT_TIMEOUT_MS", c.db_statement_timeout, 100, 3600000);
  r.duration("DB_LOCK_TIMEOUT_MS", c.db_lock_timeout, 10, 3600000);
  r.duration("DB_IDLE_IN_TRANSACTION_TIMEOUT_MS", c.db_idle_in_transaction_timeout, 100, 3600000);
  r.duration("MIGRATE_STATEMENT_TIMEOUT_MS", c.migrate_statement_timeout, 1000, 86400000);
  r.duration("MIGRATE_LOCK_TIMEOUT_MS", c.migrate_lock_timeout, 100, 86400000);
  r.duration("REDIS_GATE_TIMEOUT_MS", c.redis_gate_timeout, 10, 60000);
  r.duration("HEALTH_INTERVAL_MS", c.health_interval, 50, 60000);
  r.string("TIME_ZONE", c.time_zone);

  r.string("WEBHOOK_SECRET", c.webhook_secret);
  r.string("SSLCOMMERZ_STORE_ID", c.sslcommerz_store_id);
  r.boolean("SSLCOMMERZ_IS_SANDBOX", c.sslcommerz_is_sandbox);
  if (!c.debug) {
    // With an empty store password anyone can sign a notification (md5("") is public knowledge).
    if (c.webhook_secret.empty())
      result.serve_problems.emplace_back(
          "WEBHOOK_SECRET: the SSLCommerz store password is required when DEBUG is off");
    if (c.sslcommerz_store_id.empty())
      result.serve_problems.emplace_back("SSLCOMMERZ_STORE_ID: is required when DEBUG is off");
  }
  if (c.sslcommerz_is_sandbox) {
    result.warnings.emplace_back(
        "SSLCOMMERZ_IS_SANDBOX is on: payments go to the SSLCommerz sandbox and no real money "
        "moves (set SSLCOMMERZ_IS_SANDBOX=false in production)");
  }
  const auto default_gateway = c.sslcommerz_is_sandbox
                                   ? std::string("https://sandbox.sslcommerz.com")
                                   : std::string("https://securepay.sslcommerz.com");
  c.sslcommerz_session_url = default_gateway + "/gwprocess/v4/api.php";
  c.sslcommerz_validation_url = default_gateway + "/validator/api/validationserverAPI.php";
  c.sslcommerz_transaction_url =
      default_gateway + "/validator/api/merchantTransIDvalidationAPI.php";
  r.url("SSLCOMMERZ_SESSION_URL", c.sslcommerz_session_url, {"http", "https"}, false);
  r.url("SSLCOMMERZ_VALIDATION_URL", c.sslcommerz_validation_url, {"http", "https"}, false);
  r.url("SSLCOMMERZ_TRANSACTION_URL", c.sslcommerz_transaction_url, {"http", "https"}, false);
  // Plain HTTP to the gateway is only for a gateway on this machine (the tests' fake).
  for (const auto& [name, value] :
       {std::pair{"SSLCOMMERZ_SESSION_URL", &c.sslcommerz_session_url},
        {"SSLCOMMERZ_VALIDATION_URL", &c.sslcommerz_validation_url},
        {"SSLCOMMERZ_TRANSACTION_URL", &c.sslcommerz_transaction_url}}) {
    auto u = boost::urls::parse_absolute_uri(*value);
    if (u && u->scheme() == "http") {
      const auto host = u->host();
      if (host != "127.0.0.1" && host != "localhost" && host != "[::1]" && !c.debug) {
        problems.push_back(std::string(name) +
                           ": must be https unless the gateway runs on this machine");
      }
    }
  }
  r.duration("GATEWAY_TIMEOUT", c.gateway_timeout, 1, 300);
  r.url("BASE_DOMAIN", c.base_domain, {"http", "https"}, false);
  while (!c.base_domain.empty() && c.base_domain.back() == '/') c.base_domain.pop_back();

  r.string("HTTP_HOST", c.http_host);
  r.integer("HTTP_PORT", c.http_port, 0, 65535);
  r.integer("HTTP_THREADS", c.http_threads, 1, 256);
  r.integer("MAX_BODY_BYTES", c.max_body_bytes, 1024, 64LL * 1024 * 1024);
  r.integer("MAX_CONNECTIONS", c.max_connections, 1, 1000000);
  r.integer("MAX_CONNECTIONS_PER_ADDRESS", c.max_connections_per_address, 0, 1000000);
  r.duration("HTTP_HEADER_TIMEOUT", c.header_timeout, 1, 3600);
  r.duration("HTTP_IDLE_TIMEOUT", c.idle_timeout, 1, 3600);
  r.duration("HTTP_REQUEST_TIMEOUT", c.request_timeout, 1, 3600);
  r.duration("SHUTDOWN_GRACE", c.shutdown_grace, 0, 3600);
  r.duration("DRAIN_MS", c.drain_time, 0, 600000);
  r.duration("MEMBER_HEARTBEAT_MS", c.member_heartbeat, 100, 60000);
  r.duration("MEMBER_TTL_MS", c.member_ttl, 300, 600000);
  r.string("MEMBER_NAME", c.member_name);
  r.string("CLUSTER_NAME", c.cluster_name);
  r.string("MEMBER_ADDRESS", c.member_address);
  if (auto v = r.raw("CLUSTER_LINK_PORT"); v && !trim(*v).empty()) {
    r.integer("CLUSTER_LINK_PORT", c.link_port, 0, 65535);
  }
  r.string("CLUSTER_LINK_BIND", c.link_bind);
  r.string("CLUSTER_LINK_ADVERTISE", c.link_advertise);
  if (c.member_ttl <= c.member_heartbeat) {
    problems.emplace_back("MEMBER_TTL_MS: must be longer than MEMBER_HEARTBEAT_MS");
  }
  if (auto v = r.raw("METRICS_ALLOW")) c.metrics_allow = split_list(*v);

  r.integer("ACTOR_THREADS", c.actor_threads, 1, 256);
  r.integer("ACTOR_THROUGHPUT", c.actor_throughput, 1, 100000);
  r.integer("DB_POOL_SIZE", c.db_pool_size, 1, 256);
  r.integer("HASH_POOL_SIZE", c.hash_pool_size, 1, 64);
  r.integer("POOL_QUEUE_LIMIT", c.pool_queue_limit, 1, 10000000);
  r.integer("HASH_QUEUE_LIMIT", c.hash_queue_limit, 1, 10000000);
  r.duration("JOB_TIMEOUT_MS", c.job_timeout, 10, 3600000);
  r.duration("COMMIT_LINGER_US", c.commit_linger, 0, 100000);
  r.duration("ASK_TIMEOUT_MS", c.ask_timeout, 10, 3600000);

  r.duration("JWT_ACCESS_TTL", c.jwt_access_ttl, 1, 365LL * 24 * 3600);
  r.duration("JWT_REFRESH_TTL", c.jwt_refresh_ttl, 1, 365LL * 24 * 3600);
  r.integer("ARGON2_MEMORY_KIB", c.argon2_memory_kib, 8, 4LL * 1024 * 1024);
  r.integer("ARGON2_ITERATIONS", c.argon2_iterations, 1, 100);
  r.duration("AUTH_CACHE_SECONDS", c.auth_cache_ttl, 0, 3600);
  r.duration("CATALOG_CACHE_MS", c.catalog_cache_ttl, 0, 60000);
  r.integer("CATALOG_CACHE_ENTRIES", c.catalog_cache_entries, 1, 1000000);
  r.integer("LOGIN_MAX_FAILURES", c.login_max_failures, 1, 1000000);
  r.duration("LOGIN_LOCK_SECONDS", c.login_lock_time, 1, 7LL * 24 * 3600);
  r.integer("REGISTER_RATE_PER_MINUTE", c.register_per_minute, 0, 100000000);
  r.integer("LOGIN_RATE_PER_MINUTE", c.login_per_minute, 0, 100000000);

  r.duration("ORDER_RESERVATION_TTL", c.order_reservation_ttl, 1, 7LL * 24 * 3600);
  r.integer("ORDER_RATE_PER_MINUTE", c.order_rate_per_minute, 0, 100000000);
  r.integer("ORDER_PENDING_PER_CUSTOMER", c.order_pending_per_customer, 0, 1000000);
  r.duration("ORDER_SWEEP_INTERVAL", c.order_sweep_interval, 1, 3600);
  r.integer("ORDER_SWEEP_BATCH", c.order_sweep_batch, 1, 100000);
  r.duration("ORDER_PAYMENT_GRACE", c.order_payment_grace, 0, 7LL * 24 * 3600);
  r.duration("GATEWAY_RECHECK_SECONDS", c.gateway_recheck_interval, 1, 24LL * 3600);
  r.duration("PURGE_INTERVAL", c.purge_interval, 1, 7LL * 24 * 3600);
  r.integer("RETENTION_DAYS", c.retention_days, 1, 3650);
  r.integer("STOCK_BATCH_SIZE", c.stock_batch_size, 1, 10000);
  r.duration("STOCK_IDLE_SECONDS", c.stock_idle_timeout, 1, 7LL * 24 * 3600);
  r.duration("STOCK_SOLDOUT_RECHECK_MS", c.stock_soldout_recheck, 0, 60000);
  r.duration("STOCK_INFLIGHT_TTL_SECONDS", c.stock_inflight_ttl, 1, 3600);
  r.duration("STOCK_RECONCILE_SECONDS", c.stock_reconcile_interval, 1, 24LL * 3600);
  r.duration("OUTBOX_POLL_SECONDS", c.outbox_poll_interval, 1, 3600);
  r.duration("OUTBOX_LEASE_SECONDS", c.outbox_lease, 1, 24LL * 3600);
  if (c.outbox_lease < 2 * c.outbox_poll_interval) {
    problems.emplace_back(
        "OUTBOX_LEASE_SECONDS: must be at least twice OUTBOX_POLL_SECONDS (leases are renewed "
        "every poll)");
  }
  r.integer("OUTBOX_MAX_ATTEMPTS", c.outbox_max_attempts, 1, 1000);
  r.integer("OUTBOX_BATCH_SIZE", c.outbox_batch_size, 1, 10000);
  r.duration("OUTBOX_LINGER_MS", c.outbox_linger, 0, 10000);

  r.string("MARKETLINK_FAULT", c.fault_drill_for_test);
  r.string("LOG_LEVEL", c.log_level);
  static const std::vector<std::string> levels{"trace", "debug", "info", "warn", "error", "off"};
  if (std::find(levels.begin(), levels.end(), c.log_level) == levels.end()) {
    problems.push_back("LOG_LEVEL: must be one of trace, debug, info, warn, error, off");
  }
  return result;
}

std::string describe(const Config& c) {
  std::ostringstream os;
  os << "http=" << c.http_host << ':' << c.http_port << " http_threads=" << c.http_threads
     << " actor_threads=" << c.actor_threads << " db_pool=" << c.db_pool_size
     << " hash_pool=" << c.hash_pool_size << " redis=" << c.redis_host << ':' << c.redis_port << '/'
     << c.redis_db << " debug=" << (c.debug ? "on" : "off") << " base_domain=" << c.base_domain
     << " cluster_link="
     << (c.link_port < 0 ? std::string("off") : c.link_bind + ':' + std::to_string(c.link_port));
  return os.str();
}

}  // namespace marketlink::config
