#include "tests/support/fault_proxy.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>
#include <vector>

namespace marketlink::testing {
namespace {

int connect_to(const std::string& host, uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0) return -1;
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd >= 0 && ::connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
    ::close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  return fd;
}

struct Pair {
  int client = -1;
  int server = -1;
};

void close_pair(Pair& p) {
  if (p.client >= 0) ::close(p.client);
  if (p.server >= 0) ::close(p.server);
  p.client = p.server = -1;
}

// Copies what `from` has to `to`; false when either side is done.
bool forward(int from, int to) {
  char buf[16384];
  const ssize_t n = ::read(from, buf, sizeof buf);
  if (n <= 0) return false;
  ssize_t off = 0;
  while (off < n) {
    const ssize_t w = ::write(to, buf + off, static_cast<size_t>(n - off));
    if (w <= 0) return false;
    off += w;
  }
  return true;
}

}  // namespace

FaultProxy::FaultProxy(std::string target_host, uint16_t target_port)
    : host_(std::move(target_host)), target_port_(target_port) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 128) != 0)
    throw std::runtime_error("fault proxy: cannot listen");
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  if (::pipe(wake_) != 0) throw std::runtime_error("fault proxy: pipe");
  thread_ = std::thread([this] { loop(); });
}

FaultProxy::~FaultProxy() {
  stop_.store(true);
  const char c = 0;
  (void)!::write(wake_[1], &c, 1);
  thread_.join();
  ::close(listen_fd_);
  ::close(wake_[0]);
  ::close(wake_[1]);
}

void FaultProxy::loop() {
  std::vector<Pair> pairs;
  while (!stop_.load()) {
    const Mode mode = mode_.load();
    if (mode == Mode::reset) {
      for (auto& p : pairs) close_pair(p);
      pairs.clear();
    }
    std::vector<pollfd> fds;
    fds.push_back({wake_[0], POLLIN, 0});
    fds.push_back({listen_fd_, POLLIN, 0});
    const bool requests = mode == Mode::pass || mode == Mode::no_replies;
    if (requests) {
      for (const auto& p : pairs) {
        fds.push_back({p.client, POLLIN, 0});
        fds.push_back({p.server, static_cast<short>(mode == Mode::pass ? POLLIN : 0), 0});
      }
    }
    const std::size_t polled = requests ? pairs.size() : 0;  // pairs accepted below wait a turn
    // A short timeout so a mode change takes effect promptly.
    if (::poll(fds.data(), fds.size(), 20) < 0) continue;
    if ((fds[0].revents & POLLIN) != 0) {
      char c;
      (void)!::read(wake_[0], &c, 1);
    }
    if ((fds[1].revents & POLLIN) != 0) {
      const int c = ::accept(listen_fd_, nullptr, nullptr);
      if (c >= 0) {
        if (mode == Mode::reset) {
          ::close(c);
        } else {
          ++accepted_;
          // In blackhole mode the upstream connection waits until the mode is pass again.
          const int s = connect_to(host_, target_port_);
          if (s < 0) {
            ::close(c);
          } else {
            pairs.push_back({c, s});
          }
        }
      }
    }
    for (std::size_t i = 0; i < polled; ++i) {
      const auto& cfd = fds[2 + 2 * i];
      const auto& sfd = fds[3 + 2 * i];
      bool ok = true;
      if ((cfd.revents & (POLLIN | POLLHUP | POLLERR)) != 0)
        ok = forward(pairs[i].client, pairs[i].server);
      if (ok && (sfd.revents & (POLLIN | POLLHUP | POLLERR)) != 0)
        ok = forward(pairs[i].server, pairs[i].client);
      if (!ok) close_pair(pairs[i]);
    }
    std::erase_if(pairs, [](const Pair& p) { return p.client < 0; });
  }
  for (auto& p : pairs) close_pair(p);
}

}  // namespace marketlink::testing
