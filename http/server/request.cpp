// Request accessors.
#include "http/server/request.hpp"

#include "http/input/json_input.hpp"

#include <boost/url/params_view.hpp>
#include <boost/url/parse_query.hpp>

namespace marketlink::http {

const std::string* Request::header(std::string_view lower_name) const {
  for (const auto& [k, v] : headers) {
    if (k == lower_name) return &v;
  }
  return nullptr;
}

std::string Request::param(std::string_view name) const {
  for (const auto& [k, v] : params) {
    if (k == name) return v;
  }
  return {};
}

bool acceptable_query(std::string_view query) {
  if (query.empty()) return true;
  auto parsed = boost::urls::parse_query(query);
  if (!parsed) return false;
  for (auto p : boost::urls::params_view(*parsed)) {
    for (const auto& text : {p.key, p.value}) {
      if (text.find('\0') != std::string::npos || !valid_utf8(text)) return false;
    }
  }
  return true;
}

std::optional<std::string> Request::query_param(std::string_view name) const {
  auto parsed = boost::urls::parse_query(query);
  if (!parsed) return std::nullopt;
  for (auto p : boost::urls::params_view(*parsed)) {
    if (p.key == name) return std::string(p.value);
  }
  return std::nullopt;
}

}  // namespace marketlink::http
