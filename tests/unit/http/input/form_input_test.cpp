// Form bodies: urlencoded (Boost.URL) and multipart.
#include <gtest/gtest.h>

#include "http/input/form_input.hpp"

using marketlink::ErrorCode;
using marketlink::http::parse_form;

TEST(FormInput, UrlencodedDecodesPlusAndPercent) {
  auto f = parse_form("application/x-www-form-urlencoded; charset=UTF-8",
                      "card_issuer=TRUST+BANK%2C+LTD.&tran_date=2020-01-05%2022:58:21&value_b=&"
                      "email=a%2Bb%40x.com");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->at("card_issuer"), "TRUST BANK, LTD.");
  EXPECT_EQ(f->at("tran_date"), "2020-01-05 22:58:21");
  EXPECT_EQ(f->at("value_b"), "");
  EXPECT_EQ(f->at("email"), "a+b@x.com");
}

TEST(FormInput, MalformedUrlencodingIs400) {
  auto f = parse_form("application/x-www-form-urlencoded", "a=%zz");
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().code, ErrorCode::invalid_input);
}

TEST(FormInput, MultipartTextFieldsAreRead) {
  const std::string body =
      "--XyZ\r\nContent-Disposition: form-data; name=\"status\"\r\n\r\nVALID\r\n"
      "--XyZ\r\nContent-Disposition: form-data; name=\"card_issuer\"\r\nContent-Type: "
      "text/plain\r\n\r\nTRUST BANK, LTD.\r\n"
      "--XyZ\r\nContent-Disposition: form-data; name=\"empty\"\r\n\r\n\r\n"
      "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; "
      "filename=\"a.txt\"\r\n\r\nignored\r\n"
      "--XyZ--\r\n";
  auto f = parse_form("multipart/form-data; boundary=XyZ", body);
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(f->at("status"), "VALID");
  EXPECT_EQ(f->at("card_issuer"), "TRUST BANK, LTD.");
  EXPECT_EQ(f->at("empty"), "");
  EXPECT_EQ(f->count("file"), 0u);
}

TEST(FormInput, BrokenMultipartAndOtherMediaTypesAreClientErrors) {
  EXPECT_EQ(parse_form("multipart/form-data", "--x\r\n").error().code, ErrorCode::invalid_input);
  EXPECT_EQ(parse_form("multipart/form-data; boundary=x",
                       "--x\r\nContent-Disposition: form-data\r\n\r\nv\r\n--x--")
                .error()
                .code,
            ErrorCode::invalid_input);
  EXPECT_EQ(parse_form("multipart/form-data; boundary=x", "--x\r\nno end").error().code,
            ErrorCode::invalid_input);
  EXPECT_EQ(parse_form("application/json", "{}").error().code, ErrorCode::unsupported_media_type);
}
