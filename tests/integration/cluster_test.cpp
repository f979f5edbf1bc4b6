// Cluster membership across processes: each `marketlink serve` registers itself in Redis and
// /api/v1/ops/cluster/ lists every live one; on SIGTERM a process first drains (/readyz 503
// "draining", its record says so, it still serves), then leaves the list as it stops.
#include <gtest/gtest.h>

#include <csignal>

#include "tests/support/process.hpp"
#include "tests/support/test_server.hpp"

using namespace marketlink;
using namespace marketlink::testing;

namespace {

// The member of that id in the cluster list, or null.
boost::json::value member(HttpClient& c, const std::string& token, const std::string& id) {
  auto r = c.get("/api/v1/ops/cluster/", token);
  if (r.status != 200) return nullptr;
  const auto body = r.json();
  for (const auto& m : body.at("members").as_array()) {
    if (m.at("id").as_string() == id) return m;
  }
  return nullptr;
}

}  // namespace

TEST(Cluster, EveryLiveProcessIsListedAndADrainingOneLeaves) {
  auto& server = TestServer::shared();
  auto admin = server.create_admin();
  auto c = server.client();

  const auto port = free_port();
  const auto name = "second-" + unique_suffix();
  auto env = server_process_env(server.config(), port, shared_gateway().session_url());
  env["MEMBER_NAME"] = name;
  env["MEMBER_HEARTBEAT_MS"] = "200";
  env["DRAIN_MS"] = "60000";  // ends early: the test stops it with a second signal
  const pid_t pid = spawn_process(MARKETLINK_BINARY, {"serve"}, env);
  ASSERT_TRUE(serving(port));

  boost::json::value second;
  ASSERT_TRUE(eventually([&] { return !(second = member(c, admin.access, name)).is_null(); }));
  EXPECT_EQ(second.at("address").as_string(), "127.0.0.1:" + std::to_string(port));
  EXPECT_EQ(second.at("pid").as_int64(), pid);
  EXPECT_FALSE(second.at("draining").as_bool());
  EXPECT_FALSE(second.at("self").as_bool());
  EXPECT_FALSE(second.at("version").as_string().empty());
  EXPECT_TRUE(second.at("load").as_object().contains("requests_total"));
  // This process too, marked as the one answering.
  auto list = c.get("/api/v1/ops/cluster/", admin.access).json();
  const auto self = std::string(list.at("self").as_string());
  boost::json::value me;
  ASSERT_TRUE(eventually([&] { return !(me = member(c, admin.access, self)).is_null(); }));
  EXPECT_TRUE(me.at("self").as_bool());

  // SIGTERM: not ready any more, still serving, and the list says it is draining.
  ASSERT_EQ(kill(pid, SIGTERM), 0);
  HttpClient other(port);
  HttpResult ready;
  ASSERT_TRUE(eventually([&] { return (ready = other.get("/readyz")).status == 503; }));
  EXPECT_EQ(ready.json().at("status").as_string(), "draining");
  EXPECT_EQ(ready.header("retry-after"), "1");
  EXPECT_EQ(other.get("/healthz").status, 200) << "still serving while draining";
  EXPECT_EQ(other.get("/api/v1/services/").status, 200);
  ASSERT_TRUE(eventually([&] {
    auto m = member(c, admin.access, name);
    return !m.is_null() && m.at("draining").as_bool();
  }));

  // A second signal ends the drain at once (the default action); its record ages out.
  kill(pid, SIGTERM);
  wait_process(pid);
  EXPECT_TRUE(eventually([&] { return member(c, admin.access, name).is_null(); }, 15000));
}

TEST(Cluster, AStoppedProcessLeavesTheListAtOnce) {
  auto& server = TestServer::shared();
  auto admin = server.create_admin();
  auto c = server.client();
  const auto port = free_port();
  const auto name = "leaving-" + unique_suffix();
  auto env = server_process_env(server.config(), port, shared_gateway().session_url());
  env["MEMBER_NAME"] = name;
  const pid_t pid = spawn_process(MARKETLINK_BINARY, {"serve"}, env);
  ASSERT_TRUE(serving(port));
  ASSERT_TRUE(eventually([&] { return !member(c, admin.access, name).is_null(); }));
  EXPECT_EQ(stop_process(pid), 0);
  // It removed its own record before exiting: gone now, not after MEMBER_TTL_MS.
  EXPECT_TRUE(member(c, admin.access, name).is_null());
}
