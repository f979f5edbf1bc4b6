// An in-process MarketLink (actors + HTTP on an ephemeral port) against the real PostgreSQL and
// Redis named by DATABASE_URL / REDIS_HOST / REDIS_PORT, plus helpers to make users.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "actors/accounts/accounts.hpp"
#include "actors/runtime/runtime.hpp"
#include "config/config.hpp"
#include "http/handler_support.hpp"
#include "http/series.hpp"
#include "http/server/server.hpp"
#include "persistence/database.hpp"
#include "tests/support/fake_sslcommerz.hpp"
#include "tests/support/http_client.hpp"

namespace marketlink::testing {

using Overrides = std::map<std::string, std::string>;

struct TestUser {
  std::string id, email, password, role, access, refresh;
};

// The test configuration: the environment (services), fixed test secrets, light Argon2 cost,
// port 0, plus `overrides`.
config::Config test_config(const std::map<std::string, std::string>& overrides = {});

class TestServer {
 public:
  explicit TestServer(const std::map<std::string, std::string>& overrides = {});
  ~TestServer();

  // The process-wide default server, started on first use.
  static TestServer& shared();
  static void stop_shared();

  uint16_t port() const { return port_; }
  const config::Config& config() const { return config_; }
  actors::Runtime& runtime() { return services_->runtime; }
  http::HttpServer& http() { return *server_; }
  const http::Router& router() const { return *router_; }
  // The ops WebSocket's path (served by the HTTP server itself, not through the router).
  const std::string& stream_path() const { return stream_path_; }
  actors::StockService& stock() { return services_->stock; }
  actors::OrderService& orders() { return services_->orders; }
  actors::OutboxService& outbox() { return services_->outbox; }
  actors::Janitor& janitor() { return services_->janitor; }
  HttpClient client() const { return HttpClient(port_); }

  // Stops HTTP and actors now (for shutdown tests); idempotent.
  void stop();

  TestUser register_user(const std::string& role, const std::string& extra_json = "");
  TestUser create_admin();

 private:
  config::Config config_;
  std::unique_ptr<actors::Services> services_;
  std::unique_ptr<http::App> app_;
  std::unique_ptr<http::Router> router_;
  std::unique_ptr<http::HttpServer> server_;
  std::unique_ptr<http::SeriesSampler> sampler_;
  std::string stream_path_;
  uint16_t port_ = 0;
  bool stopped_ = false;
};

std::string unique_email(const std::string& prefix = "user");
std::string unique_suffix();

// Waits (bounded, polling every millisecond) for a condition that another thread or process makes
// true; false if it never does.
template <class F>
bool eventually(F condition, int ms = 10000) {
  for (int i = 0; i < ms; ++i) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return condition();
}

// Sets a vendor's activation directly in PostgreSQL (what an admin would do).
void set_vendor_active(const TestUser& vendor, bool active);

struct TestVariant {
  int64_t id = 0;
  std::string service_id;
  TestUser vendor;
};
// A new active vendor with a service whose one variant has `stock` units at `price`.
TestVariant make_variant(TestServer& server, int stock, const std::string& price = "1500.00");
int db_stock(int64_t variant);
// POST /api/v1/orders/ for `variant` as `customer` (with `extra` headers, e.g. Idempotency-Key).
HttpResult post_order(TestServer& server, const TestUser& customer, int64_t variant,
                      const std::vector<std::pair<std::string, std::string>>& extra = {});
int count_orders(int64_t variant, const std::string& status);

// The process-wide fake gateway the test configuration points at.
FakeSslcommerz& shared_gateway();
constexpr const char* kStoreId = "teststore";
constexpr const char* kStorePassword = "test-store-pass";

// The environment of a child `marketlink serve` on `port` sharing this test run's PostgreSQL and
// Redis, with the test store and `session_url` as the gateway (add to it what a test needs).
std::map<std::string, std::string> server_process_env(const config::Config& cfg, uint16_t port,
                                                      const std::string& session_url);

// Waits (bounded) until a server process on `port` answers /healthz; false if it never does.
bool serving(uint16_t port);

// A direct PostgreSQL connection for assertions and set-up in SQL.
persistence::Database& test_db();

}  // namespace marketlink::testing
