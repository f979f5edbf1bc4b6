// ErrorCode → HTTP.
#include "http/error_mapping.hpp"

#include <spdlog/spdlog.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace marketlink::http {

int status_of(ErrorCode code) {
  switch (code) {
    case ErrorCode::invalid_input:
      return 400;
    case ErrorCode::unauthenticated:
    case ErrorCode::token_invalid:
    case ErrorCode::bad_credentials:
      return 401;
    case ErrorCode::forbidden:
      return 403;
    case ErrorCode::not_found:
      return 404;
    case ErrorCode::method_not_allowed:
      return 405;
    case ErrorCode::conflict:
      return 409;
    case ErrorCode::payload_too_large:
      return 413;
    case ErrorCode::unsupported_media_type:
      return 415;
    case ErrorCode::unprocessable:
      return 422;
    case ErrorCode::too_many_requests:
      return 429;
    case ErrorCode::internal:
      return 500;
    case ErrorCode::bad_gateway:
      return 502;
    case ErrorCode::unavailable:
      return 503;
    case ErrorCode::timeout:
      return 504;
  }
  return 500;
}

namespace {

// The original answers these under "error" instead of DRF's "detail".
bool under_error_key(Reason reason) {
  switch (reason) {
    case Reason::not_your_order:
    case Reason::cannot_complete:
    case Reason::invalid_signature:
    case Reason::transaction_mismatch:
    case Reason::payment_not_valid:
    case Reason::amount_mismatch:
    case Reason::notification_rejected:
      return true;
    case Reason::none:
    case Reason::inactive_vendor:
    case Reason::variant_moved:
    case Reason::illegal_transition:
    case Reason::other_rule:
    case Reason::token_not_valid:
    case Reason::user_not_found:
    case Reason::user_inactive:
    case Reason::bad_authorization_header:
    case Reason::gateway_refused:
    case Reason::gateway_unreachable:
    case Reason::deadline_exceeded:
    case Reason::order_changed:
      return false;
  }
  return false;
}

// SimpleJWT's machine-readable "code" of a 401.
const char* machine_code(const Error& error) {
  switch (error.reason) {
    case Reason::user_not_found:
      return "user_not_found";
    case Reason::user_inactive:
      return "user_inactive";
    case Reason::bad_authorization_header:
      return "bad_authorization_header";
    default:
      return error.code == ErrorCode::token_invalid ? "token_not_valid" : nullptr;
  }
}

}  // namespace

boost::json::object fields_json(const std::vector<FieldError>& fields) {
  boost::json::object out;
  for (const auto& f : fields) {
    boost::json::array values;
    if (!f.items.empty()) {
      for (const auto& item : f.items) values.emplace_back(fields_json(item));
    } else {
      for (const auto& m : f.messages) values.emplace_back(m);
    }
    out[f.field] = std::move(values);
  }
  return out;
}

Response error_response(const Error& error, const std::string& request_id) {
  Response r;
  r.status = status_of(error.code);
  boost::json::object body;
  if (error.code == ErrorCode::internal) {
    // Details go to the log only, tied to the request id the client sees.
    spdlog::error("request {}: internal error: {}", request_id, error.message);
    body["detail"] = "Internal server error";
    body["request_id"] = request_id;
  } else if (error.code == ErrorCode::unavailable) {
    body["detail"] = "Service temporarily unavailable";
  } else if (!error.fields.empty()) {
    body = fields_json(error.fields);
  } else {
    body[under_error_key(error.reason) ? "error" : "detail"] = error.message;
    if (const char* code = machine_code(error)) body["code"] = code;
  }
  if (error.code == ErrorCode::unauthenticated || error.code == ErrorCode::token_invalid) {
    r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"api\"");
  }
  if (error.retry_after.count() > 0) {
    r.headers.emplace_back("Retry-After", std::to_string(error.retry_after.count()));
  } else if (error.code == ErrorCode::unavailable) {
    r.headers.emplace_back("Retry-After", "1");  // every 503 says when to come back
  }
  r.body = boost::json::serialize(body);
  return r;
}

}  // namespace marketlink::http
