// Payment notification decisions (see notification_rules.hpp).
#include "actors/payments/notification_rules.hpp"

namespace marketlink::actors {

using persistence::OrderStatus;

std::optional<OrderStatus> release_status(std::string_view posted) {
  if (posted == "FAILED") return OrderStatus::failed;
  if (posted == "CANCELLED" || posted == "EXPIRED" || posted == "UNATTEMPTED") {
    return OrderStatus::cancelled;
  }
  return std::nullopt;
}

bool plain_decimal(const std::string& s) {
  if (s.empty() || s.size() > 30) return false;
  std::size_t i = s[0] == '-' ? 1 : 0;
  bool digits = false, dot = false;
  for (; i < s.size(); ++i) {
    if (s[i] >= '0' && s[i] <= '9') {
      digits = true;
    } else if (s[i] == '.' && !dot) {
      dot = true;
    } else {
      return false;
    }
  }
  return digits;
}

bool same_amount(std::string text, Money expected) {
  if (!plain_decimal(text)) return false;
  if (auto dot = text.find('.'); dot != std::string::npos) {
    while (text.size() > dot + 3 && text.back() == '0') text.pop_back();
  }
  auto parsed = parse_money(text, 16);
  return parsed.value && *parsed.value == expected;
}

NotificationRoute route_notification(std::string_view posted, std::string_view val_id,
                                     bool has_payment, OrderStatus order_status) {
  using Kind = NotificationRoute::Kind;
  NotificationRoute route;
  if (auto target = release_status(posted)) {
    route.kind = Kind::release;
    route.target = *target;
    return route;
  }
  route.kind = Kind::reject;
  if (posted != "VALID") {
    route.message = "Unsupported status";
    return route;
  }
  if (val_id.empty()) {
    route.message = "val_id missing";
    return route;
  }
  const bool settled = order_status == OrderStatus::paid ||
                       order_status == OrderStatus::processing ||
                       order_status == OrderStatus::completed;
  route.kind = has_payment || settled ? Kind::duplicate : Kind::validate;
  return route;
}

ValidationVerdict judge_validation(const ValidationAnswer& answer, std::string_view asked_val_id,
                                   std::string_view order_id, Money order_total,
                                   OrderStatus order_status) {
  if ((answer.status != "VALID" && answer.status != "VALIDATED") || answer.val_id != asked_val_id) {
    return ValidationVerdict::not_valid;
  }
  if (answer.tran_id != order_id) return ValidationVerdict::transaction_mismatch;
  if (!same_amount(answer.amount, order_total) || answer.currency_type != "BDT") {
    return ValidationVerdict::amount_mismatch;
  }
  if (order_status == OrderStatus::failed) return ValidationVerdict::rebook;
  if (order_status != OrderStatus::pending) return ValidationVerdict::order_not_pending;
  return ValidationVerdict::confirm;
}

AttemptsVerdict judge_attempts(const std::vector<std::string>& statuses) {
  using Kind = AttemptsVerdict::Kind;
  AttemptsVerdict v;
  for (std::size_t i = 0; i < statuses.size(); ++i) {
    if (statuses[i] == "VALID" || statuses[i] == "VALIDATED") return {Kind::paid, i};
    if (statuses[i] == "PENDING" || statuses[i] == "PROCESSING") v.kind = Kind::in_progress;
  }
  return v;
}

AfterAsking after_asking(GatewayAnswer answer, bool expired, bool past_grace) {
  switch (answer) {
    case GatewayAnswer::settled:
      return AfterAsking::nothing;
    case GatewayAnswer::not_paid:
      return expired ? AfterAsking::release : AfterAsking::clear;
    case GatewayAnswer::in_progress:
    case GatewayAnswer::unreachable:
      break;
  }
  return past_grace ? AfterAsking::release : AfterAsking::postpone;
}

}  // namespace marketlink::actors
