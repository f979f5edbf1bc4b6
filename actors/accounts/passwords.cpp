// Password hashing and verification.
#include "actors/accounts/passwords.hpp"

#include <argon2.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <stdexcept>
#include <unordered_set>

namespace marketlink::actors {
namespace {

constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kHashBytes = 32;

std::string base64(const unsigned char* data, std::size_t len) {
  std::string out(4 * ((len + 2) / 3), '\0');
  const int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(len));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    const auto pos = s.find(sep, start);
    parts.push_back(
        s.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return parts;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// "m=19456,t=2,p=1" inside "$argon2id$v=19$m=19456,t=2,p=1$salt$hash".
bool argon2_params_match(std::string_view stored, const HashParams& params) {
  const auto parts = split(stored, '$');
  if (parts.size() < 4) return false;
  const std::string expected = "m=" + std::to_string(params.memory_kib) +
                               ",t=" + std::to_string(params.iterations) +
                               ",p=" + std::to_string(params.parallelism);
  return parts[3] == expected;
}

PasswordCheck verify_django(std::string_view password, std::string_view stored) {
  const auto parts = split(stored, '$');
  if (parts.size() != 4 || parts[0] != "pbkdf2_sha256") return PasswordCheck::mismatch;
  int iterations = 0;
  auto [ptr, ec] = std::from_chars(parts[1].data(), parts[1].data() + parts[1].size(), iterations);
  if (ec != std::errc{} || ptr != parts[1].data() + parts[1].size() || iterations <= 0 ||
      iterations > 10'000'000) {
    return PasswordCheck::mismatch;
  }
  const auto computed = django_pbkdf2_hash(password, parts[2], iterations);
  return constant_time_equal(computed, stored) ? PasswordCheck::match_needs_upgrade
                                               : PasswordCheck::mismatch;
}

const std::unordered_set<std::string>& common_passwords() {
  // The most common entries of the list Django's CommonPasswordValidator ships.
  static const std::unordered_set<std::string> list{
      "password",    "12345678",      "123456789", "1234567890", "qwertyuiop", "password1",
      "password123", "iloveyou",      "sunshine",  "princess",   "football",   "baseball",
      "welcome",     "welcome1",      "abc12345",  "abcd1234",   "qwerty123",  "1q2w3e4r",
      "1qaz2wsx",    "letmein1",      "trustno1",  "superman",   "starwars",   "whatever",
      "dragon123",   "passw0rd",      "master123", "michael1",   "jennifer",   "computer",
      "11111111",    "00000000",      "88888888",  "87654321",   "qwertyui",   "asdfghjk",
      "zxcvbnm1",    "changeme",      "internet",  "shadow12",   "monkey12",   "liverpool",
      "chelsea1",    "charlie1",      "jordan23",  "access14",   "mustang1",   "letmein",
      "password12",  "administrator", "admin123",  "admin1234",  "pass1234",   "test1234",
      "testtest",    "secret12",      "qazwsxedc", "1234qwer",   "q1w2e3r4",   "a1b2c3d4",
      "loveyou1",    "freedom1",      "whatever1", "blink182",   "pokemon1",   "samsung1",
      "football1",   "baseball1"};
  return list;
}

}  // namespace

std::string hash_password(std::string_view password, const HashParams& params) {
  std::array<unsigned char, kSaltBytes> salt{};
  if (RAND_bytes(salt.data(), static_cast<int>(salt.size())) != 1) {
    throw std::runtime_error("RAND_bytes failed");
  }
  const auto len = argon2_encodedlen(params.iterations, params.memory_kib, params.parallelism,
                                     kSaltBytes, kHashBytes, Argon2_id);
  std::string encoded(len, '\0');
  const int rc = argon2id_hash_encoded(params.iterations, params.memory_kib, params.parallelism,
                                       password.data(), password.size(), salt.data(), salt.size(),
                                       kHashBytes, encoded.data(), encoded.size());
  if (rc != ARGON2_OK) throw std::runtime_error(argon2_error_message(rc));
  encoded.resize(encoded.find('\0'));
  return encoded;
}

PasswordCheck verify_password(std::string_view password, std::string_view stored,
                              const HashParams& params) {
  if (stored.rfind("$argon2id$", 0) == 0) {
    const std::string encoded(stored);
    if (argon2id_verify(encoded.c_str(), password.data(), password.size()) != ARGON2_OK) {
      return PasswordCheck::mismatch;
    }
    return argon2_params_match(stored, params) ? PasswordCheck::match
                                               : PasswordCheck::match_needs_upgrade;
  }
  if (stored.rfind("pbkdf2_sha256$", 0) == 0) return verify_django(password, stored);
  return PasswordCheck::mismatch;
}

std::string django_pbkdf2_hash(std::string_view password, std::string_view salt, int iterations) {
  std::array<unsigned char, kHashBytes> out{};
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()),
                        static_cast<int>(salt.size()), iterations, EVP_sha256(),
                        static_cast<int>(out.size()), out.data()) != 1) {
    throw std::runtime_error("PKCS5_PBKDF2_HMAC failed");
  }
  return "pbkdf2_sha256$" + std::to_string(iterations) + "$" + std::string(salt) + "$" +
         base64(out.data(), out.size());
}

std::vector<std::string> password_problems(std::string_view password) {
  std::vector<std::string> problems;
  // Django counts characters, not bytes.
  std::size_t chars = 0;
  for (unsigned char c : password) chars += (c & 0xC0) != 0x80 ? 1 : 0;
  if (chars < 8) {
    problems.emplace_back("This password is too short. It must contain at least 8 characters.");
  }
  std::string lower(password);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (common_passwords().count(lower) != 0) problems.emplace_back("This password is too common.");
  if (!password.empty() && std::all_of(password.begin(), password.end(),
                                       [](unsigned char c) { return std::isdigit(c) != 0; })) {
    problems.emplace_back("This password is entirely numeric.");
  }
  return problems;
}

}  // namespace marketlink::actors
