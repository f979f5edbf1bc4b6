// The one place where an ErrorCode becomes an HTTP status and a JSON error body.
#pragma once

#include "http/server/request.hpp"
#include "persistence/result.hpp"

namespace marketlink::http {

int status_of(ErrorCode code);
Response error_response(const Error& error, const std::string& request_id);

}  // namespace marketlink::http
