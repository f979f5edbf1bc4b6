// The invoice document: one A4 page rendered with libhpdf (Haru). Pure function of its input, so
// the same data always gives the same bytes apart from the creation date libhpdf stamps.
#pragma once

#include <string>

#include "persistence/result.hpp"
#include "persistence/sql/invoices.hpp"

namespace marketlink::actors {

// The PDF bytes ("%PDF-1.3 ..."). Text outside Latin-1 is shown as '?' (the built-in PDF fonts
// carry no other glyphs). Errors are libhpdf failures (ErrorCode::internal).
Result<std::string> render_invoice_pdf(const persistence::invoices::InvoiceData& invoice);

}  // namespace marketlink::actors
