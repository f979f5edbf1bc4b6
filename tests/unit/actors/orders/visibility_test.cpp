// Who sees which orders.
#include "actors/orders/visibility.hpp"

#include <gtest/gtest.h>

using namespace marketlink;
using persistence::OrderRow;
using persistence::Role;
using persistence::UserRow;

namespace {
UserRow user(std::string id, Role role) {
  UserRow u;
  u.id = std::move(id);
  u.role = role;
  return u;
}
OrderRow order() {
  OrderRow o;
  o.customer_id = "c1";
  o.vendor_user_id = "v1";
  return o;
}
}  // namespace

TEST(OrderVisibility, TheCustomerTheVendorAndAdminsSeeAnOrderNobodyElse) {
  EXPECT_TRUE(actors::can_see(user("c1", Role::customer), order()));
  EXPECT_TRUE(actors::can_see(user("v1", Role::vendor), order()));
  EXPECT_TRUE(actors::can_see(user("a", Role::admin), order()));
  EXPECT_FALSE(actors::can_see(user("c2", Role::customer), order()));
  EXPECT_FALSE(actors::can_see(user("v2", Role::vendor), order()));
  // The same id in the other role does not count.
  EXPECT_FALSE(actors::can_see(user("v1", Role::customer), order()));
  EXPECT_FALSE(actors::can_see(user("c1", Role::vendor), order()));
}

TEST(OrderVisibility, ListsAreScopedTheSameWay) {
  auto c = actors::scope_for(user("c1", Role::customer));
  EXPECT_EQ(c.customer_id, "c1");
  EXPECT_FALSE(c.vendor_user_id);
  auto v = actors::scope_for(user("v1", Role::vendor));
  EXPECT_EQ(v.vendor_user_id, "v1");
  EXPECT_FALSE(v.customer_id);
  auto a = actors::scope_for(user("a", Role::admin));
  EXPECT_FALSE(a.customer_id);
  EXPECT_FALSE(a.vendor_user_id);
}

TEST(Roles, ParseAndPrintTheDatabaseValues) {
  for (auto r : {Role::customer, Role::vendor, Role::admin}) {
    EXPECT_EQ(persistence::parse_role(persistence::to_string(r)), r);
  }
  EXPECT_FALSE(persistence::parse_role("Admin"));
  EXPECT_FALSE(persistence::parse_role(""));
}
