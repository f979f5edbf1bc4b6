// Notification signatures.
#include "actors/payments/sslcommerz_signature.hpp"

#include "persistence/ids.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <vector>

namespace marketlink::actors {
namespace {

using Hash = std::string (*)(std::string_view);

// "k=v&k=v" of the named fields plus store_passwd, sorted byte-wise by name.
std::optional<std::string> signing_string(Hash hash, const PostedFields& posted,
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
  entries["store_passwd"] = hash(password);
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
  auto text = signing_string(md5_hex, posted, verify_key, store_password);
  if (!text) return std::nullopt;
  return md5_hex(*text);
}

std::optional<std::string> notification_sha256(const PostedFields& posted,
                                               std::string_view verify_key,
                                               std::string_view store_password) {
  auto text = signing_string(sha256_hex, posted, verify_key, store_password);
  if (!text) return std::nullopt;
  return sha256_hex(*text);
}

SignatureCheck verify_notification(const PostedFields& posted, std::string_view store_password) {
  const auto sign = posted.find("verify_sign");
  const auto key = posted.find("verify_key");
  if (sign == posted.end() || key == posted.end() || sign->second.empty() || key->second.empty()) {
    return SignatureCheck::missing;
  }
  // The sender names what is signed, but not what we act on: tran_id, status and store_id are
  // always signed by the gateway (protocol §3.3), val_id too on a VALID notification (one
  // without val_id is refused later, "val_id missing"). A narrower verify_key is not the
  // gateway's.
  std::vector<std::string_view> names;
  for (std::string_view rest = key->second; !rest.empty();) {
    const auto comma = rest.find(',');
    names.push_back(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
  }
  auto signs = [&names](std::string_view name) {
    return std::find(names.begin(), names.end(), name) != names.end();
  };
  const auto status = posted.find("status");
  const bool valid_status =
      status != posted.end() && (status->second == "VALID" || status->second == "VALIDATED");
  if (!signs("tran_id") || !signs("status") || !signs("store_id") ||
      (valid_status && posted.count("val_id") != 0 && !signs("val_id"))) {
    return SignatureCheck::invalid;
  }
  const auto expected = notification_md5(posted, key->second, store_password);
  if (!expected || expected->size() != sign->second.size()) return SignatureCheck::invalid;
  return CRYPTO_memcmp(expected->data(), sign->second.data(), expected->size()) == 0
             ? SignatureCheck::valid
             : SignatureCheck::invalid;
}

}  // namespace marketlink::actors
