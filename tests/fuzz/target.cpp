// The request target and headers as the edge reads them: the query check and parameters, the
// router on a decoded path, and the helpers that take header values (X-Forwarded-For, Host, log
// escaping). Input: "path?query\nheader value".
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "http/input/json_input.hpp"
#include "http/server/request.hpp"
#include "http/server/router.hpp"

using namespace marketlink::http;

namespace {
const Router& router() {
  static const Router r = [] {
    Router out;
    const Handler none = [](RequestPtr, Responder) {};
    for (const char* p : {"/api/v1/orders/", "/api/v1/orders/{id}/", "/api/v1/orders/{id}/cancel/",
                          "/api/v1/services/{id}/variants/", "/api/v1/services/variants/{id}/",
                          "/webhooks/payment/{order_id}/", "/healthz"}) {
      out.add("GET", p, none);
      out.add("POST", p, none);
    }
    return out;
  }();
  return r;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const auto nl = in.find('\n');
  const auto target = in.substr(0, nl);
  const std::string header(nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1));
  Request req;
  const auto q = target.find('?');
  req.path = std::string(target.substr(0, q));
  if (q != std::string_view::npos) req.query = std::string(target.substr(q + 1));
  if (acceptable_query(req.query)) {
    for (const char* name : {"page", "page_size", "search", "status", "token", ""}) {
      (void)req.query_param(name);
    }
  }
  auto match = router().match("GET", req.path);
  (void)match;
  (void)client_address("10.0.0.1", &header, {"10.0.0.0/8", "::1/128", "bad/99"});
  (void)address_bucket(header);
  (void)host_allowed(header, {"localhost", ".example.com", "[::1]"});
  (void)printable(in);
  (void)valid_utf8(in);
  return 0;
}
