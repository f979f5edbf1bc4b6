// JWT issue/verify, including tampering and algorithm confusion.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "actors/accounts/tokens.hpp"
#include "persistence/ids.hpp"

using marketlink::ErrorCode;
using marketlink::Reason;
using marketlink::actors::TokenService;

namespace {

const std::string kSecret = "unit-test-secret-key-0123456789";
const std::string kUser = "8d3c6f0e-3b8a-4a53-9b1e-1f2a3b4c5d6e";

std::string b64url(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  for (auto& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  while (!out.empty() && out.back() == '=') out.pop_back();
  return out;
}

std::string sign(const EVP_MD* md, const std::string& input, const std::string& key) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(md, key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
  return b64url(std::string(reinterpret_cast<char*>(mac), len));
}

std::string payload(long long exp,
                    const std::string& claims = R"("iss":"marketlink","aud":"marketlink-api",)",
                    long long iat = 1) {
  return R"({"token_type":"access","exp":)" + std::to_string(exp) + R"(,"iat":)" +
         std::to_string(iat) + "," + claims +
         R"("jti":"1d3c6f0e-3b8a-4a53-9b1e-1f2a3b4c5d6e","user_id":")" + kUser + "\"}";
}

std::string hs256(const std::string& body_json, const std::string& key) {
  const auto signing_input = b64url(R"({"alg":"HS256","typ":"JWT"})") + "." + b64url(body_json);
  return signing_input + "." + sign(EVP_sha256(), signing_input, key);
}

const long long kNow = 1'800'000'000;

}  // namespace

TEST(Tokens, IssuedAccessTokenVerifiesWithItsClaims) {
  TokenService s(kSecret, std::chrono::hours(48), std::chrono::hours(168));
  auto t = s.issue("access", kUser, kNow);
  auto c = s.verify(t.token, "access", kNow + 10);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->user_id, kUser);
  EXPECT_EQ(c->token_type, "access");
  EXPECT_EQ(c->iat, kNow);
  EXPECT_EQ(c->exp, kNow + 48LL * 3600);
  EXPECT_TRUE(marketlink::is_uuid(c->jti));
}

TEST(Tokens, RefreshTokenIsNotAnAccessToken) {
  TokenService s(kSecret, std::chrono::hours(1), std::chrono::hours(2));
  auto t = s.issue("refresh", kUser, kNow);
  auto c = s.verify(t.token, "access", kNow);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, ErrorCode::token_invalid);
  EXPECT_EQ(c.error().reason, Reason::token_not_valid);
  EXPECT_TRUE(s.verify(t.token, "refresh", kNow).ok());
}

TEST(Tokens, ExpiredTokenIsRejected) {
  TokenService s(kSecret, std::chrono::seconds(60), std::chrono::seconds(60));
  auto t = s.issue("access", kUser, kNow);
  EXPECT_TRUE(s.verify(t.token, "access", kNow + 59).ok());
  EXPECT_FALSE(s.verify(t.token, "access", kNow + 60).ok());
}

TEST(Tokens, TamperedPayloadOrSignatureIsRejected) {
  TokenService s(kSecret, std::chrono::hours(1), std::chrono::hours(2));
  auto t = s.issue("access", kUser, kNow).token;
  const auto dot1 = t.find('.');
  const auto dot2 = t.rfind('.');
  // Another user's id in the payload, original signature.
  auto forged =
      t.substr(0, dot1 + 1) +
      b64url(
          R"({"token_type":"access","exp":9999999999,"iat":1,"jti":"1d3c6f0e-3b8a-4a53-9b1e-1f2a3b4c5d6e","user_id":"00000000-0000-4000-8000-000000000000"})") +
      t.substr(dot2);
  EXPECT_FALSE(s.verify(forged, "access", kNow).ok());
  auto flipped = t;
  flipped.back() = flipped.back() == 'A' ? 'B' : 'A';
  EXPECT_FALSE(s.verify(flipped, "access", kNow).ok());
  TokenService other("another-secret-key-0123456789", std::chrono::hours(1), std::chrono::hours(2));
  EXPECT_FALSE(other.verify(t, "access", kNow).ok());
}

TEST(Tokens, OnlyHs256IsAccepted) {
  TokenService s(kSecret, std::chrono::hours(1), std::chrono::hours(2));
  const auto body = b64url(payload(kNow + 100));
  // alg "none" with an empty signature.
  const auto none = b64url(R"({"alg":"none","typ":"JWT"})") + "." + body + ".";
  EXPECT_FALSE(s.verify(none, "access", kNow).ok());
  // HS512 correctly signed with the same secret.
  const auto h512 = b64url(R"({"alg":"HS512","typ":"JWT"})") + "." + body;
  EXPECT_FALSE(s.verify(h512 + "." + sign(EVP_sha512(), h512, kSecret), "access", kNow).ok());
  // The same token as HS256 is fine: the test's signer is right.
  const auto h256 = b64url(R"({"alg":"HS256","typ":"JWT"})") + "." + body;
  EXPECT_TRUE(s.verify(h256 + "." + sign(EVP_sha256(), h256, kSecret), "access", kNow).ok());
}

TEST(Tokens, GarbageIsRejected) {
  TokenService s(kSecret, std::chrono::hours(1), std::chrono::hours(2));
  for (const std::string& bad :
       std::vector<std::string>{"", "abc", "a.b.c", "....", std::string(5000, 'x')}) {
    EXPECT_FALSE(s.verify(bad, "access", kNow).ok()) << bad;
  }
}

TEST(Tokens, UserIdMustBeAUuid) {
  TokenService s(kSecret, std::chrono::hours(1), std::chrono::hours(2));
  auto t = s.issue("access", "42", kNow);
  EXPECT_FALSE(s.verify(t.token, "access", kNow).ok());
}

TEST(Uuid, GeneratesVersion4AndValidates) {
  auto u = marketlink::random_uuid();
  EXPECT_TRUE(marketlink::is_uuid(u));
  EXPECT_EQ(u[14], '4');
  EXPECT_NE(u, marketlink::random_uuid());
  EXPECT_FALSE(marketlink::is_uuid("8d3c6f0e3b8a4a539b1e1f2a3b4c5d6e"));
  EXPECT_FALSE(marketlink::is_uuid("8d3c6f0e-3b8a-4a53-9b1e-1f2a3b4c5d6g"));
}

// RFC 8725: a token signed with our key but not issued by us for this API is not ours; nor is
// one issued in the future.
TEST(Tokens, IssuerAudienceAndIssueTimeAreChecked) {
  TokenService s(kSecret, std::chrono::hours(1), std::chrono::hours(2));
  EXPECT_TRUE(s.verify(hs256(payload(kNow + 100), kSecret), "access", kNow).ok());
  EXPECT_FALSE(s.verify(hs256(payload(kNow + 100, ""), kSecret), "access", kNow).ok())
      << "no iss/aud (another service sharing the key)";
  EXPECT_FALSE(
      s.verify(hs256(payload(kNow + 100, R"("iss":"marketlink","aud":"billing",)"), kSecret),
               "access", kNow)
          .ok());
  EXPECT_FALSE(
      s.verify(hs256(payload(kNow + 100, R"("iss":"django","aud":"marketlink-api",)"), kSecret),
               "access", kNow)
          .ok());
  EXPECT_FALSE(s.verify(hs256(payload(kNow + 7200, R"("iss":"marketlink","aud":"marketlink-api",)",
                                      kNow + 3600),
                              kSecret),
                        "access", kNow)
                   .ok())
      << "issued an hour from now";
}

// libjwt skips the signature check when the key is empty; the service fails closed instead.
TEST(Tokens, AnEmptyKeyAcceptsNothing) {
  TokenService s("", std::chrono::hours(1), std::chrono::hours(2));
  EXPECT_FALSE(s.verify(hs256(payload(kNow + 100), ""), "access", kNow).ok());
  EXPECT_FALSE(s.verify(hs256(payload(kNow + 100), "anything"), "access", kNow).ok());
}
