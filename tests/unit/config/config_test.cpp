// Config parsing and validation.
#include <gtest/gtest.h>

#include <map>

#include "config/config.hpp"

using marketlink::config::load;
using marketlink::config::parse_env_file;

namespace {

marketlink::config::LoadResult load_from(std::map<std::string, std::string> vars) {
  return load([vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  });
}

const std::map<std::string, std::string> kValid{
    {"SECRET_KEY", "0123456789abcdef0123456789abcdef"},
    {"DATABASE_URL", "postgresql://u:p@localhost:5432/db"},
};

bool mentions(const std::vector<std::string>& problems, const std::string& needle) {
  for (const auto& p : problems) {
    if (p.find(needle) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST(Config, ValidMinimalConfigurationHasOriginalDefaults) {
  auto r = load_from(kValid);
  ASSERT_TRUE(r.problems.empty());
  EXPECT_EQ(r.config.http_host, "127.0.0.1");
  EXPECT_EQ(r.config.http_port, 8000);
  EXPECT_EQ(r.config.jwt_access_ttl, std::chrono::hours(48));
  EXPECT_EQ(r.config.jwt_refresh_ttl, std::chrono::hours(24 * 7));
  EXPECT_EQ(r.config.order_reservation_ttl, std::chrono::seconds(1800));
  EXPECT_EQ(r.config.max_body_bytes, 1024u * 1024u);
  EXPECT_EQ(r.config.base_domain, "http://localhost:8000");
  EXPECT_EQ(r.config.sslcommerz_session_url, "https://sandbox.sslcommerz.com/gwprocess/v4/api.php");
}

TEST(Config, MissingSecretKeyIsAnErrorWhenDebugIsOff) {
  auto vars = kValid;
  vars.erase("SECRET_KEY");
  EXPECT_TRUE(mentions(load_from(vars).problems, "SECRET_KEY"));
  vars["DEBUG"] = "true";
  EXPECT_TRUE(load_from(vars).problems.empty());
}

TEST(Config, ServingNeedsStrongSecretsOutsideDebug) {
  auto vars = kValid;
  vars["WEBHOOK_SECRET"] = "store-pass";
  vars["SSLCOMMERZ_STORE_ID"] = "store";
  EXPECT_TRUE(load_from(vars).serve_problems.empty());
  vars["SECRET_KEY"] = "0123456789abcdef0123456789abcde";  // 31 bytes
  EXPECT_TRUE(mentions(load_from(vars).serve_problems, "SECRET_KEY"));
  EXPECT_TRUE(load_from(vars).problems.empty()) << "migrate still runs";
  vars = kValid;
  EXPECT_TRUE(mentions(load_from(vars).serve_problems, "WEBHOOK_SECRET"));
  EXPECT_TRUE(mentions(load_from(vars).serve_problems, "SSLCOMMERZ_STORE_ID"));
  vars["DEBUG"] = "true";
  vars["SECRET_KEY"] = "0123456789abcdef";
  EXPECT_TRUE(load_from(vars).serve_problems.empty());
}

TEST(Config, AbuseLimitsHaveTheContractDefaultsAndZeroTurnsThemOff) {
  auto r = load_from(kValid);
  EXPECT_EQ(r.config.order_rate_per_minute, 1000);
  EXPECT_EQ(r.config.order_pending_per_customer, 20);
  EXPECT_GE(r.config.register_per_minute, 1000);
  EXPECT_TRUE(mentions(r.warnings, "SSLCOMMERZ_IS_SANDBOX"));
  auto vars = kValid;
  vars["ORDER_RATE_PER_MINUTE"] = "0";
  vars["ORDER_PENDING_PER_CUSTOMER"] = "0";
  vars["ALLOWED_HOSTS"] = "";
  r = load_from(vars);
  EXPECT_EQ(r.config.order_rate_per_minute, 0);
  EXPECT_EQ(r.config.order_pending_per_customer, 0);
  EXPECT_TRUE(mentions(r.problems, "ALLOWED_HOSTS"));
}

TEST(Config, ShortSecretKeyIsRejected) {
  auto vars = kValid;
  vars["SECRET_KEY"] = "short";
  EXPECT_TRUE(mentions(load_from(vars).problems, "SECRET_KEY"));
}

TEST(Config, MalformedDatabaseUrlIsRejectedWithoutEchoingIt) {
  auto vars = kValid;
  vars["DATABASE_URL"] = "mysql://user:hunter2@host/db";
  auto problems = load_from(vars).problems;
  ASSERT_TRUE(mentions(problems, "DATABASE_URL"));
  EXPECT_FALSE(mentions(problems, "hunter2"));
  vars["DATABASE_URL"] = "not a url";
  EXPECT_TRUE(mentions(load_from(vars).problems, "DATABASE_URL"));
}

TEST(Config, MissingDatabaseUrlIsRejected) {
  auto vars = kValid;
  vars.erase("DATABASE_URL");
  EXPECT_TRUE(mentions(load_from(vars).problems, "DATABASE_URL: is required"));
}

TEST(Config, PortOutOfRangeAndNonNumbersAreRejected) {
  auto vars = kValid;
  vars["HTTP_PORT"] = "70000";
  EXPECT_TRUE(mentions(load_from(vars).problems, "HTTP_PORT"));
  vars["HTTP_PORT"] = "80a";
  EXPECT_TRUE(mentions(load_from(vars).problems, "HTTP_PORT"));
  vars["HTTP_PORT"] = "8080";
  vars["REDIS_PORT"] = "0";
  EXPECT_TRUE(mentions(load_from(vars).problems, "REDIS_PORT"));
}

TEST(Config, BooleansAcceptTheUsualSpellingsOnly) {
  auto vars = kValid;
  vars["DEBUG"] = "True";
  EXPECT_TRUE(load_from(vars).config.debug);
  vars["DEBUG"] = "off";
  EXPECT_FALSE(load_from(vars).config.debug);
  vars["DEBUG"] = "maybe";
  EXPECT_TRUE(mentions(load_from(vars).problems, "DEBUG"));
}

TEST(Config, AllProblemsAreReportedAtOnce) {
  auto vars = kValid;
  vars["HTTP_PORT"] = "-1";
  vars["LOG_LEVEL"] = "loud";
  vars["BASE_DOMAIN"] = "ftp://x";
  EXPECT_EQ(load_from(vars).problems.size(), 3u);
}

TEST(Config, BaseDomainLosesItsTrailingSlash) {
  auto vars = kValid;
  vars["BASE_DOMAIN"] = "https://api.example.com/";
  EXPECT_EQ(load_from(vars).config.base_domain, "https://api.example.com");
}

TEST(Config, ListsAreSplitOnCommas) {
  auto vars = kValid;
  vars["ALLOWED_HOSTS"] = "a.example.com, b.example.com,,";
  auto c = load_from(vars).config;
  ASSERT_EQ(c.allowed_hosts.size(), 2u);
  EXPECT_EQ(c.allowed_hosts[1], "b.example.com");
}

TEST(EnvFile, ParsesCommentsQuotesAndExport) {
  auto kv = parse_env_file(
      "# comment\n"
      "SECRET_KEY='abc def'\n"
      "export DEBUG=1\n"
      "\n"
      "BASE_DOMAIN = \"http://x\"  \n"
      "garbage line\n");
  ASSERT_EQ(kv.size(), 3u);
  EXPECT_EQ(kv[0], (std::pair<std::string, std::string>{"SECRET_KEY", "abc def"}));
  EXPECT_EQ(kv[1], (std::pair<std::string, std::string>{"DEBUG", "1"}));
  EXPECT_EQ(kv[2], (std::pair<std::string, std::string>{"BASE_DOMAIN", "http://x"}));
}

TEST(Config, GatewayUrlsMustBeHttpsUnlessLocal) {
  auto vars = kValid;
  vars["SSLCOMMERZ_SESSION_URL"] = "http://gateway.example.com/gwprocess/v4/api.php";
  EXPECT_TRUE(mentions(load_from(vars).problems, "SSLCOMMERZ_SESSION_URL"));
  vars["SSLCOMMERZ_SESSION_URL"] = "http://127.0.0.1:9000/gwprocess/v4/api.php";
  EXPECT_TRUE(load_from(vars).problems.empty());
  vars["SSLCOMMERZ_VALIDATION_URL"] =
      "https://sandbox.sslcommerz.com/validator/api/validationserverAPI.php";
  EXPECT_TRUE(load_from(vars).problems.empty());
}

TEST(Config, TheClusterLinkIsOffUnlessItsPortIsSet) {
  auto off = load_from(kValid);
  ASSERT_TRUE(off.problems.empty());
  EXPECT_EQ(off.config.link_port, -1);
  EXPECT_EQ(off.config.link_bind, "127.0.0.1");
  auto vars = kValid;
  vars["CLUSTER_LINK_PORT"] = "";  // as .env.example leaves it
  EXPECT_EQ(load_from(vars).config.link_port, -1);
  vars["CLUSTER_LINK_PORT"] = "0";
  vars["CLUSTER_NAME"] = "staging";
  auto any = load_from(vars);
  ASSERT_TRUE(any.problems.empty());
  EXPECT_EQ(any.config.link_port, 0);
  EXPECT_EQ(any.config.cluster_name, "staging");
  vars["CLUSTER_LINK_PORT"] = "70000";
  EXPECT_TRUE(mentions(load_from(vars).problems, "CLUSTER_LINK_PORT"));
  vars["CLUSTER_LINK_PORT"] = "x";
  EXPECT_TRUE(mentions(load_from(vars).problems, "CLUSTER_LINK_PORT"));
}
