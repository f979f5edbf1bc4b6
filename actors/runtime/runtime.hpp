// The actor system behind the server: a root supervisor with three worker pools (PostgreSQL,
// Redis, password hashing) whose detached workers own their connections. No CAF types here, so
// the many files that submit work compile without CAF.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "actors/runtime/registry.hpp"
#include "config/config.hpp"
#include "persistence/database.hpp"
#include "persistence/redis_client.hpp"

namespace marketlink::actors {

// What a pooled worker owns; connections open on first use and reopen after a failure.
class Resources {
 public:
  explicit Resources(const config::Config& config);
  ~Resources();
  persistence::Database& db();
  persistence::RedisClient& redis();

 private:
  const config::Config& config_;
  std::unique_ptr<persistence::Database> db_;
  std::unique_ptr<persistence::RedisClient> redis_;
};

persistence::DbSettings db_settings(const config::Config& config);
persistence::RedisSettings redis_settings(const config::Config& config);

enum class PoolKind { db, redis, hash };

using Job = std::function<void(Resources&)>;
using JobFailure = std::function<void(Error)>;

template <class T>
using Callback = std::function<void(Result<T>)>;

class Runtime {
 public:
  explicit Runtime(const config::Config& config);
  ~Runtime();  // shuts down and waits for every actor
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // Queues `job` on a worker of `pool`. `on_failure` runs instead when the pool is saturated or
  // restarting (unavailable), when the job throws (internal) or its worker dies mid-job.
  void submit(PoolKind pool, Job job, JobFailure on_failure);

  InspectionRegistry& registry();
  const config::Config& config() const;

  // Stops the actors (idempotent). Jobs submitted afterwards fail with `unavailable`.
  void shutdown();

  // Kills one worker of `pool` (or the whole pool actor) as a crash would; for tests and the
  // operator console's restart action.
  void inject_crash(PoolKind pool, bool whole_pool);

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

// Runs fn(Tx&) in one transaction on the PostgreSQL pool and hands its result to `done`
// (on a pool thread).
template <class T>
void run_transaction(Runtime& runtime, const char* what,
                     std::function<Result<T>(persistence::Tx&)> fn, Callback<T> done) {
  auto shared_done = std::make_shared<Callback<T>>(std::move(done));
  runtime.submit(
      PoolKind::db,
      [what, fn = std::move(fn), shared_done](Resources& r) {
        (*shared_done)(persistence::transact(r.db(), what, fn));
      },
      [shared_done](Error e) { (*shared_done)(std::move(e)); });
}

// As run_transaction for a single read statement: no BEGIN/COMMIT around it.
template <class T>
void run_read(Runtime& runtime, const char* what, std::function<Result<T>(persistence::Tx&)> fn,
              Callback<T> done) {
  auto shared_done = std::make_shared<Callback<T>>(std::move(done));
  runtime.submit(
      PoolKind::db,
      [what, fn = std::move(fn), shared_done](Resources& r) {
        using Fn = std::function<Result<T>(persistence::Tx&)>;
        (*shared_done)(persistence::transact<const Fn&, pqxx::nontransaction>(r.db(), what, fn));
      },
      [shared_done](Error e) { (*shared_done)(std::move(e)); });
}

// Runs fn(RedisClient&) on the Redis pool.
template <class T>
void run_redis(Runtime& runtime, std::function<Result<T>(persistence::RedisClient&)> fn,
               Callback<T> done) {
  auto shared_done = std::make_shared<Callback<T>>(std::move(done));
  runtime.submit(
      PoolKind::redis,
      [fn = std::move(fn), shared_done](Resources& r) { (*shared_done)(fn(r.redis())); },
      [shared_done](Error e) { (*shared_done)(std::move(e)); });
}

// Runs a CPU-heavy fn() on the hash pool.
template <class T>
void run_cpu(Runtime& runtime, std::function<Result<T>()> fn, Callback<T> done) {
  auto shared_done = std::make_shared<Callback<T>>(std::move(done));
  runtime.submit(
      PoolKind::hash, [fn = std::move(fn), shared_done](Resources&) { (*shared_done)(fn()); },
      [shared_done](Error e) { (*shared_done)(std::move(e)); });
}

}  // namespace marketlink::actors
