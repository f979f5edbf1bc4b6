// A synchronous Redis client over hiredis with connect/command timeouts and reconnect on failure.
// Owned by one worker at a time (a hiredis context is not thread-safe).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "persistence/result.hpp"

struct redisContext;

namespace marketlink::persistence {

struct RedisSettings {
  std::string host = "127.0.0.1";
  uint16_t port = 6379;
  int db = 0;
  std::string password;
  std::chrono::milliseconds timeout{500};
};

struct RedisReply {
  enum class Type { nil, integer, string, status, array, error };
  Type type = Type::nil;
  long long integer = 0;
  std::string str;
  std::vector<RedisReply> elements;
};

class RedisClient {
 public:
  explicit RedisClient(RedisSettings settings);
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // Runs one command. Connection and protocol failures give ErrorCode::unavailable and drop the
  // connection so the next call reconnects; a Redis error reply is returned as Type::error.
  Result<RedisReply> command(const std::vector<std::string>& argv);

  // INCR key, setting its expiry when the key is new; returns the new value.
  Result<long long> increment_window(const std::string& key, std::chrono::seconds window);
  // The integer at key, 0 when absent.
  Result<long long> get_int(const std::string& key);
  Result<Unit> del(const std::string& key);
  Result<std::chrono::seconds> ttl(const std::string& key);

 private:
  bool ensure_connected();
  RedisSettings settings_;
  struct ContextDeleter {
    void operator()(redisContext* c) const;
  };
  std::unique_ptr<redisContext, ContextDeleter> ctx_;
};

// The connection settings of the configuration.
RedisSettings redis_settings(const config::Config& config);

}  // namespace marketlink::persistence
