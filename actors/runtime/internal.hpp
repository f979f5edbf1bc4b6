// For actors/**.cpp only: the CAF side of the runtime (CAF headers are heavy; nothing outside
// actors/ includes this). Lets a module add a supervised actor to the root supervisor, and gives
// every actor the same two ways to talk: continue_on (a result comes back to the actor as a
// message) and ask (send to a supervised actor with a deadline, or answer unavailable at once).
#pragma once

#include <caf/all.hpp>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "actors/runtime/runtime.hpp"

namespace marketlink::actors::internal {

// The one continuation message: a closure to run on the actor that receives it.
struct Step {
  std::function<void()> run;
};

}  // namespace marketlink::actors::internal

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(marketlink::actors::internal::Step)

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

// A callback for any thread that runs fn(result) on `self`, as a Step message (the actor
// handles Step by calling run()), so every continuation of a multi-step flow runs on the actor
// that owns the flow. It needs no deadline of its own: what it waits for is a pool job, an ask or
// the gateway client, and each of those is answered by its deadline (JOB_TIMEOUT_MS,
// ASK_TIMEOUT_MS, GATEWAY_TIMEOUT).
// The callback holds the actor weakly: a continuation never keeps a stopped actor alive (and a
// result for an actor that is gone is dropped).
template <class T, class Self, class F>
Callback<T> continue_on(Self* self, F fn) {
  caf::weak_actor_ptr me = self->ctrl();
  return [me, fn = std::move(fn)](Result<T> r) mutable {
    auto strong = me.lock();
    if (!strong) return;
    caf::anon_send(caf::actor_cast<caf::actor>(strong),
                   Step{[fn = std::move(fn), r = std::move(r)]() mutable { fn(std::move(r)); }});
  };
}

// Sends make(done) to the actor in `slot`, with `done` answered deadline_error(what) unless the
// actor answers within ASK_TIMEOUT_MS, or by the request's `deadline` when that comes first (an
// answer after that goes to `late`); unavailable at once while the actor is restarting, and if
// the message is lost with a dying actor's mailbox.
template <class T, class Make>
void ask(Runtime& runtime, const Slot& slot, const char* what, Callback<T> done, Make make,
         Callback<T> late = nullptr, Deadline deadline = no_deadline) {
  auto handle = slot.get();
  if (!handle) return done(Error::unavailable());
  caf::anon_send(handle,
                 make(runtime.with_deadline<T>(what, std::move(done), deadline, std::move(late))));
}

}  // namespace marketlink::actors::internal
