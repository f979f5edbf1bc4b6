// marketlink_bench: order and payment throughput and latency against a real server process,
// PostgreSQL (default durability), Redis and the fake SSLCommerz, all on this machine. Prints a
// table.
//   marketlink_bench <marketlink binary> [scale]   (scale 1.0 = the sizes in README)
//   BENCH_ONLY=orders|payments|memory runs one group of scenarios.
// Needs DATABASE_URL / REDIS_HOST / REDIS_PORT of a migrated database.

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
#include <pqxx/pqxx>
#include <random>
#include <thread>

#include "actors/accounts/tokens.hpp"
#include "persistence/database.hpp"
#include "persistence/ids.hpp"
#include "tests/support/fake_sslcommerz.hpp"
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

Server start_server(const marketlink::testing::FakeSslcommerz& gateway, const std::string& binary,
                    int batch, int idle_seconds) {
  Server s;
  s.port = free_port();
  s.pid =
      marketlink::testing::spawn_process(binary, {"serve"},
                                         {{"SECRET_KEY", kSecret},
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
                                          {"DB_POOL_SIZE", env("BENCH_DB_POOL", "16")}});
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

// One keep-alive POST on `stream`; the response.
net::awaitable<bhttp::response<bhttp::string_body>> post(
    beast::tcp_stream& stream, beast::flat_buffer& buffer, const std::string& target,
    const std::string& content_type, const std::string& token, std::string body) {
  bhttp::request<bhttp::string_body> req{bhttp::verb::post, target, 11};
  req.set(bhttp::field::host, "127.0.0.1");
  req.set(bhttp::field::content_type, content_type);
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

Seed seed(pqxx::connection& c, int n, int stock, int customers) {
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
  auto service = w.exec_params1(
                      "INSERT INTO services (vendor_id, name, description) VALUES ($1, 'Bench "
                      "service', 'bench') RETURNING id::text",
                      profile)[0]
                     .as<std::string>();
  for (const auto& r : w.exec_params(
           "INSERT INTO service_variants (service_id, name, price, estimated_minutes, stock) "
           "SELECT $1, 'v' || g, 1500.00, 30, $3 FROM generate_series(1, $2) g RETURNING id",
           service, n, stock)) {
    s.variants.push_back(r[0].as<int64_t>());
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
  std::printf("| %-12s | %5d | %-34s | %14s | %-30s |\n", scenario.c_str(), batch, metric.c_str(),
              value.c_str(), check.c_str());
  std::fflush(stdout);
}

std::string fmt(double v, int precision = 0) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", precision, v);
  return buf;
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
      "| scenario     | batch | metric                             |          value | check        "
      "                  |\n");
  std::printf(
      "|--------------|-------|------------------------------------|----------------|--------------"
      "------------------|\n");
  // BENCH_ONLY=orders|payments|memory runs one group.
  const auto only = env("BENCH_ONLY");
  auto wanted = [&only](const char* group) { return only.empty() || only == group; };
  for (int batch : {64, 1}) {
    if (!wanted("orders")) break;
    // 1. Hot variant: one variant, 64 clients.
    {
      const auto stock = static_cast<int>(scaled(20000));
      auto s = seed(db, 1, stock, static_cast<int>(scaled(20000)));
      auto server = start_server(gateway, binary, batch, 60);
      Load load{s.tokens, s.variants, false, static_cast<std::size_t>(stock), 64};
      auto r = run_load(server.port, load);
      stop_server(server);
      const int left = db_stock_sum(db, s.variants);
      row("hot", batch, "orders/s", fmt(static_cast<double>(r.created) / r.seconds), "");
      row("hot", batch, "latency p50 / p99 (ms)",
          fmt(pct(r.latencies_ms, 0.5), 1) + " / " + fmt(pct(r.latencies_ms, 0.99), 1), "");
      row("hot", batch, "orders created", std::to_string(r.created),
          (static_cast<int>(r.created) == stock - left ? "ok: == stock - final stock"
                                                       : "MISMATCH") +
              std::string(r.other ? " (errors!)" : ""));
    }
    // 2. Flash sale: 100 units, 10,000 requests from 256 clients.
    {
      auto s = seed(db, 1, 100, static_cast<int>(scaled(10000)));
      auto server = start_server(gateway, binary, batch, 60);
      Load load{s.tokens, s.variants, false, scaled(10000), 256};
      auto r = run_load(server.port, load);
      stop_server(server);
      row("flash sale", batch, "answered requests/s",
          fmt(static_cast<double>(r.latencies_ms.size()) / r.seconds), "");
      row("flash sale", batch, "rejected requests/s",
          fmt(static_cast<double>(r.rejected) / r.seconds), "");
      row("flash sale", batch, "orders created", std::to_string(r.created),
          r.created == 100 && db_stock_sum(db, s.variants) == 0 ? "ok: exactly 100" : "MISMATCH");
    }
    // 3. Spread: 1,000 variants picked at random.
    {
      auto s = seed(db, 1000, 1000, static_cast<int>(scaled(20000)));
      auto server = start_server(gateway, binary, batch, 60);
      Load load{s.tokens, s.variants, true, scaled(20000), 64};
      auto r = run_load(server.port, load);
      stop_server(server);
      const int left = db_stock_sum(db, s.variants);
      row("spread", batch, "orders/s", fmt(static_cast<double>(r.created) / r.seconds), "");
      row("spread", batch, "latency p50 / p99 (ms)",
          fmt(pct(r.latencies_ms, 0.5), 1) + " / " + fmt(pct(r.latencies_ms, 0.99), 1), "");
      row("spread", batch, "orders created", std::to_string(r.created),
          static_cast<int>(r.created) == 1000 * 1000 - left ? "ok: == stock taken" : "MISMATCH");
    }
  }
  // 4. Payments: IPN confirmations of orders created beforehand, then order + IPN end to end.
  if (wanted("payments")) {
    const auto n = static_cast<int>(scaled(10000));
    auto s = seed(db, 1, 2 * n, n);
    auto server = start_server(gateway, binary, 64, 60);
    Load load{s.tokens, s.variants, false, static_cast<std::size_t>(n), 64};
    run_load(server.port, load);  // n pending orders
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
    auto r = run_clients(64, [&](auto& next, auto& out, auto& m) {
      return list_client(server.port, ipns, next, out, m);
    });
    row("payments", 64, "IPN confirmations/s", fmt(static_cast<double>(r.created) / r.seconds), "");
    row("payments", 64, "IPN latency p50 / p99 (ms)",
        fmt(pct(r.latencies_ms, 0.5), 1) + " / " + fmt(pct(r.latencies_ms, 0.99), 1), "");
    // End to end on the same variant: book, pay, notify.
    Load pairs{s.tokens, s.variants, false, static_cast<std::size_t>(n), 64};
    auto e = run_clients(64, [&](auto& next, auto& out, auto& m) {
      return pay_client(server.port, gateway, pairs, next, out, m);
    });
    row("payments", 64, "order + IPN, confirmed/s", fmt(static_cast<double>(e.created) / e.seconds),
        "");
    row("payments", 64, "order + IPN latency p50/p99 (ms)",
        fmt(pct(e.latencies_ms, 0.5), 1) + " / " + fmt(pct(e.latencies_ms, 0.99), 1), "");
    // The outbox finishes the after-payment jobs: one invoice and one workflow start per payment.
    const auto confirmed = static_cast<long long>(r.created + e.created);
    const auto t0 = clock_type::now();
    const std::string processing =
        "SELECT count(*) FROM orders WHERE variant_id = $1 AND status = 'processing'";
    while (scalar(db, processing, s.variants[0]) < confirmed &&
           clock_type::now() - t0 < std::chrono::seconds(120)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    const auto drained = std::chrono::duration<double>(clock_type::now() - t0).count();
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
    row("payments", 64, "outbox drained after load (s)", fmt(drained, 1), "invoices + workflow");
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
