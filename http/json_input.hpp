// Reading a JSON request body (simdjson DOM, strict) into typed fields with DRF's messages.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "http/request.hpp"
#include "persistence/result.hpp"

namespace marketlink::http {

struct StringRule {
  bool required = false;
  bool allow_blank = false;
  std::size_t max_chars = 0;  // 0: no limit
  bool trim = true;           // DRF trims CharFields; passwords are not trimmed
};

class JsonObject {
 public:
  // An object body; an empty body reads as {}. Malformed JSON, a non-object root and a
  // non-JSON content type are 400 / 415 errors in the documented envelope.
  static Result<JsonObject> parse_request(const Request& request);
  static Result<JsonObject> parse(std::string_view text);

  bool has(const char* key) const;
  std::optional<std::string> string(const char* key, FieldErrors& errors,
                                    const StringRule& rule = {}) const;
  std::optional<bool> boolean(const char* key, FieldErrors& errors, bool required = false) const;
  std::optional<int64_t> integer(const char* key, FieldErrors& errors, bool required = false) const;

  struct Impl;

 private:
  explicit JsonObject(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;
};

std::size_t utf8_chars(std::string_view s);
bool valid_utf8(std::string_view s);

}  // namespace marketlink::http
