// Every JSON body reader: parse, then every accessor on every key the routes read, recursing
// into arrays of objects as the variant lists do.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http/input/json_input.hpp"

using marketlink::FieldErrors;
using marketlink::http::JsonObject;

namespace {
constexpr const char* kKeys[] = {"email",    "password",          "name",      "price",   "stock",
                                 "variants", "estimated_minutes", "is_active", "refresh", "variant",
                                 ""};

void read(const JsonObject& o, int depth) {
  FieldErrors errors;
  for (const char* key : kKeys) {
    (void)o.has(key);
    (void)o.string(key, errors, {.required = true, .max_chars = 255});
    (void)o.string(key, errors, {.allow_blank = true, .trim = false});
    (void)o.boolean(key, errors);
    (void)o.integer(key, errors);
    (void)o.decimal_text(key, errors);
    (void)o.type_name(key);
    JsonObject::ListProblem problem{};
    if (depth < 3) {
      for (const auto& item : o.objects(key, problem)) {
        if (item.object) read(*item.object, depth + 1);
      }
    }
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto parsed = JsonObject::parse(std::string_view(reinterpret_cast<const char*>(data), size));
  if (parsed) read(*parsed, 0);
  return 0;
}
