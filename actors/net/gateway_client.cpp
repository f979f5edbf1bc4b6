// Gateway HTTP client. Every request has one overall deadline (GATEWAY_TIMEOUT), whatever step
// it is at, so the worst case of opening a session is GATEWAY_TIMEOUT.
#include "actors/net/gateway_client.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <thread>
#include <unordered_map>

namespace marketlink::actors {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;

std::string form_encode(const FormFields& fields) {
  boost::urls::encoding_opts opts;
  opts.space_as_plus = true;
  std::string out;
  for (const auto& [k, v] : fields) {
    if (!out.empty()) out.push_back('&');
    out += boost::urls::encode(k, boost::urls::unreserved_chars, opts);
    out.push_back('=');
    out += boost::urls::encode(v, boost::urls::unreserved_chars, opts);
  }
  return out;
}

namespace {

struct Target {
  bool tls = false;
  std::string host, port, path;  // path includes the query
};

Result<Target> parse_target(const std::string& url) {
  auto u = boost::urls::parse_uri(url);
  if (!u || !u->has_authority()) return Error::internal("bad gateway URL");
  Target t;
  t.tls = u->scheme() == "https";
  if (!t.tls && u->scheme() != "http") return Error::internal("gateway URL must be http(s)");
  t.host = std::string(u->host());
  t.port = u->has_port() ? std::string(u->port()) : (t.tls ? "443" : "80");
  t.path = std::string(u->encoded_path());
  if (t.path.empty()) t.path = "/";
  if (u->has_query()) t.path += "?" + std::string(u->encoded_query());
  return t;
}

struct PlainConnection {
  explicit PlainConnection(net::any_io_executor ex) : stream(std::move(ex)) {}
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
};

constexpr std::size_t kIdlePerHost = 64;

}  // namespace

struct GatewayClient::Impl : std::enable_shared_from_this<GatewayClient::Impl> {
  explicit Impl(std::chrono::milliseconds t) : timeout(t), ssl_ctx(ssl::context::tls_client) {
    ssl_ctx.set_default_verify_paths();
    ssl_ctx.set_verify_mode(ssl::verify_peer);
  }

  std::chrono::milliseconds timeout;
  net::io_context ioc{1};
  ssl::context ssl_ctx;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  std::thread thread;
  // Only touched on the I/O thread.
  std::unordered_map<std::string, std::vector<std::unique_ptr<PlainConnection>>> idle;

  bhttp::request<bhttp::string_body> make_request(bhttp::verb verb, const Target& t,
                                                  const std::string& body,
                                                  const std::string& content_type) {
    bhttp::request<bhttp::string_body> req{verb, t.path, 11};
    req.set(bhttp::field::host, t.host);
    req.set(bhttp::field::user_agent, "marketlink");
    req.set(bhttp::field::accept, "application/json");
    if (!content_type.empty()) req.set(bhttp::field::content_type, content_type);
    req.keep_alive(true);
    req.body() = body;
    req.prepare_payload();
    return req;
  }

  net::awaitable<HttpReply> plain(Target t, bhttp::verb verb, std::string body,
                                  std::string content_type) {
    const auto key = t.host + ":" + t.port;
    for (int attempt = 0; attempt < 2; ++attempt) {
      std::unique_ptr<PlainConnection> conn;
      auto& pool = idle[key];
      const bool reused = !pool.empty() && attempt == 0;
      if (reused) {
        conn = std::move(pool.back());
        pool.pop_back();
      } else {
        conn = std::make_unique<PlainConnection>(ioc.get_executor());
        tcp::resolver resolver(ioc);
        auto endpoints = co_await resolver.async_resolve(t.host, t.port, net::use_awaitable);
        conn->stream.expires_after(timeout);
        co_await conn->stream.async_connect(endpoints, net::use_awaitable);
      }
      try {
        auto req = make_request(verb, t, body, content_type);
        conn->stream.expires_after(timeout);
        co_await bhttp::async_write(conn->stream, req, net::use_awaitable);
        bhttp::response<bhttp::string_body> res;
        co_await bhttp::async_read(conn->stream, conn->buffer, res, net::use_awaitable);
        HttpReply reply{static_cast<int>(res.result_int()), std::move(res.body())};
        if (res.keep_alive() && pool.size() < kIdlePerHost) {
          conn->stream.expires_never();
          idle[key].push_back(std::move(conn));
        }
        co_return reply;
      } catch (const boost::system::system_error& e) {
        // A kept-alive connection the server has since closed: retry once on a fresh one. A
        // timeout is not retried (the request may have been processed).
        if (!reused || e.code() == beast::error::timeout) throw;
      }
    }
    throw boost::system::system_error(net::error::connection_aborted);
  }

  net::awaitable<HttpReply> tls(Target t, bhttp::verb verb, std::string body,
                                std::string content_type) {
    beast::ssl_stream<beast::tcp_stream> stream(ioc, ssl_ctx);
    if (!SSL_set_tlsext_host_name(stream.native_handle(), t.host.c_str())) {
      throw boost::system::system_error(static_cast<int>(::ERR_get_error()),
                                        net::error::get_ssl_category());
    }
    stream.set_verify_callback(ssl::host_name_verification(t.host));
    tcp::resolver resolver(ioc);
    auto endpoints = co_await resolver.async_resolve(t.host, t.port, net::use_awaitable);
    beast::get_lowest_layer(stream).expires_after(timeout);
    co_await beast::get_lowest_layer(stream).async_connect(endpoints, net::use_awaitable);
    co_await stream.async_handshake(ssl::stream_base::client, net::use_awaitable);
    auto req = make_request(verb, t, body, content_type);
    req.keep_alive(false);
    co_await bhttp::async_write(stream, req, net::use_awaitable);
    beast::flat_buffer buffer;
    bhttp::response<bhttp::string_body> res;
    co_await bhttp::async_read(stream, buffer, res, net::use_awaitable);
    co_return HttpReply{static_cast<int>(res.result_int()), std::move(res.body())};
  }

  // One request under one overall deadline (`timeout`): name resolution, connecting (and a
  // retry on a stale kept-alive connection), TLS, writing and reading all fit in it. The steps'
  // own timeouts close the socket; the overall one answers the caller even while a lookup hangs.
  void start(const std::string& url, bhttp::verb verb, std::string body, std::string content_type,
             GatewayClient::Done done) {
    auto target = parse_target(url);
    if (!target) return done(std::move(target).error());
    auto self = shared_from_this();
    auto answered = std::make_shared<bool>(false);  // only touched on the I/O thread
    auto answer = [answered, done = std::move(done)](Result<HttpReply> r) {
      if (*answered) return;
      *answered = true;
      done(std::move(r));
    };
    auto overall = std::make_shared<net::steady_timer>(ioc, timeout);
    overall->async_wait([answer](const boost::system::error_code& ec) mutable {
      if (ec) return;
      spdlog::warn("gateway: no answer within the deadline");
      answer(Error::unavailable());
    });
    net::co_spawn(
        ioc,
        [self, t = std::move(*target), verb, body = std::move(body),
         content_type = std::move(content_type)]() -> net::awaitable<HttpReply> {
          if (t.tls) co_return co_await self->tls(t, verb, body, content_type);
          co_return co_await self->plain(t, verb, body, content_type);
        },
        [answer, overall](std::exception_ptr ep, HttpReply reply) mutable {
          overall->cancel();
          if (!ep) return answer(std::move(reply));
          try {
            std::rethrow_exception(ep);
          } catch (const std::exception& e) {
            spdlog::warn("gateway: request failed: {}", e.what());
          }
          answer(Error::unavailable());
        });
  }
};

GatewayClient::GatewayClient(std::chrono::milliseconds timeout)
    : impl_(std::make_shared<Impl>(timeout)) {
  impl_->work.emplace(impl_->ioc.get_executor());
  impl_->thread = std::thread([impl = impl_.get()] { impl->ioc.run(); });
}

GatewayClient::~GatewayClient() {
  impl_->work.reset();
  impl_->ioc.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

void GatewayClient::post_form(const std::string& url, const FormFields& fields, Done done) {
  impl_->start(url, bhttp::verb::post, form_encode(fields), "application/x-www-form-urlencoded",
               std::move(done));
}

void GatewayClient::get(const std::string& url, Done done) {
  impl_->start(url, bhttp::verb::get, "", "", std::move(done));
}

}  // namespace marketlink::actors
