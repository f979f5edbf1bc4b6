// Group commit: a leader runs the queued members in one transaction, each under a savepoint.
#include "persistence/group_commit.hpp"

#include <algorithm>
#include <vector>

#include "persistence/database.hpp"

namespace marketlink::persistence {

bool GroupCommit::all_may_wait() const {
  return std::all_of(queue_.begin(), queue_.end(), [](const Member* m) { return m->may_wait; });
}

std::optional<Error> GroupCommit::run_erased(Database& db, const char* what,
                                             std::function<bool(Tx&)> fn, bool may_wait) {
  Member me{std::move(fn), may_wait, std::nullopt, false};
  std::unique_lock lock(mutex_);
  queue_.push_back(&me);
  if (!may_wait) changed_.notify_all();  // a lingering leader starts now
  changed_.wait(lock, [&] { return me.done || !leading_; });
  if (me.done) return me.failed;
  // This caller leads until its own work is done: each round takes what queued meanwhile.
  leading_ = true;
  while (!me.done) {
    // Busy (another shared transaction ended a moment ago) and nobody in a hurry: wait a little
    // for company, as PostgreSQL's commit_delay does; an idle process commits at once.
    const auto now = Clock::now();
    if (linger_.count() > 0 && now - last_commit_ < kBusyWindow && all_may_wait()) {
      changed_.wait_until(lock, now + linger_,
                          [&] { return queue_.size() >= max_members_ || !all_may_wait(); });
    }
    std::vector<Member*> batch;
    while (!queue_.empty() && batch.size() < max_members_) {
      batch.push_back(queue_.front());
      queue_.pop_front();
    }
    lock.unlock();
    auto failed = commit(db, what, batch);
    lock.lock();
    ++transactions_;
    members_ += batch.size();
    last_commit_ = Clock::now();
    for (auto* m : batch) {
      if (failed) m->failed = failed;  // else a member's own failure (if any) stands
      m->done = true;
    }
    changed_.notify_all();
  }
  leading_ = false;
  changed_.notify_all();
  return me.failed;
}

std::optional<Error> GroupCommit::commit(Database& db, const char* what,
                                         const std::vector<Member*>& batch) {
  // Alone (the usual case with one busy variant) it needs no savepoint: its own failure rolls
  // the transaction back, and its own result stands.
  bool member_rolled_back = false;
  auto result = transact(db, what, [&](Tx& tx) -> Result<Unit> {
    if (batch.size() == 1) {
      batch.front()->failed.reset();
      member_rolled_back = false;
      if (batch.front()->fn(tx)) return Unit{};
      member_rolled_back = true;
      return Error::make(ErrorCode::conflict, "rolled back for its only member");
    }
    // Savepoints by hand: libpqxx's subtransaction does not recover the transaction after a
    // failed statement; ROLLBACK TO SAVEPOINT does.
    auto& raw = tx.raw();
    for (auto* m : batch) {
      raw.exec0("SAVEPOINT member");
      count_statement();
      bool ok = false;
      m->failed.reset();  // a retried transaction runs every member again
      try {
        ok = m->fn(tx);
      } catch (const pqxx::broken_connection&) {
        throw;  // the shared transaction is gone: every member fails (transact decides)
      } catch (const pqxx::in_doubt_error&) {
        throw;
      } catch (...) {
        // This member's statement failed: its own answer, the others go on.
        m->failed = translate_exception(std::current_exception(), what);
      }
      raw.exec0(ok ? "RELEASE SAVEPOINT member" : "ROLLBACK TO SAVEPOINT member");
      count_statement();
    }
    return Unit{};
  });
  if (!result && !member_rolled_back) return result.error();
  return std::nullopt;
}

std::size_t GroupCommit::transactions() const {
  std::lock_guard lock(mutex_);
  return transactions_;
}

std::size_t GroupCommit::members() const {
  std::lock_guard lock(mutex_);
  return members_;
}

}  // namespace marketlink::persistence
