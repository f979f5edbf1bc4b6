// Who sees which orders, as pure functions: an order's customer, the vendor it was booked with
// and admins see it; lists are scoped the same way.
#pragma once

#include "persistence/sql/accounts.hpp"
#include "persistence/sql/orders.hpp"

namespace marketlink::actors {

bool can_see(const persistence::UserRow& user, const persistence::OrderRow& order);

// The filter of a user's order list (status is the caller's to add).
persistence::orders::Scope scope_for(const persistence::UserRow& user);

}  // namespace marketlink::actors
