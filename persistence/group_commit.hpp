// Group commit across callers: transactions that would each be one durable commit are run
// together, one commit for all. A caller blocks (on its pool worker, where it would have waited
// for its own commit) until the shared transaction ended. While one shared transaction runs,
// the callers that arrive meanwhile queue; the next leader takes them all (up to a limit) in the
// next one. Each caller's work runs under its own savepoint, so its error — an error result or
// a failed statement — undoes only its own work; a failed commit or a lost connection fails
// every member of that transaction (each gets the error, as it would have alone).
#pragma once

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
  explicit GroupCommit(std::size_t max_members) : max_members_(max_members) {}

  // Runs fn(tx) in a transaction shared with other callers, on `db` when this caller leads.
  template <class T, class F>
  Result<T> run(Database& db, const char* what, F&& fn) {
    std::optional<Result<T>> out;
    auto failed = run_erased(db, what, [&](Tx& tx) {
      out.emplace(fn(tx));
      return out->ok();
    });
    if (failed) return *failed;
    return std::move(*out);
  }

  // Shared transactions committed so far, and the callers they carried (for the console).
  std::size_t transactions() const;
  std::size_t members() const;

 private:
  struct Member {
    std::function<bool(Tx&)> fn;  // false: its work is undone (rolled back to its savepoint)
    // Why its work did not commit: its own statement failed, or the shared transaction did.
    std::optional<Error> failed;
    bool done = false;
  };
  // The error of the shared transaction, or nullopt when it committed (fn's own result stands).
  std::optional<Error> run_erased(Database& db, const char* what, std::function<bool(Tx&)> fn);
  // One shared transaction for `batch`, on `db`.
  static std::optional<Error> commit(Database& db, const char* what,
                                     const std::vector<Member*>& batch);

  const std::size_t max_members_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Member*> queue_;
  bool leading_ = false;
  std::size_t transactions_ = 0, members_ = 0;
};

}  // namespace marketlink::persistence
