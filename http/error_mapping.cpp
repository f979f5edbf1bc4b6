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
    for (const auto& f : error.fields) {
      boost::json::array messages;
      for (const auto& m : f.messages) messages.emplace_back(m);
      body[f.field] = std::move(messages);
    }
  } else {
    body[error.key] = error.message;
    if (!error.body_code.empty()) body["code"] = error.body_code;
  }
  if (error.code == ErrorCode::unauthenticated || error.code == ErrorCode::token_invalid) {
    r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"api\"");
  }
  if (error.retry_after.count() > 0) {
    r.headers.emplace_back("Retry-After", std::to_string(error.retry_after.count()));
  }
  r.body = error.json_body.empty() ? boost::json::serialize(body) : error.json_body;
  return r;
}

}  // namespace marketlink::http
