// METRICS_ALLOW matching.
#include "http/metrics.hpp"

#include <gtest/gtest.h>

using marketlink::http::address_allowed;

TEST(MetricsAllow, MatchesCidrBlocksOfTheSameFamily) {
  const std::vector<std::string> loopback{"127.0.0.0/8", "::1/128"};
  EXPECT_TRUE(address_allowed("127.0.0.1", loopback));
  EXPECT_TRUE(address_allowed("127.255.0.9", loopback));
  EXPECT_TRUE(address_allowed("::1", loopback));
  EXPECT_TRUE(address_allowed("::ffff:127.0.0.1", loopback)) << "IPv4-mapped";
  EXPECT_FALSE(address_allowed("128.0.0.1", loopback));
  EXPECT_FALSE(address_allowed("::2", loopback));
  EXPECT_FALSE(address_allowed("not an address", loopback));
  EXPECT_TRUE(address_allowed("10.1.2.3", {"10.0.0.0/8"}));
  EXPECT_FALSE(address_allowed("11.1.2.3", {"10.0.0.0/8"}));
  EXPECT_TRUE(address_allowed("192.168.1.77", {"192.168.1.77"})) << "no prefix: one address";
  EXPECT_FALSE(address_allowed("192.168.1.77", {"192.168.1.0/33", "garbage/8"}));
  EXPECT_TRUE(address_allowed("203.0.113.5", {"0.0.0.0/0"}));
}
