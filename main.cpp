// marketlink: serve | migrate | createsuperuser | check. Wires the pieces together, nothing more.
#include <spdlog/spdlog.h>
#include <termios.h>
#include <unistd.h>

#include <cstdlib>
#include <future>
#include <iostream>
#include <string>
#include <thread>

#include "actors/accounts/accounts.hpp"
#include "actors/runtime/runtime.hpp"
#include "actors/services.hpp"
#include "config/config.hpp"
#include "http/app.hpp"
#include "http/handler_support.hpp"
#include "http/series.hpp"
#include "http/server/server.hpp"
#include "persistence/database.hpp"
#include "persistence/migrations.hpp"

namespace ml = marketlink;

namespace {

// The configuration; `serving` adds the checks a serving process must pass (secrets).
std::optional<ml::config::Config> load_config(bool serving) {
  const char* env_file = std::getenv("ENV_FILE");
  auto loaded =
      ml::config::load(ml::config::environment_with_file(env_file != nullptr ? env_file : ".env"));
  if (serving) {
    for (auto& p : loaded.serve_problems) loaded.problems.push_back(std::move(p));
    for (const auto& w : loaded.warnings) spdlog::warn("configuration: {}", w);
  }
  if (!loaded.problems.empty()) {
    std::cerr << "configuration is invalid:\n";
    for (const auto& p : loaded.problems) std::cerr << "  - " << p << "\n";
    return std::nullopt;
  }
  spdlog::set_level(spdlog::level::from_str(loaded.config.log_level));
  return loaded.config;
}

int run_migrate(const ml::config::Config& config) {
  ml::persistence::Database db(ml::persistence::migrate_db_settings(config));
  auto report = ml::persistence::migrate(db, ml::persistence::embedded_migrations());
  if (!report) {
    std::cerr << "migrate failed: " << report.error().message << "\n";
    return 1;
  }
  std::cout << "migrations: " << report->applied.size() << " applied, " << report->already
            << " already up to date\n";
  return 0;
}

std::string prompt(const std::string& label, bool secret) {
  std::cerr << label << ": " << std::flush;
  termios old{};
  const bool tty = isatty(STDIN_FILENO) != 0;
  if (secret && tty) {
    tcgetattr(STDIN_FILENO, &old);
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::string value;
  std::getline(std::cin, value);
  if (secret && tty) {
    tcsetattr(STDIN_FILENO, TCSANOW, &old);
    std::cerr << "\n";
  }
  return value;
}

int run_createsuperuser(const ml::config::Config& config, int argc, char** argv) {
  std::string email, password;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--email" && i + 1 < argc) {
      email = argv[++i];
    } else if (arg == "--password" && i + 1 < argc) {
      password = argv[++i];
    } else {
      std::cerr << "usage: marketlink createsuperuser [--email E] [--password P]\n";
      return 2;
    }
  }
  if (password.empty()) {
    if (const char* p = std::getenv("MARKETLINK_SUPERUSER_PASSWORD")) password = p;
  }
  const bool interactive = isatty(STDIN_FILENO) != 0;
  if (email.empty() && interactive) email = prompt("Email", false);
  if (password.empty() && interactive) password = prompt("Password", true);
  if (email.empty() || password.empty()) {
    std::cerr
        << "createsuperuser: --email and --password are required when no terminal is attached\n";
    return 2;
  }
  ml::persistence::Database db(ml::persistence::db_settings(config));
  const ml::actors::HashParams params{config.argon2_memory_kib, config.argon2_iterations, 1};
  auto user = ml::actors::Accounts::create_superuser(db, email, password, params);
  if (!user) {
    const auto& e = user.error();
    std::cerr << "createsuperuser failed:";
    for (const auto& f : e.fields) {
      for (const auto& m : f.messages) std::cerr << " " << f.field << ": " << m;
    }
    if (e.fields.empty())
      std::cerr << " "
                << (e.code == ml::ErrorCode::unavailable ? "database unavailable" : e.message);
    std::cerr << "\n";
    return 1;
  }
  std::cout << "Superuser created: " << user->email << " (" << user->id << ")\n";
  return 0;
}

int run_serve(const ml::config::Config& config) {
  spdlog::info("marketlink starting: {}", ml::config::describe(config));
  // Start-up in dependency order; each stop mirrors its start (see the end of this function).
  ml::actors::Services services(config);
  auto& runtime = services.runtime;
  ml::http::App app{config, services};
  const auto router = ml::http::build_router(app);
  ml::http::HttpServer server(config, router);
  app.open_connections = [&server] { return server.open_connections(); };
  server.set_stream(ml::http::ops_stream(app));
  uint16_t port = 0;
  try {
    port = server.start();
  } catch (const std::exception& e) {
    spdlog::critical("http: cannot listen on {}:{}: {}", config.http_host, config.http_port,
                     e.what());
    runtime.shutdown();
    return 1;
  }
  ml::http::SeriesSampler sampler(app);  // the console's charts: one sample a second
  auto& membership = services.membership;
  membership.set_source(ml::http::member_publication(
      app, config.member_address.empty() ? config.http_host + ":" + std::to_string(port)
                                         : config.member_address));
  const int signo = server.wait_for_signal();
  // SIGTERM: first leave the balancer's pool (/readyz 503 "draining", the membership record says
  // so) while still serving for DRAIN_MS, then stop accepting and finish requests in flight.
  spdlog::info("received signal {}; draining for {} ms, then stopping", signo,
               config.drain_time.count());
  app.draining->store(true);
  auto renewed = std::make_shared<std::promise<void>>();
  membership.renew_now([renewed](const ml::Result<ml::Unit>&) { renewed->set_value(); });
  renewed->get_future().wait_for(std::chrono::seconds(2));
  std::this_thread::sleep_for(config.drain_time);
  server.stop();
  auto left = std::make_shared<std::promise<void>>();
  membership.leave([left](const ml::Result<ml::Unit>&) { left->set_value(); });
  left->get_future().wait_for(std::chrono::seconds(2));
  runtime.shutdown();  // then the actors and their connections
  spdlog::info("marketlink stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string command = argc > 1 ? argv[1] : "serve";
  if (command == "--help" || command == "help") {
    std::cout << "usage: marketlink [serve|migrate|createsuperuser|check]\n";
    return 0;
  }
  auto config = load_config(command == "serve" || command == "check");
  if (command == "check") {
    if (!config) return 1;
    std::cout << "configuration ok: " << ml::config::describe(*config) << "\n";
    return 0;
  }
  if (!config) return 1;
  if (command == "serve") return run_serve(*config);
  if (command == "migrate") return run_migrate(*config);
  if (command == "createsuperuser") return run_createsuperuser(*config, argc, argv);
  std::cerr << "unknown command \"" << command << "\"; try --help\n";
  return 2;
}
