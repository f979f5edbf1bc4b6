// The fake gateway: a small Beast server.
#include "tests/support/fake_sslcommerz.hpp"

#include "http/input/form_input.hpp"
#include "persistence/ids.hpp"
#include "persistence/redis_client.hpp"

#include <openssl/evp.h>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <functional>
#include <optional>
#include <set>
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
  auto key = random_hex(16);
  for (auto& c : key) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return key;
}
std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The fake computes its signatures itself (OpenSSL EVP), independently of the server's code.
std::string digest_hex(const EVP_MD* md, const std::string& data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out, &len, md, nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    hex.push_back(kHex[out[i] >> 4]);
    hex.push_back(kHex[out[i] & 0xF]);
  }
  return hex;
}

// A gateway-style id: YYMMDDhhmmss + 15 alphanumerics (§3.2).
std::string gateway_id() {
  auto t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[16];
  std::strftime(stamp, sizeof stamp, "%y%m%d%H%M%S", &tm);
  return std::string(stamp) + random_hex(8).substr(0, 15);
}

std::string now_text() {
  auto t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &tm);
  return text;
}

std::string url_escape(const std::string& s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

struct Transaction {
  std::string tran_id, amount, validated_amount, currency_type, risk_level, bank_tran_id, tran_date;
  std::string card_type;
  bool validated = false;
};
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
  std::vector<std::function<void()>> waiting;            // held session inits (Mode::hold)
  std::map<std::string, Transaction> transactions;       // by val_id
  // Every attempt at a tran_id, in order: a val_id (paid; VALID, VALIDATED once validated) or a
  // status (FAILED, CANCELLED, ...).
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> attempts;
  std::set<std::string> opened;  // tran_ids with a session
  // With share_ledger(): the three above live in Redis instead, so every fake of a test run is
  // one gateway (whichever server process asks, it knows every payment). Under `mutex`.
  std::unique_ptr<persistence::RedisClient> ledger;

  // --- The ledger (under `mutex`) ---
  static std::string key(const char* kind, const std::string& id) {
    return std::string("fakegw:") + kind + ":" + id;
  }
  void redis(std::vector<std::string> argv) {
    auto r = ledger->command(argv);
    if (!r || r->type == persistence::RedisReply::Type::error) {
      throw std::runtime_error("fake gateway: its Redis ledger failed");
    }
    if (argv[0] != "EXPIRE") (void)ledger->command({"EXPIRE", argv[1], "7200"});
  }
  void put_transaction(const std::string& val_id, const Transaction& t) {
    if (!ledger) {
      transactions[val_id] = t;
      return;
    }
    redis({"HSET",          key("tx", val_id), "tran_id",          t.tran_id,
           "amount",        t.amount,          "validated_amount", t.validated_amount,
           "currency_type", t.currency_type,   "risk_level",       t.risk_level,
           "bank_tran_id",  t.bank_tran_id,    "tran_date",        t.tran_date,
           "card_type",     t.card_type,       "validated",        t.validated ? "1" : "0"});
  }
  std::optional<Transaction> transaction(const std::string& val_id) {
    if (!ledger) {
      auto it = transactions.find(val_id);
      if (it == transactions.end()) return std::nullopt;
      return it->second;
    }
    auto r = ledger->command({"HGETALL", key("tx", val_id)});
    if (!r || r->elements.empty()) return std::nullopt;
    std::map<std::string, std::string> f;
    for (std::size_t i = 0; i + 1 < r->elements.size(); i += 2) {
      f[r->elements[i].str] = r->elements[i + 1].str;
    }
    return Transaction{f["tran_id"],       f["amount"],     f["validated_amount"],
                       f["currency_type"], f["risk_level"], f["bank_tran_id"],
                       f["tran_date"],     f["card_type"],  f["validated"] == "1"};
  }
  void mark_validated(const std::string& val_id) {
    if (!ledger) {
      transactions[val_id].validated = true;
      return;
    }
    redis({"HSET", key("tx", val_id), "validated", "1"});
  }
  void add_attempt(const std::string& tran_id, const std::string& val_id,
                   const std::string& status) {
    if (!ledger) {
      attempts[tran_id].emplace_back(val_id, status);
      return;
    }
    redis({"RPUSH", key("attempts", tran_id), val_id + "|" + status});
  }
  std::vector<std::pair<std::string, std::string>> attempts_of(const std::string& tran_id) {
    if (!ledger) {
      auto it = attempts.find(tran_id);
      return it == attempts.end() ? decltype(attempts)::mapped_type{} : it->second;
    }
    std::vector<std::pair<std::string, std::string>> out;
    auto r = ledger->command({"LRANGE", key("attempts", tran_id), "0", "-1"});
    if (!r) return out;
    for (const auto& e : r->elements) {
      const auto bar = e.str.find('|');
      out.emplace_back(e.str.substr(0, bar), e.str.substr(bar + 1));
    }
    return out;
  }
  void add_session(const std::string& tran_id) {
    if (!ledger) {
      opened.insert(tran_id);
      return;
    }
    redis({"SET", key("session", tran_id), "1"});
  }
  bool has_session(const std::string& tran_id) {
    if (!ledger) return opened.count(tran_id) > 0;
    auto r = ledger->command({"EXISTS", key("session", tran_id)});
    return r && r->integer == 1;
  }

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
          const std::string_view target = req->target();
          const bool query =
              target.rfind("/validator/api/merchantTransIDvalidationAPI.php", 0) == 0;
          if (query) self->owner.query_count_.fetch_add(1);  // asked, whatever it answers
          const bool validator =
              query || target.rfind("/validator/api/validationserverAPI.php", 0) == 0;
          auto mode = self->owner.mode_.load();
          if (validator) {
            switch (self->owner.validation_mode_.load()) {
              case ValidationMode::hang:
                mode = Mode::hang;
                break;
              case ValidationMode::http_error:
                mode = Mode::http_error;
                break;
              default:
                mode = Mode::ok;
            }
          }
          if (mode == Mode::hang) {
            std::lock_guard lock(self->mutex);
            self->held.push_back(stream);
            return;
          }
          if (mode == Mode::hold) {
            std::lock_guard lock(self->mutex);
            self->waiting.push_back(
                [self, stream, buffer, req] { self->respond(stream, buffer, req, Mode::ok); });
            return;
          }
          if (mode == Mode::drop) {
            beast::error_code ignored;
            stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
            stream->close();
            return;
          }
          self->respond(stream, buffer, req, mode);
        });
  }

  void respond(const std::shared_ptr<beast::tcp_stream>& stream,
               const std::shared_ptr<beast::flat_buffer>& buffer,
               const std::shared_ptr<bhttp::request<bhttp::string_body>>& req, Mode mode) {
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>(handle(*req, mode));
    res->keep_alive(req->keep_alive());
    res->prepare_payload();
    bhttp::async_write(
        *stream, *res,
        [self = shared_from_this(), stream, buffer, res](beast::error_code ec2, std::size_t) {
          if (ec2 || !res->keep_alive()) {
            beast::error_code ignored;
            stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
            return;
          }
          self->serve(stream, buffer);
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
        add_session(form["tran_id"]);
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
    if (target.rfind("/validator/api/validationserverAPI.php", 0) == 0) {
      res.body() = validate(req);
      return res;
    }
    if (target.rfind("/validator/api/merchantTransIDvalidationAPI.php", 0) == 0) {
      res.body() = query(req);
      return res;
    }
    res.result(bhttp::status::not_found);
    res.body() = R"({"status":"FAILED","failedreason":"unknown endpoint"})";
    return res;
  }

  // Parameters in the query string (a form body is merged in, as some clients POST).
  static Form params_of(const bhttp::request<bhttp::string_body>& req) {
    const std::string target(req.target());
    const auto q = target.find('?');
    auto params = parse_form(q == std::string::npos ? "" : target.substr(q + 1));
    for (auto& [k, v] : parse_form(req.body())) params.emplace(k, v);
    return params;
  }

  // §5: the validation API.
  std::string validate(const bhttp::request<bhttp::string_body>& req) {
    owner.validation_count_.fetch_add(1);
    if (owner.validation_mode_.load() == ValidationMode::garbage) {
      return "<html><body>Service Unavailable</body></html>";
    }
    auto params = params_of(req);
    boost::json::object body;
    if (params["store_id"] != store_id || params["store_passwd"] != store_password) {
      body = {{"status", "INVALID_TRANSACTION"}, {"APIConnect", "FAILED"}};
      return boost::json::serialize(body);
    }
    std::lock_guard lock(mutex);
    const auto val_id = params["val_id"];
    auto t = transaction(val_id);
    if (!t || owner.validation_mode_.load() == ValidationMode::invalid) {
      body = {{"status", "INVALID_TRANSACTION"}, {"APIConnect", "DONE"}};
      return boost::json::serialize(body);
    }
    body = paid_attempt(val_id, *t);
    mark_validated(val_id);
    return boost::json::serialize(body);
  }

  // §6.2: the transaction query by tran_id. Every attempt, in order; a session opened and not
  // (yet) paid is one PROCESSING attempt; an unknown tran_id is DONE with no_of_trans_found 0.
  std::string query(const bhttp::request<bhttp::string_body>& req) {
    if (owner.validation_mode_.load() == ValidationMode::garbage) {
      return "<html><body>Service Unavailable</body></html>";
    }
    auto params = params_of(req);
    if (params["store_id"] != store_id || params["store_passwd"] != store_password) {
      return R"({"APIConnect":"INVALID_REQUEST","no_of_trans_found":0,"element":[]})";
    }
    const auto tran_id = params["tran_id"];
    std::lock_guard lock(mutex);
    boost::json::array elements;
    for (const auto& [val_id, status] : attempts_of(tran_id)) {
      if (auto t = val_id.empty() ? std::nullopt : transaction(val_id)) {
        elements.push_back(paid_attempt(val_id, *t));
      } else {
        elements.push_back(boost::json::object{{"tran_id", tran_id},
                                               {"status", status},
                                               {"val_id", ""},
                                               {"error", "Declined by the issuer"},
                                               {"currency_type", "BDT"}});
      }
    }
    if (elements.empty() && has_session(tran_id)) {
      elements.push_back(boost::json::object{{"tran_id", tran_id}, {"status", "PROCESSING"}});
    }
    const auto found = elements.size();
    if (elements.empty()) {
      elements.push_back(boost::json::object{{"tran_id", tran_id}, {"status", "INVALID"}});
    }
    return boost::json::serialize(boost::json::object{
        {"APIConnect", "DONE"}, {"no_of_trans_found", found}, {"element", std::move(elements)}});
  }

  // A paid attempt as the validation API (and each element of the query) describes it.
  static boost::json::object paid_attempt(const std::string& val_id, const Transaction& t) {
    const std::string amount = t.validated_amount.empty() ? t.amount : t.validated_amount;
    return {{"status", t.validated ? "VALIDATED" : "VALID"},
            {"tran_date", t.tran_date},
            {"tran_id", t.tran_id},
            {"val_id", val_id},
            {"amount", amount},
            {"store_amount", amount},
            {"currency", "BDT"},
            {"bank_tran_id", t.bank_tran_id},
            {"card_type", t.card_type},
            {"card_no", "432155XXXXXX7491"},
            {"card_issuer", "STANDARD CHARTERED BANK"},
            {"card_brand", "VISA"},
            {"card_category", "DEBIT"},
            {"currency_type", t.currency_type},
            {"currency_amount", amount},
            {"currency_rate", "1.0000"},
            {"base_fair", "0.00"},
            {"value_a", t.tran_id},
            {"risk_title", t.risk_level == "1" ? "Risky" : "Safe"},
            {"risk_level", t.risk_level},
            {"APIConnect", "DONE"},
            {"validated_on", now_text()},
            {"offer_avail", 1},
            {"isTokeizeSuccess", 0}};
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

FakeSslcommerz::Form FakeSslcommerz::sign(Form fields, const std::string& password) {
  fields.erase("verify_sign");
  fields.erase("verify_sign_sha2");
  fields.erase("verify_key");
  std::string key;
  for (const auto& [name, value] : fields) key += (key.empty() ? "" : ",") + name;
  auto joined = [&](const std::string& hashed_password) {
    auto all = fields;
    all["store_passwd"] = hashed_password;
    std::string s;
    for (const auto& [name, value] : all) {
      if (!s.empty()) s += '&';
      s.append(name).append("=").append(value);
    }
    return s;
  };
  const auto md5 = digest_hex(EVP_md5(), joined(digest_hex(EVP_md5(), password)));
  const auto sha = digest_hex(EVP_sha256(), joined(digest_hex(EVP_sha256(), password)));
  fields["verify_key"] = key;
  fields["verify_sign"] = md5;
  fields["verify_sign_sha2"] = sha;
  return fields;
}

std::string FakeSslcommerz::encode(const Form& fields) {
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty()) out += '&';
    out += url_escape(name) + "=" + url_escape(value);
  }
  return out;
}

FakeSslcommerz::Form FakeSslcommerz::pay(const std::string& tran_id, const std::string& amount,
                                         const PayOptions& options) {
  Transaction t{
      tran_id,      amount,     options.validated_amount, options.currency_type, options.risk_level,
      gateway_id(), now_text(), options.card_type};
  const auto val_id = gateway_id();
  {
    std::lock_guard lock(impl_->mutex);
    impl_->put_transaction(val_id, t);
    impl_->add_attempt(tran_id, val_id, "");
  }
  Form f{{"tran_id", tran_id},
         {"val_id", val_id},
         {"amount", amount},
         {"card_type", options.card_type},
         {"store_amount", amount},
         {"card_no", "432155XXXXXX7491"},
         {"bank_tran_id", t.bank_tran_id},
         {"status", "VALID"},
         {"tran_date", t.tran_date},
         {"error", ""},
         {"currency", "BDT"},
         {"card_issuer", "STANDARD CHARTERED BANK"},
         {"card_brand", "VISA"},
         {"card_sub_brand", "Classic"},
         {"card_issuer_country", "Bangladesh"},
         {"card_issuer_country_code", "BD"},
         {"store_id", impl_->store_id},
         {"currency_type", options.currency_type},
         {"currency_amount", amount},
         {"currency_rate", "1.0000"},
         {"base_fair", "0.00"},
         {"value_a", tran_id},
         {"value_b", ""},
         {"value_c", ""},
         {"value_d", ""},
         {"risk_level", options.risk_level},
         {"risk_title", options.risk_level == "1" ? "Risky" : "Safe"}};
  return sign(std::move(f), impl_->store_password);
}

FakeSslcommerz::Form FakeSslcommerz::unpaid(const std::string& tran_id, const std::string& amount,
                                            const std::string& status) {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->add_attempt(tran_id, "", status);
  }
  Form f{{"tran_id", tran_id},
         {"amount", amount},
         {"bank_tran_id", status == "FAILED" ? gateway_id() : ""},
         {"status", status},
         {"tran_date", now_text()},
         {"error", status == "FAILED" ? "3D Security Validation Failed" : "Cancelled by User"},
         {"currency", "BDT"},
         {"store_id", impl_->store_id},
         {"currency_type", "BDT"},
         {"currency_amount", amount},
         {"currency_rate", "1.0000"},
         {"base_fair", "0.00"},
         {"value_a", tran_id},
         {"value_b", ""},
         {"value_c", ""},
         {"value_d", ""}};
  return sign(std::move(f), impl_->store_password);
}

void FakeSslcommerz::share_ledger(const persistence::RedisSettings& redis) {
  std::lock_guard lock(impl_->mutex);
  impl_->ledger = std::make_unique<persistence::RedisClient>(redis);
}

std::size_t FakeSslcommerz::held_count() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->waiting.size();
}

void FakeSslcommerz::release_held() {
  std::vector<std::function<void()>> answers;
  {
    std::lock_guard lock(impl_->mutex);
    answers.swap(impl_->waiting);
  }
  for (auto& a : answers) net::post(impl_->ioc, std::move(a));
}

std::vector<FakeSslcommerz::Form> FakeSslcommerz::sessions() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->sessions;
}

}  // namespace marketlink::testing
