// simdjson-backed body reading.
#include "http/input/json_input.hpp"

#include <simdjson.h>

#include <charconv>
#include <unordered_map>

namespace marketlink::http {

struct JsonObject::Impl {
  simdjson::padded_string text;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  // The literal of every number in the document by its JSON Pointer (the DOM keeps only the
  // parsed double), from one on-demand pass made on the first decimal read.
  std::optional<std::unordered_map<std::string, std::string_view>> numbers;
};

struct JsonObject::Node {
  simdjson::dom::object object;
  std::string pointer;  // JSON Pointer of this object inside the document ("" for the root)
};

namespace {

Error parse_error(std::string reason) {
  return Error::make(ErrorCode::invalid_input, "JSON parse error - " + std::move(reason));
}

}  // namespace

bool valid_utf8(std::string_view s) {
  return simdjson::validate_utf8(s.data(), s.size());
}

Result<JsonObject> JsonObject::parse_request(const Request& request) {
  std::string_view body = request.body;
  const bool blank = trim(body).empty();
  if (!blank) {
    const auto* type = request.header("content-type");
    std::string_view media = type != nullptr ? std::string_view(*type) : std::string_view();
    media = media.substr(0, media.find(';'));
    while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
    if (media != "application/json" &&
        !(media.size() > 5 && media.substr(media.size() - 5) == "+json")) {
      return Error::make(ErrorCode::unsupported_media_type,
                         "Unsupported media type \"" + std::string(media) + "\" in request.");
    }
  }
  return parse(blank ? std::string_view("{}") : body);
}

namespace {
const char* drf_type_name(const simdjson::dom::element& e) {
  switch (e.type()) {
    case simdjson::dom::element_type::ARRAY:
      return "list";
    case simdjson::dom::element_type::OBJECT:
      return "dict";
    case simdjson::dom::element_type::STRING:
      return "str";
    case simdjson::dom::element_type::BOOL:
      return "bool";
    case simdjson::dom::element_type::NULL_VALUE:
      return "NoneType";
    case simdjson::dom::element_type::INT64:
    case simdjson::dom::element_type::UINT64:
      return "int";
    case simdjson::dom::element_type::DOUBLE:
      return "float";
  }
  return "unknown";
}

std::string pointer_token(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out.push_back(c);
    }
  }
  return out;
}
}  // namespace

Result<JsonObject> JsonObject::parse(std::string_view text) {
  auto impl = std::make_shared<Impl>();
  impl->text = simdjson::padded_string(text);
  if (auto err = impl->parser.parse(impl->text).get(impl->root); err) {
    return parse_error(simdjson::error_message(err));
  }
  if (!impl->root.is_object()) {
    Error e;
    e.code = ErrorCode::invalid_input;
    e.fields.push_back({"non_field_errors",
                        {std::string("Invalid data. Expected a dictionary, but got ") +
                         drf_type_name(impl->root) + "."},
                        {}});
    return e;
  }
  simdjson::dom::object root = impl->root.get_object().value_unsafe();
  return JsonObject(std::move(impl), std::make_shared<Node>(Node{root, ""}));
}

namespace {
// The first value of `key` (duplicates: the first wins, as everywhere in this reader).
simdjson::simdjson_result<simdjson::dom::element> field(const JsonObject::Node& node,
                                                        const char* key) {
  return node.object.at_key(key);
}

// Records the literal of every number under `value` (at `pointer`) into `out`, reading each
// token once; the first of duplicate keys wins.
void collect_numbers(simdjson::ondemand::value value, const std::string& pointer,
                     std::unordered_map<std::string, std::string_view>& out) {
  simdjson::ondemand::json_type type;
  if (value.type().get(type) != simdjson::SUCCESS) return;
  switch (type) {
    case simdjson::ondemand::json_type::object: {
      simdjson::ondemand::object object;
      if (value.get_object().get(object) != simdjson::SUCCESS) return;
      for (auto field : object) {
        std::string_view key;
        if (field.unescaped_key().get(key) != simdjson::SUCCESS) return;
        collect_numbers(field.value(), pointer + "/" + pointer_token(key), out);
      }
      return;
    }
    case simdjson::ondemand::json_type::array: {
      simdjson::ondemand::array array;
      if (value.get_array().get(array) != simdjson::SUCCESS) return;
      std::size_t i = 0;
      for (auto element : array) {
        simdjson::ondemand::value item;
        if (element.get(item) != simdjson::SUCCESS) return;
        collect_numbers(item, pointer + "/" + std::to_string(i++), out);
      }
      return;
    }
    case simdjson::ondemand::json_type::number: {
      out.emplace(pointer, value.raw_json_token());  // the DOM parse validated it
      return;
    }
    default:
      return;  // strings, booleans, null: skipped by the iteration
  }
}
}  // namespace

bool JsonObject::has(const char* key) const {
  simdjson::dom::element v;
  return field(*node_, key).get(v) == simdjson::SUCCESS;
}

std::optional<std::string> JsonObject::string(const char* key, FieldErrors& errors,
                                              const StringRule& rule) const {
  simdjson::dom::element v;
  if (field(*node_, key).get(v) != simdjson::SUCCESS) {
    if (rule.required) errors.add(key, "This field is required.");
    return std::nullopt;
  }
  std::string out;
  switch (v.type()) {
    case simdjson::dom::element_type::STRING:
      out = std::string(v.get_string().value_unsafe());
      break;
    case simdjson::dom::element_type::INT64:
      out = std::to_string(v.get_int64().value_unsafe());
      break;
    case simdjson::dom::element_type::UINT64:
      out = std::to_string(v.get_uint64().value_unsafe());
      break;
    case simdjson::dom::element_type::NULL_VALUE:
      errors.add(key, "This field may not be null.");
      return std::nullopt;
    default:
      errors.add(key, "Not a valid string.");
      return std::nullopt;
  }
  if (rule.trim) out = trim(out);
  if (out.find('\0') != std::string::npos) {
    errors.add(key, "Null characters are not allowed.");
    return std::nullopt;
  }
  if (out.empty() && !rule.allow_blank) {
    errors.add(key, "This field may not be blank.");
    return std::nullopt;
  }
  if (rule.max_chars != 0 && utf8_chars(out) > rule.max_chars) {
    errors.add(key, "Ensure this field has no more than " + std::to_string(rule.max_chars) +
                        " characters.");
    return std::nullopt;
  }
  return out;
}

std::optional<bool> JsonObject::boolean(const char* key, FieldErrors& errors, bool required) const {
  simdjson::dom::element v;
  if (field(*node_, key).get(v) != simdjson::SUCCESS) {
    if (required) errors.add(key, "This field is required.");
    return std::nullopt;
  }
  bool b = false;
  if (v.get_bool().get(b) != simdjson::SUCCESS) {
    errors.add(key, "Must be a valid boolean.");
    return std::nullopt;
  }
  return b;
}

std::optional<int64_t> JsonObject::integer(const char* key, FieldErrors& errors,
                                           bool required) const {
  simdjson::dom::element v;
  if (field(*node_, key).get(v) != simdjson::SUCCESS) {
    if (required) errors.add(key, "This field is required.");
    return std::nullopt;
  }
  int64_t i = 0;
  if (v.get_int64().get(i) == simdjson::SUCCESS) return i;
  std::string_view s;
  if (v.get_string().get(s) == simdjson::SUCCESS) {
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), i);
    if (ec == std::errc{} && ptr == s.data() + s.size() && !s.empty()) return i;
  }
  errors.add(key, "A valid integer is required.");
  return std::nullopt;
}

}  // namespace marketlink::http

namespace marketlink::http {

std::optional<std::string> JsonObject::decimal_text(const char* key, FieldErrors& errors,
                                                    bool required) const {
  simdjson::dom::element v;
  if (field(*node_, key).get(v) != simdjson::SUCCESS) {
    if (required) errors.add(key, "This field is required.");
    return std::nullopt;
  }
  if (v.is_null()) {
    errors.add(key, "This field may not be null.");
    return std::nullopt;
  }
  if (v.is_string()) return trim(v.get_string().value_unsafe());
  if (!v.is_number()) {
    errors.add(key, "A valid number is required.");
    return std::nullopt;
  }
  // The DOM stores numbers as doubles; the literal itself comes from the one on-demand pass.
  if (!impl_->numbers) {
    impl_->numbers.emplace();
    simdjson::ondemand::parser od;
    simdjson::ondemand::document doc;
    simdjson::ondemand::value root;
    if (od.iterate(impl_->text).get(doc) == simdjson::SUCCESS &&
        doc.get_value().get(root) == simdjson::SUCCESS) {
      collect_numbers(root, "", *impl_->numbers);
    }
  }
  const auto found = impl_->numbers->find(node_->pointer + "/" + pointer_token(key));
  if (found == impl_->numbers->end()) {
    errors.add(key, "A valid number is required.");
    return std::nullopt;
  }
  return trim(found->second);
}

std::vector<JsonItem> JsonObject::objects(const char* key, ListProblem& problem) const {
  std::vector<JsonItem> out;
  simdjson::dom::element v;
  if (field(*node_, key).get(v) != simdjson::SUCCESS) {
    problem = ListProblem::missing;
    return out;
  }
  if (v.is_null()) {
    problem = ListProblem::null;
    return out;
  }
  simdjson::dom::array array;
  if (v.get_array().get(array) != simdjson::SUCCESS) {
    problem = ListProblem::not_a_list;
    return out;
  }
  problem = ListProblem::none;
  out.reserve(array.size());
  const auto base = node_->pointer + "/" + pointer_token(key) + "/";
  std::size_t i = 0;
  for (auto element : array) {
    auto pointer = base + std::to_string(i++);
    simdjson::dom::object object;
    if (element.get_object().get(object) == simdjson::SUCCESS) {
      out.push_back(
          {JsonObject(impl_, std::make_shared<Node>(Node{object, std::move(pointer)})), "dict"});
    } else {
      out.push_back({std::nullopt, drf_type_name(element)});
    }
  }
  return out;
}

std::string JsonObject::type_name(const char* key) const {
  simdjson::dom::element v;
  if (field(*node_, key).get(v) != simdjson::SUCCESS) return "NoneType";
  return drf_type_name(v);
}

}  // namespace marketlink::http
