// Notification signatures against three test vectors (docs/sslcommerz.md §3).
#include <gtest/gtest.h>

#include "actors/payments/sslcommerz_signature.hpp"

using marketlink::actors::notification_md5;
using marketlink::actors::notification_sha256;
using marketlink::actors::PostedFields;
using marketlink::actors::SignatureCheck;
using marketlink::actors::verify_notification;

namespace {

const std::string kValidKey =
    "amount,bank_tran_id,base_fair,card_brand,card_issuer,card_issuer_country,card_issuer_country_"
    "code,card_no,"
    "card_sub_brand,card_type,currency,currency_amount,currency_rate,currency_type,error,risk_"
    "level,risk_title,status,"
    "store_amount,store_id,tran_date,tran_id,val_id,value_a,value_b,value_c,value_d";

PostedFields vector_a() {
  return {{"amount", "1500.00"},
          {"bank_tran_id", "241017153025pQ4xZk2sLmN8vTy"},
          {"base_fair", "0.00"},
          {"card_brand", "VISA"},
          {"card_issuer", "STANDARD CHARTERED BANK"},
          {"card_issuer_country", "Bangladesh"},
          {"card_issuer_country_code", "BD"},
          {"card_no", "432155XXXXXX7491"},
          {"card_sub_brand", "Classic"},
          {"card_type", "VISA-Dutch Bangla"},
          {"currency", "BDT"},
          {"currency_amount", "1500.00"},
          {"currency_rate", "1.0000"},
          {"currency_type", "BDT"},
          {"error", ""},
          {"risk_level", "0"},
          {"risk_title", "Safe"},
          {"status", "VALID"},
          {"store_amount", "1462.50"},
          {"store_id", "testbox"},
          {"tran_date", "2024-10-17 15:30:11"},
          {"tran_id", "ORD-1001-A1"},
          {"val_id", "241017153025Xy7QpL2mN8vRt4K"},
          {"value_a", "order-1001"},
          {"value_b", ""},
          {"value_c", ""},
          {"value_d", ""},
          {"verify_key", kValidKey},
          {"verify_sign", "c61166e28db7fa0cd50ef9a3e799aac0"}};
}

}  // namespace

TEST(SslcommerzSignature, VectorA) {
  auto posted = vector_a();
  EXPECT_EQ(notification_md5(posted, kValidKey, "qwerty").value(),
            "c61166e28db7fa0cd50ef9a3e799aac0");
  EXPECT_EQ(notification_sha256(posted, kValidKey, "qwerty").value(),
            "d9a6a6732d3a3875dbd793b2b9bdede1d54a4b33ecbf7369776dbb0bb6ac66c7");
  EXPECT_EQ(verify_notification(posted, "qwerty"), SignatureCheck::valid);
  EXPECT_EQ(verify_notification(posted, "qwerty1"), SignatureCheck::invalid);
  EXPECT_EQ(notification_md5(posted, kValidKey, "qwerty1").value(),
            "16944636f558343b440403d4ee2661c1");
}

TEST(SslcommerzSignature, VectorATamperedAmountIsRejected) {
  auto posted = vector_a();
  posted["amount"] = "15.00";
  EXPECT_EQ(notification_md5(posted, kValidKey, "qwerty").value(),
            "7a2503be21376f6b81e24c44f4fb820f");
  EXPECT_EQ(verify_notification(posted, "qwerty"), SignatureCheck::invalid);
}

TEST(SslcommerzSignature, VectorBOfficialSandboxPayload) {
  const std::string key =
      "amount,bank_tran_id,base_fair,card_brand,card_issuer,card_issuer_country,card_issuer_"
      "country_code,card_no,"
      "card_type,currency,currency_amount,currency_rate,currency_type,risk_level,risk_title,status,"
      "store_amount,"
      "store_id,tran_date,tran_id,val_id,value_a,value_b,value_c,value_d";
  PostedFields posted{{"tran_id", "5E121A0D01F92"},
                      {"val_id", "200105225826116qFnATY9sHIwo"},
                      {"amount", "10.00"},
                      {"card_type", "VISA-Dutch Bangla"},
                      {"store_amount", "9.75"},
                      {"card_no", "418117XXXXXX6675"},
                      {"bank_tran_id", "200105225825DBgSoRGLvczhFjj"},
                      {"status", "VALID"},
                      {"tran_date", "2020-01-05 22:58:21"},
                      {"currency", "BDT"},
                      {"card_issuer", "TRUST BANK, LTD."},
                      {"card_brand", "VISA"},
                      {"card_issuer_country", "Bangladesh"},
                      {"card_issuer_country_code", "BD"},
                      {"store_id", "test_testemi"},
                      {"verify_sign", "d42fab70ae0bcbda5280e7baffef60b0"},
                      {"verify_key", key},
                      {"currency_type", "BDT"},
                      {"currency_amount", "10.00"},
                      {"currency_rate", "1.0000"},
                      {"base_fair", "0.00"},
                      {"value_a", ""},
                      {"value_b", ""},
                      {"value_c", ""},
                      {"value_d", ""},
                      {"risk_level", "0"},
                      {"risk_title", "Safe"}};
  EXPECT_EQ(verify_notification(posted, "test_testemi@ssl"), SignatureCheck::valid);
  EXPECT_EQ(notification_sha256(posted, key, "test_testemi@ssl").value(),
            "02c0417ff467c109006382d56eedccecd68382e47245266e7b47abbb3d43976e");
}

TEST(SslcommerzSignature, VectorCFailedShape) {
  const std::string key =
      "amount,bank_tran_id,base_fair,card_brand,card_issuer,card_issuer_country,card_issuer_"
      "country_code,card_no,"
      "card_sub_brand,card_type,currency,currency_amount,currency_rate,currency_type,error,status,"
      "store_id,tran_date,"
      "tran_id,value_a,value_b,value_c,value_d";
  PostedFields posted{{"amount", "1500.00"},
                      {"bank_tran_id", "241017153402aBcDeFgHiJkLmNo"},
                      {"base_fair", "0.00"},
                      {"card_brand", ""},
                      {"card_issuer", ""},
                      {"card_issuer_country", ""},
                      {"card_issuer_country_code", ""},
                      {"card_no", ""},
                      {"card_sub_brand", "Classic"},
                      {"card_type", ""},
                      {"currency", "BDT"},
                      {"currency_amount", "1500.00"},
                      {"currency_rate", "1.0000"},
                      {"currency_type", "BDT"},
                      {"error", "3D Security Validation Failed"},
                      {"status", "FAILED"},
                      {"store_id", "testbox"},
                      {"tran_date", "2024-10-17 15:33:50"},
                      {"tran_id", "ORD-1002-B7"},
                      {"value_a", ""},
                      {"value_b", ""},
                      {"value_c", ""},
                      {"value_d", ""},
                      {"verify_key", key},
                      {"verify_sign", "8ce9c9b0db7a2f51d370576c72e3eb9e"}};
  EXPECT_EQ(verify_notification(posted, "qwerty"), SignatureCheck::valid);
  EXPECT_EQ(notification_sha256(posted, key, "qwerty").value(),
            "e91cb6bc7ac501659d81a7a5670ce7e3b78eb4b5ee9cf43db861bed10117c26e");
}

TEST(SslcommerzSignature, MissingPartsAndAbsentNamedFieldsAreNotValid) {
  auto posted = vector_a();
  posted.erase("verify_sign");
  EXPECT_EQ(verify_notification(posted, "qwerty"), SignatureCheck::missing);
  posted = vector_a();
  posted.erase("verify_key");
  EXPECT_EQ(verify_notification(posted, "qwerty"), SignatureCheck::missing);
  posted = vector_a();
  posted["verify_key"] = kValidKey + ",not_posted";
  EXPECT_EQ(verify_notification(posted, "qwerty"), SignatureCheck::invalid)
      << "a bad signature, not a crash";
  posted = vector_a();
  posted["verify_sign"] = "C61166E28DB7FA0CD50EF9A3E799AAC0";
  EXPECT_EQ(verify_notification(posted, "qwerty"), SignatureCheck::invalid)
      << "exact lower-case comparison";
}

// A verify_key narrower than what the server acts on is not valid, however well signed.
TEST(SslcommerzSignature, AKeyThatLeavesOutWhatWeActOnIsNotValid) {
  for (const char* left_out : {"tran_id", "status", "store_id", "val_id"}) {
    auto posted = vector_a();
    std::string key;
    std::string_view rest = kValidKey;
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      const auto name = rest.substr(0, comma);
      if (name != left_out) key += (key.empty() ? "" : ",") + std::string(name);
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    }
    posted["verify_key"] = key;
    posted["verify_sign"] = notification_md5(posted, key, "qwerty").value();
    EXPECT_EQ(verify_notification(posted, "qwerty"), SignatureCheck::invalid) << left_out;
  }
}
