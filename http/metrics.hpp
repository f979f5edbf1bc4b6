// Prometheus metrics (prometheus-cpp): HTTP requests by route and status with latency
// histograms, recorded by the server; everything else is read at scrape time from the inspection
// registry and the process counters (actors/runtime/counters.hpp), so the actors pay nothing for
// it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "http/server/request.hpp"  // address_allowed

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

}  // namespace marketlink::http
