// The actor system behind the server: a root supervisor with three worker pools (PostgreSQL,
// Redis, password hashing) whose detached workers own their connections. Neither CAF nor libpqxx
// types here, so the many files that use the runtime compile without them; the pool job helpers
// that name a transaction are in actors/runtime/pool_jobs.hpp.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "actors/runtime/health.hpp"
#include "actors/runtime/registry.hpp"
#include "config/config.hpp"
#include "persistence/result.hpp"

namespace marketlink::persistence {
class Database;
class GroupCommit;
class RedisClient;
}  // namespace marketlink::persistence

namespace marketlink::actors {

// What a pooled worker owns; connections open on first use and reopen after a failure. A
// failing connection marks its dependency down in `health`.
class Resources {
 public:
  Resources(const config::Config& config, Health& health, std::chrono::milliseconds redis_timeout);
  ~Resources();
  Resources(const Resources&) = delete;
  Resources& operator=(const Resources&) = delete;
  persistence::Database& db();
  persistence::RedisClient& redis();
  Health& health() { return health_; }
  const config::Config& config() const { return config_; }

 private:
  const config::Config& config_;
  Health& health_;
  std::chrono::milliseconds redis_timeout_;
  std::unique_ptr<persistence::Database> db_;
  std::unique_ptr<persistence::RedisClient> redis_;
};

enum class PoolKind { db, redis, hash };

using Job = std::function<void(Resources&)>;
using JobFailure = std::function<void(Error)>;

template <class T>
using Callback = std::function<void(Result<T>)>;

// The answer to a step that missed its deadline: 503 with Retry-After for the client.
Error deadline_error(const char* what);

// A request's deadline, carried by the work it causes: a job or a work item still waiting when
// it passes is skipped (its caller has been answered already). `no_deadline` for work that no
// request waits for.
using Deadline = std::chrono::steady_clock::time_point;
inline constexpr Deadline no_deadline = Deadline::max();
// What is left of `deadline`: at least 1 ms (a deadline that passed answers at once), and zero
// for no_deadline (the default of whatever takes it).
std::chrono::milliseconds time_left(Deadline deadline);
inline bool passed(Deadline deadline) {
  return deadline != no_deadline && std::chrono::steady_clock::now() >= deadline;
}

// The answer lost with a dropped job or message (its actor died, its pool restarted).
Error dropped_error();

namespace detail {
// The shared state of first_answer: the first answer passes, later ones go to `late` (if any);
// if every copy of the callback is destroyed unanswered, it answers dropped_error(), so work
// that vanishes with a dying actor's mailbox or a restarted pool's queue still gets an answer.
template <class T>
struct Once {
  std::atomic<bool> fired{false};
  Callback<T> done;
  Callback<T> late;
  void answer(Result<T> r) {
    if (fired.exchange(true)) {
      if (late) late(std::move(r));
      return;
    }
    auto cb = std::move(done);
    done = nullptr;
    cb(std::move(r));
  }
  Once() = default;
  Once(const Once&) = delete;
  Once& operator=(const Once&) = delete;
  ~Once() {
    if (fired.exchange(true) || !done) return;
    try {
      done(dropped_error());
    } catch (...) {  // a destructor never throws; the caller's deadline still answers it
    }
  }
};
}  // namespace detail

// `done`, callable from any thread, passing on only its first call (a step answered at its
// deadline ignores the late real answer, and the other way round); answered dropped_error() if
// it is destroyed without a call.
template <class T>
Callback<T> first_answer(Callback<T> done) {
  auto once = std::make_shared<detail::Once<T>>();
  once->done = std::move(done);
  return [once](Result<T> r) { once->answer(std::move(r)); };
}

// A named step of a multi-step flow: a callback that runs flow->next(result), keeping the flow
// alive until then.
template <class Flow, class T>
Callback<T> step_of(std::shared_ptr<Flow> flow, void (Flow::*next)(Result<T>)) {
  return [flow = std::move(flow), next](Result<T> r) { ((*flow).*next)(std::move(r)); };
}

// Test-only crash drills: kills this process (SIGKILL, as a power cut would) at the named point
// when MARKETLINK_FAULT names it; nothing happens otherwise.
void fault_drill_for_test(const config::Config& config, const char* point);
// Test-only: true when MARKETLINK_FAULT names `point` (the caller then misbehaves on purpose, say
// by dropping a Redis call as a network would).
bool fault_point_for_test(const config::Config& config, const char* point);

class Runtime {
 public:
  // Keeps a reference to `config`, which must outlive it (a temporary may not be passed).
  explicit Runtime(const config::Config& config);
  explicit Runtime(const config::Config&& config) = delete;
  ~Runtime();  // shuts down and waits for every actor
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // Queues `job` on a worker of `pool`. `on_failure` runs instead when the pool is saturated or
  // restarting (unavailable), when the job throws (internal) or its worker dies mid-job
  // (unavailable), and when `deadline` (JOB_TIMEOUT_MS when zero) passes first: a job still
  // queued then never runs; a job running then finishes, and its own answer must be dropped
  // (submit_for in pool_jobs.hpp does that).
  void submit(PoolKind pool, Job job, JobFailure on_failure,
              std::chrono::milliseconds deadline = std::chrono::milliseconds{0});

  // Runs `fn` once `delay` has passed, on an actor thread (nothing runs after shutdown).
  void after(std::chrono::milliseconds delay, std::function<void()> fn);

  // `done` answered with deadline_error(what) unless it was called within `deadline`
  // (ASK_TIMEOUT_MS when zero); only the first answer passes, and a real answer that comes after
  // the deadline goes to `late` (say, to release what it reserved for a caller who is gone).
  // Dropped unanswered, it answers dropped_error() at once (the timer holds it weakly).
  template <class T>
  Callback<T> with_deadline(const char* what, Callback<T> done,
                            std::chrono::milliseconds deadline = std::chrono::milliseconds{0},
                            Callback<T> late = nullptr) {
    auto once = std::make_shared<detail::Once<T>>();
    once->done = std::move(done);
    once->late = std::move(late);
    std::weak_ptr<detail::Once<T>> weak = once;
    after(deadline.count() > 0 ? deadline : ask_timeout(), [weak, what] {
      if (auto o = weak.lock()) o->answer(deadline_error(what));
    });
    return [once](Result<T> r) { once->answer(std::move(r)); };
  }
  // The same, by a request's deadline (ASK_TIMEOUT_MS from now at the latest).
  template <class T>
  Callback<T> with_deadline(const char* what, Callback<T> done, Deadline deadline,
                            Callback<T> late = nullptr) {
    return with_deadline<T>(what, std::move(done), std::min(ask_timeout(), time_left(deadline)),
                            std::move(late));
  }

  InspectionRegistry& registry();
  Health& health();
  // The process's shared write transactions (persistence/group_commit.hpp): reservations,
  // gateway sessions and payment confirmations that are ready together commit together
  // (run_grouped in pool_jobs.hpp).
  persistence::GroupCommit& commits();
  const config::Config& config() const;
  std::chrono::milliseconds ask_timeout() const;
  std::chrono::milliseconds job_timeout() const;

  // Stops the actors (idempotent). Jobs submitted afterwards fail with `unavailable`.
  void shutdown();

  // Kills one worker of `pool` (or the whole pool actor) as a crash would; for tests (the
  // operator console restarts through restart_child).
  void crash_for_test(PoolKind pool, bool whole_pool);

  // Restarts a supervised child by name ("payment_actor", "outbox_worker", "db_pool", ...): it
  // is killed and its supervisor starts it again, as after a crash. False for an unknown name.
  bool restart_child(const std::string& name);
  // The names restart_child accepts.
  std::vector<std::string> restartable() const;

  struct Impl;  // opaque outside runtime.cpp
  Impl& impl() { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace marketlink::actors
