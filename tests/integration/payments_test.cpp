// Payment notifications (IPN and redirects), the exactly-once confirmation, the outbox jobs
// (invoice PDF, workflow start), mark-completed and the order history, against real PostgreSQL,
// Redis and HTTP, with the fake SSLCommerz signing notifications and answering validations.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <algorithm>

#include <boost/json/serialize.hpp>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <future>

#include "persistence/database.hpp"
#include "persistence/ids.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_server.hpp"

using namespace marketlink;
using namespace marketlink::testing;

namespace {

using Form = FakeSslcommerz::Form;

std::string str(const boost::json::value& v, const char* key) {
  return std::string(v.as_object().at(key).as_string());
}

long long sql_count(const std::string& sql, const std::string& order_id) {
  pqxx::work w(test_db().connection());
  auto n = w.exec_params1(sql, order_id)[0].as<long long>();
  w.commit();
  return n;
}
long long payments_of(const std::string& id) {
  return sql_count("SELECT count(*) FROM payments WHERE order_id = $1", id);
}
long long invoices_of(const std::string& id) {
  return sql_count("SELECT count(*) FROM invoices WHERE order_id = $1", id);
}
long long jobs_of(const std::string& id) {
  return sql_count("SELECT count(*) FROM outbox WHERE order_id = $1", id);
}
long long events_to(const std::string& id, const std::string& to) {
  pqxx::work w(test_db().connection());
  auto n =
      w.exec_params1("SELECT count(*) FROM order_events WHERE order_id = $1 AND to_status = $2", id,
                     to)[0]
          .as<long long>();
  w.commit();
  return n;
}
std::string db_status(const std::string& id) {
  pqxx::work w(test_db().connection());
  auto s = w.exec_params1("SELECT status FROM orders WHERE id = $1", id)[0].as<std::string>();
  w.commit();
  return s;
}
std::string payment_state(const std::string& id) {
  pqxx::work w(test_db().connection());
  auto r = w.exec_params("SELECT state FROM payments WHERE order_id = $1", id);
  w.commit();
  return r.empty() ? "" : r[0][0].as<std::string>();
}

HttpResult post_form(uint16_t port, const std::string& path, const std::string& body,
                     const std::string& type = "application/x-www-form-urlencoded") {
  return HttpClient(port).request("POST", path, body, {{"Content-Type", type}});
}
HttpResult ipn(uint16_t port, const std::string& order_id, const Form& form) {
  return post_form(port, "/webhooks/payment/" + order_id + "/", FakeSslcommerz::encode(form));
}

struct Placed {
  TestVariant variant;
  TestUser customer;
  std::string order_id;
};

Placed place_order(TestServer& server, int stock = 3, const std::string& price = "1500.00") {
  Placed p{make_variant(server, stock, price), server.register_user("customer"), ""};
  auto r = post_order(server, p.customer, p.variant.id);
  if (r.status != 201) throw std::runtime_error("order not created: " + r.body);
  p.order_id = str(r.json(), "order_id");
  return p;
}

std::string pdf_text(const std::string& pdf) {
  const std::string path = "/tmp/marketlink-invoice-" + unique_suffix() + ".pdf";
  {
    std::ofstream out(path, std::ios::binary);
    out << pdf;
  }
  std::string text;
  if (FILE* p = ::popen(("pdftotext -layout " + path + " - 2>&1").c_str(), "r")) {
    char buf[4096];
    std::size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) text.append(buf, n);
    ::pclose(p);
  }
  std::remove(path.c_str());
  return text;
}

class Payments : public ::testing::Test {
 protected:
  TestServer& server = TestServer::shared();
  HttpClient c = server.client();
  FakeSslcommerz& gateway = shared_gateway();
  void SetUp() override {
    gateway.set_mode(FakeSslcommerz::Mode::ok);
    gateway.set_validation_mode(FakeSslcommerz::ValidationMode::ok);
  }
  void TearDown() override { gateway.set_validation_mode(FakeSslcommerz::ValidationMode::ok); }
  boost::json::object detail(const Placed& p) {
    auto r = c.get("/api/v1/orders/" + p.order_id + "/", p.customer.access);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json().as_object();
  }
};

}  // namespace

TEST_F(Payments, ValidIpnPaysThenTheWorkflowStartsAndTheVendorCompletes) {
  auto p = place_order(server);
  auto r = ipn(server.port(), p.order_id, gateway.pay(p.order_id, "1500.00"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, R"({"success":true})");

  ASSERT_TRUE(eventually([&] { return db_status(p.order_id) == "processing"; }));
  auto d = detail(p);
  EXPECT_EQ(str(d, "status"), "processing");
  const auto& pay = d.at("payment").as_object();
  EXPECT_EQ(str(pay, "status"), "confirmed");
  EXPECT_EQ(str(pay, "amount"), "1500.00");
  EXPECT_EQ(str(pay, "currency"), "BDT");
  EXPECT_FALSE(pay.at("needs_review").as_bool());
  const auto& history = d.at("history").as_array();
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(str(history[0], "from"), "pending");
  EXPECT_EQ(str(history[0], "to"), "paid");
  EXPECT_EQ(str(history[0], "by"), "gateway");
  EXPECT_EQ(str(history[1], "to"), "processing");
  EXPECT_EQ(str(history[1], "by"), "system:workflow");

  // Only the owning vendor completes; others are told so.
  auto other_vendor = make_variant(server, 1).vendor;
  r = c.post("/api/v1/orders/mark-completed/" + p.order_id + "/", "", other_vendor.access);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body, R"({"error":"Unauthorized access to this order."})");
  r = c.post("/api/v1/orders/mark-completed/" + p.order_id + "/", "", p.customer.access);
  EXPECT_EQ(r.status, 403);
  r = c.post("/api/v1/orders/mark-completed/" + p.order_id + "/", "", p.variant.vendor.access);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, R"({"status":"order marked as completed"})");
  r = c.post("/api/v1/orders/mark-completed/" + p.order_id + "/", "", p.variant.vendor.access);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"({"error":"Cannot complete an order with status: completed"})");
  d = detail(p);
  EXPECT_EQ(str(d, "status"), "completed");
  EXPECT_EQ(str(d.at("history").as_array().back(), "by"), p.variant.vendor.id);
}

TEST_F(Payments, InvoiceIsAPdfWithTheOrderAndAmountAndOnlyAfterPayment) {
  auto p = place_order(server, 3, "2750.50");
  auto r = c.get("/api/v1/orders/" + p.order_id + "/invoice/", p.customer.access);
  EXPECT_EQ(r.status, 404) << "no invoice before payment";
  r = c.post("/api/v1/orders/mark-completed/" + p.order_id + "/", "", p.variant.vendor.access);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"({"error":"Cannot complete an order with status: pending"})");

  ASSERT_EQ(ipn(server.port(), p.order_id, gateway.pay(p.order_id, "2750.50")).status, 200);
  ASSERT_TRUE(eventually([&] { return invoices_of(p.order_id) == 1; }));
  r = c.get("/api/v1/orders/" + p.order_id + "/invoice/", p.customer.access);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("content-type"), "application/pdf");
  ASSERT_EQ(r.body.rfind("%PDF", 0), 0u);
  const auto text = pdf_text(r.body);
  EXPECT_NE(text.find(p.order_id), std::string::npos) << text;
  EXPECT_NE(text.find("2750.50"), std::string::npos) << text;
  EXPECT_NE(text.find("BDT"), std::string::npos) << text;
  // The stored digest is the digest of the bytes served.
  EXPECT_EQ(r.header("etag"), "\"" + sha256_hex(r.body) + "\"");

  // The vendor and an admin see it; another customer does not.
  EXPECT_EQ(c.get("/api/v1/orders/" + p.order_id + "/invoice/", p.variant.vendor.access).status,
            200);
  EXPECT_EQ(
      c.get("/api/v1/orders/" + p.order_id + "/invoice/", server.create_admin().access).status,
      200);
  auto stranger = server.register_user("customer");
  EXPECT_EQ(c.get("/api/v1/orders/" + p.order_id + "/invoice/", stranger.access).status, 404);
  EXPECT_EQ(c.get("/api/v1/orders/" + p.order_id + "/invoice/").status, 401);
}

TEST_F(Payments, DuplicateIpnAndTheRedirectChangeNothing) {
  auto p = place_order(server);
  const auto form = gateway.pay(p.order_id, "1500.00");
  ASSERT_EQ(ipn(server.port(), p.order_id, form).status, 200);
  const auto validations = gateway.validation_count();
  auto again = ipn(server.port(), p.order_id, form);
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.body, R"({"success":true})");
  auto page = post_form(server.port(), "/orders/success/", FakeSslcommerz::encode(form));
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.header("content-type").find("text/html"), std::string::npos);
  EXPECT_NE(page.body.find("Payment confirmed"), std::string::npos) << page.body;

  ASSERT_TRUE(eventually([&] { return invoices_of(p.order_id) == 1; }));
  ASSERT_TRUE(eventually([&] { return events_to(p.order_id, "processing") == 1; }));
  EXPECT_EQ(payments_of(p.order_id), 1);
  EXPECT_EQ(jobs_of(p.order_id), 2);
  EXPECT_EQ(events_to(p.order_id, "paid"), 1);
  EXPECT_EQ(gateway.validation_count(), validations) << "a known payment is not validated again";
}

TEST_F(Payments, SimultaneousNotificationsConfirmOnce) {
  auto p = place_order(server);
  const auto body = FakeSslcommerz::encode(gateway.pay(p.order_id, "1500.00"));
  std::promise<void> go;
  auto start = go.get_future().share();
  std::vector<std::future<int>> results;
  results.reserve(8);
  for (int i = 0; i < 8; ++i) {
    results.push_back(std::async(std::launch::async, [&, i] {
      HttpClient client(server.port());
      client.get("/healthz");
      start.wait();
      const auto path = i % 2 == 0 ? "/webhooks/payment/" + p.order_id + "/" : "/orders/success/";
      return client
          .request("POST", path, body, {{"Content-Type", "application/x-www-form-urlencoded"}})
          .status;
    }));
  }
  go.set_value();
  for (auto& f : results) EXPECT_EQ(f.get(), 200);
  ASSERT_TRUE(eventually([&] { return invoices_of(p.order_id) == 1; }));
  ASSERT_TRUE(eventually([&] { return events_to(p.order_id, "processing") == 1; }));
  EXPECT_EQ(payments_of(p.order_id), 1);
  EXPECT_EQ(jobs_of(p.order_id), 2);
  EXPECT_EQ(events_to(p.order_id, "paid"), 1);
}

TEST_F(Payments, ASignedRedirectArrivingFirstConfirmsAndTheIpnIsADuplicate) {
  auto p = place_order(server);
  const auto form = gateway.pay(p.order_id, "1500.00");
  // Some gateways send the browser back with GET; the same signed fields are in the query.
  auto page = c.get("/orders/success/?" + FakeSslcommerz::encode(form));
  EXPECT_EQ(page.status, 200) << page.body;
  EXPECT_NE(page.body.find("Payment confirmed"), std::string::npos);
  EXPECT_NE(page.body.find(p.order_id), std::string::npos);
  EXPECT_EQ(payment_state(p.order_id), "confirmed");
  EXPECT_EQ(ipn(server.port(), p.order_id, form).status, 200);
  EXPECT_EQ(payments_of(p.order_id), 1);
  pqxx::work w(test_db().connection());
  EXPECT_EQ(w.exec_params1("SELECT source FROM payments WHERE order_id = $1", p.order_id)[0]
                .as<std::string>(),
            "redirect");
}

TEST_F(Payments, ForgedOrIncompleteSignaturesAre400AndChangeNothing) {
  auto p = place_order(server);
  auto form = gateway.pay(p.order_id, "1500.00");
  const auto validations = gateway.validation_count();

  auto forged = form;
  forged["verify_sign"] = std::string(32, '0');
  auto r = ipn(server.port(), p.order_id, forged);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"({"error":"Invalid verify_sign"})");

  auto tampered = form;
  tampered["amount"] = "15.00";  // signed as 1500.00
  EXPECT_EQ(ipn(server.port(), p.order_id, tampered).status, 400);

  auto absent = form;
  absent["verify_key"] += ",not_posted";
  r = ipn(server.port(), p.order_id, absent);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"({"error":"Invalid verify_sign"})");

  auto unsigned_form = form;
  unsigned_form.erase("verify_sign");
  EXPECT_EQ(ipn(server.port(), p.order_id, unsigned_form).status, 400);

  // Signed with another store's password.
  auto other = FakeSslcommerz::sign(form, "not-our-password");
  EXPECT_EQ(ipn(server.port(), p.order_id, other).status, 400);

  // Rightly signed, but over less than we act on: a FAILED whose verify_key leaves out
  // store_id (an empty or leaked password must not let anyone cancel orders this cheaply).
  auto narrowed =
      FakeSslcommerz::sign({{"tran_id", p.order_id}, {"status", "FAILED"}}, kStorePassword);
  r = ipn(server.port(), p.order_id, narrowed);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"({"error":"Invalid verify_sign"})");
  // Signed with our password for another store id.
  auto other_store = FakeSslcommerz::sign(
      {{"tran_id", p.order_id}, {"status", "FAILED"}, {"store_id", "otherstore"}}, kStorePassword);
  EXPECT_EQ(ipn(server.port(), p.order_id, other_store).status, 400);

  // An unsigned redirect is a page saying nothing could be verified.
  auto page = post_form(server.port(), "/orders/success/", "tran_id=" + p.order_id);
  EXPECT_EQ(page.status, 400);
  EXPECT_NE(page.body.find("could not be verified"), std::string::npos);
  EXPECT_EQ(gateway.validation_count(), validations) << "nothing unsigned reaches the gateway";

  EXPECT_EQ(db_status(p.order_id), "pending");
  EXPECT_EQ(payments_of(p.order_id), 0);
}

TEST_F(Payments, MalformedBodiesAre4xxAndMultipartIsAccepted) {
  auto p = place_order(server);
  auto r = post_form(server.port(), "/webhooks/payment/" + p.order_id + "/", R"({"a":1})",
                     "application/json");
  EXPECT_EQ(r.status, 415) << r.body;
  r = post_form(server.port(), "/webhooks/payment/" + p.order_id + "/", "--x\r\nbroken",
                "multipart/form-data; boundary=x");
  EXPECT_EQ(r.status, 400) << r.body;
  r = post_form(server.port(), "/webhooks/payment/" + p.order_id + "/", "a=%zz");
  EXPECT_GE(r.status, 400);
  EXPECT_LT(r.status, 500);
  r = post_form(server.port(), "/webhooks/payment/not-a-uuid/", "a=b");
  EXPECT_EQ(r.status, 404);

  // The same signed fields as multipart/form-data.
  std::string body;
  for (const auto& [k, v] : gateway.pay(p.order_id, "1500.00")) {
    body.append("--BOUNDARY\r\nContent-Disposition: form-data; name=\"")
        .append(k)
        .append("\"\r\n\r\n")
        .append(v)
        .append("\r\n");
  }
  body += "--BOUNDARY--\r\n";
  r = post_form(server.port(), "/webhooks/payment/" + p.order_id + "/", body,
                "multipart/form-data; boundary=BOUNDARY");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(payment_state(p.order_id), "confirmed");
}

// Notifications arriving together share one order lookup (one statement for many): each still
// gets its own order's answer, an unknown order among them is 404 and takes nobody with it.
TEST_F(Payments, NotificationsLookedUpTogetherEachGetTheirOwnOrder) {
  constexpr int kOrders = 12;
  std::vector<Placed> placed;
  std::vector<std::string> bodies, paths;
  for (int i = 0; i < kOrders; ++i) {
    placed.push_back(place_order(server));
    bodies.push_back(FakeSslcommerz::encode(gateway.pay(placed.back().order_id, "1500.00")));
    paths.push_back("/webhooks/payment/" + placed.back().order_id + "/");
  }
  for (int i = 0; i < 3; ++i) {
    const auto ghost = random_uuid();
    bodies.push_back(FakeSslcommerz::encode(gateway.pay(ghost, "1500.00")));
    paths.push_back("/webhooks/payment/" + ghost + "/");
  }
  std::promise<void> go;
  auto start = go.get_future().share();
  std::vector<std::future<HttpResult>> results;
  results.reserve(bodies.size());
  for (std::size_t i = 0; i < bodies.size(); ++i) {
    results.push_back(std::async(std::launch::async, [&, i] {
      HttpClient client(server.port());
      client.get("/healthz");
      start.wait();
      return client.request("POST", paths[i], bodies[i],
                            {{"Content-Type", "application/x-www-form-urlencoded"}});
    }));
  }
  go.set_value();
  for (std::size_t i = 0; i < results.size(); ++i) {
    auto r = results[i].get();
    if (i < kOrders) {
      EXPECT_EQ(r.status, 200) << r.body;
      EXPECT_EQ(payments_of(placed[i].order_id), 1);
      EXPECT_NE(db_status(placed[i].order_id), "pending");
    } else {
      EXPECT_EQ(r.status, 404);
      EXPECT_EQ(r.body, R"({"detail":"Order not found"})");
    }
  }
}

TEST_F(Payments, TransactionMismatchAndUnknownOrders) {
  auto p = place_order(server);
  auto other = place_order(server);
  // Signed for `other`, posted to p's URL.
  auto r = ipn(server.port(), p.order_id, gateway.pay(other.order_id, "1500.00"));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"({"error":"Transaction mismatch"})");
  const auto ghost = random_uuid();
  r = ipn(server.port(), ghost, gateway.pay(ghost, "1500.00"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, R"({"detail":"Order not found"})");
  auto no_val = gateway.pay(p.order_id, "1500.00");
  no_val.erase("val_id");
  r = ipn(server.port(), p.order_id, FakeSslcommerz::sign(no_val, kStorePassword));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"({"error":"val_id missing"})");
  EXPECT_EQ(db_status(p.order_id), "pending");
  EXPECT_EQ(db_status(other.order_id), "pending");
}

TEST_F(Payments, ValidationApiSayingInvalidIs400AndNothingChanges) {
  auto p = place_order(server);
  gateway.set_validation_mode(FakeSslcommerz::ValidationMode::invalid);
  auto r = ipn(server.port(), p.order_id, gateway.pay(p.order_id, "1500.00"));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"({"error":"Payment not valid"})");
  EXPECT_EQ(db_status(p.order_id), "pending");
  EXPECT_EQ(payments_of(p.order_id), 0);
}

TEST_F(Payments, ValidationApiUnreachableIs503ThenTheRetryConfirms) {
  auto p = place_order(server);
  const auto form = gateway.pay(p.order_id, "1500.00");
  for (auto mode :
       {FakeSslcommerz::ValidationMode::http_error, FakeSslcommerz::ValidationMode::garbage,
        FakeSslcommerz::ValidationMode::hang}) {
    gateway.set_validation_mode(mode);
    auto r = ipn(server.port(), p.order_id, form);
    EXPECT_EQ(r.status, 503) << r.body;
    // Nothing half-written. (The server also asks the gateway by itself now — another test
    // process sharing this database may do it first, with a gateway that answers — so the
    // order may already be paid, once.)
    EXPECT_LE(payments_of(p.order_id), 1);
  }
  gateway.set_validation_mode(FakeSslcommerz::ValidationMode::ok);
  EXPECT_EQ(ipn(server.port(), p.order_id, form).status, 200);
  EXPECT_EQ(payment_state(p.order_id), "confirmed");
}

TEST_F(Payments, AmountOrCurrencyMismatchFailsTheOrderReleasesStockAndNeedsRefund) {
  auto p = place_order(server, 2);
  ASSERT_EQ(db_stock(p.variant.id), 1);
  auto r = ipn(server.port(), p.order_id,
               gateway.pay(p.order_id, "1500.00", {.validated_amount = "15.00"}));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"({"error":"Amount mismatch"})");
  EXPECT_EQ(db_status(p.order_id), "failed");
  EXPECT_EQ(db_stock(p.variant.id), 2);
  EXPECT_EQ(payment_state(p.order_id), "needs_refund");
  EXPECT_EQ(jobs_of(p.order_id), 0);

  auto q = place_order(server, 2);
  r = ipn(server.port(), q.order_id,
          gateway.pay(q.order_id, "1500.00", {.validated_amount = "", .currency_type = "USD"}));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"({"error":"Amount mismatch"})");
  EXPECT_EQ(db_status(q.order_id), "failed");
  EXPECT_EQ(db_stock(q.variant.id), 2);

  // Numerically equal amounts are not a mismatch.
  auto s = place_order(server, 2);
  r = ipn(server.port(), s.order_id,
          gateway.pay(s.order_id, "1500.00", {.validated_amount = "1500.0000"}));
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST_F(Payments, FailedCancelledAndExpiredNotificationsReleaseTheStock) {
  auto f = place_order(server, 2);
  auto r = ipn(server.port(), f.order_id, gateway.unpaid(f.order_id, "1500.00", "FAILED"));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(db_status(f.order_id), "failed");
  EXPECT_EQ(db_stock(f.variant.id), 2);
  // The redirect that follows is a duplicate and its page says what happened.
  auto page = c.get("/orders/fail/?" +
                    FakeSslcommerz::encode(gateway.unpaid(f.order_id, "1500.00", "FAILED")));
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("Payment failed"), std::string::npos);
  EXPECT_EQ(db_stock(f.variant.id), 2) << "released once";

  for (const char* status : {"CANCELLED", "EXPIRED", "UNATTEMPTED"}) {
    auto o = place_order(server, 2);
    r = ipn(server.port(), o.order_id, gateway.unpaid(o.order_id, "1500.00", status));
    EXPECT_EQ(r.status, 200) << status << " " << r.body;
    EXPECT_EQ(db_status(o.order_id), "cancelled") << status;
    EXPECT_EQ(db_stock(o.variant.id), 2) << status;
  }
  auto d = detail(f);
  EXPECT_EQ(str(d.at("history").as_array().at(0), "by"), "gateway");
}

TEST_F(Payments, ValidAfterTheOrderWasCancelledIsRecordedForRefundNotPaid) {
  auto p = place_order(server, 2);
  auto r = c.post("/api/v1/orders/" + p.order_id + "/cancel/", "", p.customer.access);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(str(r.json().at("history").as_array().at(0), "by"), p.customer.id);
  r = ipn(server.port(), p.order_id, gateway.pay(p.order_id, "1500.00"));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(db_status(p.order_id), "cancelled");
  EXPECT_EQ(payment_state(p.order_id), "needs_refund");
  EXPECT_EQ(jobs_of(p.order_id), 0);
  EXPECT_EQ(db_stock(p.variant.id), 2) << "no stock taken back for a refund";
  auto page = post_form(server.port(), "/orders/success/",
                        FakeSslcommerz::encode(gateway.pay(p.order_id, "1500.00")));
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(payments_of(p.order_id), 1);
}

TEST_F(Payments, RiskyPaymentsArePaidAndMarkedForReview) {
  auto p = place_order(server);
  ASSERT_EQ(ipn(server.port(), p.order_id,
                gateway.pay(p.order_id, "1500.00", {.validated_amount = "", .risk_level = "1"}))
                .status,
            200);
  auto d = detail(p);
  EXPECT_TRUE(d.at("payment").as_object().at("needs_review").as_bool());
  EXPECT_EQ(str(d.at("payment"), "risk_level"), "1");
}

TEST_F(Payments, TheDatabaseRefusesAnOrderGoingBackwards) {
  auto p = place_order(server);
  ASSERT_EQ(ipn(server.port(), p.order_id, gateway.pay(p.order_id, "1500.00")).status, 200);
  ASSERT_TRUE(eventually([&] { return db_status(p.order_id) == "processing"; }));
  pqxx::work w(test_db().connection());
  EXPECT_THROW(w.exec_params0("UPDATE orders SET status = 'paid' WHERE id = $1", p.order_id),
               pqxx::sql_error);
}

TEST_F(Payments, ACrashedInvoiceActorIsRestartedAndLosesNoJob) {
  server.outbox().crash_for_test("invoice_actor");
  auto p = place_order(server);
  ASSERT_EQ(ipn(server.port(), p.order_id, gateway.pay(p.order_id, "1500.00")).status, 200);
  // The actor died holding the job; the job comes back after its lease (2 s in tests).
  ASSERT_TRUE(eventually([&] { return invoices_of(p.order_id) == 1; }, 20000));
  bool restarted = false;
  for (const auto& s : server.runtime().registry().snapshot()) {
    if (s.name == "invoice_actor") restarted = s.restarts >= 1;
  }
  EXPECT_TRUE(restarted);
  EXPECT_TRUE(eventually([&] {
    return sql_count("SELECT count(*) FROM outbox WHERE order_id = $1 AND state = 'done'",
                     p.order_id) == 2;
  }));
}

TEST_F(Payments, KilledRightAfterTheConfirmationCommitTheJobsStillRunOnce) {
  const auto cfg = server.config();
  auto start_server = [&](uint16_t port, bool fault) {
    auto env = server_process_env(cfg, port, gateway.session_url());
    env["SSLCOMMERZ_VALIDATION_URL"] = gateway.validation_url();
    if (fault) env["MARKETLINK_FAULT"] = "kill_after_payment_commit";
    const pid_t pid = spawn_process(MARKETLINK_BINARY, {"serve"}, env);
    EXPECT_TRUE(serving(port));
    return pid;
  };
  auto p = place_order(server);
  const uint16_t port = free_port();
  pid_t pid = start_server(port, true);
  const auto form = gateway.pay(p.order_id, "1500.00");
  EXPECT_THROW(ipn(port, p.order_id, form), std::exception) << "the process dies mid-request";
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  // Committed, nothing after it ran.
  EXPECT_EQ(db_status(p.order_id), "paid");
  EXPECT_EQ(jobs_of(p.order_id), 2);
  EXPECT_EQ(invoices_of(p.order_id), 0);

  // With the default lease (OUTBOX_LEASE_SECONDS 6, renewed every OUTBOX_POLL_SECONDS 2 while
  // a process lives) the dead process's jobs are taken over within seconds of the restart.
  const auto restarted = std::chrono::steady_clock::now();
  pid = start_server(port, false);
  ASSERT_TRUE(eventually(
      [&] { return invoices_of(p.order_id) == 1 && db_status(p.order_id) == "processing"; }));
  std::printf(
      "[figures] SIGKILL right after the confirmation: invoice and processing %.2f s after "
      "the restart began\n",
      std::chrono::duration<double>(std::chrono::steady_clock::now() - restarted).count());
  // The gateway retries its IPN: a duplicate.
  EXPECT_EQ(ipn(port, p.order_id, form).status, 200);
  const int exit_status = stop_process(pid);
  EXPECT_TRUE(WIFEXITED(exit_status) && WEXITSTATUS(exit_status) == 0);
  EXPECT_EQ(invoices_of(p.order_id), 1);
  EXPECT_EQ(events_to(p.order_id, "paid"), 1);
  EXPECT_EQ(events_to(p.order_id, "processing"), 1);
  EXPECT_EQ(payments_of(p.order_id), 1);
}

namespace {
void sql(const std::string& statement, const std::string& order_id) {
  pqxx::work w(test_db().connection());
  w.exec_params(statement, order_id);
  w.commit();
}
std::string payment_source(const std::string& id) {
  pqxx::work w(test_db().connection());
  auto r = w.exec_params("SELECT source FROM payments WHERE order_id = $1", id);
  w.commit();
  return r.empty() ? "" : r[0][0].as<std::string>();
}
// The audit log's reconciliation rows for the order, oldest first.
std::vector<std::string> reconciliations(const std::string& id) {
  pqxx::work w(test_db().connection());
  auto r = w.exec_params(
      "SELECT result FROM audit_log WHERE action = 'payment.reconcile' AND target = $1 ORDER BY id",
      "order:" + id);
  w.commit();
  std::vector<std::string> out;
  for (const auto& row : r) out.push_back(row[0].as<std::string>());
  return out;
}
}  // namespace

// The customer paid; the only VALID notification arrived while the validation API was down (503,
// nothing recorded) and the gateway never sends it again. The server asks the gateway itself (the
// transaction query by tran_id) and confirms the order: one payment, one invoice, no resend.
TEST_F(Payments, AValidIpnLostToAValidationOutageIsConfirmedByTheServerItself) {
  auto p = place_order(server);
  gateway.set_validation_mode(FakeSslcommerz::ValidationMode::http_error);
  const auto form = gateway.pay(p.order_id, "1500.00");
  EXPECT_EQ(ipn(server.port(), p.order_id, form).status, 503);
  const auto queries = gateway.query_count();
  // While the gateway cannot be asked, the order waits and is asked again (by this process; a
  // server of another test sharing the database may ask its own fake first).
  ASSERT_TRUE(eventually([&] {
    server.orders().sweep_now_for_test();
    return gateway.query_count() > queries;
  }));
  EXPECT_NE(db_status(p.order_id), "cancelled");
  gateway.set_validation_mode(FakeSslcommerz::ValidationMode::ok);
  ASSERT_TRUE(eventually([&] {
    server.orders().sweep_now_for_test();
    return db_status(p.order_id) != "pending";
  }));
  EXPECT_TRUE(eventually([&] { return invoices_of(p.order_id) == 1; }));
  EXPECT_TRUE(eventually([&] { return db_status(p.order_id) == "processing"; }));
  EXPECT_EQ(payments_of(p.order_id), 1);
  EXPECT_EQ(payment_state(p.order_id), "confirmed");
  EXPECT_EQ(payment_source(p.order_id), "reconcile");
  // One of the reconciliations paid it (another process's sweeper may ask again afterwards and
  // find it settled).
  auto log = reconciliations(p.order_id);
  ASSERT_FALSE(log.empty());
  EXPECT_EQ(std::count_if(
                log.begin(), log.end(),
                [](const std::string& l) { return l.find("VALID → paid") != std::string::npos; }),
            1)
      << log.back();
  // The notification, should it come after all, is a duplicate.
  EXPECT_EQ(ipn(server.port(), p.order_id, form).status, 200);
  EXPECT_EQ(payments_of(p.order_id), 1);
}

// Paid at the gateway, but no notification ever reached the server: at expiry the sweep asks the
// gateway first, and confirms instead of cancelling.
TEST_F(Payments, AnExpiredOrderPaidAtTheGatewayIsConfirmedNotCancelled) {
  auto p = place_order(server, 2);
  (void)gateway.pay(p.order_id, "1500.00");  // the customer paid; nothing was delivered
  sql("UPDATE orders SET expires_at = now() - interval '1 second' WHERE id = $1", p.order_id);
  ASSERT_TRUE(eventually([&] {
    server.orders().sweep_now_for_test();
    return db_status(p.order_id) != "pending";
  }));
  EXPECT_EQ(db_status(p.order_id) == "paid" || db_status(p.order_id) == "processing", true)
      << db_status(p.order_id);
  EXPECT_EQ(payment_state(p.order_id), "confirmed");
  EXPECT_EQ(db_stock(p.variant.id), 1) << "the paid unit stays taken";
  // The console's payments page shows what reconciliation did.
  auto board = c.get("/api/v1/ops/payments/", server.create_admin().access);
  ASSERT_EQ(board.status, 200);
  bool listed = false;
  const auto json = board.json();
  for (const auto& r : json.at("reconciliations").as_array()) {
    listed = listed || (str(r, "order_id") == p.order_id &&
                        str(r, "result").find("paid") != std::string::npos);
  }
  EXPECT_TRUE(listed) << board.body;
}

// An expired order whose payment the gateway reports still in progress (its session is open) is
// kept while ORDER_PAYMENT_GRACE lasts, asked about again, and cancelled after it.
TEST(PaymentsGrace, AnExpiredOrderWithAPaymentInProgressIsKeptOnlyWithinTheGrace) {
  TestServer s(Overrides{{"ORDER_PAYMENT_GRACE", "600"}});
  auto p = place_order(s, 2);
  sql("UPDATE orders SET expires_at = now() - interval '1 second' WHERE id = $1", p.order_id);
  ASSERT_TRUE(eventually([&] {
    s.orders().sweep_now_for_test();
    return !reconciliations(p.order_id).empty();
  }));
  auto log = reconciliations(p.order_id);
  EXPECT_NE(log.front().find("PROCESSING"), std::string::npos) << log.front();
  EXPECT_NE(log.front().find("asked again later"), std::string::npos) << log.front();
  EXPECT_EQ(db_status(p.order_id), "pending");
  EXPECT_EQ(db_stock(p.variant.id), 1);
  // Past the grace, still not paid: cancelled, its unit back.
  sql("UPDATE orders SET expires_at = now() - interval '1 hour', gateway_check_at = now() "
      "WHERE id = $1",
      p.order_id);
  ASSERT_TRUE(eventually([&] {
    s.orders().sweep_now_for_test();
    return db_status(p.order_id) == "cancelled";
  }));
  EXPECT_EQ(db_stock(p.variant.id), 2);
  EXPECT_EQ(payments_of(p.order_id), 0);
}

// One session, two attempts: the card is declined (FAILED: the order fails, its unit goes back),
// the customer tries again and pays (VALID): the order is booked again and paid, not refunded.
TEST_F(Payments, AFailedAttemptThenAValidOneInTheSameSessionEndsPaid) {
  auto p = place_order(server, 2);
  EXPECT_EQ(ipn(server.port(), p.order_id, gateway.unpaid(p.order_id, "1500.00", "FAILED")).status,
            200);
  EXPECT_EQ(db_status(p.order_id), "failed");
  EXPECT_EQ(db_stock(p.variant.id), 2);
  auto r = ipn(server.port(), p.order_id, gateway.pay(p.order_id, "1500.00"));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(payment_state(p.order_id), "confirmed");
  EXPECT_EQ(db_stock(p.variant.id), 1) << "its unit taken again";
  EXPECT_EQ(events_to(p.order_id, "failed"), 1);
  EXPECT_EQ(events_to(p.order_id, "paid"), 1);
  EXPECT_TRUE(eventually([&] { return db_status(p.order_id) == "processing"; }));
  EXPECT_TRUE(eventually([&] { return invoices_of(p.order_id) == 1; }));

  // The same, when the last unit went to somebody else in between: refunded, never oversold.
  auto q = place_order(server, 1);
  EXPECT_EQ(ipn(server.port(), q.order_id, gateway.unpaid(q.order_id, "1500.00", "FAILED")).status,
            200);
  ASSERT_EQ(post_order(server, server.register_user("customer"), q.variant.id).status, 201);
  r = ipn(server.port(), q.order_id, gateway.pay(q.order_id, "1500.00"));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(db_status(q.order_id), "failed");
  EXPECT_EQ(payment_state(q.order_id), "needs_refund");
  EXPECT_EQ(db_stock(q.variant.id), 0);
  auto page = post_form(server.port(), "/orders/success/",
                        FakeSslcommerz::encode(gateway.pay(q.order_id, "1500.00")));
  EXPECT_NE(page.body.find("refunded"), std::string::npos) << page.body;
}

// The redirect page after the IPN recorded a refund tells the customer the money comes back,
// never "nothing was charged"; a bare GET of the page says it got no details.
TEST_F(Payments, RedirectPagesNeverSayNothingWasChargedWhenARefundIsDue) {
  auto p = place_order(server, 2);
  ASSERT_EQ(c.post("/api/v1/orders/" + p.order_id + "/cancel/", "", p.customer.access).status, 200);
  const auto form = gateway.pay(p.order_id, "1500.00");
  ASSERT_EQ(ipn(server.port(), p.order_id, form).status, 200);
  ASSERT_EQ(payment_state(p.order_id), "needs_refund");
  auto page = post_form(server.port(), "/orders/success/", FakeSslcommerz::encode(form));
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("refunded"), std::string::npos) << page.body;
  EXPECT_EQ(page.body.find("nothing was charged"), std::string::npos) << page.body;
  for (const char* path : {"/orders/success/", "/orders/fail/", "/orders/cancel/"}) {
    auto bare = c.get(path);
    EXPECT_EQ(bare.status, 200) << path;
    EXPECT_NE(bare.body.find("No payment details"), std::string::npos) << bare.body;
  }
}

// Whatever length the gateway gives its fields, the payment is recorded.
TEST_F(Payments, OverLongGatewayFieldsAreStoredNotRefused) {
  auto p = place_order(server);
  FakeSslcommerz::PayOptions long_fields;
  long_fields.card_type = std::string(600, 'V');
  auto r = ipn(server.port(), p.order_id, gateway.pay(p.order_id, "1500.00", long_fields));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(payment_state(p.order_id), "confirmed");
}

// Twenty customers pay at once; the server is SIGKILLed right after its first confirmation
// commit (the others' notifications die with it). Restarted, it gets the notifications again
// (the gateway's retries, or its own reconciliation): every order ends processing with exactly
// one invoice, the dead process's leased jobs taken over within seconds.
TEST_F(Payments, KilledMidwayThroughABurstOfPaymentsEveryPaidOrderIsProcessedSoonAfter) {
  constexpr int kOrders = 20;
  const auto cfg = server.config();
  auto start_server = [&](uint16_t port, bool fault) {
    auto env = server_process_env(cfg, port, gateway.session_url());
    if (fault) env["MARKETLINK_FAULT"] = "kill_after_payment_commit";
    const pid_t pid = spawn_process(MARKETLINK_BINARY, {"serve"}, env);
    EXPECT_TRUE(serving(port));
    return pid;
  };
  auto v = make_variant(server, kOrders);
  std::vector<std::string> ids;
  std::vector<Form> forms;
  for (int i = 0; i < kOrders; ++i) {
    auto r = post_order(server, server.register_user("customer"), v.id);
    ASSERT_EQ(r.status, 201) << r.body;
    ids.push_back(str(r.json(), "order_id"));
    forms.push_back(gateway.pay(ids.back(), "1500.00"));
  }
  const uint16_t port = free_port();
  pid_t pid = start_server(port, true);
  std::vector<std::future<void>> sent;
  sent.reserve(kOrders);
  for (int i = 0; i < kOrders; ++i) {
    sent.push_back(std::async(std::launch::async, [&, i] {
      try {
        ipn(port, ids[static_cast<std::size_t>(i)], forms[static_cast<std::size_t>(i)]);
      } catch (const std::exception&) {  // the process died under it
      }
    }));
  }
  for (auto& f : sent) f.get();
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  int paid_at_kill = 0;
  for (const auto& id : ids) paid_at_kill += db_status(id) == "paid" ? 1 : 0;
  EXPECT_GE(paid_at_kill, 1);

  const auto restarted = std::chrono::steady_clock::now();
  pid = start_server(port, false);
  for (int i = 0; i < kOrders; ++i) {
    EXPECT_EQ(
        ipn(port, ids[static_cast<std::size_t>(i)], forms[static_cast<std::size_t>(i)]).status,
        200);
  }
  EXPECT_TRUE(eventually([&] {
    for (const auto& id : ids) {
      if (invoices_of(id) != 1 || db_status(id) != "processing") return false;
    }
    return true;
  }));
  std::printf(
      "[figures] SIGKILL after the first of %d confirmations (%d committed): all "
      "processing with their invoice %.2f s after the restart began\n",
      kOrders, paid_at_kill,
      std::chrono::duration<double>(std::chrono::steady_clock::now() - restarted).count());
  const int exit_status = stop_process(pid);
  EXPECT_TRUE(WIFEXITED(exit_status) && WEXITSTATUS(exit_status) == 0);
  for (const auto& id : ids) {
    EXPECT_EQ(payments_of(id), 1);
    EXPECT_EQ(invoices_of(id), 1);
    EXPECT_EQ(events_to(id, "processing"), 1);
  }
}

// One invoice that cannot be stored (a trigger refuses this one order's row) never holds back
// the others paid with it: they get their invoices; it alone is retried.
TEST_F(Payments, OneFailingInvoiceNeverFailsTheOthersInItsBatch) {
  auto good = place_order(server);
  auto bad = place_order(server);
  const auto fn = "ml_test_refuse_" + unique_suffix();
  {
    pqxx::work w(test_db().connection());
    w.exec("CREATE FUNCTION " + fn +
           "() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN IF NEW.order_id = '" + bad.order_id +
           "' THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$");
    w.exec("CREATE TRIGGER " + fn + " BEFORE INSERT ON invoices FOR EACH ROW EXECUTE FUNCTION " +
           fn + "()");
    w.commit();
  }
  auto a = std::async(std::launch::async, [&] {
    return ipn(server.port(), good.order_id, gateway.pay(good.order_id, "1500.00")).status;
  });
  auto b = std::async(std::launch::async, [&] {
    return ipn(server.port(), bad.order_id, gateway.pay(bad.order_id, "1500.00")).status;
  });
  EXPECT_EQ(a.get(), 200);
  EXPECT_EQ(b.get(), 200);
  EXPECT_TRUE(eventually([&] { return invoices_of(good.order_id) == 1; }));
  EXPECT_TRUE(eventually([&] {
    return sql_count(
               "SELECT count(*) FROM outbox WHERE order_id = $1 AND kind = 'invoice' AND "
               "last_error LIKE '%refused by the test%'",
               bad.order_id) == 1;
  }));
  EXPECT_EQ(invoices_of(bad.order_id), 0);
  {
    pqxx::work w(test_db().connection());
    w.exec("DROP TRIGGER " + fn + " ON invoices");
    w.exec("DROP FUNCTION " + fn + "()");
    w.commit();
  }
  // Its retry, once the cause is gone, succeeds.
  sql("UPDATE outbox SET next_attempt_at = now() WHERE order_id = $1 AND state = 'pending'",
      bad.order_id);
  EXPECT_TRUE(eventually([&] { return invoices_of(bad.order_id) == 1; }));
}

// A job whose lease ran out as often as OUTBOX_MAX_ATTEMPTS allows (its process died each time)
// is given up (dead, for an operator), not claimed for ever.
TEST_F(Payments, AJobReclaimedTooOftenGoesDead) {
  auto p = place_order(server);
  ASSERT_EQ(ipn(server.port(), p.order_id, gateway.pay(p.order_id, "1500.00")).status, 200);
  ASSERT_TRUE(eventually([&] { return invoices_of(p.order_id) == 1; }));
  sql("UPDATE outbox SET state = 'pending', attempts = 10, next_attempt_at = now() - interval '1 "
      "second', last_error = 'lease ran out' WHERE order_id = $1 AND kind = 'invoice'",
      p.order_id);
  EXPECT_TRUE(eventually([&] {
    return sql_count(
               "SELECT count(*) FROM outbox WHERE order_id = $1 AND kind = 'invoice' AND "
               "state = 'dead' AND last_error LIKE 'gave up%'",
               p.order_id) == 1;
  }));
}

// Invoice numbers stay unique past 10^8 payments (they used to be cut to eight digits).
TEST_F(Payments, InvoiceNumbersAreUniqueForAnyPaymentId) {
  {
    pqxx::work w(test_db().connection());
    w.exec(
        "SELECT setval('payments_id_seq', greatest(123456789, (SELECT last_value FROM "
        "payments_id_seq)))");
    w.commit();
  }
  auto p = place_order(server);
  ASSERT_EQ(ipn(server.port(), p.order_id, gateway.pay(p.order_id, "1500.00")).status, 200);
  ASSERT_TRUE(eventually([&] { return invoices_of(p.order_id) == 1; }));
  pqxx::work w(test_db().connection());
  auto row = w.exec_params1(
      "SELECT i.number, 'INV-' || pay.id FROM invoices i JOIN payments pay USING (order_id) WHERE "
      "i.order_id = $1",
      p.order_id);
  w.commit();
  EXPECT_EQ(row[0].as<std::string>(), row[1].as<std::string>()) << "all nine digits and more";
}

// A FAILED attempt failed the order; the customer tried again in the same session and paid, but
// that notification never came. At the session's expiry the server asks the gateway, finds the
// paid attempt and books the order again.
TEST_F(Payments, APaidRetryAfterAFailedAttemptIsFoundEvenWithoutItsNotification) {
  auto p = place_order(server, 2);
  ASSERT_EQ(ipn(server.port(), p.order_id, gateway.unpaid(p.order_id, "1500.00", "FAILED")).status,
            200);
  ASSERT_EQ(db_status(p.order_id), "failed");
  EXPECT_EQ(sql_count("SELECT count(*) FROM orders WHERE id = $1 AND gateway_check_at IS NOT NULL",
                      p.order_id),
            1)
      << "asked about at its expiry";
  (void)gateway.pay(p.order_id, "1500.00");  // paid; nothing delivered
  sql("UPDATE orders SET expires_at = now() - interval '1 second', gateway_check_at = now() "
      "WHERE id = $1",
      p.order_id);
  ASSERT_TRUE(eventually([&] {
    server.orders().sweep_now_for_test();
    return db_status(p.order_id) != "failed";
  }));
  EXPECT_EQ(payment_state(p.order_id), "confirmed");
  EXPECT_EQ(db_stock(p.variant.id), 1);
  EXPECT_TRUE(eventually([&] { return invoices_of(p.order_id) == 1; }));
}
