// A local fake of the SSLCommerz v4 gateway for tests and benchmarks (sslcommerz-protocol.md):
// session init (POST /gwprocess/v4/api.php) speaking the real protocol, with switchable
// misbehaviour: refuse (status FAILED), hang (never answer), drop (close without answering).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace marketlink::testing {

class FakeSslcommerz {
 public:
  enum class Mode { ok, refuse, hang, drop, http_error };

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
  void set_refusal_reason(std::string reason);

  using Form = std::map<std::string, std::string>;
  std::vector<Form> sessions() const;  // every session-init form received
  std::size_t session_count() const { return session_count_.load(); }

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
  uint16_t port_ = 0;
  std::atomic<Mode> mode_{Mode::ok};
  std::atomic<std::size_t> session_count_{0};
  friend struct Impl;
};

// Decodes an application/x-www-form-urlencoded body ('+' is a space).
FakeSslcommerz::Form parse_form(const std::string& body);

}  // namespace marketlink::testing
