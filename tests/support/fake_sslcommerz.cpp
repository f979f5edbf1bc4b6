// The fake gateway: a small Beast server.
#include "tests/support/fake_sslcommerz.hpp"

#include "actors/tokens.hpp"
#include "http/form_input.hpp"

#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/serialize.hpp>
#include <thread>

namespace marketlink::testing {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

FakeSslcommerz::Form parse_form(const std::string& body) {
  auto form = http::parse_urlencoded(body);
  return form ? std::move(form).value() : FakeSslcommerz::Form{};
}

namespace {
std::string session_key() {
  auto key = actors::random_hex(16);
  for (auto& c : key) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return key;
}
std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}
}  // namespace

struct FakeSslcommerz::Impl : std::enable_shared_from_this<FakeSslcommerz::Impl> {
  Impl(FakeSslcommerz& o, std::string id, std::string pw, int threads)
      : owner(o),
        store_id(std::move(id)),
        store_password(std::move(pw)),
        ioc(threads),
        acceptor(ioc) {}

  FakeSslcommerz& owner;
  std::string store_id, store_password;
  net::io_context ioc;
  tcp::acceptor acceptor;
  std::vector<std::thread> threads;
  mutable std::mutex mutex;
  std::vector<Form> sessions;
  std::string refusal = "Invalid Information: tran_id already exists";
  std::vector<std::shared_ptr<beast::tcp_stream>> held;  // hung connections

  void accept() {
    acceptor.async_accept(net::make_strand(ioc),
                          [self = shared_from_this()](beast::error_code ec, tcp::socket s) {
                            if (ec) return;
                            self->serve(std::make_shared<beast::tcp_stream>(std::move(s)),
                                        std::make_shared<beast::flat_buffer>());
                            self->accept();
                          });
  }

  void serve(std::shared_ptr<beast::tcp_stream> stream,
             std::shared_ptr<beast::flat_buffer> buffer) {
    auto req = std::make_shared<bhttp::request<bhttp::string_body>>();
    bhttp::async_read(
        *stream, *buffer, *req,
        [self = shared_from_this(), stream, buffer, req](beast::error_code ec, std::size_t) {
          if (ec) return;
          const auto mode = self->owner.mode_.load();
          if (mode == Mode::hang) {
            std::lock_guard lock(self->mutex);
            self->held.push_back(stream);
            return;
          }
          if (mode == Mode::drop) {
            beast::error_code ignored;
            stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
            stream->close();
            return;
          }
          auto res =
              std::make_shared<bhttp::response<bhttp::string_body>>(self->handle(*req, mode));
          res->keep_alive(req->keep_alive());
          res->prepare_payload();
          bhttp::async_write(*stream, *res,
                             [self, stream, buffer, res](beast::error_code ec2, std::size_t) {
                               if (ec2 || !res->keep_alive()) {
                                 beast::error_code ignored;
                                 stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
                                 return;
                               }
                               self->serve(stream, buffer);
                             });
        });
  }

  bhttp::response<bhttp::string_body> handle(const bhttp::request<bhttp::string_body>& req,
                                             Mode mode) {
    bhttp::response<bhttp::string_body> res{bhttp::status::ok, 11};
    res.set(bhttp::field::content_type, "application/json");
    const std::string target(req.target());
    if (mode == Mode::http_error) {
      res.result(bhttp::status::internal_server_error);
      res.set(bhttp::field::content_type, "text/html");
      res.body() = "<html><body>Internal error</body></html>";
      return res;
    }
    if (target.rfind("/gwprocess/v4/api.php", 0) == 0 && req.method() == bhttp::verb::post) {
      auto form = parse_form(req.body());
      owner.session_count_.fetch_add(1);
      {
        std::lock_guard lock(mutex);
        sessions.push_back(form);
      }
      boost::json::object body;
      if (form["store_id"] != store_id || form["store_passwd"] != store_password) {
        body = {{"status", "FAILED"},
                {"failedreason", "Store Credential Error Or Store is De-active"}};
      } else if (mode == Mode::refuse) {
        std::lock_guard lock(mutex);
        body = {{"status", "FAILED"}, {"failedreason", refusal}};
      } else if (form["tran_id"].empty() || form["total_amount"].empty()) {
        body = {{"status", "FAILED"},
                {"failedreason", "Invalid Information: mandatory field missing"}};
      } else {
        const auto key = session_key();
        body = {
            {"status", "SUCCESS"},
            {"failedreason", ""},
            {"sessionkey", key},
            {"GatewayPageURL", "https://sandbox.sslcommerz.com/EasyCheckOut/testcde" + lower(key)},
            {"storeBanner", ""},
            {"storeLogo", ""},
            {"is_direct_pay_enable", "0"}};
      }
      res.body() = boost::json::serialize(body);
      return res;
    }
    res.result(bhttp::status::not_found);
    res.body() = R"({"status":"FAILED","failedreason":"unknown endpoint"})";
    return res;
  }
};

FakeSslcommerz::FakeSslcommerz(std::string store_id, std::string store_password, int threads)
    : impl_(
          std::make_shared<Impl>(*this, std::move(store_id), std::move(store_password), threads)) {
  auto& a = impl_->acceptor;
  tcp::endpoint ep(net::ip::make_address("127.0.0.1"), 0);
  a.open(ep.protocol());
  a.set_option(net::socket_base::reuse_address(true));
  a.bind(ep);
  a.listen(net::socket_base::max_listen_connections);
  port_ = a.local_endpoint().port();
  impl_->accept();
  for (int i = 0; i < threads; ++i)
    impl_->threads.emplace_back([impl = impl_.get()] { impl->ioc.run(); });
}

FakeSslcommerz::~FakeSslcommerz() {
  impl_->ioc.stop();
  for (auto& t : impl_->threads) t.join();
}

void FakeSslcommerz::set_refusal_reason(std::string reason) {
  std::lock_guard lock(impl_->mutex);
  impl_->refusal = std::move(reason);
}

std::vector<FakeSslcommerz::Form> FakeSslcommerz::sessions() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->sessions;
}

}  // namespace marketlink::testing
