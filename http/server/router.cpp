// Path matching.
#include "http/server/router.hpp"

#include <algorithm>

namespace marketlink::http {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    if (i >= path.size()) break;
    const auto end = path.find('/', i);
    out.push_back(path.substr(i, end == std::string_view::npos ? std::string_view::npos : end - i));
    if (end == std::string_view::npos) break;
    i = end;
  }
  return out;
}

void Router::add(const std::string& method, const std::string& pattern, Handler handler) {
  Route r;
  for (auto s : split_path(pattern)) {
    r.segments.emplace_back(s);
    if (s.empty() || s.front() != '{') ++r.literals;
  }
  r.method = method;
  r.pattern = pattern;
  r.handler = std::move(handler);
  routes_.push_back(std::move(r));
}

std::vector<std::pair<std::string, std::string>> Router::routes() const {
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(routes_.size());
  for (const auto& r : routes_) out.emplace_back(r.method, r.pattern);
  return out;
}

Router::Match Router::match(std::string_view method, std::string_view path) const {
  Match best;
  // An empty segment ("//") never matches; the original's URLs have none.
  if (path.find("//") != std::string_view::npos) return best;
  const auto segments = split_path(path);
  int best_literals = -1;
  std::vector<std::string> allowed;
  int allow_literals = -1;
  for (const auto& r : routes_) {
    if (r.segments.size() != segments.size()) continue;
    Headers params;
    bool ok = true;
    for (std::size_t i = 0; i < segments.size() && ok; ++i) {
      const auto& pat = r.segments[i];
      if (!pat.empty() && pat.front() == '{') {
        params.emplace_back(pat.substr(1, pat.size() - 2), std::string(segments[i]));
      } else {
        ok = pat == segments[i];
      }
    }
    if (!ok) continue;
    // The most literal pattern wins: "variants/" beats "{id}/".
    if (r.literals > allow_literals) {
      allow_literals = r.literals;
      allowed.clear();
    }
    if (r.literals == allow_literals) allowed.push_back(r.method);
    if (r.method == method && r.literals > best_literals) {
      best_literals = r.literals;
      best.handler = &r.handler;
      best.pattern = r.pattern;
      best.params = std::move(params);
    }
  }
  best.path_exists = !allowed.empty();
  if (best.handler != nullptr && best_literals < allow_literals) {
    best.handler = nullptr;  // a more specific path exists, but not under this method
  }
  std::sort(allowed.begin(), allowed.end());
  allowed.erase(std::unique(allowed.begin(), allowed.end()), allowed.end());
  for (const auto& m : allowed) {
    if (!best.allow.empty()) best.allow += ", ";
    best.allow += m;
  }
  return best;
}

}  // namespace marketlink::http
