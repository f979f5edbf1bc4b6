// Starting a child process (a second marketlink server) from a multi-threaded test or benchmark:
// argv and the environment are built before fork(), so the child only calls execve().
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace marketlink::testing {

// The current environment with `overrides` applied; returns the child's pid.
pid_t spawn_process(const std::string& binary, const std::vector<std::string>& args,
                    const std::map<std::string, std::string>& overrides);

// SIGTERM, then waits; returns the exit status as waitpid reports it.
int stop_process(pid_t pid);
// Waits for the child to exit; returns the exit status as waitpid reports it.
int wait_process(pid_t pid);

// A loopback TCP port that was free a moment ago (for a child server to listen on).
uint16_t free_port();

}  // namespace marketlink::testing
