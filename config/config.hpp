// The server's whole configuration: one typed struct, read from the environment and an optional
// .env file, validated once at start-up.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace marketlink::config {

struct Config {
  // Security
  std::string secret_key;
  bool debug = false;
  // Host header values served (Django's rules: "*" any, ".example.com" the domain and its
  // subdomains); any other Host is answered 400.
  std::vector<std::string> allowed_hosts{"localhost", "127.0.0.1", "[::1]"};
  // Peers whose X-Forwarded-For names the client (CIDRs); empty: the TCP peer is the client.
  std::vector<std::string> trusted_proxies;

  // PostgreSQL and Redis
  std::string database_url;
  std::string redis_host = "127.0.0.1";
  uint16_t redis_port = 6379;
  int redis_db = 0;
  std::string redis_password;
  std::chrono::milliseconds redis_timeout{500};
  std::chrono::milliseconds db_connect_timeout{3000};
  // Server-side limits on every pooled connection (`migrate` has its own, longer ones), and the
  // client-side bound on one transaction: past DB_STATEMENT_TIMEOUT_MS plus one second its socket
  // is shut, so a frozen PostgreSQL costs bounded time even when nothing on the wire says so.
  std::chrono::milliseconds db_statement_timeout{5000};
  std::chrono::milliseconds db_lock_timeout{2000};
  std::chrono::milliseconds db_idle_in_transaction_timeout{10000};
  std::chrono::milliseconds migrate_statement_timeout{600000};
  std::chrono::milliseconds migrate_lock_timeout{30000};
  // The stock gate's own Redis timeout (stock jobs run on PostgreSQL workers; a slow Redis must
  // not hold them for long).
  std::chrono::milliseconds redis_gate_timeout{150};
  // How often the health prober checks PostgreSQL and Redis on its own connections.
  std::chrono::milliseconds health_interval{1000};
  std::string time_zone = "Asia/Dhaka";

  // SSLCommerz
  std::string webhook_secret;  // the store API password
  std::string sslcommerz_store_id;
  bool sslcommerz_is_sandbox = true;
  std::string sslcommerz_session_url;
  std::string sslcommerz_validation_url;
  std::string sslcommerz_transaction_url;  // the transaction query by tran_id (§6.2)
  std::chrono::seconds gateway_timeout{10};
  std::string base_domain = "http://localhost:8000";

  // HTTP edge
  std::string http_host = "127.0.0.1";
  uint16_t http_port = 8000;
  int http_threads = 2;
  std::size_t max_body_bytes = 1024 * 1024;
  std::size_t max_connections = 10000;
  std::size_t max_connections_per_address = 256;  // 0: off; trusted proxies are exempt
  std::chrono::seconds header_timeout{15};
  std::chrono::seconds idle_timeout{60};
  std::chrono::seconds request_timeout{30};
  std::chrono::seconds shutdown_grace{10};
  // On SIGTERM: /readyz answers 503 "draining" (a balancer takes the process out of its pool)
  // while requests are still served, for this long; then the server stops accepting.
  std::chrono::milliseconds drain_time{0};
  std::vector<std::string> metrics_allow{"127.0.0.0/8", "::1/128"};

  // Actor system
  int actor_threads = 2;
  int actor_throughput = 50;
  int db_pool_size = 4;
  int hash_pool_size = 2;
  std::size_t pool_queue_limit = 10000;
  // Password hashes waiting for the hash pool; beyond it logins and registrations are 503 at once.
  std::size_t hash_queue_limit = 256;
  // Every pool job and every ask of an actor has a deadline; a step that misses it is answered
  // 503 (Retry-After) instead of waiting.
  std::chrono::milliseconds job_timeout{10000};
  // While the process is busy, a shared write transaction whose members can all wait (sessions,
  // confirmations, outbox jobs, user lookups — not stock batches) waits this long for more:
  // fewer commits for a little latency. 0: never waits.
  std::chrono::microseconds commit_linger{1000};
  std::chrono::milliseconds ask_timeout{25000};

  // Accounts
  std::chrono::seconds jwt_access_ttl{2 * 24 * 3600};
  std::chrono::seconds jwt_refresh_ttl{7 * 24 * 3600};
  uint32_t argon2_memory_kib = 19456;
  uint32_t argon2_iterations = 2;
  // An authenticated user is remembered this long, so a request does not cost a database read;
  // a deactivation in this process evicts it at once (others within this bound). 0: off.
  std::chrono::seconds auth_cache_ttl{2};
  // Rendered catalog pages (lists and details) are served from memory this long: another
  // process's catalog write, and stock figures, show within it; a write in this process at
  // once. 0: off.
  std::chrono::milliseconds catalog_cache_ttl{1000};
  int catalog_cache_entries = 4096;
  int login_max_failures = 10;
  std::chrono::seconds login_lock_time{15 * 60};
  int register_per_minute = 3000;
  int login_per_minute = 600;  // login attempts per client address; 0: off

  // Orders and stock
  std::chrono::seconds order_reservation_ttl{1800};
  int order_rate_per_minute = 1000;     // orders per client address; 0: off
  int order_pending_per_customer = 20;  // unpaid orders one customer may hold at once; 0: off
  std::chrono::seconds order_sweep_interval{5};
  int order_sweep_batch = 1000;  // orders one sweep releases at most
  // An expired order whose payment the gateway reports in progress (or that the gateway cannot be
  // asked about) stays pending this long past expires_at, asked again every
  // GATEWAY_RECHECK_SECONDS.
  std::chrono::seconds order_payment_grace{900};
  // A batch's units in flight in Redis are forgotten this long after its gate (its process died
  // between gate and settle); never less than JOB_TIMEOUT_MS + DB_STATEMENT_TIMEOUT_MS + 2 s.
  std::chrono::seconds stock_inflight_ttl{30};
  // A busy stock actor reconciles its Redis counter with PostgreSQL this often.
  std::chrono::seconds stock_reconcile_interval{30};
  std::chrono::seconds gateway_recheck_interval{30};
  // The janitor deletes rows nothing reads any more (persistence/sql/retention.hpp) this often,
  // keeping finished outbox jobs and expired refresh tokens RETENTION_DAYS.
  std::chrono::seconds purge_interval{3600};
  int retention_days = 30;
  int stock_batch_size = 64;                             // reservations per group commit
  std::chrono::seconds stock_idle_timeout{60};           // a stock actor stops after this idle time
  std::chrono::milliseconds stock_soldout_recheck{250};  // trust "sold out" in memory this long

  // After-payment jobs (the outbox)
  std::chrono::seconds outbox_poll_interval{2};  // due retries are picked up this often
  // A claimed job is renewed every poll while it runs, and taken over by any process this long
  // after its process stopped renewing it (at least twice the poll interval).
  std::chrono::seconds outbox_lease{6};
  int outbox_max_attempts = 10;  // then the job is dead until an operator retries
  int outbox_batch_size = 64;
  std::chrono::milliseconds outbox_linger{20};  // a partial batch waits this long for more jobs

  // Cluster membership (actors/cluster/membership): this process's id (default host-pid-random),
  // how often its record is renewed, and how long an unrenewed record still counts as live.
  std::string member_name;
  // Several deployments may share one Redis: each lists only the members of its CLUSTER_NAME.
  std::string cluster_name;
  std::chrono::milliseconds member_heartbeat{1000};
  std::chrono::milliseconds member_ttl{5000};
  // The address other members and the console reach this process at (default host:port bound).
  std::string member_address;
  // Ownership of variants across the cluster (actors/cluster/ownership): the port this process's
  // link listens on for other members (CAF's network layer; 0: any free port), -1 (unset): off,
  // every process owns every variant for itself. The link has no authentication of its own: bind
  // it to an interface only the members reach.
  int link_port = -1;
  std::string link_bind = "127.0.0.1";
  std::string link_advertise;  // the host other members connect to (default: bind or hostname)

  std::string log_level = "info";

  // Crash drills (MARKETLINK_FAULT), for tests only: "kill_after_payment_commit" makes the
  // process SIGKILL itself right after a payment confirmation commits, before anything else.
  std::string fault_drill_for_test;
};

// Reads a variable by name; std::nullopt when it is not set.
using Lookup = std::function<std::optional<std::string>(const std::string&)>;

struct LoadResult {
  Config config;
  std::vector<std::string> problems;  // empty when the configuration is usable
  // Further problems that stop `serve` and `check` (not `migrate`): weak or missing secrets a
  // production server must not run with (all waived by DEBUG).
  std::vector<std::string> serve_problems;
  std::vector<std::string> warnings;  // logged at start-up
};

// Builds the configuration from `lookup`; every problem found is reported, not only the first.
LoadResult load(const Lookup& lookup);

// The process environment, falling back to the KEY=VALUE lines of `env_file` when it exists.
// Variables of the real environment win over the file.
Lookup environment_with_file(const std::string& env_file);

// Parses the lines of a .env file (KEY=VALUE, optional quotes, # comments, `export ` prefix).
std::vector<std::pair<std::string, std::string>> parse_env_file(const std::string& text);

// A one-line description of the configuration for the start-up log, with every secret left out.
std::string describe(const Config& config);

}  // namespace marketlink::config
