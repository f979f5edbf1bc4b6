// hiredis wrapper.
#include "persistence/redis_client.hpp"

#include <hiredis.h>
#include <spdlog/spdlog.h>

#include <sys/time.h>

namespace marketlink::persistence {
namespace {

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

RedisReply convert(const redisReply* r) {
  RedisReply out;
  switch (r->type) {
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::Type::integer;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_STRING:
      out.type = RedisReply::Type::string;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = RedisReply::Type::status;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = RedisReply::Type::error;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::Type::array;
      for (size_t i = 0; i < r->elements; ++i) out.elements.push_back(convert(r->element[i]));
      break;
    default:
      out.type = RedisReply::Type::nil;
  }
  return out;
}

timeval to_timeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

}  // namespace

void RedisClient::ContextDeleter::operator()(redisContext* c) const {
  redisFree(c);
}

RedisClient::RedisClient(RedisSettings settings) : settings_(std::move(settings)) {}
RedisClient::~RedisClient() = default;

bool RedisClient::ensure_connected() {
  if (ctx_) return true;
  const auto tv = to_timeval(settings_.timeout);
  std::unique_ptr<redisContext, ContextDeleter> ctx(
      redisConnectWithTimeout(settings_.host.c_str(), settings_.port, tv));
  if (!ctx || ctx->err) {
    spdlog::warn("redis: connect to {}:{} failed: {}", settings_.host, settings_.port,
                 ctx ? ctx->errstr : "out of memory");
    return false;
  }
  redisSetTimeout(ctx.get(), tv);
  ctx_ = std::move(ctx);
  auto run = [&](std::vector<std::string> argv) {
    auto r = command(argv);
    return r.ok() && r->type != RedisReply::Type::error;
  };
  if (!settings_.password.empty() && !run({"AUTH", settings_.password})) {
    spdlog::warn("redis: AUTH failed");
    ctx_.reset();
    return false;
  }
  if (settings_.db != 0 && !run({"SELECT", std::to_string(settings_.db)})) {
    spdlog::warn("redis: SELECT {} failed", settings_.db);
    ctx_.reset();
    return false;
  }
  return true;
}

Result<RedisReply> RedisClient::command(const std::vector<std::string>& argv) {
  if (!ensure_connected()) return Error::unavailable();
  std::vector<const char*> args;
  std::vector<size_t> lens;
  args.reserve(argv.size());
  lens.reserve(argv.size());
  for (const auto& a : argv) {
    args.push_back(a.data());
    lens.push_back(a.size());
  }
  ReplyPtr reply(static_cast<redisReply*>(
      redisCommandArgv(ctx_.get(), static_cast<int>(args.size()), args.data(), lens.data())));
  if (!reply) {
    spdlog::warn("redis: command {} failed: {}", argv.empty() ? "" : argv[0], ctx_->errstr);
    ctx_.reset();
    return Error::unavailable();
  }
  return convert(reply.get());
}

Result<long long> RedisClient::increment_window(const std::string& key,
                                                std::chrono::seconds window) {
  // One round trip, atomic: the expiry is set only by the INCR that created the key.
  static const std::string script =
      "local v = redis.call('INCR', KEYS[1]) "
      "if v == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end "
      "return v";
  auto r = command({"EVAL", script, "1", key, std::to_string(window.count())});
  if (!r) return std::move(r).error();
  if (r->type != RedisReply::Type::integer) return Error::internal("redis: " + r->str);
  return r->integer;
}

Result<long long> RedisClient::get_int(const std::string& key) {
  auto r = command({"GET", key});
  if (!r) return std::move(r).error();
  if (r->type == RedisReply::Type::nil) return 0LL;
  if (r->type != RedisReply::Type::string) return Error::internal("redis: " + r->str);
  try {
    return std::stoll(r->str);
  } catch (const std::exception&) {
    return Error::internal("redis: not an integer at " + key);
  }
}

Result<Unit> RedisClient::del(const std::string& key) {
  auto r = command({"DEL", key});
  if (!r) return std::move(r).error();
  return Unit{};
}

Result<std::chrono::seconds> RedisClient::ttl(const std::string& key) {
  auto r = command({"TTL", key});
  if (!r) return std::move(r).error();
  return std::chrono::seconds(r->integer > 0 ? r->integer : 0);
}

RedisSettings redis_settings(const config::Config& c) {
  RedisSettings s;
  s.host = c.redis_host;
  s.port = c.redis_port;
  s.db = c.redis_db;
  s.password = c.redis_password;
  s.timeout = c.redis_timeout;
  return s;
}

}  // namespace marketlink::persistence
