// The janitor (a supervised actor): every PURGE_INTERVAL, and once at start, deletes rows nothing
// reads any more in bounded batches (persistence/sql/retention.hpp), so no table grows forever.
#pragma once

#include <memory>

#include "actors/runtime/runtime.hpp"
#include "persistence/sql/retention.hpp"

namespace marketlink::actors {

class Janitor {
 public:
  Janitor(Runtime& runtime, const config::Config& config);
  ~Janitor();
  Janitor(const Janitor&) = delete;
  Janitor& operator=(const Janitor&) = delete;

  // One purge now, answered with what it deleted (tests; the schedule runs without it).
  void purge_now(Callback<persistence::retention::Purged> done);

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace marketlink::actors
