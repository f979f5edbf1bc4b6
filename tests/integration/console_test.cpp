// The operator API: who may call it, the actor snapshot, /metrics, and the guarded actions (each
// leaves an audit row), against the real server, PostgreSQL and Redis.
#include <gtest/gtest.h>

#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "actors/stock/stock_service.hpp"
#include "persistence/database.hpp"
#include "persistence/redis_client.hpp"
#include "persistence/redis_keys.hpp"
#include "tests/support/test_server.hpp"

using namespace marketlink;
using namespace marketlink::testing;

namespace {

std::string str(const boost::json::value& v, const char* key) {
  return std::string(v.as_object().at(key).as_string());
}

long long audit_rows(const std::string& action, const std::string& target) {
  pqxx::work w(test_db().connection());
  auto n = w.exec_params1("SELECT count(*) FROM audit_log WHERE action = $1 AND target = $2",
                          action, target)[0]
               .as<long long>();
  w.commit();
  return n;
}

const boost::json::object* find_node(const boost::json::array& nodes, const std::string& name) {
  for (const auto& n : nodes) {
    const auto& o = n.as_object();
    if (o.at("name").as_string() == name) return &o;
    if (const auto* inner = find_node(o.at("children").as_array(), name)) return inner;
  }
  return nullptr;
}

class Console : public ::testing::Test {
 protected:
  TestServer& server = TestServer::shared();
  HttpClient c = server.client();
  TestUser admin = server.create_admin();
};

}  // namespace

TEST_F(Console, OpsEndpointsAreForAdminsOnly) {
  auto customer = server.register_user("customer");
  auto vendor = server.register_user("vendor");
  for (const char* path : {"/api/v1/ops/actors/", "/api/v1/ops/overview/", "/api/v1/ops/stock/",
                           "/api/v1/ops/payments/"}) {
    EXPECT_EQ(c.get(path).status, 401) << path;
    EXPECT_EQ(c.get(path, customer.access).status, 403) << path;
    EXPECT_EQ(c.get(path, vendor.access).status, 403) << path;
    auto r = c.get(path, admin.access);
    EXPECT_EQ(r.status, 200) << path << " " << r.body;
  }
  for (const char* path : {"/api/v1/ops/variants/1/resync/", "/api/v1/ops/actors/x/restart/",
                           "/api/v1/ops/outbox/1/retry/",
                           "/api/v1/ops/orders/00000000-0000-0000-0000-000000000000/cancel/"}) {
    EXPECT_EQ(c.post(path, "").status, 401) << path;
    EXPECT_EQ(c.post(path, "", customer.access).status, 403) << path;
  }
}

TEST_F(Console, ActorSnapshotIsATreeWithFiguresAndLimitsStockActors) {
  auto v1 = make_variant(server, 5);
  auto v2 = make_variant(server, 5);
  for (auto id : {v1.id, v2.id}) {
    auto customer = server.register_user("customer");
    ASSERT_EQ(post_order(server, customer, id).status, 201);
  }
  // Supervised actors register as they start.
  ASSERT_TRUE(eventually([&] {
    for (const auto& s : server.runtime().registry().snapshot()) {
      if (s.name == "payment_actor") return true;
    }
    return false;
  }));
  auto r = c.get("/api/v1/ops/actors/?limit=1", admin.access);
  ASSERT_EQ(r.status, 200) << r.body;
  const auto snapshot = r.json();
  const auto& tree = snapshot.at("tree").as_array();
  const auto* root = find_node(tree, "root_supervisor");
  ASSERT_NE(root, nullptr) << r.body;
  for (const char* child :
       {"payment_actor", "order_coordinator", "outbox_worker", "stock_supervisor", "db_pool"}) {
    EXPECT_NE(find_node(root->at("children").as_array(), child), nullptr) << child;
  }
  const auto* outbox = find_node(tree, "outbox_worker");
  ASSERT_NE(outbox, nullptr);
  EXPECT_NE(find_node(outbox->at("children").as_array(), "invoice_actor"), nullptr);
  const auto* stock = find_node(tree, "stock_supervisor");
  ASSERT_NE(stock, nullptr);
  EXPECT_EQ(stock->at("children").as_array().size(), 1u) << "limit=1";
  EXPECT_GE(stock->at("children_omitted").as_int64(), 1);
  const auto& first = stock->at("children").as_array()[0].as_object();
  EXPECT_EQ(str(first, "kind"), "stock");
  EXPECT_TRUE(first.at("figures").as_object().contains("available"));
  EXPECT_TRUE(first.contains("per_second"));

  r = c.get("/api/v1/ops/actors/?kind=stock&limit=1", admin.access);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.json().at("actors").as_array().size(), 1u);
  EXPECT_GE(r.json().at("count").as_int64(), 2);
  EXPECT_EQ(c.get("/api/v1/ops/actors/?limit=zero", admin.access).status, 400);

  r = c.get("/api/v1/ops/overview/", admin.access);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(str(r.json(), "postgresql"), "ok");
  EXPECT_EQ(str(r.json(), "redis"), "ok");
  EXPECT_GE(r.json().at("orders").at("pending").as_int64(), 2);
  EXPECT_GE(r.json().at("actors_by_kind").at("stock").as_int64(), 2);
}

TEST_F(Console, MetricsSpeakPrometheusToAllowedAddressesOnly) {
  c.get("/healthz");
  HttpResult r;
  // Every actor has registered once the payment actor (it loads the CA store first) is up.
  ASSERT_TRUE(eventually([&] {
    r = c.get("/metrics");
    return r.body.find("marketlink_actors{kind=\"payment\"} 1") != std::string::npos;
  })) << r.body;
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.header("content-type").find("text/plain"), std::string::npos);
  EXPECT_NE(r.body.find("# TYPE marketlink_http_requests_total counter"), std::string::npos);
  EXPECT_NE(r.body.find("marketlink_http_requests_total{method=\"GET\",route=\"/healthz\""),
            std::string::npos)
      << r.body.substr(0, 2000);
  EXPECT_NE(r.body.find("marketlink_http_request_duration_seconds_bucket"), std::string::npos);
  EXPECT_NE(r.body.find("marketlink_store_call_seconds_count{store=\"postgresql\"}"),
            std::string::npos);
  EXPECT_NE(r.body.find("marketlink_reservations_total{outcome=\"accepted\"}"), std::string::npos);

  TestServer closed(std::map<std::string, std::string>{{"METRICS_ALLOW", "10.0.0.0/8"}});
  EXPECT_EQ(closed.client().get("/metrics").status, 403);
}

TEST_F(Console, ResyncPutsRedisBackToTheDatabaseValueAndIsAudited) {
  auto v = make_variant(server, 7);
  auto customer = server.register_user("customer");
  ASSERT_EQ(post_order(server, customer, v.id).status, 201);
  persistence::RedisClient redis(persistence::redis_settings(server.config()));
  ASSERT_TRUE(redis.command({"SET", persistence::redis_keys::stock(v.id), "999"}).ok());
  auto r = c.post("/api/v1/ops/variants/" + std::to_string(v.id) + "/resync/", "", admin.access);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json().at("stock").as_int64(), 6);
  EXPECT_EQ(redis.get_int(persistence::redis_keys::stock(v.id)).value(), 6);
  EXPECT_EQ(audit_rows("ops.variant_resync", "variant:" + std::to_string(v.id)), 1);
}

TEST_F(Console, RestartGoesThroughTheSupervisorAndTheSystemKeepsWorking) {
  auto r = c.post("/api/v1/ops/actors/no_such_actor/restart/", "", admin.access);
  EXPECT_EQ(r.status, 404);
  uint32_t before = 0;
  for (const auto& s : server.runtime().registry().snapshot()) {
    if (s.name == "order_coordinator") before = s.restarts;
  }
  r = c.post("/api/v1/ops/actors/order_coordinator/restart/", "", admin.access);
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_TRUE(eventually([&] {
    for (const auto& s : server.runtime().registry().snapshot()) {
      if (s.name == "order_coordinator") return s.restarts > before;
    }
    return false;
  }));
  // Orders go through the restarted coordinator.
  auto v = make_variant(server, 2);
  auto customer = server.register_user("customer");
  EXPECT_TRUE(eventually([&] { return post_order(server, customer, v.id).status == 201; }));
  EXPECT_GE(audit_rows("ops.actor_restart", "order_coordinator"), 1);
}

TEST_F(Console, CancelAPendingOrderReleasesItsStockAndIsAudited) {
  auto v = make_variant(server, 3);
  auto customer = server.register_user("customer");
  auto created = post_order(server, customer, v.id);
  ASSERT_EQ(created.status, 201);
  const auto id = str(created.json(), "order_id");
  EXPECT_EQ(db_stock(v.id), 2);
  auto r = c.post("/api/v1/ops/orders/" + id + "/cancel/", "", admin.access);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(db_stock(v.id), 3);
  EXPECT_EQ(audit_rows("ops.order_cancel", "order:" + id), 1);
  r = c.post("/api/v1/ops/orders/" + id + "/cancel/", "", admin.access);
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(db_stock(v.id), 3);
}

TEST_F(Console, RetryingADeadOutboxJobRunsItAgain) {
  // A paid order whose invoice job an operator finds dead.
  auto v = make_variant(server, 2);
  auto customer = server.register_user("customer");
  auto created = post_order(server, customer, v.id);
  ASSERT_EQ(created.status, 201);
  const auto id = str(created.json(), "order_id");
  auto form = shared_gateway().pay(id, "1500.00");
  ASSERT_EQ(c.request("POST", "/webhooks/payment/" + id + "/", FakeSslcommerz::encode(form),
                      {{"Content-Type", "application/x-www-form-urlencoded"}})
                .status,
            200);
  int64_t job = 0;
  ASSERT_TRUE(eventually([&] {
    pqxx::work w(test_db().connection());
    auto rows = w.exec_params(
        "SELECT id FROM outbox WHERE order_id = $1 AND kind = 'invoice' AND state = 'done'", id);
    if (rows.empty()) return false;
    job = rows[0][0].as<int64_t>();
    return true;
  }));
  {
    pqxx::work w(test_db().connection());
    w.exec_params0("DELETE FROM invoices WHERE order_id = $1", id);
    w.exec_params0("UPDATE outbox SET state = 'dead', last_error = 'drill' WHERE id = $1", job);
    w.commit();
  }
  auto r = c.get("/api/v1/ops/payments/", admin.access);
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find(std::to_string(job)), std::string::npos) << "listed as dead";
  r = c.post("/api/v1/ops/outbox/" + std::to_string(job) + "/retry/", "", admin.access);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(eventually([&] {
    pqxx::work w(test_db().connection());
    return w.exec_params1("SELECT count(*) FROM invoices WHERE order_id = $1", id)[0].as<int>() ==
           1;
  }));
  EXPECT_EQ(audit_rows("ops.outbox_retry", "outbox:" + std::to_string(job)), 1);
  r = c.post("/api/v1/ops/outbox/" + std::to_string(job) + "/retry/", "", admin.access);
  EXPECT_EQ(r.status, 409) << "only dead jobs";
}

namespace {
// Opens the ops stream with a real WebSocket client; returns the HTTP status of a refused
// handshake (0 when accepted) and the first message that satisfies `wanted` (of at most 10, one
// a second).
std::pair<int, std::string> open_stream(
    uint16_t port, const std::string& target,
    const std::function<bool(const std::string&)>& wanted = [](const std::string&) {
      return true;
    }) {
  namespace net = boost::asio;
  namespace beast = boost::beast;
  net::io_context ioc;
  beast::websocket::stream<beast::tcp_stream> ws(ioc);
  beast::get_lowest_layer(ws).connect({net::ip::make_address("127.0.0.1"), port});
  beast::get_lowest_layer(ws).expires_after(std::chrono::seconds(10));
  beast::websocket::response_type res;
  beast::error_code ec;
  ws.handshake(res, "127.0.0.1", target, ec);
  if (ec) return {static_cast<int>(res.result_int()), res.body()};
  std::string first;
  for (int i = 0; i < 10; ++i) {
    beast::flat_buffer buffer;
    ws.read(buffer);
    first = beast::buffers_to_string(buffer.data());
    if (wanted(first)) break;
  }
  ws.close(beast::websocket::close_code::normal, ec);
  return {0, first};
}
}  // namespace

TEST_F(Console, TheStreamPushesSnapshotsToAdminsOverAWebSocket) {
  auto customer = server.register_user("customer");
  EXPECT_EQ(open_stream(server.port(), "/api/v1/ops/stream/").first, 401);
  EXPECT_EQ(open_stream(server.port(), "/api/v1/ops/stream/?token=" + customer.access).first, 403);
  EXPECT_EQ(open_stream(server.port(), "/api/v1/ops/stream/?token=garbage").first, 401);
  // Every supervised actor registers as it starts; wait for the snapshot that has them all.
  auto [status, first] = open_stream(
      server.port(), "/api/v1/ops/stream/?token=" + admin.access,
      [](const std::string& m) { return m.find("\"payment_actor\"") != std::string::npos; });
  ASSERT_EQ(status, 0) << "body: " << first;
  auto msg = boost::json::parse(first).as_object();
  EXPECT_EQ(msg.at("type").as_string(), "snapshot");
  EXPECT_NE(find_node(msg.at("actors").at("tree").as_array(), "payment_actor"), nullptr);
  EXPECT_TRUE(msg.at("stock").as_object().contains("variants"));
  // A plain GET is told to upgrade.
  EXPECT_EQ(c.get("/api/v1/ops/stream/", admin.access).status, 400);
}

TEST_F(Console, TheConsolePageIsServedWithItsAssetsInline) {
  auto r = c.get("/console/");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.header("content-type").find("text/html"), std::string::npos);
  EXPECT_NE(r.body.find("<title>MarketLink operations console</title>"), std::string::npos);
  EXPECT_EQ(r.body.find("http://"), std::string::npos) << "no external asset";
  EXPECT_EQ(r.body.find("https://"), std::string::npos) << "no external asset";
  const auto csp = r.header("content-security-policy");
  EXPECT_NE(csp.find("default-src 'none'"), std::string::npos);
  // Scripts by hash only (the browser test, e2e.console, shows the hash is the page's script).
  EXPECT_NE(csp.find("script-src 'sha256-"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("script-src 'unsafe-inline'"), std::string::npos) << csp;
}

// The stream is authorized again every few seconds: an admin deactivated while listening is cut
// off (policy violation), not streamed to for as long as the socket lives.
TEST_F(Console, TheStreamClosesWhenItsAdminIsDeactivated) {
  namespace net = boost::asio;
  namespace beast = boost::beast;
  auto listener = server.create_admin();
  net::io_context ioc;
  beast::websocket::stream<beast::tcp_stream> ws(ioc);
  beast::get_lowest_layer(ws).connect({net::ip::make_address("127.0.0.1"), server.port()});
  beast::get_lowest_layer(ws).expires_after(std::chrono::seconds(30));
  ws.handshake("127.0.0.1", "/api/v1/ops/stream/?token=" + listener.access);
  beast::flat_buffer buffer;
  ws.read(buffer);  // streaming
  {
    pqxx::work w(test_db().connection());
    w.exec_params0("UPDATE users SET is_active = false WHERE id = $1", listener.id);
    w.commit();
  }
  beast::error_code ec;
  for (int i = 0; i < 60 && !ec; ++i) {
    buffer.consume(buffer.size());
    ws.read(buffer, ec);
  }
  EXPECT_EQ(ec, beast::websocket::error::closed) << ec.message();
  EXPECT_EQ(ws.reason().code, beast::websocket::close_code::policy_error);
}
