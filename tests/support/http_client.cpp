// Test HTTP client.
#include "tests/support/http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstdlib>
#include <fstream>
#include <mutex>

#include <gtest/gtest.h>
#include <unistd.h>

namespace marketlink::testing {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

boost::json::value HttpResult::json() const {
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec);
  if (ec) return nullptr;
  return v;
}

std::string HttpResult::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

namespace {

// With MARKETLINK_API_RECORD_DIR set, every exchange is appended as one JSON line to
// <dir>/responses-<pid>.jsonl: tests/api/validate-responses.mjs then checks each response against
// the API document (the route, the status, the media type, the JSON body, the required headers).
void record(const std::string& method, const std::string& target, const HttpResult& r) {
  static const char* dir = std::getenv("MARKETLINK_API_RECORD_DIR");
  if (dir == nullptr || *dir == '\0') return;
  static std::mutex mutex;
  boost::json::object line{{"method", method}, {"target", target}, {"status", r.status}};
  boost::json::object headers;
  for (const auto& [k, v] : r.headers) headers[k] = v;
  line["headers"] = std::move(headers);
  const auto type = r.header("content-type");
  // Bodies are kept when they are JSON (the only ones validated field by field).
  if (type.find("json") != std::string::npos) line["body"] = r.body;
  line["body_bytes"] = r.body.size();
  if (const auto* info = ::testing::UnitTest::GetInstance()->current_test_info()) {
    line["test"] = std::string(info->test_suite_name()) + "." + info->name();
  }
  std::lock_guard lock(mutex);
  std::ofstream out(std::string(dir) + "/responses-" + std::to_string(::getpid()) + ".jsonl",
                    std::ios::app);
  out << boost::json::serialize(line) << '\n';
}

}  // namespace

struct HttpClient::Impl {
  explicit Impl(uint16_t p) : port(p), stream(ioc) {}
  void connect() {
    stream.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
    connected = true;
  }
  uint16_t port;
  net::io_context ioc;
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
  bool connected = false;
};

HttpClient::HttpClient(uint16_t port) : impl_(std::make_unique<Impl>(port)) {}
HttpClient::~HttpClient() = default;

HttpResult HttpClient::request(const std::string& method, const std::string& target,
                               const std::string& body,
                               const std::vector<std::pair<std::string, std::string>>& headers) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    try {
      if (!impl_->connected) impl_->connect();
      bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method), target, 11};
      if (req.method() == bhttp::verb::unknown) req.method_string(method);
      req.set(bhttp::field::host, "127.0.0.1");
      for (const auto& [k, v] : headers) req.set(k, v);
      req.body() = body;
      req.prepare_payload();
      bhttp::write(impl_->stream, req);
      bhttp::response_parser<bhttp::string_body> parser;
      parser.body_limit(std::uint64_t{64} * 1024 * 1024);
      bhttp::read(impl_->stream, impl_->buffer, parser);
      auto res = parser.release();
      HttpResult out;
      out.status = static_cast<int>(res.result_int());
      out.body = res.body();
      for (const auto& f : res) {
        std::string name(f.name_string());
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        out.headers[name] = std::string(f.value());
      }
      if (!res.keep_alive()) {
        beast::error_code ec;
        impl_->stream.socket().close(ec);
        impl_->connected = false;
      }
      record(method, target, out);
      return out;
    } catch (const std::exception&) {
      // The server may have closed an idle keep-alive connection: reconnect once.
      beast::error_code ec;
      impl_->stream.socket().close(ec);
      impl_->connected = false;
      impl_->buffer.clear();
      if (attempt == 1) throw;
    }
  }
  return {};
}

namespace {
std::vector<std::pair<std::string, std::string>> json_headers(const std::string& token) {
  std::vector<std::pair<std::string, std::string>> h{{"Content-Type", "application/json"}};
  if (!token.empty()) h.emplace_back("Authorization", "Bearer " + token);
  return h;
}
}  // namespace

HttpResult HttpClient::get(const std::string& target, const std::string& token) {
  return request("GET", target, "", json_headers(token));
}
HttpResult HttpClient::post(const std::string& target, const std::string& json,
                            const std::string& token) {
  return request("POST", target, json, json_headers(token));
}
HttpResult HttpClient::put(const std::string& target, const std::string& json,
                           const std::string& token) {
  return request("PUT", target, json, json_headers(token));
}
HttpResult HttpClient::patch(const std::string& target, const std::string& json,
                             const std::string& token) {
  return request("PATCH", target, json, json_headers(token));
}
HttpResult HttpClient::del(const std::string& target, const std::string& token) {
  return request("DELETE", target, "", json_headers(token));
}

std::string HttpClient::raw(const std::string& bytes) {
  net::io_context ioc;
  tcp::socket socket(ioc);
  socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), impl_->port));
  net::write(socket, net::buffer(bytes));
  std::string out;
  char buf[4096];
  boost::system::error_code ec;
  while (true) {
    const auto n = socket.read_some(net::buffer(buf), ec);
    if (ec) break;
    out.append(buf, n);
  }
  return out;
}

}  // namespace marketlink::testing
