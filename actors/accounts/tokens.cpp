// JWT issue and verification.
#include "actors/accounts/tokens.hpp"

#include <jwt.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <vector>

namespace marketlink::actors {
namespace {

struct JwtDeleter {
  void operator()(jwt_t* j) const { jwt_free(j); }
};
using JwtPtr = std::unique_ptr<jwt_t, JwtDeleter>;

}  // namespace

Error token_error() {
  Error e = Error::make(ErrorCode::token_invalid, "Given token not valid for any token type");
  e.body_code = "token_not_valid";
  return e;
}

long long unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string random_uuid() {
  std::array<unsigned char, 16> b{};
  if (RAND_bytes(b.data(), static_cast<int>(b.size())) != 1) throw std::runtime_error("RAND_bytes");
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(hex[b[i] >> 4]);
    out.push_back(hex[b[i] & 0x0F]);
  }
  return out;
}

namespace {
std::string to_hex(const unsigned char* data, std::size_t size) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out.push_back(hex[data[i] >> 4]);
    out.push_back(hex[data[i] & 0x0F]);
  }
  return out;
}

std::string digest_hex(const EVP_MD* md, std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, md, nullptr);
  return to_hex(digest, len);
}
}  // namespace

std::string random_hex(std::size_t bytes) {
  std::vector<unsigned char> b(bytes);
  if (RAND_bytes(b.data(), static_cast<int>(b.size())) != 1) throw std::runtime_error("RAND_bytes");
  return to_hex(b.data(), b.size());
}

std::string md5_hex(std::string_view data) {
  return digest_hex(EVP_md5(), data);
}
std::string sha256_hex(std::string_view data) {
  return digest_hex(EVP_sha256(), data);
}

bool is_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!std::isxdigit(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return true;
}

TokenService::TokenService(std::string secret, std::chrono::seconds access_ttl,
                           std::chrono::seconds refresh_ttl)
    : secret_(std::move(secret)), access_ttl_(access_ttl), refresh_ttl_(refresh_ttl) {}

IssuedToken TokenService::issue(std::string_view token_type, const std::string& user_id,
                                long long now) const {
  IssuedToken out;
  out.claims.token_type = std::string(token_type);
  out.claims.jti = random_uuid();
  out.claims.user_id = user_id;
  out.claims.iat = now;
  out.claims.exp = now + (token_type == "refresh" ? refresh_ttl_ : access_ttl_).count();

  jwt_t* raw = nullptr;
  if (jwt_new(&raw) != 0) throw std::runtime_error("jwt_new failed");
  JwtPtr jwt(raw);
  jwt_add_grant(jwt.get(), "token_type", out.claims.token_type.c_str());
  jwt_add_grant_int(jwt.get(), "exp", static_cast<long>(out.claims.exp));
  jwt_add_grant_int(jwt.get(), "iat", static_cast<long>(out.claims.iat));
  jwt_add_grant(jwt.get(), "jti", out.claims.jti.c_str());
  jwt_add_grant(jwt.get(), "user_id", user_id.c_str());
  if (jwt_set_alg(jwt.get(), JWT_ALG_HS256, reinterpret_cast<const unsigned char*>(secret_.data()),
                  static_cast<int>(secret_.size())) != 0) {
    throw std::runtime_error("jwt_set_alg failed");
  }
  std::unique_ptr<char, decltype(&std::free)> encoded(jwt_encode_str(jwt.get()), &std::free);
  if (!encoded) throw std::runtime_error("jwt_encode_str failed");
  out.token = encoded.get();
  return out;
}

Result<TokenClaims> TokenService::verify(std::string_view token, std::string_view expected_type,
                                         long long now) const {
  if (token.empty() || token.size() > 4096) return token_error();
  const std::string text(token);
  jwt_t* raw = nullptr;
  // libjwt checks the signature with the algorithm named in the header (constant-time compare)
  // and refuses "none" when a key is given; we additionally insist on HS256.
  if (jwt_decode(&raw, text.c_str(), reinterpret_cast<const unsigned char*>(secret_.data()),
                 static_cast<int>(secret_.size())) != 0) {
    if (raw != nullptr) jwt_free(raw);
    return token_error();
  }
  JwtPtr jwt(raw);
  if (jwt_get_alg(jwt.get()) != JWT_ALG_HS256) return token_error();

  TokenClaims claims;
  auto str = [&](const char* name) -> std::string {
    const char* v = jwt_get_grant(jwt.get(), name);
    return v != nullptr ? std::string(v) : std::string();
  };
  auto num = [&](const char* name, long long& out) {
    errno = 0;
    const long v = jwt_get_grant_int(jwt.get(), name);
    if (errno != 0) return false;
    out = v;
    return true;
  };
  claims.token_type = str("token_type");
  claims.jti = str("jti");
  claims.user_id = str("user_id");
  if (!num("exp", claims.exp) || !num("iat", claims.iat)) return token_error();
  if (claims.token_type != expected_type || claims.exp <= now || !is_uuid(claims.user_id) ||
      !is_uuid(claims.jti)) {
    return token_error();
  }
  return claims;
}

}  // namespace marketlink::actors
