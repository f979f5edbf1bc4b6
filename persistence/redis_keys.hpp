// Every Redis key family of the server, one function each, so a key is always built the same way
// and one file lists everything the server keeps in Redis.
#pragma once

#include <cstdint>
#include <string>

namespace marketlink::persistence::redis_keys {

// login:fail:<email>: failed logins for an email (lower-cased), expiring after the lock time.
std::string login_failures(const std::string& email_lower);
// rate:<scope>:<who>:<window>: requests of one client in one fixed window (registration).
std::string rate_window(const std::string& scope, const std::string& who, long long window);
// variant:<id>:stock: the stock gate, units still to sell.
std::string stock(int64_t variant_id);
// variant:<id>:inflight: units taken from the gate whose PostgreSQL outcome is not settled yet.
std::string inflight(int64_t variant_id);

}  // namespace marketlink::persistence::redis_keys
