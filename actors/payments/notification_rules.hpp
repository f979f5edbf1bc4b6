// The decisions of a payment notification, as pure functions (no I/O): what a signed
// notification asks for, and what the validation API's answer means for the order. The payment
// actor (payment_actor.cpp) does the I/O around them; docs/sslcommerz.md has the protocol.
#pragma once

#include <optional>
#include <string>
#include <string_view>

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
  order_not_pending,     // paid for an order already cancelled or failed: record a refund
  confirm,               // pending → paid
};

// Checks in this order: validity, the transaction, the amount and currency (BDT), the order.
ValidationVerdict judge_validation(const ValidationAnswer& answer, std::string_view asked_val_id,
                                   std::string_view order_id, Money order_total,
                                   persistence::OrderStatus order_status);

}  // namespace marketlink::actors
