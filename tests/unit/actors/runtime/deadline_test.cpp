// Every pool job and every ask has a deadline: a step that misses it is answered (503, Retry-After)
// and never left waiting; a queued job past it never runs; a late real answer is dropped. The
// hash pool runs plain CPU jobs, so no database or Redis is needed.
#include <gtest/gtest.h>

#include <atomic>
#include <future>

#include "actors/runtime/pool_jobs.hpp"
#include "actors/runtime/runtime.hpp"

using namespace marketlink;
using namespace std::chrono_literals;

namespace {

config::Config one_hash_worker() {
  config::Config c;
  c.hash_pool_size = 1;
  c.db_pool_size = 1;
  return c;
}

// Occupies the only hash worker until release() (or the end of the test).
class Blocker {
 public:
  explicit Blocker(actors::Runtime& rt) {
    auto started = std::make_shared<std::promise<void>>();
    auto running = started->get_future();
    rt.submit(
        actors::PoolKind::hash,
        [started, gate = gate_](actors::Resources&) {
          started->set_value();
          gate.wait();
        },
        [](const Error&) {}, 10s);
    running.wait();
  }
  ~Blocker() { release(); }
  Blocker(const Blocker&) = delete;
  Blocker& operator=(const Blocker&) = delete;
  void release() {
    if (!released_) {
      released_ = true;
      promise_.set_value();
    }
  }

 private:
  std::promise<void> promise_;
  std::shared_future<void> gate_ = promise_.get_future().share();
  bool released_ = false;
};

// Waits until every job queued on the hash pool before this one has run.
// (The job may also be answered once more when the runtime shuts down right after it ran — its
// worker had not yet reported it done — so the promise lives with the callbacks and is set once.)
void drain(actors::Runtime& rt) {
  auto done = std::make_shared<std::promise<void>>();
  auto once = std::make_shared<std::atomic<bool>>(false);
  auto finish = [done, once] {
    if (!once->exchange(true)) done->set_value();
  };
  auto waited = done->get_future();
  rt.submit(
      actors::PoolKind::hash, [finish](actors::Resources&) { finish(); },
      [finish](const Error&) { finish(); });
  waited.wait();
}

}  // namespace

TEST(Deadlines, AQueuedJobPastItsDeadlineIsAnsweredAndNeverRuns) {
  const auto config = one_hash_worker();  // the runtime keeps a reference to it
  actors::Runtime rt(config);
  Blocker blocker(rt);
  std::atomic<bool> ran{false};
  std::promise<Error> failed;
  rt.submit(
      actors::PoolKind::hash, [&ran](actors::Resources&) { ran = true; },
      [&failed](Error e) { failed.set_value(std::move(e)); }, 50ms);
  const Error e = failed.get_future().get();
  EXPECT_EQ(e.code, ErrorCode::unavailable);
  EXPECT_EQ(e.reason, Reason::deadline_exceeded);
  EXPECT_GT(e.retry_after.count(), 0) << "the client is told when to come back";
  blocker.release();
  drain(rt);
  EXPECT_FALSE(ran) << "a job whose caller was already answered must not run";
}

TEST(Deadlines, ARunningJobPastItsDeadlineIsAnsweredOnceAndItsLateResultDropped) {
  const auto config = one_hash_worker();  // the runtime keeps a reference to it
  actors::Runtime rt(config);
  std::promise<void> release;
  auto gate = release.get_future().share();
  std::atomic<int> answers{0};
  std::promise<Result<int>> first;
  actors::submit_for<int>(
      rt, actors::PoolKind::hash,
      [gate](actors::Resources&) -> Result<int> {
        gate.wait();
        return 7;
      },
      [&](Result<int> r) {
        if (answers.fetch_add(1) == 0) first.set_value(std::move(r));
      },
      50ms);
  auto r = first.get_future().get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason, Reason::deadline_exceeded);
  release.set_value();
  drain(rt);  // the job has finished and tried to answer
  EXPECT_EQ(answers.load(), 1);
}

TEST(Deadlines, AnAskNobodyAnswersIsAnsweredAtItsDeadline) {
  const auto config = one_hash_worker();  // the runtime keeps a reference to it
  actors::Runtime rt(config);
  std::atomic<int> answers{0};
  std::promise<Result<int>> first;
  auto done = rt.with_deadline<int>(
      "silent actor",
      [&](Result<int> r) {
        if (answers.fetch_add(1) == 0) first.set_value(std::move(r));
      },
      30ms);
  auto r = first.get_future().get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::unavailable);
  EXPECT_NE(r.error().message.find("silent actor"), std::string::npos);
  done(5);  // the real answer, too late
  EXPECT_EQ(answers.load(), 1);
}

TEST(Deadlines, AnAskAnsweredInTimeKeepsItsAnswer) {
  const auto config = one_hash_worker();  // the runtime keeps a reference to it
  actors::Runtime rt(config);
  std::atomic<int> answers{0};
  int value = 0;
  auto done = rt.with_deadline<int>(
      "quick actor",
      [&](Result<int> r) {
        ++answers;
        value = r.ok() ? *r : -1;
      },
      20ms);
  done(5);
  // The deadline's own answer comes later and must be dropped: wait past it on the pool.
  std::promise<void> later;
  rt.after(60ms, [&later] { later.set_value(); });
  later.get_future().wait();
  EXPECT_EQ(answers.load(), 1);
  EXPECT_EQ(value, 5);
}

TEST(Deadlines, FirstAnswerPassesOnlyTheFirstCall) {
  int calls = 0;
  auto cb = actors::first_answer<int>([&](Result<int>) { ++calls; });
  cb(1);
  cb(Error::unavailable());
  cb(2);
  EXPECT_EQ(calls, 1);
}
