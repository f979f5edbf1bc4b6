// GroupCommit on a real PostgreSQL: callers arriving together share transactions, every member's
// work commits exactly once, and a member that fails is undone alone.
#include "persistence/group_commit.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <thread>

#include "persistence/database.hpp"
#include "persistence/ids.hpp"
#include "tests/support/test_server.hpp"

using namespace marketlink;
using namespace marketlink::testing;
using persistence::GroupCommit;
using persistence::Tx;

namespace {

constexpr persistence::Statement kInsert{"group_commit_probe_insert",
                                         "INSERT INTO group_commit_probe (tag, n) VALUES ($1, $2)"};
constexpr persistence::Statement kFail{"group_commit_probe_fail", "SELECT 1 / (0 * $1::int)"};

// Runs body(t, db) on n threads at once, each with its own connection; returns when all ended.
void in_threads(int n, const std::function<void(int, persistence::Database&)>& body) {
  std::vector<std::thread> threads;
  threads.reserve(static_cast<std::size_t>(n));
  for (int t = 0; t < n; ++t) {
    threads.emplace_back([&body, t] {
      persistence::Database db(persistence::db_settings(test_config()));
      body(t, db);
    });
  }
  for (auto& th : threads) th.join();
}

class GroupCommitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pqxx::work w(test_db().connection());
    w.exec0("CREATE TABLE IF NOT EXISTS group_commit_probe (tag text NOT NULL, n int NOT NULL)");
    w.commit();
  }
  static long long rows(const std::string& tag) {
    pqxx::work w(test_db().connection());
    return w.exec_params1("SELECT count(*) FROM group_commit_probe WHERE tag = $1", tag)[0]
        .as<long long>();
  }
  const std::string tag = random_uuid();
};

TEST_F(GroupCommitTest, CallersArrivingTogetherShareTransactionsAndAllCommit) {
  GroupCommit group(64);
  constexpr int kThreads = 8, kEach = 40;
  std::atomic<int> ok{0};
  in_threads(kThreads, [&](int t, persistence::Database& db) {
    for (int i = 0; i < kEach; ++i) {
      auto r = group.run<int>(db, "probe", [&](Tx& tx) -> Result<int> {
        tx.exec(kInsert, tag, t * kEach + i);
        return t * kEach + i;
      });
      if (r && *r == t * kEach + i) ++ok;
    }
  });
  EXPECT_EQ(ok.load(), kThreads * kEach) << "every caller got its own result";
  EXPECT_EQ(rows(tag), kThreads * kEach) << "every member's row, once";
  EXPECT_EQ(group.members(), static_cast<std::size_t>(kThreads * kEach));
  EXPECT_LT(group.transactions(), group.members()) << "some callers shared a commit";
}

TEST_F(GroupCommitTest, AFailingMemberIsUndoneAloneAndGetsItsOwnError) {
  GroupCommit group(64);
  constexpr int kThreads = 6, kEach = 30;
  std::atomic<int> failed{0}, refused{0}, ok{0};
  in_threads(kThreads, [&](int t, persistence::Database& db) {
    for (int i = 0; i < kEach; ++i) {
      const int n = t * kEach + i;
      auto r = group.run<int>(db, "probe", [&](Tx& tx) -> Result<int> {
        tx.exec(kInsert, tag, n);
        if (n % 3 == 1) tx.exec(kFail, n);          // a statement that fails after a write
        if (n % 3 == 2) return Error::not_found();  // an error result after a write
        return n;
      });
      if (r) {
        ++ok;
      } else if (r.error().code == ErrorCode::not_found) {
        ++refused;
      } else {
        ++failed;
      }
    }
  });
  constexpr int kAll = kThreads * kEach;
  EXPECT_EQ(ok.load(), kAll / 3);
  EXPECT_EQ(refused.load(), kAll / 3);
  EXPECT_EQ(failed.load(), kAll / 3);
  EXPECT_EQ(rows(tag), kAll / 3) << "only the members that succeeded left their row";
}

}  // namespace

namespace {

// Patient members (they may wait for company while the process is busy) and impatient ones (a
// stock batch) mixed: every one commits once, with its own result.
TEST_F(GroupCommitTest, PatientAndImpatientMembersAllCommitOnce) {
  GroupCommit group(64, std::chrono::milliseconds(2));
  constexpr int kThreads = 6, kEach = 25;
  std::atomic<int> ok{0};
  in_threads(kThreads, [&](int t, persistence::Database& db) {
    for (int i = 0; i < kEach; ++i) {
      const int n = t * kEach + i;
      auto r = group.run<int>(
          db, "probe",
          [&](Tx& tx) -> Result<int> {
            tx.exec(kInsert, tag, n);
            return n;
          },
          /*may_wait=*/t % 2 == 0);
      if (r && *r == n) ++ok;
    }
  });
  EXPECT_EQ(ok.load(), kThreads * kEach);
  EXPECT_EQ(rows(tag), kThreads * kEach);
  EXPECT_LT(group.transactions(), group.members());
}

}  // namespace
