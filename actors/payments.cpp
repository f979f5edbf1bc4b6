// Payment actor (CAF) and the SSLCommerz session protocol (sslcommerz-protocol.md §2).
#include "actors/payments.hpp"

#include <spdlog/spdlog.h>

#include <boost/json/parse.hpp>

#include "actors/gateway_client.hpp"
#include "actors/runtime_internal.hpp"

namespace marketlink::actors::detail {
struct OpenSessionMsg {
  SessionRequest request;
  Callback<GatewaySession> done;
};
}  // namespace marketlink::actors::detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(marketlink::actors::detail::OpenSessionMsg)

namespace marketlink::actors {

using detail::OpenSessionMsg;

Error gateway_refused(const std::string& reason) {
  return Error::make(ErrorCode::bad_gateway, "Payment Gateway Error: " + reason);
}

Error gateway_unreachable() {
  return Error::make(ErrorCode::bad_gateway, "Payment gateway communication failed.");
}

namespace {

enum Gauge : std::size_t { kOpened, kRefused, kFailed, kInFlight };
const std::vector<std::string> kGaugeNames{"sessions_opened", "sessions_refused",
                                           "gateway_failures", "in_flight"};

FormFields session_form(const config::Config& c, const SessionRequest& r) {
  const auto& base = c.base_domain;
  return {{"store_id", c.sslcommerz_store_id},
          {"store_passwd", c.webhook_secret},
          {"total_amount", r.amount.to_string()},
          {"currency", "BDT"},
          {"tran_id", r.order_id},
          {"success_url", base + "/orders/success/"},
          {"fail_url", base + "/orders/fail/"},
          {"cancel_url", base + "/orders/cancel/"},
          {"ipn_url", base + "/webhooks/payment/" + r.order_id + "/"},
          {"cus_name", r.customer_name},
          {"cus_email", r.customer_email},
          {"cus_add1", "N/A"},
          {"cus_city", "Dhaka"},
          {"cus_postcode", "1000"},
          {"cus_country", "Bangladesh"},
          {"cus_phone", "01700000000"},
          {"shipping_method", "NO"},
          {"num_of_item", "1"},
          {"product_name", r.product_name},
          {"product_category", "Vehicle Repair"},
          {"product_profile", "general"},
          {"value_a", r.order_id}};
}

// Reads the session-init answer: SUCCESS with GatewayPageURL, or FAILED with failedreason.
Result<GatewaySession> read_session_reply(const Result<HttpReply>& reply) {
  if (!reply) return gateway_unreachable();
  if (reply->status != 200) return gateway_unreachable();
  boost::system::error_code ec;
  auto json = boost::json::parse(reply->body, ec);
  if (ec || !json.is_object()) return gateway_unreachable();
  const auto& o = json.as_object();
  auto text = [&](const char* key) -> std::string {
    auto it = o.find(key);
    return it != o.end() && it->value().is_string() ? std::string(it->value().as_string())
                                                    : std::string();
  };
  if (text("status") == "SUCCESS" && !text("GatewayPageURL").empty()) {
    return GatewaySession{text("GatewayPageURL"), text("sessionkey")};
  }
  auto reason = text("failedreason");
  return gateway_refused(reason.empty() ? "unknown error" : reason);
}

struct PaymentState {
  std::unique_ptr<GatewayClient> client;
  std::shared_ptr<ActorStats> stats;
  const config::Config* config = nullptr;
};

caf::behavior payment_actor(caf::stateful_actor<PaymentState>* self, Runtime* runtime,
                            const config::Config* config) {
  auto& st = self->state;
  st.config = config;
  st.client = std::make_unique<GatewayClient>(
      std::chrono::duration_cast<std::chrono::milliseconds>(config->gateway_timeout));
  st.stats = runtime->registry().enter("payment_actor", "payment", "root_supervisor", kGaugeNames);
  st.stats->set_state("running");
  return {
      [self](OpenSessionMsg& msg) {
        auto& st = self->state;
        st.stats->handled(self->mailbox().size());
        st.stats->add(kInFlight, 1);
        // The reply arrives on the client's I/O thread; the caller's callback is thread-safe.
        st.client->post_form(
            st.config->sslcommerz_session_url, session_form(*st.config, msg.request),
            [stats = st.stats, done = std::move(msg.done),
             order = msg.request.order_id](Result<HttpReply> reply) {
              auto session = read_session_reply(reply);
              stats->add(kInFlight, -1);
              if (session) {
                stats->add(kOpened, 1);
              } else if (session.error().message.rfind("Payment Gateway Error", 0) == 0) {
                stats->add(kRefused, 1);
                spdlog::info("payments: gateway refused order {}: {}", order,
                             session.error().message);
              } else {
                stats->add(kFailed, 1);
                stats->failed("session init failed for order " + order);
              }
              done(std::move(session));
            });
      },
  };
}

}  // namespace

struct PaymentService::Impl {
  std::shared_ptr<internal::Slot> actor;
};

PaymentService::PaymentService(Runtime& runtime, const config::Config& config)
    : impl_(std::make_shared<Impl>()) {
  Runtime* rt = &runtime;
  const config::Config* cfg = &config;
  impl_->actor = internal::supervise(
      runtime, "payment_actor",
      [rt, cfg](caf::event_based_actor* parent) { return parent->spawn(payment_actor, rt, cfg); });
}

PaymentService::~PaymentService() = default;

void PaymentService::open_session(SessionRequest request, Callback<GatewaySession> done) {
  auto handle = impl_->actor->get();
  if (!handle) return done(Error::unavailable());
  caf::anon_send(handle, OpenSessionMsg{std::move(request), std::move(done)});
}

}  // namespace marketlink::actors
