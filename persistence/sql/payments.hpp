// Payments (table payments). The confirmation is one statement that also flips the order to paid
// and writes its outbox jobs, so it happens once or not at all.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "persistence/money.hpp"
#include "persistence/result.hpp"
#include "persistence/sql/outbox.hpp"
#include "persistence/tx.hpp"

namespace marketlink::persistence {

struct PaymentRow {
  int64_t id = 0;
  std::string order_id;
  std::string val_id;
  std::string tran_id;
  std::string state;  // confirmed | needs_refund
  std::string reason;
  std::string gateway_status;
  std::string amount;  // as the gateway sent it, normalised by PostgreSQL ("" if unreadable)
  std::string store_amount;
  std::string currency;
  std::string bank_tran_id;
  std::string card_type;
  std::string card_no;
  std::string card_brand;
  std::string tran_date;
  int risk_level = 0;
  std::string risk_title;
  bool needs_review = false;
  std::string source;  // ipn | redirect | reconcile
  std::string created_at;
};

namespace payments {

// What the validation API confirmed, ready to be stored. Decimal fields are either empty or a
// plain decimal (checked before they get here).
struct NewPayment {
  std::string order_id;
  std::string val_id;
  std::string tran_id;
  std::string state = "confirmed";
  std::string reason;
  std::string gateway_status;
  std::string amount;
  std::string store_amount;
  std::string currency;
  std::string bank_tran_id;
  std::string card_type;
  std::string card_no;
  std::string card_brand;
  std::string tran_date;
  int risk_level = 0;
  std::string risk_title;
  std::string source;
  std::string validation_json;
};

std::optional<PaymentRow> find_by_order(Tx& tx, const std::string& order_id);

// In one statement: order pending → paid, the payment row, and the outbox jobs (invoice and
// workflow start), already claimed by the caller for `lease_seconds` (it runs them at once; if it
// dies, any worker takes them after the lease). Returns the jobs, or std::nullopt when the order
// was no longer pending (then nothing was written). `from_failed`: the same for an order that is
// `failed` (a FAILED attempt, then a VALID one), whose unit the caller took back first.
std::optional<std::vector<outbox::Job>> confirm(Tx& tx, const NewPayment& p, int lease_seconds,
                                                bool from_failed = false);

// Records money that must go back (state needs_refund); false when the order already has a
// payment row (a duplicate), in which case nothing is written.
bool record_refund(Tx& tx, const NewPayment& p);

}  // namespace payments

}  // namespace marketlink::persistence
