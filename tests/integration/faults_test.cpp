// Faults that used to wedge the server: the PostgreSQL pool restarted under load, PostgreSQL or
// Redis frozen (a fault proxy that accepts and answers nothing), a reservation that commits after
// its caller was answered, an abandoned Idempotency-Key, transient SQL errors, tables that grow.
// Each test asserts what the client sees and that the system recovers by itself; the durations
// they print are the figures of README's "Failure behaviour" table.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <future>
#include <latch>
#include <regex>

#include "actors/stock/stock_service.hpp"
#include "persistence/redis_client.hpp"
#include "persistence/redis_keys.hpp"
#include "tests/support/fault_proxy.hpp"
#include "tests/support/test_server.hpp"

using namespace marketlink;
using namespace marketlink::testing;
using Clock = std::chrono::steady_clock;

namespace {

std::string str(const boost::json::value& v, const char* key) {
  return std::string(v.as_object().at(key).as_string());
}

void sql(const std::string& statement) {
  pqxx::work w(test_db().connection());
  w.exec(statement);
  w.commit();
}

long long sql_count(const std::string& query) {
  pqxx::work w(test_db().connection());
  auto n = w.exec1(query)[0].as<long long>();
  w.commit();
  return n;
}

uint16_t port_of(const std::string& url) {
  std::smatch m;
  if (!std::regex_search(url, m, std::regex(R"(:(\d+)/)"))) throw std::runtime_error("no port");
  return static_cast<uint16_t>(std::stoi(m[1]));
}

std::string with_port(const std::string& url, uint16_t port) {
  return std::regex_replace(url, std::regex(R"(:\d+/)"), ":" + std::to_string(port) + "/");
}

std::vector<TestUser> customers(TestServer& server, int n) {
  std::vector<TestUser> out;
  out.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) out.push_back(server.register_user("customer"));
  return out;
}

struct Answer {
  int status = 0;
  std::string retry_after;
  double seconds = 0;
};

// Every customer orders `variant` at the same moment.
std::vector<Answer> burst(TestServer& server, const std::vector<TestUser>& who, int64_t variant) {
  std::promise<void> go;
  auto start = go.get_future().share();
  std::vector<std::future<Answer>> futures;
  futures.reserve(who.size());
  for (const auto& c : who) {
    futures.push_back(std::async(std::launch::async, [&server, &c, start, variant] {
      HttpClient client(server.port());
      client.get("/healthz");
      start.wait();
      const auto t0 = Clock::now();
      auto r = client.request(
          "POST", "/api/v1/orders/", R"({"variant":)" + std::to_string(variant) + "}",
          {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + c.access}});
      return Answer{r.status, r.header("retry-after"),
                    std::chrono::duration<double>(Clock::now() - t0).count()};
    }));
  }
  go.set_value();
  std::vector<Answer> out;
  out.reserve(futures.size());
  for (auto& f : futures) out.push_back(f.get());
  return out;
}

double slowest(const std::vector<Answer>& answers) {
  double m = 0;
  for (const auto& a : answers) m = std::max(m, a.seconds);
  return m;
}

int readyz(TestServer& server) {
  return server.client().get("/readyz").status;
}

// Not cancelled or failed: the units the variant's orders hold.
long long holding(int64_t variant) {
  return sql_count("SELECT count(*) FROM orders WHERE variant_id = " + std::to_string(variant) +
                   " AND status NOT IN ('cancelled', 'failed')");
}

long long redis_stock(const config::Config& cfg, int64_t variant) {
  persistence::RedisClient redis(persistence::redis_settings(cfg));
  auto v = redis.get_int(persistence::redis_keys::stock(variant));
  return v ? *v : -999;
}

HttpResult login(TestServer& server, const TestUser& u) {
  return server.client().post("/api/v1/auth/login/",
                              R"({"email":")" + u.email + R"(","password":")" + u.password + "\"}");
}

}  // namespace

// An operator restarts db_pool while logins, orders, an IPN and the sweeper wait in its queue
// (both workers held by slow jobs): every request is answered (201/200 or 503 with Retry-After,
// never a 504 or a hang), and everything works again right after.
TEST(Faults, DbPoolRestartedUnderLoadAnswersEveryoneAndEverythingWorksAgain) {
  TestServer s(Overrides{{"DB_POOL_SIZE", "2"}, {"AUTH_CACHE_SECONDS", "600"}});
  auto admin = s.create_admin();
  auto v = make_variant(s, 100);
  auto buyers = customers(s, 24);
  auto payer = s.register_user("customer");
  auto placed = post_order(s, payer, v.id);
  ASSERT_EQ(placed.status, 201) << placed.body;
  const auto paid_order = str(placed.json(), "order_id");
  auto to_expire = post_order(s, s.register_user("customer"), v.id);
  ASSERT_EQ(to_expire.status, 201);
  const auto expiring = str(to_expire.json(), "order_id");
  sql("UPDATE orders SET expires_at = now() - interval '1 hour' WHERE id = '" + expiring + "'");
  ASSERT_EQ(s.client().get("/api/v1/ops/actors/?limit=1", admin.access).status, 200);

  // Both workers busy until released; what comes next queues in the pool.
  std::promise<void> release;
  auto released = release.get_future().share();
  std::latch holding_workers(2);
  for (int i = 0; i < 2; ++i) {
    s.runtime().submit(
        actors::PoolKind::db,
        [released, &holding_workers](actors::Resources&) {
          holding_workers.count_down();
          released.wait();
        },
        [](Error) {});
  }
  holding_workers.wait();
  auto handled = [&s] {
    for (const auto& e : s.runtime().registry().snapshot()) {
      if (e.name == "db_pool") return e.handled;
    }
    return uint64_t{0};
  };
  const auto before = handled();
  auto& gateway = shared_gateway();
  const auto form = FakeSslcommerz::encode(gateway.pay(paid_order, "1500.00"));
  auto ipn = [&] {
    return HttpClient(s.port())
        .request("POST", "/webhooks/payment/" + paid_order + "/", form,
                 {{"Content-Type", "application/x-www-form-urlencoded"}})
        .status;
  };
  auto first_ipn = std::async(std::launch::async, ipn);
  auto logins = std::async(std::launch::async, [&] {
    std::vector<int> statuses;
    statuses.reserve(3);
    for (int i = 0; i < 3; ++i) {
      statuses.push_back(login(s, buyers[static_cast<std::size_t>(i)]).status);
    }
    return statuses;
  });
  s.orders().sweep_now_for_test();
  auto orders = std::async(std::launch::async, [&] { return burst(s, buyers, v.id); });
  ASSERT_TRUE(eventually([&] { return handled() >= before + 4; })) << "jobs queued in the pool";
  EXPECT_EQ(s.client().post("/api/v1/ops/actors/db_pool/restart/", "", admin.access).status, 202);
  release.set_value();

  const auto answers = orders.get();
  for (int st : logins.get()) EXPECT_TRUE(st == 200 || st == 401 || st == 503) << st;
  const int ipn_status = first_ipn.get();
  EXPECT_TRUE(ipn_status == 200 || ipn_status == 503) << ipn_status;
  int created = 0;
  for (const auto& a : answers) {
    EXPECT_TRUE(a.status == 201 || a.status == 503) << a.status;
    if (a.status == 503) {
      EXPECT_FALSE(a.retry_after.empty());
    }
    created += a.status == 201 ? 1 : 0;
  }
  std::printf(
      "[figures] db_pool restarted with its queue full: %zu orders answered (%d created), slowest "
      "%.3f s\n",
      answers.size(), created, slowest(answers));

  // Everything works again: a login, an order, the IPN, the sweeper.
  EXPECT_TRUE(eventually([&] { return login(s, payer).status == 200; }));
  EXPECT_TRUE(
      eventually([&] { return post_order(s, s.register_user("customer"), v.id).status == 201; }));
  EXPECT_TRUE(eventually([&] { return ipn() == 200; }));
  EXPECT_EQ(sql_count("SELECT count(*) FROM orders WHERE id = '" + paid_order +
                      "' AND status IN ('paid', 'processing')"),
            1);
  EXPECT_TRUE(eventually([&] {
    s.orders().sweep_now_for_test();
    return sql_count("SELECT count(*) FROM orders WHERE id = '" + expiring +
                     "' AND status = 'cancelled'") == 1;
  }));
  EXPECT_EQ(db_stock(v.id) + holding(v.id), 100);
}

// PostgreSQL frozen (the proxy accepts and forwards nothing) under an order burst: every order is
// answered 503 with Retry-After (not at the 30 s request timeout: the connection watchdog cuts it
// after DB_STATEMENT_TIMEOUT_MS + 1 s, and the pool then fails fast), /readyz says so, and once
// it thaws everything recovers with the stock invariant intact.
TEST(Faults, FrozenPostgresGives503QuicklyAndEverythingRecoversAfterTheThaw) {
  const auto base = test_config();
  FaultProxy proxy("127.0.0.1", port_of(base.database_url));
  TestServer s(Overrides{{"DATABASE_URL", with_port(base.database_url, proxy.port())},
                         {"DB_STATEMENT_TIMEOUT_MS", "1000"},
                         {"HEALTH_INTERVAL_MS", "200"},
                         {"JOB_TIMEOUT_MS", "20000"}});
  auto v = make_variant(s, 20);
  auto buyers = customers(s, 24);
  ASSERT_TRUE(eventually([&] { return readyz(s) == 200; }));

  proxy.set_mode(FaultProxy::Mode::blackhole);
  const auto frozen_at = Clock::now();
  auto answers = burst(s, buyers, v.id);
  for (const auto& a : answers) {
    EXPECT_EQ(a.status, 503);
    EXPECT_FALSE(a.retry_after.empty());
  }
  ASSERT_TRUE(eventually([&] { return readyz(s) == 503; }));
  const double not_ready_after = std::chrono::duration<double>(Clock::now() - frozen_at).count();
  auto body = s.client().get("/readyz").json();
  EXPECT_EQ(str(body.at("checks"), "postgresql"), "unreachable");

  proxy.set_mode(FaultProxy::Mode::pass);
  const auto thawed_at = Clock::now();
  ASSERT_TRUE(eventually([&] { return readyz(s) == 200; }));
  const double ready_after = std::chrono::duration<double>(Clock::now() - thawed_at).count();
  ASSERT_TRUE(eventually([&] { return post_order(s, buyers[0], v.id).status == 201; }));
  const double serving_after = std::chrono::duration<double>(Clock::now() - thawed_at).count();
  std::printf(
      "[figures] PostgreSQL frozen, statement timeout 1 s: %zu orders answered 503, slowest %.3f "
      "s; "
      "readyz not ready after %.3f s; after the thaw ready in %.3f s, orders served in %.3f s\n",
      answers.size(), slowest(answers), not_ready_after, ready_after, serving_after);
  EXPECT_EQ(db_stock(v.id) + holding(v.id), 20);
}

// Redis frozen under an order burst bigger than the stock: nobody waits for long, nobody gets
// more than the stock, and once Redis answers again its counter equals PostgreSQL.
TEST(Faults, FrozenRedisNeitherHangsNorOversellsAndTheCounterHeals) {
  const auto base = test_config();
  FaultProxy proxy(base.redis_host, base.redis_port);
  TestServer s(
      Overrides{{"REDIS_PORT", std::to_string(proxy.port())}, {"HEALTH_INTERVAL_MS", "200"}});
  auto v = make_variant(s, 10);
  auto buyers = customers(s, 24);
  ASSERT_EQ(post_order(s, buyers[0], v.id).status, 201);  // the counter is seeded

  proxy.set_mode(FaultProxy::Mode::blackhole);
  auto answers = burst(s, buyers, v.id);
  int created = 0;
  for (const auto& a : answers) {
    EXPECT_TRUE(a.status == 201 || a.status == 400 || a.status == 503) << a.status;
    created += a.status == 201 ? 1 : 0;
  }
  EXPECT_LE(created, 9);
  EXPECT_GE(db_stock(v.id), 0);
  EXPECT_EQ(db_stock(v.id) + holding(v.id), 10);
  ASSERT_TRUE(eventually([&] { return readyz(s) == 503; }));

  proxy.set_mode(FaultProxy::Mode::pass);
  const auto thawed_at = Clock::now();
  ASSERT_TRUE(eventually([&] { return readyz(s) == 200; }));
  auto cfg = s.config();
  EXPECT_TRUE(eventually([&] { return redis_stock(base, v.id) == db_stock(v.id); }))
      << redis_stock(base, v.id) << " vs " << db_stock(v.id);
  std::printf(
      "[figures] Redis frozen: %zu orders answered (%d created of 9 left), slowest %.3f s; counter "
      "equal to PostgreSQL %.3f s after the thaw\n",
      answers.size(), created, slowest(answers),
      std::chrono::duration<double>(Clock::now() - thawed_at).count());
}

// A reservation queued behind a vendor's slow stock change outlives its request: the client gets
// 503 at the deadline, and when the actor comes to it, the reservation is skipped — no order, no
// unit taken in PostgreSQL or Redis, nothing to release.
TEST(Faults, AReservationPastItsRequestDeadlineIsSkipped) {
  const auto base = test_config();
  TestServer s(Overrides{{"ASK_TIMEOUT_MS", "500"}, {"JOB_TIMEOUT_MS", "20000"}});
  auto v = make_variant(s, 3);
  auto customer = s.register_user("customer");
  std::promise<void> entered, release;
  auto released = release.get_future().share();
  s.stock().exclusive(
      v.id,
      [&entered, released](persistence::Tx&) -> Result<actors::StockChange> {
        entered.set_value();
        released.wait();
        return Error::make(ErrorCode::invalid_input, "nothing changed");
      },
      [](Result<actors::StockChange>) {});
  entered.get_future().wait();
  auto r = post_order(s, customer, v.id);
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_FALSE(r.header("retry-after").empty());
  release.set_value();
  auto skipped = [&] {
    for (const auto& e : s.runtime().registry().snapshot()) {
      if (e.name != "stock/" + std::to_string(v.id)) continue;
      for (const auto& [name, value] : e.gauges) {
        if (name == "skipped_past_deadline") return value;
      }
    }
    return int64_t{-1};
  };
  ASSERT_TRUE(eventually([&] { return skipped() == 1; }));
  EXPECT_EQ(sql_count("SELECT count(*) FROM orders WHERE variant_id = " + std::to_string(v.id)), 0);
  EXPECT_EQ(db_stock(v.id), 3);
  EXPECT_EQ(redis_stock(base, v.id), 3);
  EXPECT_EQ(post_order(s, customer, v.id).status, 201) << "the variant sells on";
}

// A reservation whose batch started in time but commits after its caller was answered (the row
// is locked by another transaction meanwhile): nobody will pay for it, so it is cancelled at once.
TEST(Faults, AReservationCommittedAfterItsDeadlineIsReleasedAtOnce) {
  TestServer s(Overrides{{"ASK_TIMEOUT_MS", "2000"},
                         {"JOB_TIMEOUT_MS", "30000"},
                         {"DB_LOCK_TIMEOUT_MS", "30000"},
                         {"DB_STATEMENT_TIMEOUT_MS", "30000"}});
  auto v = make_variant(s, 3);
  auto customer = s.register_user("customer");
  pqxx::connection holder(test_config().database_url);
  pqxx::work lock(holder);
  lock.exec("SELECT id FROM service_variants WHERE id = " + std::to_string(v.id) + " FOR UPDATE");
  auto order = std::async(std::launch::async, [&] { return post_order(s, customer, v.id); });
  // The batch is in PostgreSQL, waiting for the row.
  ASSERT_TRUE(eventually([&] {
    return sql_count(
               "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND "
               "query LIKE '%service_variants%'") >= 1;
  }));
  auto r = order.get();
  EXPECT_EQ(r.status, 503) << r.body;
  lock.commit();
  EXPECT_TRUE(eventually([&] { return count_orders(v.id, "cancelled") == 1; }));
  EXPECT_EQ(count_orders(v.id, "pending"), 0);
  EXPECT_EQ(db_stock(v.id), 3);
}

// A claim whose request died (status still NULL, older than the request deadline plus a margin)
// no longer blocks the key; a fresh one still does.
TEST(Faults, AnAbandonedIdempotencyKeyCanBeClaimedAgain) {
  auto& s = TestServer::shared();
  auto v = make_variant(s, 5);
  auto customer = s.register_user("customer");
  sql("INSERT INTO idempotency_keys (customer_id, key, request_hash, created_at) VALUES ('" +
      customer.id + "', 'stale-key', 'x', now() - interval '10 minutes')");
  sql("INSERT INTO idempotency_keys (customer_id, key, request_hash, created_at) VALUES ('" +
      customer.id + "', 'fresh-key', 'x', now())");
  auto fresh = post_order(s, customer, v.id, {{"Idempotency-Key", "fresh-key"}});
  EXPECT_TRUE(fresh.status == 409 || fresh.status == 422) << fresh.body;
  auto stale = post_order(s, customer, v.id, {{"Idempotency-Key", "stale-key"}});
  EXPECT_EQ(stale.status, 201) << stale.body;
  auto replay = post_order(s, customer, v.id, {{"Idempotency-Key", "stale-key"}});
  EXPECT_EQ(replay.status, 201);
  EXPECT_EQ(str(replay.json(), "order_id"), str(stale.json(), "order_id"));
}

// Deadlocks and serialization failures are retried once (the server rolled back, so nothing of
// the first attempt stays) and are 503 if they persist; a read-only server is 503.
TEST(Faults, TransientSqlErrorsAreUnavailableAndRollbacksAreRetriedOnce) {
  persistence::Database db(persistence::db_settings(test_config()));
  int attempts = 0;
  auto always = persistence::transact(db, "test", [&](persistence::Tx& tx) -> Result<Unit> {
    ++attempts;
    tx.raw().exec("DO $$BEGIN RAISE EXCEPTION 'test' USING ERRCODE = '40P01'; END$$");
    return Unit{};
  });
  ASSERT_FALSE(always.ok());
  EXPECT_EQ(always.error().code, ErrorCode::unavailable);
  EXPECT_GT(always.error().retry_after.count(), 0);
  EXPECT_EQ(attempts, 2);

  attempts = 0;
  auto ro = persistence::transact(db, "test", [&](persistence::Tx& tx) -> Result<Unit> {
    ++attempts;
    tx.raw().exec("SET TRANSACTION READ ONLY");
    tx.raw().exec("CREATE TEMP TABLE ro_probe (n int)");
    return Unit{};
  });
  ASSERT_FALSE(ro.ok());
  EXPECT_EQ(ro.error().code, ErrorCode::unavailable);
  EXPECT_EQ(attempts, 1);

  // A real deadlock: two transactions lock two rows in opposite order. PostgreSQL aborts one;
  // its retry waits for the other and succeeds.
  const auto table = "deadlock_probe_" + unique_suffix();
  sql("CREATE TABLE " + table + " (id int PRIMARY KEY, n int); INSERT INTO " + table +
      " VALUES (1, 0), (2, 0)");
  std::latch both_hold_one(2);
  std::atomic<int> runs{0};
  auto worker = [&](int first, int second) {
    persistence::Database mine(persistence::db_settings(test_config()));
    bool waited = false;
    return persistence::transact(mine, "deadlock", [&](persistence::Tx& tx) -> Result<Unit> {
      ++runs;
      tx.raw().exec("UPDATE " + table + " SET n = n + 1 WHERE id = " + std::to_string(first));
      if (!waited) {
        waited = true;
        both_hold_one.arrive_and_wait();
      }
      tx.raw().exec("UPDATE " + table + " SET n = n + 1 WHERE id = " + std::to_string(second));
      return Unit{};
    });
  };
  auto a = std::async(std::launch::async, worker, 1, 2);
  auto b = std::async(std::launch::async, worker, 2, 1);
  EXPECT_TRUE(a.get().ok());
  EXPECT_TRUE(b.get().ok());
  // At least one of them ran twice (a loaded machine can make both run into the lock timeout or
  // the detector once); neither ran a third time, and both committed exactly once.
  EXPECT_GE(runs.load(), 3);
  EXPECT_LE(runs.load(), 4);
  EXPECT_EQ(sql_count("SELECT sum(n) FROM " + table), 4);
  sql("DROP TABLE " + table);
}

// The janitor deletes what nothing reads any more and keeps the rest.
TEST(Faults, TheJanitorPurgesOldKeysAndExpiredTokens) {
  auto& s = TestServer::shared();
  auto customer = s.register_user("customer");
  sql("INSERT INTO idempotency_keys (customer_id, key, request_hash, response_status, created_at) "
      "VALUES ('" +
      customer.id + "', 'old', 'x', 201, now() - interval '25 hours'), ('" + customer.id +
      "', 'new', 'x', 201, now())");
  sql("INSERT INTO refresh_tokens (jti, user_id, family_id, issued_at, expires_at) VALUES "
      "(gen_random_uuid(), '" +
      customer.id +
      "', gen_random_uuid(), now() - interval '90 days', "
      "now() - interval '60 days')");
  std::promise<Result<persistence::retention::Purged>> done;
  s.janitor().purge_now([&](Result<persistence::retention::Purged> r) { done.set_value(r); });
  auto purged = done.get_future().get();
  ASSERT_TRUE(purged.ok());
  // What is left, not what this call counted: every server process of the run has a janitor,
  // and any of them may have purged these rows first.
  EXPECT_EQ(sql_count("SELECT count(*) FROM idempotency_keys WHERE customer_id = '" + customer.id +
                      "' AND key = 'old'"),
            0);
  EXPECT_EQ(sql_count("SELECT count(*) FROM idempotency_keys WHERE customer_id = '" + customer.id +
                      "' AND key = 'new'"),
            1);
  EXPECT_EQ(sql_count("SELECT count(*) FROM refresh_tokens WHERE user_id = '" + customer.id +
                      "' AND expires_at < now() - interval '1 day'"),
            0);
  EXPECT_EQ(sql_count("SELECT count(*) FROM refresh_tokens WHERE user_id = '" + customer.id +
                      "' AND expires_at > now()"),
            1)
      << "the token of the registration stays";
}
