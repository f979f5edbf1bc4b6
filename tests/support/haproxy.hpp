// HAProxy for the cluster tests and the cluster benchmark: the repository's configuration
// (docker/haproxy/haproxy.cfg) with local ports, as scripts/cluster.sh makes it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace marketlink::testing {

// The haproxy executable, or null when it is not installed.
const char* haproxy_binary();
// Writes the configuration (bind 127.0.0.1:port, one server per member port) to a temporary file
// and returns its path.
std::string write_haproxy_config(uint16_t port, const std::vector<uint16_t>& member_ports);
// Starts haproxy in the foreground on that configuration; returns its pid.
pid_t spawn_haproxy(const std::string& config_path);

}  // namespace marketlink::testing
