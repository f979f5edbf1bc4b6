// The catalog's page cache: reads from memory with ETag / 304, a write visible at once in its
// process and in another process within CATALOG_CACHE_MS, and the visibility rules unchanged
// by it (an owner's hidden service never reaches anyone else through a cached page).
#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

#include "persistence/database.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_server.hpp"

using namespace marketlink;
using namespace marketlink::testing;

namespace {

std::string str(const boost::json::value& v, const char* key) {
  return std::string(v.as_object().at(key).as_string());
}

class CatalogCache : public ::testing::Test {
 protected:
  TestServer& server = TestServer::shared();
  HttpClient c = server.client();

  TestUser active_vendor() {
    auto v = server.register_user("vendor");
    set_vendor_active(v, true);
    return v;
  }
  std::string create(const TestUser& v, const std::string& name) { return create(c, v, name); }
  static std::string create(HttpClient& h, const TestUser& v, const std::string& name) {
    auto r = h.post("/api/v1/services/",
                    R"({"name":")" + name +
                        R"(","description":"Brakes","variants":[)"
                        R"({"name":"Basic","price":"900.00","estimated_minutes":30,"stock":3}]})",
                    v.access);
    EXPECT_EQ(r.status, 201) << r.body;
    return str(r.json(), "id");
  }
  // The ids a list shows to `token` (a query narrowing it to one vendor).
  std::vector<std::string> listed(const std::string& query, const std::string& token = "") {
    auto r = c.get("/api/v1/services/?" + query, token);
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<std::string> ids;
    const auto body = r.json();
    for (const auto& row : body.as_object().at("results").as_array()) {
      ids.push_back(str(row, "id"));
    }
    return ids;
  }
  std::string profile_id(const TestUser& v) { return profile_id(c, v); }
  static std::string profile_id(HttpClient& h, const TestUser& v) {
    return str(h.get("/api/v1/vendors/profile/", v.access).json(), "id");
  }
};

TEST_F(CatalogCache, RepeatedReadsCostNoStatementAndAnswer304ToTheirETag) {
  // Its own server, whose pages live a minute: nothing here depends on how fast it runs.
  TestServer own({{"CATALOG_CACHE_MS", "60000"}, {"AUTH_CACHE_SECONDS", "60"}});
  auto v = own.register_user("vendor");
  set_vendor_active(v, true);
  HttpClient h = own.client();
  const auto id = create(h, v, "Cached " + unique_suffix());
  auto customer = own.register_user("customer");
  const auto target = "/api/v1/services/?vendor=" + profile_id(h, v);
  auto first = h.get(target, customer.access);
  ASSERT_EQ(first.status, 200);
  const auto etag = first.header("etag");
  ASSERT_FALSE(etag.empty());
  EXPECT_EQ(first.header("cache-control"), "private, no-cache");

  const auto before = persistence::statements_executed();
  auto second = h.get(target, customer.access);
  EXPECT_EQ(persistence::statements_executed(), before) << "served from memory";
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(second.body, first.body);
  EXPECT_EQ(second.header("etag"), etag);

  auto revalidated = h.request("GET", target, "",
                               {{"Authorization", "Bearer " + customer.access},
                                {"If-None-Match", "\"0000000000000000\", " + etag}});
  EXPECT_EQ(revalidated.status, 304);
  EXPECT_TRUE(revalidated.body.empty());
  EXPECT_EQ(revalidated.header("etag"), etag);
  auto other = h.request("GET", target, "", {{"If-None-Match", "\"0000000000000000\""}});
  EXPECT_EQ(other.status, 200) << "another validator gets the page";

  // The same for a detail page.
  auto detail = h.get("/api/v1/services/" + id + "/");
  ASSERT_EQ(detail.status, 200);
  EXPECT_EQ(h.request("GET", "/api/v1/services/" + id + "/", "",
                      {{"If-None-Match", detail.header("etag")}})
                .status,
            304);
}

TEST_F(CatalogCache, AWriteIsVisibleAtOnceInItsProcess) {
  auto v = active_vendor();
  const auto id = create(v, "Before " + unique_suffix());
  const auto target = "/api/v1/services/" + id + "/";
  auto cached = c.get(target);
  ASSERT_EQ(c.get(target).body, cached.body);
  auto patched = c.patch(target, R"({"name":"After"})", v.access);
  ASSERT_EQ(patched.status, 200) << patched.body;
  auto after = c.get(target);
  EXPECT_EQ(str(after.json(), "name"), "After");
  EXPECT_NE(after.header("etag"), cached.header("etag"));
  // A variant's price too, in the variant list of the service.
  const auto variants = "/api/v1/services/" + id + "/variants/";
  auto list = c.get(variants).json();
  const auto vid = list.as_object().at("results").as_array()[0].as_object().at("id").as_int64();
  ASSERT_EQ(c.patch("/api/v1/services/variants/" + std::to_string(vid) + "/",
                    R"({"price":"1000.00"})", v.access)
                .status,
            200);
  EXPECT_EQ(str(c.get(variants).json().as_object().at("results").as_array()[0], "price"),
            "1000.00");
}

TEST_F(CatalogCache, HiddenServicesReachOnlyTheirOwnerThroughTheCache) {
  auto v = active_vendor();
  const auto id = create(v, "Hidden " + unique_suffix());
  const auto pid = profile_id(v);
  auto customer = server.register_user("customer");
  auto other_vendor = active_vendor();
  auto admin = server.create_admin();
  // The admin hides the vendor (through the API, as an operator would).
  auto hidden = c.post("/api/v1/admin/vendors/" + pid + "/deactivate/", "{}", admin.access);
  ASSERT_EQ(hidden.status, 200) << hidden.body;
  // The owner reads first (its pages are cached), then everyone else asks the same targets.
  EXPECT_EQ(c.get("/api/v1/services/" + id + "/", v.access).status, 200);
  EXPECT_EQ(listed("vendor=" + pid, v.access), std::vector<std::string>{id});
  for (const auto& token : {std::string(), customer.access, other_vendor.access, admin.access}) {
    EXPECT_EQ(c.get("/api/v1/services/" + id + "/", token).status, 404);
    EXPECT_TRUE(listed("vendor=" + pid, token).empty());
    EXPECT_EQ(c.get("/api/v1/services/" + id + "/variants/", token).status, 404);
  }
  // Activated again through the API: visible to everyone at once.
  ASSERT_EQ(c.post("/api/v1/admin/vendors/" + pid + "/activate/", "{}", admin.access).status, 200);
  EXPECT_EQ(c.get("/api/v1/services/" + id + "/", customer.access).status, 200);
  EXPECT_EQ(listed("vendor=" + pid), std::vector<std::string>{id});
}

// Two processes on one database: a rename through one shows in the other once its copy ages
// out (CATALOG_CACHE_MS, 1 s here), however often the other is asked meanwhile.
TEST_F(CatalogCache, AWriteInOneProcessShowsInAnotherWithinTheBound) {
  auto v = active_vendor();
  const auto id = create(v, "Shared " + unique_suffix());
  const auto target = "/api/v1/services/" + id + "/";
  const auto port = free_port();
  auto env = server_process_env(server.config(), port, shared_gateway().session_url());
  env["CATALOG_CACHE_MS"] = "1000";
  const pid_t pid = spawn_process(MARKETLINK_BINARY, {"serve"}, env);
  ASSERT_TRUE(serving(port));
  HttpClient other(port);
  auto cached = other.get(target);
  ASSERT_EQ(cached.status, 200);
  const auto before = str(cached.json(), "name");
  ASSERT_EQ(c.patch(target, R"({"name":"Renamed elsewhere"})", v.access).status, 200);
  std::string seen = before;
  const bool changed = eventually(
      [&] {
        seen = str(other.get(target).json(), "name");
        return seen == "Renamed elsewhere";
      },
      5000);
  stop_process(pid);
  EXPECT_TRUE(changed) << "still " << seen;
}

}  // namespace
