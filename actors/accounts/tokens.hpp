// JWT access and refresh tokens (HS256, the original's SimpleJWT claims), built on libjwt.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "persistence/result.hpp"

namespace marketlink::actors {

struct TokenClaims {
  std::string token_type;  // "access" or "refresh"
  std::string jti;
  std::string user_id;
  long long iat = 0;
  long long exp = 0;
};

struct IssuedToken {
  std::string token;
  TokenClaims claims;
};

class TokenService {
 public:
  TokenService(std::string secret, std::chrono::seconds access_ttl,
               std::chrono::seconds refresh_ttl);

  IssuedToken issue(std::string_view token_type, const std::string& user_id, long long now) const;

  // Checks signature (HS256 only), expiry and type; any failure is ErrorCode::token_invalid.
  Result<TokenClaims> verify(std::string_view token, std::string_view expected_type,
                             long long now) const;

 private:
  std::string secret_;
  std::chrono::seconds access_ttl_;
  std::chrono::seconds refresh_ttl_;
};

long long unix_now();

Error token_error();

}  // namespace marketlink::actors
