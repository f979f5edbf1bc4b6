// A non-blocking HTTP client for the payment gateway (Beast, C++20 coroutines on its own I/O
// thread): HTTPS with certificate and host-name verification for real hosts, plain HTTP for
// local URLs, keep-alive connection reuse, and one overall deadline per request (`timeout`:
// resolve, connect, TLS, write and read together). No Beast types here.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "persistence/result.hpp"

namespace marketlink::actors {

struct HttpReply {
  int status = 0;
  std::string body;
};

using FormFields = std::vector<std::pair<std::string, std::string>>;

// application/x-www-form-urlencoded (spaces as '+', everything but unreserved characters escaped).
std::string form_encode(const FormFields& fields);

class GatewayClient {
 public:
  explicit GatewayClient(std::chrono::milliseconds timeout);
  ~GatewayClient();
  GatewayClient(const GatewayClient&) = delete;
  GatewayClient& operator=(const GatewayClient&) = delete;

  using Done = std::function<void(Result<HttpReply>)>;
  // Transport failures (refused, reset, TLS, no answer within `timeout`) are
  // ErrorCode::unavailable; `done` runs once, on the client's I/O thread.
  void post_form(const std::string& url, const FormFields& fields, Done done);
  void get(const std::string& url, Done done);

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace marketlink::actors
