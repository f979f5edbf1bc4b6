// Payments, the outbox of after-payment jobs, invoices and the order history. Every write here
// is conditional on the current state, so running it twice changes nothing the second time.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "persistence/database.hpp"
#include "persistence/money.hpp"

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
  std::string source;  // ipn | redirect
  std::string created_at;
};

struct OrderEvent {
  std::string from, to, by, at;
};

namespace outbox {
struct Job {
  int64_t id = 0;
  std::string kind;  // invoice | workflow_start
  std::string order_id;
  int attempts = 0;  // including this one
};
}  // namespace outbox

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
// was no longer pending (then nothing was written).
std::optional<std::vector<outbox::Job>> confirm(Tx& tx, const NewPayment& p, int lease_seconds);

// Records money that must go back (state needs_refund); false when the order already has a
// payment row (a duplicate), in which case nothing is written.
bool record_refund(Tx& tx, const NewPayment& p);

}  // namespace payments

namespace outbox {

// Claims up to `limit` due jobs for `lease_seconds` (another worker skips them meanwhile).
std::vector<Job> claim_due(Tx& tx, int limit, int lease_seconds);
void mark_done(Tx& tx, const std::vector<int64_t>& ids);
// Schedules a retry after `delay_seconds`, or gives up (state dead) once attempts reach
// `max_attempts`. Returns true when the job is dead.
bool mark_failed(Tx& tx, int64_t id, const std::string& error, int delay_seconds, int max_attempts);
// A dead job goes back to pending with a fresh attempt budget; false when it was not dead.
bool retry_dead(Tx& tx, int64_t id);
long long pending_count(Tx& tx);

}  // namespace outbox

namespace invoices {

struct InvoiceData {
  std::string order_id;
  std::string number;
  std::string issued_at;  // payment time, ISO-8601
  std::string order_created_at;
  std::string vendor_name;
  std::string vendor_address;
  std::string customer_name;
  std::string customer_email;
  std::string service_name;
  std::string variant_name;
  Money amount;
  std::string val_id;
  std::string bank_tran_id;
  std::string card_type;
};

// What the invoices of `order_ids` show, for those that have a confirmed payment and no invoice
// yet.
std::vector<InvoiceData> missing(Tx& tx, const std::vector<std::string>& order_ids);
// Those of `order_ids` that have an invoice.
std::set<std::string> existing(Tx& tx, const std::vector<std::string>& order_ids);
struct Stored {
  std::string number;
  std::string pdf;
  std::string sha256;
};
struct NewInvoice {
  std::string order_id;
  Stored doc;
};
// Stores the PDFs in one statement, except for orders that already have one.
void store(Tx& tx, const std::vector<NewInvoice>& invoices);
std::optional<Stored> find(Tx& tx, const std::string& order_id);

}  // namespace invoices

namespace workflow {

// paid → processing for those of `order_ids` that are paid; returns the ids moved.
std::vector<std::string> start(Tx& tx, const std::vector<std::string>& order_ids);
// processing → completed by `by`; returns false when the order was not processing.
bool complete(Tx& tx, const std::string& order_id, const std::string& by);
std::vector<OrderEvent> history(Tx& tx, const std::string& order_id);

}  // namespace workflow

}  // namespace marketlink::persistence
