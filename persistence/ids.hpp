// Random identifiers, the UUID syntax check and hex digests: the small vocabulary every layer
// shares (order and token ids, request ids, session keys, request fingerprints, signatures).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace marketlink {

// A random (version 4) UUID in its canonical lower-case form.
std::string random_uuid();
// `bytes` random bytes as lower-case hex (request ids, session keys).
std::string random_hex(std::size_t bytes);
// Lower-case hex digests (request fingerprints, gateway signatures).
std::string md5_hex(std::string_view data);
std::string sha256_hex(std::string_view data);
// True for the canonical 8-4-4-4-12 hex form.
bool is_uuid(std::string_view s);

}  // namespace marketlink
