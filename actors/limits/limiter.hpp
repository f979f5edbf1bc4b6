// Counters behind the abuse limits (orders and logins per address, pending orders per customer,
// the login lock): kept in Redis so every process shares them, and in this process while Redis
// does not answer, so a Redis outage neither opens the limits nor turns every request into a 503.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "actors/runtime/runtime.hpp"

namespace marketlink::actors {

// A 429 with Retry-After and `message` (the documented envelope: {"detail": message}).
Error throttled(std::string message, std::chrono::seconds retry_after);

class Limiter {
 public:
  struct Window {
    long long count = 0;                // hits so far, this one included
    std::chrono::seconds resets_in{0};  // until the window ends (at least 1 s)
    bool local = false;                 // counted in this process (Redis did not answer)
  };
  struct Held {
    long long count = 0;  // units held, this one included
    bool local = false;   // held in this process (give it back with the same flag)
  };

  explicit Limiter(Runtime& runtime);
  ~Limiter();
  Limiter(const Limiter&) = delete;
  Limiter& operator=(const Limiter&) = delete;

  // Counts a hit on `key` in a window that opens with the key's first hit and lasts `window`.
  void hit(std::string key, std::chrono::seconds window, Callback<Window> done);
  // Forgets `key` (best effort): a later hit opens a new window.
  void reset(std::string key);

  // Takes a unit of `key` (a count of things in progress); every unit is given back with
  // give_back, and a unit a crashed process never gave back lapses `ttl` after the key's last take.
  void take(std::string key, std::chrono::seconds ttl, Callback<Held> done);
  // Also takes back a hit (an attempt that failed on our side must not count against a user).
  void give_back(std::string key, bool local);

  // The counters this process keeps while Redis is down (for tests and the console).
  std::size_t local_keys() const;

  struct Local;

 private:
  Runtime& runtime_;
  std::shared_ptr<Local> local_;
};

}  // namespace marketlink::actors
