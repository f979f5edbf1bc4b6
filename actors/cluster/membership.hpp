// Cluster membership: every process registers itself in Redis and renews its record every
// MEMBER_HEARTBEAT_MS (a supervised actor); a record not renewed for MEMBER_TTL_MS is no longer
// live. A record carries the process's id, version, start time, address and load, and whether it
// is draining. Redis keys: ml:members (hash id → record JSON) and ml:members:seen (sorted set,
// id by the Redis server's clock of its last renewal, so machines' clocks do not matter).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "actors/runtime/runtime.hpp"

namespace marketlink::actors {

// What each renewal writes: the record (a JSON object) and, beside it, this process's actor
// snapshot (JSON; "" for none), which other members' consoles read with snapshot().
struct MemberPublication {
  std::string record;
  std::string snapshot;
};

struct Member {
  std::string id;
  std::string record;         // the JSON the member wrote (version, started_at, address, load, …)
  long long seen_ms_ago = 0;  // since its last renewal, by the Redis server's clock
};

class Membership {
 public:
  Membership(Runtime& runtime, const config::Config& config);
  ~Membership();
  Membership(const Membership&) = delete;
  Membership& operator=(const Membership&) = delete;

  // This process's member id (MEMBER_NAME, else host-pid-random).
  const std::string& id() const;
  // What each renewal writes, built on the membership actor's thread (so it must be
  // thread-safe). Nothing is written before it is set; setting it renews at once.
  void set_source(std::function<MemberPublication()> source);
  // A member's last published snapshot; not_found when it has none that is live.
  void snapshot(const std::string& member_id, Callback<std::string> done);
  // Every live member's last published snapshot, by member id (one Redis job).
  void snapshots(Callback<std::vector<std::pair<std::string, std::string>>> done);
  // The live members, this one included once it has renewed.
  void members(Callback<std::vector<Member>> done);
  // Renews at once (tests, and the drain: the record then says "draining").
  void renew_now(Callback<Unit> done);
  // Removes this process's record (a clean stop); answered when Redis has it.
  void leave(Callback<Unit> done);

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace marketlink::actors
