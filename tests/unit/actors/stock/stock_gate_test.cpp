// The stock gate's decisions without Redis or PostgreSQL.
#include "actors/stock/stock_gate.hpp"

#include <gtest/gtest.h>

using namespace marketlink;
using actors::batch_outcome;
using actors::GateAnswer;
using actors::read_gate;
using persistence::RedisReply;

namespace {
RedisReply pair(long long a, long long b) {
  RedisReply r;
  r.type = RedisReply::Type::array;
  RedisReply x, y;
  x.type = y.type = RedisReply::Type::integer;
  x.integer = a;
  y.integer = b;
  r.elements = {x, y};
  return r;
}
}  // namespace

TEST(StockGate, ReadsTakenMissingAndUnusableAnswers) {
  auto taken = read_gate(pair(3, 7));
  EXPECT_EQ(taken.kind, GateAnswer::Kind::taken);
  EXPECT_EQ(taken.taken, 3);
  EXPECT_EQ(taken.left, 7);
  EXPECT_EQ(read_gate(pair(0, 0)).kind, GateAnswer::Kind::taken) << "sold out is an answer";
  EXPECT_EQ(read_gate(pair(-1, 0)).kind, GateAnswer::Kind::missing);
  EXPECT_EQ(read_gate(Error::unavailable()).kind, GateAnswer::Kind::unusable);
  RedisReply odd;
  odd.type = RedisReply::Type::array;
  EXPECT_EQ(read_gate(odd).kind, GateAnswer::Kind::unusable) << "not a pair";
}

TEST(StockGate, FirstGrantedCallersGetOrdersAndTheRestOfTheGateGoesBack) {
  // 5 callers, the gate let 4 through, PostgreSQL granted 3 (another process took one).
  auto o = batch_outcome(5, 4, 3);
  EXPECT_EQ(o.with_order, 3u);
  EXPECT_EQ(o.sold_out, 2u);
  EXPECT_EQ(o.give_back, 1);
}

TEST(StockGate, AFailedCommitGivesEveryGatedUnitBack) {
  auto o = batch_outcome(4, 4, 0);
  EXPECT_EQ(o.with_order, 0u);
  EXPECT_EQ(o.sold_out, 4u);
  EXPECT_EQ(o.give_back, 4);
}

TEST(StockGate, NeverMoreOrdersThanCallersOrUnitsAsked) {
  auto o = batch_outcome(2, 2, 5);
  EXPECT_EQ(o.with_order, 2u);
  EXPECT_EQ(o.give_back, 0);
  EXPECT_EQ(batch_outcome(3, 1, 1).with_order, 1u);
}
