// /api/v1/orders/: create (with Idempotency-Key), list, detail, cancel, mark-completed, invoice.
#include <boost/json/serialize.hpp>
#include <charconv>

#include "http/handler_support.hpp"
#include "persistence/ids.hpp"

namespace marketlink::http {
namespace {

using persistence::OrderRow;

// The fields an order shows in the creation answer and in the detail (only the former carries
// payment_url), keys in the order the original API writes them.
boost::json::object order_json(const OrderRow& o, bool with_payment_url) {
  boost::json::object j{{"order_id", o.id},
                        {"customer", o.customer_id},
                        {"vendor", o.vendor_id},
                        {"variant", o.variant_id},
                        {"status", to_string(o.status)},
                        {"total_amount", o.total_amount.to_string()}};
  if (with_payment_url) j["payment_url"] = o.payment_url;
  j["expires_at"] = o.expires_at;
  j["created_at"] = o.created_at;
  return j;
}

boost::json::value payment_json(const std::optional<persistence::PaymentRow>& p) {
  if (!p) return nullptr;
  return boost::json::object{{"status", p->state},
                             {"val_id", p->val_id},
                             {"tran_id", p->tran_id},
                             {"amount", p->amount},
                             {"store_amount", p->store_amount},
                             {"currency", p->currency},
                             {"bank_tran_id", p->bank_tran_id},
                             {"card_type", p->card_type},
                             {"card_no", p->card_no},
                             {"card_brand", p->card_brand},
                             {"tran_date", p->tran_date},
                             {"risk_level", std::to_string(p->risk_level)},
                             {"risk_title", p->risk_title},
                             {"needs_review", p->needs_review},
                             {"refund_reason", p->reason},
                             {"source", p->source},
                             {"created_at", p->created_at}};
}

boost::json::object detail_json(const actors::OrderDetail& d) {
  boost::json::array history;
  for (const auto& e : d.history) {
    history.push_back({{"from", e.from}, {"to", e.to}, {"by", e.by}, {"at", e.at}});
  }
  auto j = order_json(d.order, false);
  j["payment"] = payment_json(d.payment);
  j["history"] = std::move(history);
  return j;
}

actors::Callback<actors::OrderDetail> reply_detail(const RequestPtr& req,
                                                   const Responder& respond) {
  return reply<actors::OrderDetail>(
      req, respond, [](actors::OrderDetail& d) { return json_response(200, detail_json(d)); });
}

boost::json::object list_json(const OrderRow& o) {
  return {{"order_id", o.id},
          {"status", to_string(o.status)},
          {"total_amount", o.total_amount.to_string()},
          {"service_name", o.service_name},
          {"variant_name", o.variant_name},
          {"created_at", o.created_at}};
}

const std::vector<std::string> kStatuses{"pending",   "paid",   "processing",
                                         "completed", "failed", "cancelled"};

// {"variant": <int>} (a numeric string is accepted, as DRF's PrimaryKeyRelatedField does).
Result<int64_t> read_variant(const Request& req) {
  auto body = JsonObject::parse_request(req);
  if (!body) return std::move(body).error();
  FieldErrors errors;
  if (!body->has("variant")) return Error::field("variant", "This field is required.");
  const auto type = body->type_name("variant");
  if (type == "NoneType") return Error::field("variant", "This field may not be null.");
  if (type != "int" && type != "str") {
    return Error::field("variant", "Incorrect type. Expected pk value, received " + type + ".");
  }
  auto text = body->string("variant", errors, {.required = true, .allow_blank = true});
  if (!text) return std::move(errors).to_error();
  int64_t id = 0;
  auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), id);
  if (ec != std::errc{} || ptr != text->data() + text->size() || id <= 0) {
    if (type == "str" && (ec != std::errc{} || ptr != text->data() + text->size())) {
      return Error::field("variant", "Incorrect type. Expected pk value, received str.");
    }
    return Error::field("variant", "Invalid pk \"" + *text + "\" - object does not exist.");
  }
  return id;
}

void create_order(App& app, RequestPtr req, Responder respond) {
  require_role(app, req, respond, {Role::customer}, [&app, req, respond](UserRow customer) {
    auto variant = read_variant(*req);
    const auto* key_header = req->header("idempotency-key");
    std::optional<std::string> key;
    if (key_header != nullptr) {
      if (key_header->empty() || key_header->size() > 255) {
        return fail(
            respond, *req,
            Error::make(ErrorCode::invalid_input, "Idempotency-Key must be 1 to 255 characters."));
      }
      key = *key_header;
    }
    auto proceed = [&app, req, respond, customer, variant, key]() mutable {
      // With a key, the response is stored before it is sent.
      auto send = [&app, respond, customer, key](Response r) {
        if (!key) return respond(std::move(r));
        const auto status = r.status;
        auto body = r.body;
        app.orders.finish_key(customer.id, *key, status, std::move(body),
                              [respond, r = std::move(r)]() mutable { respond(std::move(r)); });
      };
      if (!variant) return send(error_response(variant.error(), req->request_id));
      app.orders.create(customer, *variant, address_bucket(req->remote_address), req->deadline,
                        [req, send](Result<OrderRow> order) {
                          send(order ? json_response(201, order_json(*order, true))
                                     : error_response(order.error(), req->request_id));
                        });
    };
    if (!key) return proceed();
    app.orders.claim_key(
        customer.id, *key, sha256_hex(req->body),
        [req, respond, proceed](Result<std::optional<actors::StoredResponse>> claimed) mutable {
          if (!claimed) return fail(respond, *req, claimed.error());
          if (*claimed) {
            Response replay;
            replay.status = (*claimed)->status;
            replay.body = (*claimed)->body;
            replay.headers.emplace_back("Idempotent-Replayed", "true");
            return respond(std::move(replay));
          }
          proceed();
        });
  });
}

void list_orders(App& app, RequestPtr req, Responder respond) {
  require_user(app, req, respond, [&app, req, respond](UserRow user) {
    auto page = page_request(*req);
    if (!page) return fail(respond, *req, page.error());
    auto status = req->query_param("status");
    if (status && status->empty()) status.reset();
    if (status && std::find(kStatuses.begin(), kStatuses.end(), *status) == kStatuses.end()) {
      return fail(respond, *req,
                  Error::field("status", "Select a valid choice. " + *status +
                                             " is not one of the available choices."));
    }
    app.orders.list(std::move(user), status, *page,
                    reply_page<OrderRow>(app, req, respond, *page, list_json));
  });
}

void get_order(App& app, RequestPtr req, Responder respond) {
  require_user(app, req, respond, [&app, req, respond](UserRow user) {
    auto id = req->param("id");
    if (!is_uuid(id)) return fail(respond, *req, Error::not_found());
    app.orders.detail(std::move(user), std::move(id), reply_detail(req, respond));
  });
}

void cancel_order(App& app, RequestPtr req, Responder respond) {
  require_user(app, req, respond, [&app, req, respond](UserRow user) {
    auto id = req->param("id");
    if (!is_uuid(id)) return fail(respond, *req, Error::not_found());
    app.orders.cancel(user, id, [&app, req, respond, user, id](Result<OrderRow> r) {
      if (!r) return fail(respond, *req, r.error());
      app.orders.detail(user, id, reply_detail(req, respond));
    });
  });
}

void mark_completed(App& app, RequestPtr req, Responder respond) {
  require_role(app, req, respond, {Role::vendor}, [&app, req, respond](UserRow vendor) {
    auto id = req->param("id");
    if (!is_uuid(id)) return fail(respond, *req, Error::not_found());
    app.orders.complete(std::move(vendor), std::move(id), reply<Unit>(req, respond, [](Unit&) {
                          return json_response(200, {{"status", "order marked as completed"}});
                        }));
  });
}

void get_invoice(App& app, RequestPtr req, Responder respond) {
  require_user(app, req, respond, [&app, req, respond](UserRow user) {
    auto id = req->param("id");
    if (!is_uuid(id)) return fail(respond, *req, Error::not_found());
    app.orders.invoice(std::move(user), id,
                       reply<persistence::invoices::Stored>(
                           req, respond, [id](persistence::invoices::Stored& inv) {
                             Response r;
                             r.content_type = "application/pdf";
                             r.body = std::move(inv.pdf);
                             r.headers.emplace_back(
                                 "Content-Disposition",
                                 "inline; filename=\"invoice-" + inv.number + ".pdf\"");
                             r.headers.emplace_back("ETag", "\"" + inv.sha256 + "\"");
                             r.headers.emplace_back("Cache-Control", "private, max-age=0");
                             return r;
                           }));
  });
}

}  // namespace

void add_order_routes(Router& router, App& app) {
  router.add("POST", "/api/v1/orders/", route(app, create_order));
  router.add("GET", "/api/v1/orders/", route(app, list_orders));
  router.add("GET", "/api/v1/orders/{id}/", route(app, get_order));
  router.add("POST", "/api/v1/orders/{id}/cancel/", route(app, cancel_order));
  router.add("POST", "/api/v1/orders/mark-completed/{id}/", route(app, mark_completed));
  router.add("GET", "/api/v1/orders/{id}/invoice/", route(app, get_invoice));
}

}  // namespace marketlink::http
