// Group commit across callers: transactions that would each be one durable commit are run
// together, one commit for all. A caller blocks (on its pool worker, where it would have waited
// for its own commit) until the shared transaction ended. While one shared transaction runs,
// the callers that arrive meanwhile queue; the next leader takes them all (up to a limit) in the
// next one. Each caller's work runs under its own savepoint, so its error — an error result or
// a failed statement — undoes only its own work; a failed commit or a lost connection fails
// every member of that transaction (each gets the error, as it would have alone).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>

#include "persistence/result.hpp"
#include "persistence/tx.hpp"

namespace marketlink::persistence {

class GroupCommit {
 public:
  // `linger`: how long a leader waits for more members while the process is busy (a shared
  // transaction ended within the last few milliseconds); zero commits at once, always.
  explicit GroupCommit(std::size_t max_members,
                       std::chrono::microseconds linger = std::chrono::microseconds{0})
      : max_members_(max_members), linger_(linger) {}

  // Runs fn(tx) in a transaction shared with other callers, on `db` when this caller leads.
  // A caller that `may_wait` lets a busy leader linger for company; one that may not (a stock
  // actor's batch: its variant waits for it) makes the transaction start at once, taking along
  // whatever waits.
  template <class T, class F>
  Result<T> run(Database& db, const char* what, F&& fn, bool may_wait = false) {
    std::optional<Result<T>> out;
    auto failed = run_erased(
        db, what,
        [&](Tx& tx) {
          out.emplace(fn(tx));
          return out->ok();
        },
        may_wait);
    if (failed) return *failed;
    return std::move(*out);
  }

  // Shared transactions committed so far, and the callers they carried (for the console).
  std::size_t transactions() const;
  std::size_t members() const;

 private:
  struct Member {
    std::function<bool(Tx&)> fn;  // false: its work is undone (rolled back to its savepoint)
    bool may_wait = false;
    // Why its work did not commit: its own statement failed, or the shared transaction did.
    std::optional<Error> failed;
    bool done = false;
  };
  // The error of the shared transaction, or nullopt when it committed (fn's own result stands).
  std::optional<Error> run_erased(Database& db, const char* what, std::function<bool(Tx&)> fn,
                                  bool may_wait);
  // Whether every queued member may wait (under mutex_).
  bool all_may_wait() const;
  // One shared transaction for `batch`, on `db`.
  static std::optional<Error> commit(Database& db, const char* what,
                                     const std::vector<Member*>& batch);

  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::milliseconds kBusyWindow{5};
  const std::size_t max_members_;
  const std::chrono::microseconds linger_;
  Clock::time_point last_commit_{};
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Member*> queue_;
  bool leading_ = false;
  std::size_t transactions_ = 0, members_ = 0;
};

}  // namespace marketlink::persistence
