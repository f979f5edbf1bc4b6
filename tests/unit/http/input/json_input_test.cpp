// JSON body reading.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "http/input/json_input.hpp"

using namespace marketlink;
using marketlink::http::JsonObject;

namespace {
http::Request json_request(std::string body, std::string type = "application/json") {
  http::Request r;
  r.body = std::move(body);
  r.headers.emplace_back("content-type", std::move(type));
  return r;
}
}  // namespace

TEST(JsonInput, MalformedJsonIsA400WithParseErrorDetail) {
  for (const std::string bad : {"{", "{\"a\":}", "nope", "{\"a\":1}}", "[1,]", "\"\\x\""}) {
    auto r = JsonObject::parse(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::invalid_input);
    EXPECT_EQ(r.error().message.rfind("JSON parse error - ", 0), 0u) << r.error().message;
  }
}

TEST(JsonInput, NonObjectRootIsANonFieldError) {
  auto r = JsonObject::parse("[1,2]");
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(r.error().fields.size(), 1u);
  EXPECT_EQ(r.error().fields[0].field, "non_field_errors");
  EXPECT_EQ(r.error().fields[0].messages[0], "Invalid data. Expected a dictionary, but got list.");
}

TEST(JsonInput, EmptyBodyReadsAsEmptyObjectAndOtherMediaTypesAre415) {
  auto empty = JsonObject::parse_request(json_request("", ""));
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(empty->has("x"));
  auto text = JsonObject::parse_request(json_request("a=b", "application/x-www-form-urlencoded"));
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.error().code, ErrorCode::unsupported_media_type);
  EXPECT_TRUE(
      JsonObject::parse_request(json_request("{}", "application/json; charset=utf-8")).ok());
}

TEST(JsonInput, StringRulesFollowDrf) {
  auto o = JsonObject::parse(
               R"({"s":"  hi  ","n":12,"b":true,"z":null,"e":"","long":"ééé","nul":"a\u0000b"})")
               .value();
  FieldErrors errors;
  EXPECT_EQ(o.string("s", errors).value(), "hi");
  EXPECT_EQ(o.string("s", errors, {.trim = false}).value(), "  hi  ");
  EXPECT_EQ(o.string("n", errors).value(), "12");
  EXPECT_FALSE(o.string("b", errors).has_value());
  EXPECT_FALSE(o.string("z", errors).has_value());
  EXPECT_FALSE(o.string("e", errors).has_value());
  EXPECT_EQ(o.string("e", errors, {.allow_blank = true}).value(), "");
  EXPECT_FALSE(o.string("long", errors, {.max_chars = 2}).has_value());
  EXPECT_EQ(o.string("long", errors, {.max_chars = 3}).value(), "ééé");
  EXPECT_FALSE(o.string("missing", errors, {.required = true}).has_value());
  EXPECT_FALSE(o.string("nul", errors).has_value());
  auto error = std::move(errors).to_error();
  std::map<std::string, std::string> first;
  for (const auto& f : error.fields) first[f.field] = f.messages[0];
  EXPECT_EQ(first["b"], "Not a valid string.");
  EXPECT_EQ(first["z"], "This field may not be null.");
  EXPECT_EQ(first["e"], "This field may not be blank.");
  EXPECT_EQ(first["long"], "Ensure this field has no more than 2 characters.");
  EXPECT_EQ(first["missing"], "This field is required.");
  EXPECT_EQ(first["nul"], "Null characters are not allowed.");
}

// Number literals are read exactly (never through a double), in nested objects of arrays too,
// and the first of duplicate keys is the one read, by every accessor alike.
TEST(JsonInput, DecimalLiteralsOfArrayElementsAreExactAndTheFirstDuplicateWins) {
  auto o = JsonObject::parse(
      R"({"variants":[{"price":1500.50},{"price":"20.10"},{"price":0.1,"price":99}],)"
      R"("p\u0072ice":7.25,"price":8})");
  ASSERT_TRUE(o);
  marketlink::FieldErrors errors;
  JsonObject::ListProblem problem{};
  auto items = o->objects("variants", problem);
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0].object->decimal_text("price", errors), "1500.50");
  EXPECT_EQ(items[1].object->decimal_text("price", errors), "20.10");
  EXPECT_EQ(items[2].object->decimal_text("price", errors), "0.1");
  EXPECT_EQ(o->decimal_text("price", errors), "7.25") << "the escaped key is the first 'price'";
  EXPECT_TRUE(errors.empty());
}
