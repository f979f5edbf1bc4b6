// /api/v1/vendors/profile/ and /api/v1/admin/: each role on each endpoint.
#include <gtest/gtest.h>

#include <algorithm>

#include "persistence/database.hpp"
#include "tests/support/test_server.hpp"

using namespace marketlink;
using namespace marketlink::testing;

namespace {

class VendorAdmin : public ::testing::Test {
 protected:
  TestServer& server = TestServer::shared();
  HttpClient c = server.client();

  std::string profile_id(const TestUser& vendor) {
    auto r = c.get("/api/v1/vendors/profile/", vendor.access);
    return std::string(r.json().as_object()["id"].as_string());
  }
};

std::string detail(const HttpResult& r) {
  auto j = r.json();
  return j.is_object() && j.as_object().contains("detail")
             ? std::string(j.as_object()["detail"].as_string())
             : r.body;
}

}  // namespace

TEST_F(VendorAdmin, VendorSeesItsInactiveProfile) {
  auto v = server.register_user("vendor", R"(,"business_name":"Dhaka Auto","address":"Road 7")");
  auto r = c.get("/api/v1/vendors/profile/", v.access);
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = r.json().as_object();
  EXPECT_EQ(j["business_name"].as_string(), "Dhaka Auto");
  EXPECT_EQ(j["address"].as_string(), "Road 7");
  EXPECT_FALSE(j["is_active"].as_bool());
  EXPECT_EQ(j["user"].as_object()["id"].as_string(), v.id);
  EXPECT_TRUE(j.contains("created_at"));
  EXPECT_TRUE(j.contains("updated_at"));
}

TEST_F(VendorAdmin, VendorProfileRolesAnonymous401CustomerAndAdmin403) {
  EXPECT_EQ(c.get("/api/v1/vendors/profile/").status, 401);
  auto customer = server.register_user("customer");
  auto r = c.get("/api/v1/vendors/profile/", customer.access);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(detail(r), "You do not have permission to perform this action.");
  EXPECT_EQ(c.patch("/api/v1/vendors/profile/", R"({"address":"x"})", customer.access).status, 403);
  auto admin = server.create_admin();
  EXPECT_EQ(c.get("/api/v1/vendors/profile/", admin.access).status, 403);
}

TEST_F(VendorAdmin, VendorProfileUpdateRulesAndReadOnlyActiveFlag) {
  auto v = server.register_user("vendor");
  auto put_partial =
      c.put("/api/v1/vendors/profile/", R"({"business_name":"Only Name"})", v.access);
  EXPECT_EQ(put_partial.status, 400);
  EXPECT_NE(put_partial.body.find("address"), std::string::npos);
  auto put = c.put(
      "/api/v1/vendors/profile/",
      R"({"business_name":"Chittagong Garage","address":"Port Rd 1","is_active":true})", v.access);
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_FALSE(put.json().as_object()["is_active"].as_bool()) << "is_active is read-only";
  auto patch = c.patch("/api/v1/vendors/profile/", R"({"address":"Port Rd 2 — ঢাকা"})", v.access);
  ASSERT_EQ(patch.status, 200);
  EXPECT_EQ(patch.json().as_object()["business_name"].as_string(), "Chittagong Garage");
  EXPECT_EQ(patch.json().as_object()["address"].as_string(), "Port Rd 2 — ঢাকা");
  auto blank = c.patch("/api/v1/vendors/profile/", R"({"business_name":""})", v.access);
  EXPECT_EQ(blank.status, 400);
  auto too_long = c.patch("/api/v1/vendors/profile/",
                          R"({"business_name":")" + std::string(256, 'x') + "\"}", v.access);
  EXPECT_EQ(too_long.status, 400);
}

TEST_F(VendorAdmin, AdminActivatesAndDeactivatesAVendorWithAudit) {
  auto admin = server.create_admin();
  auto v = server.register_user("vendor");
  const auto pid = profile_id(v);
  auto on = c.post("/api/v1/admin/vendors/" + pid + "/activate/", "", admin.access);
  ASSERT_EQ(on.status, 200) << on.body;
  EXPECT_TRUE(on.json().as_object()["is_active"].as_bool());
  EXPECT_TRUE(
      c.get("/api/v1/vendors/profile/", v.access).json().as_object()["is_active"].as_bool());
  auto off = c.post("/api/v1/admin/vendors/" + pid + "/deactivate/", "", admin.access);
  ASSERT_EQ(off.status, 200);
  EXPECT_FALSE(off.json().as_object()["is_active"].as_bool());
  pqxx::work w(test_db().connection());
  auto audit =
      w.exec_params("SELECT action FROM audit_log WHERE actor_id = $1 ORDER BY id", admin.id);
  ASSERT_EQ(audit.size(), 2u);
  EXPECT_EQ(audit[0][0].as<std::string>(), "vendor.activate");
  EXPECT_EQ(audit[1][0].as<std::string>(), "vendor.deactivate");
}

TEST_F(VendorAdmin, AdminEndpointsRejectOtherRoles) {
  auto v = server.register_user("vendor");
  auto customer = server.register_user("customer");
  const auto pid = profile_id(v);
  for (const std::string& path :
       std::vector<std::string>{"/api/v1/admin/vendors/", "/api/v1/admin/users/"}) {
    EXPECT_EQ(c.get(path).status, 401) << path;
    EXPECT_EQ(c.get(path, customer.access).status, 403) << path;
    EXPECT_EQ(c.get(path, v.access).status, 403) << path;
  }
  for (const std::string& path :
       std::vector<std::string>{"/api/v1/admin/vendors/" + pid + "/activate/",
                                "/api/v1/admin/users/" + customer.id + "/deactivate/"}) {
    EXPECT_EQ(c.post(path, "").status, 401) << path;
    EXPECT_EQ(c.post(path, "", customer.access).status, 403) << path;
    EXPECT_EQ(c.post(path, "", v.access).status, 403) << path;
  }
  EXPECT_FALSE(
      c.get("/api/v1/vendors/profile/", v.access).json().as_object()["is_active"].as_bool());
}

TEST_F(VendorAdmin, UnknownOrMalformedIdsAre404) {
  auto admin = server.create_admin();
  EXPECT_EQ(c.post("/api/v1/admin/vendors/not-a-uuid/activate/", "", admin.access).status, 404);
  EXPECT_EQ(c.post("/api/v1/admin/vendors/00000000-0000-4000-8000-000000000000/activate/", "",
                   admin.access)
                .status,
            404);
  EXPECT_EQ(c.post("/api/v1/admin/users/00000000-0000-4000-8000-000000000000/deactivate/", "",
                   admin.access)
                .status,
            404);
}

TEST_F(VendorAdmin, VendorListFiltersAndPaginates) {
  auto admin = server.create_admin();
  auto v1 = server.register_user("vendor");
  auto v2 = server.register_user("vendor");
  auto inactive = c.get("/api/v1/admin/vendors/?is_active=false&page_size=1", admin.access);
  ASSERT_EQ(inactive.status, 200) << inactive.body;
  auto j = inactive.json().as_object();
  EXPECT_GE(j["count"].as_int64(), 2);
  ASSERT_EQ(j["results"].as_array().size(), 1u);
  EXPECT_EQ(j["previous"], nullptr);
  EXPECT_EQ(j["next"].as_string(),
            "http://testserver/api/v1/admin/vendors/?is_active=false&page_size=1&page=2");
  auto page2 = c.get("/api/v1/admin/vendors/?is_active=false&page_size=1&page=2", admin.access)
                   .json()
                   .as_object();
  EXPECT_EQ(page2["previous"].as_string(),
            "http://testserver/api/v1/admin/vendors/?is_active=false&page_size=1");
  // Newest first: v2 before v1. Other tests register vendors at the same time, so the two are
  // looked for in the whole list rather than at fixed places.
  std::vector<std::string> order;
  for (int page = 1; page <= 100; ++page) {
    auto p =
        c.get("/api/v1/admin/vendors/?is_active=false&page_size=100&page=" + std::to_string(page),
              admin.access);
    if (p.status != 200) break;
    const auto body = p.json();
    for (const auto& r : body.as_object().at("results").as_array()) {
      order.emplace_back(r.as_object().at("user").as_object().at("id").as_string());
    }
  }
  const auto at = [&order](const std::string& id) {
    return std::find(order.begin(), order.end(), id) - order.begin();
  };
  ASSERT_LT(at(v1.id), static_cast<long>(order.size()));
  EXPECT_LT(at(v2.id), at(v1.id)) << "newest first";
  EXPECT_EQ(c.get("/api/v1/admin/vendors/?page=999999", admin.access).status, 404);
  EXPECT_EQ(detail(c.get("/api/v1/admin/vendors/?page=0", admin.access)), "Invalid page.");
  EXPECT_EQ(c.get("/api/v1/admin/vendors/?is_active=perhaps", admin.access).status, 400);
  c.post("/api/v1/admin/vendors/" + profile_id(v1) + "/activate/", "", admin.access);
  auto active =
      c.get("/api/v1/admin/vendors/?is_active=true&page_size=100", admin.access).json().as_object();
  for (auto& row : active["results"].as_array())
    EXPECT_TRUE(row.as_object()["is_active"].as_bool());
}

TEST_F(VendorAdmin, PageSizeIsCappedAt100) {
  auto admin = server.create_admin();
  auto r = c.get("/api/v1/admin/users/?page_size=1000", admin.access);
  ASSERT_EQ(r.status, 200);
  EXPECT_LE(r.json().as_object()["results"].as_array().size(), 100u);
}

TEST_F(VendorAdmin, DeactivatedUserTokensStopWorkingAtOnce) {
  auto admin = server.create_admin();
  auto u = server.register_user("customer");
  ASSERT_EQ(c.get("/api/v1/auth/profile/", u.access).status, 200);
  auto off = c.post("/api/v1/admin/users/" + u.id + "/deactivate/", "", admin.access);
  ASSERT_EQ(off.status, 200) << off.body;
  EXPECT_FALSE(off.json().as_object()["is_active"].as_bool());
  EXPECT_EQ(c.get("/api/v1/auth/profile/", u.access).status, 401);
  EXPECT_EQ(c.post("/api/v1/auth/token/refresh/", R"({"refresh":")" + u.refresh + "\"}").status,
            401);
  EXPECT_EQ(c.post("/api/v1/auth/login/",
                   R"({"email":")" + u.email + R"(","password":")" + u.password + "\"}")
                .status,
            401);
  ASSERT_EQ(c.post("/api/v1/admin/users/" + u.id + "/activate/", "", admin.access).status, 200);
  EXPECT_EQ(c.get("/api/v1/auth/profile/", u.access).status, 200);
}

TEST_F(VendorAdmin, UserListFiltersByRole) {
  auto admin = server.create_admin();
  server.register_user("vendor");
  auto r = c.get("/api/v1/admin/users/?role=vendor&page_size=50", admin.access);
  ASSERT_EQ(r.status, 200);
  auto rows = r.json().as_object()["results"].as_array();
  ASSERT_FALSE(rows.empty());
  for (auto& row : rows) EXPECT_EQ(row.as_object()["role"].as_string(), "vendor");
  EXPECT_EQ(c.get("/api/v1/admin/users/?role=wizard", admin.access).status, 400);
}

TEST_F(VendorAdmin, AdminCannotDeactivateItself) {
  auto admin = server.create_admin();
  auto r = c.post("/api/v1/admin/users/" + admin.id + "/deactivate/", "", admin.access);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(c.get("/api/v1/auth/profile/", admin.access).status, 200);
}

TEST_F(VendorAdmin, VendorProfileRequiresVendorRoleInTheDatabase) {
  auto customer = server.register_user("customer");
  pqxx::work w(test_db().connection());
  EXPECT_THROW(w.exec_params0("INSERT INTO vendor_profiles (user_id) VALUES ($1)", customer.id),
               pqxx::sql_error);
}
