// Every Redis key family of the server, one function each, so a key is always built the same way
// and one file lists everything the server keeps in Redis.
#pragma once

#include <cstdint>
#include <string>

namespace marketlink::persistence::redis_keys {

// login:fail:<email>: login attempts on a canonical email (counted before each check, cleared
// by a success), expiring LOGIN_LOCK_SECONDS after the first.
std::string login_failures(const std::string& canonical_email);
// limit:<scope>:<who>: a Limiter counter (requests of one address in a window, orders one
// customer is placing).
std::string limit(const std::string& scope, const std::string& who);
// variant:<id>:stock: the stock gate, units still to sell.
std::string stock(int64_t variant_id);
// variant:<id>:inflight: units taken from the gate whose PostgreSQL outcome is not settled yet.
std::string inflight(int64_t variant_id);
// members: hash, member id → its record (JSON); members:seen: sorted set, member id by the Redis
// clock (ms) of its last renewal (actors/cluster/membership).
// With a cluster name (CLUSTER_NAME: several deployments sharing one Redis), each of the three
// is under cluster:<name>: instead.
std::string members(const std::string& cluster = {});
std::string members_seen(const std::string& cluster = {});
// members:actors:<id>: that member's last published actor snapshot (JSON), expiring with its
// record's liveness (MEMBER_TTL_MS).
std::string member_actors(const std::string& member_id, const std::string& cluster = {});

}  // namespace marketlink::persistence::redis_keys
