// Notification signatures.
#include "actors/sslcommerz_signature.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

namespace marketlink::actors {
namespace {

std::string hex_digest(const EVP_MD* md, std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, md, nullptr);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(hex[digest[i] >> 4]);
    out.push_back(hex[digest[i] & 0x0F]);
  }
  return out;
}

// "k=v&k=v" of the named fields plus store_passwd, sorted byte-wise by name.
std::optional<std::string> signing_string(const EVP_MD* md, const PostedFields& posted,
                                          std::string_view verify_key, std::string_view password) {
  std::map<std::string, std::string> entries;
  std::size_t start = 0;
  while (start <= verify_key.size()) {
    const auto comma = verify_key.find(',', start);
    const auto name = verify_key.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (!name.empty()) {
      auto it = posted.find(std::string(name));
      if (it == posted.end()) return std::nullopt;  // a named field that was not posted
      entries[it->first] = it->second;
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  if (entries.empty()) return std::nullopt;
  entries["store_passwd"] = hex_digest(md, password);
  std::string out;
  for (const auto& [k, v] : entries) {
    if (!out.empty()) out.push_back('&');
    out += k;
    out.push_back('=');
    out += v;
  }
  return out;
}

}  // namespace

std::optional<std::string> notification_md5(const PostedFields& posted, std::string_view verify_key,
                                            std::string_view store_password) {
  auto text = signing_string(EVP_md5(), posted, verify_key, store_password);
  if (!text) return std::nullopt;
  return hex_digest(EVP_md5(), *text);
}

std::optional<std::string> notification_sha256(const PostedFields& posted,
                                               std::string_view verify_key,
                                               std::string_view store_password) {
  auto text = signing_string(EVP_sha256(), posted, verify_key, store_password);
  if (!text) return std::nullopt;
  return hex_digest(EVP_sha256(), *text);
}

SignatureCheck verify_notification(const PostedFields& posted, std::string_view store_password) {
  const auto sign = posted.find("verify_sign");
  const auto key = posted.find("verify_key");
  if (sign == posted.end() || key == posted.end() || sign->second.empty() || key->second.empty()) {
    return SignatureCheck::missing;
  }
  const auto expected = notification_md5(posted, key->second, store_password);
  if (!expected || expected->size() != sign->second.size()) return SignatureCheck::invalid;
  return CRYPTO_memcmp(expected->data(), sign->second.data(), expected->size()) == 0
             ? SignatureCheck::valid
             : SignatureCheck::invalid;
}

}  // namespace marketlink::actors
