// The janitor: one purge transaction at a time, each batch bounded; it keeps going while a batch
// came back full, then waits for the next interval.
#include "actors/ops/janitor.hpp"

#include <spdlog/spdlog.h>

#include <array>

#include "actors/runtime/internal.hpp"
#include "actors/runtime/pool_jobs.hpp"

namespace marketlink::actors::detail {
struct PurgeMsg {
  Callback<persistence::retention::Purged> done;
};
}  // namespace marketlink::actors::detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(marketlink::actors::detail::PurgeMsg)

namespace marketlink::actors {

using persistence::retention::Purged;

namespace {

using tick_atom = caf::atom_constant<caf::atom("tick")>;
constexpr int kBatch = 5000;

enum Gauge : std::size_t { kPurges, kDeleted, kGaugeCount };
constexpr std::array kGaugeList{"purges", "deleted_rows"};
static_assert(kGaugeList.size() == kGaugeCount, "one name per gauge, in order");

struct JanitorState {
  Runtime* runtime = nullptr;
  const config::Config* config = nullptr;
  std::shared_ptr<ActorStats> stats;
};

using JanitorActor = caf::stateful_actor<JanitorState>;

void purge(JanitorActor* self, Callback<Purged> done) {
  auto& st = self->state;
  const int days = st.config->retention_days;
  st.stats->set_state("purging");
  run_transaction<Purged>(
      *st.runtime, "purge",
      [days](persistence::Tx& tx) -> Result<Purged> {
        return persistence::retention::purge(tx, days, kBatch);
      },
      internal::continue_on<Purged>(self, [self, done = std::move(done)](Result<Purged> r) {
        auto& st = self->state;
        st.stats->set_state("idle");
        if (r) {
          st.stats->add(kPurges, 1);
          st.stats->add(kDeleted, r->total());
          if (r->total() > 0) {
            spdlog::info("janitor: deleted {} idempotency keys, {} refresh tokens, {} outbox jobs",
                         r->idempotency_keys, r->refresh_tokens, r->outbox_done);
          }
        }
        if (done) done(r);
      }));
}

caf::behavior janitor(JanitorActor* self, Runtime* runtime, const config::Config* config) {
  auto& st = self->state;
  st.runtime = runtime;
  st.config = config;
  st.stats =
      runtime->registry().enter("janitor", "janitor", "root_supervisor", gauge_names(kGaugeList));
  st.stats->set_state("idle");
  self->send(self, tick_atom::value);
  return {
      [self](tick_atom) {
        purge(self, nullptr);
        self->delayed_send(self, self->state.config->purge_interval, tick_atom::value);
      },
      [self](detail::PurgeMsg& msg) { purge(self, std::move(msg.done)); },
      [](internal::Step& step) { step.run(); },
  };
}

}  // namespace

struct Janitor::Impl {
  Runtime& runtime;
  std::shared_ptr<internal::Slot> slot;
};

Janitor::Janitor(Runtime& runtime, const config::Config& config)
    : impl_(std::make_shared<Impl>(Impl{runtime, nullptr})) {
  Runtime* rt = &runtime;
  const config::Config* cfg = &config;
  impl_->slot = internal::supervise(runtime, "janitor", [rt, cfg](caf::event_based_actor* parent) {
    return parent->spawn(janitor, rt, cfg);
  });
}

Janitor::~Janitor() = default;

void Janitor::purge_now(Callback<Purged> done) {
  internal::ask<Purged>(
      impl_->runtime, *impl_->slot, "janitor", std::move(done),
      [](Callback<Purged> answer) { return detail::PurgeMsg{std::move(answer)}; });
}

}  // namespace marketlink::actors
