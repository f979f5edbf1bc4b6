// The invoice renderer on its own: a PDF, with the text escaped into what the PDF fonts carry.
#include "actors/outbox/invoice_pdf.hpp"

#include <gtest/gtest.h>

using namespace marketlink;

namespace {
persistence::invoices::InvoiceData sample() {
  persistence::invoices::InvoiceData d;
  d.order_id = "7aaec340-37b4-4962-875b-008f3fcf34d5";
  d.number = "INV-00000042";
  d.issued_at = "2026-11-26T01:02:03.123456+00:00";
  d.order_created_at = "2026-11-26T00:59:00.000000+00:00";
  d.vendor_name = "Dhaka Motors";
  d.vendor_address = "12 Airport Road, Dhaka";
  d.customer_name = "Karim Uddin";
  d.customer_email = "karim@example.com";
  d.service_name = "Engine Repair";
  d.variant_name = "Full service";
  d.amount = Money{275050};
  d.val_id = "241017153025Xy7QpL2mN8vRt4K";
  return d;
}
}  // namespace

TEST(InvoicePdf, RendersAOnePagePdf) {
  auto pdf = actors::render_invoice_pdf(sample());
  ASSERT_TRUE(pdf.ok());
  EXPECT_EQ(pdf->rfind("%PDF-", 0), 0u);
  EXPECT_NE(pdf->find("%%EOF"), std::string::npos);
  EXPECT_NE(pdf->find("/Count 1"), std::string::npos) << "one page";
}

TEST(InvoicePdf, TextOutsideLatin1DoesNotBreakIt) {
  auto d = sample();
  d.vendor_name = "ঢাকা মোটরস";          // Bengali: no glyphs in the PDF base fonts
  d.customer_name = "Zoë Ångström\n\t";  // Latin-1 accents and control characters
  auto pdf = actors::render_invoice_pdf(d);
  ASSERT_TRUE(pdf.ok());
  EXPECT_EQ(pdf->rfind("%PDF-", 0), 0u);
}
