// The decisions of a payment notification, as pure functions (no I/O): what a signed
// notification asks for, and what the validation API's answer means for the order. The payment
// actor (payment_actor.cpp) does the I/O around them; docs/sslcommerz.md has the protocol.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "persistence/money.hpp"
#include "persistence/sql/orders.hpp"

namespace marketlink::actors {

// FAILED → failed; CANCELLED, EXPIRED, UNATTEMPTED → cancelled; anything else: no release.
std::optional<persistence::OrderStatus> release_status(std::string_view posted);

// A decimal as the gateway writes it ("1500.00", "1462.5", at most 30 characters).
bool plain_decimal(const std::string& s);

// The gateway's amount compared numerically with the order's: "1500", "1500.0", "1500.000" all
// equal 1500.00; anything that is not a plain decimal equals nothing.
bool same_amount(std::string text, Money expected);

struct NotificationRoute {
  enum class Kind {
    release,    // give the stock back, as `target`
    validate,   // ask the validation API about val_id
    duplicate,  // already paid (or has a payment row): answer what the order is, change nothing
    reject,     // 400 with `message`
  };
  Kind kind = Kind::reject;
  persistence::OrderStatus target = persistence::OrderStatus::cancelled;
  std::string message;
};

// What a notification whose signature and tran_id were checked asks for, given the order it
// names (its status, and whether a payment row exists).
NotificationRoute route_notification(std::string_view posted, std::string_view val_id,
                                     bool has_payment, persistence::OrderStatus order_status);

// The fields of the validation API's answer that decide.
struct ValidationAnswer {
  std::string status, val_id, tran_id, amount, currency_type;
};

enum class ValidationVerdict {
  not_valid,             // neither VALID nor VALIDATED, or another val_id: 400, nothing changes
  transaction_mismatch,  // money for another order: 400, nothing changes
  amount_mismatch,       // wrong amount or currency: the order fails, the money is refunded
  order_not_pending,     // paid for an order already cancelled (or expired): record a refund
  rebook,                // paid for an order a FAILED attempt failed: book it again if a unit is
                         // free (then paid), else record a refund
  confirm,               // pending → paid
};

// Checks in this order: validity, the transaction, the amount and currency (BDT), the order.
ValidationVerdict judge_validation(const ValidationAnswer& answer, std::string_view asked_val_id,
                                   std::string_view order_id, Money order_total,
                                   persistence::OrderStatus order_status);

// What the transaction query (by tran_id) says about an order's payment, from the statuses of
// its attempts: one session can hold several (a FAILED attempt, then a VALID one).
struct AttemptsVerdict {
  enum class Kind {
    paid,         // attempt `index` is VALID or VALIDATED: validate it like a notification
    in_progress,  // no paid attempt, but one is PENDING or PROCESSING: ask again later
    not_paid,     // nothing paid or about to be (FAILED, CANCELLED, INVALID, none at all)
  };
  Kind kind = Kind::not_paid;
  std::size_t index = 0;
};
AttemptsVerdict judge_attempts(const std::vector<std::string>& statuses);

// What the expiry sweep does with an order after asking the gateway about it.
enum class GatewayAnswer { settled, not_paid, in_progress, unreachable };
enum class AfterAsking {
  nothing,   // the order was paid (or refunded, or was no longer pending): the ask did it all
  release,   // cancel it and give its unit back
  postpone,  // ask again after GATEWAY_RECHECK_SECONDS
  clear,     // not expired and nothing paid: forget the check; it stays pending until expiry
};
AfterAsking after_asking(GatewayAnswer answer, bool expired, bool past_grace);

}  // namespace marketlink::actors
