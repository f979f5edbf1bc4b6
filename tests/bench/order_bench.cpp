// marketlink_bench: order and payment throughput and latency against a real server process,
// PostgreSQL (default durability), Redis and the fake SSLCommerz, all on this machine. Prints a
// table.
//   marketlink_bench <marketlink binary> [scale]   (scale 1.0 = the sizes in README)
//   BENCH_ONLY=catalog|orders|cluster|payments|memory runs one group of scenarios.
// Needs DATABASE_URL / REDIS_HOST / REDIS_PORT of a migrated database.

#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <pqxx/pqxx>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "actors/accounts/tokens.hpp"
#include "persistence/database.hpp"
#include "persistence/ids.hpp"
#include "tests/support/fake_sslcommerz.hpp"
#include "tests/support/haproxy.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/process.hpp"

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using clock_type = std::chrono::steady_clock;

namespace {

const std::string kSecret = "bench-secret-key-0123456789abcdef";

std::string env(const char* name, const std::string& fallback = "") {
  const char* v = std::getenv(name);
  return v != nullptr ? v : fallback;
}

uint16_t free_port() {
  net::io_context ioc;
  tcp::acceptor a(ioc, {net::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

long rss_kib(pid_t pid, const char* field = "VmRSS:") {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  long value = 0;
  while (in >> key) {
    if (key == field) {
      in >> value;
      return value;
    }
    std::getline(in, key);
  }
  return -1;
}

struct Server {
  pid_t pid = -1;
  uint16_t port = 0;
};

// CPU time the process used so far (user + system), in milliseconds.
double cpu_ms(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
  std::istringstream rest(text.substr(text.rfind(')') + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i >= 14) ticks += std::stod(field);
  }
  return ticks * 1000.0 / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Committed transactions of the database so far. Backends publish their counts lazily (at
// exit, or at most once a second while busy), so a measurement ends after its server stopped.
long long commits(pqxx::connection& c) {
  pqxx::work w(c);
  return w.exec1("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")[0]
      .as<long long>();
}

// What a scenario cost: PostgreSQL commits (the bench's own reads between begin and end
// excluded) and the server's CPU time.
struct Cost {
  long long commits0 = 0, own = 0;
  double cpu0 = 0, cpu = 0;
  void begin(pqxx::connection& c, pid_t pid) {
    commits0 = commits(c);
    cpu0 = cpu_ms(pid);
  }
  void server_done(pid_t pid) { cpu = cpu_ms(pid) - cpu0; }
  // After the server stopped: commits per request and CPU ms per 1,000 requests.
  std::pair<double, double> per(pqxx::connection& c, std::size_t requests) const {
    const auto n = static_cast<double>(std::max<std::size_t>(requests, 1));
    const auto made = static_cast<double>(commits(c) - commits0 - 1 - own);
    return {made / n, cpu * 1000.0 / n};
  }
};

Server start_server(const marketlink::testing::FakeSslcommerz& gateway, const std::string& binary,
                    int batch, int idle_seconds,
                    const std::map<std::string, std::string>& extra = {}) {
  Server s;
  s.port = free_port();
  std::map<std::string, std::string> vars{{"SECRET_KEY", kSecret},
                                          {"HTTP_PORT", std::to_string(s.port)},
                                          {"SSLCOMMERZ_STORE_ID", "benchstore"},
                                          {"WEBHOOK_SECRET", "bench-pass"},
                                          {"SSLCOMMERZ_SESSION_URL", gateway.session_url()},
                                          {"SSLCOMMERZ_VALIDATION_URL", gateway.validation_url()},
                                          {"STOCK_BATCH_SIZE", std::to_string(batch)},
                                          {"STOCK_IDLE_SECONDS", std::to_string(idle_seconds)},
                                          {"LOG_LEVEL", "warn"},
                                          {"ENV_FILE", "/nonexistent"},
                                          {"REGISTER_RATE_PER_MINUTE", "100000000"},
                                          // one client places every order: no abuse limits
                                          {"ORDER_RATE_PER_MINUTE", "0"},
                                          {"ORDER_PENDING_PER_CUSTOMER", "0"},
                                          {"LOGIN_RATE_PER_MINUTE", "0"},
                                          {"MAX_CONNECTIONS_PER_ADDRESS", "0"},
                                          {"DB_POOL_SIZE", env("BENCH_DB_POOL", "16")}};
  for (const auto& [k, v] : extra) vars[k] = v;
  s.pid = marketlink::testing::spawn_process(binary, {"serve"}, vars);
  for (int i = 0; i < 5000; ++i) {
    try {
      net::io_context ioc;
      tcp::socket sock(ioc);
      sock.connect({net::ip::make_address("127.0.0.1"), s.port});
      return s;
    } catch (const std::exception&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  throw std::runtime_error("server did not start");
}

// The PostgreSQL statements the server has sent so far (from its /metrics).
double db_statements(uint16_t port) {
  net::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  bhttp::request<bhttp::empty_body> req{bhttp::verb::get, "/metrics", 11};
  req.set(bhttp::field::host, "127.0.0.1");
  bhttp::write(stream, req);
  beast::flat_buffer buffer;
  bhttp::response<bhttp::string_body> res;
  bhttp::read(stream, buffer, res);
  const std::string key = "marketlink_state{what=\"db_statements\"} ";
  const auto at = res.body().find(key);
  if (at == std::string::npos) throw std::runtime_error("no db_statements in /metrics");
  return std::stod(res.body().substr(at + key.size()));
}

void stop_server(const Server& s) {
  marketlink::testing::stop_process(s.pid);
}

struct Load {
  std::vector<std::string> tokens;
  std::vector<int64_t> variants;
  bool random_variant = false;
  std::size_t total = 0;
  int clients = 1;
};

struct LoadResult {
  double seconds = 0;
  std::size_t created = 0, rejected = 0, other = 0;
  std::vector<double> latencies_ms;
};

// One keep-alive request on `stream` (a GET when there is no body); the response.
net::awaitable<bhttp::response<bhttp::string_body>> post(
    beast::tcp_stream& stream, beast::flat_buffer& buffer, const std::string& target,
    const std::string& content_type, const std::string& token, std::string body) {
  bhttp::request<bhttp::string_body> req{body.empty() ? bhttp::verb::get : bhttp::verb::post,
                                         target, 11};
  req.set(bhttp::field::host, "127.0.0.1");
  if (!body.empty()) req.set(bhttp::field::content_type, content_type);
  if (!token.empty()) req.set(bhttp::field::authorization, "Bearer " + token);
  req.body() = std::move(body);
  req.keep_alive(true);
  req.prepare_payload();
  co_await bhttp::async_write(stream, req, net::use_awaitable);
  bhttp::response<bhttp::string_body> res;
  co_await bhttp::async_read(stream, buffer, res, net::use_awaitable);
  co_return res;
}

net::awaitable<void> client(uint16_t port, const Load& load, std::atomic<std::size_t>& next,
                            LoadResult& out, std::mutex& m, unsigned seed) {
  auto ex = co_await net::this_coro::executor;
  beast::tcp_stream stream(ex);
  co_await stream.async_connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port),
                                net::use_awaitable);
  beast::flat_buffer buffer;
  std::mt19937 rng(seed);
  std::vector<double> lat;
  std::size_t created = 0, rejected = 0, other = 0;
  while (true) {
    const auto i = next.fetch_add(1);
    if (i >= load.total) break;
    const auto variant = load.random_variant ? load.variants[rng() % load.variants.size()]
                                             : load.variants[i % load.variants.size()];
    const auto t0 = clock_type::now();
    auto res = co_await post(stream, buffer, "/api/v1/orders/", "application/json",
                             load.tokens[i % load.tokens.size()],
                             "{\"variant\":" + std::to_string(variant) + "}");
    lat.push_back(std::chrono::duration<double, std::milli>(clock_type::now() - t0).count());
    const int status = static_cast<int>(res.result_int());
    if (status == 201) {
      ++created;
    } else if (status == 400) {
      ++rejected;
    } else {
      ++other;
    }
  }
  std::lock_guard lock(m);
  out.created += created;
  out.rejected += rejected;
  out.other += other;
  out.latencies_ms.insert(out.latencies_ms.end(), lat.begin(), lat.end());
}

template <class Spawn>
LoadResult run_clients(int clients, Spawn spawn);

LoadResult run_load(uint16_t port, const Load& load) {
  unsigned seed = 0;
  return run_clients(load.clients, [&](auto& next, auto& out, auto& m) {
    return client(port, load, next, out, m, ++seed);
  });
}

// A fixed list of requests sent by `clients` keep-alive connections; 2xx counts as done.
struct Prepared {
  std::string target, body, content_type, token;
};

net::awaitable<void> list_client(uint16_t port, const std::vector<Prepared>& list,
                                 std::atomic<std::size_t>& next, LoadResult& out, std::mutex& m) {
  auto ex = co_await net::this_coro::executor;
  beast::tcp_stream stream(ex);
  co_await stream.async_connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port),
                                net::use_awaitable);
  beast::flat_buffer buffer;
  std::vector<double> lat;
  std::size_t ok = 0, other = 0;
  while (true) {
    const auto i = next.fetch_add(1);
    if (i >= list.size()) break;
    const auto& p = list[i];
    const auto t0 = clock_type::now();
    auto res = co_await post(stream, buffer, p.target, p.content_type, p.token, p.body);
    lat.push_back(std::chrono::duration<double, std::milli>(clock_type::now() - t0).count());
    (res.result_int() / 100 == 2 ? ok : other) += 1;
  }
  std::lock_guard lock(m);
  out.created += ok;
  out.other += other;
  out.latencies_ms.insert(out.latencies_ms.end(), lat.begin(), lat.end());
}

// GETs of one target by `clients` keep-alive connections, `total` in all.
LoadResult run_gets(uint16_t port, const std::string& target, const std::string& token,
                    std::size_t total, int clients) {
  const std::vector<Prepared> list(total, Prepared{target, "", "", token});
  return run_clients(clients, [&](auto& next, auto& out, auto& m) {
    return list_client(port, list, next, out, m);
  });
}

// End to end: each client books an order, pays it at the fake gateway and sends the signed VALID
// notification, `total` times in all.
net::awaitable<void> pay_client(uint16_t port, marketlink::testing::FakeSslcommerz& gateway,
                                const Load& load, std::atomic<std::size_t>& next, LoadResult& out,
                                std::mutex& m) {
  auto ex = co_await net::this_coro::executor;
  beast::tcp_stream stream(ex);
  co_await stream.async_connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port),
                                net::use_awaitable);
  beast::flat_buffer buffer;
  std::vector<double> lat;
  std::size_t confirmed = 0, other = 0;
  while (true) {
    const auto i = next.fetch_add(1);
    if (i >= load.total) break;
    const auto t0 = clock_type::now();
    auto res = co_await post(
        stream, buffer, "/api/v1/orders/", "application/json", load.tokens[i % load.tokens.size()],
        "{\"variant\":" + std::to_string(load.variants[i % load.variants.size()]) + "}");
    const auto key = res.body().find("\"order_id\":\"");
    if (res.result_int() != 201 || key == std::string::npos) {
      ++other;
      continue;
    }
    const auto order_id = res.body().substr(key + 12, 36);
    auto paid = co_await post(
        stream, buffer, "/webhooks/payment/" + order_id + "/", "application/x-www-form-urlencoded",
        "", marketlink::testing::FakeSslcommerz::encode(gateway.pay(order_id, "1500.00")));
    lat.push_back(std::chrono::duration<double, std::milli>(clock_type::now() - t0).count());
    (paid.result_int() == 200 ? confirmed : other) += 1;
  }
  std::lock_guard lock(m);
  out.created += confirmed;
  out.other += other;
  out.latencies_ms.insert(out.latencies_ms.end(), lat.begin(), lat.end());
}

template <class Spawn>
LoadResult run_clients(int clients, Spawn spawn) {
  net::io_context ioc(1);
  std::atomic<std::size_t> next{0};
  LoadResult out;
  std::mutex m;
  for (int c = 0; c < clients; ++c) {
    net::co_spawn(ioc, spawn(next, out, m), [](std::exception_ptr ep) {
      if (ep) {
        try {
          std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          std::cerr << "client failed: " << e.what() << "\n";
        }
      }
    });
  }
  const auto t0 = clock_type::now();
  ioc.run();
  out.seconds = std::chrono::duration<double>(clock_type::now() - t0).count();
  std::sort(out.latencies_ms.begin(), out.latencies_ms.end());
  return out;
}

long long scalar(pqxx::connection& c, const std::string& sql, int64_t variant) {
  pqxx::work w(c);
  return w.exec_params1(sql, variant)[0].as<long long>();
}

double pct(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  return sorted[std::min(sorted.size() - 1,
                         static_cast<std::size_t>(p * static_cast<double>(sorted.size())))];
}

// Seeding straight in SQL: one active vendor, `n` variants of `stock` each, `customers` users.
struct Seed {
  std::vector<int64_t> variants;
  std::vector<std::string> tokens;
};

Seed seed(pqxx::connection& c, int n, int stock, int customers, int services = 1) {
  Seed s;
  pqxx::work w(c);
  const auto tag = marketlink::random_uuid().substr(0, 8);
  auto vendor = w.exec_params1(
                     "INSERT INTO users (email, password, role) VALUES ($1, 'x', 'vendor') "
                     "RETURNING id::text",
                     "bench-vendor-" + tag + "@x.com")[0]
                    .as<std::string>();
  auto profile = w.exec_params1(
                      "INSERT INTO vendor_profiles (user_id, business_name, address, is_active) "
                      "VALUES ($1, 'Bench', 'x', true) "
                      "RETURNING id::text",
                      vendor)[0]
                     .as<std::string>();
  for (int k = 0; k < services; ++k) {
    auto service = w.exec_params1(
                        "INSERT INTO services (vendor_id, name, description) VALUES ($1, 'Bench "
                        "service ' || $2, 'Brake pads, oil change and a look at the tyres') "
                        "RETURNING id::text",
                        profile, k)[0]
                       .as<std::string>();
    for (const auto& r : w.exec_params(
             "INSERT INTO service_variants (service_id, name, price, estimated_minutes, stock) "
             "SELECT $1, 'v' || g, 1500.00, 30, $3 FROM generate_series(1, $2) g RETURNING id",
             service, n, stock)) {
      s.variants.push_back(r[0].as<int64_t>());
    }
  }
  marketlink::actors::TokenService tokens(kSecret, std::chrono::hours(2), std::chrono::hours(2));
  const auto now = marketlink::actors::unix_now();
  for (const auto& r : w.exec_params("INSERT INTO users (email, password, role) SELECT 'bench-' || "
                                     "$1 || '-' || g || '@x.com', 'x', 'customer' "
                                     "FROM generate_series(1, $2) g RETURNING id::text",
                                     tag, customers)) {
    s.tokens.push_back(tokens.issue("access", r[0].as<std::string>(), now).token);
  }
  w.commit();
  return s;
}

// An admin's access token (the cluster scenario reads each member's view of the owners).
std::string admin_token(pqxx::connection& c) {
  pqxx::work w(c);
  const auto id = w.exec_params1(
                       "INSERT INTO users (email, password, role) VALUES ('bench-admin-' "
                       "|| gen_random_uuid() || '@x.com', 'x', 'admin') RETURNING id::text")[0]
                      .as<std::string>();
  w.commit();
  marketlink::actors::TokenService tokens(kSecret, std::chrono::hours(2), std::chrono::hours(2));
  return tokens.issue("access", id, marketlink::actors::unix_now()).token;
}

// Until every member sees `n` owners (their links are up and each knows the others).
void wait_for_owners(const std::vector<uint16_t>& ports, const std::string& token, std::size_t n) {
  for (int i = 0; i < 2000; ++i) {
    std::size_t agreeing = 0;
    for (auto port : ports) {
      auto r = marketlink::testing::HttpClient(port).get("/api/v1/ops/cluster/", token);
      if (r.status != 200) continue;
      const auto body = r.json();
      if (body.at("ownership").at("owners").as_array().size() == n) ++agreeing;
    }
    if (agreeing == ports.size()) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  throw std::runtime_error("the members did not agree on the owners");
}

int db_stock_sum(pqxx::connection& c, const std::vector<int64_t>& variants) {
  pqxx::work w(c);
  auto r = w.exec_params1(
      "SELECT coalesce(sum(stock), 0) FROM service_variants WHERE id = ANY($1::bigint[])",
      "{" +
          [&] {
            std::string s;
            for (auto v : variants) s += (s.empty() ? "" : ",") + std::to_string(v);
            return s;
          }() +
          "}");
  return r[0].as<int>();
}

void row(const std::string& scenario, int batch, const std::string& metric,
         const std::string& value, const std::string& check) {
  std::printf("| %-14s | %5d | %-34s | %14s | %-30s |\n", scenario.c_str(), batch, metric.c_str(),
              value.c_str(), check.c_str());
  std::fflush(stdout);
}

std::string fmt(double v, int precision = 0) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", precision, v);
  return buf;
}

// The two cost rows of a scenario, with the check of its commit target (none when max < 0).
void cost_rows(const std::string& scenario, int batch, const std::pair<double, double>& per,
               const char* unit, double max_commits) {
  row(scenario, batch, std::string("PostgreSQL commits / ") + unit, fmt(per.first, 3),
      max_commits < 0            ? ""
      : per.first <= max_commits ? "ok: <= " + fmt(max_commits, 2)
                                 : "MISSED: target <= " + fmt(max_commits, 2));
  row(scenario, batch, "server CPU ms / 1,000 requests", fmt(per.second, 0), "");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: marketlink_bench <marketlink binary> [scale]\n";
    return 2;
  }
  const std::string binary = argv[1];
  const double scale = argc > 2 ? std::stod(argv[2]) : 1.0;
  auto scaled = [scale](double n) {
    return std::max<std::size_t>(1, static_cast<std::size_t>(n * scale));
  };
  const std::string db_url = env("DATABASE_URL");
  pqxx::connection db(db_url);
  marketlink::testing::FakeSslcommerz gateway("benchstore", "bench-pass", 2);
  std::printf(
      "| scenario       | batch | metric                             |          value | check      "
      "  "
      "                  |\n");
  std::printf(
      "|----------------|-------|------------------------------------|----------------|------------"
      "--"
      "------------------|\n");
  // BENCH_ONLY=catalog|orders|cluster|payments|memory runs one group.
  const auto only = env("BENCH_ONLY");
  auto wanted = [&only](const char* group) { return only.empty() || only == group; };
  // 0. Reads: the ceiling (GET /healthz) and the catalog list, the same client, one server.
  if (wanted("catalog")) {
    auto s = seed(db, 3, 50, 1, 20);
    auto server = start_server(gateway, binary, 64, 60);
    const auto n = scaled(50000);
    auto ceiling = run_gets(server.port, "/healthz", "", n, 64);
    Cost cost;
    cost.begin(db, server.pid);
    auto r = run_gets(server.port, "/api/v1/services/", s.tokens.front(), n, 64);
    cost.server_done(server.pid);
    stop_server(server);
    const double healthz = static_cast<double>(ceiling.created) / ceiling.seconds;
    const double listed = static_cast<double>(r.created) / r.seconds;
    row("ceiling", 0, "GET /healthz req/s", fmt(healthz), "the client's ceiling");
    row("catalog", 0, "GET /api/v1/services/ req/s", fmt(listed),
        r.other ? "ERRORS: " + std::to_string(r.other) : "");
    row("catalog", 0, "latency p50 / p99 (ms)",
        fmt(pct(r.latencies_ms, 0.5), 1) + " / " + fmt(pct(r.latencies_ms, 0.99), 1), "");
    row("catalog", 0, "share of the /healthz ceiling", fmt(100.0 * listed / healthz) + " %",
        listed >= 0.5 * healthz ? "ok: >= 50 %" : "MISSED: target >= 50 %");
    cost_rows("catalog", 0, cost.per(db, r.created + r.other), "request", 0.01);
  }
  for (int batch : {64, 1}) {
    if (!wanted("orders")) break;
    // 1. Hot variant: one variant, 64 clients; at batch 64 also without commit linger (what the
    // fewer commits cost in throughput). Returns orders/s.
    auto hot = [&](const std::string& name, const std::map<std::string, std::string>& extra,
                   double max_commits) {
      const auto stock = static_cast<int>(scaled(20000));
      auto s = seed(db, 1, stock, static_cast<int>(scaled(20000)));
      auto server = start_server(gateway, binary, batch, 60, extra);
      Load load{s.tokens, s.variants, false, static_cast<std::size_t>(stock), 64};
      Cost cost;
      cost.begin(db, server.pid);
      auto r = run_load(server.port, load);
      cost.server_done(server.pid);
      stop_server(server);
      const int left = db_stock_sum(db, s.variants);
      ++cost.own;
      const double rate = static_cast<double>(r.created) / r.seconds;
      row(name, batch, "orders/s", fmt(rate), extra.empty() ? "" : "COMMIT_LINGER_US=0");
      row(name, batch, "latency p50 / p99 (ms)",
          fmt(pct(r.latencies_ms, 0.5), 1) + " / " + fmt(pct(r.latencies_ms, 0.99), 1), "");
      row(name, batch, "orders created", std::to_string(r.created),
          (static_cast<int>(r.created) == stock - left ? "ok: == stock - final stock"
                                                       : "MISMATCH") +
              std::string(r.other ? " (errors!)" : ""));
      cost_rows(name, batch, cost.per(db, r.created), "order", max_commits);
      return rate;
    };
    const double hot_rate = hot("hot", {}, batch > 1 ? 0.1 : -1);
    if (batch > 1) hot("hot, no linger", {{"COMMIT_LINGER_US", "0"}}, -1);
    // 2. Flash sale: 100 units, 10,000 requests from 256 clients (256 customers), then as many
    // again once sold out: what a sold-out answer costs.
    {
      auto s = seed(db, 1, 100, 256);
      auto server = start_server(gateway, binary, batch, 60);
      Load load{s.tokens, s.variants, false, scaled(10000), 256};
      Cost cost;
      cost.begin(db, server.pid);
      auto r = run_load(server.port, load);
      cost.server_done(server.pid);
      stop_server(server);
      row("flash sale", batch, "answered requests/s",
          fmt(static_cast<double>(r.latencies_ms.size()) / r.seconds), "");
      row("flash sale", batch, "rejected requests/s",
          fmt(static_cast<double>(r.rejected) / r.seconds), "");
      row("flash sale", batch, "orders created", std::to_string(r.created),
          r.created == 100 && db_stock_sum(db, s.variants) == 0 ? "ok: exactly 100" : "MISMATCH");
      ++cost.own;
      cost_rows("flash sale", batch, cost.per(db, r.latencies_ms.size()), "request", -1);
      {
        auto again = start_server(gateway, binary, batch, 60);
        run_load(again.port, Load{s.tokens, s.variants, false, 256, 64});  // users cached
        const double before = db_statements(again.port);
        auto sold_out = run_load(again.port, load);
        const double statements = db_statements(again.port) - before;
        stop_server(again);
        row("flash sale", batch, "sold out: answers/s",
            fmt(static_cast<double>(sold_out.rejected) / sold_out.seconds), "");
        row("flash sale", batch, "sold out: SQL statements / answer",
            fmt(statements / static_cast<double>(sold_out.latencies_ms.size()), 4),
            statements == 0 ? "ok: none" : "MISSED: target 0");
      }
    }
    // 3. Spread: 1,000 variants picked at random.
    {
      auto s = seed(db, 1000, 1000, static_cast<int>(scaled(20000)));
      auto server = start_server(gateway, binary, batch, 60);
      Load load{s.tokens, s.variants, true, scaled(20000), 64};
      Cost cost;
      cost.begin(db, server.pid);
      auto r = run_load(server.port, load);
      // The same again on the same server: every variant's stock actor is running by now
      // (the first pass also paid for starting 1,000 of them: a reseed each).
      auto warm = run_load(server.port, load);
      cost.server_done(server.pid);
      stop_server(server);
      const int left = db_stock_sum(db, s.variants);
      ++cost.own;
      const double rate = static_cast<double>(r.created) / r.seconds;
      const double warm_rate = static_cast<double>(warm.created) / warm.seconds;
      row("spread", batch, "orders/s (actors starting)", fmt(rate), "");
      row("spread", batch, "orders/s (actors running)", fmt(warm_rate), "");
      row("spread", batch, "running: share of hot", fmt(100.0 * warm_rate / hot_rate) + " %",
          batch == 1                    ? ""
          : warm_rate >= 0.8 * hot_rate ? "ok: >= 80 %"
                                        : "MISSED: target >= 80 %");
      row("spread", batch, "latency p50 / p99 (ms), running",
          fmt(pct(warm.latencies_ms, 0.5), 1) + " / " + fmt(pct(warm.latencies_ms, 0.99), 1), "");
      const auto created = r.created + warm.created;
      row("spread", batch, "orders created", std::to_string(created),
          static_cast<int>(created) == 1000 * 1000 - left ? "ok: == stock taken" : "MISMATCH");
      cost_rows("spread", batch, cost.per(db, created), "order (both)", -1);
    }
  }
  // 4. Payments: IPN confirmations of orders created beforehand (a fresh server, so its cost
  // is the confirmations' and their outbox jobs' alone), then order + IPN end to end.
  // 5. Several processes behind HAProxy (docker/haproxy/haproxy.cfg, round robin): the hot
  // variant with 1 member, with 3 each selling it through its own stock actor, and with 3 whose
  // links are on (ownership: the variant's owner places every order, the others forward). Cold:
  // every order is its customer's first request to the member that takes it (authentication
  // reads the user); warm: every member has seen every customer. Ownership is called for when 3
  // are worse than 1 by more than 20 % on either figure.
  if (wanted("cluster") && marketlink::testing::haproxy_binary() != nullptr) {
    const auto admin = admin_token(db);
    double rate1 = 0;
    double commits1 = 0;
    struct Shape {
      int members;
      bool linked;
      bool warm;  // every member already knows every customer (authentication costs no read)
      const char* name;
    };
    for (const auto& shape :
         {Shape{1, false, false, "cluster x1"}, Shape{3, false, false, "cluster x3"},
          Shape{3, true, false, "cluster x3 owned"}, Shape{1, false, true, "warm x1"},
          Shape{3, false, true, "warm x3"}, Shape{3, true, true, "warm x3 owned"}}) {
      const auto stock = static_cast<int>(scaled(20000));
      auto s = seed(db, 1, stock, static_cast<int>(scaled(20000)));
      std::vector<Server> servers;
      std::vector<uint16_t> ports;
      const auto cluster = "bench-" + std::to_string(shape.members) + (shape.linked ? "l" : "");
      for (int i = 0; i < shape.members; ++i) {
        std::map<std::string, std::string> env{{"TRUSTED_PROXIES", "127.0.0.1"},
                                               {"MEMBER_NAME", "bench-m" + std::to_string(i)},
                                               {"CLUSTER_NAME", cluster},
                                               {"MEMBER_HEARTBEAT_MS", "200"},
                                               {"MEMBER_TTL_MS", "2000"}};
        if (shape.linked) env["CLUSTER_LINK_PORT"] = "0";
        if (shape.warm) env["AUTH_CACHE_SECONDS"] = "3600";
        servers.push_back(start_server(gateway, binary, 64, 60, env));
        ports.push_back(servers.back().port);
      }
      if (shape.linked) wait_for_owners(ports, admin, static_cast<std::size_t>(shape.members));
      const auto port = free_port();
      const auto config = marketlink::testing::write_haproxy_config(port, ports);
      const pid_t balancer = marketlink::testing::spawn_haproxy(config);
      // Until the balancer has sent a request to every member (its health checks passed).
      std::set<std::string> seen;
      for (int i = 0; i < 20000 && seen.size() < ports.size(); ++i) {
        try {
          auto r = marketlink::testing::HttpClient(port).get("/healthz");
          if (r.status == 200) seen.insert(r.header("x-served-by"));
        } catch (const std::exception&) {
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
      }
      if (shape.warm) {
        std::vector<Prepared> profiles;
        profiles.reserve(s.tokens.size());
        for (const auto& t : s.tokens) profiles.push_back({"/api/v1/auth/profile/", "", "", t});
        for (auto p : ports) {
          run_clients(64, [&](auto& next, auto& out, auto& m) {
            return list_client(p, profiles, next, out, m);
          });
        }
      }
      Load load{s.tokens, s.variants, false, static_cast<std::size_t>(stock), 64};
      Cost cost;
      cost.begin(db, servers.front().pid);
      auto r = run_load(port, load);
      for (const auto& server : servers) stop_server(server);
      marketlink::testing::stop_process(balancer);
      std::remove(config.c_str());
      const int left = db_stock_sum(db, s.variants);
      ++cost.own;
      const double rate = static_cast<double>(r.created) / r.seconds;
      const double per_order = cost.per(db, r.created).first;
      row(shape.name, 64, "orders/s (through HAProxy)", fmt(rate), "");
      row(shape.name, 64, "latency p50 / p99 (ms)",
          fmt(pct(r.latencies_ms, 0.5), 1) + " / " + fmt(pct(r.latencies_ms, 0.99), 1), "");
      row(shape.name, 64, "orders created", std::to_string(r.created),
          (static_cast<int>(r.created) == stock - left ? "ok: == stock - final stock"
                                                       : "MISMATCH") +
              std::string(r.other ? " (errors!)" : ""));
      row(shape.name, 64, "PostgreSQL commits / order", fmt(per_order, 3), "");
      if (shape.members == 1) {
        rate1 = rate;
        commits1 = per_order;
        continue;
      }
      const std::string vs = std::string(shape.warm ? "warm: " : "cold: ") +
                             (shape.linked ? "3 owned vs 1" : "3 unowned vs 1");
      row("cluster", 64, vs + ": orders/s", fmt(100.0 * rate / rate1) + " %",
          !shape.linked         ? ""
          : rate >= 0.8 * rate1 ? "ok: >= 80 %"
                                : "MISSED: target >= 80 %");
      row("cluster", 64, vs + ": commits / order",
          fmt(100.0 * per_order / std::max(commits1, 1e-9)) + " %",
          !shape.linked                 ? ""
          : per_order <= 1.2 * commits1 ? "ok: <= 120 %"
                                        : "MISSED: target <= 120 %");
    }
  }
  if (wanted("payments")) {
    const auto n = static_cast<int>(scaled(10000));
    auto s = seed(db, 1, 2 * n, n);
    auto server = start_server(gateway, binary, 64, 60);
    Load load{s.tokens, s.variants, false, static_cast<std::size_t>(n), 64};
    run_load(server.port, load);  // n pending orders
    stop_server(server);
    std::vector<Prepared> ipns;
    {
      pqxx::work w(db);
      for (const auto& r :
           w.exec_params("SELECT id::text FROM orders WHERE variant_id = $1 AND status = 'pending'",
                         s.variants[0])) {
        const auto id = r[0].as<std::string>();
        ipns.push_back({"/webhooks/payment/" + id + "/",
                        marketlink::testing::FakeSslcommerz::encode(gateway.pay(id, "1500.00")),
                        "application/x-www-form-urlencoded", ""});
      }
    }
    const std::string processing =
        "SELECT count(*) FROM orders WHERE variant_id = $1 AND status = 'processing'";
    // Until `count` orders moved to processing (the outbox finished their invoice and workflow
    // jobs), at most 120 s: how long it took; each poll is one of the bench's own commits.
    auto drain = [&](long long count, Cost& cost) {
      const auto t0 = clock_type::now();
      while (scalar(db, processing, s.variants[0]) < count &&
             clock_type::now() - t0 < std::chrono::seconds(120)) {
        ++cost.own;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      ++cost.own;
      return std::chrono::duration<double>(clock_type::now() - t0).count();
    };
    server = start_server(gateway, binary, 64, 60);
    Cost cost;
    cost.begin(db, server.pid);
    auto r = run_clients(64, [&](auto& next, auto& out, auto& m) {
      return list_client(server.port, ipns, next, out, m);
    });
    const auto drained = drain(static_cast<long long>(r.created), cost);
    cost.server_done(server.pid);
    stop_server(server);
    row("payments", 64, "IPN confirmations/s", fmt(static_cast<double>(r.created) / r.seconds), "");
    row("payments", 64, "IPN latency p50 / p99 (ms)",
        fmt(pct(r.latencies_ms, 0.5), 1) + " / " + fmt(pct(r.latencies_ms, 0.99), 1), "");
    row("payments", 64, "outbox drained after load (s)", fmt(drained, 1), "invoices + workflow");
    cost_rows("payments", 64, cost.per(db, r.created), "payment (+ its jobs)", 0.3);
    // End to end on the same variant: book, pay, notify.
    server = start_server(gateway, binary, 64, 60);
    Load pairs{s.tokens, s.variants, false, static_cast<std::size_t>(n), 64};
    auto e = run_clients(64, [&](auto& next, auto& out, auto& m) {
      return pay_client(server.port, gateway, pairs, next, out, m);
    });
    row("payments", 64, "order + IPN, confirmed/s", fmt(static_cast<double>(e.created) / e.seconds),
        "");
    row("payments", 64, "order + IPN latency p50/p99 (ms)",
        fmt(pct(e.latencies_ms, 0.5), 1) + " / " + fmt(pct(e.latencies_ms, 0.99), 1), "");
    const auto confirmed = static_cast<long long>(r.created) + static_cast<long long>(e.created);
    Cost ignored;
    drain(confirmed, ignored);
    stop_server(server);
    const auto payments =
        scalar(db,
               "SELECT count(*) FROM payments p JOIN orders o ON o.id = p.order_id "
               "WHERE o.variant_id = $1",
               s.variants[0]);
    const auto invoices =
        scalar(db,
               "SELECT count(*) FROM invoices i JOIN orders o ON o.id = i.order_id "
               "WHERE o.variant_id = $1",
               s.variants[0]);
    const auto moved = scalar(db, processing, s.variants[0]);
    row("payments", 64, "confirmed / payments / invoices",
        std::to_string(confirmed) + " / " + std::to_string(payments) + " / " +
            std::to_string(invoices),
        payments == confirmed && invoices == confirmed && moved == confirmed
            ? "ok: one of each per order"
            : "MISMATCH" + std::string(r.other + e.other ? " (errors!)" : ""));
  }
  // 5. Memory: reservations touching 100,000 distinct variants.
  if (wanted("memory")) {
    const auto n = static_cast<int>(scaled(100000));
    auto s = seed(db, n, 1, n);
    auto server = start_server(gateway, binary, 64, 5);
    const long baseline = rss_kib(server.pid);
    Load load{s.tokens, s.variants, false, static_cast<std::size_t>(n), 64};
    auto r = run_load(server.port, load);
    const long peak = rss_kib(server.pid, "VmHWM:");
    long after = rss_kib(server.pid);
    // Idle eviction after STOCK_IDLE_SECONDS=5; wait up to 20 s for the resident size to fall.
    for (int i = 0; i < 200 && after > baseline + (peak - baseline) / 2; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      after = rss_kib(server.pid);
    }
    stop_server(server);
    row("memory", 64, "variants touched", std::to_string(n), std::to_string(r.created) + " orders");
    row("memory", 64, "RSS baseline / peak / after (MiB)",
        fmt(static_cast<double>(baseline) / 1024.0, 1) + " / " +
            fmt(static_cast<double>(peak) / 1024.0, 1) + " / " +
            fmt(static_cast<double>(after) / 1024.0, 1),
        "");
    row("memory", 64, "peak RSS per live stock actor",
        fmt(static_cast<double>(peak - baseline) * 1024.0 / n) + " B",
        "includes its order rows in flight");
  }
  return 0;
}
