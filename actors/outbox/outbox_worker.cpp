// The outbox worker and the two job actors it feeds (CAF). All three are supervised children of
// the root supervisor; the registry shows them under outbox_worker.
#include "actors/outbox/outbox_service.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <deque>
#include <map>
#include <set>

#include "actors/outbox/invoice_pdf.hpp"
#include "actors/outbox/outbox_policy.hpp"
#include "actors/runtime/internal.hpp"
#include "actors/runtime/pool_jobs.hpp"
#include "persistence/ids.hpp"
#include "persistence/sql/invoices.hpp"
#include "persistence/sql/outbox.hpp"
#include "persistence/sql/payments.hpp"
#include "persistence/sql/workflow.hpp"

namespace marketlink::actors::detail {
struct JobResult {
  int64_t id = 0;
  bool ok = false;
  std::string error;
  bool transient = false;  // PostgreSQL or a pool was unavailable: nothing about the job itself
};
// A batch of claimed jobs of one kind, for the invoice or the workflow actor.
struct JobsMsg {
  std::vector<persistence::outbox::Job> jobs;
  std::function<void(std::vector<JobResult>)> done;
};
struct RetryJobMsg {
  int64_t id = 0;
  Callback<bool> done;
};
struct SubmitJobsMsg {
  std::vector<persistence::outbox::Job> jobs;
};
}  // namespace marketlink::actors::detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(marketlink::actors::detail::JobsMsg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(marketlink::actors::detail::RetryJobMsg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(marketlink::actors::detail::SubmitJobsMsg)

namespace marketlink::actors {

using detail::JobResult;
using detail::JobsMsg;
using detail::RetryJobMsg;
using detail::SubmitJobsMsg;
using internal::continue_on;
using internal::Step;
using persistence::Tx;
using OutboxJob = persistence::outbox::Job;

namespace {

using wake_atom = caf::atom_constant<caf::atom("wake")>;
using tick_atom = caf::atom_constant<caf::atom("tick")>;
using crash_atom = caf::atom_constant<caf::atom("crash")>;
using flush_atom = caf::atom_constant<caf::atom("flush")>;

std::vector<JobResult> all_results(const std::vector<OutboxJob>& jobs, const Result<Unit>& r) {
  std::vector<JobResult> out;
  out.reserve(jobs.size());
  for (const auto& j : jobs) {
    out.push_back({j.id, r.ok(), r.ok() ? "" : r.error().message,
                   !r.ok() && r.error().code == ErrorCode::unavailable});
  }
  return out;
}

// Every job of the batch failed together, and not for want of PostgreSQL: one bad job may have
// taken the others with it.
bool failed_as_one(const std::vector<JobResult>& results) {
  return results.size() > 1 && std::all_of(results.begin(), results.end(), [](const JobResult& r) {
           return !r.ok && !r.transient;
         });
}

std::vector<int64_t> job_ids(const std::vector<OutboxJob>& jobs) {
  std::vector<int64_t> ids;
  ids.reserve(jobs.size());
  for (const auto& j : jobs) ids.push_back(j.id);
  return ids;
}

std::vector<std::string> order_ids(const std::vector<OutboxJob>& jobs) {
  std::vector<std::string> ids;
  ids.reserve(jobs.size());
  for (const auto& j : jobs) ids.push_back(j.order_id);
  return ids;
}

// --- Job actors ------------------------------------------------------------------------------

enum JobGauge : std::size_t { kJobsDone, kJobsFailed, kBatches, kJobGaugeCount };
constexpr std::array kJobGaugesList{"done", "failed", "batches"};
static_assert(kJobGaugesList.size() == kJobGaugeCount, "one name per gauge, in order");
const std::vector<std::string> kJobGauges = gauge_names(kJobGaugesList);

struct JobActorState {
  Runtime* runtime = nullptr;
  std::shared_ptr<ActorStats> stats;
  bool crash_next = false;  // fault injection: die holding the next batch
};
using JobActor = caf::stateful_actor<JobActorState>;

void report(JobActor* self, const std::vector<JobResult>& results) {
  for (const auto& r : results) {
    self->state.stats->add(r.ok ? kJobsDone : kJobsFailed, 1);
    if (!r.ok) self->state.stats->failed(r.error);
  }
}

// Takes the batch (or dies holding it, when told to): true when the batch should run.
bool accept_batch(JobActor* self, JobsMsg& msg) {
  auto& st = self->state;
  st.stats->handled(self->mailbox().size());
  st.stats->add(kBatches, 1);
  if (st.crash_next) {
    st.crash_next = false;
    spdlog::warn("{}: crashing on purpose with {} jobs in hand", st.stats->name(), msg.jobs.size());
    self->quit(caf::make_error(caf::sec::runtime_error));
    return false;
  }
  return true;
}

using Rendered = persistence::invoices::NewInvoice;

// Invoices, in named steps on the invoice actor: read what is missing → render the PDFs on the
// CPU pool → store them and mark the jobs done in one transaction (an order that already has its
// invoice just gets its job done).
class InvoiceBatch : public std::enable_shared_from_this<InvoiceBatch> {
 public:
  InvoiceBatch(JobActor* self, JobsMsg msg) : self_(self), msg_(std::move(msg)) {}

  void start() {
    run_transaction<std::vector<InvoiceData>>(
        runtime(), "invoice data",
        [ids = order_ids(msg_.jobs)](Tx& tx) -> Result<std::vector<InvoiceData>> {
          return persistence::invoices::missing(tx, ids);
        },
        step<std::vector<InvoiceData>>(&InvoiceBatch::read));
  }

 private:
  using InvoiceData = persistence::invoices::InvoiceData;

  template <class T>
  Callback<T> step(void (InvoiceBatch::*next)(Result<T>)) {
    return continue_on<T>(self_, step_of(shared_from_this(), next));
  }

  // Rendering is CPU work: it runs on the hash pool, off the actor threads.
  void read(Result<std::vector<InvoiceData>> data) {
    if (!data) return fail(data.error());
    run_cpu<std::vector<Rendered>>(
        runtime(),
        [data = std::move(data).value()]() -> Result<std::vector<Rendered>> {
          std::vector<Rendered> out;
          for (const auto& d : data) {
            auto pdf = render_invoice_pdf(d);
            if (!pdf) return std::move(pdf).error();
            auto digest = sha256_hex(*pdf);
            out.push_back({d.order_id, {d.number, std::move(pdf).value(), digest}});
          }
          return out;
        },
        step<std::vector<Rendered>>(&InvoiceBatch::rendered));
  }

  void rendered(Result<std::vector<Rendered>> docs) {
    if (!docs) return fail(docs.error());
    run_grouped<std::vector<JobResult>>(
        runtime(), "invoice store",
        [docs = std::move(docs).value(),
         jobs = msg_.jobs](Tx& tx) -> Result<std::vector<JobResult>> {
          persistence::invoices::store(tx, docs);
          auto have = persistence::invoices::existing(tx, order_ids(jobs));
          std::vector<JobResult> results;
          std::vector<int64_t> finished;
          for (const auto& j : jobs) {
            const bool ok = have.count(j.order_id) > 0;
            results.push_back({j.id, ok, ok ? "" : "order " + j.order_id + " is not paid"});
            if (ok) finished.push_back(j.id);
          }
          persistence::outbox::mark_done(tx, finished);
          return results;
        },
        step<std::vector<JobResult>>(&InvoiceBatch::stored));
  }

  void stored(Result<std::vector<JobResult>> results) {
    if (!results) return fail(results.error());
    report(self_, *results);
    msg_.done(std::move(results).value());
  }

  void fail(const Error& e) {
    auto results = all_results(msg_.jobs, e);
    report(self_, results);
    msg_.done(std::move(results));
  }

  Runtime& runtime() { return *self_->state.runtime; }

  JobActor* self_;
  JobsMsg msg_;
};

void invoice_batch(JobActor* self, JobsMsg msg) {
  std::make_shared<InvoiceBatch>(self, std::move(msg))->start();
}

// Repair workflow start: paid → processing and the jobs done, in one transaction.
void workflow_batch(JobActor* self, JobsMsg msg) {
  auto jobs = std::make_shared<std::vector<OutboxJob>>(std::move(msg.jobs));
  auto done = std::make_shared<std::function<void(std::vector<JobResult>)>>(std::move(msg.done));
  run_grouped<Unit>(
      *self->state.runtime, "workflow start",
      [jobs](Tx& tx) -> Result<Unit> {
        persistence::workflow::start(tx, order_ids(*jobs));
        persistence::outbox::mark_done(tx, job_ids(*jobs));
        return Unit{};
      },
      continue_on<Unit>(self, [self, jobs, done](Result<Unit> r) {
        auto results = all_results(*jobs, r);
        report(self, results);
        (*done)(std::move(results));
      }));
}

// Runs a batch; if it failed as one (failed_as_one), runs each of its jobs alone, so that only
// the bad one fails and the others are done.
template <void (*Batch)(JobActor*, JobsMsg)>
void run_isolated(JobActor* self, JobsMsg msg) {
  if (msg.jobs.size() <= 1) return Batch(self, std::move(msg));
  auto jobs = msg.jobs;
  auto done = std::move(msg.done);
  msg.done = [self, jobs, done](std::vector<JobResult> results) {
    if (!failed_as_one(results)) return done(std::move(results));
    spdlog::warn("{}: a batch of {} failed as one ({}); each job alone now",
                 self->state.stats->name(), jobs.size(), results.front().error);
    auto collected = std::make_shared<std::vector<JobResult>>();
    auto left = std::make_shared<std::size_t>(jobs.size());
    for (const auto& j : jobs) {
      Batch(self, JobsMsg{{j}, [collected, left, done](std::vector<JobResult> one) {
                            collected->insert(collected->end(), one.begin(), one.end());
                            if (--*left == 0) done(std::move(*collected));
                          }});
    }
  };
  Batch(self, std::move(msg));
}

template <void (*Batch)(JobActor*, JobsMsg)>
caf::behavior job_actor(JobActor* self, Runtime* runtime, std::string name, std::string kind) {
  self->state.runtime = runtime;
  self->state.stats = runtime->registry().enter(name, kind, "outbox_worker", kJobGauges);
  self->state.stats->set_state("running");
  return {
      [self](JobsMsg& msg) {
        if (accept_batch(self, msg)) run_isolated<Batch>(self, std::move(msg));
      },
      [self](Step& step) {
        self->state.stats->handled(self->mailbox().size());
        step.run();
      },
      [self](crash_atom) { self->state.crash_next = true; },
  };
}

// --- The worker ------------------------------------------------------------------------------

enum WorkerGauge : std::size_t {
  kInFlight,
  kPending,
  kClaimed,
  kDone,
  kFailed,
  kRetried,
  kDead,
  kWorkerGaugeCount
};
constexpr std::array kWorkerGaugesList{"in_flight", "pending", "claimed", "done",
                                       "failed",    "retried", "dead"};
static_assert(kWorkerGaugesList.size() == kWorkerGaugeCount, "one name per gauge, in order");
const std::vector<std::string> kWorkerGauges = gauge_names(kWorkerGaugesList);

struct InFlight {
  std::chrono::steady_clock::time_point claimed_at;
  int attempts = 0;
};

// One job actor and the jobs waiting for it: one batch at a time, so jobs that arrive while a
// batch runs share the next one (one transaction for many jobs).
struct Lane {
  std::shared_ptr<internal::Slot> actor;
  std::deque<OutboxJob> waiting;
  bool busy = false;
  bool lingering = false;  // waiting OUTBOX_LINGER_MS for a fuller batch
  std::chrono::steady_clock::time_point busy_since;
};
enum LaneIndex : std::size_t { kInvoiceLane, kWorkflowLane };

struct WorkerState {
  Runtime* runtime = nullptr;
  const config::Config* config = nullptr;
  std::array<Lane, 2> lanes;
  std::shared_ptr<ActorStats> stats;
  bool claiming = false;
  bool again = false;
  std::map<int64_t, InFlight> in_flight;
};
using Worker = caf::stateful_actor<WorkerState>;

void drain(Worker* self);

void pump(Worker* self, std::size_t lane, bool flush);

void settle(Worker* self, std::size_t lane, std::vector<JobResult> results) {
  auto& st = self->state;
  st.lanes[lane].busy = false;
  pump(self, lane, false);
  const auto cap = in_flight_cap(st.config->outbox_batch_size);
  const bool was_full = st.in_flight.size() >= cap;
  for (auto& r : results) {
    auto it = st.in_flight.find(r.id);
    const int attempts = it == st.in_flight.end() ? 1 : it->second.attempts;
    if (it != st.in_flight.end()) st.in_flight.erase(it);
    if (r.ok) {
      st.stats->add(kDone, 1);
      continue;
    }
    st.stats->add(kFailed, 1);
    st.stats->failed("job " + std::to_string(r.id) + ": " + r.error);
    const int delay = retry_delay_seconds(attempts);
    const int max_attempts = st.config->outbox_max_attempts;
    run_transaction<bool>(
        *st.runtime, "outbox retry",
        [id = r.id, error = r.error, delay, max_attempts](Tx& tx) -> Result<bool> {
          return persistence::outbox::mark_failed(tx, id, error, delay, max_attempts);
        },
        continue_on<bool>(self, [self, id = r.id, delay](Result<bool> dead) {
          if (!dead) return;  // the lease brings the job back
          if (*dead) {
            self->state.stats->add(kDead, 1);
            spdlog::error("outbox: job {} gave up after its last attempt", id);
          } else {
            self->state.stats->add(kRetried, 1);
            spdlog::warn("outbox: job {} failed; retrying in {} s", id, delay);
          }
        }));
  }
  st.stats->gauge(kInFlight, static_cast<int64_t>(st.in_flight.size()));
  if (was_full) drain(self);
}

std::chrono::seconds held_for(const config::Config& c) {
  return held_at_most(c.outbox_lease, c.job_timeout);
}

// Sends the next batch of a lane to its actor, unless one is running. A batch whose message is
// lost (its actor died holding it) is answered as failed at once (first_answer), so its jobs are
// retried with their attempts counted; one that never answers at all frees the lane after
// held_for(), and its jobs come back from the table when their lease runs out.
void pump(Worker* self, std::size_t index, bool flush) {
  auto& st = self->state;
  auto& lane = st.lanes[index];
  const auto now = std::chrono::steady_clock::now();
  if (lane.busy && lease_expired(lane.busy_since, now, held_for(*st.config))) lane.busy = false;
  if (lane.busy || lane.waiting.empty()) return;
  const auto batch = static_cast<std::size_t>(st.config->outbox_batch_size);
  // A partial batch waits a moment for company: under load that turns many small transactions
  // into few large ones; when quiet it costs OUTBOX_LINGER_MS of delay.
  if (!flush && lane.waiting.size() < batch && st.config->outbox_linger.count() > 0) {
    if (!lane.lingering) {
      lane.lingering = true;
      self->delayed_send(self, st.config->outbox_linger, flush_atom::value, index);
    }
    return;
  }
  std::vector<OutboxJob> jobs;
  while (!lane.waiting.empty() && jobs.size() < batch) {
    jobs.push_back(std::move(lane.waiting.front()));
    lane.waiting.pop_front();
  }
  auto me = caf::actor_cast<caf::actor>(self);
  auto answer = first_answer<std::vector<JobResult>>(
      [self, me, index, ids = job_ids(jobs)](Result<std::vector<JobResult>> r) {
        std::vector<JobResult> results;
        if (r) {
          results = std::move(r).value();
        } else {
          for (auto id : ids) results.push_back({id, false, "job actor died holding it", false});
        }
        caf::anon_send(me, Step{[self, index, results = std::move(results)]() mutable {
                         settle(self, index, std::move(results));
                       }});
      });
  auto reply = [answer](std::vector<JobResult> results) { answer(std::move(results)); };
  lane.busy = true;
  lane.busy_since = now;
  auto handle = lane.actor->get();
  if (!handle) {
    std::vector<JobResult> results;
    results.reserve(jobs.size());
    for (const auto& j : jobs) results.push_back({j.id, false, "job actor is restarting"});
    return reply(std::move(results));
  }
  caf::anon_send(handle, JobsMsg{std::move(jobs), std::move(reply)});
}

// Queues claimed jobs on their lanes.
void run_jobs(Worker* self, std::vector<OutboxJob> jobs) {
  auto& st = self->state;
  const auto now = std::chrono::steady_clock::now();
  for (auto& j : jobs) {
    st.in_flight[j.id] = {now, j.attempts};
    st.lanes[j.kind == "invoice" ? kInvoiceLane : kWorkflowLane].waiting.push_back(std::move(j));
  }
  st.stats->gauge(kInFlight, static_cast<int64_t>(st.in_flight.size()));
  pump(self, kInvoiceLane, false);
  pump(self, kWorkflowLane, false);
}

void drain(Worker* self) {
  auto& st = self->state;
  if (st.claiming) {
    st.again = true;
    return;
  }
  // Jobs whose actor never answered are forgotten here (their lease is no longer renewed, so
  // the table brings them back).
  const auto now = std::chrono::steady_clock::now();
  const auto held = held_for(*st.config);
  for (auto it = st.in_flight.begin(); it != st.in_flight.end();) {
    it = lease_expired(it->second.claimed_at, now, held) ? st.in_flight.erase(it) : std::next(it);
  }
  const auto cap = in_flight_cap(st.config->outbox_batch_size);
  if (st.in_flight.size() >= cap) return;  // settle() drains again when there is room
  const int limit =
      std::min<int>(st.config->outbox_batch_size, static_cast<int>(cap - st.in_flight.size()));
  const int lease = static_cast<int>(st.config->outbox_lease.count());
  const int max_attempts = st.config->outbox_max_attempts;
  st.claiming = true;
  st.again = false;
  st.stats->set_state("claiming");
  using persistence::outbox::Claimed;
  run_transaction<Claimed>(
      *st.runtime, "outbox claim",
      [limit, lease, max_attempts](Tx& tx) -> Result<Claimed> {
        return persistence::outbox::claim_due(tx, limit, lease, max_attempts);
      },
      continue_on<Claimed>(self, [self, limit](Result<Claimed> claimed) {
        auto& st = self->state;
        st.claiming = false;
        st.stats->set_state("idle");
        if (!claimed) {
          st.stats->failed("claim: " + claimed.error().message);
          return;  // the next tick tries again
        }
        for (const auto& j : claimed->gave_up) {
          st.stats->add(kDead, 1);
          spdlog::error("outbox: job {} ({} of order {}) never finished in {} attempts; dead", j.id,
                        j.kind, j.order_id, j.attempts - 1);
        }
        const auto n = static_cast<int>(claimed->jobs.size() + claimed->gave_up.size());
        st.stats->add(kClaimed, static_cast<int64_t>(claimed->jobs.size()));
        run_jobs(self, std::move(claimed->jobs));
        if (st.again || n == limit) drain(self);
      }));
}

// The heartbeat: the jobs this process still runs keep their (short) lease; a process that dies
// stops renewing, so any other takes its jobs over within OUTBOX_LEASE_SECONDS.
void renew_leases(Worker* self) {
  auto& st = self->state;
  if (st.in_flight.empty()) return;
  std::vector<int64_t> ids;
  ids.reserve(st.in_flight.size());
  for (const auto& [id, job] : st.in_flight) ids.push_back(id);
  const int lease = static_cast<int>(st.config->outbox_lease.count());
  run_transaction<Unit>(
      *st.runtime, "outbox lease",
      [ids = std::move(ids), lease](Tx& tx) -> Result<Unit> {
        persistence::outbox::renew(tx, ids, lease);
        return Unit{};
      },
      [stats = st.stats](const Result<Unit>& r) {
        if (!r) stats->failed("lease renewal: " + r.error().message);
      });
}

caf::behavior outbox_worker(Worker* self, Runtime* runtime, const config::Config* config,
                            std::shared_ptr<internal::Slot> invoice,
                            std::shared_ptr<internal::Slot> workflow) {
  auto& st = self->state;
  st.runtime = runtime;
  st.config = config;
  st.lanes[kInvoiceLane].actor = std::move(invoice);
  st.lanes[kWorkflowLane].actor = std::move(workflow);
  st.stats = runtime->registry().enter("outbox_worker", "outbox", "root_supervisor", kWorkerGauges);
  st.stats->set_state("idle");
  // At start-up: whatever a crash or a restart left behind.
  self->send(self, wake_atom::value);
  self->send(self, tick_atom::value);
  return {
      [self](wake_atom) {
        self->state.stats->handled(self->mailbox().size());
        drain(self);
      },
      [self](tick_atom) {
        auto& st = self->state;
        pump(self, kInvoiceLane, false);
        pump(self, kWorkflowLane, false);
        drain(self);
        renew_leases(self);
        run_transaction<long long>(
            *st.runtime, "outbox depth",
            [](Tx& tx) -> Result<long long> { return persistence::outbox::pending_count(tx); },
            [stats = st.stats](Result<long long> n) {
              if (n) stats->gauge(kPending, *n);
            });
        self->delayed_send(self, st.config->outbox_poll_interval, tick_atom::value);
      },
      [self](flush_atom, std::size_t lane) {
        self->state.lanes[lane].lingering = false;
        pump(self, lane, true);
      },
      [self](SubmitJobsMsg& msg) {
        self->state.stats->handled(self->mailbox().size());
        run_jobs(self, std::move(msg.jobs));
      },
      [self](RetryJobMsg& msg) {
        self->state.stats->handled(self->mailbox().size());
        run_transaction<bool>(
            *self->state.runtime, "outbox operator retry",
            [id = msg.id](Tx& tx) -> Result<bool> {
              return persistence::outbox::retry_dead(tx, id);
            },
            continue_on<bool>(self, [self, done = std::move(msg.done)](Result<bool> r) {
              if (r && *r) drain(self);
              done(std::move(r));
            }));
      },
      [self](Step& step) {
        self->state.stats->handled(self->mailbox().size());
        step.run();
      },
  };
}

}  // namespace

struct OutboxService::Impl {
  Runtime& runtime;
  std::shared_ptr<internal::Slot> invoice, workflow, worker;
};

OutboxService::OutboxService(Runtime& runtime, const config::Config& config)
    : impl_(std::make_shared<Impl>(Impl{runtime, nullptr, nullptr, nullptr})) {
  Runtime* rt = &runtime;
  const config::Config* cfg = &config;
  impl_->invoice = internal::supervise(runtime, "invoice_actor", [rt](caf::event_based_actor* p) {
    return p->spawn(job_actor<invoice_batch>, rt, std::string("invoice_actor"),
                    std::string("invoice"));
  });
  impl_->workflow = internal::supervise(runtime, "workflow_actor", [rt](caf::event_based_actor* p) {
    return p->spawn(job_actor<workflow_batch>, rt, std::string("workflow_actor"),
                    std::string("workflow"));
  });
  impl_->worker = internal::supervise(
      runtime, "outbox_worker",
      [rt, cfg, invoice = impl_->invoice, workflow = impl_->workflow](caf::event_based_actor* p) {
        return p->spawn(outbox_worker, rt, cfg, invoice, workflow);
      });
}

OutboxService::~OutboxService() = default;

void OutboxService::wake() {
  if (auto w = impl_->worker->get()) caf::anon_send(w, wake_atom::value);
}

void OutboxService::submit(std::vector<persistence::outbox::Job> jobs) {
  if (auto w = impl_->worker->get()) caf::anon_send(w, SubmitJobsMsg{std::move(jobs)});
  // No worker right now (restarting): the jobs run when their lease ends.
}

void OutboxService::retry(int64_t job_id, Callback<bool> done) {
  internal::ask<bool>(impl_->runtime, *impl_->worker, "outbox_worker", std::move(done),
                      [&](Callback<bool> answer) {
                        return RetryJobMsg{job_id, std::move(answer)};
                      });
}

void OutboxService::crash_for_test(const std::string& actor) {
  auto slot = actor == "invoice_actor" ? impl_->invoice : impl_->workflow;
  if (auto a = slot->get()) caf::anon_send(a, crash_atom::value);
}

}  // namespace marketlink::actors
