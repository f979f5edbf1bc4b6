// For actors/**.cpp only: what members send each other over CAF's own network layer (libcaf_io,
// actors/cluster/ownership): the messages are built from CAF's built-in types and atoms, and the
// answers are Reply<T> — a value or the Error — with `inspect` overloads so CAF can serialize
// them. register_wire_types() announces them to the actor system (both ends must, under the same
// names).
#pragma once

#include <caf/all.hpp>
#include <string>
#include <vector>

#include "persistence/money.hpp"
#include "persistence/result.hpp"
#include "persistence/sql/accounts.hpp"
#include "persistence/sql/orders.hpp"

namespace marketlink {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, FieldError& x) {
  return f(caf::meta::type_name("ml_field_error"), x.field, x.messages, x.items);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, Error& x) {
  return f(caf::meta::type_name("ml_error"), x.code, x.reason, x.message, x.fields, x.retry_after);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, Money& x) {
  return f(caf::meta::type_name("ml_money"), x.minor);
}

namespace persistence {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, OrderRow& x) {
  return f(caf::meta::type_name("ml_order"), x.id, x.customer_id, x.vendor_id, x.vendor_user_id,
           x.variant_id, x.status, x.total_amount, x.payment_url, x.expires_at, x.created_at,
           x.service_name, x.variant_name);
}

// The customer an order is placed for, without the password hash (nothing across the link needs
// it).
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, UserRow& x) {
  return f(caf::meta::type_name("ml_user"), x.id, x.email, x.first_name, x.last_name, x.role,
           x.is_active, x.date_joined);
}

}  // namespace persistence

namespace actors::wire {

// One answer across the link: `ok` and the value, or the error.
template <class T>
struct Reply {
  bool ok = false;
  Error error;
  T value{};
};

template <class Inspector, class T>
typename Inspector::result_type inspect(Inspector& f, Reply<T>& x) {
  return f(caf::meta::type_name("ml_reply"), x.ok, x.error, x.value);
}

template <class T>
Reply<T> to_reply(Result<T> r) {
  Reply<T> out;
  out.ok = r.ok();
  if (out.ok) {
    out.value = std::move(*r);
  } else {
    out.error = std::move(r).error();
  }
  return out;
}

template <class T>
Result<T> from_reply(Reply<T>&& r) {
  if (r.ok) return std::move(r.value);
  return std::move(r.error);
}

using OrderReply = Reply<persistence::OrderRow>;
using IdsReply = Reply<std::vector<std::string>>;
using CountReply = Reply<int>;
using DoneReply = Reply<bool>;
using TextReply = Reply<std::string>;

// (place, customer, variant id, ms left of the request's deadline) → OrderReply: the whole
// placement (reserve → gateway session → payment_url) on the owner's order_coordinator
using place_atom = caf::atom_constant<caf::atom("mlplace")>;
// (reserve, variant id, customer id, ms left of the request's deadline) → OrderReply
using reserve_atom = caf::atom_constant<caf::atom("mlreserve")>;
// (release, variant id, order ids, OrderStatus as int32, by) → IdsReply
using release_atom = caf::atom_constant<caf::atom("mlrelease")>;
// (resync, variant id) → CountReply
using resync_atom = caf::atom_constant<caf::atom("mlresync")>;
// (restart, actor name) → DoneReply (false: no restartable actor by that name)
using restart_atom = caf::atom_constant<caf::atom("mlrestart")>;
// (view, name) → TextReply: one of the member's own views (its chart series), as JSON
using view_atom = caf::atom_constant<caf::atom("mlview")>;

inline void register_wire_types(caf::actor_system_config& config) {
  config.add_message_type<persistence::UserRow>("ml_user");
  config.add_message_type<OrderReply>("ml_order_reply");
  config.add_message_type<IdsReply>("ml_ids_reply");
  config.add_message_type<CountReply>("ml_count_reply");
  config.add_message_type<DoneReply>("ml_done_reply");
  config.add_message_type<TextReply>("ml_text_reply");
}

}  // namespace actors::wire

}  // namespace marketlink
