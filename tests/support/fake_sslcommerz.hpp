// A local fake of the SSLCommerz v4 gateway for tests and benchmarks (docs/sslcommerz.md):
// session init (POST /gwprocess/v4/api.php) with switchable misbehaviour (refuse, hang, drop,
// HTTP error); the validation API (GET or POST /validator/api/validationserverAPI.php: VALID on
// the first call for a val_id, VALIDATED after, INVALID_TRANSACTION for unknown ids, with a
// configurable wrong amount or currency and its own hang / error / garbage modes); and signed
// notifications built the way the gateway builds them (§3.2, §4), to POST to the merchant.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace marketlink::persistence {
struct RedisSettings;
}  // namespace marketlink::persistence

namespace marketlink::testing {

class FakeSslcommerz {
 public:
  // hold: session inits wait, unanswered, until release_held() answers them as `ok` would.
  enum class Mode { ok, refuse, hang, drop, http_error, hold };

  // store_id / store_passwd the fake accepts; anything else gets "Store Credential Error".
  FakeSslcommerz(std::string store_id, std::string store_password, int threads = 1);
  ~FakeSslcommerz();

  uint16_t port() const { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string session_url() const { return base_url() + "/gwprocess/v4/api.php"; }
  std::string validation_url() const {
    return base_url() + "/validator/api/validationserverAPI.php";
  }

  void set_mode(Mode mode) { mode_ = mode; }
  // Keeps what was paid, failed and opened in this Redis, shared by every fake that uses it: the
  // test processes of one run then see one gateway, whichever server process asks it.
  void share_ledger(const persistence::RedisSettings& redis);
  std::size_t held_count() const;  // session inits waiting in Mode::hold
  void release_held();

  // How the validation API answers. garbage: 200 with a body that is not JSON; invalid:
  // INVALID_TRANSACTION for every val_id.
  enum class ValidationMode { ok, invalid, hang, http_error, garbage };
  void set_validation_mode(ValidationMode mode) { validation_mode_ = mode; }
  std::size_t validation_count() const { return validation_count_.load(); }
  // The transaction query (§6.2, by tran_id) answers from what was paid (pay), what failed
  // (unpaid) and which sessions were opened; it follows the validation mode too.
  std::size_t query_count() const { return query_count_.load(); }
  std::string transaction_url() const {
    return base_url() + "/validator/api/merchantTransIDvalidationAPI.php";
  }
  void set_refusal_reason(std::string reason);

  using Form = std::map<std::string, std::string>;
  std::vector<Form> sessions() const;  // every session-init form received
  std::size_t session_count() const { return session_count_.load(); }

  struct PayOptions {
    std::string validated_amount;  // what the validation API reports ("" = the amount paid)
    std::string currency_type = "BDT";
    std::string risk_level = "0";
    std::string card_type = "VISA-Dutch Bangla";  // any length: the gateway sets no limit we know
  };
  // The customer pays `amount` for `tran_id`: the fake remembers the transaction under a new
  // val_id and returns the signed VALID notification (IPN and success redirect carry the same).
  Form pay(const std::string& tran_id, const std::string& amount, const PayOptions& options);
  Form pay(const std::string& tran_id, const std::string& amount) {
    return pay(tran_id, amount, PayOptions{});
  }
  // A signed notification for a payment that did not happen: FAILED, CANCELLED, EXPIRED or
  // UNATTEMPTED, with the field set of §3.3.
  Form unpaid(const std::string& tran_id, const std::string& amount, const std::string& status);

  // Adds verify_key (every field, sorted), verify_sign (MD5) and verify_sign_sha2 (SHA-256) as
  // the gateway does (§4.1), with the store password `password`.
  static Form sign(Form fields, const std::string& password);
  // application/x-www-form-urlencoded
  static std::string encode(const Form& fields);

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
  uint16_t port_ = 0;
  std::atomic<Mode> mode_{Mode::ok};
  std::atomic<ValidationMode> validation_mode_{ValidationMode::ok};
  std::atomic<std::size_t> session_count_{0};
  std::atomic<std::size_t> validation_count_{0};
  std::atomic<std::size_t> query_count_{0};
  friend struct Impl;
};

// Decodes an application/x-www-form-urlencoded body ('+' is a space).
FakeSslcommerz::Form parse_form(const std::string& body);

}  // namespace marketlink::testing
