// Stock under failure and scale-out: Redis stopped mid-run, two server processes sharing one
// PostgreSQL and one Redis. Never more orders than stock; Redis equal to PostgreSQL once quiet.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <csignal>
#include <future>
#include <thread>

#include "actors/stock/stock_service.hpp"
#include "persistence/redis_client.hpp"
#include "persistence/redis_keys.hpp"
#include "tests/support/fault_proxy.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_server.hpp"

using namespace marketlink;
using namespace marketlink::testing;

namespace {

// A private redis-server, so stopping it disturbs no other test.
class PrivateRedis {
 public:
  PrivateRedis() : port_(free_port()) { start(); }
  ~PrivateRedis() { stop(); }
  void start() {
    const auto cmd = "redis-server --port " + std::to_string(port_) +
                     " --bind 127.0.0.1 --save '' --appendonly no --daemonize yes --logfile "
                     "/dev/null --pidfile /tmp/ml-redis-" +
                     std::to_string(port_) + ".pid";
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("redis-server did not start");
    persistence::RedisClient probe({"127.0.0.1", port_, 0, "", std::chrono::milliseconds(200)});
    if (!eventually([&] { return probe.command({"PING"}).ok(); }))
      throw std::runtime_error("redis not answering");
  }
  void stop() {
    const auto cmd = "redis-cli -p " + std::to_string(port_) + " shutdown nosave >/dev/null 2>&1";
    (void)std::system(cmd.c_str());
    persistence::RedisClient probe({"127.0.0.1", port_, 0, "", std::chrono::milliseconds(200)});
    eventually([&] { return !probe.command({"PING"}).ok(); });
  }
  uint16_t port() const { return port_; }

 private:
  uint16_t port_;
};

// Every customer orders once, all at the same moment, spread over `ports`.
int burst(const std::vector<uint16_t>& ports, const std::vector<TestUser>& customers,
          int64_t variant) {
  std::promise<void> go;
  auto start = go.get_future().share();
  std::vector<std::future<int>> results;
  for (std::size_t i = 0; i < customers.size(); ++i) {
    results.push_back(std::async(std::launch::async, [&, i] {
      HttpClient client(ports[i % ports.size()]);
      client.get("/healthz");
      start.wait();
      return client
          .request("POST", "/api/v1/orders/", R"({"variant":)" + std::to_string(variant) + "}",
                   {{"Content-Type", "application/json"},
                    {"Authorization", "Bearer " + customers[i].access}})
          .status;
    }));
  }
  go.set_value();
  int created = 0;
  for (auto& f : results) {
    const int status = f.get();
    EXPECT_TRUE(status == 201 || status == 400) << status;
    created += status == 201 ? 1 : 0;
  }
  return created;
}

std::vector<TestUser> customers(TestServer& server, int n) {
  std::vector<TestUser> out;
  out.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) out.push_back(server.register_user("customer"));
  return out;
}

}  // namespace

TEST(StockResilience, RedisStoppedMidRunNeverOversellsAndResyncsAfter) {
  PrivateRedis redis;
  TestServer s(Overrides{{"REDIS_PORT", std::to_string(redis.port())},
                         {"REDIS_TIMEOUT_MS", "200"},
                         {"STOCK_SOLDOUT_RECHECK_MS", "0"}});
  const auto variant = make_variant(s, 50, "800.00").id;
  auto people = customers(s, 60);
  const std::vector<TestUser> first(people.begin(), people.begin() + 20),
      second(people.begin() + 20, people.begin() + 40), third(people.begin() + 40, people.end());

  int created = burst({s.port()}, first, variant);
  EXPECT_EQ(created, 20);
  redis.stop();  // mid-run: PostgreSQL alone gates reservations
  created += burst({s.port()}, second, variant);
  EXPECT_EQ(created, 40);
  bool degraded = false;
  for (auto& e : s.runtime().registry().snapshot()) {
    if (e.name == "stock/" + std::to_string(variant)) {
      for (auto& [k, v] : e.gauges) degraded = degraded || (k == "redis_degraded" && v == 1);
    }
  }
  EXPECT_TRUE(degraded) << "the stock actor reports Redis as degraded";
  redis.start();  // an empty Redis: the gate is seeded from PostgreSQL again
  created += burst({s.port()}, third, variant);
  EXPECT_EQ(created, 50) << "exactly the stock, never more";
  EXPECT_EQ(db_stock(variant), 0);
  EXPECT_EQ(count_orders(variant, "pending"), 50);
  persistence::RedisClient check(persistence::redis_settings(s.config()));
  // A worker whose Redis connection died with the old server may fail once more and leave the
  // counter stale; the degraded actor then heals it from PostgreSQL on its own.
  EXPECT_TRUE(eventually([&] {
    auto v = check.get_int(persistence::redis_keys::stock(variant));
    return v.ok() && *v == 0;
  })) << "Redis equals PostgreSQL once quiet";
}

TEST(StockResilience, TwoServerProcessesSharingStoresNeverOversell) {
  auto& shared = TestServer::shared();
  const auto variant = make_variant(shared, 25, "800.00").id;
  auto people = customers(shared, 62);
  const auto cfg = shared.config();
  std::vector<pid_t> pids;
  std::vector<uint16_t> ports;
  for (int i = 0; i < 2; ++i) {
    const auto port = free_port();
    const pid_t pid = spawn_process(MARKETLINK_BINARY, {"serve"},
                                    server_process_env(cfg, port, shared_gateway().session_url()));
    pids.push_back(pid);
    ports.push_back(port);
  }
  for (auto port : ports) {
    ASSERT_TRUE(serving(port));
  }
  // One order through each process first, so both stock actors run before the race.
  int created = burst({ports[0]}, {people[0]}, variant);
  created += burst({ports[1]}, {people[1]}, variant);
  created += burst(ports, std::vector<TestUser>(people.begin() + 2, people.end()), variant);
  for (auto pid : pids) {
    const int status = stop_process(pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "graceful exit";
  }
  EXPECT_EQ(created, 25);
  EXPECT_EQ(db_stock(variant), 0);
  EXPECT_EQ(count_orders(variant, "pending"), 25);
  persistence::RedisClient check(persistence::redis_settings(cfg));
  EXPECT_EQ(check.get_int(persistence::redis_keys::stock(variant)).value(), 0);
  EXPECT_EQ(check.get_int(persistence::redis_keys::inflight(variant)).value(), 0);
}

// A vendor renames and reprices a variant through one process while customers take it through
// another. An edit without `stock` must never write back a stock figure it read earlier (that
// undid the other process's reservations: oversold). initial + edits == stock + active orders.
TEST(StockResilience, NameAndPriceEditsInOneProcessNeverUndoReservationsInAnother) {
  auto& shared = TestServer::shared();
  constexpr int kStock = 40;
  auto v = make_variant(shared, kStock, "800.00");
  auto people = customers(shared, 70);
  const auto port = free_port();
  const pid_t pid =
      spawn_process(MARKETLINK_BINARY, {"serve"},
                    server_process_env(shared.config(), port, shared_gateway().session_url()));
  ASSERT_TRUE(serving(port));
  std::atomic<bool> ordering{true};
  std::atomic<int> edits{0};
  auto editor = std::async(std::launch::async, [&] {
    HttpClient vendor(port);
    const auto path = "/api/v1/services/variants/" + std::to_string(v.id) + "/";
    for (int i = 0; ordering.load() || i < 2; ++i) {
      const auto body = i % 2 == 0 ? R"({"name":"Basic )" + std::to_string(i) + "\"}"
                                   : R"({"price":")" + std::to_string(800 + i % 7) + ".00\"}";
      EXPECT_EQ(vendor.patch(path, body, v.vendor.access).status, 200);
      edits.fetch_add(1);
    }
  });
  const int created = burst({shared.port()}, people, v.id);
  ordering.store(false);
  editor.get();
  const int status = stop_process(pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  std::printf("[figures] %d edits raced %d orders\n", edits.load(), created);
  EXPECT_GE(edits.load(), 2);
  EXPECT_EQ(created, kStock);
  EXPECT_EQ(db_stock(v.id), 0);
  EXPECT_EQ(db_stock(v.id) + count_orders(v.id, "pending"), kStock);
}

namespace {
long long redis_counter(const config::Config& cfg, int64_t variant) {
  persistence::RedisClient redis(persistence::redis_settings(cfg));
  auto v = redis.get_int(persistence::redis_keys::stock(variant));
  return v ? *v : -999;
}

// Buys what is left, one order at a time, until the variant says fully booked; returns how many.
int buy_the_rest(TestServer& s, int64_t variant, int at_most) {
  int bought = 0;
  for (int i = 0; i <= at_most; ++i) {
    auto r = post_order(s, s.register_user("customer"), variant);
    if (r.status != 201) {
      EXPECT_EQ(r.status, 400) << r.body;
      break;
    }
    ++bought;
  }
  return bought;
}
}  // namespace

// The gate ran in Redis but its answer never came back (a slow network: the proxy holds Redis's
// replies): PostgreSQL alone decided, and once Redis answers again the counter equals PostgreSQL
// — not PostgreSQL minus the lost batch — and every unit sells.
TEST(StockDrift, AGateWhoseAnswerWasLostLeavesNoDrift) {
  const auto base = test_config();
  FaultProxy proxy(base.redis_host, base.redis_port);
  TestServer s(Overrides{{"REDIS_PORT", std::to_string(proxy.port())},
                         {"HEALTH_INTERVAL_MS", "200"},
                         {"STOCK_SOLDOUT_RECHECK_MS", "0"}});
  auto v = make_variant(s, 5);
  ASSERT_EQ(post_order(s, s.register_user("customer"), v.id).status, 201);
  ASSERT_EQ(redis_counter(base, v.id), 4);
  auto customer = s.register_user("customer");  // registering needs Redis too
  proxy.set_mode(FaultProxy::Mode::no_replies);
  EXPECT_EQ(post_order(s, customer, v.id).status, 201);
  EXPECT_EQ(db_stock(v.id), 3);
  EXPECT_EQ(redis_counter(base, v.id), 3) << "the gate did run";
  proxy.set_mode(FaultProxy::Mode::pass);
  ASSERT_TRUE(eventually([&] { return s.client().get("/readyz").status == 200; }));
  EXPECT_TRUE(eventually([&] { return redis_counter(base, v.id) == db_stock(v.id); }))
      << redis_counter(base, v.id) << " vs " << db_stock(v.id);
  EXPECT_EQ(buy_the_rest(s, v.id, 5), 3);
  EXPECT_EQ(db_stock(v.id), 0);
  EXPECT_EQ(redis_counter(base, v.id), 0);
}

// Every settle is lost (as a Redis blip right after the commit would): each batch stays in
// flight in Redis, yet the counter comes back to PostgreSQL's figure and the last unit sells.
TEST(StockDrift, LostSettlesLeaveNoDrift) {
  const auto base = test_config();
  TestServer s(Overrides{{"MARKETLINK_FAULT", "drop_stock_settle"},
                         {"HEALTH_INTERVAL_MS", "200"},
                         {"STOCK_SOLDOUT_RECHECK_MS", "0"}});
  auto v = make_variant(s, 4);
  EXPECT_EQ(buy_the_rest(s, v.id, 6), 4) << "exactly the stock";
  EXPECT_EQ(db_stock(v.id), 0);
  EXPECT_TRUE(eventually([&] { return redis_counter(base, v.id) == 0; }));
  EXPECT_EQ(count_orders(v.id, "pending"), 4);
}

// A server process is killed between its gate and its commit: its unit is gone from Redis and
// never reached PostgreSQL. Another process serving the variant reconciles once that batch's
// in-flight units expire: the counter equals PostgreSQL, and every unit sells.
TEST(StockDrift, AProcessKilledBetweenGateAndCommitLeavesNoDriftForLong) {
  const auto base = test_config();
  TestServer s(Overrides{{"STOCK_RECONCILE_SECONDS", "1"}, {"STOCK_SOLDOUT_RECHECK_MS", "0"}});
  auto v = make_variant(s, 3);
  const auto port = free_port();
  auto env = server_process_env(s.config(), port, shared_gateway().session_url());
  env["MARKETLINK_FAULT"] = "kill_after_stock_gate";
  env["JOB_TIMEOUT_MS"] = "500";
  env["DB_STATEMENT_TIMEOUT_MS"] = "500";
  env["STOCK_INFLIGHT_TTL_SECONDS"] = "1";
  const pid_t pid = spawn_process(MARKETLINK_BINARY, {"serve"}, env);
  ASSERT_TRUE(serving(port));
  auto customer = s.register_user("customer");
  EXPECT_THROW(
      HttpClient(port).request(
          "POST", "/api/v1/orders/", R"({"variant":)" + std::to_string(v.id) + "}",
          {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + customer.access}}),
      std::exception)
      << "killed mid-request";
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  EXPECT_EQ(db_stock(v.id), 3);
  EXPECT_EQ(redis_counter(base, v.id), 2) << "the gate took a unit that never reached PostgreSQL";

  ASSERT_EQ(post_order(s, customer, v.id).status, 201);  // this process's actor runs
  EXPECT_TRUE(eventually([&] { return redis_counter(base, v.id) == db_stock(v.id); }, 20000))
      << redis_counter(base, v.id) << " vs " << db_stock(v.id);
  EXPECT_EQ(buy_the_rest(s, v.id, 4), 2);
  EXPECT_EQ(db_stock(v.id), 0);
  EXPECT_EQ(redis_counter(base, v.id), 0);
}
