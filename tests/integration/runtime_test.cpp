// The actor runtime: pools run jobs, crashed workers and pools are restarted by their supervisor,
// and outages of PostgreSQL or Redis become 503s with nothing written.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include "persistence/database.hpp"
#include "tests/support/test_server.hpp"

using namespace marketlink;
using namespace marketlink::testing;

namespace {

actors::ActorStats::Snapshot entry(actors::Runtime& rt, const std::string& name) {
  for (auto& e : rt.registry().snapshot()) {
    if (e.name == name) return e;
  }
  return {};
}

// Submits a job and waits for its outcome: "ok", or the failure's error code. As Runtime::submit
// says, a job can be answered twice (it ran, and then its pool died before hearing so): the first
// outcome counts, the second is ignored (it used to throw "promise already satisfied" inside the
// dying pool).
std::string run_job(actors::Runtime& rt, actors::PoolKind pool) {
  auto shared = std::make_shared<std::promise<std::string>>();
  auto once = std::make_shared<std::atomic<bool>>(false);
  auto f = shared->get_future();
  auto answer = [shared, once](std::string outcome) {
    if (!once->exchange(true)) shared->set_value(std::move(outcome));
  };
  rt.submit(
      pool, [answer](actors::Resources&) { answer("ok"); },
      [answer](Error e) { answer("error " + std::to_string(static_cast<int>(e.code))); });
  return f.get();
}

}  // namespace

TEST(Runtime, PoolsRunJobsAndReportToTheRegistry) {
  auto cfg = test_config();
  actors::Runtime rt(cfg);
  EXPECT_EQ(run_job(rt, actors::PoolKind::db), "ok");
  EXPECT_EQ(run_job(rt, actors::PoolKind::hash), "ok");
  auto sup = entry(rt, "root_supervisor");
  EXPECT_EQ(sup.kind, "supervisor");
  auto pool = entry(rt, "db_pool");
  EXPECT_EQ(pool.parent, "root_supervisor");
  EXPECT_GE(pool.handled, 1u);
  auto worker = entry(rt, "db_pool/worker-0");
  EXPECT_EQ(worker.kind, "worker");
  EXPECT_EQ(worker.parent, "db_pool");
}

TEST(Runtime, ThrowingJobFailsWithInternalAndTheWorkerLivesOn) {
  auto cfg = test_config();
  actors::Runtime rt(cfg);
  std::promise<ErrorCode> p;
  auto f = p.get_future();
  rt.submit(
      actors::PoolKind::hash, [](actors::Resources&) { throw std::runtime_error("boom"); },
      [&p](Error e) { p.set_value(e.code); });
  EXPECT_EQ(f.get(), ErrorCode::internal);
  EXPECT_EQ(run_job(rt, actors::PoolKind::hash), "ok");
}

TEST(Runtime, CrashedWorkerIsRestartedBySupervisor) {
  auto cfg = test_config({{"HASH_POOL_SIZE", "1"}});
  actors::Runtime rt(cfg);
  ASSERT_EQ(run_job(rt, actors::PoolKind::hash), "ok");
  rt.crash_for_test(actors::PoolKind::hash, false);
  ASSERT_TRUE(eventually([&] { return entry(rt, "hash_pool/worker-0").restarts == 1; }));
  EXPECT_FALSE(entry(rt, "hash_pool/worker-0").last_error.empty());
  EXPECT_EQ(run_job(rt, actors::PoolKind::hash), "ok") << "the restarted worker takes jobs";
}

TEST(Runtime, CrashedPoolIsRestartedByTheRootSupervisor) {
  auto cfg = test_config();
  actors::Runtime rt(cfg);
  ASSERT_EQ(run_job(rt, actors::PoolKind::db), "ok");
  rt.crash_for_test(actors::PoolKind::db, true);
  ASSERT_TRUE(eventually([&] { return entry(rt, "db_pool").restarts == 1; }));
  ASSERT_TRUE(eventually([&] { return run_job(rt, actors::PoolKind::db) == "ok"; }));
}

// A pool that dies (here restarted from the console's action) answers every job it held, the
// running one and the queued ones, instead of dropping them.
TEST(Runtime, ARestartedPoolAnswersEveryJobItHeld) {
  auto cfg = test_config({{"DB_POOL_SIZE", "1"}, {"JOB_TIMEOUT_MS", "600000"}});
  actors::Runtime rt(cfg);
  constexpr int kQueued = 5;
  std::promise<void> release, running, all_answered;
  auto released = release.get_future().share();
  std::atomic<int> answered{0};
  std::atomic<int> unavailable{0};
  auto on_failure = [&](const Error& e) {
    if (e.code == ErrorCode::unavailable) ++unavailable;
    if (++answered == kQueued + 1) all_answered.set_value();
  };
  rt.submit(
      actors::PoolKind::db,
      [released, &running](actors::Resources&) {
        running.set_value();
        released.wait();
      },
      on_failure);
  running.get_future().wait();
  for (int i = 0; i < kQueued; ++i) {
    rt.submit(
        actors::PoolKind::db, [](actors::Resources&) {}, on_failure);
  }
  // Restart once the pool has taken them all into its queue (jobs still in its mailbox are
  // another matter: a killed actor's mailbox is dropped).
  ASSERT_TRUE(eventually([&] { return entry(rt, "db_pool").handled >= kQueued + 1u; }));
  ASSERT_TRUE(rt.restart_child("db_pool"));
  all_answered.get_future().wait();
  release.set_value();
  EXPECT_EQ(unavailable.load(), kQueued + 1);
  // Once the supervisor has seen the pool die, a job is refused at once or run by the new pool.
  ASSERT_TRUE(eventually([&] { return entry(rt, "db_pool").restarts == 1; }));
  ASSERT_TRUE(eventually([&] { return run_job(rt, actors::PoolKind::db) == "ok"; }))
      << "the restarted pool takes jobs";
}

TEST(Runtime, JobsAfterShutdownFailAsUnavailable) {
  auto cfg = test_config();
  actors::Runtime rt(cfg);
  rt.shutdown();
  EXPECT_EQ(run_job(rt, actors::PoolKind::db),
            "error " + std::to_string(static_cast<int>(ErrorCode::unavailable)));
}

// Redis down: accounts keep working (the limits count in this process meanwhile), and /readyz
// names Redis.
TEST(Outage, RedisDownKeepsAccountsWorkingAndReadyzNamesIt) {
  TestServer s(Overrides{{"REDIS_PORT", "1"}, {"REDIS_TIMEOUT_MS", "200"}});
  auto c = s.client();
  const auto email = unique_email("noredis");
  auto r = c.post(
      "/api/v1/auth/register/",
      R"({"email":")" + email +
          R"(","password":"Sturdy-Pass-42","password2":"Sturdy-Pass-42","role":"customer"})");
  EXPECT_EQ(r.status, 201) << r.body;
  auto login =
      c.post("/api/v1/auth/login/", R"({"email":")" + email + R"(","password":"Sturdy-Pass-42"})");
  EXPECT_EQ(login.status, 200) << login.body;
  auto ready = c.get("/readyz");
  EXPECT_EQ(ready.status, 503);
  EXPECT_EQ(ready.json().as_object()["checks"].as_object()["redis"].as_string(), "unreachable");
  EXPECT_EQ(ready.json().as_object()["checks"].as_object()["postgresql"].as_string(), "ok");
}

TEST(Outage, PostgresDownGives503) {
  TestServer s(Overrides{{"DATABASE_URL", "postgresql://postgres@127.0.0.1:1/nothing"},
                         {"DB_CONNECT_TIMEOUT_MS", "500"}});
  auto c = s.client();
  auto r = c.post(
      "/api/v1/auth/register/",
      R"({"email":")" + unique_email() +
          R"(","password":"Sturdy-Pass-42","password2":"Sturdy-Pass-42","role":"customer"})");
  EXPECT_EQ(r.status, 503) << r.body;
  auto me = c.get("/api/v1/auth/profile/", TestServer::shared().register_user("customer").access);
  EXPECT_EQ(me.status, 503);
  auto ready = c.get("/readyz");
  EXPECT_EQ(ready.status, 503);
  EXPECT_EQ(ready.json().as_object()["checks"].as_object()["postgresql"].as_string(),
            "unreachable");
}
