// Route matching.
#include <gtest/gtest.h>

#include "http/server/router.hpp"

using marketlink::http::Router;

namespace {
Router make_router() {
  Router r;
  auto noop = [](marketlink::http::RequestPtr, marketlink::http::Responder) {};
  r.add("GET", "/api/v1/services/", noop);
  r.add("POST", "/api/v1/services/", noop);
  r.add("GET", "/api/v1/services/{id}/", noop);
  r.add("DELETE", "/api/v1/services/{id}/", noop);
  r.add("GET", "/api/v1/services/variants/", noop);
  r.add("POST", "/api/v1/services/variants/", noop);
  r.add("POST", "/api/v1/orders/mark-completed/{id}/", noop);
  r.add("GET", "/healthz", noop);
  return r;
}
}  // namespace

TEST(Router, MatchesWithAndWithoutTrailingSlash) {
  auto r = make_router();
  EXPECT_NE(r.match("GET", "/api/v1/services/").handler, nullptr);
  EXPECT_NE(r.match("GET", "/api/v1/services").handler, nullptr);
  EXPECT_NE(r.match("GET", "/healthz/").handler, nullptr);
}

TEST(Router, ExtractsPathParameters) {
  auto r = make_router();
  auto m = r.match("POST", "/api/v1/orders/mark-completed/abc-123/");
  ASSERT_NE(m.handler, nullptr);
  ASSERT_EQ(m.params.size(), 1u);
  EXPECT_EQ(m.params[0].first, "id");
  EXPECT_EQ(m.params[0].second, "abc-123");
}

TEST(Router, LiteralSegmentBeatsParameter) {
  auto r = make_router();
  auto m = r.match("GET", "/api/v1/services/variants/");
  ASSERT_NE(m.handler, nullptr);
  EXPECT_TRUE(m.params.empty());
}

TEST(Router, KnownPathWithOtherMethodGivesAllowList) {
  auto r = make_router();
  auto m = r.match("PUT", "/api/v1/services/");
  EXPECT_EQ(m.handler, nullptr);
  EXPECT_TRUE(m.path_exists);
  EXPECT_EQ(m.allow, "GET, POST");
  // DELETE exists for {id}/ but "variants" is the more specific route, which has no DELETE.
  auto v = r.match("DELETE", "/api/v1/services/variants/");
  EXPECT_EQ(v.handler, nullptr);
  EXPECT_EQ(v.allow, "GET, POST");
}

TEST(Router, UnknownPathsAndEmptySegmentsDoNotMatch) {
  auto r = make_router();
  EXPECT_FALSE(r.match("GET", "/api/v1/nothing/").path_exists);
  EXPECT_FALSE(r.match("GET", "/api/v1//services/").path_exists);
  EXPECT_FALSE(r.match("GET", "/api/v1/services/a/b/").path_exists);
}
