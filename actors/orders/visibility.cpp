// Order visibility.
#include "actors/orders/visibility.hpp"

namespace marketlink::actors {

using persistence::Role;

bool can_see(const persistence::UserRow& user, const persistence::OrderRow& order) {
  switch (user.role) {
    case Role::admin:
      return true;
    case Role::customer:
      return order.customer_id == user.id;
    case Role::vendor:
      return order.vendor_user_id == user.id;
  }
  return false;
}

persistence::orders::Scope scope_for(const persistence::UserRow& user) {
  persistence::orders::Scope scope;
  if (user.role == Role::customer) scope.customer_id = user.id;
  if (user.role == Role::vendor) scope.vendor_user_id = user.id;
  return scope;
}

}  // namespace marketlink::actors
