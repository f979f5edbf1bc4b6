// For actors/*.cpp only: the CAF side of the runtime (CAF headers are heavy; nothing outside
// actors/ includes this). Lets a module add a supervised actor to the root supervisor.
#pragma once

#include <caf/all.hpp>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "actors/runtime/runtime.hpp"

namespace marketlink::actors::internal {

// The current handle of a supervised actor; it changes when the actor is restarted.
class Slot {
 public:
  caf::actor get() const {
    std::lock_guard lock(mutex_);
    return actor_;
  }
  void set(caf::actor a) {
    std::lock_guard lock(mutex_);
    actor_ = std::move(a);
  }

 private:
  mutable std::mutex mutex_;
  caf::actor actor_;
};

// Spawns the child (from the supervisor's context).
using Factory = std::function<caf::actor(caf::event_based_actor* supervisor)>;

// Adds a child to the root supervisor, which restarts it with back-off when it dies.
// Returns once the child runs.
std::shared_ptr<Slot> supervise(Runtime& runtime, const std::string& name, Factory factory);

}  // namespace marketlink::actors::internal
