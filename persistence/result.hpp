// The one error type of the server and Result<T>, the value-or-error every layer returns.
// http/error_mapping.cpp is the only place that turns an Error into HTTP: the status from the
// code, the body's shape (key, machine-readable code) from the code and the reason.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace marketlink {

enum class ErrorCode {
  invalid_input,           // 400, field map or detail
  unauthenticated,         // 401, no credentials
  token_invalid,           // 401, token_not_valid
  bad_credentials,         // 401, login failed
  forbidden,               // 403
  not_found,               // 404
  method_not_allowed,      // 405
  conflict,                // 409
  payload_too_large,       // 413
  unsupported_media_type,  // 415
  unprocessable,           // 422
  too_many_requests,       // 429
  internal,                // 500
  bad_gateway,             // 502
  unavailable,             // 503
  timeout,                 // 504
};

// The sub-cases that other code must tell apart. Code branches on these, never on a message, so
// the wording of a message is free to change.
enum class Reason {
  none,
  // Rules the database enforces itself (triggers raising SQLSTATE ML002, ML003, ML004, other ML*).
  inactive_vendor,
  variant_moved,
  illegal_transition,
  other_rule,
  // Authentication.
  token_not_valid,
  user_not_found,
  user_inactive,
  bad_authorization_header,
  // Orders.
  not_your_order,
  cannot_complete,
  order_changed,  // changed by someone else meanwhile (the step is re-read, not retried)
  // Payment notifications and the gateway.
  invalid_signature,
  transaction_mismatch,
  payment_not_valid,
  amount_mismatch,
  notification_rejected,
  gateway_refused,
  gateway_unreachable,
  // A step (pool job, actor ask) that missed its deadline.
  deadline_exceeded,
};

struct FieldError {
  std::string field;
  std::vector<std::string> messages;
  // For a list field: one error map per item, in order (an empty map for an item that is fine).
  std::vector<std::vector<FieldError>> items;
};

struct Error {
  ErrorCode code = ErrorCode::internal;
  Reason reason = Reason::none;
  std::string message;                  // for the client (or, for internal, the log)
  std::vector<FieldError> fields;       // validation errors, in the order found
  std::chrono::seconds retry_after{0};  // when the client may try again, if known

  static Error make(ErrorCode code, std::string message, Reason reason = Reason::none) {
    Error e;
    e.code = code;
    e.reason = reason;
    e.message = std::move(message);
    return e;
  }
  static Error field(std::string name, std::string message) {
    Error e;
    e.code = ErrorCode::invalid_input;
    e.fields.push_back({std::move(name), {std::move(message)}, {}});
    return e;
  }
  static Error not_found() { return make(ErrorCode::not_found, "Not found."); }
  static Error forbidden(
      std::string message = "You do not have permission to perform this action.") {
    return make(ErrorCode::forbidden, std::move(message));
  }
  static Error unavailable() {
    return make(ErrorCode::unavailable, "Service temporarily unavailable");
  }
  static Error internal(std::string log_message) {
    return make(ErrorCode::internal, std::move(log_message));
  }
};

// Collects field errors while validating a request body.
class FieldErrors {
 public:
  void add(const std::string& field, std::string message) {
    for (auto& f : fields_) {
      if (f.field == field) {
        f.messages.push_back(std::move(message));
        return;
      }
    }
    fields_.push_back({field, {std::move(message)}, {}});
  }
  bool has(const std::string& field) const {
    for (const auto& f : fields_) {
      if (f.field == field) return true;
    }
    return false;
  }
  bool empty() const { return fields_.empty(); }
  Error to_error() && {
    Error e;
    e.code = ErrorCode::invalid_input;
    e.fields = std::move(fields_);
    return e;
  }

 private:
  std::vector<FieldError> fields_;
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

struct Unit {};

}  // namespace marketlink
