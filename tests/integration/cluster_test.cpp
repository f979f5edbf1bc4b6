// Cluster membership across processes: each `marketlink serve` registers itself in Redis and
// /api/v1/ops/cluster/ lists every live one; on SIGTERM a process first drains (/readyz 503
// "draining", its record says so, it still serves), then leaves the list as it stops.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "actors/cluster/ownership.hpp"
#include "persistence/database.hpp"
#include "tests/support/haproxy.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_server.hpp"

using namespace marketlink;
using namespace marketlink::testing;

namespace {

// A `marketlink serve` member named `name` on `port`, sharing this test's database, Redis and
// fake gateway; `extra` overrides its environment.
pid_t spawn_member(TestServer& server, uint16_t port, const std::string& name,
                   const Overrides& extra = {}) {
  auto env = server_process_env(server.config(), port, shared_gateway().session_url());
  env["MEMBER_NAME"] = name;
  for (const auto& [k, v] : extra) env[k] = v;
  return spawn_process(MARKETLINK_BINARY, {"serve"}, env);
}

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
  // DRAIN_MS ends early: the test stops it with a second signal.
  const pid_t pid =
      spawn_member(server, port, name, {{"MEMBER_HEARTBEAT_MS", "200"}, {"DRAIN_MS", "60000"}});
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
  const pid_t pid = spawn_member(server, port, name);
  ASSERT_TRUE(serving(port));
  ASSERT_TRUE(eventually([&] { return !member(c, admin.access, name).is_null(); }));
  EXPECT_EQ(stop_process(pid), 0);
  // It removed its own record before exiting: gone now, not after MEMBER_TTL_MS.
  EXPECT_TRUE(member(c, admin.access, name).is_null());
}
// ---- Ownership (CLUSTER_LINK_PORT): each variant has one owner among the members, and the
// others forward its reservations to that member's stock actor over CAF's network layer.
namespace {

class LinkedMembers {
 public:
  // Members of a cluster of their own (CLUSTER_NAME), so tests that run at once do not meet.
  LinkedMembers(TestServer& server, int n, const Overrides& extra = {}) {
    const auto cluster = "t-" + unique_suffix();
    for (int i = 1; i <= n; ++i) {
      Overrides env{{"CLUSTER_LINK_PORT", "0"},
                    {"CLUSTER_NAME", cluster},
                    {"MEMBER_HEARTBEAT_MS", "200"},
                    {"MEMBER_TTL_MS", "2000"}};
      for (const auto& [k, v] : extra) env[k] = v;
      ids.push_back("o" + std::to_string(i) + "-" + unique_suffix());
      ports.push_back(free_port());
      pids.push_back(spawn_member(server, ports.back(), ids.back(), env));
    }
  }
  ~LinkedMembers() {
    for (auto pid : pids) {
      if (pid > 0) kill(pid, SIGKILL);
    }
    for (auto pid : pids) {
      if (pid > 0) wait_process(pid);
    }
  }
  LinkedMembers(const LinkedMembers&) = delete;
  LinkedMembers& operator=(const LinkedMembers&) = delete;

  void kill_member(std::size_t i) {
    kill(pids[i], SIGKILL);
    wait_process(pids[i]);
    pids[i] = 0;
  }
  std::vector<std::string> alive_ids() const {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < ids.size(); ++i) {
      if (pids[i] > 0) out.push_back(ids[i]);
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  // Every living member serves and sees exactly the living members as owners.
  bool agreed(const std::string& token) {
    for (std::size_t i = 0; i < ids.size(); ++i) {
      if (pids[i] > 0 && !serving(ports[i])) return false;
    }
    const auto expected = alive_ids();
    return eventually(
        [&] {
          for (std::size_t i = 0; i < ids.size(); ++i) {
            if (pids[i] == 0) continue;
            auto r = HttpClient(ports[i]).get("/api/v1/ops/cluster/", token);
            if (r.status != 200) return false;
            const auto body = r.json();
            std::vector<std::string> owners;
            for (const auto& o : body.at("ownership").at("owners").as_array())
              owners.emplace_back(o.as_string());
            if (owners != expected) return false;
          }
          return true;
        },
        20000);
  }
  std::size_t index_of(const std::string& id) const {
    return static_cast<std::size_t>(std::find(ids.begin(), ids.end(), id) - ids.begin());
  }

  std::vector<std::string> ids;
  std::vector<uint16_t> ports;
  std::vector<pid_t> pids;
};

// One actor's figures as a member reports them (null when it has no actor by that name).
boost::json::value actor_figures(uint16_t port, const std::string& token, const std::string& kind,
                                 const std::string& name) {
  auto r = HttpClient(port).get("/api/v1/ops/actors/?kind=" + kind + "&limit=100000", token);
  if (r.status != 200) return nullptr;
  const auto body = r.json();
  for (const auto& a : body.at("actors").as_array()) {
    if (a.at("name").as_string() == name) return a;
  }
  return nullptr;
}

int64_t accepted_by(uint16_t port, const std::string& token, const std::string& variant) {
  auto a = actor_figures(port, token, "stock", "stock/" + variant);
  return a.is_null() ? 0 : a.at("figures").at("accepted").as_int64();
}

std::string created_variant(TestServer& server, int stock) {
  auto v = server.register_user("vendor");
  set_vendor_active(v, true);
  auto r = server.client().post("/api/v1/services/",
                                R"({"name":"Cluster )" + unique_suffix() +
                                    R"(","description":"x","variants":[{"name":"Basic",)"
                                    R"("price":"500.00","estimated_minutes":30,"stock":)" +
                                    std::to_string(stock) + "}]}",
                                v.access);
  EXPECT_EQ(r.status, 201) << r.body;
  return std::to_string(r.json().at("variants").as_array()[0].at("id").as_int64());
}

int64_t stock_of(TestServer& server, const std::string& variant) {
  auto r = server.client().get("/api/v1/services/variants/" + variant + "/");
  return r.status == 200 ? r.json().at("stock").as_int64() : -1;
}

// `n` customers ordering `variant` `each` times at once, customer k on port_of(k): every answer,
// with the port it came from and the member HAProxy named (X-Served-By). A refusal must say the
// variant is fully booked.
struct Sale {
  uint16_t port = 0;
  int status = 0;
  std::string served_by;
};
std::vector<Sale> order_at_once(TestServer& server, const std::string& variant, std::size_t n,
                                int each, const std::function<uint16_t(std::size_t)>& port_of) {
  std::vector<TestUser> customers;
  customers.reserve(n);
  for (std::size_t i = 0; i < n; ++i) customers.push_back(server.register_user("customer"));
  std::mutex mutex;
  std::vector<Sale> sales;
  std::vector<std::thread> threads;
  threads.reserve(n);
  for (std::size_t k = 0; k < n; ++k) {
    threads.emplace_back([&, port = port_of(k), customer = customers[k]] {
      HttpClient c(port);
      for (int i = 0; i < each; ++i) {
        auto r = c.post("/api/v1/orders/", R"({"variant":)" + variant + "}", customer.access);
        if (r.status == 400) {
          EXPECT_NE(r.body.find("fully booked"), std::string::npos) << r.body;
        }
        std::lock_guard lock(mutex);
        sales.push_back({port, r.status, r.header("x-served-by")});
      }
    });
  }
  for (auto& t : threads) t.join();
  return sales;
}

std::map<int, int> statuses_of(const std::vector<Sale>& sales) {
  std::map<int, int> out;
  for (const auto& s : sales) ++out[s.status];
  return out;
}

// ---- Three processes behind a real HAProxy (docker/haproxy/haproxy.cfg, as scripts/cluster.sh
// uses it): orders spread over them never oversell; a SIGKILLed member leaves the pool and the
// orders it took can still be paid through the others.
class HaproxyCluster {
 public:
  HaproxyCluster(TestServer& server, int n, const Overrides& extra = {})
      : members(server, n, with_balancer(extra)) {
    port = free_port();
    config_path = write_haproxy_config(port, members.ports);
    balancer = spawn_haproxy(config_path);
  }
  ~HaproxyCluster() {
    kill(balancer, SIGTERM);
    wait_process(balancer);
    std::remove(config_path.c_str());
  }
  HaproxyCluster(const HaproxyCluster&) = delete;
  HaproxyCluster& operator=(const HaproxyCluster&) = delete;

  // Every member serves, they agree on the owners, and the balancer has sent a request to each
  // (its health checks passed).
  bool ready(const std::string& token) {
    if (!members.agreed(token)) return false;
    std::set<std::string> seen;
    return eventually(
        [&] {
          try {
            HttpClient c(port);
            auto r = c.get("/healthz");
            if (r.status == 200) seen.insert(r.header("x-served-by"));
          } catch (const std::exception&) {
          }
          return seen.size() == members.ids.size();
        },
        20000);
  }
  // The balancer's name for member i (X-Served-By).
  static std::string served_by(std::size_t i) { return "m" + std::to_string(i + 1); }

  LinkedMembers members;
  uint16_t port = 0;
  pid_t balancer = 0;
  std::string config_path;

 private:
  static Overrides with_balancer(Overrides extra) {
    extra.emplace("TRUSTED_PROXIES", "127.0.0.1");
    extra.emplace("DRAIN_MS", "3000");
    return extra;
  }
};

}  // namespace

TEST(Ownership, AVariantsOrdersAreReservedByItsOwnersStockActorWhicheverMemberTakesThem) {
  auto& server = TestServer::shared();
  auto admin = server.create_admin();
  LinkedMembers cluster(server, 3);
  ASSERT_TRUE(cluster.agreed(admin.access));
  const int stock = 30;
  const auto variant = created_variant(server, stock);
  const auto owner = actors::rendezvous_owner(cluster.alive_ids(), std::stoll(variant));
  auto statuses = statuses_of(order_at_once(server, variant, 6, 10, [&](std::size_t k) {
    return cluster.ports[k % cluster.ports.size()];
  }));

  EXPECT_EQ(statuses[201], stock) << "exactly the stock is sold, over all three processes";
  EXPECT_EQ(statuses[201] + statuses[400], 60);
  EXPECT_EQ(stock_of(server, variant), 0);
  // Every reservation went through one stock actor: the owner's.
  for (std::size_t i = 0; i < cluster.ids.size(); ++i) {
    const auto accepted = accepted_by(cluster.ports[i], admin.access, variant);
    if (cluster.ids[i] == owner) {
      EXPECT_EQ(accepted, stock) << "the owner " << owner << " reserved them all";
    } else {
      EXPECT_EQ(accepted, 0) << cluster.ids[i] << " is not the owner";
      auto link = actor_figures(cluster.ports[i], admin.access, "cluster_link", "cluster_link");
      ASSERT_FALSE(link.is_null());
      EXPECT_GE(link.at("figures").at("forwarded").as_int64(), 20) << "it forwarded its orders";
      EXPECT_EQ(link.at("figures").at("fell_back").as_int64(), 0);
    }
  }
  // Any member's stock view shows the owner's actor (from its published snapshot).
  const auto other = cluster.ids[0] == owner ? 1U : 0U;
  EXPECT_TRUE(eventually([&] {
    auto r = HttpClient(cluster.ports[other]).get("/api/v1/ops/stock/?limit=100", admin.access);
    if (r.status != 200) return false;
    const auto body = r.json();
    for (const auto& row : body.at("variants").as_array()) {
      if (row.at("variant").as_int64() == std::stoll(variant) && row.at("member") == owner.c_str())
        return row.at("accepted").as_int64() == stock && row.at("database").as_int64() == 0;
    }
    return false;
  }));
}

TEST(Ownership, AKilledOwnersVariantsMoveToALivingMemberAndNothingOversells) {
  auto& server = TestServer::shared();
  auto admin = server.create_admin();
  LinkedMembers cluster(server, 3);
  ASSERT_TRUE(cluster.agreed(admin.access));
  const int stock = 100;
  const auto variant = created_variant(server, stock);
  auto customer = server.register_user("customer");
  const auto owner = actors::rendezvous_owner(cluster.alive_ids(), std::stoll(variant));
  const auto dead = cluster.index_of(owner);
  int sold = 0;
  for (auto port : cluster.ports) {
    auto r =
        HttpClient(port).post("/api/v1/orders/", R"({"variant":)" + variant + "}", customer.access);
    ASSERT_EQ(r.status, 201) << r.body;
    ++sold;
  }
  EXPECT_EQ(accepted_by(cluster.ports[dead], admin.access, variant), 3);

  cluster.kill_member(dead);
  // Orders go on through the survivors while they notice: each answer is an order or a 503.
  std::map<int, int> statuses;
  for (int round = 0; round < 5; ++round) {
    for (std::size_t i = 0; i < cluster.ports.size(); ++i) {
      if (cluster.pids[i] == 0) continue;
      auto r = HttpClient(cluster.ports[i])
                   .post("/api/v1/orders/", R"({"variant":)" + variant + "}", customer.access);
      ++statuses[r.status];
      if (r.status == 201) ++sold;
    }
  }
  for (const auto& [status, count] : statuses) {
    EXPECT_TRUE(status == 201 || status == 503) << count << " answers with status " << status;
  }
  // Within seconds both survivors see the same two owners, and the variant's new owner reserves
  // every order the survivors take.
  ASSERT_TRUE(cluster.agreed(admin.access));
  const auto heir = actors::rendezvous_owner(cluster.alive_ids(), std::stoll(variant));
  ASSERT_NE(heir, owner);
  const auto heir_port = cluster.ports[cluster.index_of(heir)];
  const auto before = accepted_by(heir_port, admin.access, variant);
  for (std::size_t i = 0; i < cluster.ports.size(); ++i) {
    if (cluster.pids[i] == 0) continue;
    for (int k = 0; k < 4; ++k) {
      auto r = HttpClient(cluster.ports[i])
                   .post("/api/v1/orders/", R"({"variant":)" + variant + "}", customer.access);
      EXPECT_EQ(r.status, 201) << r.body;
      if (r.status == 201) ++sold;
    }
  }
  EXPECT_EQ(accepted_by(heir_port, admin.access, variant), before + 8);
  EXPECT_EQ(stock_of(server, variant), stock - sold) << "every order took one unit, no more";
}

TEST(Ownership, TheConsoleRestartsAnActorOnTheMemberThatRunsIt) {
  auto& server = TestServer::shared();
  auto admin = server.create_admin();
  LinkedMembers cluster(server, 2);
  ASSERT_TRUE(cluster.agreed(admin.access));
  HttpClient first(cluster.ports[0]);
  auto r =
      first.post("/api/v1/ops/actors/janitor/restart/?member=" + cluster.ids[1], "", admin.access);
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(r.json().at("restarting").as_string(), "janitor");
  // The other member's janitor restarted; this one's did not.
  EXPECT_TRUE(eventually([&] {
    auto j = actor_figures(cluster.ports[1], admin.access, "janitor", "janitor");
    return !j.is_null() && j.at("restarts").as_int64() == 1;
  }));
  auto own = actor_figures(cluster.ports[0], admin.access, "janitor", "janitor");
  ASSERT_FALSE(own.is_null());
  EXPECT_EQ(own.at("restarts").as_int64(), 0);

  auto unknown_actor = first.post(
      "/api/v1/ops/actors/no_such_actor/restart/?member=" + cluster.ids[1], "", admin.access);
  EXPECT_EQ(unknown_actor.status, 404);
  EXPECT_NE(unknown_actor.body.find("No restartable actor"), std::string::npos);
  auto unknown_member =
      first.post("/api/v1/ops/actors/janitor/restart/?member=nobody", "", admin.access);
  EXPECT_EQ(unknown_member.status, 404);
  EXPECT_NE(unknown_member.body.find("No live member"), std::string::npos);

  // The other member's charts, asked over the link (each keeps its own series in memory).
  auto series = first.get("/api/v1/ops/series/?member=" + cluster.ids[1], admin.access);
  ASSERT_EQ(series.status, 200) << series.body;
  EXPECT_EQ(series.json().at("member").as_string(), cluster.ids[1]);
  EXPECT_TRUE(series.json().at("samples").is_array());
  EXPECT_EQ(first.get("/api/v1/ops/series/", admin.access).json().at("member").as_string(),
            cluster.ids[0]);
  EXPECT_EQ(first.get("/api/v1/ops/series/?member=nobody", admin.access).status, 404);
}

// ---- Behind HAProxy: the balancer spreads requests round robin; each order's reservation is the
// variant owner's, whichever member took it.
TEST(BehindHaproxy, OrdersOverThreeProcessesNeverOversell) {
  if (haproxy_binary() == nullptr) GTEST_SKIP() << "haproxy is not installed (install-deps.sh)";
  auto& server = TestServer::shared();
  auto admin = server.create_admin();
  HaproxyCluster cluster(server, 3);
  ASSERT_TRUE(cluster.ready(admin.access));
  const auto& members = cluster.members;
  const int stock = 30;
  const auto variant = created_variant(server, stock);
  const auto owner = actors::rendezvous_owner(members.alive_ids(), std::stoll(variant));
  // Half the clients go through the balancer, half straight to one member each: every member
  // takes orders for the same variant at once.
  const auto sales = order_at_once(server, variant, 8, 10, [&](std::size_t k) {
    return k % 2 == 1 ? members.ports[k / 2 % members.ports.size()] : cluster.port;
  });
  auto statuses = statuses_of(sales);
  std::set<std::string> served_by;
  std::set<uint16_t> direct_sold;
  for (const auto& sale : sales) {
    if (sale.status != 201) continue;
    if (sale.port == cluster.port) {
      served_by.insert(sale.served_by);
    } else {
      direct_sold.insert(sale.port);
    }
  }

  EXPECT_EQ(statuses[201], stock) << "exactly the stock is sold, over all three processes";
  EXPECT_EQ(statuses[201] + statuses[400], 80);
  EXPECT_GE(served_by.size(), 2U) << "the balancer spread the orders";
  EXPECT_EQ(direct_sold.size(), 3U) << "every member sold some directly";
  EXPECT_EQ(stock_of(server, variant), 0);
  // One stock actor reserved them all: the owner's.
  for (std::size_t i = 0; i < members.ids.size(); ++i) {
    EXPECT_EQ(accepted_by(members.ports[i], admin.access, variant),
              members.ids[i] == owner ? stock : 0)
        << members.ids[i] << (members.ids[i] == owner ? " (the owner)" : "");
  }
}

namespace {

// What PostgreSQL says of a variant: its stock plus the orders that hold a unit (pending, paid or
// after) — always its initial stock, whatever died when (each is changed with the other in one
// transaction).
struct Held {
  int64_t stock_and_held = 0;
};
Held held(const std::string& variant) {
  pqxx::work w(test_db().connection());
  auto r = w.exec_params1(
      "SELECT v.stock + (SELECT count(*) FROM orders o WHERE o.variant_id = v.id AND o.status IN "
      "('pending', 'paid', 'processing', 'completed')) FROM service_variants v WHERE v.id = $1",
      std::stoll(variant));
  return {r[0].as<int64_t>()};
}

}  // namespace

TEST(BehindHaproxy, AKilledOwnerLeavesThePoolItsVariantMovesAndItsOrdersCanStillBePaid) {
  if (haproxy_binary() == nullptr) GTEST_SKIP() << "haproxy is not installed (install-deps.sh)";
  auto& server = TestServer::shared();
  auto admin = server.create_admin();
  // Unpaid orders expire after 2 s here; the clients below order as fast as they can.
  HaproxyCluster cluster(server, 3,
                         {{"ORDER_RESERVATION_TTL", "2"},
                          {"ORDER_SWEEP_INTERVAL", "1"},
                          {"ORDER_PENDING_PER_CUSTOMER", "0"},
                          {"ORDER_RATE_PER_MINUTE", "0"}});
  ASSERT_TRUE(cluster.ready(admin.access));
  auto& members = cluster.members;
  const int stock = 100000;
  const auto variant = created_variant(server, stock);
  auto customer = server.register_user("customer");
  // The variant's owner is the one to die.
  const auto owner = actors::rendezvous_owner(members.alive_ids(), std::stoll(variant));
  const auto dead = members.index_of(owner);
  HttpClient through(cluster.port);
  HttpClient victim(members.ports[dead]);  // three pending orders taken by it, to be paid later
  std::vector<std::string> orders;
  for (int i = 0; i < 3; ++i) {
    auto r = victim.post("/api/v1/orders/", R"({"variant":)" + variant + "}", customer.access);
    ASSERT_EQ(r.status, 201);
    orders.emplace_back(r.json().at("order_id").as_string());
  }

  // Clients keep reading and ordering through the balancer while the owner is killed.
  std::atomic<bool> stop{false};
  std::atomic<int> consecutive_ok{0};
  std::mutex mutex;
  std::map<int, int> reads;   // status → count; 0: a connection error
  std::map<int, int> placed;  // the same for orders
  std::vector<std::thread> load;
  load.reserve(5);
  for (int t = 0; t < 5; ++t) {
    const bool orders_too = t >= 3;
    load.emplace_back([&, orders_too, buyer = server.register_user("customer")] {
      std::unique_ptr<HttpClient> c;
      while (!stop) {
        int status = 0;
        try {
          if (!c) c = std::make_unique<HttpClient>(cluster.port);
          status = orders_too
                       ? c->post("/api/v1/orders/", R"({"variant":)" + variant + "}", buyer.access)
                             .status
                       : c->get("/api/v1/services/variants/" + variant + "/").status;
        } catch (const std::exception&) {
          c.reset();  // a connection error: a new connection next time
        }
        if (!orders_too) consecutive_ok = status == 200 ? consecutive_ok + 1 : 0;
        std::lock_guard lock(mutex);
        ++(orders_too ? placed : reads)[status];
      }
    });
  }
  ASSERT_TRUE(eventually([&] { return consecutive_ok > 50; }));
  members.kill_member(dead);
  consecutive_ok = 0;
  // The balancer stops sending to it (health checks: inter 1 s, fall 2): answers are all good
  // again.
  const bool recovered = eventually([&] { return consecutive_ok > 300; }, 20000);
  stop = true;
  for (auto& t : load) t.join();
  EXPECT_TRUE(recovered);
  for (const auto& [status, count] : reads) {
    EXPECT_TRUE(status == 200 || status == 503 || status == 0)
        << count << " reads answered " << status << " (only 200, 503 or a connection error)";
  }
  for (const auto& [status, count] : placed) {
    EXPECT_TRUE(status == 201 || status == 503 || status == 0)
        << count << " orders answered " << status << " (only 201, 503 or a connection error)";
  }
  EXPECT_GT(placed[201], 0);

  // The variant has a new owner among the living, whose stock actor takes its orders.
  ASSERT_TRUE(members.agreed(admin.access));
  const auto heir = actors::rendezvous_owner(members.alive_ids(), std::stoll(variant));
  const auto heir_port = members.ports[members.index_of(heir)];
  const auto before = accepted_by(heir_port, admin.access, variant);
  auto after = through.post("/api/v1/orders/", R"({"variant":)" + variant + "}", customer.access);
  EXPECT_EQ(after.status, 201) << after.body;
  EXPECT_NE(after.header("x-served-by"), HaproxyCluster::served_by(dead));
  EXPECT_EQ(accepted_by(heir_port, admin.access, variant), before + 1);

  // The orders it took are still there for the living members: the gateway's notifications,
  // through the balancer, confirm each once; nothing was lost or counted twice.
  for (const auto& id : orders) {
    const auto form = FakeSslcommerz::encode(shared_gateway().pay(id, "500.00"));
    auto r = through.request("POST", "/webhooks/payment/" + id + "/", form,
                             {{"Content-Type", "application/x-www-form-urlencoded"}});
    EXPECT_EQ(r.status, 200) << r.body;
    auto order = server.client().get("/api/v1/orders/" + id + "/", customer.access).json();
    EXPECT_NE(order.at("status").as_string(), "pending") << id;
    EXPECT_EQ(order.at("payment").at("amount").as_string(), "500.00");
  }
  // Every unit is in stock or held by an order: none lost or counted twice while the owner died
  // (an order it made as it died, its answer lost, holds its unit until the gateway says it was
  // not paid, or it is swept as an orphan when it has no session).
  EXPECT_EQ(held(variant).stock_and_held, stock);
}

// X-Forwarded-For: the balancer sets it to the address it received from (a client's own header
// is replaced), and a member believes it only from the balancer's address (TRUSTED_PROXIES).
// /metrics, served to loopback only, shows which address the member acted on.
TEST(BehindHaproxy, TheClientAddressIsTheBalancersWordNotTheClients) {
  if (haproxy_binary() == nullptr) GTEST_SKIP() << "haproxy is not installed (install-deps.sh)";
  auto& server = TestServer::shared();
  auto admin = server.create_admin();
  HaproxyCluster cluster(server, 1);
  ASSERT_TRUE(cluster.ready(admin.access));
  const std::vector<std::pair<std::string, std::string>> spoofed{
      {"X-Forwarded-For", "203.0.113.9"}};
  // Through the balancer: the spoofed header is replaced by the real (loopback) address.
  EXPECT_EQ(HttpClient(cluster.port).request("GET", "/metrics", "", spoofed).status, 200);
  // Straight to the member from a trusted address, the header would be believed: not loopback.
  const auto member = cluster.members.ports[0];
  EXPECT_EQ(HttpClient(member).request("GET", "/metrics", "", spoofed).status, 403);
  EXPECT_EQ(HttpClient(member).get("/metrics").status, 200);
}
