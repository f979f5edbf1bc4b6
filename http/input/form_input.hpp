// Reading form bodies (the gateway's IPN and redirects): application/x-www-form-urlencoded via
// Boost.URL ('+' is a space) and multipart/form-data (text fields; file parts are ignored).
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "persistence/result.hpp"

namespace marketlink::http {

using FormFields = std::map<std::string, std::string>;

// `content_type` is the request's Content-Type header (with its parameters).
// Malformed bodies are 400 {"detail": "..."}; other media types 415.
Result<FormFields> parse_form(std::string_view content_type, std::string_view body);

Result<FormFields> parse_urlencoded(std::string_view body);
Result<FormFields> parse_multipart(std::string_view body, std::string_view boundary);

}  // namespace marketlink::http
