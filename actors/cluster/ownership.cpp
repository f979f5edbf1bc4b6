// Ownership across the cluster: the `cluster_link` actor (supervised) is published on
// CLUSTER_LINK_PORT with CAF's middleman. It serves the calls other members forward to this one
// (placements on this process's order_coordinator, releases and resyncs on its stock actors, a
// restart, a named view; each answer goes back as a wire::Reply), and it forwards this process's
// calls for variants other members own: one connection per member (connect_atom to the
// middleman, monitored), the calls waiting for it queued (bounded). A member that cannot be
// reached is taken out of this process's view for MEMBER_TTL_MS (its variants then have another
// owner here) and the calls not yet sent to it run here; the calls already sent when its link
// breaks are answered 503 at once.
#include "actors/cluster/ownership.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <caf/io/all.hpp>
#include <charconv>
#include <deque>
#include <map>
#include <mutex>
#include <set>

#include "actors/cluster/wire.hpp"
#include "actors/runtime/internal.hpp"

namespace marketlink::actors::detail {
// A call for another member, run on the link actor with that member's handle, or with nullptr
// when the member cannot be reached (the call then runs here, or fails).
struct LinkWork {
  std::string member;
  std::function<void(caf::event_based_actor*, const caf::actor*)> run;
};
}  // namespace marketlink::actors::detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(marketlink::actors::detail::LinkWork)

namespace marketlink::actors {

using detail::LinkWork;
using persistence::OrderRow;

namespace {

using tick_atom = caf::atom_constant<caf::atom("tick")>;
using listen_atom = caf::atom_constant<caf::atom("listen")>;

// Calls waiting for one member's connection; beyond this the oldest runs here at once.
constexpr std::size_t kMaxWaiting = 4096;
constexpr std::chrono::seconds kConnectTimeout{2};
// What a forwarded call may take beyond its own deadline (the owner answers by that deadline).
constexpr std::chrono::seconds kReplyMargin{2};

uint64_t mix(uint64_t x) {  // splitmix64's finalizer
  x ^= x >> 30U;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27U;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31U;
  return x;
}

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

enum Gauge : std::size_t {
  kOwners,
  kForwarded,
  kServed,
  kFellBack,
  kConnections,
  kWaiting,
  kGaugeCount
};
constexpr std::array kGaugeList{"owners",    "forwarded",   "served",
                                "fell_back", "connections", "waiting"};
static_assert(kGaugeList.size() == kGaugeCount, "one name per gauge, in order");

std::string advertised_host(const config::Config& c) {
  if (!c.link_advertise.empty()) return c.link_advertise;
  if (!c.link_bind.empty() && c.link_bind != "0.0.0.0") return c.link_bind;
  std::array<char, 256> host{};
  if (::gethostname(host.data(), host.size() - 1) != 0) return "127.0.0.1";
  return host.data();
}

// What is left of a forwarded call's deadline, sent to the owner (it starts its own clock).
std::chrono::milliseconds left_of(Deadline deadline, const Runtime& runtime) {
  return deadline == no_deadline ? runtime.ask_timeout() : time_left(deadline);
}

bool timed_out(const caf::error& e) {
  return e == caf::sec::request_timeout;
}

}  // namespace

std::string rendezvous_owner(const std::vector<std::string>& members, int64_t variant_id) {
  std::string best;
  uint64_t best_score = 0;
  const uint64_t v = mix(static_cast<uint64_t>(variant_id) + 0x9e3779b97f4a7c15ULL);
  for (const auto& m : members) {
    const uint64_t score = mix(fnv1a(m) ^ v);
    if (best.empty() || score > best_score || (score == best_score && m < best)) {
      best = m;
      best_score = score;
    }
  }
  return best;
}

std::vector<LinkPeer> owners_from_records(const std::vector<Member>& members) {
  std::vector<LinkPeer> out;
  for (const auto& m : members) {
    boost::system::error_code ec;
    auto record = boost::json::parse(m.record, ec);
    if (ec || !record.is_object()) continue;
    const auto& o = record.get_object();
    if (const auto* d = o.if_contains("draining"); d != nullptr && d->is_bool() && d->get_bool())
      continue;
    const auto* link = o.if_contains("link");
    if (link == nullptr || !link->is_string()) continue;
    const std::string endpoint(link->get_string());
    const auto colon = endpoint.rfind(':');
    if (colon == std::string::npos || colon == 0) continue;
    unsigned port = 0;
    const char* first = endpoint.data() + colon + 1;
    const char* last = endpoint.data() + endpoint.size();
    auto [ptr, err] = std::from_chars(first, last, port);
    if (err != std::errc{} || ptr != last || port == 0 || port > 65535) continue;
    auto host = endpoint.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);  // an IPv6 address
    }
    out.push_back(LinkPeer{m.id, std::move(host), static_cast<uint16_t>(port)});
  }
  std::sort(out.begin(), out.end(),
            [](const LinkPeer& a, const LinkPeer& b) { return a.id < b.id; });
  return out;
}

struct Ownership::Impl {
  Impl(Runtime& r, const config::Config& c, Membership& m, StockService& s, OrderService& o)
      : runtime(r), config(c), membership(m), stock(s), orders(o), self_id(m.id()) {}
  Runtime& runtime;
  const config::Config& config;
  Membership& membership;
  StockService& stock;
  OrderService& orders;
  std::string self_id;
  std::shared_ptr<internal::Slot> slot;
  std::shared_ptr<ActorStats> stats;

  mutable std::mutex mutex;
  std::vector<LinkPeer> view;                                                // from Redis, by id
  std::map<std::string, std::chrono::steady_clock::time_point> unreachable;  // until when
  std::vector<std::string> current;  // the view's ids that are not unreachable now
  std::string endpoint;
  uint16_t port = 0;  // where the link listens (kept across restarts of the actor)
  std::function<std::optional<std::string>(const std::string&)> views;

  // Under the lock: `current` from the view and the members that are unreachable now.
  void recompute() {
    const auto now = std::chrono::steady_clock::now();
    std::erase_if(unreachable, [now](const auto& u) { return u.second <= now; });
    current.clear();
    for (const auto& p : view) {
      if (!unreachable.contains(p.id)) current.push_back(p.id);
    }
    if (stats) stats->gauge(kOwners, static_cast<int64_t>(current.size()));
  }

  void set_view(std::vector<LinkPeer> peers) {
    std::lock_guard lock(mutex);
    view = std::move(peers);
    recompute();
  }

  void lost(const std::string& id) {
    if (id == self_id) return;
    std::lock_guard lock(mutex);
    unreachable[id] = std::chrono::steady_clock::now() + config.member_ttl;
    recompute();
  }

  std::optional<LinkPeer> peer(const std::string& id) const {
    std::lock_guard lock(mutex);
    for (const auto& p : view) {
      if (p.id == id) return p;
    }
    return std::nullopt;
  }

  // Calls sent to a member and not answered yet. When its link breaks they are answered 503 at
  // once instead of at their deadline: the member may or may not have done them, so nothing is
  // run here (the client may retry; an order the owner made as it died is swept as an orphan).
  std::map<std::string, std::map<uint64_t, std::function<void()>>> in_flight;
  uint64_t next_call = 0;

  uint64_t track(const std::string& member, std::function<void()> fail) {
    std::lock_guard lock(mutex);
    in_flight[member][++next_call] = std::move(fail);
    return next_call;
  }
  // False when the call was answered already (its link broke).
  bool untrack(const std::string& member, uint64_t call) {
    std::lock_guard lock(mutex);
    auto it = in_flight.find(member);
    if (it == in_flight.end()) return false;
    const bool tracked = it->second.erase(call) > 0;
    if (it->second.empty()) in_flight.erase(it);
    return tracked;
  }
  // A new link actor: the answers to the old one's calls will never come.
  void forget_all_in_flight() {
    std::vector<std::string> members;
    {
      std::lock_guard lock(mutex);
      for (const auto& [m, calls] : in_flight) members.push_back(m);
    }
    for (const auto& m : members) link_broke(m);
  }
  void link_broke(const std::string& member) {
    std::map<uint64_t, std::function<void()>> calls;
    {
      std::lock_guard lock(mutex);
      if (auto it = in_flight.find(member); it != in_flight.end()) {
        calls = std::move(it->second);
        in_flight.erase(it);
      }
    }
    for (auto& [id, fail] : calls) fail();
  }

  void send(LinkWork work) {
    auto handle = slot ? slot->get() : caf::actor{};
    if (!handle) return work.run(nullptr, nullptr);
    caf::anon_send(handle, std::move(work));
  }
};

namespace {

struct Connection {
  std::string host;
  uint16_t port = 0;
  caf::actor handle;
  bool connecting = false;
  std::deque<LinkWork> waiting;
};

struct LinkState {
  Ownership::Impl* impl = nullptr;
  std::shared_ptr<ActorStats> stats;
  std::map<std::string, Connection> connections;
};
using LinkActor = caf::stateful_actor<LinkState>;

void count_connections(LinkActor* self) {
  auto& st = self->state;
  int64_t open = 0;
  int64_t waiting = 0;
  for (const auto& [id, c] : st.connections) {
    open += c.handle ? 1 : 0;
    waiting += static_cast<int64_t>(c.waiting.size());
  }
  st.stats->gauge(kConnections, open);
  st.stats->gauge(kWaiting, waiting);
}

// Publishes the link (again on the same port after a restart of this actor: the old one's
// listener is closed first) and names it in the membership record.
void listen(LinkActor* self) {
  auto* impl = self->state.impl;
  auto mm = self->system().middleman().actor_handle();
  uint16_t port = 0;
  {
    std::lock_guard lock(impl->mutex);
    port = impl->port;
  }
  if (port != 0) {
    self->send(mm, caf::close_atom::value, port);
  } else {
    port = static_cast<uint16_t>(impl->config.link_port);
  }
  self->request(mm, std::chrono::seconds(5), caf::publish_atom::value, port,
                caf::actor_cast<caf::strong_actor_ptr>(self), std::set<std::string>{},
                impl->config.link_bind, true)
      .then(
          [self](uint16_t actual) {
            auto* impl = self->state.impl;
            {
              std::lock_guard lock(impl->mutex);
              impl->port = actual;
              impl->endpoint = advertised_host(impl->config) + ":" + std::to_string(actual);
            }
            spdlog::info("cluster: link listening on {}:{}", impl->config.link_bind, actual);
            self->state.stats->set_state("listening");
            impl->membership.renew_now([](const Result<Unit>&) {});
          },
          [self](caf::error& e) {
            spdlog::error("cluster: cannot listen on {}:{}: {}", self->state.impl->config.link_bind,
                          self->state.impl->config.link_port, caf::to_string(e));
            self->state.stats->set_state("not listening");
            self->state.stats->failed("cannot listen: " + caf::to_string(e));
            self->delayed_send(self, std::chrono::seconds(1), listen_atom::value);
          });
}

void connected(LinkActor* self, const std::string& id, caf::actor handle) {
  auto& st = self->state;
  auto it = st.connections.find(id);
  if (it == st.connections.end()) return;
  auto& c = it->second;
  c.connecting = false;
  auto waiting = std::move(c.waiting);
  c.waiting.clear();
  if (handle) {
    self->monitor(handle);
    c.handle = handle;
  } else {
    st.impl->lost(id);
    st.connections.erase(it);
  }
  count_connections(self);
  for (auto& w : waiting) w.run(self, handle ? &handle : nullptr);
}

// Runs `work` with its member's handle: at once when connected, else after connecting.
void route(LinkActor* self, LinkWork work) {
  auto& st = self->state;
  auto peer = st.impl->peer(work.member);
  if (!peer) return work.run(self, nullptr);
  auto& c = st.connections[peer->id];
  if (c.handle && (c.host != peer->host || c.port != peer->port)) {
    self->demonitor(c.handle);  // the member restarted elsewhere
    c.handle = caf::actor{};
  }
  if (c.handle) {
    const auto handle = c.handle;
    return work.run(self, &handle);
  }
  c.waiting.push_back(std::move(work));
  if (c.waiting.size() > kMaxWaiting) {
    auto oldest = std::move(c.waiting.front());
    c.waiting.pop_front();
    oldest.run(self, nullptr);
  }
  count_connections(self);
  if (c.connecting) return;
  c.connecting = true;
  c.host = peer->host;
  c.port = peer->port;
  const auto id = peer->id;
  self->request(self->system().middleman().actor_handle(), kConnectTimeout,
                caf::connect_atom::value, peer->host, peer->port)
      .then(
          [self, id](const caf::node_id&, caf::strong_actor_ptr& ptr,
                     const std::set<std::string>&) {
            connected(self, id, caf::actor_cast<caf::actor>(ptr));
          },
          [self, id](caf::error& e) {
            spdlog::warn("cluster: cannot reach member {}: {}", id, caf::to_string(e));
            connected(self, id, caf::actor{});
          });
}

// A forwarded call failed (not by its deadline): the member is taken out of this process's view
// for a while and its connection dropped.
void forget(caf::event_based_actor* self, Ownership::Impl* impl, const std::string& id) {
  impl->lost(id);
  caf::anon_send(caf::actor_cast<caf::actor>(self), caf::close_atom::value, id);
}

template <class T>
caf::response_promise serve(LinkActor* self, const std::function<void(Callback<T>)>& call) {
  auto rp = self->make_response_promise();
  self->state.stats->add(kServed, 1);
  call(internal::continue_on<T>(
      self, [rp](Result<T> r) mutable { rp.deliver(wire::to_reply<T>(std::move(r))); }));
  return rp;
}

caf::behavior cluster_link(LinkActor* self, Ownership::Impl* impl) {
  auto& st = self->state;
  st.impl = impl;
  st.stats = impl->runtime.registry().enter("cluster_link", "cluster_link", "root_supervisor",
                                            gauge_names(kGaugeList));
  impl->stats = st.stats;
  st.stats->set_state("starting");
  impl->forget_all_in_flight();
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& conns = self->state.connections;
    for (auto it = conns.begin(); it != conns.end(); ++it) {
      if (it->second.handle && it->second.handle.address() == dm.source) {
        spdlog::warn("cluster: link to member {} lost", it->first);
        const auto member = it->first;
        conns.erase(it);
        self->state.impl->lost(member);
        self->state.impl->link_broke(member);
        break;
      }
    }
    count_connections(self);
  });
  listen(self);
  self->send(self, tick_atom::value);
  return {
      [self](tick_atom) {
        auto* impl = self->state.impl;
        impl->membership.members(
            internal::continue_on<std::vector<Member>>(self, [impl](Result<std::vector<Member>> r) {
              if (r) impl->set_view(owners_from_records(*r));
            }));
        self->delayed_send(self, impl->config.member_heartbeat, tick_atom::value);
      },
      [self](listen_atom) { listen(self); },
      [self](caf::close_atom, const std::string& id) {
        auto& conns = self->state.connections;
        if (auto it = conns.find(id); it != conns.end() && it->second.handle) {
          self->demonitor(it->second.handle);
          it->second.handle = caf::actor{};
          if (it->second.waiting.empty() && !it->second.connecting) conns.erase(it);
        }
        count_connections(self);
      },
      [self](LinkWork& work) {
        self->state.stats->handled(self->mailbox().size());
        route(self, std::move(work));
      },
      [](internal::Step& step) { step.run(); },
      // Calls from other members, each run on this process's order_coordinator or stock actor.
      [self](wire::place_atom, persistence::UserRow& customer, int64_t variant, int64_t ms_left) {
        self->state.stats->handled(self->mailbox().size());
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms_left);
        return serve<OrderRow>(self, [&](Callback<OrderRow> done) {
          self->state.impl->orders.place_here(std::move(customer), variant, deadline,
                                              std::move(done));
        });
      },
      [self](wire::reserve_atom, int64_t variant, std::string& customer, int64_t ms_left) {
        self->state.stats->handled(self->mailbox().size());
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms_left);
        return serve<OrderRow>(self, [&](Callback<OrderRow> done) {
          self->state.impl->stock.reserve_here(variant, std::move(customer), deadline,
                                               std::move(done));
        });
      },
      [self](wire::release_atom, int64_t variant, std::vector<std::string>& ids, int32_t status,
             std::string& by) {
        self->state.stats->handled(self->mailbox().size());
        return serve<std::vector<std::string>>(self, [&](Callback<std::vector<std::string>> done) {
          self->state.impl->stock.release_here(variant, std::move(ids),
                                               static_cast<persistence::OrderStatus>(status),
                                               std::move(by), std::move(done));
        });
      },
      [self](wire::resync_atom, int64_t variant) {
        self->state.stats->handled(self->mailbox().size());
        return serve<int>(self, [&](Callback<int> done) {
          self->state.impl->stock.resync_here(variant, std::move(done));
        });
      },
      [self](wire::view_atom, const std::string& name) {
        self->state.stats->handled(self->mailbox().size());
        auto* impl = self->state.impl;
        std::function<std::optional<std::string>(const std::string&)> views;
        {
          std::lock_guard lock(impl->mutex);
          views = impl->views;
        }
        auto view = views ? views(name) : std::nullopt;
        if (!view) return wire::to_reply<std::string>(Error::not_found());
        return wire::to_reply<std::string>(std::move(*view));
      },
      [self](wire::restart_atom, const std::string& name) {
        self->state.stats->handled(self->mailbox().size());
        spdlog::info("cluster: restart of {} asked by another member", name);
        return wire::DoneReply{true, {}, self->state.impl->runtime.restart_child(name)};
      },
  };
}

// Sends one forwarded call to `owner`: its answer to `done`; when the owner cannot take it (not
// reachable, gone, its link broke), `here` runs it in this process instead.
template <class T, class... Ts>
void forward(const std::shared_ptr<Ownership::Impl>& impl, const std::string& owner,
             Deadline deadline, Callback<T> done, std::function<void(Callback<T>)> here,
             Ts... message) {
  impl->send(
      LinkWork{owner, [impl, owner, deadline, done = first_answer<T>(std::move(done)),
                       here = std::move(here), message = caf::make_message(std::move(message)...)](
                          caf::event_based_actor* self, const caf::actor* remote) mutable {
                 if (impl->stats) impl->stats->add(remote != nullptr ? kForwarded : kFellBack, 1);
                 if (remote == nullptr) return here(std::move(done));
                 const auto call = impl->track(owner, [done]() mutable {
                   auto e = Error::unavailable();
                   e.retry_after = std::chrono::seconds(1);
                   done(std::move(e));
                 });
                 self->request(*remote, left_of(deadline, impl->runtime) + kReplyMargin, message)
                     .then(
                         [impl, owner, call, done](wire::Reply<T>& r) mutable {
                           impl->untrack(owner, call);
                           done(wire::from_reply<T>(std::move(r)));
                         },
                         [self, impl, owner, call, done, here](caf::error& e) mutable {
                           impl->untrack(owner, call);
                           if (timed_out(e)) return done(deadline_error("forwarded stock call"));
                           spdlog::warn("cluster: call to member {} failed ({}); running it here",
                                        owner, caf::to_string(e));
                           if (impl->stats) impl->stats->add(kFellBack, 1);
                           forget(self, impl.get(), owner);
                           here(std::move(done));
                         });
               }});
}

}  // namespace

Ownership::Ownership(Runtime& runtime, const config::Config& config, Membership& membership,
                     StockService& stock, OrderService& orders)
    : impl_(std::make_shared<Impl>(runtime, config, membership, stock, orders)) {
  if (!enabled()) return;
  Impl* impl = impl_.get();
  impl_->slot = internal::supervise(runtime, "cluster_link", [impl](caf::event_based_actor* p) {
    return p->spawn(cluster_link, impl);
  });
  stock.set_remote(this);
  orders.set_remote(this);
}

Ownership::~Ownership() {
  if (!enabled()) return;
  impl_->orders.set_remote(nullptr);
  impl_->stock.set_remote(nullptr);
}

bool Ownership::enabled() const {
  return impl_->config.link_port >= 0;
}

std::string Ownership::endpoint() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->endpoint;
}

std::string Ownership::owner_of(int64_t variant_id) const {
  std::lock_guard lock(impl_->mutex);
  return rendezvous_owner(impl_->current, variant_id);
}

std::vector<std::string> Ownership::owners() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->current;
}

std::optional<std::string> Ownership::owner(int64_t variant_id) const {
  auto o = owner_of(variant_id);
  if (o.empty() || o == impl_->self_id) return std::nullopt;
  return o;
}

void Ownership::place(const std::string& owner, persistence::UserRow customer, int64_t variant_id,
                      Deadline deadline, Callback<OrderRow> done) {
  auto* orders = &impl_->orders;
  const auto ms = left_of(deadline, impl_->runtime).count();
  forward<OrderRow>(
      impl_, owner, deadline, std::move(done),
      [orders, customer, variant_id, deadline](Callback<OrderRow> d) {
        orders->place_here(customer, variant_id, deadline, std::move(d));
      },
      wire::place_atom::value, customer, variant_id, static_cast<int64_t>(ms));
}

void Ownership::reserve(const std::string& owner, int64_t variant_id, std::string customer_id,
                        Deadline deadline, Callback<OrderRow> done) {
  auto* stock = &impl_->stock;
  const auto ms = left_of(deadline, impl_->runtime).count();
  forward<OrderRow>(
      impl_, owner, deadline, std::move(done),
      [stock, variant_id, customer_id, deadline](Callback<OrderRow> d) {
        stock->reserve_here(variant_id, customer_id, deadline, std::move(d));
      },
      wire::reserve_atom::value, variant_id, customer_id, static_cast<int64_t>(ms));
}

void Ownership::release(const std::string& owner, int64_t variant_id,
                        std::vector<std::string> order_ids, persistence::OrderStatus status,
                        std::string by, Callback<std::vector<std::string>> done) {
  auto* stock = &impl_->stock;
  forward<std::vector<std::string>>(
      impl_, owner, no_deadline, std::move(done),
      [stock, variant_id, order_ids, status, by](Callback<std::vector<std::string>> d) {
        stock->release_here(variant_id, order_ids, status, by, std::move(d));
      },
      wire::release_atom::value, variant_id, order_ids, static_cast<int32_t>(status), by);
}

void Ownership::resync(const std::string& owner, int64_t variant_id, Callback<int> done) {
  auto* stock = &impl_->stock;
  forward<int>(
      impl_, owner, no_deadline, std::move(done),
      [stock, variant_id](Callback<int> d) { stock->resync_here(variant_id, std::move(d)); },
      wire::resync_atom::value, variant_id);
}

void Ownership::restart_on(const std::string& member_id, std::string name, Callback<bool> done) {
  if (!enabled() || !impl_->peer(member_id)) return done(Error::not_found());
  forward<bool>(
      impl_, member_id, no_deadline, impl_->runtime.with_deadline<bool>("restart", std::move(done)),
      [](Callback<bool> d) { d(Error::unavailable()); }, wire::restart_atom::value, name);
}

void Ownership::set_views(std::function<std::optional<std::string>(const std::string&)> views) {
  std::lock_guard lock(impl_->mutex);
  impl_->views = std::move(views);
}

void Ownership::view_on(const std::string& member_id, std::string name,
                        Callback<std::string> done) {
  if (!enabled() || !impl_->peer(member_id)) return done(Error::not_found());
  forward<std::string>(
      impl_, member_id, no_deadline,
      impl_->runtime.with_deadline<std::string>("member view", std::move(done)),
      [](Callback<std::string> d) { d(Error::unavailable()); }, wire::view_atom::value, name);
}

}  // namespace marketlink::actors
