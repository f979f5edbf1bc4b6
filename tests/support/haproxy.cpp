// The configuration is the repository's own, so the tests exercise what is deployed.
#include "tests/support/haproxy.hpp"

#include <unistd.h>

#include <fstream>
#include <sstream>

#include "tests/support/process.hpp"
#include "tests/support/test_server.hpp"

namespace marketlink::testing {

const char* haproxy_binary() {
  for (const char* p : {"/usr/sbin/haproxy", "/usr/bin/haproxy", "/usr/local/sbin/haproxy"}) {
    if (::access(p, X_OK) == 0) return p;
  }
  return nullptr;
}

std::string write_haproxy_config(uint16_t port, const std::vector<uint16_t>& member_ports) {
  const std::string source = MARKETLINK_SOURCE_DIR;
  std::ifstream in(source + "/docker/haproxy/haproxy.cfg");
  std::ostringstream cfg;
  std::string line;
  const std::string errors = "/usr/local/etc/haproxy/errors";
  bool in_servers = false;
  while (std::getline(in, line)) {
    // The block of server lines becomes one checked line per member.
    if (line.rfind("  server ", 0) == 0) {
      if (!in_servers) {
        for (std::size_t i = 0; i < member_ports.size(); ++i) {
          cfg << "  server m" << (i + 1) << " 127.0.0.1:" << member_ports[i] << " check\n";
        }
      }
      in_servers = true;
      continue;
    }
    in_servers = false;
    if (line.rfind("  bind ", 0) == 0) line = "  bind 127.0.0.1:" + std::to_string(port);
    if (auto at = line.find(errors); at != std::string::npos) {
      line.replace(at, errors.size(), source + "/docker/haproxy/errors");
    }
    cfg << line << "\n";
  }
  auto path = "/tmp/marketlink-haproxy-" + unique_suffix() + ".cfg";
  std::ofstream(path) << cfg.str();
  return path;
}

pid_t spawn_haproxy(const std::string& config_path) {
  return spawn_process(haproxy_binary(), {"-db", "-q", "-f", config_path}, {});
}

}  // namespace marketlink::testing
