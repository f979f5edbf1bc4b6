// JSON body reading and the error envelope.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "http/error_mapping.hpp"
#include "http/input/json_input.hpp"

using namespace marketlink;
using marketlink::http::JsonObject;

namespace {
boost::json::object body_of(const http::Response& r) {
  return boost::json::parse(r.body).as_object();
}

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

TEST(ErrorMapping, StatusCodesForEveryKind) {
  EXPECT_EQ(http::status_of(ErrorCode::invalid_input), 400);
  EXPECT_EQ(http::status_of(ErrorCode::token_invalid), 401);
  EXPECT_EQ(http::status_of(ErrorCode::forbidden), 403);
  EXPECT_EQ(http::status_of(ErrorCode::not_found), 404);
  EXPECT_EQ(http::status_of(ErrorCode::conflict), 409);
  EXPECT_EQ(http::status_of(ErrorCode::payload_too_large), 413);
  EXPECT_EQ(http::status_of(ErrorCode::unprocessable), 422);
  EXPECT_EQ(http::status_of(ErrorCode::too_many_requests), 429);
  EXPECT_EQ(http::status_of(ErrorCode::bad_gateway), 502);
  EXPECT_EQ(http::status_of(ErrorCode::unavailable), 503);
  EXPECT_EQ(http::status_of(ErrorCode::timeout), 504);
}

TEST(ErrorMapping, BodiesUseTheDocumentedEnvelope) {
  auto fields = http::error_response(Error::field("email", "Enter a valid email address."), "rid");
  EXPECT_EQ(fields.status, 400);
  EXPECT_EQ(body_of(fields)["email"].as_array()[0].as_string(), "Enter a valid email address.");

  Error token = Error::make(ErrorCode::token_invalid, "Given token not valid for any token type");
  token.body_code = "token_not_valid";
  auto t = http::error_response(token, "rid");
  EXPECT_EQ(t.status, 401);
  EXPECT_EQ(body_of(t)["code"].as_string(), "token_not_valid");
  bool has_www = false;
  for (auto& [k, v] : t.headers)
    has_www = has_www || (k == "WWW-Authenticate" && v == "Bearer realm=\"api\"");
  EXPECT_TRUE(has_www);

  Error custom = Error::make(ErrorCode::forbidden, "Unauthorized access to this order.");
  custom.key = "error";
  EXPECT_EQ(body_of(http::error_response(custom, "rid"))["error"].as_string(),
            "Unauthorized access to this order.");
}

TEST(ErrorMapping, InternalErrorsHideTheirCauseAndCarryTheRequestId) {
  auto r = http::error_response(Error::internal("pqxx: relation users does not exist"), "req-42");
  EXPECT_EQ(r.status, 500);
  auto b = body_of(r);
  EXPECT_EQ(b["detail"].as_string(), "Internal server error");
  EXPECT_EQ(b["request_id"].as_string(), "req-42");
  EXPECT_EQ(r.body.find("pqxx"), std::string::npos);
  auto u = http::error_response(Error::unavailable(), "x");
  EXPECT_EQ(u.status, 503);
  EXPECT_EQ(body_of(u)["detail"].as_string(), "Service temporarily unavailable");
}

TEST(ErrorMapping, RetryAfterHeaderIsSet) {
  Error e = Error::make(ErrorCode::too_many_requests, "slow down");
  e.retry_after = std::chrono::seconds(42);
  auto r = http::error_response(e, "x");
  bool found = false;
  for (auto& [k, v] : r.headers) found = found || (k == "Retry-After" && v == "42");
  EXPECT_TRUE(found);
}
