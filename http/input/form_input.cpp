// Form decoding.
#include "http/input/form_input.hpp"

#include <boost/url/params_view.hpp>
#include <boost/url/parse_query.hpp>

namespace marketlink::http {
namespace {

Error malformed(const char* what) {
  return Error::make(ErrorCode::invalid_input, std::string("Malformed form body: ") + what);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The value of `name=` among the ';'-separated parameters of a header value (quotes removed).
std::string parameter(std::string_view header, std::string_view name) {
  std::size_t pos = 0;
  while ((pos = header.find(';', pos)) != std::string_view::npos) {
    ++pos;
    auto rest = trim(header.substr(pos));
    if (lower(rest.substr(0, name.size())) == name && rest.size() > name.size() &&
        rest[name.size()] == '=') {
      auto value = rest.substr(name.size() + 1);
      if (!value.empty() && value.front() == '"') {
        const auto end = value.find('"', 1);
        return std::string(
            value.substr(1, end == std::string_view::npos ? std::string_view::npos : end - 1));
      }
      return std::string(trim(value.substr(0, value.find(';'))));
    }
  }
  return {};
}

}  // namespace

Result<FormFields> parse_urlencoded(std::string_view body) {
  FormFields out;
  if (body.empty()) return out;
  // Boost.URL 1.81's query parsing reads to a NUL past the view's end (found by the form
  // fuzzer: a heap over-read on a body that is not NUL-terminated), so it gets a std::string.
  const std::string terminated(body);
  if (!boost::urls::parse_query(terminated)) return malformed("bad percent-encoding");
  boost::urls::encoding_opts opts;
  opts.space_as_plus = true;
  for (auto p : boost::urls::params_view(terminated, opts))
    out.emplace(std::string(p.key), std::string(p.value));
  return out;
}

Result<FormFields> parse_multipart(std::string_view body, std::string_view boundary) {
  if (boundary.empty() || boundary.size() > 200) return malformed("missing multipart boundary");
  const std::string delimiter = "--" + std::string(boundary);
  FormFields out;
  auto pos = body.find(delimiter);
  if (pos == std::string_view::npos) return malformed("no multipart boundary in the body");
  while (true) {
    pos += delimiter.size();
    if (body.substr(pos, 2) == "--") return out;  // closing delimiter
    if (body.substr(pos, 2) != "\r\n") return malformed("bad multipart delimiter line");
    pos += 2;
    const auto headers_end = body.find("\r\n\r\n", pos);
    if (headers_end == std::string_view::npos) return malformed("unterminated part headers");
    const auto headers = body.substr(pos, headers_end - pos);
    const auto content_start = headers_end + 4;
    const auto next = body.find("\r\n" + delimiter, content_start);
    if (next == std::string_view::npos) return malformed("unterminated part");
    std::string name;
    bool is_file = false;
    std::size_t line_start = 0;
    while (line_start <= headers.size()) {
      const auto line_end = headers.find("\r\n", line_start);
      const auto line =
          headers.substr(line_start, line_end == std::string_view::npos ? std::string_view::npos
                                                                        : line_end - line_start);
      const auto colon = line.find(':');
      if (colon != std::string_view::npos &&
          lower(trim(line.substr(0, colon))) == "content-disposition") {
        const auto value = line.substr(colon + 1);
        name = parameter(value, "name");
        is_file = !parameter(value, "filename").empty();
      }
      if (line_end == std::string_view::npos) break;
      line_start = line_end + 2;
    }
    if (name.empty()) return malformed("a part without a name");
    if (!is_file) out.emplace(name, std::string(body.substr(content_start, next - content_start)));
    pos = next + 2;
  }
}

Result<FormFields> parse_form(std::string_view content_type, std::string_view body) {
  const auto media = lower(trim(content_type.substr(0, content_type.find(';'))));
  if (media == "application/x-www-form-urlencoded" || (media.empty() && body.empty()))
    return parse_urlencoded(body);
  if (media == "multipart/form-data")
    return parse_multipart(body, parameter(content_type, "boundary"));
  return Error::make(ErrorCode::unsupported_media_type,
                     "Unsupported media type \"" + media + "\" in request.");
}

}  // namespace marketlink::http
