// The HTTP edge: envelope for routing errors, limits, request ids, keep-alive, shutdown.
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "tests/support/test_server.hpp"

using namespace marketlink;
using namespace marketlink::testing;

namespace {
class HttpEdge : public ::testing::Test {
 protected:
  TestServer& server = TestServer::shared();
  HttpClient c = server.client();
};

}  // namespace

TEST_F(HttpEdge, UnknownRouteIsJson404) {
  auto r = c.get("/api/v1/nope/");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.json().as_object()["detail"].as_string(), "Not found.");
  EXPECT_EQ(r.header("content-type"), "application/json");
}

TEST_F(HttpEdge, WrongMethodIs405WithAllow) {
  auto r = c.del("/api/v1/auth/login/");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.json().as_object()["detail"].as_string(), "Method \"DELETE\" not allowed.");
  EXPECT_EQ(r.header("allow"), "POST");
  auto profile = c.del("/api/v1/auth/profile/");
  EXPECT_EQ(profile.header("allow"), "GET, PATCH, PUT");
}

// A query that cannot be decoded (bad percent-encoding, bytes that are not UTF-8, NUL) is a 400
// with the JSON envelope at the edge; it used to reach PostgreSQL (500) or break the next-page
// link (500).
TEST_F(HttpEdge, MalformedQueryStringsAre400) {
  for (const char* target :
       {"/api/v1/services/?search=%FF", "/api/v1/services/?search=%", "/api/v1/services/?page=%ZZ",
        "/api/v1/services/?search=a%00b", "/api/v1/services/variants/?page=2&%C3%28=x"}) {
    auto r = c.get(target);
    EXPECT_EQ(r.status, 400) << target << " " << r.body;
    EXPECT_EQ(r.json().as_object()["detail"].as_string(), "Malformed query string.") << target;
  }
  auto fine = c.get("/api/v1/services/?search=%E0%A6%97%E0%A6%BE%E0%A6%A1%E0%A6%BC%E0%A6%BF");
  EXPECT_EQ(fine.status, 200) << "UTF-8 (Bangla) is a query like any other";
}

// Made-up HTTP methods are 405 and never become series of their own in /metrics.
TEST_F(HttpEdge, MadeUpMethodsAddNoMetricSeries) {
  for (const char* method : {"FROBNICATE", "XYZZY", "PLUGH"}) {
    EXPECT_EQ(c.request(method, "/api/v1/services/", "", {}).status, 405) << method;
  }
  auto metrics = c.get("/metrics");
  ASSERT_EQ(metrics.status, 200);
  for (const char* method : {"FROBNICATE", "XYZZY", "PLUGH"}) {
    EXPECT_EQ(metrics.body.find(method), std::string::npos) << method;
  }
  EXPECT_NE(metrics.body.find("method=\"other\""), std::string::npos);
}

TEST_F(HttpEdge, TrailingSlashIsOptional) {
  EXPECT_EQ(c.get("/healthz").status, 200);
  EXPECT_EQ(c.get("/healthz/").status, 200);
  EXPECT_EQ(c.get("/api/v1/auth/profile").status, 401);
}

TEST_F(HttpEdge, RequestIdIsEchoedOrGenerated) {
  auto echoed = c.request("GET", "/healthz", "", {{"X-Request-Id", "abc-123.def"}});
  EXPECT_EQ(echoed.header("x-request-id"), "abc-123.def");
  auto generated = c.get("/healthz");
  EXPECT_EQ(generated.header("x-request-id").size(), 24u);
  auto unsafe = c.request("GET", "/healthz", "", {{"X-Request-Id", "bad id with spaces"}});
  EXPECT_NE(unsafe.header("x-request-id"), "bad id with spaces");
  auto error = c.get("/api/v1/nope/");
  EXPECT_FALSE(error.header("x-request-id").empty());
}

TEST_F(HttpEdge, KeepAliveServesManyRequestsOnOneConnection) {
  for (int i = 0; i < 20; ++i) ASSERT_EQ(c.get("/healthz").status, 200);
  EXPECT_GE(server.http().open_connections(), 1u);
}

TEST_F(HttpEdge, MalformedHttpIs400AndClosed) {
  auto out = c.raw("THIS IS NOT HTTP\r\n\r\n");
  EXPECT_NE(out.find("400"), std::string::npos) << out;
  EXPECT_NE(out.find("\"detail\""), std::string::npos) << out;
}

TEST_F(HttpEdge, HealthzAndReadyz) {
  EXPECT_EQ(c.get("/healthz").json().as_object()["status"].as_string(), "ok");
  auto ready = c.get("/readyz");
  EXPECT_EQ(ready.status, 200) << ready.body;
}

TEST(HttpLimits, BodyOverTheLimitIs413) {
  TestServer small(Overrides{{"MAX_BODY_BYTES", "2048"}});
  auto c = small.client();
  auto r = c.post("/api/v1/auth/login/", "{\"email\":\"" + std::string(4096, 'a') + "\"}");
  EXPECT_EQ(r.status, 413);
  EXPECT_TRUE(r.json().as_object().contains("detail"));
  HttpClient again = small.client();
  EXPECT_EQ(again.get("/healthz").status, 200) << "the server keeps serving";
}

TEST(HttpLimits, SlowHandlerGets504AtTheRequestTimeout) {
  TestServer s(Overrides{{"HTTP_REQUEST_TIMEOUT", "1"}, {"DB_POOL_SIZE", "1"}});
  std::promise<void> release;
  auto released = release.get_future().share();
  s.runtime().submit(
      actors::PoolKind::db, [released](actors::Resources&) { released.wait(); }, [](Error) {});
  auto c = s.client();
  auto r = c.get("/api/v1/services/");  // waits for the only (occupied) database worker
  EXPECT_EQ(r.status, 504);
  release.set_value();
}

TEST(HttpShutdown, InFlightRequestsFinishAndNewConnectionsAreRefused) {
  TestServer s(Overrides{{"DB_POOL_SIZE", "1"}});
  // Occupy the only database worker so a catalog read stays in flight.
  std::promise<void> release, occupied;
  auto released = release.get_future().share();
  s.runtime().submit(
      actors::PoolKind::db,
      [released, &occupied](actors::Resources&) {
        occupied.set_value();
        released.wait();
      },
      [](Error) {});
  occupied.get_future().wait();
  auto pool_stats = [&s] {
    for (auto& e : s.runtime().registry().snapshot()) {
      if (e.name == "db_pool") return e.handled;
    }
    return uint64_t{0};
  };
  const auto before = pool_stats();
  auto in_flight =
      std::async(std::launch::async, [&s] { return s.client().get("/api/v1/services/"); });
  // The request's connection is open and it reached the pool (other actors use the pool too,
  // e.g. the outbox worker's poll, so the pool figure alone does not prove it).
  ASSERT_TRUE(eventually([&] { return s.http().open_connections() >= 1 && pool_stats() > before; }))
      << "the request reached the pool";
  auto stopping = std::async(std::launch::async, [&s] { s.http().stop(); });
  // While draining, no new connection is served.
  ASSERT_TRUE(eventually([&] {
    try {
      HttpClient probe(s.port());
      probe.get("/healthz");
      return false;
    } catch (const std::exception&) {
      return true;
    }
  }));
  release.set_value();
  auto r = in_flight.get();
  EXPECT_EQ(r.status, 200) << r.body;
  stopping.get();
  EXPECT_EQ(s.http().open_connections(), 0u);
}
