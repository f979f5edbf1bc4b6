// The outbox's arithmetic, as pure functions: when a failed job is tried again, when a claimed job
// (or a lane waiting on a crashed job actor) is given up to its lease, how many jobs a process
// holds at once.
#pragma once

#include <chrono>
#include <cstddef>

namespace marketlink::actors {

// Seconds before attempt `attempts` + 1: 1, 2, 4, … doubling per attempt, at most 300.
int retry_delay_seconds(int attempts);

// True once a job claimed (or a lane busy) since `since` has outlived its lease: its actor
// crashed or never answered, and the row comes back from the table to any process.
bool lease_expired(std::chrono::steady_clock::time_point since,
                   std::chrono::steady_clock::time_point now, std::chrono::seconds lease);

// Jobs held in memory at most (claimed and not yet finished): four batches.
std::size_t in_flight_cap(int batch_size);

// How long this process keeps renewing the lease of a job it runs before it takes the job for
// lost (its job actor never answered): a batch is at most three pool jobs, each bounded by
// JOB_TIMEOUT_MS; never less than the lease itself.
std::chrono::seconds held_at_most(std::chrono::seconds lease,
                                  std::chrono::milliseconds job_timeout);

}  // namespace marketlink::actors
