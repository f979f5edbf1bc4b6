// Prometheus metrics (prometheus-cpp): HTTP requests by route and status with latency
// histograms, recorded by the server; everything else is read at scrape time from the inspection
// registry and the process counters (actors/runtime/counters.hpp), so the actors pay nothing for
// it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace marketlink::actors {
struct ActorView;
}

namespace marketlink::http {

class Metrics {
 public:
  static Metrics& instance();  // one per process, like the Prometheus default registry

  // `route` is the matched pattern ("/api/v1/orders/{id}/"), or "unmatched".
  void request(const std::string& route, const std::string& method, int status, double seconds);
  uint64_t requests_total() const;

  // The text exposition format (version 0.0.4).
  std::string render(const std::vector<actors::ActorView>& actors, std::size_t open_connections);

  struct Impl;

 private:
  Metrics();
  std::unique_ptr<Impl> impl_;
};

// Whether `address` (IPv4 or IPv6 text) is inside one of the CIDR blocks ("127.0.0.0/8").
bool address_allowed(const std::string& address, const std::vector<std::string>& cidrs);

}  // namespace marketlink::http
