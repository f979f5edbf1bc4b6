// Invoices (table invoices): one PDF per paid order, stored with its SHA-256.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "persistence/money.hpp"
#include "persistence/result.hpp"
#include "persistence/tx.hpp"

namespace marketlink::persistence {

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

}  // namespace marketlink::persistence
