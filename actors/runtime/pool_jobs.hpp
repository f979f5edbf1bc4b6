// Pool jobs with a typed result: one submit_for<T> and the four kinds of job built on it (a
// transaction, a single read, a Redis call, CPU work). For actors/**.cpp only: it names
// libpqxx's transaction types, which the HTTP layer never sees.
#pragma once

#include <chrono>
#include <functional>
#include <utility>

#include "actors/runtime/runtime.hpp"
#include "persistence/database.hpp"
#include "persistence/group_commit.hpp"
#include "persistence/redis_client.hpp"

namespace marketlink::actors {

// Runs fn(Resources&) on `pool` and hands its result, or the pool's failure (unavailable,
// internal, a missed deadline), to `done` exactly once, on a pool thread.
template <class T, class Fn>
void submit_for(Runtime& runtime, PoolKind pool, Fn fn, Callback<T> done,
                std::chrono::milliseconds deadline = std::chrono::milliseconds{0}) {
  auto once = first_answer<T>(std::move(done));
  runtime.submit(
      pool, [fn = std::move(fn), once](Resources& r) mutable { once(fn(r)); },
      [once](Error e) { once(std::move(e)); }, deadline);
}

// A pool job's deadline for work a request waits for: JOB_TIMEOUT_MS, or what is left of the
// request's deadline when that is shorter (a job still queued then is skipped).
inline std::chrono::milliseconds job_deadline(const Runtime& runtime, Deadline deadline) {
  if (deadline == no_deadline) return std::chrono::milliseconds{0};
  return std::min(runtime.job_timeout(), time_left(deadline));
}

// Runs fn(Tx&) in one transaction on the PostgreSQL pool (skipped if `deadline` passes first).
template <class T>
void run_transaction(Runtime& runtime, const char* what,
                     std::function<Result<T>(persistence::Tx&)> fn, Callback<T> done,
                     Deadline deadline = no_deadline) {
  submit_for<T>(
      runtime, PoolKind::db,
      [what, fn = std::move(fn)](Resources& r) { return persistence::transact(r.db(), what, fn); },
      std::move(done), job_deadline(runtime, deadline));
}

// As run_transaction, but as one member of the process's shared write transaction
// (Runtime::commits): `fn` runs under its own savepoint, and commits with whatever else is ready
// (while the process is busy, it may wait up to a millisecond for company).
template <class T>
void run_grouped(Runtime& runtime, const char* what, std::function<Result<T>(persistence::Tx&)> fn,
                 Callback<T> done, Deadline deadline = no_deadline) {
  submit_for<T>(
      runtime, PoolKind::db,
      [what, fn = std::move(fn), group = &runtime.commits()](Resources& r) {
        return group->run<T>(r.db(), what, fn, true);
      },
      std::move(done), job_deadline(runtime, deadline));
}

// As run_transaction for a single read statement: no BEGIN/COMMIT around it.
template <class T>
void run_read(Runtime& runtime, const char* what, std::function<Result<T>(persistence::Tx&)> fn,
              Callback<T> done) {
  using Fn = std::function<Result<T>(persistence::Tx&)>;
  submit_for<T>(
      runtime, PoolKind::db,
      [what, fn = std::move(fn)](Resources& r) {
        return persistence::transact<const Fn&, pqxx::nontransaction>(r.db(), what, fn);
      },
      std::move(done));
}

// Runs fn(RedisClient&) on the Redis pool.
template <class T>
void run_redis(Runtime& runtime, std::function<Result<T>(persistence::RedisClient&)> fn,
               Callback<T> done) {
  submit_for<T>(
      runtime, PoolKind::redis, [fn = std::move(fn)](Resources& r) { return fn(r.redis()); },
      std::move(done));
}

// Runs a CPU-heavy fn() on the hash pool.
template <class T>
void run_cpu(Runtime& runtime, std::function<Result<T>()> fn, Callback<T> done) {
  submit_for<T>(
      runtime, PoolKind::hash, [fn = std::move(fn)](Resources&) { return fn(); }, std::move(done));
}

}  // namespace marketlink::actors
