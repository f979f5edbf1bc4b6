// Request accessors.
#include "http/server/request.hpp"

#include <arpa/inet.h>
#include "http/input/json_input.hpp"

#include <boost/url/params_view.hpp>
#include <boost/url/parse_query.hpp>
#include <cctype>
#include <string>

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
  // A NUL-terminated copy: Boost.URL 1.81's parse_query reads past a view's end (form_input.cpp).
  const std::string terminated(query);
  auto parsed = boost::urls::parse_query(terminated);
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

namespace {
std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool is_address(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}
}  // namespace

bool address_allowed(const std::string& address, const std::vector<std::string>& cidrs) {
  std::string addr = address;
  if (addr.rfind("::ffff:", 0) == 0 && addr.find('.') != std::string::npos) addr = addr.substr(7);
  unsigned char ip[16];
  const bool v4 = inet_pton(AF_INET, addr.c_str(), ip) == 1;
  if (!v4 && inet_pton(AF_INET6, addr.c_str(), ip) != 1) return false;
  for (const auto& cidr : cidrs) {
    const auto slash = cidr.find('/');
    const std::string base = cidr.substr(0, slash);
    unsigned char net[16];
    const bool net_v4 = inet_pton(AF_INET, base.c_str(), net) == 1;
    if (net_v4 != v4 || (!net_v4 && inet_pton(AF_INET6, base.c_str(), net) != 1)) continue;
    const int max_bits = v4 ? 32 : 128;
    int bits = max_bits;
    if (slash != std::string::npos) {
      try {
        bits = std::stoi(cidr.substr(slash + 1));
      } catch (const std::exception&) {
        continue;
      }
    }
    if (bits < 0 || bits > max_bits) continue;
    bool match = true;
    for (int i = 0; i < bits && match; ++i) {
      const int byte = i / 8, bit = 7 - i % 8;
      match = ((ip[byte] >> bit) & 1) == ((net[byte] >> bit) & 1);
    }
    if (match) return true;
  }
  return false;
}

std::string client_address(const std::string& peer, const std::string* forwarded_for,
                           const std::vector<std::string>& trusted_proxies) {
  if (forwarded_for == nullptr || trusted_proxies.empty() ||
      !address_allowed(peer, trusted_proxies)) {
    return peer;
  }
  std::string_view rest = *forwarded_for;
  std::string client = peer;
  // Right to left: each hop appended the address it received from; the first one that is not a
  // proxy we trust is the client (anything left of it the client may have written itself).
  while (!rest.empty()) {
    const auto comma = rest.rfind(',');
    const auto part =
        std::string(trim(comma == std::string_view::npos ? rest : rest.substr(comma + 1)));
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(0, comma);
    if (!is_address(part)) return client;
    client = part;
    if (!address_allowed(part, trusted_proxies)) return client;
  }
  return client;
}

std::string address_bucket(const std::string& address) {
  unsigned char ip[16];
  if (address.find(':') == std::string::npos || inet_pton(AF_INET6, address.c_str(), ip) != 1) {
    return address;
  }
  if (address.rfind("::ffff:", 0) == 0 && address.find('.') != std::string::npos) {
    return address.substr(7);  // an IPv4 client on a dual-stack socket
  }
  for (int i = 8; i < 16; ++i) ip[i] = 0;
  char text[INET6_ADDRSTRLEN];
  if (inet_ntop(AF_INET6, ip, text, sizeof text) == nullptr) return address;
  return std::string(text) + "/64";
}

bool host_allowed(std::string_view host, const std::vector<std::string>& allowed) {
  // Strip the port: "[::1]:8000" → "[::1]", "example.com:8000" → "example.com".
  if (!host.empty() && host.front() == '[') {
    const auto close = host.find(']');
    if (close == std::string_view::npos) return false;
    host = host.substr(0, close + 1);
  } else if (const auto colon = host.rfind(':'); colon != std::string_view::npos) {
    host = host.substr(0, colon);
  }
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  auto equal = [](std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(a[i])) !=
          std::tolower(static_cast<unsigned char>(b[i]))) {
        return false;
      }
    }
    return true;
  };
  for (const std::string& pattern : allowed) {
    if (pattern == "*") return true;
    if (host.empty()) continue;
    if (!pattern.empty() && pattern.front() == '.') {
      const std::string_view domain = std::string_view(pattern).substr(1);
      if (equal(host, domain)) return true;
      if (host.size() > pattern.size() &&
          equal(host.substr(host.size() - pattern.size()), pattern)) {
        return true;
      }
    } else if (equal(host, pattern)) {
      return true;
    }
  }
  return false;
}

std::string printable(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f || c == '\\') {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += ch;
    }
  }
  return out;
}

}  // namespace marketlink::http
