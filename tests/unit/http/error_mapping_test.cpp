// The error envelope: status from the code, body shape from the code and the reason.
#include "http/error_mapping.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "persistence/database.hpp"

using namespace marketlink;

namespace {
boost::json::object body_of(const http::Response& r) {
  return boost::json::parse(r.body).as_object();
}
}  // namespace

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

  Error token = Error::make(ErrorCode::token_invalid, "Given token not valid for any token type",
                            Reason::token_not_valid);
  auto t = http::error_response(token, "rid");
  EXPECT_EQ(t.status, 401);
  EXPECT_EQ(body_of(t)["code"].as_string(), "token_not_valid");
  bool has_www = false;
  for (auto& [k, v] : t.headers)
    has_www = has_www || (k == "WWW-Authenticate" && v == "Bearer realm=\"api\"");
  EXPECT_TRUE(has_www);

  Error custom = Error::make(ErrorCode::forbidden, "Unauthorized access to this order.",
                             Reason::not_your_order);
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

TEST(ErrorMapping, ReasonsChooseTheKeyAndTheMachineCodeNotTheWording) {
  // The same wording under two reasons: only the reason decides the shape.
  auto plain = body_of(http::error_response(Error::make(ErrorCode::invalid_input, "x"), "r"));
  EXPECT_EQ(plain["detail"].as_string(), "x");
  EXPECT_FALSE(plain.contains("error"));
  for (auto reason :
       {Reason::amount_mismatch, Reason::payment_not_valid, Reason::invalid_signature,
        Reason::transaction_mismatch, Reason::notification_rejected, Reason::cannot_complete}) {
    auto b = body_of(http::error_response(Error::make(ErrorCode::invalid_input, "x", reason), "r"));
    EXPECT_EQ(b["error"].as_string(), "x");
    EXPECT_FALSE(b.contains("detail"));
  }
  auto code = [](Reason reason) {
    auto b = body_of(http::error_response(Error::make(ErrorCode::token_invalid, "m", reason), "r"));
    return std::string(b["code"].as_string());
  };
  EXPECT_EQ(code(Reason::none), "token_not_valid");
  EXPECT_EQ(code(Reason::user_not_found), "user_not_found");
  EXPECT_EQ(code(Reason::user_inactive), "user_inactive");
  EXPECT_EQ(code(Reason::bad_authorization_header), "bad_authorization_header");
  auto forbidden = body_of(
      http::error_response(Error::make(ErrorCode::forbidden, "m", Reason::inactive_vendor), "r"));
  EXPECT_FALSE(forbidden.contains("code"));
}

TEST(ErrorMapping, ListFieldsCarryOneErrorMapPerItem) {
  Error e = Error::field("name", "This field is required.");
  e.fields.push_back({"variants", {}, {{}, {{"price", {"A valid number is required."}, {}}}, {}}});
  auto r = http::error_response(e, "r");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"({"name":["This field is required."],"variants":[{},)"
                    R"({"price":["A valid number is required."]},{}]})");
}

TEST(ErrorMapping, DatabaseRulesBecomeReasonsInOnePlace) {
  EXPECT_EQ(persistence::rule_reason("ML002"), Reason::inactive_vendor);
  EXPECT_EQ(persistence::rule_reason("ML003"), Reason::variant_moved);
  EXPECT_EQ(persistence::rule_reason("ML004"), Reason::illegal_transition);
  EXPECT_EQ(persistence::rule_reason("ML999"), Reason::other_rule);
}
