// The one place where an Error becomes HTTP: the status from its code; the body's shape (the
// "detail" or "error" key, SimpleJWT's "code", nested field maps) from its code and reason.
#pragma once

#include <boost/json/object.hpp>
#include <vector>

#include "http/server/request.hpp"
#include "persistence/result.hpp"

namespace marketlink::http {

int status_of(ErrorCode code);
Response error_response(const Error& error, const std::string& request_id);
// {"field":["message", ...], "list":[{...}, ...], ...} of a list of field errors.
boost::json::object fields_json(const std::vector<FieldError>& fields);

}  // namespace marketlink::http
