// Reading a JSON request body (simdjson DOM, strict) into typed fields with DRF's messages.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/text.hpp"
#include "http/server/request.hpp"
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
  // The exact text of a decimal number: a JSON number's own token or a JSON string's content,
  // never a double. "A valid number is required." for other types.
  std::optional<std::string> decimal_text(const char* key, FieldErrors& errors,
                                          bool required = false) const;

  enum class ListProblem { none, missing, null, not_a_list };
  // The elements of an array; `problem` says why there is none. An element that is not an
  // object has no `object`, only its DRF type name, so the caller can report it by index.
  std::vector<struct JsonItem> objects(const char* key, ListProblem& problem) const;
  // The JSON type name DRF uses in messages ("dict", "list", "str", "int", ...), of a key's value.
  std::string type_name(const char* key) const;

  struct Impl;
  struct Node;  // this object's place in the parsed document (json_input.cpp)

 private:
  JsonObject(std::shared_ptr<Impl> impl, std::shared_ptr<const Node> node)
      : impl_(std::move(impl)), node_(std::move(node)) {}
  // Every read costs the object's own keys, never a walk from the document's root: one parse
  // per body, each array iterated once, each number literal read once (issue 13: a 1 MiB body
  // of variants took ~35 s when each field walked the array from its start).
  std::shared_ptr<Impl> impl_;
  std::shared_ptr<const Node> node_;
};

struct JsonItem {
  std::optional<JsonObject> object;
  std::string type;
};

bool valid_utf8(std::string_view s);

}  // namespace marketlink::http
