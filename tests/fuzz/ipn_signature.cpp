// IPN signature checking on any urlencoded form (verify_key, verify_sign and fields).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "actors/payments/sslcommerz_signature.hpp"
#include "http/input/form_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto form = marketlink::http::parse_urlencoded(
      std::string_view(reinterpret_cast<const char*>(data), size));
  if (!form) return 0;
  marketlink::actors::PostedFields posted(form->begin(), form->end());
  (void)marketlink::actors::verify_notification(posted, "fuzz-store-pass");
  if (auto key = posted.find("verify_key"); key != posted.end()) {
    (void)marketlink::actors::notification_md5(posted, key->second, "fuzz-store-pass");
  }
  return 0;
}
