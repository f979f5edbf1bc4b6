// The Beast HTTP edge: keep-alive sessions on strands, body and header limits, timeouts, a
// bounded number of connections, request ids, access log, graceful shutdown. No Beast types here.
#pragma once

#include <cstdint>
#include <memory>

#include "config/config.hpp"
#include "http/server/router.hpp"

namespace marketlink::http {

class HttpServer {
 public:
  HttpServer(const config::Config& config, const Router& router);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds HTTP_HOST:HTTP_PORT (port 0 picks a free one), starts the I/O threads, returns the port.
  uint16_t start();
  // Stops accepting, lets requests in flight finish (up to SHUTDOWN_GRACE), closes idle
  // connections, then stops the I/O threads. Idempotent.
  void stop();
  // Blocks until SIGINT or SIGTERM arrives, then stop().
  void run_until_signal();
  // Blocks until SIGINT or SIGTERM arrives and returns it; the server keeps serving.
  int wait_for_signal();

  std::size_t open_connections() const;
  // Adds a WebSocket endpoint (before start()).
  void set_stream(StreamEndpoint endpoint);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace marketlink::http
