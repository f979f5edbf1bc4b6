// The command line: check, migrate (twice, and from two processes at once), createsuperuser.
#include <gtest/gtest.h>

#include <array>
#include <boost/url/url.hpp>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "persistence/database.hpp"
#include "persistence/migrations.hpp"
#include "tests/support/test_server.hpp"

using namespace marketlink;
using namespace marketlink::testing;

namespace {

struct Run {
  int status = -1;
  std::string output;
};

// Runs the marketlink binary with `env` prepended, capturing stdout and stderr.
Run run(const std::string& env, const std::string& args) {
  const std::string cmd = "env -u SECRET_KEY -u DEBUG " + env + " ENV_FILE=/nonexistent " +
                          MARKETLINK_BINARY + " " + args + " 2>&1";
  Run r;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf{};
  while (auto n = fread(buf.data(), 1, buf.size(), p)) r.output.append(buf.data(), n);
  const int status = pclose(p);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string base_env() {
  return "SECRET_KEY=cli-test-secret-key-0123456789abcdef WEBHOOK_SECRET=cli-store-pass "
         "SSLCOMMERZ_STORE_ID=cli-store DATABASE_URL=" +
         test_config().database_url + " ARGON2_MEMORY_KIB=1024 ARGON2_ITERATIONS=1";
}

// A fresh, empty database for migration tests; dropped at the end.
class ScratchDatabase {
 public:
  ScratchDatabase() : name_("ml_scratch_" + unique_suffix()) {
    pqxx::nontransaction n(test_db().connection());
    n.exec0("CREATE DATABASE " + n.quote_name(name_));
    boost::urls::url u(test_config().database_url);
    u.set_path("/" + name_);
    url_ = std::string(u.buffer());
  }
  ~ScratchDatabase() {
    try {
      pqxx::nontransaction n(test_db().connection());
      n.exec0("DROP DATABASE IF EXISTS " + n.quote_name(name_) + " WITH (FORCE)");
    } catch (const std::exception&) {
    }
  }
  const std::string& url() const { return url_; }

 private:
  std::string name_, url_;
};

}  // namespace

TEST(Cli, CheckAcceptsAValidConfiguration) {
  auto r = run(base_env(), "check");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("configuration ok"), std::string::npos);
  EXPECT_EQ(r.output.find("cli-test-secret-key"), std::string::npos) << "secrets never printed";
}

TEST(Cli, CheckNamesTheProblemAndExitsNonZero) {
  auto no_secret = run("DATABASE_URL=postgresql://x@localhost/db", "check");
  EXPECT_NE(no_secret.status, 0);
  EXPECT_NE(no_secret.output.find("SECRET_KEY"), std::string::npos) << no_secret.output;
  auto bad_port = run(base_env() + " HTTP_PORT=70000", "check");
  EXPECT_NE(bad_port.status, 0);
  EXPECT_NE(bad_port.output.find("HTTP_PORT"), std::string::npos);
  auto bad_url = run(
      "SECRET_KEY=cli-test-secret-key-0123456789abcdef DATABASE_URL=mysql://a:pw@h/db", "check");
  EXPECT_NE(bad_url.status, 0);
  EXPECT_NE(bad_url.output.find("DATABASE_URL"), std::string::npos);
}

// A production server refuses weak or missing secrets (each waived by DEBUG); migrate needs none.
TEST(Cli, CheckRefusesWeakSecretsOutsideDebug) {
  const auto db = " DATABASE_URL=" + test_config().database_url;
  const std::string store = " WEBHOOK_SECRET=cli-store-pass SSLCOMMERZ_STORE_ID=cli-store";
  auto short_key = run("SECRET_KEY=only-twenty-six-chars-long" + store + db, "check");
  EXPECT_NE(short_key.status, 0);
  EXPECT_NE(short_key.output.find("SECRET_KEY: must be at least 32 bytes"), std::string::npos)
      << short_key.output;
  auto no_store_password =
      run("SECRET_KEY=cli-test-secret-key-0123456789abcdef SSLCOMMERZ_STORE_ID=s" + db, "check");
  EXPECT_NE(no_store_password.status, 0);
  EXPECT_NE(no_store_password.output.find("WEBHOOK_SECRET"), std::string::npos)
      << no_store_password.output;
  auto no_store_id =
      run("SECRET_KEY=cli-test-secret-key-0123456789abcdef WEBHOOK_SECRET=p" + db, "check");
  EXPECT_NE(no_store_id.status, 0);
  EXPECT_NE(no_store_id.output.find("SSLCOMMERZ_STORE_ID"), std::string::npos)
      << no_store_id.output;
  auto debug = run("DEBUG=true SECRET_KEY=only-twenty-six-chars-long" + db, "check");
  EXPECT_EQ(debug.status, 0) << debug.output;
  // migrate serves nothing: it runs without the payment secrets.
  auto migrate = run("SECRET_KEY=only-twenty-six-chars-long" + db, "migrate");
  EXPECT_EQ(migrate.status, 0) << migrate.output;
}

TEST(Cli, CheckWarnsInSandboxMode) {
  auto sandbox = run(base_env(), "check");
  ASSERT_EQ(sandbox.status, 0) << sandbox.output;
  EXPECT_NE(sandbox.output.find("SSLCOMMERZ_IS_SANDBOX is on"), std::string::npos)
      << sandbox.output;
  auto live = run(base_env() + " SSLCOMMERZ_IS_SANDBOX=false", "check");
  ASSERT_EQ(live.status, 0) << live.output;
  EXPECT_EQ(live.output.find("SSLCOMMERZ_IS_SANDBOX is on"), std::string::npos) << live.output;
}

TEST(Cli, UnknownCommandIsAnError) {
  EXPECT_NE(run(base_env(), "frobnicate").status, 0);
}

TEST(Cli, MigrateTwiceIsANoOpTheSecondTime) {
  ScratchDatabase db;
  const auto env = "SECRET_KEY=cli-test-secret-key-0123456789abcdef DATABASE_URL=" + db.url();
  auto first = run(env, "migrate");
  ASSERT_EQ(first.status, 0) << first.output;
  EXPECT_NE(first.output.find("0 already"), std::string::npos) << first.output;
  auto second = run(env, "migrate");
  ASSERT_EQ(second.status, 0) << second.output;
  EXPECT_NE(second.output.find("0 applied"), std::string::npos) << second.output;
}

TEST(Cli, MigrateFromTwoProcessesAtOnce) {
  ScratchDatabase db;
  const auto env = "SECRET_KEY=cli-test-secret-key-0123456789abcdef DATABASE_URL=" + db.url();
  const std::string bin = std::string(MARKETLINK_BINARY);
  const std::string dir = "/tmp/ml-migrate-" + unique_suffix();
  const std::string script = "mkdir -p " + dir + "; (env " + env + " ENV_FILE=/nonexistent " + bin +
                             " migrate >/dev/null 2>&1; echo $? >" + dir + "/a) & (env " + env +
                             " ENV_FILE=/nonexistent " + bin +
                             " migrate >/dev/null 2>&1; echo $? >" + dir + "/b) & wait";
  ASSERT_EQ(std::system(script.c_str()), 0);
  for (const auto* f : {"/a", "/b"}) {
    std::ifstream in(dir + f);
    int code = -1;
    in >> code;
    EXPECT_EQ(code, 0) << f;
  }
  pqxx::connection conn(db.url());
  pqxx::work w(conn);
  EXPECT_EQ(w.exec1("SELECT count(*) FROM schema_migrations")[0].as<size_t>(),
            persistence::embedded_migrations().size());
  EXPECT_EQ(
      w.exec1("SELECT count(*) FROM schema_migrations GROUP BY name ORDER BY 1 DESC LIMIT 1")[0]
          .as<int>(),
      1);
}

TEST(Cli, CreateSuperuserMakesAnAdminWhoCanLogIn) {
  const auto email = unique_email("root");
  auto r = run(base_env(),
               "createsuperuser --email " + email + " --password Root-Pass-Strong-9 </dev/null");
  ASSERT_EQ(r.status, 0) << r.output;
  pqxx::work w(test_db().connection());
  auto row =
      w.exec_params1("SELECT role, is_staff, is_superuser FROM users WHERE email = $1", email);
  w.commit();
  EXPECT_EQ(row[0].as<std::string>(), "admin");
  EXPECT_TRUE(row[1].as<bool>());
  EXPECT_TRUE(row[2].as<bool>());
  auto c = TestServer::shared().client();
  EXPECT_EQ(c.post("/api/v1/auth/login/",
                   R"({"email":")" + email + R"(","password":"Root-Pass-Strong-9"})")
                .status,
            200);
  auto dup = run(base_env(),
                 "createsuperuser --email " + email + " --password Root-Pass-Strong-9 </dev/null");
  EXPECT_NE(dup.status, 0);
  auto weak =
      run(base_env(), "createsuperuser --email " + unique_email() + " --password 123 </dev/null");
  EXPECT_NE(weak.status, 0);
  EXPECT_NE(weak.output.find("too short"), std::string::npos) << weak.output;
  auto missing = run(base_env(), "createsuperuser </dev/null");
  EXPECT_NE(missing.status, 0);
}
