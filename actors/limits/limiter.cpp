// Limiter: one Lua script per operation (atomic, one round trip) on the Redis pool; on any Redis
// failure the same operation on this process's table, which is bounded and drops expired keys.
#include "actors/limits/limiter.hpp"

#include <spdlog/spdlog.h>

#include <mutex>
#include <unordered_map>

#include "actors/runtime/pool_jobs.hpp"
#include "persistence/redis_client.hpp"

namespace marketlink::actors {

namespace {

using Clock = std::chrono::steady_clock;

// The table holds at most this many keys; past it a new key is refused (503) rather than grown.
constexpr std::size_t kLocalKeyLimit = 100000;

const std::string kHitScript =
    "local v = redis.call('INCR', KEYS[1]) "
    "if v == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end "
    "local t = redis.call('TTL', KEYS[1]) "
    "if t < 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]) t = tonumber(ARGV[1]) end "
    "return {v, t}";
const std::string kTakeScript =
    "local v = redis.call('INCR', KEYS[1]) redis.call('EXPIRE', KEYS[1], ARGV[1]) return v";
const std::string kGiveBackScript =
    "local v = redis.call('DECR', KEYS[1]) if v <= 0 then redis.call('DEL', KEYS[1]) end "
    "return v";

std::chrono::seconds at_least_one(std::chrono::seconds s) {
  return std::max(s, std::chrono::seconds(1));
}

}  // namespace

Error throttled(std::string message, std::chrono::seconds retry_after) {
  Error e = Error::make(ErrorCode::too_many_requests, std::move(message));
  e.retry_after = at_least_one(retry_after);
  return e;
}

struct Limiter::Local {
  struct Entry {
    long long count = 0;
    Clock::time_point expires;
  };

  // The entry of `key`, created with `ttl` when absent or expired; nullptr when the table is full.
  Entry* entry(const std::string& key, std::chrono::seconds ttl, Clock::time_point now) {
    auto it = entries.find(key);
    if (it != entries.end() && it->second.expires <= now) {
      entries.erase(it);
      it = entries.end();
    }
    if (it != entries.end()) return &it->second;
    if (entries.size() >= kLocalKeyLimit) {
      for (auto e = entries.begin(); e != entries.end();) {
        e = e->second.expires <= now ? entries.erase(e) : std::next(e);
      }
      if (entries.size() >= kLocalKeyLimit) return nullptr;
    }
    return &entries.emplace(key, Entry{0, now + ttl}).first->second;
  }

  Result<Window> hit(const std::string& key, std::chrono::seconds window) {
    std::lock_guard lock(mutex);
    const auto now = Clock::now();
    Entry* e = entry(key, window, now);
    if (e == nullptr) return Error::unavailable();
    ++e->count;
    return Window{e->count, at_least_one(std::chrono::ceil<std::chrono::seconds>(e->expires - now)),
                  true};
  }

  Result<Held> take(const std::string& key, std::chrono::seconds ttl) {
    std::lock_guard lock(mutex);
    const auto now = Clock::now();
    Entry* e = entry(key, ttl, now);
    if (e == nullptr) return Error::unavailable();
    ++e->count;
    e->expires = now + ttl;
    return Held{e->count, true};
  }

  void give_back(const std::string& key) {
    std::lock_guard lock(mutex);
    auto it = entries.find(key);
    if (it != entries.end() && --it->second.count <= 0) entries.erase(it);
  }

  void erase(const std::string& key) {
    std::lock_guard lock(mutex);
    entries.erase(key);
  }

  mutable std::mutex mutex;
  std::unordered_map<std::string, Entry> entries;
};

Limiter::Limiter(Runtime& runtime) : runtime_(runtime), local_(std::make_shared<Local>()) {}
Limiter::~Limiter() = default;

void Limiter::hit(std::string key, std::chrono::seconds window, Callback<Window> done) {
  run_redis<Window>(
      runtime_,
      [key, window](persistence::RedisClient& redis) -> Result<Window> {
        auto r = redis.command({"EVAL", kHitScript, "1", key, std::to_string(window.count())});
        if (!r) return std::move(r).error();
        if (r->type != persistence::RedisReply::Type::array || r->elements.size() != 2) {
          return Error::unavailable();
        }
        return Window{r->elements[0].integer,
                      at_least_one(std::chrono::seconds(r->elements[1].integer)), false};
      },
      [local = local_, key, window, done = std::move(done)](Result<Window> r) {
        if (r) return done(std::move(r));
        done(local->hit(key, window));  // Redis did not answer: this process counts alone
      });
}

void Limiter::reset(std::string key) {
  local_->erase(key);
  run_redis<Unit>(
      runtime_, [key](persistence::RedisClient& redis) { return redis.del(key); },
      [key](const Result<Unit>& r) {
        if (!r) spdlog::warn("limits: could not reset {}", key);
      });
}

void Limiter::take(std::string key, std::chrono::seconds ttl, Callback<Held> done) {
  run_redis<Held>(
      runtime_,
      [key, ttl](persistence::RedisClient& redis) -> Result<Held> {
        auto r = redis.command({"EVAL", kTakeScript, "1", key, std::to_string(ttl.count())});
        if (!r) return std::move(r).error();
        if (r->type != persistence::RedisReply::Type::integer) return Error::unavailable();
        return Held{r->integer, false};
      },
      [local = local_, key, ttl, done = std::move(done)](Result<Held> r) {
        if (r) return done(std::move(r));
        done(local->take(key, ttl));
      });
}

void Limiter::give_back(std::string key, bool local) {
  if (local) return local_->give_back(key);
  run_redis<Unit>(
      runtime_,
      [key](persistence::RedisClient& redis) -> Result<Unit> {
        auto r = redis.command({"EVAL", kGiveBackScript, "1", key});
        if (!r) return std::move(r).error();
        return Unit{};
      },
      [key](const Result<Unit>& r) {
        // The unit lapses with the key's expiry instead.
        if (!r) spdlog::warn("limits: could not give back a unit of {}", key);
      });
}

std::size_t Limiter::local_keys() const {
  std::lock_guard lock(local_->mutex);
  return local_->entries.size();
}

}  // namespace marketlink::actors
