// Ownership of variants across the cluster: each variant has one owner among the live members
// (rendezvous hashing of the variant id over the members whose link is up and who are not
// draining). An order for a variant another member owns is placed there (its order_coordinator
// reserves and opens the gateway session, so the variant's reservations and sessions commit
// together), and so are the variant's releases and resyncs (its stock actor), over CAF's own
// network layer (libcaf_io): every member
// publishes its `cluster_link` actor on CLUSTER_LINK_PORT and names the endpoint in its membership
// record. The view of the members is read from Redis every MEMBER_HEARTBEAT_MS, so ownership moves
// within MEMBER_TTL_MS when a member dies (at once, for this process, when its link breaks).
//
// Correctness never depends on it: a forwarded call the owner cannot take (unreachable, gone)
// runs in this process, and the Redis gate and the conditional UPDATE hold whoever writes.
// Without CLUSTER_LINK_PORT ownership is off and every process owns every variant for itself.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/cluster/membership.hpp"
#include "actors/orders/order_service.hpp"
#include "actors/runtime/runtime.hpp"
#include "actors/stock/stock_service.hpp"

namespace marketlink::actors {

// Rendezvous (highest random weight) hashing: the member of `members` (ids) that owns
// `variant_id`, "" for none. Removing a member moves only the variants it owned; adding one
// takes about 1/n of every other member's.
std::string rendezvous_owner(const std::vector<std::string>& members, int64_t variant_id);

// A member as ownership sees it: its id and the link endpoint its record names.
struct LinkPeer {
  std::string id;
  std::string host;
  uint16_t port = 0;
};

// The members that may own variants, from the membership records (JSON): live, not draining, with
// a "link" endpoint ("host:port"). Malformed records are skipped.
std::vector<LinkPeer> owners_from_records(const std::vector<Member>& members);

class Ownership final : public StockRemote, public OrderRemote {
 public:
  // Registers itself with `stock` and `orders` (set_remote) when CLUSTER_LINK_PORT is set; they
  // must outlive it.
  Ownership(Runtime& runtime, const config::Config& config, Membership& membership,
            StockService& stock, OrderService& orders);
  ~Ownership() override;
  Ownership(const Ownership&) = delete;
  Ownership& operator=(const Ownership&) = delete;

  bool enabled() const;
  // "host:port" where other members reach this one's link; "" while it is off or not listening.
  std::string endpoint() const;
  // The member that owns the variant now ("" while ownership is off or knows no member).
  std::string owner_of(int64_t variant_id) const;
  // The members that own variants now, as this process sees them (its own view, for the console).
  std::vector<std::string> owners() const;

  // The console's restart of a supervised actor on another member (its name as in
  // Runtime::restart_child): true when it is restarting, false when that member has no
  // restartable actor by that name; not_found for a member that is not live with its link up.
  void restart_on(const std::string& member_id, std::string name, Callback<bool> done);
  // What this process shows other members by name (its chart series, …; nullopt: no such view),
  // called on the link's thread. Set once, before other members ask.
  void set_views(std::function<std::optional<std::string>(const std::string& name)> views);
  // Another member's view by name (JSON); not_found for a member that is not live with its link
  // up, or that has no such view.
  void view_on(const std::string& member_id, std::string name, Callback<std::string> done);

  // StockRemote and OrderRemote
  std::optional<std::string> owner(int64_t variant_id) const override;
  void place(const std::string& owner, persistence::UserRow customer, int64_t variant_id,
             Deadline deadline, Callback<persistence::OrderRow> done) override;
  void reserve(const std::string& owner, int64_t variant_id, std::string customer_id,
               Deadline deadline, Callback<persistence::OrderRow> done) override;
  void release(const std::string& owner, int64_t variant_id, std::vector<std::string> order_ids,
               persistence::OrderStatus status, std::string by,
               Callback<std::vector<std::string>> done) override;
  void resync(const std::string& owner, int64_t variant_id, Callback<int> done) override;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace marketlink::actors
