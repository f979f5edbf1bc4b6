// /api/v1/auth/: registration, login, tokens, profile — real HTTP, real PostgreSQL and Redis.
#include <gtest/gtest.h>

#include "actors/accounts/tokens.hpp"
#include "persistence/database.hpp"
#include "persistence/ids.hpp"
#include "tests/support/test_server.hpp"

using namespace marketlink;
using namespace marketlink::testing;

namespace {

std::string register_body(const std::string& email, const std::string& role,
                          const std::string& password = "Sturdy-Pass-42",
                          const std::string& password2 = "") {
  return R"({"email":")" + email + R"(","password":")" + password + R"(","password2":")" +
         (password2.empty() ? password : password2) + R"(","role":")" + role + "\"}";
}

std::string first_error(const HttpResult& r, const std::string& field) {
  auto j = r.json();
  if (!j.is_object() || !j.as_object().contains(field)) return "<no " + field + "> " + r.body;
  auto& v = j.as_object().at(field);
  if (v.is_array()) return std::string(v.as_array().at(0).as_string());
  return std::string(v.as_string());
}

HttpResult login(HttpClient& c, const std::string& email, const std::string& password) {
  return c.post("/api/v1/auth/login/",
                R"({"email":")" + email + R"(","password":")" + password + "\"}");
}

class Accounts : public ::testing::Test {
 protected:
  TestServer& server = TestServer::shared();
  HttpClient c = server.client();
};

}  // namespace

TEST_F(Accounts, RegisterCustomerReturnsUserAndWorkingTokens) {
  const auto email = unique_email("cust");
  auto r = c.post(
      "/api/v1/auth/register/",
      R"({"email":")" + email +
          R"(","password":"Sturdy-Pass-42","password2":"Sturdy-Pass-42","role":"customer","first_name":"Ada","last_name":"Lovelace"})");
  ASSERT_EQ(r.status, 201) << r.body;
  auto j = r.json().as_object();
  auto user = j["user"].as_object();
  EXPECT_TRUE(is_uuid(std::string(user["id"].as_string())));
  EXPECT_EQ(user["email"].as_string(), email);
  EXPECT_EQ(user["first_name"].as_string(), "Ada");
  EXPECT_EQ(user["role"].as_string(), "customer");
  EXPECT_NE(std::string(user["date_joined"].as_string()).find('T'), std::string::npos);
  EXPECT_FALSE(user.contains("password"));
  auto access = std::string(j["tokens"].as_object()["access"].as_string());
  auto me = c.get("/api/v1/auth/profile/", access);
  ASSERT_EQ(me.status, 200);
  EXPECT_EQ(me.json().as_object()["id"], user["id"]);
}

TEST_F(Accounts, RegisterVendorCreatesInactiveProfileInTheSameTransaction) {
  const auto email = unique_email("vend");
  auto r = c.post(
      "/api/v1/auth/register/",
      R"({"email":")" + email +
          R"(","password":"Sturdy-Pass-42","password2":"Sturdy-Pass-42","role":"vendor","business_name":"Rahim Motors","address":"12 Mirpur Rd"})");
  ASSERT_EQ(r.status, 201) << r.body;
  auto id = std::string(r.json().as_object()["user"].as_object()["id"].as_string());
  pqxx::work w(test_db().connection());
  auto row =
      w.exec_params("SELECT business_name, is_active FROM vendor_profiles WHERE user_id = $1", id);
  ASSERT_EQ(row.size(), 1u);
  EXPECT_EQ(row[0][0].as<std::string>(), "Rahim Motors");
  EXPECT_FALSE(row[0][1].as<bool>());
}

TEST_F(Accounts, RegisterRejectsAdminRoleAndMissingRole) {
  auto admin = c.post("/api/v1/auth/register/", register_body(unique_email(), "admin"));
  EXPECT_EQ(admin.status, 400);
  EXPECT_EQ(first_error(admin, "role"), "\"admin\" is not a valid choice.");
  auto none = c.post("/api/v1/auth/register/",
                     R"({"email":")" + unique_email() +
                         R"(","password":"Sturdy-Pass-42","password2":"Sturdy-Pass-42"})");
  EXPECT_EQ(none.status, 400);
  EXPECT_EQ(first_error(none, "role"), "This field is required.");
}

TEST_F(Accounts, RegisterValidationMessages) {
  auto mismatch =
      c.post("/api/v1/auth/register/",
             register_body(unique_email(), "customer", "Sturdy-Pass-42", "Sturdy-Pass-43"));
  EXPECT_EQ(mismatch.status, 400);
  EXPECT_EQ(first_error(mismatch, "password"), "Password fields didn't match.");
  auto weak = c.post("/api/v1/auth/register/", register_body(unique_email(), "customer", "1234"));
  EXPECT_EQ(weak.status, 400);
  EXPECT_EQ(first_error(weak, "password"),
            "This password is too short. It must contain at least 8 characters.");
  auto common =
      c.post("/api/v1/auth/register/", register_body(unique_email(), "customer", "password123"));
  EXPECT_EQ(first_error(common, "password"), "This password is too common.");
  auto bad_email = c.post("/api/v1/auth/register/", register_body("not-an-email", "customer"));
  EXPECT_EQ(bad_email.status, 400);
  EXPECT_EQ(first_error(bad_email, "email"), "Enter a valid email address.");
  auto empty = c.post("/api/v1/auth/register/", "{}");
  EXPECT_EQ(empty.status, 400);
  for (auto f : {"email", "password", "password2", "role"})
    EXPECT_EQ(first_error(empty, f), "This field is required.");
  auto wrong_type = c.post("/api/v1/auth/register/",
                           R"({"email":["x"],"password":1,"password2":1,"role":"customer"})");
  EXPECT_EQ(first_error(wrong_type, "email"), "Not a valid string.");
  // Passwords are hashed: their length is capped (as at login), so one request cannot buy
  // unbounded hashing work.
  const std::string huge(100000, 'x');
  auto too_long = c.post("/api/v1/auth/register/",
                         register_body(unique_email(), "customer", huge + "Aa1!", huge + "Aa1!"));
  EXPECT_EQ(too_long.status, 400);
  EXPECT_EQ(first_error(too_long, "password"),
            "Ensure this field has no more than 4096 characters.");
}

TEST_F(Accounts, DuplicateEmailIsRejectedCaseInsensitively) {
  const auto email = unique_email("dup");
  ASSERT_EQ(c.post("/api/v1/auth/register/", register_body(email, "customer")).status, 201);
  std::string upper = email;
  for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  auto again = c.post("/api/v1/auth/register/", register_body(upper, "vendor"));
  EXPECT_EQ(again.status, 400);
  EXPECT_EQ(first_error(again, "email"), "User with this email already exists.");
  pqxx::work w(test_db().connection());
  EXPECT_EQ(w.exec_params1("SELECT count(*) FROM users WHERE lower(email) = lower($1)", email)[0]
                .as<int>(),
            1);
}

TEST_F(Accounts, MalformedJsonAndWrongMediaType) {
  auto bad = c.post("/api/v1/auth/register/", "{\"email\": ");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(first_error(bad, "detail").rfind("JSON parse error - ", 0), 0u);
  auto form = c.request("POST", "/api/v1/auth/login/", "email=a&password=b",
                        {{"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(form.status, 415);
}

TEST_F(Accounts, LoginIsCaseInsensitiveAndRejectsWrongPasswords) {
  auto u = server.register_user("customer");
  std::string upper = u.email;
  for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  auto ok = login(c, upper, u.password);
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_TRUE(ok.json().as_object().contains("access"));
  EXPECT_TRUE(ok.json().as_object().contains("refresh"));
  auto bad = login(c, u.email, "Wrong-Pass-42");
  EXPECT_EQ(bad.status, 401);
  EXPECT_EQ(first_error(bad, "detail"), "No active account found with the given credentials");
  auto unknown = login(c, unique_email("ghost"), "Whatever-123");
  EXPECT_EQ(unknown.status, 401);
  auto missing = c.post("/api/v1/auth/login/", R"({"email":"x@y.com"})");
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(first_error(missing, "password"), "This field is required.");
}

TEST_F(Accounts, TenFailedLoginsLockTheEmailWith429) {
  auto u = server.register_user("customer");
  for (int i = 0; i < 10; ++i) ASSERT_EQ(login(c, u.email, "Wrong-Pass-42").status, 401);
  auto locked = login(c, u.email, u.password);
  EXPECT_EQ(locked.status, 429);
  EXPECT_FALSE(locked.header("retry-after").empty());
  auto other = server.register_user("customer");
  EXPECT_EQ(login(c, other.email, other.password).status, 200) << "the lock is per email";
}

TEST_F(Accounts, RefreshRotatesAndReuseRevokesTheFamily) {
  auto u = server.register_user("customer");
  auto first = c.post("/api/v1/auth/token/refresh/", R"({"refresh":")" + u.refresh + "\"}");
  ASSERT_EQ(first.status, 200) << first.body;
  auto next_refresh = std::string(first.json().as_object()["refresh"].as_string());
  EXPECT_NE(next_refresh, u.refresh);
  EXPECT_EQ(
      c.get("/api/v1/auth/profile/", std::string(first.json().as_object()["access"].as_string()))
          .status,
      200);
  // Reusing the rotated token is theft: 401, and the family's newest token dies with it.
  auto reuse = c.post("/api/v1/auth/token/refresh/", R"({"refresh":")" + u.refresh + "\"}");
  EXPECT_EQ(reuse.status, 401);
  EXPECT_EQ(first_error(reuse, "code"), "token_not_valid");
  EXPECT_EQ(c.post("/api/v1/auth/token/refresh/", R"({"refresh":")" + next_refresh + "\"}").status,
            401);
  // Another login is another family and still works.
  auto again = login(c, u.email, u.password);
  auto fresh = std::string(again.json().as_object()["refresh"].as_string());
  EXPECT_EQ(c.post("/api/v1/auth/token/refresh/", R"({"refresh":")" + fresh + "\"}").status, 200);
}

TEST_F(Accounts, RefreshRejectsAccessTokensAndGarbage) {
  auto u = server.register_user("customer");
  EXPECT_EQ(c.post("/api/v1/auth/token/refresh/", R"({"refresh":")" + u.access + "\"}").status,
            401);
  EXPECT_EQ(c.post("/api/v1/auth/token/refresh/", R"({"refresh":"abc"})").status, 401);
  EXPECT_EQ(c.post("/api/v1/auth/token/refresh/", "{}").status, 400);
}

TEST_F(Accounts, LogoutRevokesTheRefreshFamily) {
  auto u = server.register_user("customer");
  EXPECT_EQ(c.post("/api/v1/auth/logout/", R"({"refresh":")" + u.refresh + "\"}").status, 401)
      << "anonymous";
  auto out = c.post("/api/v1/auth/logout/", R"({"refresh":")" + u.refresh + "\"}", u.access);
  EXPECT_EQ(out.status, 205) << out.body;
  EXPECT_EQ(c.post("/api/v1/auth/token/refresh/", R"({"refresh":")" + u.refresh + "\"}").status,
            401);
  auto other = server.register_user("customer");
  EXPECT_EQ(
      c.post("/api/v1/auth/logout/", R"({"refresh":")" + other.refresh + "\"}", u.access).status,
      401)
      << "someone else's refresh token";
}

TEST_F(Accounts, AccessTokenProblemsAre401) {
  auto anon = c.get("/api/v1/auth/profile/");
  EXPECT_EQ(anon.status, 401);
  EXPECT_EQ(first_error(anon, "detail"), "Authentication credentials were not provided.");
  EXPECT_EQ(anon.header("www-authenticate"), "Bearer realm=\"api\"");
  auto u = server.register_user("customer");
  auto refresh_as_access = c.get("/api/v1/auth/profile/", u.refresh);
  EXPECT_EQ(refresh_as_access.status, 401);
  EXPECT_EQ(first_error(refresh_as_access, "code"), "token_not_valid");
  EXPECT_EQ(c.get("/api/v1/auth/profile/", u.access + "x").status, 401);
  actors::TokenService expired_issuer(server.config().secret_key, std::chrono::seconds(1),
                                      std::chrono::seconds(1));
  auto expired = expired_issuer.issue("access", u.id, actors::unix_now() - 10);
  EXPECT_EQ(c.get("/api/v1/auth/profile/", expired.token).status, 401);
  actors::TokenService foreign("some-other-secret-key-123", std::chrono::hours(1),
                               std::chrono::hours(1));
  EXPECT_EQ(c.get("/api/v1/auth/profile/", foreign.issue("access", u.id, actors::unix_now()).token)
                .status,
            401);
  auto basic = c.request("GET", "/api/v1/auth/profile/", "", {{"Authorization", "Basic abc"}});
  EXPECT_EQ(basic.status, 401);
}

TEST_F(Accounts, ProfileUpdateKeepsRoleReadOnly) {
  auto u = server.register_user("customer");
  auto patched = c.patch("/api/v1/auth/profile/",
                         R"({"first_name":"Grace","role":"admin","id":"x"})", u.access);
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(patched.json().as_object()["first_name"].as_string(), "Grace");
  EXPECT_EQ(patched.json().as_object()["role"].as_string(), "customer");
  EXPECT_EQ(patched.json().as_object()["id"].as_string(), u.id);
  auto put_without_email = c.put("/api/v1/auth/profile/", R"({"first_name":"X"})", u.access);
  EXPECT_EQ(put_without_email.status, 400);
  EXPECT_EQ(first_error(put_without_email, "email"), "This field is required.");
  const auto new_email = unique_email("moved");
  auto put =
      c.put("/api/v1/auth/profile/",
            R"({"email":")" + new_email + R"(","first_name":"G","last_name":"H"})", u.access);
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(put.json().as_object()["email"].as_string(), new_email);
  EXPECT_EQ(login(c, new_email, u.password).status, 200);
  auto other = server.register_user("customer");
  auto taken = c.patch("/api/v1/auth/profile/", R"({"email":")" + other.email + "\"}", u.access);
  EXPECT_EQ(taken.status, 400);
  EXPECT_EQ(first_error(taken, "email"), "User with this email already exists.");
}

TEST_F(Accounts, DjangoPasswordHashIsAcceptedThenUpgradedToArgon2id) {
  const auto email = unique_email("legacy");
  {
    pqxx::work w(test_db().connection());
    // python3: hashlib.pbkdf2_hmac('sha256', b'Legacy-Pass-2019', b'QWERTYsalt123', 260000)
    w.exec_params0(
        "INSERT INTO users (email, password, role) VALUES ($1, $2, 'customer')", email,
        "pbkdf2_sha256$260000$QWERTYsalt123$vjj0pdf10++k/+9S2ELOW6anGnTus31ZWRbPd3Whsv4=");
    w.commit();
  }
  EXPECT_EQ(login(c, email, "Legacy-Pass-2018").status, 401);
  ASSERT_EQ(login(c, email, "Legacy-Pass-2019").status, 200);
  pqxx::work w(test_db().connection());
  auto hash =
      w.exec_params1("SELECT password FROM users WHERE email = $1", email)[0].as<std::string>();
  w.commit();
  EXPECT_EQ(hash.rfind("$argon2id$", 0), 0u) << hash;
  EXPECT_EQ(login(c, email, "Legacy-Pass-2019").status, 200);
}
