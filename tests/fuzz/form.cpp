// The IPN and redirect forms: urlencoded and multipart (the first input line is the
// Content-Type, the rest the body).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http/input/form_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const auto nl = in.find('\n');
  const auto type = nl == std::string_view::npos ? std::string_view() : in.substr(0, nl);
  const auto body = nl == std::string_view::npos ? in : in.substr(nl + 1);
  (void)marketlink::http::parse_form(type, body);
  (void)marketlink::http::parse_urlencoded(in);
  return 0;
}
