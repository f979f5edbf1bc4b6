// Stock actors (CAF). stock_supervisor (supervised by the root) spawns one stock actor per
// variant on first use, forwards it the variant's work, stops it after STOCK_IDLE_SECONDS idle
// (a two-step handshake so no message is lost), and forgets it when it dies; the next message
// restarts it, and a restarted actor reloads its state from PostgreSQL.
//
// A stock actor never blocks: its I/O runs as one job at a time on the PostgreSQL pool, whose
// result comes back as a StockDone message. While a job is in flight, new work queues; the next
// job takes all queued reservations (up to STOCK_BATCH_SIZE) together: group commit.
//
// Redis holds two keys per variant: the stock gate (variant:<id>:stock) and the units taken from
// it whose PostgreSQL outcome is not settled yet (variant:<id>:inflight). Every change is a delta
// applied by Lua, so several server processes can share the counters. A counter is (re)seeded
// from PostgreSQL, minus the units in flight, when it is missing (first use, Redis restarted),
// when Redis comes back after an outage, and on an operator's resync.
#include "actors/stock/stock_service.hpp"

#include <spdlog/spdlog.h>

#include <malloc.h>

#include <algorithm>
#include <array>
#include <deque>
#include <unordered_map>
#include <utility>
#include <variant>

#include "actors/runtime/counters.hpp"
#include "actors/runtime/internal.hpp"
#include "actors/runtime/pool_jobs.hpp"
#include "actors/stock/stock_gate.hpp"
#include "persistence/ids.hpp"
#include "persistence/redis_keys.hpp"

namespace marketlink::actors::detail {

struct ReserveWork {
  std::string customer_id;
  Callback<persistence::OrderRow> done;
  Deadline deadline = no_deadline;  // the request's: skipped, not committed, once it passed
};
struct ReleaseWork {
  std::vector<std::string> ids;
  persistence::OrderStatus status = persistence::OrderStatus::cancelled;
  std::string by;
  Callback<std::vector<std::string>> done;
};
struct ExclusiveWork {
  std::function<Result<StockChange>(persistence::Tx&)> change;
  Callback<StockChange> done;
};
struct ResyncWork {
  Callback<int> done;
};
using StockWork = std::variant<ReserveWork, ReleaseWork, ExclusiveWork, ResyncWork>;

struct StockMsg {
  int64_t variant_id = 0;
  StockWork work;
};

// The outcome of one job, for the actor's memory and figures.
struct StockDone {
  bool load = false;               // the start-up load job
  bool db_failed = false;          // PostgreSQL unreachable
  bool not_sellable = false;       // unknown, deleted or hidden variant
  bool sold_out = false;           // Redis said none left
  std::optional<int> db_stock;     // PostgreSQL value after the job
  std::optional<long long> redis;  // Redis value after the job
  bool redis_ok = false;           // every Redis call of the job succeeded
  bool redis_failed = false;
  int batch = 0, accepted = 0, rejected = 0, released = 0;
  int skipped = 0;  // reservations whose request's deadline passed before the batch ran
  std::vector<std::string> unsettled;  // batches whose gate answer or settle was lost
  std::vector<std::string> abandoned;  // lost batches a successful reseed forgot
};

}  // namespace marketlink::actors::detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(marketlink::actors::detail::StockMsg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(marketlink::actors::detail::StockWork)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(marketlink::actors::detail::StockDone)

namespace marketlink::actors {

using detail::ExclusiveWork;
using detail::ReleaseWork;
using detail::ReserveWork;
using detail::ResyncWork;
using detail::StockDone;
using detail::StockMsg;
using detail::StockWork;
using persistence::RedisReply;
using persistence::Tx;
// How a job hands its outcome back to its stock actor: once (a job answered at its deadline is
// not reported again when it finishes).
using Report = std::function<void(const StockDone&)>;

Error sold_out_error() {
  return Error::make(ErrorCode::invalid_input, "This service variant is fully booked.");
}

Error unknown_variant_error(int64_t variant_id) {
  return Error::field("variant",
                      "Invalid pk \"" + std::to_string(variant_id) + "\" - object does not exist.");
}

namespace {

using idle_atom = caf::atom_constant<caf::atom("idle")>;
using stop_atom = caf::atom_constant<caf::atom("stop")>;
using heal_atom = caf::atom_constant<caf::atom("heal")>;
using tick_atom = caf::atom_constant<caf::atom("tick")>;
// While its counter is degraded, a stock actor looks this often whether Redis is back (the health
// prober says so) and then queues one resync, so the counter equals PostgreSQL again even if no
// reservation comes. While Redis is down it adds no load at all.
constexpr std::chrono::milliseconds kHealInterval{500};

// A stock actor's own clock: whether it is idle (STOCK_IDLE_SECONDS) and due a reconcile
// (STOCK_RECONCILE_SECONDS), looked at this often.
std::chrono::milliseconds tick_every(const config::Config& c) {
  const auto every =
      std::min<std::chrono::milliseconds>(c.stock_idle_timeout, c.stock_reconcile_interval) / 2;
  return std::max(every, std::chrono::milliseconds{100});
}

// ---- Redis scripts -------------------------------------------------------------------------

// The in-flight hash holds one field per batch between its gate and its settle: "units|expiry in
// ms|order ids". A key of the old format (one counter for every batch) is dropped on sight.
#define ML_INFLIGHT_FORMAT                                                             \
  "if redis.call('TYPE', KEYS[2]).ok == 'string' then redis.call('DEL', KEYS[2]) end " \
  "local t = redis.call('TIME') local now = t[1] * 1000 + math.floor(t[2] / 1000) "

// Takes min(stock, n) and records them in flight under the batch's name: returns {taken, left};
// {-1, 0} when the key is missing (seed first). ARGV: n, batch, ttl in ms, order ids.
const char* const kGate = ML_INFLIGHT_FORMAT
    "local s = redis.call('GET', KEYS[1]) "
    "if not s then return {-1, 0} end "
    "s = tonumber(s) "
    "local g = math.min(s, tonumber(ARGV[1])) "
    "if g > 0 then "
    "  redis.call('DECRBY', KEYS[1], g) "
    "  redis.call('HSET', KEYS[2], ARGV[2], g .. '|' .. string.format('%d', now + "
    "tonumber(ARGV[3])) "
    "    .. '|' .. ARGV[4]) "
    "end "
    "return {g, s - g}";
// After the database decided: the batch leaves the in-flight hash and gives back the units the
// database refused — only if it is still there (a reseed that already forgot it counted from
// the database). Returns the counter (-1 if missing). ARGV: give back, batch.
const char* const kSettle =
    "if redis.call('HDEL', KEYS[2], ARGV[2]) == 1 then "
    "  return redis.call('INCRBY', KEYS[1], tonumber(ARGV[1])) "
    "end "
    "local s = redis.call('GET', KEYS[1]) "
    "if s then return tonumber(s) end "
    "return -1";
// The batches in flight: forgets the ones named in ARGV (this process lost their settle) and the
// expired ones (their process died); returns name, units, ids for each of the rest.
const char* const kInFlight = ML_INFLIGHT_FORMAT
    "for i = 1, #ARGV do redis.call('HDEL', KEYS[2], ARGV[i]) end "
    "local all = redis.call('HGETALL', KEYS[2]) "
    "local out = {} "
    "for i = 1, #all, 2 do "
    "  local g, e, ids = string.match(all[i + 1], '^(%d+)|(%d+)|(.*)$') "
    "  if not g or tonumber(e) <= now then redis.call('HDEL', KEYS[2], all[i]) "
    "  else out[#out + 1] = all[i] out[#out + 1] = g out[#out + 1] = ids end "
    "end "
    "return out";
// Writes the reconciled counter, unless the batches in flight changed since they were read
// (ARGV[2]: their names, sorted, comma-separated): then -1 and the caller reads again.
const char* const kSeed =
    "local names = redis.call('HKEYS', KEYS[2]) "
    "table.sort(names) "
    "if table.concat(names, ',') ~= ARGV[2] then return -1 end "
    "redis.call('SET', KEYS[1], ARGV[1]) "
    "return tonumber(ARGV[1])";
// Applies a delta (a release or a vendor's edit) when the counter exists.
const char* const kAdd =
    "if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end "
    "return redis.call('INCRBY', KEYS[1], ARGV[1])";

// A Redis call that cannot reach Redis marks it down for the whole process (health.hpp).
Result<RedisReply> eval(Resources& res, const char* script, int64_t id,
                        std::vector<std::string> args) {
  std::vector<std::string> argv{"EVAL", script, "2", persistence::redis_keys::stock(id),
                                persistence::redis_keys::inflight(id)};
  for (auto& a : args) argv.push_back(std::move(a));
  auto r = res.redis().command(argv);
  if (!r) res.health().failed(Dependency::redis, r.error().message);
  if (r && r->type == RedisReply::Type::error) return Error::unavailable();
  return r;
}

Result<long long> eval_int(Resources& redis, const char* script, int64_t id,
                           std::vector<std::string> args) {
  auto r = eval(redis, script, id, std::move(args));
  if (!r) return std::move(r).error();
  return r->integer;
}

Result<std::optional<int>> db_stock(Resources& r, int64_t id) {
  return persistence::transact(r.db(), "stock read", [&](Tx& tx) -> Result<std::optional<int>> {
    return persistence::stock::current(tx, id);
  });
}

// ---- jobs (run on the PostgreSQL pool) -------------------------------------------------------

// The Redis counter made equal to PostgreSQL, right even while batches of any process are in
// flight: reads the batches in flight (forgetting `abandon`, the batches this actor lost, and the
// expired ones of dead processes), takes one database snapshot of the stock and of the orders
// those batches committed, and writes exact_counter() — unless the batches changed meanwhile,
// then again (three tries; the next reconcile goes on). PostgreSQL's stock goes to d.db_stock.
Result<long long> reseed(Resources& r, int64_t id, const std::vector<std::string>& abandon,
                         StockDone& d) {
  if (!r.health().up(Dependency::redis)) return Error::unavailable();
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto listed = eval(r, kInFlight, id, attempt == 0 ? abandon : std::vector<std::string>{});
    if (!listed) {
      d.redis_failed = true;
      return std::move(listed).error();
    }
    const auto batches = read_in_flight(*listed);
    std::vector<std::vector<std::string>> ids;
    std::vector<std::string> names;
    for (const auto& b : batches) {
      ids.push_back(b.order_ids);
      names.push_back(b.name);
    }
    // One statement (a consistent snapshot by itself): no BEGIN/COMMIT around it.
    using Snap = Result<persistence::stock::Snapshot>;
    auto snap = persistence::transact<std::function<Snap(Tx&)>, pqxx::nontransaction>(
        r.db(), "stock snapshot",
        [&](Tx& tx) -> Snap { return persistence::stock::snapshot(tx, id, ids); });
    if (!snap) {
      d.db_failed = snap.error().code == ErrorCode::unavailable;
      return std::move(snap).error();
    }
    if (!snap->stock) return Error::not_found();
    d.db_stock = *snap->stock;
    std::sort(names.begin(), names.end());
    std::string joined;
    for (const auto& n : names) joined += (joined.empty() ? "" : ",") + n;
    const auto value = exact_counter(*snap->stock, batches, snap->committed);
    auto written = eval_int(r, kSeed, id, {std::to_string(value), joined});
    if (!written) {
      d.redis_failed = true;
      return std::move(written).error();
    }
    if (*written >= 0) {
      d.abandoned = abandon;
      return *written;
    }
  }
  return Error::unavailable();  // busy every time: the next reconcile tries again
}

void load_job(Resources& r, int64_t id, const Report& report) {
  StockDone d;
  d.load = true;
  // Reconciled at every start: a counter left behind by a process that died mid-batch is
  // corrected here, and again once that batch's units expire from the in-flight hash. The
  // reseed's snapshot reads PostgreSQL's stock as well, so a start costs one read.
  if (r.health().up(Dependency::redis)) {
    auto seeded = reseed(r, id, {}, d);
    if (seeded) {
      d.redis = *seeded;
      d.redis_ok = true;
      return report(d);
    }
    if (seeded.error().code == ErrorCode::not_found) {
      d.not_sellable = true;
      return report(d);
    }
    if (d.db_stock) {  // PostgreSQL answered, Redis did not
      d.db_failed = false;
      d.redis_failed = true;
      return report(d);
    }
  }
  auto current = db_stock(r, id);
  if (!current) {
    d.db_failed = true;
  } else if (!*current) {
    d.not_sellable = true;
  } else {
    d.db_failed = false;
    d.db_stock = **current;
    d.redis_failed = true;
  }
  report(d);
}

// A batch in flight in Redis: its name (its first order's id), its order ids, how long its
// units stay in flight if it never settles.
struct BatchTag {
  std::string name;
  std::string ids;  // comma-separated
  long long ttl_ms = 0;
  std::vector<std::string> abandon;  // this actor's lost batches, forgotten by a reseed
};

// Step 1 of a batch: how many of `n` units the Redis gate lets through (reseeding first when
// degraded, or when the counter is missing). nullopt: Redis is unusable, PostgreSQL alone
// decides. A gate whose answer is lost may still have run: the batch is then unsettled, and the
// next reseed forgets it.
std::optional<long long> gate_units(Resources& r, int64_t id, int n, bool reseed_first,
                                    const BatchTag& tag, StockDone& d) {
  // Known down: no timeout paid per batch, and no PostgreSQL read for a reseed that would fail.
  if (!r.health().up(Dependency::redis)) return std::nullopt;
  if (reseed_first && !reseed(r, id, tag.abandon, d)) return std::nullopt;
  const std::vector<std::string> args{std::to_string(n), tag.name, std::to_string(tag.ttl_ms),
                                      tag.ids};
  auto reply = eval(r, kGate, id, args);
  auto gate = read_gate(reply);
  if (gate.kind == GateAnswer::Kind::missing && reseed(r, id, tag.abandon, d)) {
    reply = eval(r, kGate, id, args);
    gate = read_gate(reply);
  }
  if (!reply) d.unsettled.push_back(tag.name);
  if (gate.kind != GateAnswer::Kind::taken) return std::nullopt;
  d.redis = gate.left;
  return gate.taken;
}

// Step 2: one member of the shared reservation transaction (see persistence/group_commit.hpp)
// takes up to `units` and inserts an order for each granted caller.
Result<std::vector<persistence::OrderRow>> commit_batch(Resources& r,
                                                        persistence::GroupCommit& group, int64_t id,
                                                        const std::vector<ReserveWork>& batch,
                                                        const std::vector<std::string>& order_ids,
                                                        long long units, long long ttl,
                                                        StockDone& d) {
  return group.run<std::vector<persistence::OrderRow>>(
      r.db(), "reserve", [&](Tx& tx) -> Result<std::vector<persistence::OrderRow>> {
        auto taken = persistence::stock::take(tx, id, static_cast<int>(units));
        if (!taken.sellable) return Error::not_found();
        d.db_stock = taken.after;
        std::vector<std::string> ids, customers;
        for (int i = 0; i < taken.granted(); ++i) {
          ids.push_back(order_ids[static_cast<std::size_t>(i)]);
          customers.push_back(batch[static_cast<std::size_t>(i)].customer_id);
        }
        return persistence::orders::insert_batch(tx, id, taken.vendor_id, taken.price, ids,
                                                 customers, ttl);
      });
}

// Answers and removes the reservations whose request's deadline has passed: nobody waits for
// them, so they take no unit (and open no gateway session). Returns how many.
int skip_expired(std::vector<ReserveWork>& batch) {
  const auto before = batch.size();
  std::erase_if(batch, [](ReserveWork& w) {
    if (!passed(w.deadline)) return false;
    w.done(deadline_error("stock reservation"));
    return true;
  });
  return static_cast<int>(before - batch.size());
}

// A batch of reservations: skip the expired → gate → commit → settle → answer (see
// batch_outcome).
void batch_job(Resources& r, persistence::GroupCommit& group, int64_t id,
               std::vector<ReserveWork>& batch, bool reseed_first, long long ttl, BatchTag tag,
               const Report& report) {
  StockDone d;
  d.skipped = skip_expired(batch);
  if (batch.empty()) return report(d);
  const int n = static_cast<int>(batch.size());
  d.batch = n;
  // The order ids come first: the batch is named after the first, and a reseed counts which of
  // them PostgreSQL committed.
  std::vector<std::string> order_ids;
  for (int i = 0; i < n; ++i) {
    order_ids.push_back(random_uuid());
    tag.ids += (i == 0 ? "" : ",") + order_ids.back();
  }
  tag.name = order_ids.front();
  const auto gated = gate_units(r, id, n, reseed_first, tag, d);
  d.redis_ok = gated.has_value();
  d.redis_failed = !gated;
  if (gated && *gated == 0) {
    d.sold_out = true;
    d.rejected = n;
    for (auto& w : batch) w.done(sold_out_error());
    return report(d);
  }
  const long long asked = gated.value_or(n);
  fault_drill_for_test(r.config(), "kill_after_stock_gate");
  auto orders = commit_batch(r, group, id, batch, order_ids, asked, ttl, d);
  const auto outcome =
      batch_outcome(batch.size(), asked, orders ? static_cast<long long>(orders->size()) : 0);
  if (gated) {
    auto settled = fault_point_for_test(r.config(), "drop_stock_settle")
                       ? Result<long long>(Error::unavailable())
                       : eval_int(r, kSettle, id, {std::to_string(outcome.give_back), tag.name});
    if (settled) {
      if (*settled >= 0) d.redis = *settled;
    } else {
      d.redis_failed = true;
      d.redis_ok = false;
      d.unsettled.push_back(tag.name);
    }
  }
  if (!orders) {
    d.db_stock.reset();
    d.not_sellable = orders.error().code == ErrorCode::not_found;
    d.db_failed = !d.not_sellable;
    const Error e = d.not_sellable ? unknown_variant_error(id) : orders.error();
    for (auto& w : batch) w.done(e);
    d.rejected = n;
    return report(d);
  }
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (i < outcome.with_order) {
      batch[i].done(std::move((*orders)[i]));
    } else {
      batch[i].done(sold_out_error());
    }
  }
  d.accepted = static_cast<int>(outcome.with_order);
  d.rejected = static_cast<int>(outcome.sold_out);
  report(d);
}

void release_job(Resources& r, int64_t id, std::vector<ReleaseWork>& works, bool degraded,
                 const Report& report) {
  StockDone d;
  std::vector<std::string> all;
  for (const auto& w : works) all.insert(all.end(), w.ids.begin(), w.ids.end());
  const auto& status = works.front().status;
  const auto& by = works.front().by;
  auto released =
      persistence::transact(r.db(), "release", [&](Tx& tx) -> Result<std::vector<std::string>> {
        auto ids = persistence::orders::release(tx, id, all, status, by);
        if (!ids.empty())
          d.db_stock = persistence::stock::give_back(tx, id, static_cast<int>(ids.size()));
        return ids;
      });
  if (!released) {
    d.db_failed = true;
    d.db_stock.reset();
    for (auto& w : works) w.done(released.error());
    report(d);
    return;
  }
  d.released = static_cast<int>(released->size());
  if (!degraded && d.released > 0) {
    auto v = eval_int(r, kAdd, id, {std::to_string(d.released)});
    if (v) {
      if (*v >= 0) d.redis = *v;
      d.redis_ok = true;
    } else {
      d.redis_failed = true;
    }
  }
  for (auto& w : works) {
    std::vector<std::string> mine;
    for (const auto& oid : w.ids) {
      if (std::find(released->begin(), released->end(), oid) != released->end())
        mine.push_back(oid);
    }
    w.done(std::move(mine));
  }
  report(d);
}

void exclusive_job(Resources& r, int64_t id, ExclusiveWork& w, bool degraded,
                   const Report& report) {
  StockDone d;
  auto change = persistence::transact(r.db(), "stock change", w.change);
  if (change) {
    d.db_stock = change->stock;
    if (!degraded && change->delta != 0) {
      auto v = eval_int(r, kAdd, id, {std::to_string(change->delta)});
      if (v) {
        if (*v >= 0) d.redis = *v;
        d.redis_ok = true;
      } else {
        d.redis_failed = true;
      }
    }
  } else if (change.error().code == ErrorCode::unavailable) {
    d.db_failed = true;
  }
  w.done(std::move(change));
  report(d);
}

void resync_job(Resources& r, int64_t id, ResyncWork& w, const std::vector<std::string>& abandon,
                const Report& report) {
  StockDone d;
  auto seeded = reseed(r, id, abandon, d);
  if (seeded) {
    d.redis = *seeded;
    d.redis_ok = true;
    w.done(static_cast<int>(*seeded));
  } else {
    if (seeded.error().code == ErrorCode::unavailable && !d.db_failed) d.redis_failed = true;
    w.done(seeded.error());
  }
  report(d);
}

void fail_work(StockWork& w, const Error& e) {
  std::visit([&](auto& work) { work.done(e); }, w);
}

// ---- the stock actor -----------------------------------------------------------------------

enum Gauge : std::size_t {
  kAvailable,
  kRedis,
  kDatabase,
  kQueue,
  kBatches,
  kBatchedUnits,
  kAccepted,
  kRejected,
  kReleased,
  kDegraded,
  kSkipped,
  kGaugeCount
};
constexpr std::array kGaugeNamesList{"available",
                                     "redis",
                                     "database",
                                     "queue",
                                     "batches",
                                     "batched_reservations",
                                     "accepted",
                                     "rejected",
                                     "released",
                                     "redis_degraded",
                                     "skipped_past_deadline"};
static_assert(kGaugeNamesList.size() == kGaugeCount, "one name per gauge, in order");
const std::vector<std::string> kGaugeNames = gauge_names(kGaugeNamesList);

struct StockState {
  int64_t variant_id = 0;
  caf::actor supervisor;
  Runtime* runtime = nullptr;
  const config::Config* config = nullptr;
  std::shared_ptr<ActorStats> stats;
  std::shared_ptr<std::deque<StockWork>> queue = std::make_shared<std::deque<StockWork>>();
  std::shared_ptr<std::atomic<int>> degraded_actors;
  bool busy = false;
  bool loaded = false;
  bool degraded = false;
  bool heal_ticking = false;  // one heal chain at most, however often Redis flaps
  std::optional<int> available;
  std::chrono::steady_clock::time_point sold_out_at{};
  uint64_t received = 0;
  // Batches whose gate answer or settle was lost: the next reseed forgets them in Redis.
  std::vector<std::string> unsettled;
  std::chrono::steady_clock::time_point last_work = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_reconcile = std::chrono::steady_clock::now();
};

using StockActor = caf::stateful_actor<StockState>;

void maybe_start(StockActor* self);

// Runs `job` on the PostgreSQL pool; exactly one StockDone comes back. When the pool refuses the
// job, or it misses its deadline, `fail_taken` answers every caller whose work the job holds.
void submit(StockActor* self, std::function<void(Resources&, const Report&)> job,
            std::function<void(const Error&)> fail_taken) {
  auto& st = self->state;
  st.busy = true;
  auto me = caf::actor_cast<caf::actor>(self);
  auto reported = std::make_shared<std::atomic<bool>>(false);
  Report report = [me, reported](const StockDone& d) {
    if (!reported->exchange(true)) caf::anon_send(me, d);
  };
  st.runtime->submit(
      PoolKind::db, [job = std::move(job), report](Resources& r) { job(r, report); },
      [report, fail_taken = std::move(fail_taken)](const Error& e) {
        fail_taken(e);
        StockDone d;
        d.db_failed = true;
        report(d);
      });
}

// Answers every work of `works` with `e` (their callbacks pass only their first answer).
template <class W>
std::function<void(const Error&)> fail_all(std::shared_ptr<std::vector<W>> works) {
  return [works](const Error& e) {
    for (auto& w : *works) w.done(e);
  };
}

// Sold out, as far as this actor knows: trusted for STOCK_SOLDOUT_RECHECK_MS, and for as long as
// a job of this actor is in flight (the recheck itself, a reconcile): requests arriving then are
// answered from memory instead of queueing behind a job that waits for a pool worker — the
// flash-sale stall (a unit given back meanwhile shows once that job answered). 0: never trusted.
bool known_sold_out(const StockState& st) {
  const auto trust = st.config->stock_soldout_recheck;
  return st.loaded && st.available && *st.available == 0 && trust.count() > 0 &&
         (st.busy || std::chrono::steady_clock::now() - st.sold_out_at < trust);
}

void apply(StockActor* self, StockDone& d) {
  auto& st = self->state;
  auto& stats = *st.stats;
  if (d.load) {
    if (d.not_sellable || d.db_failed) {
      for (auto& w : *st.queue) {
        if (d.db_failed) {
          fail_work(w, Error::unavailable());
        } else if (std::holds_alternative<ReserveWork>(w)) {
          fail_work(w, unknown_variant_error(st.variant_id));
        } else {
          fail_work(w, Error::not_found());
        }
      }
      st.queue->clear();
    } else {
      st.loaded = true;
    }
  }
  if (d.db_stock) {
    st.available = *d.db_stock;
    stats.gauge(kDatabase, *d.db_stock);
  }
  if (d.sold_out) st.available = 0;
  if (st.available && *st.available == 0) st.sold_out_at = std::chrono::steady_clock::now();
  if (d.redis) stats.gauge(kRedis, *d.redis);
  st.unsettled.insert(st.unsettled.end(), d.unsettled.begin(), d.unsettled.end());
  std::erase_if(st.unsettled, [&d](const std::string& b) {
    return std::find(d.abandoned.begin(), d.abandoned.end(), b) != d.abandoned.end();
  });
  const bool was_degraded = st.degraded;
  if (d.redis_failed) st.degraded = true;
  if (d.redis_ok && !d.redis_failed) st.degraded = false;
  if (was_degraded != st.degraded) {
    st.degraded_actors->fetch_add(st.degraded ? 1 : -1);
    if (st.degraded) {
      spdlog::warn("stock {}: Redis unreachable; PostgreSQL alone gates reservations",
                   st.variant_id);
      if (!st.heal_ticking) {
        st.heal_ticking = true;
        self->delayed_send(self, kHealInterval, heal_atom::value);
      }
    } else {
      spdlog::info("stock {}: Redis reachable again; counter reseeded from PostgreSQL",
                   st.variant_id);
    }
  }
  if (d.batch > 0 && !d.sold_out) {
    stats.add(kBatches, 1);
    stats.add(kBatchedUnits, d.batch);
  }
  stats.add(kAccepted, d.accepted);
  stats.add(kRejected, d.rejected);
  stats.add(kReleased, d.released);
  stats.add(kSkipped, d.skipped);
  auto& totals = counters();
  totals.reservations_accepted.fetch_add(static_cast<uint64_t>(d.accepted));
  totals.reservations_rejected.fetch_add(static_cast<uint64_t>(d.rejected));
  totals.reservations_released.fetch_add(static_cast<uint64_t>(d.released));
  if (d.batch > 0 && !d.sold_out) totals.batch_sizes.observe(d.batch);
  stats.gauge(kAvailable, st.available.value_or(-1));
  stats.gauge(kDegraded, st.degraded ? 1 : 0);
  // A variant that does not exist (or is hidden) keeps no actor: it may appear later.
  if (d.not_sellable && st.queue->empty())
    self->send(st.supervisor, idle_atom::value, st.variant_id, st.received);
}

void maybe_start(StockActor* self) {
  auto& st = self->state;
  st.stats->gauge(kQueue, static_cast<int64_t>(st.queue->size()));
  if (st.busy || st.queue->empty()) return;
  const auto id = st.variant_id;
  if (!st.loaded) {
    // The load answers nobody: queued work waits for it and is answered by apply().
    submit(
        self, [id](Resources& r, const Report& report) { load_job(r, id, report); },
        [](const Error&) {});
    return;
  }
  auto& q = *st.queue;
  const auto limit = static_cast<std::size_t>(st.config->stock_batch_size);
  if (std::holds_alternative<ReserveWork>(q.front())) {
    auto batch = std::make_shared<std::vector<ReserveWork>>();
    while (!q.empty() && batch->size() < limit && std::holds_alternative<ReserveWork>(q.front())) {
      batch->push_back(std::move(std::get<ReserveWork>(q.front())));
      q.pop_front();
    }
    // Checked again on the pool, right before the gate.
    st.stats->add(kSkipped, skip_expired(*batch));
    if (batch->empty()) return maybe_start(self);
    const bool reseed_first = st.degraded;
    const long long ttl = st.config->order_reservation_ttl.count();
    BatchTag tag;
    // A batch runs within its job's deadline, and a statement already running past it is cut
    // by the statement timeout (and the watchdog's second): its units are never forgotten while
    // it might still commit.
    const auto longest =
        st.config->job_timeout + st.config->db_statement_timeout + std::chrono::seconds(2);
    tag.ttl_ms =
        std::max<std::chrono::milliseconds>(st.config->stock_inflight_ttl, longest).count();
    tag.abandon = st.unsettled;
    submit(
        self,
        [id, batch, reseed_first, ttl, tag, group = &st.runtime->commits()](Resources& r,
                                                                            const Report& report) {
          batch_job(r, *group, id, *batch, reseed_first, ttl, tag, report);
        },
        fail_all(batch));
  } else if (std::holds_alternative<ReleaseWork>(q.front())) {
    auto works = std::make_shared<std::vector<ReleaseWork>>();
    const auto status = std::get<ReleaseWork>(q.front()).status;
    const std::string by = std::get<ReleaseWork>(q.front()).by;
    while (!q.empty() && works->size() < limit && std::holds_alternative<ReleaseWork>(q.front()) &&
           std::get<ReleaseWork>(q.front()).status == status &&
           std::get<ReleaseWork>(q.front()).by == by) {
      works->push_back(std::move(std::get<ReleaseWork>(q.front())));
      q.pop_front();
    }
    const bool degraded = st.degraded;
    submit(
        self,
        [id, works, degraded](Resources& r, const Report& report) {
          release_job(r, id, *works, degraded, report);
        },
        fail_all(works));
  } else if (std::holds_alternative<ExclusiveWork>(q.front())) {
    auto w = std::make_shared<ExclusiveWork>(std::move(std::get<ExclusiveWork>(q.front())));
    q.pop_front();
    const bool degraded = st.degraded;
    submit(
        self,
        [id, w, degraded](Resources& r, const Report& report) {
          exclusive_job(r, id, *w, degraded, report);
        },
        [w](const Error& e) { w->done(e); });
  } else {
    auto w = std::make_shared<ResyncWork>(std::move(std::get<ResyncWork>(q.front())));
    q.pop_front();
    st.last_reconcile = std::chrono::steady_clock::now();
    submit(
        self,
        [id, w, abandon = st.unsettled](Resources& r, const Report& report) {
          resync_job(r, id, *w, abandon, report);
        },
        [w](const Error& e) { w->done(e); });
  }
  st.stats->gauge(kQueue, static_cast<int64_t>(st.queue->size()));
}

caf::behavior stock_actor(StockActor* self, int64_t variant_id, caf::actor supervisor,
                          Runtime* runtime, const config::Config* config,
                          std::shared_ptr<std::atomic<int>> degraded_actors) {
  auto& st = self->state;
  st.variant_id = variant_id;
  st.supervisor = std::move(supervisor);
  st.runtime = runtime;
  st.config = config;
  st.degraded_actors = std::move(degraded_actors);
  st.stats = runtime->registry().enter("stock/" + std::to_string(variant_id), "stock",
                                       "stock_supervisor", kGaugeNames);
  st.stats->set_state("running");
  self->delayed_send(self, tick_every(*config), tick_atom::value);
  // Whatever ends the actor, queued callers get an answer.
  self->attach_functor([queue = st.queue, stats = st.stats, flag = st.degraded_actors] {
    for (auto& w : *queue) fail_work(w, Error::unavailable());
    queue->clear();
    if (stats->gauge(kDegraded) != 0) flag->fetch_sub(1);
  });
  return {
      [self](StockWork& work) {
        auto& st = self->state;
        ++st.received;
        st.last_work = std::chrono::steady_clock::now();
        st.stats->handled(self->mailbox().size());
        if (std::holds_alternative<ReserveWork>(work) && known_sold_out(st)) {
          st.stats->add(kRejected, 1);
          std::get<ReserveWork>(work).done(sold_out_error());  // no I/O at all
          return;
        }
        st.queue->push_back(std::move(work));
        maybe_start(self);
      },
      [self](StockDone& d) {
        self->state.busy = false;
        apply(self, d);
        maybe_start(self);
      },
      [self](stop_atom) { self->quit(); },
      [self](heal_atom) {
        auto& st = self->state;
        st.heal_ticking = st.degraded;
        if (!st.degraded) return;
        // A resync reseeds the counter from PostgreSQL: one queued at a time, only once Redis
        // answers again; until one succeeds, look again later.
        const bool queued = std::any_of(st.queue->begin(), st.queue->end(), [](const StockWork& w) {
          return std::holds_alternative<ResyncWork>(w);
        });
        if (!queued && st.runtime->health().up(Dependency::redis)) {
          st.queue->push_back(ResyncWork{[](Result<int>) {}});
          maybe_start(self);
        }
        self->delayed_send(self, kHealInterval, heal_atom::value);
      },
      [self](tick_atom) {
        auto& st = self->state;
        const auto now = std::chrono::steady_clock::now();
        const bool quiet = !st.busy && st.queue->empty();
        if (quiet && !st.degraded && now - st.last_work >= st.config->stock_idle_timeout) {
          // Idle: the supervisor stops it unless a message is on its way. (A degraded actor
          // stays until its counter is healed.)
          self->send(st.supervisor, idle_atom::value, st.variant_id, st.received);
        } else if (st.loaded && !st.degraded &&
                   now - st.last_reconcile >= st.config->stock_reconcile_interval &&
                   std::none_of(st.queue->begin(), st.queue->end(), [](const StockWork& w) {
                     return std::holds_alternative<ResyncWork>(w);
                   })) {
          // Now and then the counter is reconciled with PostgreSQL, so a drift of any cause
          // (a lost answer, a process that died mid-batch, a "0" that is no longer true) lasts
          // one interval at most while the variant is in use.
          st.last_reconcile = now;
          st.queue->push_back(ResyncWork{[](Result<int>) {}});
          maybe_start(self);
        }
        self->delayed_send(self, tick_every(*st.config), tick_atom::value);
      },
  };
}

// ---- the stock supervisor ----------------------------------------------------------------------

struct Child {
  caf::actor actor;
  uint64_t forwarded = 0;
};

struct SupervisorState {
  // Shared with the exit hook, which stops every stock actor when the supervisor ends.
  std::shared_ptr<std::unordered_map<int64_t, Child>> children =
      std::make_shared<std::unordered_map<int64_t, Child>>();
  std::unordered_map<caf::actor_id, int64_t> variant_of;
  std::shared_ptr<std::atomic<std::size_t>> live;
  std::shared_ptr<std::atomic<int>> degraded_actors;
  std::shared_ptr<ActorStats> stats;
};

caf::behavior stock_supervisor(caf::stateful_actor<SupervisorState>* self, Runtime* runtime,
                               const config::Config* config,
                               std::shared_ptr<std::atomic<std::size_t>> live,
                               std::shared_ptr<std::atomic<int>> degraded_actors) {
  auto& st = self->state;
  st.live = std::move(live);
  st.live->store(0);
  st.degraded_actors = std::move(degraded_actors);
  st.stats = runtime->registry().enter("stock_supervisor", "supervisor", "root_supervisor",
                                       {"live_actors"});
  st.stats->set_state("running");
  self->attach_functor([children = st.children] {
    for (auto& [variant, child] : *children) {
      if (child.actor) caf::anon_send_exit(child.actor, caf::exit_reason::user_shutdown);
    }
  });
  self->set_down_handler([self, runtime](caf::down_msg& dm) {
    auto& st = self->state;
    auto it = st.variant_of.find(dm.source.id());
    if (it == st.variant_of.end()) return;
    const auto variant = it->second;
    st.variant_of.erase(it);
    auto child = st.children->find(variant);
    if (child != st.children->end() && child->second.actor.id() == dm.source.id())
      st.children->erase(child);
    st.live->fetch_sub(1);
    st.stats->gauge(0, static_cast<int64_t>(st.live->load()));
    const auto name = "stock/" + std::to_string(variant);
    if (dm.reason && dm.reason != caf::exit_reason::normal) {
      // Crashed: the next message for this variant starts a fresh actor, which reloads from the
      // database; the entry stays so operators see the restart and the error.
      auto stats = runtime->registry().enter(name, "stock", "stock_supervisor", kGaugeNames);
      stats->restarted();
      stats->failed(to_string(dm.reason));
      stats->set_state("crashed");
      spdlog::warn("stock {}: actor died ({}); it restarts on the next request", variant,
                   to_string(dm.reason));
    } else {
      runtime->registry().leave(name);
    }
    // Hand freed actor memory back to the system after a wave of idle evictions.
    if (st.live->load() == 0 || st.live->load() % 4096 == 0) malloc_trim(0);
  });
  return {
      [self, runtime, config](StockMsg& msg) {
        auto& st = self->state;
        st.stats->handled(self->mailbox().size());
        auto& child = (*st.children)[msg.variant_id];
        if (!child.actor) {
          child.actor = self->spawn<caf::monitored>(stock_actor, msg.variant_id,
                                                    caf::actor_cast<caf::actor>(self), runtime,
                                                    config, st.degraded_actors);
          child.forwarded = 0;
          st.variant_of[child.actor.id()] = msg.variant_id;
          st.live->fetch_add(1);
          st.stats->gauge(0, static_cast<int64_t>(st.live->load()));
        }
        ++child.forwarded;
        self->send(child.actor, std::move(msg.work));
      },
      [self](idle_atom, int64_t variant, uint64_t received) {
        auto& st = self->state;
        auto it = st.children->find(variant);
        // Only when every message forwarded has been seen: nothing can be in its mailbox.
        if (it == st.children->end() || it->second.forwarded != received) return;
        self->send(it->second.actor, stop_atom::value);
        st.children->erase(it);
      },
  };
}

}  // namespace

struct StockService::Impl {
  explicit Impl(Runtime& r) : runtime(r) {}
  Runtime& runtime;
  std::shared_ptr<internal::Slot> supervisor;
  std::shared_ptr<std::atomic<std::size_t>> live = std::make_shared<std::atomic<std::size_t>>(0);
  std::shared_ptr<std::atomic<int>> degraded = std::make_shared<std::atomic<int>>(0);
  std::atomic<StockRemote*> remote{nullptr};

  void send(int64_t variant_id, StockWork work) {
    auto handle = supervisor->get();
    if (!handle) return fail_work(work, Error::unavailable());
    caf::anon_send(handle, StockMsg{variant_id, std::move(work)});
  }

  // Where to forward the variant's work: to the member that owns it, when that is another one
  // (never for work that must stay `here`).
  std::pair<StockRemote*, std::string> forward_to(int64_t variant_id, bool here) const {
    auto* r = here ? nullptr : remote.load();
    auto o = r != nullptr ? r->owner(variant_id) : std::nullopt;
    if (!o) return {nullptr, {}};
    return {r, std::move(*o)};
  }

  void release(int64_t variant_id, std::vector<std::string> ids, persistence::OrderStatus status,
               std::string by, Callback<std::vector<std::string>> done, bool here) {
    auto answer = runtime.with_deadline<std::vector<std::string>>("stock release", std::move(done));
    if (auto [r, to] = forward_to(variant_id, here); r != nullptr) {
      return r->release(to, variant_id, std::move(ids), status, std::move(by), std::move(answer));
    }
    send(variant_id, ReleaseWork{std::move(ids), status, std::move(by), std::move(answer)});
  }

  void reserve(int64_t variant_id, std::string customer_id, Deadline deadline,
               Callback<persistence::OrderRow> done, bool here, std::weak_ptr<Impl> weak) {
    // A reservation that commits after its caller was answered at the deadline is given back at
    // once (nobody will pay for it), by whichever member owns the variant then.
    Callback<persistence::OrderRow> late = [weak, variant_id](Result<persistence::OrderRow> r) {
      auto impl = weak.lock();
      if (!r || !impl) return;
      spdlog::warn("stock {}: reservation {} committed after its deadline; released", variant_id,
                   r->id);
      impl->release(
          variant_id, {r->id}, persistence::OrderStatus::cancelled, "system:deadline",
          [](const Result<std::vector<std::string>>&) {}, false);
    };
    auto answer = runtime.with_deadline<persistence::OrderRow>("stock reservation", std::move(done),
                                                               deadline, std::move(late));
    if (auto [r, to] = forward_to(variant_id, here); r != nullptr) {
      return r->reserve(to, variant_id, std::move(customer_id), deadline, std::move(answer));
    }
    send(variant_id, ReserveWork{std::move(customer_id), std::move(answer), deadline});
  }

  void resync(int64_t variant_id, Callback<int> done, bool here) {
    auto answer = runtime.with_deadline<int>("stock resync", std::move(done));
    if (auto [r, to] = forward_to(variant_id, here); r != nullptr) {
      return r->resync(to, variant_id, std::move(answer));
    }
    send(variant_id, ResyncWork{std::move(answer)});
  }
};

StockService::StockService(Runtime& runtime, const config::Config& config)
    : impl_(std::make_shared<Impl>(runtime)) {
  auto live = impl_->live;
  auto degraded = impl_->degraded;
  Runtime* rt = &runtime;
  const config::Config* cfg = &config;
  impl_->supervisor = internal::supervise(
      runtime, "stock_supervisor", [rt, cfg, live, degraded](caf::event_based_actor* parent) {
        return parent->spawn(stock_supervisor, rt, cfg, live, degraded);
      });
}

StockService::~StockService() = default;

void StockService::set_remote(StockRemote* remote) {
  impl_->remote.store(remote);
}

void StockService::reserve(int64_t variant_id, std::string customer_id, Deadline deadline,
                           Callback<persistence::OrderRow> done) {
  impl_->reserve(variant_id, std::move(customer_id), deadline, std::move(done), false, impl_);
}

void StockService::reserve_here(int64_t variant_id, std::string customer_id, Deadline deadline,
                                Callback<persistence::OrderRow> done) {
  impl_->reserve(variant_id, std::move(customer_id), deadline, std::move(done), true, impl_);
}

void StockService::release(int64_t variant_id, std::vector<std::string> order_ids,
                           persistence::OrderStatus status, std::string by,
                           Callback<std::vector<std::string>> done) {
  impl_->release(variant_id, std::move(order_ids), status, std::move(by), std::move(done), false);
}

void StockService::release_here(int64_t variant_id, std::vector<std::string> order_ids,
                                persistence::OrderStatus status, std::string by,
                                Callback<std::vector<std::string>> done) {
  impl_->release(variant_id, std::move(order_ids), status, std::move(by), std::move(done), true);
}

// A vendor's edit stays in this process: it runs in a transaction of its own, serialised with
// this process's reservations of the variant (the conditional UPDATE serialises the rest).
void StockService::exclusive(int64_t variant_id, std::function<Result<StockChange>(Tx&)> change,
                             Callback<StockChange> done) {
  impl_->send(variant_id,
              ExclusiveWork{std::move(change), impl_->runtime.with_deadline<StockChange>(
                                                   "stock change", std::move(done))});
}

void StockService::resync(int64_t variant_id, Callback<int> done) {
  impl_->resync(variant_id, std::move(done), false);
}

void StockService::resync_here(int64_t variant_id, Callback<int> done) {
  impl_->resync(variant_id, std::move(done), true);
}

std::size_t StockService::live_actors() const {
  return impl_->live->load();
}

}  // namespace marketlink::actors
