// The edge's pure helpers: the client address behind proxies, the Host check, log escaping.
#include "http/server/request.hpp"

#include <gtest/gtest.h>

using namespace marketlink::http;

TEST(ClientAddress, ForwardedForCountsOnlyFromATrustedProxy) {
  const std::vector<std::string> trusted{"10.0.0.0/8"};
  const std::string xff = "203.0.113.9";
  EXPECT_EQ(client_address("198.51.100.7", &xff, trusted), "198.51.100.7")
      << "anyone else may write X-Forwarded-For";
  EXPECT_EQ(client_address("10.1.2.3", &xff, trusted), "203.0.113.9");
  EXPECT_EQ(client_address("10.1.2.3", nullptr, trusted), "10.1.2.3");
  EXPECT_EQ(client_address("10.1.2.3", &xff, {}), "10.1.2.3") << "no proxies configured";
}

TEST(ClientAddress, TheRightMostUntrustedHopIsTheClient) {
  const std::vector<std::string> trusted{"10.0.0.0/8"};
  // The client wrote a fake first entry; the proxies appended the real hops after it.
  const std::string chain = "1.2.3.4, 203.0.113.9, 10.0.0.5";
  EXPECT_EQ(client_address("10.1.2.3", &chain, trusted), "203.0.113.9");
  const std::string all_proxies = "10.0.0.7,10.0.0.5";
  EXPECT_EQ(client_address("10.1.2.3", &all_proxies, trusted), "10.0.0.7");
  const std::string garbage = "203.0.113.9, not-an-address";
  EXPECT_EQ(client_address("10.1.2.3", &garbage, trusted), "10.1.2.3");
  const std::string v6 = "2001:db8::1";
  EXPECT_EQ(client_address("10.1.2.3", &v6, trusted), "2001:db8::1");
}

TEST(AddressBucket, IPv6CountsPerSlash64) {
  EXPECT_EQ(address_bucket("203.0.113.9"), "203.0.113.9");
  EXPECT_EQ(address_bucket("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), "2001:db8:1:2::/64");
  EXPECT_EQ(address_bucket("2001:db8:1:2::1"), address_bucket("2001:db8:1:2:ffff::9"));
  EXPECT_EQ(address_bucket("::ffff:203.0.113.9"), "203.0.113.9");
}

TEST(HostAllowed, DjangoRules) {
  const std::vector<std::string> allowed{"localhost", "[::1]", ".shop.example", "API.example.com"};
  EXPECT_TRUE(host_allowed("localhost:8000", allowed));
  EXPECT_TRUE(host_allowed("LOCALHOST", allowed));
  EXPECT_TRUE(host_allowed("[::1]:8000", allowed));
  EXPECT_TRUE(host_allowed("shop.example", allowed));
  EXPECT_TRUE(host_allowed("a.b.shop.example:443", allowed));
  EXPECT_TRUE(host_allowed("api.example.com.", allowed));
  EXPECT_FALSE(host_allowed("evilshop.example", allowed));
  EXPECT_FALSE(host_allowed("shop.example.evil", allowed));
  EXPECT_FALSE(host_allowed("", allowed));
  EXPECT_FALSE(host_allowed("[::1", allowed));
  EXPECT_TRUE(host_allowed("anything", {"*"}));
  EXPECT_TRUE(host_allowed("", {"*"}));
}

TEST(Printable, ControlCharactersCannotForgeALogLine) {
  EXPECT_EQ(printable("/api/v1/services/"), "/api/v1/services/");
  EXPECT_EQ(printable("/x\r\n2026-01-01 [info] POST /"), "/x\\x0d\\x0a2026-01-01 [info] POST /");
  EXPECT_EQ(printable(std::string("a\0b\\", 4)), "a\\x00b\\x5c");
  EXPECT_EQ(printable("গাড়ি"), "গাড়ি") << "UTF-8 stays readable";
}
