// Rendezvous hashing of variants over members, and which membership records make owners.
#include "actors/cluster/ownership.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

using marketlink::actors::Member;
using marketlink::actors::owners_from_records;
using marketlink::actors::rendezvous_owner;

namespace {

std::map<int64_t, std::string> owners(const std::vector<std::string>& members, int64_t n) {
  std::map<int64_t, std::string> out;
  for (int64_t v = 1; v <= n; ++v) out[v] = rendezvous_owner(members, v);
  return out;
}

}  // namespace

TEST(Rendezvous, NoMembersNoOwnerOneMemberOwnsAll) {
  EXPECT_EQ(rendezvous_owner({}, 7), "");
  for (const auto& [v, owner] : owners({"only"}, 100)) EXPECT_EQ(owner, "only") << v;
}

TEST(Rendezvous, TheOwnerDoesNotDependOnTheOrderMembersAreListedIn) {
  const auto a = owners({"m1", "m2", "m3"}, 1000);
  const auto b = owners({"m3", "m1", "m2"}, 1000);
  EXPECT_EQ(a, b);
}

TEST(Rendezvous, VariantsSpreadOverTheMembers) {
  std::map<std::string, int> count;
  for (const auto& [v, owner] : owners({"m1", "m2", "m3"}, 3000)) ++count[owner];
  ASSERT_EQ(count.size(), 3U);
  for (const auto& [m, n] : count) {
    EXPECT_GT(n, 800) << m << " owns too few of 3000";
    EXPECT_LT(n, 1200) << m << " owns too many of 3000";
  }
}

TEST(Rendezvous, AMemberLeavingMovesOnlyItsOwnVariants) {
  const auto before = owners({"m1", "m2", "m3"}, 3000);
  const auto after = owners({"m1", "m3"}, 3000);
  int moved = 0;
  for (const auto& [v, owner] : before) {
    if (owner == "m2") {
      EXPECT_NE(after.at(v), "m2");
      ++moved;
    } else {
      EXPECT_EQ(after.at(v), owner) << "variant " << v << " moved though its owner stayed";
    }
  }
  EXPECT_GT(moved, 0);
}

TEST(Rendezvous, AMemberJoiningTakesSomeFromEachAndMovesNothingElse) {
  const auto before = owners({"m1", "m2"}, 3000);
  const auto after = owners({"m1", "m2", "m3"}, 3000);
  std::map<std::string, int> taken;
  for (const auto& [v, owner] : before) {
    if (after.at(v) != owner) {
      EXPECT_EQ(after.at(v), "m3") << "a variant moved between the old members";
      ++taken[owner];
    }
  }
  EXPECT_GT(taken["m1"], 0);
  EXPECT_GT(taken["m2"], 0);
}

TEST(OwnersFromRecords, LiveLinkedNotDrainingMembersSortedById) {
  const std::vector<Member> members{
      {"b", R"({"link":"10.0.0.2:4242","draining":false})", 10},
      {"a", R"({"link":"server1:4242"})", 10},
      {"draining", R"({"link":"10.0.0.3:4242","draining":true})", 10},
      {"no-link", R"({"address":"10.0.0.4:8000"})", 10},
      {"bad-port", R"({"link":"10.0.0.5:99999"})", 10},
      {"no-port", R"({"link":"10.0.0.6"})", 10},
      {"no-host", R"({"link":":4242"})", 10},
      {"not-json", "{", 10},
      {"ipv6", R"({"link":"[::1]:4243"})", 10},
  };
  const auto peers = owners_from_records(members);
  ASSERT_EQ(peers.size(), 3U);
  EXPECT_EQ(peers[0].id, "a");
  EXPECT_EQ(peers[0].host, "server1");
  EXPECT_EQ(peers[0].port, 4242);
  EXPECT_EQ(peers[1].id, "b");
  EXPECT_EQ(peers[1].host, "10.0.0.2");
  EXPECT_EQ(peers[2].id, "ipv6");
  EXPECT_EQ(peers[2].host, "::1");
  EXPECT_EQ(peers[2].port, 4243);
}
