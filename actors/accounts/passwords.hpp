// Password hashing (Argon2id, PHC string format), verification of imported Django
// pbkdf2_sha256 hashes, and the strength rules of the original's password validators.
// CPU-heavy: callers run these on the hash pool, never on an HTTP or CAF worker thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace marketlink::actors {

struct HashParams {
  uint32_t memory_kib = 19456;
  uint32_t iterations = 2;
  uint32_t parallelism = 1;
};

std::string hash_password(std::string_view password, const HashParams& params);

enum class PasswordCheck {
  match,                // correct, hash is current
  match_needs_upgrade,  // correct, but stored in an older format or with other parameters
  mismatch,             // wrong password, or a hash we cannot read
};

PasswordCheck verify_password(std::string_view password, std::string_view stored,
                              const HashParams& params);

// Django's PBKDF2-SHA256 format "pbkdf2_sha256$<iterations>$<salt>$<base64 hash>".
std::string django_pbkdf2_hash(std::string_view password, std::string_view salt, int iterations);

// The messages Django's default validators give (length >= 8, not common, not all digits).
std::vector<std::string> password_problems(std::string_view password);

}  // namespace marketlink::actors
