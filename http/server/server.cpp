// Beast server: listener → session (one strand each) → router → handler → response on the strand.
#include "http/server/server.hpp"

#include <spdlog/spdlog.h>

#include <sys/resource.h>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/url/decode_view.hpp>
#include <condition_variable>
#include <future>
#include <map>
#include <thread>
#include <unordered_map>

#include "http/error_mapping.hpp"
#include "http/metrics.hpp"
#include "persistence/ids.hpp"

namespace marketlink::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

constexpr std::size_t kHeaderLimit = std::size_t{16} * 1024;

std::string new_request_id() {
  return random_hex(12);
}

// A client's X-Request-Id is echoed only when it is short and plain (it lands in our logs).
bool acceptable_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (unsigned char c : id) {
    if (!std::isalnum(c) && c != '-' && c != '_' && c != '.' && c != ':') return false;
  }
  return true;
}

std::shared_ptr<spdlog::logger> access_log() {
  static auto logger = [] {
    auto existing = spdlog::get("access");
    if (existing) return existing;
    auto l = spdlog::default_logger()->clone("access");
    l->set_level(spdlog::default_logger()->level());
    spdlog::register_logger(l);
    return l;
  }();
  return logger;
}

Response simple_error(ErrorCode code, std::string message, const std::string& request_id) {
  return error_response(Error::make(code, std::move(message)), request_id);
}

}  // namespace

class Session;

namespace websocket = boost::beast::websocket;

// One WebSocket listener: a message per tick, at most one in flight, dropped when 5 behind.
class StreamListener : public std::enable_shared_from_this<StreamListener> {
 public:
  StreamListener(beast::tcp_stream&& stream, const StreamEndpoint& endpoint, RequestPtr request)
      : ws_(std::move(stream)),
        timer_(ws_.get_executor()),
        next_(endpoint.next),
        authorize_(endpoint.authorize),
        request_(std::move(request)) {}

  void start(const bhttp::request<bhttp::string_body>& upgrade) {
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.read_message_max(4096);
    ws_.async_accept(upgrade, [self = shared_from_this()](beast::error_code ec) {
      if (ec) return;
      self->read();
      self->tick();
    });
  }

 private:
  // Reads (and ignores) what the client sends, to see pings and the close.
  void read() {
    ws_.async_read(in_, [self = shared_from_this()](beast::error_code ec, std::size_t n) {
      if (ec) return self->stop();
      self->in_.consume(n);
      self->read();
    });
  }

  void tick() {
    if (stopped_) return;
    if (++ticks_ % kRecheckTicks == 0) recheck();
    if (!writing_) {
      out_ = next_();
      writing_ = true;
      behind_ = 0;
      ws_.text(true);
      ws_.async_write(net::buffer(out_),
                      [self = shared_from_this()](beast::error_code ec, std::size_t) {
                        self->writing_ = false;
                        if (ec) self->stop();
                      });
    } else if (++behind_ >= 5) {
      spdlog::info("http: dropping a stream listener that fell behind");
      return stop();
    }
    timer_.expires_after(std::chrono::seconds(1));
    timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->tick();
    });
  }

  // The token is checked again every few seconds: a listener whose token expired, or whose
  // admin was deactivated or demoted, is closed (policy violation). A 5xx (the database is
  // down) is not a refusal.
  void recheck() {
    authorize_(request_, [self = shared_from_this()](std::optional<Response> refusal) {
      if (!refusal || refusal->status >= 500) return;
      net::post(self->ws_.get_executor(), [self] {
        if (self->stopped_) return;
        spdlog::info("http: closing a stream listener whose token is no longer accepted");
        self->ws_.async_close(websocket::close_code::policy_error,
                              [self](beast::error_code) { self->stop(); });
      });
    });
  }

  void stop() {
    if (stopped_) return;
    stopped_ = true;
    timer_.cancel();
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(ws_).close();
  }

  websocket::stream<beast::tcp_stream> ws_;
  net::steady_timer timer_;
  static constexpr int kRecheckTicks = 5;
  std::function<std::string()> next_;
  std::function<void(RequestPtr, std::function<void(std::optional<Response>)>)> authorize_;
  RequestPtr request_;
  int ticks_ = 0;
  beast::flat_buffer in_;
  std::string out_;
  bool writing_ = false;
  bool stopped_ = false;
  int behind_ = 0;
};

struct HttpServer::Impl {
  Impl(const config::Config& c, const Router& r)
      : config(c), router(r), ioc(c.http_threads), acceptor(net::make_strand(ioc)) {}

  void do_accept();
  void on_accept(beast::error_code ec, tcp::socket socket);
  // Whether a new connection from `peer` fits the limits (counted when it does).
  bool admit(const std::string& peer);
  void session_closed(Session* s, const std::string& peer) {
    std::lock_guard lock(mutex);
    sessions.erase(s);
    if (auto it = per_address.find(peer); it != per_address.end() && --it->second == 0) {
      per_address.erase(it);
    }
    if (sessions.empty()) drained.notify_all();
  }
  // One warning per kind and 10 seconds at most: refusals come in floods.
  bool should_log(std::chrono::steady_clock::time_point& last) {
    const auto now = std::chrono::steady_clock::now();
    if (now - last < std::chrono::seconds(10)) return false;
    last = now;
    return true;
  }

  const config::Config& config;
  const Router& router;
  std::optional<StreamEndpoint> stream;
  net::io_context ioc;
  tcp::acceptor acceptor;
  net::steady_timer accept_pause{acceptor.get_executor()};
  std::chrono::milliseconds accept_backoff{0};
  std::vector<std::thread> threads;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  std::atomic<bool> stopping{false};
  bool started = false;

  mutable std::mutex mutex;
  std::condition_variable drained;
  std::map<Session*, std::weak_ptr<Session>> sessions;
  std::unordered_map<std::string, std::size_t> per_address;  // open connections by peer
  std::chrono::steady_clock::time_point last_full_log{}, last_address_log{}, last_accept_log{};
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, std::string peer, HttpServer::Impl& server)
      : stream_(std::move(socket)),
        server_(server),
        deadline_(stream_.get_executor()),
        remote_(std::move(peer)) {}
  ~Session() { server_.session_closed(this, remote_); }

  void start() {
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&Session::do_read, shared_from_this()));
  }

  // From any thread: close when idle, or after the response in flight.
  void shutdown() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      self->closing_ = true;
      if (!self->busy_) self->close();
    });
  }

 private:
  void do_read() {
    if (closing_) return close();
    parser_.emplace();
    parser_->body_limit(server_.config.max_body_bytes);
    parser_->header_limit(kHeaderLimit);
    stream_.expires_after(first_ ? server_.config.header_timeout : server_.config.idle_timeout);
    bhttp::async_read(stream_, buffer_, *parser_,
                      beast::bind_front_handler(&Session::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
        ec == net::error::operation_aborted || ec == net::error::connection_reset ||
        ec == net::error::eof) {
      return close();
    }
    if (ec == bhttp::error::body_limit) {
      return send_raw(simple_error(ErrorCode::payload_too_large, "Request body is too large.",
                                   new_request_id()),
                      false, "-", "-");
    }
    if (ec == bhttp::error::header_limit) {
      Response r = simple_error(ErrorCode::invalid_input, "Request headers are too large.",
                                new_request_id());
      r.status = 431;
      return send_raw(std::move(r), false, "-", "-");
    }
    if (ec) {
      if (&ec.category() == &bhttp::make_error_code(bhttp::error::bad_target).category()) {
        return send_raw(
            simple_error(ErrorCode::invalid_input, "Malformed HTTP request.", new_request_id()),
            false, "-", "-");
      }
      return fail(ec, "read");
    }
    first_ = false;
    handle(parser_->release());
  }

  // A request's way through the session: convert it (to_request) → decode the path → the ops
  // stream takes WebSocket upgrades (try_stream) → route and run the handler under the request
  // deadline (dispatch).
  void handle(bhttp::request<bhttp::string_body>&& raw) {
    busy_ = true;
    stream_.expires_never();
    started_ = std::chrono::steady_clock::now();
    keep_alive_ = raw.keep_alive();
    auto req = to_request(raw);
    request_id_ = req->request_id;
    method_ = req->method;
    const std::string_view target = raw.target();
    const auto raw_path = target.substr(0, target.find('?'));
    auto decoded = boost::urls::make_pct_string_view(raw_path);
    if (!decoded || raw_path.empty() || raw_path.front() != '/') {
      path_ = std::string(raw_path);
      return send(
          simple_error(ErrorCode::invalid_input, "Malformed request target.", req->request_id));
    }
    req->path = std::string(boost::urls::decode_view(*decoded).begin(),
                            boost::urls::decode_view(*decoded).end());
    path_ = req->path;
    const auto* host = req->header("host");
    if (!host_allowed(host != nullptr ? *host : std::string(), server_.config.allowed_hosts)) {
      return send(simple_error(ErrorCode::invalid_input, "Invalid Host header.", req->request_id));
    }
    if (!acceptable_query(req->query)) {
      return send(
          simple_error(ErrorCode::invalid_input, "Malformed query string.", req->request_id));
    }
    if (try_stream(req, raw)) return;
    dispatch(std::move(req));
  }

  // The plain Request a handler sees (no Beast types): lower-case header names, the query, the
  // body, the client's address and a request id (the client's, when it is a plain one).
  std::shared_ptr<Request> to_request(bhttp::request<bhttp::string_body>& raw) {
    auto req = std::make_shared<Request>();
    req->method = std::string(raw.method_string());
    const std::string_view target = raw.target();
    if (const auto q = target.find('?'); q != std::string_view::npos) {
      req->query = std::string(target.substr(q + 1));
    }
    req->body = std::move(raw.body());
    for (const auto& field : raw) {
      std::string name(field.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      req->headers.emplace_back(std::move(name), std::string(field.value()));
    }
    req->remote_address =
        client_address(remote_, req->header("x-forwarded-for"), server_.config.trusted_proxies);
    const auto* incoming_id = req->header("x-request-id");
    req->request_id = incoming_id != nullptr && acceptable_request_id(*incoming_id)
                          ? *incoming_id
                          : new_request_id();
    return req;
  }

  // The ops stream's path: a WebSocket upgrade whose token is checked first. True when the
  // request was the stream's (answered or upgraded here).
  bool try_stream(const std::shared_ptr<Request>& req, bhttp::request<bhttp::string_body>& raw) {
    const auto& ep = server_.stream;
    if (!ep || (req->path != ep->path && req->path + "/" != ep->path)) return false;
    if (!websocket::is_upgrade(raw)) {
      send(simple_error(ErrorCode::invalid_input, "This endpoint speaks WebSocket only.",
                        req->request_id));
      return true;
    }
    route_ = ep->path;
    auto held = std::make_shared<bhttp::request<bhttp::string_body>>(std::move(raw));
    // The callback keeps the session alive until the token has been checked.
    auto executor = stream_.get_executor();
    ep->authorize(
        req, [self = shared_from_this(), executor, held, req](std::optional<Response> refusal) {
          net::post(executor, [self, held, req, refusal = std::move(refusal)]() mutable {
            if (refusal) return self->send(std::move(*refusal));
            self->become_stream(*held, req);
          });
        });
    return true;
  }

  // Routes the request (404, 405 with Allow) and runs its handler, which answers exactly once,
  // from any thread; the deadline answers 504 otherwise.
  void dispatch(std::shared_ptr<Request> req) {
    auto match = server_.router.match(req->method, req->path);
    if (match.handler == nullptr) {
      if (!match.path_exists)
        return send(simple_error(ErrorCode::not_found, "Not found.", req->request_id));
      Response r = simple_error(ErrorCode::method_not_allowed,
                                "Method \"" + req->method + "\" not allowed.", req->request_id);
      r.headers.emplace_back("Allow", match.allow);
      return send(std::move(r));
    }
    req->params = std::move(match.params);
    route_ = match.pattern;
    auto answered = std::make_shared<std::atomic<bool>>(false);
    std::weak_ptr<Session> weak = shared_from_this();
    auto executor = stream_.get_executor();
    Responder respond = [weak, answered, executor](Response r) {
      if (answered->exchange(true)) return;
      // The pending deadline keeps the session alive until now; the post keeps it until sent.
      auto self = weak.lock();
      if (!self) return;
      net::post(executor,
                [self = std::move(self), r = std::move(r)]() mutable { self->send(std::move(r)); });
    };
    req->deadline = started_ + server_.config.request_timeout;
    deadline_.expires_at(req->deadline);
    // The pending wait also keeps the session alive while the handler works.
    deadline_.async_wait(
        [self = shared_from_this(), respond, id = req->request_id](beast::error_code ec) {
          if (ec) return;
          respond(simple_error(ErrorCode::timeout, "The request took too long.", id));
        });
    try {
      (*match.handler)(req, respond);
    } catch (const std::exception& e) {
      respond(error_response(Error::internal(e.what()), req->request_id));
    }
  }

  void send(Response r) { send_raw(std::move(r), keep_alive_ && !closing_, method_, path_); }

  // Hands the connection to a stream listener; this session ends here.
  void become_stream(const bhttp::request<bhttp::string_body>& upgrade, RequestPtr req) {
    access_log()->info("{} {} 101 websocket {}", printable(method_), printable(path_), request_id_);
    Metrics::instance().request(route_, method_, 101, 0.0);
    deadline_.cancel();
    stream_.expires_never();
    std::make_shared<StreamListener>(std::move(stream_), *server_.stream, std::move(req))
        ->start(upgrade);
  }

  void send_raw(Response r, bool keep_alive, std::string method, std::string path) {
    deadline_.cancel();
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>(
        static_cast<bhttp::status>(r.status), 11);
    res->set(bhttp::field::server, "marketlink");
    if (!r.content_type.empty()) res->set(bhttp::field::content_type, r.content_type);
    const auto& id = request_id_.empty() ? std::string("-") : request_id_;
    res->set("X-Request-Id", id);
    res->set("X-Content-Type-Options", "nosniff");
    for (auto& [k, v] : r.headers) res->set(k, v);
    res->body() = std::move(r.body);
    res->keep_alive(keep_alive);
    res->prepare_payload();
    const auto status = r.status;
    const auto elapsed =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started_);
    access_log()->info("{} {} {} {:.2f}ms {}", printable(method), printable(path), status,
                       busy_ ? elapsed.count() : 0.0, id);
    Metrics::instance().request(route_.empty() ? "unmatched" : route_, method, status,
                                busy_ ? elapsed.count() / 1000.0 : 0.0);
    route_.clear();
    busy_ = true;
    stream_.expires_after(server_.config.request_timeout);
    bhttp::async_write(stream_, *res,
                       [self = shared_from_this(), res, keep_alive](
                           beast::error_code ec, std::size_t) { self->on_write(ec, keep_alive); });
  }

  void on_write(beast::error_code ec, bool keep_alive) {
    busy_ = false;
    request_id_.clear();
    if (ec && ec != net::error::operation_aborted && ec != net::error::broken_pipe &&
        ec != net::error::connection_reset) {
      return fail(ec, "write");
    }
    if (ec || !keep_alive || closing_) return close();
    do_read();
  }

  // An error no client behaviour explains (the benign ones are handled where they occur): one
  // log line, then the connection closes.
  void fail(beast::error_code ec, const char* what) {
    spdlog::warn("http: {} from {} failed: {}", what, remote_.empty() ? "-" : remote_,
                 ec.message());
    close();
  }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
  }

  beast::tcp_stream stream_;
  HttpServer::Impl& server_;
  net::steady_timer deadline_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::string remote_;
  std::string request_id_, method_, path_, route_;
  std::chrono::steady_clock::time_point started_{};
  bool first_ = true;
  bool busy_ = false;
  bool closing_ = false;
  bool keep_alive_ = true;
};

void HttpServer::Impl::do_accept() {
  acceptor.async_accept(net::make_strand(ioc), beast::bind_front_handler(&Impl::on_accept, this));
}

// A failing accept (EMFILE: out of descriptors) is retried after a pause that doubles up to a
// second, not at once in a loop; the first success resets it.
void HttpServer::Impl::on_accept(beast::error_code ec, tcp::socket socket) {
  if (stopping) return;
  if (ec) {
    if (ec == net::error::operation_aborted) return do_accept();
    accept_backoff = std::min<std::chrono::milliseconds>(
        std::chrono::milliseconds(1000),
        std::max(accept_backoff * 2, std::chrono::milliseconds(10)));
    {
      std::lock_guard lock(mutex);
      if (should_log(last_accept_log)) {
        spdlog::warn("http: accept: {}; retrying in {} ms", ec.message(), accept_backoff.count());
      }
    }
    accept_pause.expires_after(accept_backoff);
    accept_pause.async_wait([this](beast::error_code wait_ec) {
      if (!wait_ec && !stopping) do_accept();
    });
    return;
  }
  accept_backoff = std::chrono::milliseconds(0);
  beast::error_code peer_ec;
  const auto ep = socket.remote_endpoint(peer_ec);
  std::string peer = peer_ec ? std::string() : ep.address().to_string();
  std::shared_ptr<Session> session;
  if (admit(peer)) {
    session = std::make_shared<Session>(std::move(socket), std::move(peer), *this);
    std::lock_guard lock(mutex);
    sessions[session.get()] = session;
  } else {
    beast::error_code ignored;
    socket.close(ignored);
  }
  if (session) session->start();
  do_accept();
}

bool HttpServer::Impl::admit(const std::string& peer) {
  std::lock_guard lock(mutex);
  if (sessions.size() >= config.max_connections) {
    if (should_log(last_full_log)) {
      spdlog::warn("http: connection limit {} reached; refusing connections",
                   config.max_connections);
    }
    return false;
  }
  auto& open = per_address[peer];
  const bool exempt =
      config.max_connections_per_address == 0 || address_allowed(peer, config.trusted_proxies);
  if (!exempt && open >= config.max_connections_per_address) {
    if (open == 0) per_address.erase(peer);
    if (should_log(last_address_log)) {
      spdlog::warn("http: {} has {} connections open (MAX_CONNECTIONS_PER_ADDRESS); refusing more",
                   peer, open);
    }
    return false;
  }
  ++open;
  return true;
}

namespace {
// Raises the soft descriptor limit to the hard one; warns when even that is below what the
// connection limit needs (accepts would fail with EMFILE; they back off, but clients are refused).
void raise_descriptor_limit(std::size_t max_connections) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  const rlim_t needed = max_connections + 128;  // pools, logs, listeners
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < needed) {
    spdlog::warn(
        "http: the file descriptor limit is {} but MAX_CONNECTIONS={} needs about {}; raise "
        "`ulimit -n` (or LimitNOFILE) or lower MAX_CONNECTIONS",
        limit.rlim_cur, max_connections, needed);
  }
}
}  // namespace

void HttpServer::set_stream(StreamEndpoint endpoint) {
  impl_->stream = std::move(endpoint);
}

HttpServer::HttpServer(const config::Config& config, const Router& router)
    : impl_(std::make_unique<Impl>(config, router)) {}

HttpServer::~HttpServer() {
  stop();
}

uint16_t HttpServer::start() {
  auto& s = *impl_;
  raise_descriptor_limit(s.config.max_connections);
  const auto address = net::ip::make_address(s.config.http_host);
  tcp::endpoint endpoint{address, s.config.http_port};
  s.acceptor.open(endpoint.protocol());
  s.acceptor.set_option(net::socket_base::reuse_address(true));
  s.acceptor.bind(endpoint);
  s.acceptor.listen(net::socket_base::max_listen_connections);
  const auto port = s.acceptor.local_endpoint().port();
  s.work.emplace(s.ioc.get_executor());
  s.do_accept();
  for (int i = 0; i < s.config.http_threads; ++i) s.threads.emplace_back([&s] { s.ioc.run(); });
  s.started = true;
  spdlog::info("http: listening on {}:{}", s.config.http_host, port);
  return port;
}

void HttpServer::stop() {
  auto& s = *impl_;
  if (!s.started || s.stopping.exchange(true)) return;
  net::post(s.acceptor.get_executor(), [&s] {
    beast::error_code ec;
    s.acceptor.close(ec);
    s.accept_pause.cancel();
  });
  std::vector<std::shared_ptr<Session>> live;
  {
    std::lock_guard lock(s.mutex);
    for (auto& [ptr, weak] : s.sessions) {
      if (auto session = weak.lock()) live.push_back(std::move(session));
    }
  }
  spdlog::info("http: stopping; {} connection(s) open", live.size());
  for (auto& session : live) session->shutdown();
  live.clear();
  {
    std::unique_lock lock(s.mutex);
    s.drained.wait_for(lock, s.config.shutdown_grace, [&s] { return s.sessions.empty(); });
    if (!s.sessions.empty())
      spdlog::warn("http: {} connection(s) cut at the grace limit", s.sessions.size());
  }
  s.work.reset();
  s.ioc.stop();
  for (auto& t : s.threads) t.join();
  s.threads.clear();
  spdlog::info("http: stopped");
}

int HttpServer::wait_for_signal() {
  auto& s = *impl_;
  net::signal_set signals(s.ioc, SIGINT, SIGTERM);
  std::promise<int> got;
  auto fut = got.get_future();
  signals.async_wait([&got](beast::error_code, int signo) { got.set_value(signo); });
  return fut.get();
}

void HttpServer::run_until_signal() {
  const int signo = wait_for_signal();
  spdlog::info("received signal {}; shutting down", signo);
  stop();
}

std::size_t HttpServer::open_connections() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->sessions.size();
}

}  // namespace marketlink::http
