// JWT verification: any bytes as an access or refresh token, against a fixed key.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "actors/accounts/tokens.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const marketlink::actors::TokenService tokens(
      "fuzz-secret-key-0123456789abcdef-0123456789", std::chrono::hours(1), std::chrono::hours(2));
  std::string_view token(reinterpret_cast<const char*>(data), size);
  (void)tokens.verify(token, "access", 1700000000);
  (void)tokens.verify(token, "refresh", 1700000000);
  return 0;
}
