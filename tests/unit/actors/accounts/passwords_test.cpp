// Argon2id hashing, Django PBKDF2 compatibility and the strength rules.
#include <gtest/gtest.h>

#include "actors/accounts/accounts.hpp"
#include "actors/accounts/passwords.hpp"

using namespace marketlink::actors;

namespace {
const HashParams kLight{1024, 1, 1};
}

TEST(Passwords, Argon2idHashIsPhcAndVerifies) {
  auto h = hash_password("correct horse battery", kLight);
  EXPECT_EQ(h.rfind("$argon2id$v=19$m=1024,t=1,p=1$", 0), 0u) << h;
  EXPECT_EQ(verify_password("correct horse battery", h, kLight), PasswordCheck::match);
  EXPECT_EQ(verify_password("correct horse batterY", h, kLight), PasswordCheck::mismatch);
  EXPECT_NE(h, hash_password("correct horse battery", kLight)) << "salts must differ";
}

TEST(Passwords, DefaultParametersAreOwaspArgon2id) {
  HashParams defaults;
  auto h = hash_password("x", defaults);
  EXPECT_EQ(h.rfind("$argon2id$v=19$m=19456,t=2,p=1$", 0), 0u) << h;
}

TEST(Passwords, OtherParametersAskForAnUpgrade) {
  auto h = hash_password("pw-12345678", kLight);
  EXPECT_EQ(verify_password("pw-12345678", h, HashParams{2048, 1, 1}),
            PasswordCheck::match_needs_upgrade);
}

TEST(Passwords, DjangoPbkdf2HashMadeByPythonHashlibVerifies) {
  // python3: base64(hashlib.pbkdf2_hmac('sha256', b'Legacy-Pass-2019', b'QWERTYsalt123', 260000))
  const std::string django =
      "pbkdf2_sha256$260000$QWERTYsalt123$vjj0pdf10++k/+9S2ELOW6anGnTus31ZWRbPd3Whsv4=";
  EXPECT_EQ(verify_password("Legacy-Pass-2019", django, kLight),
            PasswordCheck::match_needs_upgrade);
  EXPECT_EQ(verify_password("Legacy-Pass-2018", django, kLight), PasswordCheck::mismatch);
  EXPECT_EQ(django_pbkdf2_hash("password", "salt", 1000),
            "pbkdf2_sha256$1000$salt$YywoEuRtRgQQK6dhjp1tfS+BKPYma0oDJk0qBGC33LM=");
}

TEST(Passwords, MalformedStoredHashesNeverMatch) {
  for (const std::string bad : {"", "plaintext", "pbkdf2_sha256$x$salt$hash", "pbkdf2_sha256$0$s$h",
                                "pbkdf2_sha256$1000$salt", "$argon2id$garbage", "md5$abc$def"}) {
    EXPECT_EQ(verify_password("password", bad, kLight), PasswordCheck::mismatch) << bad;
  }
}

TEST(Passwords, StrengthRulesGiveDjangosMessages) {
  EXPECT_TRUE(password_problems("Sturdy-Pass-42").empty());
  auto short_pw = password_problems("abc");
  ASSERT_EQ(short_pw.size(), 1u);
  EXPECT_EQ(short_pw[0], "This password is too short. It must contain at least 8 characters.");
  auto numeric = password_problems("3141592653");
  ASSERT_EQ(numeric.size(), 1u);
  EXPECT_EQ(numeric[0], "This password is entirely numeric.");
  auto common = password_problems("Password");
  ASSERT_EQ(common.size(), 1u);
  EXPECT_EQ(common[0], "This password is too common.");
  EXPECT_EQ(password_problems("12345678").size(), 2u);  // common and numeric
  EXPECT_TRUE(password_problems("ñandú-ñandú").empty()) << "length counts characters";
  EXPECT_EQ(password_problems("ñandúñ").size(), 1u);
}

TEST(Emails, ValidationAndNormalisation) {
  EXPECT_TRUE(valid_email("a@b.co"));
  EXPECT_TRUE(valid_email("first.last+tag@sub.example.com"));
  for (const std::string bad : {"", "plain", "@x.com", "a@", "a@b", "a b@c.com", "a@@b.com",
                                "a@b..com", ".a@b.com", "a.@b.com", "a@b.c", "a@-b.com"}) {
    EXPECT_FALSE(valid_email(bad)) << bad;
  }
  EXPECT_EQ(normalize_email("Mixed.Case@EXAMPLE.Com"), "Mixed.Case@example.com");
}
