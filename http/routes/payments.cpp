// The gateway's notifications: the IPN (/webhooks/payment/<order_id>/, JSON answers) and the
// customer's redirects (/orders/success|fail|cancel/, small HTML pages). Both go through the same
// payment actor, so whichever arrives first decides and the other is a duplicate.
#include "http/handler_support.hpp"
#include "http/input/form_input.hpp"
#include "persistence/ids.hpp"

namespace marketlink::http {
namespace {

using actors::Notification;
using actors::NotificationOutcome;
using actors::NotificationSource;

Result<FormFields> read_form(const Request& req) {
  const auto* type = req.header("content-type");
  return parse_form(type != nullptr ? *type : "", req.body);
}

void ipn(App& app, RequestPtr req, Responder respond) {
  auto id = req->param("id");
  if (!is_uuid(id)) {
    return fail(respond, *req, Error::make(ErrorCode::not_found, "Order not found"));
  }
  auto form = read_form(*req);
  if (!form) return fail(respond, *req, form.error());
  app.payments.notify(Notification{std::move(id), std::move(form).value(), NotificationSource::ipn},
                      reply<NotificationOutcome>(req, respond, [](NotificationOutcome&) {
                        return json_response(200, {{"success", true}});
                      }));
}

std::string escape_html(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

Response page(int status, const std::string& title, const std::string& message,
              const std::string& order_id) {
  Response r;
  r.status = status;
  r.content_type = "text/html; charset=utf-8";
  r.headers.emplace_back("Cache-Control", "no-store");
  r.headers.emplace_back("Content-Security-Policy",
                         "default-src 'none'; style-src 'unsafe-inline'");
  std::string order;
  if (!order_id.empty() && is_uuid(order_id)) {
    order = "<p>Order reference: <code>" + escape_html(order_id) + "</code></p>\n";
  }
  r.body =
      "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<title>" +
      escape_html(title) +
      " - MarketLink</title>\n"
      "<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;"
      "padding:0 1rem;line-height:1.5;color:#1a1a1a}h1{font-size:1.6rem}"
      "code{background:#f2f2f2;padding:.1rem .3rem}</style>\n</head>\n<body>\n<main>\n"
      "<h1>" +
      escape_html(title) + "</h1>\n<p>" + escape_html(message) + "</p>\n" + order +
      "</main>\n</body>\n</html>\n";
  return r;
}

Response outcome_page(const NotificationOutcome& o) {
  const auto& s = o.order_status;
  // Whether this page brought the news or a notification came first: money that must go back is
  // said to go back, never "nothing was charged".
  if (o.refund_due) {
    return page(200, "Payment received after the booking closed",
                "Your payment arrived after this booking had been " + s +
                    ". It has not been charged to a booking; it will be refunded to you.",
                o.order_id);
  }
  if (s == "paid" || s == "processing" || s == "completed") {
    return page(200, "Payment confirmed",
                "Thank you. Your payment is confirmed and the repair shop has your booking. "
                "Your invoice is available with the order.",
                o.order_id);
  }
  if (s == "failed") {
    return page(200, "Payment failed",
                "The payment did not go through and nothing was charged. The booking has been "
                "released; you can book again.",
                o.order_id);
  }
  if (s == "cancelled") {
    return page(200, "Payment cancelled",
                "The payment was cancelled and nothing was charged. The booking has been "
                "released; you can book again.",
                o.order_id);
  }
  return page(200, "Payment pending",
              "We have not received a result for this payment yet. Please check your order in a "
              "few minutes.",
              o.order_id);
}

Response error_page(const Error& e, const std::string& order_id) {
  switch (e.code) {
    case ErrorCode::not_found:
      return page(404, "Order not found", "We could not find the order this payment is for.", "");
    case ErrorCode::unavailable:
    case ErrorCode::timeout: {
      auto r = page(503, "Payment not confirmed yet",
                    "We could not confirm your payment with the gateway just now. If you paid, "
                    "the payment will be confirmed automatically; please check your order in a "
                    "few minutes.",
                    order_id);
      r.headers.emplace_back("Retry-After", "30");
      return r;
    }
    default:
      break;
  }
  if (e.reason == Reason::amount_mismatch) {
    return page(400, "Payment amount did not match",
                "The amount paid did not match the booking, so the booking was cancelled. The "
                "payment will be refunded.",
                order_id);
  }
  if (e.reason == Reason::payment_not_valid) {
    return page(400, "Payment not confirmed",
                "The payment gateway did not confirm this payment. Nothing was booked.", order_id);
  }
  return page(400, "Payment could not be verified",
              "This payment result could not be verified, so nothing was changed. If you paid, "
              "the gateway will confirm it to us directly.",
              "");
}

void redirect(App& app, RequestPtr req, Responder respond) {
  // The gateway POSTs a form; a GET carries the same fields in the query string.
  Result<FormFields> form = req->method == "GET" ? parse_urlencoded(req->query) : read_form(*req);
  if (form && form->empty() && !req->query.empty()) form = parse_urlencoded(req->query);
  if (!form) return respond(error_page(form.error(), ""));
  if (form->empty()) {
    // A bookmark, a reload, a browser that dropped the form: nothing to verify, nothing changes.
    return respond(page(200, "No payment details",
                        "This page did not receive the payment's details, so it cannot say what "
                        "happened. If you paid, the gateway confirms it to us directly; please "
                        "check your order in a few minutes.",
                        ""));
  }
  const auto tran = form->find("tran_id");
  const std::string order_id = tran == form->end() ? "" : tran->second;
  app.payments.notify(Notification{"", std::move(form).value(), NotificationSource::redirect},
                      [respond, order_id](Result<NotificationOutcome> r) {
                        respond(r ? outcome_page(*r) : error_page(r.error(), order_id));
                      });
}

}  // namespace

void add_payment_routes(Router& router, App& app) {
  router.add("POST", "/webhooks/payment/{id}/", route(app, ipn));
  for (const char* path : {"/orders/success/", "/orders/fail/", "/orders/cancel/"}) {
    router.add("POST", path, route(app, redirect));
    router.add("GET", path, route(app, redirect));
  }
}

}  // namespace marketlink::http
