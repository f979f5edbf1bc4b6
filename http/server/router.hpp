// Method + path routing with {param} segments; every path matches with or without its trailing
// slash. A path known under other methods gives the list for the 405 Allow header.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "http/server/request.hpp"

namespace marketlink::http {

class Router {
 public:
  // `pattern` like "/api/v1/orders/{id}/cancel/".
  void add(const std::string& method, const std::string& pattern, Handler handler);

  struct Match {
    const Handler* handler = nullptr;  // null: no route for this method
    std::string pattern;               // the route's pattern, for metrics
    Headers params;
    std::string allow;  // methods of the path when it exists under other methods
    bool path_exists = false;
  };
  Match match(std::string_view method, std::string_view path) const;

  // Every registered (method, pattern), in registration order (the API document is checked
  // against this list).
  std::vector<std::pair<std::string, std::string>> routes() const;

 private:
  struct Route {
    std::vector<std::string> segments;  // "{name}" is a parameter
    std::string method;
    std::string pattern;
    Handler handler;
    int literals = 0;
  };
  std::vector<Route> routes_;
};

std::vector<std::string_view> split_path(std::string_view path);

}  // namespace marketlink::http
