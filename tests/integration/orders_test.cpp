// /api/v1/orders/ and the stock actors: reservations never oversell, releases happen once.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/json/serialize.hpp>
#include <future>
#include <thread>

#include "actors/stock/stock_service.hpp"
#include "persistence/database.hpp"
#include "persistence/ids.hpp"
#include "persistence/redis_client.hpp"
#include "persistence/redis_keys.hpp"
#include "tests/support/test_server.hpp"

using namespace marketlink;
using namespace marketlink::testing;

namespace {

std::string str(const boost::json::value& v, const char* key) {
  return std::string(v.as_object().at(key).as_string());
}

long long redis_stock(const config::Config& cfg, int64_t variant) {
  persistence::RedisClient redis(persistence::redis_settings(cfg));
  auto v = redis.get_int(persistence::redis_keys::stock(variant));
  return v ? *v : -999;
}

// `n` customers order at once; returns the statuses.
std::vector<int> stampede(TestServer& server, int64_t variant, int n) {
  std::vector<TestUser> customers;
  customers.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) customers.push_back(server.register_user("customer"));
  std::promise<void> go;
  auto start = go.get_future().share();
  std::vector<std::future<int>> results;
  results.reserve(customers.size());
  for (auto& c : customers) {
    results.push_back(std::async(std::launch::async, [&server, &c, variant, start] {
      HttpClient client(server.port());
      client.get("/healthz");  // connect first, so the requests really race
      start.wait();
      return client
          .request("POST", "/api/v1/orders/", R"({"variant":)" + std::to_string(variant) + "}",
                   {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + c.access}})
          .status;
    }));
  }
  go.set_value();
  std::vector<int> statuses;
  statuses.reserve(results.size());
  for (auto& f : results) statuses.push_back(f.get());
  return statuses;
}

class Orders : public ::testing::Test {
 protected:
  TestServer& server = TestServer::shared();
  HttpClient c = server.client();
  void SetUp() override { shared_gateway().set_mode(FakeSslcommerz::Mode::ok); }
};

}  // namespace

TEST_F(Orders, CreateReturnsPaymentUrlAndOpensTheGatewaySessionWithTheProtocolFields) {
  auto v = make_variant(server, 3);
  auto customer = server.register_user("customer", R"(,"first_name":"Karim","last_name":"Uddin")");
  auto r = post_order(server, customer, v.id);
  ASSERT_EQ(r.status, 201) << r.body;
  auto j = r.json().as_object();
  const auto id = str(j, "order_id");
  EXPECT_TRUE(is_uuid(id));
  EXPECT_EQ(str(j, "customer"), customer.id);
  EXPECT_EQ(j["variant"].as_int64(), v.id);
  EXPECT_EQ(str(j, "status"), "pending");
  EXPECT_EQ(str(j, "total_amount"), "1500.00");
  EXPECT_EQ(str(j, "payment_url").rfind("https://sandbox.sslcommerz.com/EasyCheckOut/testcde", 0),
            0u);
  EXPECT_FALSE(str(j, "expires_at").empty());
  EXPECT_EQ(str(j, "vendor"), str(c.get("/api/v1/vendors/profile/", v.vendor.access).json(), "id"));
  EXPECT_EQ(db_stock(v.id), 2);
  EXPECT_EQ(redis_stock(server.config(), v.id), 2);
  FakeSslcommerz::Form form;
  for (auto& f : shared_gateway().sessions()) {
    if (f["tran_id"] == id) form = f;
  }
  ASSERT_FALSE(form.empty()) << "the gateway saw the session";
  EXPECT_EQ(form["store_id"], kStoreId);
  EXPECT_EQ(form["store_passwd"], kStorePassword);
  EXPECT_EQ(form["total_amount"], "1500.00");
  EXPECT_EQ(form["currency"], "BDT");
  EXPECT_EQ(form["ipn_url"], "http://testserver/webhooks/payment/" + id + "/");
  EXPECT_EQ(form["success_url"], "http://testserver/orders/success/");
  EXPECT_EQ(form["fail_url"], "http://testserver/orders/fail/");
  EXPECT_EQ(form["cancel_url"], "http://testserver/orders/cancel/");
  EXPECT_EQ(form["cus_name"], "Karim Uddin");
  EXPECT_EQ(form["cus_email"], customer.email) << "'+' and '@' survive form encoding";
  EXPECT_EQ(form["product_category"], "Vehicle Repair");
  auto detail = c.get("/api/v1/orders/" + id + "/", customer.access);
  ASSERT_EQ(detail.status, 200);
  EXPECT_EQ(str(detail.json(), "status"), "pending");
  EXPECT_TRUE(detail.json().as_object()["payment"].is_null());
}

TEST_F(Orders, SoldOutUnknownHiddenAndBadInput) {
  auto v = make_variant(server, 1);
  auto a = server.register_user("customer");
  auto b = server.register_user("customer");
  ASSERT_EQ(post_order(server, a, v.id).status, 201);
  auto full = post_order(server, b, v.id);
  EXPECT_EQ(full.status, 400);
  EXPECT_EQ(boost::json::serialize(full.json()),
            R"({"detail":"This service variant is fully booked."})");
  auto unknown = post_order(server, b, 987654321);
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(boost::json::serialize(unknown.json()),
            R"({"variant":["Invalid pk \"987654321\" - object does not exist."]})");
  auto hidden = make_variant(server, 5);
  ASSERT_EQ(c.del("/api/v1/services/" + hidden.service_id + "/", hidden.vendor.access).status, 204);
  EXPECT_EQ(post_order(server, b, hidden.id).status, 400);
  EXPECT_EQ(db_stock(hidden.id), 5);
  EXPECT_EQ(c.post("/api/v1/orders/", R"({"variant":1})").status, 401);
  EXPECT_EQ(c.post("/api/v1/orders/", R"({"variant":1})", v.vendor.access).status, 403);
  EXPECT_EQ(c.post("/api/v1/orders/", "{}", b.access).status, 400);
  EXPECT_EQ(
      boost::json::serialize(c.post("/api/v1/orders/", R"({"variant":[1]})", b.access).json()),
      R"({"variant":["Incorrect type. Expected pk value, received list."]})");
  EXPECT_EQ(c.post("/api/v1/orders/", R"({"variant":"abc"})", b.access).status, 400);
  EXPECT_EQ(c.post("/api/v1/orders/", "{\"variant\":", b.access).status, 400);
}

TEST_F(Orders, StockOfOneAndTwentySimultaneousCustomersMakesExactlyOneOrder) {
  for (int round = 0; round < 3; ++round) {
    auto v = make_variant(server, 1);
    auto statuses = stampede(server, v.id, 20);
    EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 201), 1) << "round " << round;
    EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 400), 19);
    EXPECT_EQ(db_stock(v.id), 0);
    EXPECT_EQ(count_orders(v.id, "pending"), 1);
    EXPECT_EQ(redis_stock(server.config(), v.id), 0);
  }
}

TEST_F(Orders, StockOf25AndSixtyCustomersMakesExactly25Orders) {
  auto v = make_variant(server, 25);
  auto statuses = stampede(server, v.id, 60);
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 201), 25);
  EXPECT_EQ(db_stock(v.id), 0);
  EXPECT_EQ(count_orders(v.id, "pending"), 25);
  EXPECT_EQ(redis_stock(server.config(), v.id), 0);
}

TEST_F(Orders, GatewayRefusalFailsTheOrderAndReturnsTheStock) {
  auto v = make_variant(server, 2);
  auto customer = server.register_user("customer");
  shared_gateway().set_refusal_reason("Invalid Information: tran_id already exists");
  shared_gateway().set_mode(FakeSslcommerz::Mode::refuse);
  auto r = post_order(server, customer, v.id);
  EXPECT_EQ(r.status, 502);
  EXPECT_EQ(str(r.json(), "detail"),
            "Payment Gateway Error: Invalid Information: tran_id already exists");
  EXPECT_EQ(count_orders(v.id, "failed"), 1);
  EXPECT_EQ(db_stock(v.id), 2);
  EXPECT_EQ(redis_stock(server.config(), v.id), 2);
  shared_gateway().set_mode(FakeSslcommerz::Mode::drop);
  auto dropped = post_order(server, customer, v.id);
  EXPECT_EQ(dropped.status, 502);
  EXPECT_EQ(str(dropped.json(), "detail"), "Payment gateway communication failed.");
  shared_gateway().set_mode(FakeSslcommerz::Mode::http_error);
  EXPECT_EQ(post_order(server, customer, v.id).status, 502);
  EXPECT_EQ(count_orders(v.id, "failed"), 3);
  EXPECT_EQ(db_stock(v.id), 2);
  EXPECT_EQ(redis_stock(server.config(), v.id), 2);
}

TEST(OrdersGateway, HangingOrUnreachableGatewayIs502AndReleases) {
  FakeSslcommerz hanging(kStoreId, kStorePassword);
  hanging.set_mode(FakeSslcommerz::Mode::hang);
  TestServer s(
      Overrides{{"SSLCOMMERZ_SESSION_URL", hanging.session_url()}, {"GATEWAY_TIMEOUT", "1"}});
  auto v = make_variant(s, 1);
  auto customer = s.register_user("customer");
  auto r = post_order(s, customer, v.id);
  EXPECT_EQ(r.status, 502);
  EXPECT_EQ(str(r.json(), "detail"), "Payment gateway communication failed.");
  EXPECT_EQ(db_stock(v.id), 1);
  EXPECT_EQ(count_orders(v.id, "failed"), 1);
  TestServer nowhere(
      Overrides{{"SSLCOMMERZ_SESSION_URL", "http://127.0.0.1:1/gwprocess/v4/api.php"}});
  auto unreachable = post_order(nowhere, customer, v.id);
  EXPECT_EQ(unreachable.status, 502);
  EXPECT_EQ(db_stock(v.id), 1);
  EXPECT_EQ(redis_stock(s.config(), v.id), 1);
}

// The order was cancelled (by an operator here; the orphan sweep does the same) while its gateway
// session was still opening: the session is not stored on the cancelled order, and the customer
// gets 503 with Retry-After instead of a payment_url for a booking that no longer exists.
TEST(OrdersGateway, ASessionOpenedAfterTheOrderWasCancelledIsNotHandedOut) {
  FakeSslcommerz slow(kStoreId, kStorePassword);
  slow.set_mode(FakeSslcommerz::Mode::hold);
  TestServer s(Overrides{{"SSLCOMMERZ_SESSION_URL", slow.session_url()}});
  auto admin = s.create_admin();
  auto v = make_variant(s, 2);
  auto customer = s.register_user("customer");
  auto order = std::async(std::launch::async, [&] { return post_order(s, customer, v.id); });
  ASSERT_TRUE(eventually([&] { return slow.held_count() == 1; }));
  auto& db = test_db().connection();
  std::string id;
  {
    pqxx::work w(db);
    id = w.exec1("SELECT id::text FROM orders WHERE variant_id = " + std::to_string(v.id))[0]
             .as<std::string>();
    w.commit();
  }
  EXPECT_EQ(s.client().post("/api/v1/ops/orders/" + id + "/cancel/", "", admin.access).status / 100,
            2);
  slow.release_held();
  auto r = order.get();
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_FALSE(r.header("retry-after").empty());
  pqxx::work w(db);
  auto row = w.exec1("SELECT status, payment_url IS NULL FROM orders WHERE id = '" + id + "'");
  EXPECT_EQ(row[0].as<std::string>(), "cancelled");
  EXPECT_TRUE(row[1].as<bool>()) << "no payment_url stored on a cancelled order";
  w.commit();
  EXPECT_EQ(db_stock(v.id), 2);
}

TEST_F(Orders, CancelReleasesOnceAndFollowsTheRoles) {
  auto v = make_variant(server, 3);
  auto owner = server.register_user("customer");
  auto other = server.register_user("customer");
  auto admin = server.create_admin();
  auto id = str(post_order(server, owner, v.id).json(), "order_id");
  EXPECT_EQ(db_stock(v.id), 2);
  EXPECT_EQ(c.post("/api/v1/orders/" + id + "/cancel/", "", other.access).status, 404);
  EXPECT_EQ(c.post("/api/v1/orders/" + id + "/cancel/", "", v.vendor.access).status, 403);
  EXPECT_EQ(c.post("/api/v1/orders/" + id + "/cancel/", "").status, 401);
  auto cancelled = c.post("/api/v1/orders/" + id + "/cancel/", "", owner.access);
  ASSERT_EQ(cancelled.status, 200) << cancelled.body;
  EXPECT_EQ(str(cancelled.json(), "status"), "cancelled");
  EXPECT_EQ(db_stock(v.id), 3);
  EXPECT_EQ(redis_stock(server.config(), v.id), 3);
  auto again = c.post("/api/v1/orders/" + id + "/cancel/", "", owner.access);
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(str(again.json(), "detail"), "Only pending orders can be cancelled.");
  EXPECT_EQ(db_stock(v.id), 3);
  auto second = str(post_order(server, owner, v.id).json(), "order_id");
  EXPECT_EQ(c.post("/api/v1/orders/" + second + "/cancel/", "", admin.access).status, 200);
  EXPECT_EQ(db_stock(v.id), 3);
}

TEST_F(Orders, ASecondReleaseOfTheSameOrderChangesNothing) {
  auto v = make_variant(server, 2);
  auto customer = server.register_user("customer");
  auto id = str(post_order(server, customer, v.id).json(), "order_id");
  auto release = [&] {
    std::promise<std::vector<std::string>> p;
    auto f = p.get_future();
    server.stock().release(v.id, {id}, persistence::OrderStatus::cancelled, "test",
                           [&p](Result<std::vector<std::string>> r) {
                             p.set_value(r ? *r : std::vector<std::string>{"error"});
                           });
    return f.get();
  };
  EXPECT_EQ(release(), std::vector<std::string>{id});
  EXPECT_TRUE(release().empty());
  EXPECT_EQ(db_stock(v.id), 2);
  EXPECT_EQ(redis_stock(server.config(), v.id), 2);
}

// The gateway says the session is open and nothing was paid (PROCESSING); with no grace the
// order is cancelled at its expiry.
TEST(OrdersExpiry, UnpaidOrdersExpireAndGiveTheirStockBack) {
  TestServer s(Overrides{
      {"ORDER_RESERVATION_TTL", "1"}, {"ORDER_SWEEP_INTERVAL", "1"}, {"ORDER_PAYMENT_GRACE", "0"}});
  auto v = make_variant(s, 2);
  auto customer = s.register_user("customer");
  auto r = post_order(s, customer, v.id);
  ASSERT_EQ(r.status, 201);
  EXPECT_EQ(db_stock(v.id), 1);
  ASSERT_TRUE(eventually([&] { return count_orders(v.id, "cancelled") == 1; }));
  EXPECT_EQ(db_stock(v.id), 2);
  EXPECT_TRUE(eventually([&] { return redis_stock(s.config(), v.id) == 2; }));
}

TEST(OrdersExpiry, PendingOrdersLeftByACrashAreReleasedAtStartUp) {
  TestVariant v;
  std::string id;
  {
    TestServer first;
    v = make_variant(first, 4);
    auto customer = first.register_user("customer");
    id = str(post_order(first, customer, v.id).json(), "order_id");
    // The process "crashes" while the order is pending and its time (and the grace for a
    // payment in progress) runs out meanwhile.
    pqxx::work w(test_db().connection());
    w.exec_params0("UPDATE orders SET expires_at = now() - interval '1 hour' WHERE id = $1", id);
    w.commit();
  }
  EXPECT_EQ(db_stock(v.id), 3);
  TestServer restarted;
  ASSERT_TRUE(eventually([&] { return count_orders(v.id, "cancelled") == 1; }));
  EXPECT_EQ(db_stock(v.id), 4);
}

TEST_F(Orders, IdempotencyKeyReplaysTheFirstResponseAndRejectsAnotherBody) {
  auto v = make_variant(server, 5);
  auto customer = server.register_user("customer");
  const auto key = "key-" + unique_suffix();
  auto first = post_order(server, customer, v.id, {{"Idempotency-Key", key}});
  ASSERT_EQ(first.status, 201);
  auto again = post_order(server, customer, v.id, {{"Idempotency-Key", key}});
  EXPECT_EQ(again.status, 201);
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(again.header("idempotent-replayed"), "true");
  EXPECT_EQ(db_stock(v.id), 4) << "reserved once";
  auto other = make_variant(server, 5);
  auto mismatch = post_order(server, customer, other.id, {{"Idempotency-Key", key}});
  EXPECT_EQ(mismatch.status, 422);
  EXPECT_EQ(db_stock(other.id), 5);
  auto someone_else = server.register_user("customer");
  EXPECT_EQ(post_order(server, someone_else, v.id, {{"Idempotency-Key", key}}).status, 201)
      << "keys are per customer";
  // An error answer is replayed too (same status, same body).
  auto empty = make_variant(server, 0);
  const auto key2 = "key-" + unique_suffix();
  auto sold = post_order(server, customer, empty.id, {{"Idempotency-Key", key2}});
  EXPECT_EQ(sold.status, 400);
  auto sold_again = post_order(server, customer, empty.id, {{"Idempotency-Key", key2}});
  EXPECT_EQ(sold_again.status, 400);
  EXPECT_EQ(sold_again.body, sold.body);
}

TEST_F(Orders, ListAndDetailAreScopedToTheCallersOrders) {
  auto v = make_variant(server, 5);
  auto a = server.register_user("customer");
  auto b = server.register_user("customer");
  auto admin = server.create_admin();
  auto mine = str(post_order(server, a, v.id).json(), "order_id");
  auto theirs = str(post_order(server, b, v.id).json(), "order_id");
  EXPECT_EQ(c.get("/api/v1/orders/" + theirs + "/", a.access).status, 404);
  EXPECT_EQ(c.get("/api/v1/orders/" + mine + "/", a.access).status, 200);
  EXPECT_EQ(c.get("/api/v1/orders/" + mine + "/", v.vendor.access).status, 200);
  EXPECT_EQ(c.get("/api/v1/orders/" + mine + "/", admin.access).status, 200);
  auto other_vendor = make_variant(server, 1).vendor;
  EXPECT_EQ(c.get("/api/v1/orders/" + mine + "/", other_vendor.access).status, 404);
  auto list = c.get("/api/v1/orders/", a.access).json().as_object();
  ASSERT_EQ(list["count"].as_int64(), 1);
  auto row = list["results"].as_array()[0].as_object();
  EXPECT_EQ(str(row, "order_id"), mine);
  EXPECT_EQ(str(row, "variant_name"), "Basic");
  EXPECT_EQ(str(row, "total_amount"), "1500.00");
  EXPECT_EQ(c.get("/api/v1/orders/", v.vendor.access).json().as_object()["count"].as_int64(), 2);
  EXPECT_EQ(
      c.get("/api/v1/orders/?status=cancelled", a.access).json().as_object()["count"].as_int64(),
      0);
  EXPECT_EQ(c.get("/api/v1/orders/?status=bogus", a.access).status, 400);
  EXPECT_EQ(c.get("/api/v1/orders/").status, 401);
}

TEST_F(Orders, VendorStockEditsWhileOrdersArriveKeepTheInvariant) {
  auto v = make_variant(server, 30);
  const int initial = 30;
  auto editor = std::async(std::launch::async, [&] {
    HttpClient vc(server.port());
    int edits = 0;
    for (int i = 0; i < 10; ++i) {
      // Each edit sets an absolute value; what it adds is measured inside the stock actor.
      auto r = vc.patch("/api/v1/services/variants/" + std::to_string(v.id) + "/",
                        R"({"stock":)" + std::to_string(10 + i) + "}", v.vendor.access);
      if (r.status != 200) ADD_FAILURE() << r.body;
      edits++;
    }
    return edits;
  });
  auto statuses = stampede(server, v.id, 40);
  editor.get();
  const int stock = db_stock(v.id);
  const int active = count_orders(v.id, "pending");
  EXPECT_EQ(active, static_cast<int>(std::count(statuses.begin(), statuses.end(), 201)));
  pqxx::work w(test_db().connection());
  const int edits = w.exec_params1(
                         "SELECT coalesce(sum(result::int), 0) FROM audit_log WHERE action = "
                         "'variant.stock_edit' AND target = $1",
                         "variant:" + std::to_string(v.id))[0]
                        .as<int>();
  w.commit();
  EXPECT_EQ(initial + edits, stock + active) << "initial " << initial << " edits " << edits;
  EXPECT_GE(stock, 0);
  EXPECT_EQ(redis_stock(server.config(), v.id), stock);
}

TEST(StockActors, IdleActorsStopAndComeBackWithTheirState) {
  TestServer s(Overrides{{"STOCK_IDLE_SECONDS", "1"}});
  auto v = make_variant(s, 3);
  auto customer = s.register_user("customer");
  ASSERT_EQ(post_order(s, customer, v.id).status, 201);
  EXPECT_GE(s.stock().live_actors(), 1u);
  // This variant's actor (the start-up sweep may run others, for orders earlier tests left).
  auto in_registry = [&] {
    for (auto& e : s.runtime().registry().snapshot()) {
      if (e.name == "stock/" + std::to_string(v.id)) return true;
    }
    return false;
  };
  EXPECT_TRUE(in_registry());
  ASSERT_TRUE(eventually([&] { return !in_registry(); })) << "stopped after the idle time";
  EXPECT_TRUE(eventually([&] { return s.stock().live_actors() == 0; })) << "all idle ones stop";
  // A new actor reloads the stock from PostgreSQL.
  ASSERT_EQ(post_order(s, customer, v.id).status, 201);
  EXPECT_EQ(db_stock(v.id), 1);
  EXPECT_EQ(redis_stock(s.config(), v.id), 1);
}

// A stock job the pool refuses (saturated, or restarting) answers every caller it holds at once,
// with 503, and takes nothing. Deadlines are set far away so only that answer can come in time.
TEST(StockFaults, AReservationRefusedByAFullPoolIsAnsweredAtOnceAndTakesNothing) {
  constexpr int kQueueLimit = 50;  // room for the server's own background jobs during set-up
  TestServer s(Overrides{{"DB_POOL_SIZE", "1"},
                         {"POOL_QUEUE_LIMIT", std::to_string(kQueueLimit)},
                         {"ASK_TIMEOUT_MS", "600000"},
                         {"JOB_TIMEOUT_MS", "600000"}});
  auto v = make_variant(s, 5);
  auto customer = s.register_user("customer");
  auto reserve = [&] {
    auto p = std::make_shared<std::promise<Result<persistence::OrderRow>>>();
    auto f = p->get_future();
    s.stock().reserve(v.id, customer.id, actors::no_deadline,
                      [p](Result<persistence::OrderRow> r) { p->set_value(std::move(r)); });
    return f.get();
  };
  ASSERT_TRUE(reserve().ok()) << "the first reservation loads the stock actor";
  ASSERT_EQ(db_stock(v.id), 4);

  // The only worker busy, then the queue filled until the pool refuses a job.
  std::promise<void> release, running;
  auto released = release.get_future().share();
  s.runtime().submit(
      actors::PoolKind::db,
      [released, &running](actors::Resources&) {
        running.set_value();
        released.wait();
      },
      [](Error) {});
  running.get_future().wait();
  auto full = std::make_shared<std::promise<void>>();
  auto refused_once = std::make_shared<std::atomic<bool>>(false);
  for (int i = 0; i <= kQueueLimit; ++i) {
    s.runtime().submit(
        actors::PoolKind::db, [released](actors::Resources&) { released.wait(); },
        [full, refused_once](const Error&) {
          if (!refused_once->exchange(true)) full->set_value();
        });
  }
  full->get_future().wait();

  auto refused = reserve();
  release.set_value();
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::unavailable);
  EXPECT_EQ(db_stock(v.id), 4) << "nothing was taken";
  EXPECT_TRUE(reserve().ok()) << "the actor serves again once the pool has room";
  EXPECT_EQ(db_stock(v.id), 3);
}

// One variant whose release keeps failing (a trigger refuses it here; think of a broken row)
// never takes every sweep: it rests, and the other variants' expired orders are released.
TEST(OrdersExpiry, AVariantWhoseReleaseFailsNeverJamsTheSweep) {
  TestServer s(Overrides{{"ORDER_SWEEP_BATCH", "1"}});
  auto stuck = make_variant(s, 2);
  auto fine = make_variant(s, 2);
  auto first = str(post_order(s, s.register_user("customer"), stuck.id).json(), "order_id");
  auto second = str(post_order(s, s.register_user("customer"), fine.id).json(), "order_id");
  const auto fn = "ml_test_stuck_" + unique_suffix();
  {
    pqxx::work w(test_db().connection());
    // No session (as after a crash), expired; the stuck variant's order expired first.
    w.exec_params0(
        "UPDATE orders SET payment_url = NULL, expires_at = now() - interval '2 hours' "
        "WHERE id = $1",
        first);
    w.exec_params0(
        "UPDATE orders SET payment_url = NULL, expires_at = now() - interval '1 hour' "
        "WHERE id = $1",
        second);
    w.exec("CREATE FUNCTION " + fn +
           "() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN IF NEW.variant_id = " +
           std::to_string(stuck.id) +
           " THEN RAISE EXCEPTION 'stuck for the test'; END IF; RETURN NEW; END $$");
    w.exec("CREATE TRIGGER " + fn +
           " BEFORE UPDATE OF status ON orders FOR EACH ROW EXECUTE "
           "FUNCTION " +
           fn + "()");
    w.commit();
  }
  EXPECT_TRUE(eventually([&] {
    s.orders().sweep_now_for_test();
    return count_orders(fine.id, "cancelled") == 1;
  }));
  EXPECT_EQ(count_orders(stuck.id, "pending"), 1);
  {
    pqxx::work w(test_db().connection());
    w.exec("DROP TRIGGER " + fn + " ON orders");
    w.exec("DROP FUNCTION " + fn + "()");
    w.commit();
  }
  EXPECT_EQ(db_stock(fine.id), 2);
}
