// A TCP proxy for fault tests, between the server and its PostgreSQL or Redis. In `pass` mode it
// forwards bytes both ways; in `blackhole` it keeps every connection open and accepts new ones
// but forwards nothing (a frozen host or a partition: nothing is refused, nothing answers); `reset`
// closes every connection and refuses new ones until the mode changes. One thread, poll(2).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

namespace marketlink::testing {

class FaultProxy {
 public:
  // no_replies: requests reach the server, its answers wait (a reply lost or late: the command
  // ran, the client times out); they flow again in `pass`.
  enum class Mode { pass, blackhole, reset, no_replies };

  // Listens on an ephemeral port of 127.0.0.1 and forwards to target_host:target_port.
  FaultProxy(std::string target_host, uint16_t target_port);
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  uint16_t port() const { return port_; }
  void set_mode(Mode mode) { mode_.store(mode); }
  Mode mode() const { return mode_.load(); }
  // Connections accepted so far (tests await a reconnect with it).
  int accepted() const { return accepted_.load(); }

 private:
  void loop();

  std::string host_;
  uint16_t target_port_;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};
  uint16_t port_ = 0;
  std::atomic<Mode> mode_{Mode::pass};
  std::atomic<int> accepted_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace marketlink::testing
