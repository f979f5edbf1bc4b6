// A small blocking HTTP/1.1 client for tests (Beast), with keep-alive and raw-bytes sending.
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace marketlink::testing {

struct HttpResult {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  boost::json::value json() const;
  std::string header(const std::string& lower_name) const;
};

class HttpClient {
 public:
  explicit HttpClient(uint16_t port);
  ~HttpClient();

  HttpResult request(const std::string& method, const std::string& target,
                     const std::string& body = "",
                     const std::vector<std::pair<std::string, std::string>>& headers = {});
  // JSON helpers: Content-Type set, optional bearer token.
  HttpResult get(const std::string& target, const std::string& token = "");
  HttpResult post(const std::string& target, const std::string& json,
                  const std::string& token = "");
  HttpResult put(const std::string& target, const std::string& json, const std::string& token = "");
  HttpResult patch(const std::string& target, const std::string& json,
                   const std::string& token = "");
  HttpResult del(const std::string& target, const std::string& token = "");

  // Writes raw bytes on a fresh connection and returns everything read until the server closes.
  std::string raw(const std::string& bytes);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace marketlink::testing
