// Test server and helpers.
#include "tests/support/test_server.hpp"

#include <future>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <random>

#include <spdlog/spdlog.h>

#include "http/app.hpp"
#include "persistence/database.hpp"
#include "persistence/redis_client.hpp"

namespace marketlink::testing {

config::Config test_config(const std::map<std::string, std::string>& overrides) {
  std::map<std::string, std::string> fixed{
      {"SECRET_KEY", "test-secret-key-for-marketlink-tests"},
      {"HTTP_HOST", "127.0.0.1"},
      {"HTTP_PORT", "0"},
      {"ARGON2_MEMORY_KIB", "1024"},
      {"ARGON2_ITERATIONS", "1"},
      {"LOG_LEVEL", "warn"},
      {"SHUTDOWN_GRACE", "5"},
      {"BASE_DOMAIN", "http://testserver"},
      {"OUTBOX_POLL_SECONDS", "1"},
      {"OUTBOX_LEASE_SECONDS", "2"},
      {"SSLCOMMERZ_STORE_ID", kStoreId},
      {"WEBHOOK_SECRET", kStorePassword},
      {"SSLCOMMERZ_SESSION_URL", shared_gateway().session_url()},
      {"SSLCOMMERZ_VALIDATION_URL", shared_gateway().validation_url()},
      {"SSLCOMMERZ_TRANSACTION_URL", shared_gateway().transaction_url()},
      {"GATEWAY_TIMEOUT", "2"},
      {"GATEWAY_RECHECK_SECONDS", "1"},
      // Test processes share one Redis and all come from 127.0.0.1: the per-address and
      // per-customer limits are off unless a test turns them on (tests/integration/limits_test).
      {"ORDER_RATE_PER_MINUTE", "0"},
      {"ORDER_PENDING_PER_CUSTOMER", "0"},
      {"LOGIN_RATE_PER_MINUTE", "0"},
  };
  for (const auto& [k, v] : overrides) fixed[k] = v;
  auto loaded = config::load([&](const std::string& name) -> std::optional<std::string> {
    if (auto it = fixed.find(name); it != fixed.end()) return it->second;
    if (const char* v = std::getenv(name.c_str())) return std::string(v);
    return std::nullopt;
  });
  if (!loaded.problems.empty()) {
    std::string all;
    for (const auto& p : loaded.problems) all += p + "; ";
    throw std::runtime_error("test configuration invalid (is DATABASE_URL set?): " + all);
  }
  return loaded.config;
}

TestServer::TestServer(const std::map<std::string, std::string>& overrides)
    : config_(test_config(overrides)) {
  spdlog::set_level(spdlog::level::from_str(config_.log_level));
  services_ = std::make_unique<actors::Services>(config_);
  app_ = std::make_unique<http::App>(http::App{config_, *services_});
  router_ = std::make_unique<http::Router>(http::build_router(*app_));
  server_ = std::make_unique<http::HttpServer>(config_, *router_);
  app_->open_connections = [server = server_.get()] { return server->open_connections(); };
  auto stream = http::ops_stream(*app_);
  stream_path_ = stream.path;
  server_->set_stream(std::move(stream));
  port_ = server_->start();
  sampler_ = std::make_unique<http::SeriesSampler>(*app_);
  services_->membership.set_source(
      http::member_publication(*app_, "127.0.0.1:" + std::to_string(port_)));
}

TestServer::~TestServer() {
  stop();
}

void TestServer::stop() {
  if (stopped_) return;
  stopped_ = true;
  server_->stop();
  sampler_.reset();
  // Off the cluster list at once (other processes' tests list the members).
  auto left = std::make_shared<std::promise<void>>();
  services_->membership.leave([left](const Result<Unit>&) { left->set_value(); });
  left->get_future().wait_for(std::chrono::seconds(2));
  services_->runtime.shutdown();
}

namespace {
std::unique_ptr<TestServer>& shared_slot() {
  static std::unique_ptr<TestServer> slot;
  return slot;
}
}  // namespace

TestServer& TestServer::shared() {
  auto& slot = shared_slot();
  if (!slot) slot = std::make_unique<TestServer>();
  return *slot;
}

void TestServer::stop_shared() {
  shared_slot().reset();
}

std::string unique_suffix() {
  static std::atomic<int> counter{0};
  static const auto seed = std::random_device{}();
  return std::to_string(seed % 100000000) + "x" +
         std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 1000000000) +
         "n" + std::to_string(counter++);
}

std::string unique_email(const std::string& prefix) {
  return prefix + "." + unique_suffix() + "@example.com";
}

TestUser TestServer::register_user(const std::string& role, const std::string& extra_json) {
  TestUser u;
  u.email = unique_email(role);
  u.password = "Sturdy-Pass-42";
  u.role = role;
  auto c = client();
  auto r = c.post("/api/v1/auth/register/", R"({"email":")" + u.email + R"(","password":")" +
                                                u.password + R"(","password2":")" + u.password +
                                                R"(","role":")" + role + "\"" + extra_json + "}");
  if (r.status != 201)
    throw std::runtime_error("register failed: " + std::to_string(r.status) + " " + r.body);
  auto j = r.json().as_object();
  u.id = std::string(j["user"].as_object()["id"].as_string());
  u.access = std::string(j["tokens"].as_object()["access"].as_string());
  u.refresh = std::string(j["tokens"].as_object()["refresh"].as_string());
  return u;
}

TestUser TestServer::create_admin() {
  TestUser u;
  u.email = unique_email("admin");
  u.password = "Admin-Pass-Strong-1";
  u.role = "admin";
  const actors::HashParams params{config_.argon2_memory_kib, config_.argon2_iterations, 1};
  auto row = actors::Accounts::create_superuser(test_db(), u.email, u.password, params);
  if (!row) throw std::runtime_error("createsuperuser failed: " + row.error().message);
  u.id = row->id;
  auto r = client().post("/api/v1/auth/login/",
                         R"({"email":")" + u.email + R"(","password":")" + u.password + "\"}");
  if (r.status != 200) throw std::runtime_error("admin login failed: " + r.body);
  auto j = r.json().as_object();
  u.access = std::string(j["access"].as_string());
  u.refresh = std::string(j["refresh"].as_string());
  return u;
}

FakeSslcommerz& shared_gateway() {
  static FakeSslcommerz& gateway = []() -> FakeSslcommerz& {
    static FakeSslcommerz g(kStoreId, kStorePassword, 2);
    // Every test process's fake is one gateway: a server process of another test that sweeps
    // an expired order asks its own fake, which must know the payment this one took.
    if (const char* host = std::getenv("REDIS_HOST")) {
      persistence::RedisSettings r;
      r.host = host;
      if (const char* port = std::getenv("REDIS_PORT"))
        r.port = static_cast<uint16_t>(std::stoi(port));
      g.share_ledger(r);
    }
    return g;
  }();
  return gateway;
}

persistence::Database& test_db() {
  static persistence::Database db(persistence::db_settings(test_config()));
  return db;
}

}  // namespace marketlink::testing

namespace marketlink::testing {

void set_vendor_active(const TestUser& vendor, bool active) {
  pqxx::work w(test_db().connection());
  w.exec_params0("UPDATE vendor_profiles SET is_active = $2 WHERE user_id = $1", vendor.id, active);
  w.commit();
}

TestVariant make_variant(TestServer& server, int stock, const std::string& price) {
  TestVariant v;
  v.vendor = server.register_user("vendor");
  set_vendor_active(v.vendor, true);
  auto r = server.client().post("/api/v1/services/",
                                R"({"name":"Repair )" + unique_suffix() +
                                    R"(","description":"d","variants":[{"name":"Basic","price":")" +
                                    price + R"(","estimated_minutes":60,"stock":)" +
                                    std::to_string(stock) + "}]}",
                                v.vendor.access);
  if (r.status != 201) throw std::runtime_error("create service: " + r.body);
  auto j = r.json().as_object();
  v.service_id = std::string(j["id"].as_string());
  v.id = j["variants"].as_array()[0].as_object()["id"].as_int64();
  return v;
}

HttpResult post_order(TestServer& server, const TestUser& customer, int64_t variant,
                      const std::vector<std::pair<std::string, std::string>>& extra) {
  std::vector<std::pair<std::string, std::string>> headers{
      {"Content-Type", "application/json"}, {"Authorization", "Bearer " + customer.access}};
  for (const auto& h : extra) headers.push_back(h);
  return server.client().request("POST", "/api/v1/orders/",
                                 R"({"variant":)" + std::to_string(variant) + "}", headers);
}

int db_stock(int64_t variant) {
  pqxx::work w(test_db().connection());
  auto v = w.exec_params1("SELECT stock FROM service_variants WHERE id = $1", variant)[0].as<int>();
  w.commit();
  return v;
}

int count_orders(int64_t variant, const std::string& status) {
  pqxx::work w(test_db().connection());
  auto v = w.exec_params1("SELECT count(*) FROM orders WHERE variant_id = $1 AND status = $2",
                          variant, status)[0]
               .as<int>();
  w.commit();
  return v;
}

bool serving(uint16_t port) {
  return eventually([port] {
    try {
      return HttpClient(port).get("/healthz").status == 200;
    } catch (const std::exception&) {
      return false;
    }
  });
}

namespace {
// The fake's other endpoints, beside its session URL.
std::string gateway_url(const std::string& session_url, const std::string& validator_api) {
  const auto at = session_url.find("/gwprocess/");
  return session_url.substr(0, at) + "/validator/api/" + validator_api;
}
}  // namespace

std::map<std::string, std::string> server_process_env(const config::Config& cfg, uint16_t port,
                                                      const std::string& session_url) {
  return {
      {"DATABASE_URL", cfg.database_url},
      {"REDIS_HOST", cfg.redis_host},
      {"REDIS_PORT", std::to_string(cfg.redis_port)},
      {"SECRET_KEY", cfg.secret_key},
      {"HTTP_PORT", std::to_string(port)},
      {"SSLCOMMERZ_STORE_ID", kStoreId},
      {"WEBHOOK_SECRET", kStorePassword},
      {"SSLCOMMERZ_SESSION_URL", session_url},
      {"SSLCOMMERZ_VALIDATION_URL", gateway_url(session_url, "validationserverAPI.php")},
      {"SSLCOMMERZ_TRANSACTION_URL", gateway_url(session_url, "merchantTransIDvalidationAPI.php")},
      {"LOG_LEVEL", "warn"},
      {"ORDER_RATE_PER_MINUTE", "0"},
      {"ORDER_PENDING_PER_CUSTOMER", "0"},
      {"LOGIN_RATE_PER_MINUTE", "0"},
      {"ENV_FILE", "/nonexistent"}};
}

}  // namespace marketlink::testing
