// Two text helpers every layer needs (config values, request fields, account rules), kept at the
// bottom of the dependency graph so nobody writes them again.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace marketlink {

// `s` without leading and trailing spaces, tabs, CRs and LFs.
inline std::string trim(std::string_view s) {
  const auto* ws = " \t\r\n";
  const auto b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(ws);
  return std::string(s.substr(b, e - b + 1));
}

// Code points in UTF-8 text (continuation bytes not counted), as Django counts max_length.
inline std::size_t utf8_chars(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

}  // namespace marketlink
