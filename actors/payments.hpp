// The payment actor: the only component that talks to SSLCommerz. Opens gateway sessions for new
// orders (and, with the payments issue, validates notifications).
#pragma once

#include <memory>
#include <string>

#include "actors/runtime.hpp"
#include "persistence/money.hpp"

namespace marketlink::actors {

struct SessionRequest {
  std::string order_id;
  Money amount;
  std::string customer_name;
  std::string customer_email;
  std::string product_name;
};

struct GatewaySession {
  std::string payment_url;
  std::string session_key;
};

// "Payment Gateway Error: <failedreason>" (502) or "Payment gateway communication failed." (502).
Error gateway_refused(const std::string& reason);
Error gateway_unreachable();

class PaymentService {
 public:
  PaymentService(Runtime& runtime, const config::Config& config);
  ~PaymentService();

  void open_session(SessionRequest request, Callback<GatewaySession> done);

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace marketlink::actors
