// Invoice rendering with libhpdf: Helvetica in WinAnsi encoding, plain layout, no images.
#include "actors/outbox/invoice_pdf.hpp"

#include <hpdf.h>

#include <memory>
#include <vector>

namespace marketlink::actors {
namespace {

struct PdfError {
  HPDF_STATUS code = HPDF_OK;
  HPDF_STATUS detail = 0;
};

void on_error(HPDF_STATUS code, HPDF_STATUS detail, void* user) {
  auto* e = static_cast<PdfError*>(user);
  if (e->code == HPDF_OK) {
    e->code = code;
    e->detail = detail;
  }
}

// UTF-8 → Latin-1 (WinAnsi covers it); anything else becomes '?'. Control characters are dropped.
std::string latin1(const std::string& utf8) {
  std::string out;
  for (std::size_t i = 0; i < utf8.size();) {
    const auto c = static_cast<unsigned char>(utf8[i]);
    if (c < 0x80) {
      if (c >= 0x20) out.push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    std::size_t len = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
    if (len == 2 && i + 1 < utf8.size()) {
      const unsigned cp = ((c & 0x1Fu) << 6) | (static_cast<unsigned char>(utf8[i + 1]) & 0x3Fu);
      out.push_back(cp >= 0xA0 && cp <= 0xFF ? static_cast<char>(cp) : '?');
    } else {
      out.push_back('?');
    }
    i += len;
  }
  return out;
}

// "2026-11-26T10:15:00.123456+00:00" → "2026-11-26 10:15 UTC"
std::string day_and_time(const std::string& iso) {
  if (iso.size() < 16) return iso;
  return iso.substr(0, 10) + " " + iso.substr(11, 5) + " UTC";
}

class Page {
 public:
  Page(HPDF_Page page, HPDF_Font regular, HPDF_Font bold)
      : page_(page), regular_(regular), bold_(bold) {}

  void text(float x, float y, const std::string& s, float size = 10, bool strong = false) {
    HPDF_Page_BeginText(page_);
    HPDF_Page_SetFontAndSize(page_, strong ? bold_ : regular_, size);
    HPDF_Page_TextOut(page_, x, y, latin1(s).c_str());
    HPDF_Page_EndText(page_);
  }
  void right(float x, float y, const std::string& s, float size = 10, bool strong = false) {
    HPDF_Page_SetFontAndSize(page_, strong ? bold_ : regular_, size);
    const auto w = HPDF_Page_TextWidth(page_, latin1(s).c_str());
    text(x - w, y, s, size, strong);
  }
  void rule(float x1, float x2, float y) {
    HPDF_Page_SetLineWidth(page_, 0.5F);
    HPDF_Page_MoveTo(page_, x1, y);
    HPDF_Page_LineTo(page_, x2, y);
    HPDF_Page_Stroke(page_);
  }

 private:
  HPDF_Page page_;
  HPDF_Font regular_, bold_;
};

}  // namespace

Result<std::string> render_invoice_pdf(const persistence::invoices::InvoiceData& inv) {
  PdfError error;
  std::unique_ptr<std::remove_pointer_t<HPDF_Doc>, void (*)(HPDF_Doc)> doc(
      HPDF_New(on_error, &error), [](HPDF_Doc d) { HPDF_Free(d); });
  if (!doc) return Error::internal("libhpdf: cannot create a document");
  HPDF_Doc pdf = doc.get();
  HPDF_SetCompressionMode(pdf, HPDF_COMP_ALL);
  HPDF_SetInfoAttr(pdf, HPDF_INFO_TITLE, ("Invoice " + inv.number).c_str());
  HPDF_SetInfoAttr(pdf, HPDF_INFO_CREATOR, "MarketLink");

  auto* page = HPDF_AddPage(pdf);
  HPDF_Page_SetSize(page, HPDF_PAGE_SIZE_A4, HPDF_PAGE_PORTRAIT);
  Page p(page, HPDF_GetFont(pdf, "Helvetica", "WinAnsiEncoding"),
         HPDF_GetFont(pdf, "Helvetica-Bold", "WinAnsiEncoding"));
  const float left = 56;
  const float right = HPDF_Page_GetWidth(page) - 56;
  float y = HPDF_Page_GetHeight(page) - 72;

  p.text(left, y, "MarketLink", 20, true);
  p.right(right, y, "INVOICE", 20, true);
  y -= 22;
  p.right(right, y, "No. " + inv.number);
  y -= 14;
  p.right(right, y, "Issued " + day_and_time(inv.issued_at));
  y -= 14;
  p.right(right, y, "Status: PAID");
  y -= 28;

  p.text(left, y, "From", 9, true);
  p.text(left + 260, y, "Billed to", 9, true);
  y -= 14;
  p.text(left, y, inv.vendor_name.empty() ? "(vendor)" : inv.vendor_name, 11, true);
  p.text(left + 260, y, inv.customer_name.empty() ? inv.customer_email : inv.customer_name, 11,
         true);
  y -= 14;
  p.text(left, y, inv.vendor_address);
  p.text(left + 260, y, inv.customer_email);
  y -= 36;

  p.text(left, y, "Order", 9, true);
  p.text(left + 260, y, "Ordered", 9, true);
  y -= 14;
  p.text(left, y, inv.order_id);
  p.text(left + 260, y, day_and_time(inv.order_created_at));
  y -= 32;

  p.text(left, y, "Description", 9, true);
  p.right(right, y, "Amount (BDT)", 9, true);
  y -= 6;
  p.rule(left, right, y);
  y -= 16;
  p.text(left, y, inv.service_name + " - " + inv.variant_name);
  p.right(right, y, inv.amount.to_string());
  y -= 10;
  p.rule(left, right, y);
  y -= 18;
  p.text(left + 260, y, "Total paid", 11, true);
  p.right(right, y, "BDT " + inv.amount.to_string(), 11, true);
  y -= 40;

  p.text(left, y, "Payment", 9, true);
  y -= 14;
  p.text(left, y, "SSLCommerz validation id: " + inv.val_id);
  y -= 14;
  if (!inv.bank_tran_id.empty()) {
    p.text(left, y, "Bank transaction: " + inv.bank_tran_id);
    y -= 14;
  }
  if (!inv.card_type.empty()) {
    p.text(left, y, "Paid with: " + inv.card_type);
    y -= 14;
  }
  p.text(left, 56, "Thank you for booking with MarketLink.", 9);

  if (error.code != HPDF_OK) {
    return Error::internal("libhpdf error " + std::to_string(error.code) + "/" +
                           std::to_string(error.detail));
  }
  if (HPDF_SaveToStream(pdf) != HPDF_OK) return Error::internal("libhpdf: cannot save");
  const HPDF_UINT32 expected = HPDF_GetStreamSize(pdf);
  std::string bytes(expected, '\0');
  HPDF_UINT32 size = expected;
  // Reading to the end reports HPDF_STREAM_EOF; what matters is that every byte arrived.
  HPDF_ReadFromStream(pdf, reinterpret_cast<HPDF_BYTE*>(bytes.data()), &size);
  if (size != expected || bytes.rfind("%PDF", 0) != 0) {
    return Error::internal("libhpdf: cannot read the stream");
  }
  return bytes;
}

}  // namespace marketlink::actors
