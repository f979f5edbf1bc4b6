// CAF implementation of the runtime: root supervisor → pools → detached workers.
//
// A pool hands jobs to idle workers (work pulling: a worker asks for the next job when it is
// done), queues the rest up to a bound, and restarts a worker that dies, failing the job it held.
// The root supervisor restarts a pool that dies. Back-off doubles per crash up to 5 s and starts
// over after 30 quiet seconds.
#include "actors/runtime/runtime.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <caf/all.hpp>
#include <caf/io/middleman.hpp>
#include <csignal>
#include <deque>
#include <future>
#include <map>
#include <optional>

#include "actors/cluster/wire.hpp"
#include "actors/runtime/backoff.hpp"
#include "actors/runtime/counters.hpp"
#include "actors/runtime/internal.hpp"
#include "persistence/database.hpp"
#include "persistence/group_commit.hpp"
#include "persistence/redis_client.hpp"

namespace marketlink::actors::detail {
struct JobMsg {
  Job run;
  JobFailure fail;
  std::chrono::steady_clock::time_point deadline;
};
}  // namespace marketlink::actors::detail

namespace marketlink::actors::detail {
struct AddChildMsg {
  std::string name;
  internal::Factory factory;
  std::shared_ptr<internal::Slot> slot;
  std::shared_ptr<std::promise<void>> started;
};
}  // namespace marketlink::actors::detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(marketlink::actors::detail::JobMsg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(marketlink::actors::detail::AddChildMsg)

namespace marketlink::actors {
namespace {

using detail::JobMsg;
using ready_atom = caf::atom_constant<caf::atom("ready")>;
using restart_atom = caf::atom_constant<caf::atom("restart")>;
using crash_atom = caf::atom_constant<caf::atom("crash")>;
using add_child_atom = caf::atom_constant<caf::atom("addchild")>;
using restart_child_atom = caf::atom_constant<caf::atom("rechild")>;
using expire_atom = caf::atom_constant<caf::atom("expire")>;

// How often a pool looks for jobs past their deadline.
constexpr std::chrono::milliseconds kExpireInterval{100};

const char* pool_name(PoolKind kind) {
  switch (kind) {
    case PoolKind::db:
      return "db_pool";
    case PoolKind::redis:
      return "redis_pool";
    case PoolKind::hash:
      return "hash_pool";
  }
  return "pool";
}

struct PoolSpec {
  PoolKind kind;
  int workers;
};

}  // namespace

Resources::Resources(const config::Config& config, Health& health,
                     std::chrono::milliseconds redis_timeout)
    : config_(config), health_(health), redis_timeout_(redis_timeout) {}
Resources::~Resources() = default;

persistence::Database& Resources::db() {
  if (!db_) {
    auto settings = persistence::db_settings(config_);
    settings.on_stall = [health = &health_] {
      health->failed(Dependency::postgresql, "a connection failed or stalled");
    };
    db_ = std::make_unique<persistence::Database>(std::move(settings));
  }
  return *db_;
}

persistence::RedisClient& Resources::redis() {
  if (!redis_) {
    auto settings = persistence::redis_settings(config_);
    settings.timeout = redis_timeout_;
    redis_ = std::make_unique<persistence::RedisClient>(std::move(settings));
  }
  return *redis_;
}

bool fault_point_for_test(const config::Config& config, const char* point) {
  return !config.fault_drill_for_test.empty() && config.fault_drill_for_test == point;
}

void fault_drill_for_test(const config::Config& config, const char* point) {
  if (fault_point_for_test(config, point)) {
    spdlog::warn("fault drill: killing the process at {}", point);
    ::raise(SIGKILL);
  }
}

Error deadline_error(const char* what) {
  Error e = Error::make(ErrorCode::unavailable, std::string(what) + " did not answer in time",
                        Reason::deadline_exceeded);
  e.retry_after = std::chrono::seconds(1);
  return e;
}

std::chrono::milliseconds time_left(Deadline deadline) {
  if (deadline == no_deadline) return std::chrono::milliseconds{0};
  // Rounded up: a timer set to what is left never fires before the deadline itself, so work
  // that checks passed() after its caller was answered always finds it passed.
  const auto left =
      std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  return std::max(left, std::chrono::milliseconds{1});
}

Error dropped_error() {
  Error e = Error::unavailable();
  e.retry_after = std::chrono::seconds(1);
  return e;
}

// Runs Runtime::after's closures. A class, not a lambda: CAF 0.17 spawns an argument-less
// lambda through a null std::shared_ptr<std::tuple<>> it dereferences (UBSan's finding).
class TimerActor : public caf::event_based_actor {
 public:
  explicit TimerActor(caf::actor_config& cfg) : caf::event_based_actor(cfg) {}
  caf::behavior make_behavior() override {
    return {[](internal::Step& step) { step.run(); }};
  }
};

// Members of one shared write transaction at most (COMMIT_LINGER_US: how long it may wait).
constexpr std::size_t kCommitGroupLimit = 64;

struct Runtime::Impl {
  explicit Impl(const config::Config& c) : config(c), commits(kCommitGroupLimit, c.commit_linger) {
    caf_config.set("scheduler.max-threads", static_cast<size_t>(c.actor_threads));
    caf_config.set("scheduler.max-throughput", static_cast<size_t>(c.actor_throughput));
    // What members send each other (actors/cluster/ownership), and the network layer that carries
    // it when ownership is on.
    wire::register_wire_types(caf_config);
    if (c.link_port >= 0) caf_config.load<caf::io::middleman>();
    system = std::make_unique<caf::actor_system>(caf_config);
    // Runs Runtime::after's closures; it has no state to lose, so nothing supervises it.
    timer = system->spawn<TimerActor>();
  }

  void publish(PoolKind kind, caf::actor handle) {
    std::lock_guard lock(mutex);
    if (!stopped) pools[static_cast<std::size_t>(kind)] = std::move(handle);
  }

  caf::actor pool(PoolKind kind) {
    std::lock_guard lock(mutex);
    return pools[static_cast<std::size_t>(kind)];
  }

  const config::Config& config;
  InspectionRegistry registry;
  Health health;
  persistence::GroupCommit commits;
  caf::actor_system_config caf_config;
  std::unique_ptr<caf::actor_system> system;
  caf::actor supervisor;
  caf::actor timer;
  caf::actor prober;
  std::mutex mutex;
  std::array<caf::actor, 3> pools;
  std::map<std::string, std::shared_ptr<internal::Slot>> named;  // supervised children by name
  bool stopped = false;
  std::promise<void> pools_started;
};

namespace {

// ---- worker: owns its connections, runs one job at a time, may block -------------------------

struct WorkerState {
  std::unique_ptr<Resources> resources;
  std::shared_ptr<ActorStats> stats;
};

caf::behavior worker(caf::stateful_actor<WorkerState>* self, caf::actor pool,
                     const config::Config* config, Health* health,
                     std::shared_ptr<ActorStats> stats, PoolKind kind) {
  // PostgreSQL workers run the stock jobs, whose Redis calls get the gate's short timeout.
  const auto redis_timeout =
      kind == PoolKind::db ? config->redis_gate_timeout : config->redis_timeout;
  self->state.resources = std::make_unique<Resources>(*config, *health, redis_timeout);
  self->state.stats = stats;
  stats->set_state("idle");
  self->send(pool, ready_atom::value);
  return {
      [=](JobMsg& job) {
        auto& st = self->state;
        st.stats->set_state("busy");
        const auto started = std::chrono::steady_clock::now();
        try {
          job.run(*st.resources);
        } catch (const std::exception& e) {
          st.stats->failed(e.what());
          spdlog::error("{}: job failed: {}", st.stats->name(), e.what());
          job.fail(Error::internal(e.what()));
        } catch (...) {
          st.stats->failed("unknown exception");
          job.fail(Error::internal("unknown exception"));
        }
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        if (kind == PoolKind::db) counters().db_seconds.observe(seconds);
        if (kind == PoolKind::redis) counters().redis_seconds.observe(seconds);
        st.stats->handled(self->mailbox().size());
        st.stats->set_state("idle");
        self->send(pool, ready_atom::value);
      },
  };
}

// ---- pool: work pulling over its workers, restarts them ----------------------------------------

struct PoolState {
  PoolSpec spec{};
  const config::Config* config = nullptr;
  InspectionRegistry* registry = nullptr;
  Health* health = nullptr;
  std::shared_ptr<ActorStats> stats;
  std::shared_ptr<std::vector<caf::actor>> workers = std::make_shared<std::vector<caf::actor>>();
  std::vector<Backoff> backoff;
  std::map<caf::actor_id, std::size_t> index_of;
  struct InFlight {
    JobFailure fail;
    std::chrono::steady_clock::time_point deadline;
    bool answered = false;  // by the deadline; the worker still runs the job
  };
  // The jobs the pool holds, shared with its exit hook: however the pool ends (a crash, a
  // restart from the console, shutdown), each of them is answered.
  struct Held {
    std::map<caf::actor_id, InFlight> in_flight;
    std::deque<JobMsg> queue;
  };
  std::shared_ptr<Held> held = std::make_shared<Held>();
  std::deque<caf::actor> idle;
};

void spawn_worker(caf::stateful_actor<PoolState>* self, std::size_t index) {
  auto& st = self->state;
  const std::string name =
      std::string(pool_name(st.spec.kind)) + "/worker-" + std::to_string(index);
  auto stats = st.registry->enter(name, "worker", pool_name(st.spec.kind));
  auto w = self->spawn<caf::detached + caf::monitored>(worker, caf::actor_cast<caf::actor>(self),
                                                       st.config, st.health, stats, st.spec.kind);
  (*st.workers)[index] = w;
  st.index_of[w.id()] = index;
}

void dispatch(caf::stateful_actor<PoolState>* self, caf::actor w, JobMsg&& job) {
  self->state.held->in_flight[w.id()] = {job.fail, job.deadline, false};
  self->send(w, std::move(job));
}

// Answers every job whose deadline has passed: a queued one is dropped (it never runs), a running
// one is answered now and its worker finishes it.
void expire(caf::stateful_actor<PoolState>* self) {
  auto& st = self->state;
  const auto now = std::chrono::steady_clock::now();
  const char* name = pool_name(st.spec.kind);
  std::size_t dropped = 0;
  std::erase_if(st.held->queue, [&](JobMsg& job) {
    if (job.deadline > now) return false;
    job.fail(deadline_error(name));
    ++dropped;
    return true;
  });
  std::size_t late = 0;
  for (auto& [worker, job] : st.held->in_flight) {
    if (job.answered || job.deadline > now) continue;
    job.answered = true;
    job.fail(deadline_error(name));
    ++late;
  }
  if (dropped + late > 0) {
    spdlog::warn("{}: {} queued and {} running job(s) missed their deadline", name, dropped, late);
    st.stats->failed("jobs missed their deadline");
  }
}

// A worker died: the job it held is answered unavailable (unless its deadline already answered
// it) and the worker restarts after its back-off.
void worker_down(caf::stateful_actor<PoolState>* self, const caf::down_msg& dm) {
  auto& st = self->state;
  const auto it = st.index_of.find(dm.source.id());
  if (it == st.index_of.end()) return;
  const auto index = it->second;
  st.index_of.erase(it);
  std::erase_if(st.idle, [&](const caf::actor& a) { return a.id() == dm.source.id(); });
  if (auto job = st.held->in_flight.find(dm.source.id()); job != st.held->in_flight.end()) {
    if (!job->second.answered) job->second.fail(Error::unavailable());
    st.held->in_flight.erase(job);
  }
  auto stats =
      st.registry->enter(std::string(pool_name(st.spec.kind)) + "/worker-" + std::to_string(index),
                         "worker", pool_name(st.spec.kind));
  stats->set_state("restarting");
  stats->restarted();
  stats->failed(to_string(dm.reason));
  const auto delay = st.backoff[index].next(std::chrono::steady_clock::now());
  spdlog::warn("{}: worker-{} died ({}); restarting in {} ms", pool_name(st.spec.kind), index,
               to_string(dm.reason), delay.count());
  self->delayed_send(self, delay, restart_atom::value, index);
}

// The dependency whose outage makes this pool answer at once instead of queueing.
std::optional<Dependency> needs(PoolKind kind) {
  if (kind == PoolKind::db) return Dependency::postgresql;
  if (kind == PoolKind::redis) return Dependency::redis;
  return std::nullopt;
}

bool dependency_down(const PoolState& st) {
  const auto d = needs(st.spec.kind);
  return d && !st.health->up(*d);
}

// While the pool's dependency is down, every queued job is answered at once (503, Retry-After)
// rather than at its deadline; the health prober says when to queue again.
void fail_fast(caf::stateful_actor<PoolState>* self) {
  auto& st = self->state;
  if (st.held->queue.empty() || !dependency_down(st)) return;
  spdlog::warn("{}: {} queued job(s) answered at once: dependency down", pool_name(st.spec.kind),
               st.held->queue.size());
  auto queue = std::move(st.held->queue);
  st.held->queue.clear();
  for (auto& job : queue) job.fail(dropped_error());
}

// A job arrives: to an idle worker, else into the bounded queue, else refused (unavailable).
// While the dependency is down it is refused too.
void take_job(caf::stateful_actor<PoolState>* self, JobMsg job) {
  auto& st = self->state;
  st.stats->handled(self->mailbox().size());
  if (dependency_down(st)) {
    job.fail(dropped_error());
  } else if (!st.idle.empty()) {
    auto w = st.idle.front();
    st.idle.pop_front();
    dispatch(self, std::move(w), std::move(job));
  } else if (st.held->queue.size() >= (st.spec.kind == PoolKind::hash
                                           ? st.config->hash_queue_limit
                                           : st.config->pool_queue_limit)) {
    // A hash takes tens of milliseconds: a long queue would only answer 504 later.
    job.fail(Error::unavailable());
  } else {
    st.held->queue.push_back(std::move(job));
  }
}

// A worker finished: it takes the next queued job or waits idle.
void worker_ready(caf::stateful_actor<PoolState>* self) {
  auto& st = self->state;
  auto w = caf::actor_cast<caf::actor>(self->current_sender());
  if (!w) return;
  st.held->in_flight.erase(w.id());
  if (!st.held->queue.empty()) {
    auto job = std::move(st.held->queue.front());
    st.held->queue.pop_front();
    dispatch(self, std::move(w), std::move(job));
  } else {
    st.idle.push_back(std::move(w));
  }
}

caf::behavior pool(caf::stateful_actor<PoolState>* self, PoolSpec spec,
                   const config::Config* config, InspectionRegistry* registry, Health* health) {
  auto& st = self->state;
  st.spec = spec;
  st.config = config;
  st.registry = registry;
  st.health = health;
  st.stats = registry->enter(pool_name(spec.kind), "pool", "root_supervisor");
  st.stats->set_state("running");
  st.workers->resize(static_cast<std::size_t>(spec.workers));
  st.backoff.assign(static_cast<std::size_t>(spec.workers), Backoff{});
  for (std::size_t i = 0; i < st.workers->size(); ++i) spawn_worker(self, i);
  self->delayed_send(self, kExpireInterval, expire_atom::value);

  // However the pool ends, its workers end with it.
  self->attach_functor([workers = st.workers, held = st.held] {
    for (auto& w : *workers) {
      if (w) caf::anon_send_exit(w, caf::exit_reason::user_shutdown);
    }
    for (auto& [worker, job] : held->in_flight) {
      if (!job.answered) job.fail(Error::unavailable());
    }
    held->in_flight.clear();
    for (auto& job : held->queue) job.fail(Error::unavailable());
    held->queue.clear();
  });

  self->set_down_handler([self](caf::down_msg& dm) { worker_down(self, dm); });

  return {
      [self](JobMsg& job) { take_job(self, std::move(job)); },
      [self](ready_atom) { worker_ready(self); },
      [self](expire_atom) {
        expire(self);
        fail_fast(self);
        self->delayed_send(self, kExpireInterval, expire_atom::value);
      },
      [self](restart_atom, std::size_t index) { spawn_worker(self, index); },
      [self](crash_atom, bool whole_pool) {
        auto& st = self->state;
        const auto reason = caf::make_error(caf::sec::runtime_error);
        if (whole_pool) {
          st.stats->failed("crash injected");
          self->quit(reason);
        } else if (!st.workers->empty() && (*st.workers)[0]) {
          self->send_exit((*st.workers)[0], reason);
        }
      },
  };
}

// ---- health prober: PostgreSQL and Redis on connections of its own ----------------------------

using probe_atom = caf::atom_constant<caf::atom("probe")>;

struct ProberState {
  std::unique_ptr<persistence::Database> db;
  std::unique_ptr<persistence::RedisClient> redis;
  std::shared_ptr<ActorStats> stats;
};

// Detached (its probes block, each for at most about two seconds); one probe of each per
// HEALTH_INTERVAL_MS. Only it marks a dependency up again (see health.hpp).
caf::behavior health_prober(caf::stateful_actor<ProberState>* self, const config::Config* config,
                            Health* health, InspectionRegistry* registry) {
  auto& st = self->state;
  auto db = persistence::db_settings(*config);
  db.connect_timeout_seconds = 2;  // libpq's minimum
  db.statement_timeout = std::chrono::milliseconds(1000);
  db.operation_timeout = std::chrono::milliseconds(2000);
  st.db = std::make_unique<persistence::Database>(std::move(db));
  st.redis = std::make_unique<persistence::RedisClient>(persistence::redis_settings(*config));
  st.stats = registry->enter("health_prober", "prober", "root_supervisor");
  st.stats->set_state("running");
  self->send(self, probe_atom::value);
  return {
      [self, config, health](probe_atom) {
        auto& st = self->state;
        auto pg = persistence::transact<std::function<Result<Unit>(persistence::Tx&)>,
                                        pqxx::nontransaction>(
            *st.db, "health probe", [](persistence::Tx& tx) -> Result<Unit> {
              tx.raw().exec("SELECT 1");
              return Unit{};
            });
        health->probed(Dependency::postgresql, pg.ok(), pg ? "" : pg.error().message);
        auto pong = st.redis->command({"PING"});
        const bool redis_ok = pong && pong->type == persistence::RedisReply::Type::status;
        health->probed(Dependency::redis, redis_ok,
                       pong ? (redis_ok ? "" : pong->str) : pong.error().message);
        st.stats->handled(self->mailbox().size());
        st.stats->set_state(pg.ok() && redis_ok ? "running" : "degraded");
        self->delayed_send(self, config->health_interval, probe_atom::value);
      },
  };
}

// ---- root supervisor: restarts pools -----------------------------------------------------------

struct ExtraChild {
  std::string name;
  internal::Factory factory;
  std::shared_ptr<internal::Slot> slot;
  Backoff backoff;
};

using detail::AddChildMsg;

struct SupervisorState {
  std::vector<ExtraChild> extra;
  std::map<caf::actor_id, std::size_t> extra_index_of;
  std::vector<PoolSpec> specs;
  std::shared_ptr<std::vector<caf::actor>> children = std::make_shared<std::vector<caf::actor>>();
  std::vector<Backoff> backoff;
  std::map<caf::actor_id, std::size_t> index_of;
  std::shared_ptr<ActorStats> stats;
};

void spawn_pool(caf::stateful_actor<SupervisorState>* self, Runtime::Impl* impl, std::size_t i) {
  auto& st = self->state;
  auto p =
      self->spawn<caf::monitored>(pool, st.specs[i], &impl->config, &impl->registry, &impl->health);
  (*st.children)[i] = p;
  st.index_of[p.id()] = i;
  impl->publish(st.specs[i].kind, p);
}

caf::behavior supervisor(caf::stateful_actor<SupervisorState>* self, Runtime::Impl* impl,
                         std::vector<PoolSpec> specs) {
  auto& st = self->state;
  st.specs = std::move(specs);
  st.stats = impl->registry.enter("root_supervisor", "supervisor", "");
  st.stats->set_state("running");
  st.children->resize(st.specs.size());
  st.backoff.assign(st.specs.size(), Backoff{});
  for (std::size_t i = 0; i < st.specs.size(); ++i) spawn_pool(self, impl, i);
  impl->pools_started.set_value();

  self->attach_functor([children = st.children] {
    for (auto& c : *children) {
      if (c) caf::anon_send_exit(c, caf::exit_reason::user_shutdown);
    }
  });

  self->set_down_handler([self, impl](caf::down_msg& dm) {
    auto& st = self->state;
    if (auto e = st.extra_index_of.find(dm.source.id()); e != st.extra_index_of.end()) {
      auto& child = st.extra[e->second];
      const auto index = e->second;
      st.extra_index_of.erase(e);
      child.slot->set(caf::actor{});
      auto stats = impl->registry.enter(child.name, "supervised", "root_supervisor");
      stats->restarted();
      stats->failed(to_string(dm.reason));
      const auto delay = child.backoff.next(std::chrono::steady_clock::now());
      spdlog::warn("supervisor: {} died ({}); restarting in {} ms", child.name,
                   to_string(dm.reason), delay.count());
      self->delayed_send(self, delay, restart_child_atom::value, index);
      return;
    }
    const auto it = st.index_of.find(dm.source.id());
    if (it == st.index_of.end()) return;
    const auto i = it->second;
    st.index_of.erase(it);
    impl->publish(st.specs[i].kind, caf::actor{});
    auto stats = impl->registry.enter(pool_name(st.specs[i].kind), "pool", "root_supervisor");
    stats->restarted();
    stats->set_state("restarting");
    const auto delay = st.backoff[i].next(std::chrono::steady_clock::now());
    spdlog::warn("supervisor: {} died ({}); restarting in {} ms", pool_name(st.specs[i].kind),
                 to_string(dm.reason), delay.count());
    self->delayed_send(self, delay, restart_atom::value, i);
  });

  auto spawn_extra = [self](std::size_t index) {
    auto& child = self->state.extra[index];
    auto a = child.factory(self);
    self->monitor(a);
    self->state.extra_index_of[a.id()] = index;
    (*self->state.children).push_back(a);
    child.slot->set(a);
  };
  return {
      [self, impl](restart_atom, std::size_t i) { spawn_pool(self, impl, i); },
      [self, spawn_extra](add_child_atom, AddChildMsg& msg) {
        self->state.extra.push_back({msg.name, std::move(msg.factory), msg.slot, Backoff{}});
        spawn_extra(self->state.extra.size() - 1);
        msg.started->set_value();
      },
      [spawn_extra](restart_child_atom, std::size_t index) { spawn_extra(index); },
  };
}

}  // namespace

Runtime::Runtime(const config::Config& config) : impl_(std::make_unique<Impl>(config)) {
  std::vector<PoolSpec> specs{{PoolKind::db, config.db_pool_size},
                              {PoolKind::redis, 1},
                              {PoolKind::hash, config.hash_pool_size}};
  impl_->supervisor = impl_->system->spawn(supervisor, impl_.get(), std::move(specs));
  impl_->prober = impl_->system->spawn<caf::detached>(health_prober, &impl_->config, &impl_->health,
                                                      &impl_->registry);
  // Jobs submitted from here on find their pool.
  impl_->pools_started.get_future().wait();
}

Runtime::~Runtime() {
  shutdown();
}

void Runtime::submit(PoolKind kind, Job job, JobFailure on_failure,
                     std::chrono::milliseconds deadline) {
  auto handle = impl_->pool(kind);
  if (!handle) {
    on_failure(Error::unavailable());
    return;
  }
  if (deadline.count() <= 0) deadline = job_timeout();
  // A job that ran to its end is never failed afterwards (say its pool dies before hearing
  // that the worker is done); a failure passes at most once; and a job that vanishes unrun (sent
  // to a pool that just died, or lost with its mailbox) is failed when its last copy goes.
  struct Guard {
    std::atomic<bool> finished{false};
    JobFailure on_failure;
    void fail(Error e) {
      if (!finished.exchange(true)) on_failure(std::move(e));
    }
    explicit Guard(JobFailure f) : on_failure(std::move(f)) {}
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;
    ~Guard() {
      try {
        fail(dropped_error());
      } catch (...) {  // never from a destructor
      }
    }
  };
  auto guard = std::make_shared<Guard>(std::move(on_failure));
  Job run = [job = std::move(job), guard](Resources& r) {
    job(r);
    guard->finished.store(true);
  };
  JobFailure fail = [guard](Error e) { guard->fail(std::move(e)); };
  caf::anon_send(
      handle, JobMsg{std::move(run), std::move(fail), std::chrono::steady_clock::now() + deadline});
}

void Runtime::after(std::chrono::milliseconds delay, std::function<void()> fn) {
  // Under the lock: shutdown() marks the runtime stopped under it before the actor system goes,
  // so a timer is never scheduled on a system being destroyed.
  std::lock_guard lock(impl_->mutex);
  if (impl_->stopped) return;
  caf::delayed_anon_send(impl_->timer, delay, internal::Step{std::move(fn)});
}

std::chrono::milliseconds Runtime::ask_timeout() const {
  return impl_->config.ask_timeout;
}
std::chrono::milliseconds Runtime::job_timeout() const {
  return impl_->config.job_timeout;
}

InspectionRegistry& Runtime::registry() {
  return impl_->registry;
}
Health& Runtime::health() {
  return impl_->health;
}
persistence::GroupCommit& Runtime::commits() {
  return impl_->commits;
}
const config::Config& Runtime::config() const {
  return impl_->config;
}

namespace internal {
std::shared_ptr<Slot> supervise(Runtime& runtime, const std::string& name, Factory factory) {
  auto slot = std::make_shared<Slot>();
  auto started = std::make_shared<std::promise<void>>();
  auto future = started->get_future();
  {
    std::lock_guard lock(runtime.impl().mutex);
    runtime.impl().named[name] = slot;
  }
  caf::anon_send(runtime.impl().supervisor, add_child_atom::value,
                 AddChildMsg{name, std::move(factory), slot, started});
  future.wait();
  return slot;
}
}  // namespace internal

void Runtime::crash_for_test(PoolKind kind, bool whole_pool) {
  if (auto handle = impl_->pool(kind)) caf::anon_send(handle, crash_atom::value, whole_pool);
}

bool Runtime::restart_child(const std::string& name) {
  static const std::map<std::string, PoolKind> kPools{
      {"db_pool", PoolKind::db}, {"redis_pool", PoolKind::redis}, {"hash_pool", PoolKind::hash}};
  if (auto p = kPools.find(name); p != kPools.end()) {
    if (!impl_->pool(p->second)) return false;
    crash_for_test(p->second, true);
    return true;
  }
  std::shared_ptr<internal::Slot> slot;
  {
    std::lock_guard lock(impl_->mutex);
    auto it = impl_->named.find(name);
    if (it == impl_->named.end()) return false;
    slot = it->second;
  }
  auto actor = slot->get();
  if (!actor) return false;  // restarting already
  caf::anon_send_exit(actor, caf::exit_reason::kill);
  return true;
}

std::vector<std::string> Runtime::restartable() const {
  std::vector<std::string> names{"db_pool", "redis_pool", "hash_pool"};
  std::lock_guard lock(impl_->mutex);
  for (const auto& [name, slot] : impl_->named) names.push_back(name);
  return names;
}

void Runtime::shutdown() {
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->stopped) return;
    impl_->stopped = true;
    for (auto& p : impl_->pools) p = caf::actor{};
  }
  caf::anon_send_exit(impl_->supervisor, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(impl_->timer, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(impl_->prober, caf::exit_reason::user_shutdown);
  impl_->supervisor = caf::actor{};
  impl_->prober = caf::actor{};
  impl_->timer = caf::actor{};
  impl_->system.reset();  // waits for every actor to finish
  spdlog::info("actors: stopped");
}

}  // namespace marketlink::actors
