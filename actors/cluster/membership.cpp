// Membership: a small actor renews this process's record; reads and the final removal are plain
// Redis jobs. Every script reads the Redis server's clock, so renewals from machines whose clocks
// differ still compare.
#include "actors/cluster/membership.hpp"

#include <unistd.h>

#include <array>
#include <cstdlib>
#include <mutex>

#include "actors/runtime/internal.hpp"
#include "actors/runtime/pool_jobs.hpp"
#include "persistence/ids.hpp"
#include "persistence/redis_keys.hpp"

namespace marketlink::actors::detail {
struct RenewMsg {
  Callback<Unit> done;
};
}  // namespace marketlink::actors::detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(marketlink::actors::detail::RenewMsg)

namespace marketlink::actors {

namespace keys = persistence::redis_keys;

namespace {

using tick_atom = caf::atom_constant<caf::atom("tick")>;

// KEYS: members, members:seen, members:actors:<id>. ARGV: id, record, snapshot ("" for none),
// its lifetime in ms. Records quiet for a minute are dropped.
constexpr const char* kRenewScript = R"(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], now, ARGV[1])
if ARGV[3] ~= '' then redis.call('SET', KEYS[3], ARGV[3], 'PX', ARGV[4]) end
local old = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now - 60000)
for _, id in ipairs(old) do redis.call('HDEL', KEYS[1], id) end
if #old > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - 60000) end
return now
)";

// KEYS: members, members:seen. ARGV: ttl ms. Returns id, record, ms since renewal, … .
constexpr const char* kListScript = R"(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local seen = redis.call('ZRANGEBYSCORE', KEYS[2], now - tonumber(ARGV[1]), '+inf', 'WITHSCORES')
local out = {}
for i = 1, #seen, 2 do
  local record = redis.call('HGET', KEYS[1], seen[i])
  if record then
    out[#out + 1] = seen[i]
    out[#out + 1] = record
    out[#out + 1] = tostring(now - tonumber(seen[i + 1]))
  end
end
return out
)";

enum Gauge : std::size_t { kRenewals, kFailures, kGaugeCount };
constexpr std::array kGaugeList{"renewals", "failed_renewals"};
static_assert(kGaugeList.size() == kGaugeCount, "one name per gauge, in order");

std::string default_id(const config::Config& config) {
  if (!config.member_name.empty()) return config.member_name;
  std::array<char, 256> host{};
  if (::gethostname(host.data(), host.size() - 1) != 0) host[0] = '\0';
  return std::string(host.data()) + "-" + std::to_string(::getpid()) + "-" + random_hex(2);
}

}  // namespace

struct Membership::Impl {
  Impl(Runtime& r, const config::Config& c) : runtime(r), config(c), id(default_id(c)) {}
  Runtime& runtime;
  const config::Config& config;
  std::string id;
  std::mutex mutex;
  std::function<MemberPublication()> source;
  std::shared_ptr<internal::Slot> slot;

  // Nothing is written until the process has said what it publishes (it knows its address only
  // once it listens).
  void renew(Callback<Unit> done) {
    std::function<MemberPublication()> make;
    {
      std::lock_guard lock(mutex);
      make = source;
    }
    if (!make) return done(Unit{});
    run_redis<Unit>(
        runtime,
        [id = id, cluster = config.cluster_name, published = make(),
         ttl = std::to_string(config.member_ttl.count())](
            persistence::RedisClient& redis) -> Result<Unit> {
          auto r = redis.command({"EVAL", kRenewScript, "3", keys::members(cluster),
                                  keys::members_seen(cluster), keys::member_actors(id, cluster), id,
                                  published.record, published.snapshot, ttl});
          if (!r) return std::move(r).error();
          if (r->type == persistence::RedisReply::Type::error) return Error::unavailable();
          return Unit{};
        },
        std::move(done));
  }
};

namespace {

struct MembershipState {
  Membership::Impl* impl = nullptr;
  std::shared_ptr<ActorStats> stats;
};
using MembershipActor = caf::stateful_actor<MembershipState>;

void renew(MembershipActor* self, Callback<Unit> done) {
  self->state.impl->renew(
      internal::continue_on<Unit>(self, [self, done = std::move(done)](Result<Unit> r) {
        auto& st = self->state;
        st.stats->add(r ? kRenewals : kFailures, 1);
        st.stats->set_state(r ? "live" : "redis unreachable");
        if (done) done(std::move(r));
      }));
}

caf::behavior membership(MembershipActor* self, Membership::Impl* impl) {
  auto& st = self->state;
  st.impl = impl;
  st.stats = impl->runtime.registry().enter("membership", "membership", "root_supervisor",
                                            gauge_names(kGaugeList));
  st.stats->set_state("joining");
  self->send(self, tick_atom::value);
  return {
      [self](tick_atom) {
        renew(self, nullptr);
        self->delayed_send(self, self->state.impl->config.member_heartbeat, tick_atom::value);
      },
      [self](detail::RenewMsg& msg) { renew(self, std::move(msg.done)); },
      [](internal::Step& step) { step.run(); },
  };
}

}  // namespace

Membership::Membership(Runtime& runtime, const config::Config& config)
    : impl_(std::make_shared<Impl>(runtime, config)) {
  Impl* impl = impl_.get();
  impl_->slot = internal::supervise(runtime, "membership", [impl](caf::event_based_actor* parent) {
    return parent->spawn(membership, impl);
  });
}

Membership::~Membership() = default;

const std::string& Membership::id() const {
  return impl_->id;
}

void Membership::set_source(std::function<MemberPublication()> source) {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->source = std::move(source);
  }
  renew_now([](const Result<Unit>&) {});  // listed now, not at the next heartbeat
}

void Membership::snapshot(const std::string& member_id, Callback<std::string> done) {
  run_redis<std::string>(
      impl_->runtime,
      [key = keys::member_actors(member_id, impl_->config.cluster_name)](
          persistence::RedisClient& redis) -> Result<std::string> {
        auto r = redis.command({"GET", key});
        if (!r) return std::move(r).error();
        if (r->type != persistence::RedisReply::Type::string) return Error::not_found();
        return std::move(r->str);
      },
      std::move(done));
}

void Membership::snapshots(Callback<std::vector<std::pair<std::string, std::string>>> done) {
  using Published = std::vector<std::pair<std::string, std::string>>;
  run_redis<Published>(
      impl_->runtime,
      [ttl = std::to_string(impl_->config.member_ttl.count()),
       cluster = impl_->config.cluster_name](persistence::RedisClient& redis) -> Result<Published> {
        auto live = redis.command(
            {"EVAL", kListScript, "2", keys::members(cluster), keys::members_seen(cluster), ttl});
        if (!live) return std::move(live).error();
        if (live->type != persistence::RedisReply::Type::array) return Error::unavailable();
        std::vector<std::string> ids;
        std::vector<std::string> mget{"MGET"};
        for (std::size_t i = 0; i + 2 < live->elements.size(); i += 3) {
          ids.push_back(live->elements[i].str);
          mget.push_back(keys::member_actors(ids.back(), cluster));
        }
        Published out;
        if (ids.empty()) return out;
        auto got = redis.command(mget);
        if (!got) return std::move(got).error();
        if (got->type != persistence::RedisReply::Type::array) return Error::unavailable();
        for (std::size_t i = 0; i < ids.size() && i < got->elements.size(); ++i) {
          if (got->elements[i].type == persistence::RedisReply::Type::string) {
            out.emplace_back(ids[i], std::move(got->elements[i].str));
          }
        }
        return out;
      },
      std::move(done));
}

void Membership::renew_now(Callback<Unit> done) {
  internal::ask<Unit>(impl_->runtime, *impl_->slot, "membership", std::move(done),
                      [](Callback<Unit> answer) { return detail::RenewMsg{std::move(answer)}; });
}

void Membership::members(Callback<std::vector<Member>> done) {
  const auto ttl = std::to_string(impl_->config.member_ttl.count());
  run_redis<std::vector<Member>>(
      impl_->runtime,
      [ttl, cluster = impl_->config.cluster_name](
          persistence::RedisClient& redis) -> Result<std::vector<Member>> {
        auto r = redis.command(
            {"EVAL", kListScript, "2", keys::members(cluster), keys::members_seen(cluster), ttl});
        if (!r) return std::move(r).error();
        if (r->type != persistence::RedisReply::Type::array) return Error::unavailable();
        std::vector<Member> out;
        for (std::size_t i = 0; i + 2 < r->elements.size(); i += 3) {
          out.push_back(Member{r->elements[i].str, r->elements[i + 1].str,
                               std::strtoll(r->elements[i + 2].str.c_str(), nullptr, 10)});
        }
        return out;
      },
      std::move(done));
}

void Membership::leave(Callback<Unit> done) {
  run_redis<Unit>(
      impl_->runtime,
      [id = impl_->id,
       cluster = impl_->config.cluster_name](persistence::RedisClient& redis) -> Result<Unit> {
        auto a = redis.command({"HDEL", keys::members(cluster), id});
        if (!a) return std::move(a).error();
        if (auto s = redis.command({"DEL", keys::member_actors(id, cluster)}); !s)
          return std::move(s).error();
        auto b = redis.command({"ZREM", keys::members_seen(cluster), id});
        if (!b) return std::move(b).error();
        return Unit{};
      },
      std::move(done));
}

}  // namespace marketlink::actors
