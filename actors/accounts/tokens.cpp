// JWT issue and verification.
#include "actors/accounts/tokens.hpp"
#include "persistence/ids.hpp"

#include <jwt.h>

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

// RFC 8725 §3.9/3.10: our tokens name who issued them and for whom, so a token of another
// service that happens to share SECRET_KEY is not one of ours.
constexpr const char* kIssuer = "marketlink";
constexpr const char* kAudience = "marketlink-api";
// A token issued "in the future" beyond this much clock skew is refused.
constexpr long long kClockSkew = 60;

}  // namespace

Error token_error() {
  return Error::make(ErrorCode::token_invalid, "Given token not valid for any token type",
                     Reason::token_not_valid);
}

long long unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
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
  jwt_add_grant(jwt.get(), "iss", kIssuer);
  jwt_add_grant(jwt.get(), "aud", kAudience);
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
  // Fail closed without a key: libjwt 1.10 skips the signature check when the key is empty.
  if (secret_.empty() || token.empty() || token.size() > 4096) return token_error();
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
  if (claims.token_type != expected_type || claims.exp <= now || claims.iat > now + kClockSkew ||
      str("iss") != kIssuer || str("aud") != kAudience || !is_uuid(claims.user_id) ||
      !is_uuid(claims.jti)) {
    return token_error();
  }
  return claims;
}

}  // namespace marketlink::actors
