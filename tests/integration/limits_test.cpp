// Abuse limits (issue 13): orders per address and unpaid orders per customer, logins per address,
// the login lock under a parallel burst and under other spellings of the email, a full hashing
// pool, connections per address, the Host header. Limits are per client address; each test
// comes from its own address through X-Forwarded-For and a trusted proxy (127.0.0.1), so test
// processes sharing Redis never share a counter.
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <future>
#include <random>

#include "tests/support/fault_proxy.hpp"
#include "tests/support/test_server.hpp"

using namespace marketlink::testing;

namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

// A client address of its own for this test (documentation range 198.18.0.0/15 is free to use).
std::string fresh_address() {
  static std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> octet(1, 254);
  return "198.18." + std::to_string(octet(rng)) + "." + std::to_string(octet(rng));
}

Overrides behind_proxy(Overrides o) {
  o["TRUSTED_PROXIES"] = "127.0.0.1/32";
  return o;
}

HttpResult order_from(TestServer& s, const TestUser& customer, int64_t variant,
                      const std::string& address) {
  return post_order(s, customer, variant, {{"X-Forwarded-For", address}});
}

HttpResult login_from(TestServer& s, const std::string& email, const std::string& password,
                      const std::string& address) {
  return s.client().request("POST", "/api/v1/auth/login/",
                            R"({"email":")" + email + R"(","password":")" + password + R"("})",
                            {{"Content-Type", "application/json"}, {"X-Forwarded-For", address}});
}

std::string detail(const HttpResult& r) {
  const auto json = r.json();
  const auto* d = json.as_object().if_contains("detail");
  return d == nullptr || !d->is_string() ? "" : std::string(d->as_string());
}

int pending_of(const TestUser& customer) {
  pqxx::work w(test_db().connection());
  auto n = w.exec_params1(
                "SELECT count(*) FROM orders WHERE customer_id = $1 AND "
                "status = 'pending'",
                customer.id)[0]
               .as<int>();
  w.commit();
  return n;
}

void expect_throttled(const HttpResult& r, const std::string& says) {
  EXPECT_EQ(r.status, 429) << r.body;
  EXPECT_FALSE(r.header("retry-after").empty());
  EXPECT_GE(std::stoi(r.header("retry-after").empty() ? "0" : r.header("retry-after")), 1);
  EXPECT_NE(detail(r).find(says), std::string::npos) << r.body;
}

}  // namespace

TEST(Limits, OrdersPerAddressAre429AfterTheRateAndOtherAddressesGoOn) {
  TestServer s(behind_proxy({{"ORDER_RATE_PER_MINUTE", "3"}}));
  auto v = make_variant(s, 50);
  auto customer = s.register_user("customer");
  const auto address = fresh_address();
  for (int i = 0; i < 3; ++i) ASSERT_EQ(order_from(s, customer, v.id, address).status, 201);
  auto fourth = order_from(s, customer, v.id, address);
  expect_throttled(fourth, "Too many orders from this address");
  EXPECT_LE(std::stoi(fourth.header("retry-after")), 60);
  EXPECT_EQ(pending_of(customer), 3) << "a refused order holds nothing";
  EXPECT_EQ(order_from(s, customer, v.id, fresh_address()).status, 201);
  // X-Forwarded-For names the client only when the peer is a trusted proxy.
  TestServer direct(Overrides{{"ORDER_RATE_PER_MINUTE", "1000"}});
  EXPECT_EQ(post_order(direct, customer, v.id, {{"X-Forwarded-For", address}}).status, 201);
}

TEST(Limits, UnpaidOrdersPerCustomerAreCappedAndACancelFreesOne) {
  TestServer s(Overrides{{"ORDER_PENDING_PER_CUSTOMER", "3"}});
  auto v = make_variant(s, 50);
  auto customer = s.register_user("customer");
  std::string first;
  for (int i = 0; i < 3; ++i) {
    auto r = post_order(s, customer, v.id);
    ASSERT_EQ(r.status, 201) << r.body;
    if (first.empty()) first = std::string(r.json().as_object()["order_id"].as_string());
  }
  expect_throttled(post_order(s, customer, v.id), "3 unpaid orders");
  EXPECT_EQ(db_stock(v.id), 47) << "the refused order reserved nothing";
  EXPECT_EQ(post_order(s, s.register_user("customer"), v.id).status, 201)
      << "another customer is not limited by this one";
  auto cancel = s.client().post("/api/v1/orders/" + first + "/cancel/", "{}", customer.access);
  ASSERT_EQ(cancel.status, 200) << cancel.body;
  EXPECT_EQ(post_order(s, customer, v.id).status, 201);
  EXPECT_EQ(pending_of(customer), 3);
}

// Orders placed at once see each other (the placing counter is taken before PostgreSQL is
// asked): never more than the limit, whatever the interleaving.
TEST(Limits, APendingBurstNeverExceedsTheLimit) {
  TestServer s(Overrides{{"ORDER_PENDING_PER_CUSTOMER", "4"}});
  auto v = make_variant(s, 100);
  auto customer = s.register_user("customer");
  std::vector<std::future<int>> burst;
  for (int i = 0; i < 24; ++i) {
    burst.push_back(
        std::async(std::launch::async, [&] { return post_order(s, customer, v.id).status; }));
  }
  int created = 0;
  for (auto& f : burst) {
    const int status = f.get();
    EXPECT_TRUE(status == 201 || status == 429) << status;
    created += status == 201 ? 1 : 0;
  }
  EXPECT_GE(created, 1);
  EXPECT_LE(created, 4);
  EXPECT_EQ(pending_of(customer), created);
  EXPECT_EQ(db_stock(v.id), 100 - created);
}

// A retry with the same Idempotency-Key after a 429 is a new attempt, not a replay of the 429.
TEST(Limits, AThrottledIdempotentOrderIsNotStoredUnderItsKey) {
  TestServer s(Overrides{{"ORDER_PENDING_PER_CUSTOMER", "1"}});
  auto v = make_variant(s, 10);
  auto customer = s.register_user("customer");
  auto held = post_order(s, customer, v.id);
  ASSERT_EQ(held.status, 201);
  const Headers key{{"Idempotency-Key", "limits-" + unique_suffix()}};
  ASSERT_EQ(post_order(s, customer, v.id, key).status, 429);
  const auto id = std::string(held.json().as_object()["order_id"].as_string());
  ASSERT_EQ(s.client().post("/api/v1/orders/" + id + "/cancel/", "{}", customer.access).status,
            200);
  auto retried = post_order(s, customer, v.id, key);
  EXPECT_EQ(retried.status, 201) << retried.body;
  EXPECT_TRUE(retried.header("idempotent-replayed").empty());
}

TEST(Limits, LoginsPerAddressAre429AfterTheRate) {
  TestServer s(behind_proxy({{"LOGIN_RATE_PER_MINUTE", "4"}}));
  auto u = s.register_user("customer");
  const auto address = fresh_address();
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(login_from(s, unique_email("nobody"), "Wrong-Pass-1", address).status, 401);
  }
  expect_throttled(login_from(s, u.email, u.password, address), "from this address");
  EXPECT_EQ(login_from(s, u.email, u.password, fresh_address()).status, 200);
}

// 40 wrong passwords at once: exactly LOGIN_MAX_FAILURES are checked, the rest are 429 without a
// hash, and the account is then locked even for its right password.
TEST(Limits, AParallelGuessingBurstGetsExactlyTheAllowedAttempts) {
  TestServer s;
  auto u = s.register_user("customer");
  std::vector<std::future<int>> burst;
  for (int i = 0; i < 40; ++i) {
    burst.push_back(std::async(std::launch::async, [&, i] {
      return login_from(s, u.email, "Guess-" + std::to_string(i), fresh_address()).status;
    }));
  }
  int checked = 0, locked = 0;
  for (auto& f : burst) {
    const int status = f.get();
    checked += status == 401 ? 1 : 0;
    locked += status == 429 ? 1 : 0;
  }
  EXPECT_EQ(checked, s.config().login_max_failures);
  EXPECT_EQ(locked, 40 - s.config().login_max_failures);
  expect_throttled(login_from(s, u.email, u.password, fresh_address()),
                   "Too many failed login attempts");
}

// One canonical email for the lock and the lookup: spellings that a locale's lower() folds
// onto the address (U+0130 'İ', U+212A Kelvin sign) are other addresses, never the account.
TEST(Limits, UnicodeSpellingsOfALockedEmailNeitherLogInNorGetAFreshCounter) {
  TestServer s;
  const auto suffix = unique_suffix();
  auto u = s.register_user("customer");
  // An address with an 'i' and a 'k' in it, registered in ASCII.
  const std::string local = "kiki" + suffix;
  const std::string email = local + "@example.com";
  auto reg = s.client().post("/api/v1/auth/register/",
                             R"({"email":")" + email + R"(","password":")" + u.password +
                                 R"(","password2":")" + u.password + R"(","role":"customer"})");
  ASSERT_EQ(reg.status, 201) << reg.body;
  const std::string dotted_i = "k\xC4\xB0ki" + suffix + "@example.com";  // kİki…
  const std::string kelvin =
      "\xE2\x84\xAA"
      "iki" +
      suffix + "@example.com";  // Kiki…
  const std::string upper = "KIKI" + suffix + "@EXAMPLE.com";
  // Unlocked: the right password under the Unicode spellings is no login; ASCII case is.
  EXPECT_EQ(login_from(s, dotted_i, u.password, fresh_address()).status, 401);
  EXPECT_EQ(login_from(s, kelvin, u.password, fresh_address()).status, 401);
  EXPECT_EQ(login_from(s, upper, u.password, fresh_address()).status, 200);
  for (int i = 0; i < s.config().login_max_failures; ++i) {
    ASSERT_EQ(login_from(s, email, "Wrong-Pass-1", fresh_address()).status, 401);
  }
  for (const auto& spelling : {email, upper}) {
    EXPECT_EQ(login_from(s, spelling, u.password, fresh_address()).status, 429) << spelling;
  }
  for (const auto& spelling : {dotted_i, kelvin}) {
    EXPECT_NE(login_from(s, spelling, u.password, fresh_address()).status, 200) << spelling;
  }
}

// Redis down: the limits hold in this process instead of opening (or failing every login).
TEST(Limits, WithRedisDownTheLimitsHoldInTheProcess) {
  const auto base = test_config();
  FaultProxy proxy(base.redis_host, base.redis_port);
  TestServer s(behind_proxy({{"REDIS_PORT", std::to_string(proxy.port())},
                             {"LOGIN_RATE_PER_MINUTE", "3"},
                             {"HEALTH_INTERVAL_MS", "100"}}));
  proxy.set_mode(FaultProxy::Mode::reset);
  const auto address = fresh_address();
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(login_from(s, unique_email("nobody"), "Wrong-Pass-1", address).status, 401);
  }
  expect_throttled(login_from(s, unique_email("nobody"), "Wrong-Pass-1", address),
                   "from this address");
  proxy.set_mode(FaultProxy::Mode::pass);
}

// The hashing pool's queue is bounded: logins beyond it are 503 at once, not queued.
TEST(Limits, AFullHashingPoolAnswers503) {
  TestServer s(Overrides{{"HASH_POOL_SIZE", "1"},
                         {"HASH_QUEUE_LIMIT", "1"},
                         {"ARGON2_MEMORY_KIB", "32768"},
                         {"ARGON2_ITERATIONS", "6"}});
  std::vector<std::future<HttpResult>> burst;
  for (int i = 0; i < 12; ++i) {
    burst.push_back(std::async(std::launch::async, [&] {
      return login_from(s, unique_email("nobody"), "Wrong-Pass-1", fresh_address());
    }));
  }
  int refused = 0;
  for (auto& f : burst) {
    auto r = f.get();
    EXPECT_TRUE(r.status == 401 || r.status == 503) << r.status << " " << r.body;
    if (r.status == 503) {
      ++refused;
      EXPECT_FALSE(r.header("retry-after").empty());
    }
  }
  EXPECT_GE(refused, 1);
}

namespace {
namespace net = boost::asio;
using tcp = net::ip::tcp;

// A connection that sends nothing yet (the server holds it under its header deadline).
std::unique_ptr<tcp::socket> idle_connection(net::io_context& ioc, uint16_t port) {
  auto sock = std::make_unique<tcp::socket>(ioc);
  sock->connect({net::ip::make_address("127.0.0.1"), port});
  return sock;
}

// Whether the server answers a request on `sock` (false: it closed the connection).
bool answers(tcp::socket& sock) {
  const std::string req = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  boost::system::error_code ec;
  net::write(sock, net::buffer(req), ec);
  if (ec) return false;
  std::array<char, 256> buf{};
  const auto n = sock.read_some(net::buffer(buf), ec);
  return !ec && std::string(buf.data(), n).rfind("HTTP/1.1 200", 0) == 0;
}
}  // namespace

TEST(Limits, ConnectionsPerAddressAreCapped) {
  TestServer s(Overrides{{"MAX_CONNECTIONS_PER_ADDRESS", "3"}});
  net::io_context ioc;
  std::vector<std::unique_ptr<tcp::socket>> held;
  for (int i = 0; i < 3; ++i) held.push_back(idle_connection(ioc, s.port()));
  ASSERT_TRUE(eventually([&] { return s.http().open_connections() == 3; }));
  auto fourth = idle_connection(ioc, s.port());
  EXPECT_FALSE(answers(*fourth)) << "the fourth connection is closed";
  for (auto& sock : held) EXPECT_TRUE(answers(*sock));
  held.front()->close();
  EXPECT_TRUE(eventually([&] {
    auto again = idle_connection(ioc, s.port());
    return answers(*again);
  }));
}

TEST(Limits, HostHeaderMustBeAllowed) {
  TestServer s;
  auto c = s.client();
  auto evil = c.request("GET", "/api/v1/services/", "", {{"Host", "evil.example"}});
  EXPECT_EQ(evil.status, 400);
  EXPECT_EQ(detail(evil), "Invalid Host header.");
  EXPECT_EQ(c.request("GET", "/healthz", "", {{"Host", "localhost:8000"}}).status, 200);
  TestServer any(Overrides{{"ALLOWED_HOSTS", "*"}});
  EXPECT_EQ(any.client().request("GET", "/healthz", "", {{"Host", "evil.example"}}).status, 200);
  TestServer domain(Overrides{{"ALLOWED_HOSTS", ".marketlink.example"}});
  auto dc = domain.client();
  EXPECT_EQ(dc.request("GET", "/healthz", "", {{"Host", "api.marketlink.example"}}).status, 200);
  EXPECT_EQ(dc.request("GET", "/healthz", "", {{"Host", "marketlink.example.evil"}}).status, 400);
}

TEST(Limits, ResponsesSayNoSniff) {
  auto r = TestServer::shared().client().get("/healthz");
  EXPECT_EQ(r.header("x-content-type-options"), "nosniff");
}

// A service is created with at most 100 variants; the body is refused before any is read.
TEST(Limits, AServiceHasAtMostAHundredVariants) {
  auto& s = TestServer::shared();
  auto vendor = s.register_user("vendor");
  set_vendor_active(vendor, true);
  auto body = [](int n) {
    std::string b = R"({"name":"Tyres","description":"All of them","variants":[)";
    for (int i = 0; i < n; ++i) {
      b += (i > 0 ? "," : "") + std::string(R"({"name":"v)") + std::to_string(i) +
           R"(","price":100,"estimated_minutes":10,"stock":1})";
    }
    return b + "]}";
  };
  auto too_many = s.client().post("/api/v1/services/", body(101), vendor.access);
  EXPECT_EQ(too_many.status, 400) << too_many.body;
  EXPECT_NE(too_many.body.find("Ensure this field has no more than 100 elements."),
            std::string::npos)
      << too_many.body;
  auto most = s.client().post("/api/v1/services/", body(100), vendor.access);
  EXPECT_EQ(most.status, 201) << most.body.substr(0, 300);
}
