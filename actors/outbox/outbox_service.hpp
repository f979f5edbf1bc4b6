// After-payment jobs. The payment confirmation writes them to the outbox table in its own
// transaction; the outbox_worker actor claims due jobs (after each commit, every
// OUTBOX_POLL_SECONDS and at start-up) and hands them to the invoice_actor (renders and stores the
// PDF) and the workflow_actor (paid → processing). Each job marks itself done in the same
// transaction as its effect, so running it twice changes nothing; failures are retried with
// exponential back-off until OUTBOX_MAX_ATTEMPTS, then left dead for an operator. A job whose
// actor crashed is claimed again when its lease (OUTBOX_LEASE_SECONDS) runs out.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "actors/runtime/runtime.hpp"
#include "persistence/sql/outbox.hpp"
#include "persistence/sql/payments.hpp"

namespace marketlink::actors {

class OutboxService {
 public:
  OutboxService(Runtime& runtime, const config::Config& config);
  ~OutboxService();

  // New jobs were committed: look now rather than at the next poll.
  void wake();
  // Jobs this process committed already claimed (see payments::confirm): run them now.
  void submit(std::vector<persistence::outbox::Job> jobs);
  // A dead job goes back to pending (operators); false when the job was not dead.
  void retry(int64_t job_id, Callback<bool> done);
  // Fault injection for tests and drills: "invoice_actor" or "workflow_actor" dies holding the
  // next batch it is given (its supervisor restarts it; the jobs come back after their lease).
  void crash_for_test(const std::string& actor);

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace marketlink::actors
