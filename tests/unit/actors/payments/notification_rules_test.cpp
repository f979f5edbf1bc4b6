// Payment notification decisions without the gateway or the database.
#include "actors/payments/notification_rules.hpp"

#include <gtest/gtest.h>

using namespace marketlink;
using namespace marketlink::actors;
using Kind = NotificationRoute::Kind;
using persistence::OrderStatus;

namespace {
Money bdt(const char* text) {
  return *parse_money(text, 12).value;
}
ValidationAnswer valid(std::string amount = "1500.00", std::string currency = "BDT") {
  return {"VALID", "val-1", "order-1", std::move(amount), std::move(currency)};
}
}  // namespace

TEST(NotificationRules, FailureStatusesReleaseAndOnlyValidIsValidated) {
  auto failed = route_notification("FAILED", "", false, OrderStatus::pending);
  EXPECT_EQ(failed.kind, Kind::release);
  EXPECT_EQ(failed.target, OrderStatus::failed);
  for (const char* s : {"CANCELLED", "EXPIRED", "UNATTEMPTED"}) {
    EXPECT_EQ(route_notification(s, "", false, OrderStatus::pending).target, OrderStatus::cancelled)
        << s;
  }
  EXPECT_EQ(route_notification("VALID", "val-1", false, OrderStatus::pending).kind, Kind::validate);
  auto odd = route_notification("VALIDATED", "val-1", false, OrderStatus::pending);
  EXPECT_EQ(odd.kind, Kind::reject) << "VALIDATED is an answer of the validation API only";
  EXPECT_EQ(odd.message, "Unsupported status");
  EXPECT_EQ(route_notification("VALID", "", false, OrderStatus::pending).message, "val_id missing");
}

TEST(NotificationRules, AnOrderAlreadyPaidIsADuplicateWithoutAskingTheGateway) {
  for (auto status : {OrderStatus::paid, OrderStatus::processing, OrderStatus::completed}) {
    EXPECT_EQ(route_notification("VALID", "val-1", false, status).kind, Kind::duplicate)
        << to_string(status);
  }
  EXPECT_EQ(route_notification("VALID", "val-1", true, OrderStatus::pending).kind, Kind::duplicate)
      << "a payment row exists";
  EXPECT_EQ(route_notification("VALID", "val-1", false, OrderStatus::cancelled).kind,
            Kind::validate)
      << "paid after cancellation: validated, then refunded";
}

TEST(NotificationRules, TheValidationAnswerIsCheckedInOrder) {
  const auto total = bdt("1500.00");
  EXPECT_EQ(judge_validation(valid(), "val-1", "order-1", total, OrderStatus::pending),
            ValidationVerdict::confirm);
  auto v = valid();
  v.status = "VALIDATED";
  EXPECT_EQ(judge_validation(v, "val-1", "order-1", total, OrderStatus::pending),
            ValidationVerdict::confirm);
  v.status = "INVALID_TRANSACTION";
  EXPECT_EQ(judge_validation(v, "val-1", "order-1", total, OrderStatus::pending),
            ValidationVerdict::not_valid);
  EXPECT_EQ(judge_validation(valid(), "val-2", "order-1", total, OrderStatus::pending),
            ValidationVerdict::not_valid)
      << "an answer about another val_id";
  EXPECT_EQ(judge_validation(valid(), "val-1", "order-2", total, OrderStatus::pending),
            ValidationVerdict::transaction_mismatch);
  EXPECT_EQ(judge_validation(valid("1499.99"), "val-1", "order-1", total, OrderStatus::pending),
            ValidationVerdict::amount_mismatch);
  EXPECT_EQ(
      judge_validation(valid("1500.00", "USD"), "val-1", "order-1", total, OrderStatus::pending),
      ValidationVerdict::amount_mismatch);
  EXPECT_EQ(judge_validation(valid(), "val-1", "order-1", total, OrderStatus::cancelled),
            ValidationVerdict::order_not_pending);
}

TEST(NotificationRules, AmountsCompareAsNumbers) {
  const auto total = bdt("1500.00");
  EXPECT_TRUE(same_amount("1500", total));
  EXPECT_TRUE(same_amount("1500.0", total));
  EXPECT_TRUE(same_amount("1500.000", total));
  EXPECT_FALSE(same_amount("1500.001", total));
  EXPECT_FALSE(same_amount("1,500.00", total));
  EXPECT_FALSE(same_amount("", total));
  EXPECT_FALSE(same_amount("1e3", total));
  EXPECT_TRUE(plain_decimal("1462.5"));
  EXPECT_FALSE(plain_decimal("1.2.3"));
  EXPECT_FALSE(plain_decimal(std::string(31, '1')));
}

TEST(NotificationRules, AFailedOrderPaidLaterIsBookedAgainNotRefunded) {
  const auto total = bdt("1500.00");
  ValidationAnswer v{"VALID", "val-1", "order-1", "1500.00", "BDT"};
  EXPECT_EQ(judge_validation(v, "val-1", "order-1", total, OrderStatus::failed),
            ValidationVerdict::rebook);
  v.amount = "1.00";
  EXPECT_EQ(judge_validation(v, "val-1", "order-1", total, OrderStatus::failed),
            ValidationVerdict::amount_mismatch)
      << "the amount is checked first";
}

TEST(NotificationRules, TheTransactionQueryPaysOnAnyValidAttempt) {
  using Kind = AttemptsVerdict::Kind;
  EXPECT_EQ(judge_attempts({}).kind, Kind::not_paid);
  EXPECT_EQ(judge_attempts({"INVALID"}).kind, Kind::not_paid);
  EXPECT_EQ(judge_attempts({"FAILED", "CANCELLED"}).kind, Kind::not_paid);
  EXPECT_EQ(judge_attempts({"PROCESSING"}).kind, Kind::in_progress);
  EXPECT_EQ(judge_attempts({"FAILED", "PENDING"}).kind, Kind::in_progress);
  auto paid = judge_attempts({"FAILED", "PROCESSING", "VALIDATED"});
  EXPECT_EQ(paid.kind, Kind::paid);
  EXPECT_EQ(paid.index, 2U);
  EXPECT_EQ(judge_attempts({"VALID", "FAILED"}).index, 0U);
}

TEST(NotificationRules, AfterAskingTheGatewayAnExpiredOrderIsKeptOnlyWhileAPaymentMayCome) {
  using A = GatewayAnswer;
  EXPECT_EQ(after_asking(A::settled, true, true), AfterAsking::nothing);
  EXPECT_EQ(after_asking(A::not_paid, true, false), AfterAsking::release);
  EXPECT_EQ(after_asking(A::not_paid, false, false), AfterAsking::clear);
  EXPECT_EQ(after_asking(A::in_progress, true, false), AfterAsking::postpone);
  EXPECT_EQ(after_asking(A::unreachable, false, false), AfterAsking::postpone);
  EXPECT_EQ(after_asking(A::in_progress, true, true), AfterAsking::release);
  EXPECT_EQ(after_asking(A::unreachable, true, true), AfterAsking::release);
}
