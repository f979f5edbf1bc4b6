// SSLCommerz notification signatures (docs/sslcommerz.md §3): `verify_sign` is the MD5 of the
// fields named in `verify_key` plus store_passwd = md5(store password), sorted by name and joined
// as k=v&k=v. Used by the payment actor to check IPNs and redirects, and by the tests' fake
// gateway to sign them.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace marketlink::actors {

using PostedFields = std::map<std::string, std::string>;  // decoded form fields

enum class SignatureCheck {
  valid,
  missing,  // no verify_sign or no verify_key
  invalid,  // wrong signature, or verify_key names a field that was not posted
};

// Constant-time comparison of the computed and the posted MD5 signature; invalid too when
// verify_key leaves out a field the server acts on (tran_id, status, store_id; val_id if VALID).
SignatureCheck verify_notification(const PostedFields& posted, std::string_view store_password);

// The signatures of `posted` over the names in `verify_key` (a comma list); std::nullopt when a
// named field is absent.
std::optional<std::string> notification_md5(const PostedFields& posted, std::string_view verify_key,
                                            std::string_view store_password);
std::optional<std::string> notification_sha256(const PostedFields& posted,
                                               std::string_view verify_key,
                                               std::string_view store_password);

}  // namespace marketlink::actors
