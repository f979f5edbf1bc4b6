// What a handler sees of an HTTP exchange; no Beast types, so handlers compile without Beast.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace marketlink::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method;
  std::string path;   // decoded path without the query
  std::string query;  // raw query string, without '?'
  std::string body;
  std::string remote_address;
  std::string request_id;
  Headers headers;  // names in lower case
  Headers params;   // path parameters from the route pattern
  // When the server answers 504 (HTTP_REQUEST_TIMEOUT after the request was read); work the
  // request causes carries it, so what is still waiting then is skipped.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();

  const std::string* header(std::string_view lower_name) const;
  std::string param(std::string_view name) const;
  // A decoded query parameter (the first of that name).
  std::optional<std::string> query_param(std::string_view name) const;
};

using RequestPtr = std::shared_ptr<const Request>;

// A query string every handler can read: well-formed percent-encoding, and keys and values that
// decode to UTF-8 without NUL (anything else is a 400 at the edge, never a database error or a
// link that cannot be built).
bool acceptable_query(std::string_view query);

// Whether `address` (IPv4 or IPv6 text) is inside one of the CIDR blocks ("127.0.0.0/8").
bool address_allowed(const std::string& address, const std::vector<std::string>& cidrs);

// The client's address: the TCP peer, or — when the peer is one of `trusted_proxies` (CIDRs) —
// the right-most address of X-Forwarded-For that is not itself a trusted proxy. A header that
// does not parse leaves the peer.
std::string client_address(const std::string& peer, const std::string* forwarded_for,
                           const std::vector<std::string>& trusted_proxies);

// What per-address limits count: an IPv4 address, or the /64 of an IPv6 one (one host gets a
// whole /64).
std::string address_bucket(const std::string& address);

// Whether the Host header value (with or without a port) is one of `allowed` (Django's rules:
// "*" matches any host, ".example.com" the domain and its subdomains, otherwise exact and
// case-insensitive).
bool host_allowed(std::string_view host, const std::vector<std::string>& allowed);

// `text` for a log line: control characters and backslashes escaped (\xNN), so client input
// cannot start a new line or forge one.
std::string printable(std::string_view text);

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  Headers headers;
};

// Delivers the response; callable once, from any thread.
using Responder = std::function<void(Response)>;
using Handler = std::function<void(RequestPtr, Responder)>;

// A WebSocket endpoint that pushes a message about once a second to each listener. A listener
// holds at most one message in flight; one that falls 5 messages behind is disconnected, so a
// slow client costs the server nothing but its socket.
struct StreamEndpoint {
  std::string path;  // e.g. "/api/v1/ops/stream/" (also matched without the trailing slash)
  // Answers with a refusal (a 401/403 response) or std::nullopt to accept the upgrade.
  std::function<void(RequestPtr, std::function<void(std::optional<Response>)>)> authorize;
  std::function<std::string()> next;  // the next message (text)
};

}  // namespace marketlink::http
