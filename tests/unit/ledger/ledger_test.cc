#include "ledger/ledger.h"

#include <gtest/gtest.h>

#include "storage/sqlite_storage.h"
#include "support/temp_dir.h"

namespace loyaltyd {
namespace {

class FixedClock final : public Clock {
 public:
  int64_t NowMillis() const override { return 1'700'000'000'000; }
};

class LedgerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.program.currency = "USD";
    config_.program.currency_exponent = 2;
    config_.program.earn.push_back(EarnRule{"spend", EarnRuleType::kSpend, 1, 100});
    auto opened = SqliteStorage::Open(dir_.File("ledger.db"));
    ASSERT_TRUE(opened.ok());
    storage_ = std::move(opened).value();
    ledger_ = std::make_unique<Ledger>(config_, *storage_, clock_);
  }
  InboxEvent Event(const std::string& topic) {
    InboxEvent e;
    e.id = 42;
    e.shop_id = "demo";
    e.platform = "shopify";
    e.topic = topic;
    return e;
  }
  static Order PaidOrder() {
    Order o;
    o.platform_order_id = "820982911946154508";
    o.name = "#1001";
    o.currency = "USD";
    o.total_minor = 5500;
    LineItem line;
    line.quantity = 1;
    line.gross_minor = 4999;
    o.line_items.push_back(line);
    o.customer = Customer{"115310627314723954", "Bob@Example.com", "Bob", "Norman", {}};
    return o;
  }

  Config config_;
  FixedClock clock_;
  testing::TempDir dir_;
  std::unique_ptr<SqliteStorage> storage_;
  std::unique_ptr<Ledger> ledger_;
};

TEST_F(LedgerTest, PaidOrderEarnsForItsCustomer) {
  EventOutcome o = ledger_->Decide(Event("orders/paid"),
                                   NormalisedEvent(OrderEvent{OrderEventKind::kPaid, PaidOrder()}));
  EXPECT_EQ(o.status, EventStatus::kProcessed);
  ASSERT_TRUE(o.customer.has_value());
  EXPECT_EQ(o.customer->platform_customer_id, "115310627314723954");
  EXPECT_EQ(o.customer->email_normalised, "bob@example.com");
  ASSERT_TRUE(o.order.has_value());
  EXPECT_TRUE(o.order->paid);
  EXPECT_EQ(o.order->eligible_minor, 4999);
  ASSERT_EQ(o.points.size(), 1u);
  EXPECT_EQ(o.points[0].points, 49);
  EXPECT_EQ(o.reason, "order paid; 49 point(s) earned");
}

TEST_F(LedgerTest, CreatedOrderIsRecordedWithoutPoints) {
  EventOutcome o = ledger_->Decide(
      Event("orders/create"), NormalisedEvent(OrderEvent{OrderEventKind::kCreated, PaidOrder()}));
  EXPECT_EQ(o.status, EventStatus::kProcessed);
  ASSERT_TRUE(o.order.has_value());
  EXPECT_FALSE(o.order->paid);
  EXPECT_TRUE(o.points.empty());
}

TEST_F(LedgerTest, GuestOrderIsKeyedByEmail) {
  Order order = PaidOrder();
  order.customer.reset();
  order.email = " Guest@Example.COM ";
  EventOutcome o = ledger_->Decide(Event("orders/paid"),
                                   NormalisedEvent(OrderEvent{OrderEventKind::kPaid, order}));
  ASSERT_TRUE(o.customer.has_value());
  EXPECT_EQ(o.customer->platform_customer_id, "");
  EXPECT_EQ(o.customer->email_normalised, "guest@example.com");
  EXPECT_EQ(o.points.size(), 1u);
}

TEST_F(LedgerTest, GuestWithoutEmailEarnsNothingAndSaysSo) {
  Order order = PaidOrder();
  order.customer.reset();
  EventOutcome o = ledger_->Decide(Event("orders/paid"),
                                   NormalisedEvent(OrderEvent{OrderEventKind::kPaid, order}));
  EXPECT_EQ(o.status, EventStatus::kIgnored);
  EXPECT_FALSE(o.customer.has_value());
  EXPECT_TRUE(o.points.empty());
  EXPECT_EQ(o.reason, "guest order with neither a customer nor an email: no points earned");
}

TEST_F(LedgerTest, CurrencyMismatchFailsAndRecordsNothing) {
  Order order = PaidOrder();
  order.currency = "CAD";
  EventOutcome o = ledger_->Decide(Event("orders/paid"),
                                   NormalisedEvent(OrderEvent{OrderEventKind::kPaid, order}));
  EXPECT_EQ(o.status, EventStatus::kFailed);
  EXPECT_FALSE(o.order.has_value());
  EXPECT_TRUE(o.points.empty());
  EXPECT_NE(o.reason.find("CAD"), std::string::npos);
}

TEST_F(LedgerTest, NormaliserErrorBecomesFailedWithItsMessage) {
  EventOutcome o = ledger_->Decide(Event("orders/paid"),
                                   Result<NormalisedEvent>(InvalidArgument("malformed JSON")));
  EXPECT_EQ(o.status, EventStatus::kFailed);
  EXPECT_EQ(o.reason, "malformed JSON");
}

TEST_F(LedgerTest, CustomerEventRecordsIdentity) {
  EventOutcome o = ledger_->Decide(Event("customers/create"),
                                   NormalisedEvent(CustomerEvent{Customer{
                                       "706405506930370084", "bob@example.com", "Bob", "", {}}}));
  EXPECT_EQ(o.status, EventStatus::kProcessed);
  ASSERT_TRUE(o.customer.has_value());
  EXPECT_EQ(o.customer->platform_customer_id, "706405506930370084");
}

TEST_F(LedgerTest, CommitAppliesDecisionsOnce) {
  ASSERT_TRUE(
      storage_
          ->AppendToInbox({NewInboxEvent{"demo", "shopify", "orders/paid", "k1", "d1", "{}", 1},
                           NewInboxEvent{"demo", "shopify", "orders/paid", "k2", "d2", "{}", 2}})
          .ok());
  auto pending = storage_->LoadPendingEvents(0, 10);
  ASSERT_EQ(pending->size(), 2u);
  std::vector<EventOutcome> outcomes;
  for (const InboxEvent& e : *pending) {
    outcomes.push_back(
        ledger_->Decide(e, NormalisedEvent(OrderEvent{OrderEventKind::kPaid, PaidOrder()})));
  }
  ASSERT_TRUE(ledger_->Commit(outcomes).ok());
  auto customers = storage_->FindCustomersByEmail("bob@example.com");
  ASSERT_EQ(customers->size(), 1u);
  EXPECT_EQ((*customers)[0].points_balance, 49);  // the same order paid twice earns once
}

TEST_F(LedgerTest, WooCommerceOrderPaidAgainInALaterBatchEarnsOnce) {
  // WooCommerce reports "paid" as a status: order.updated at processing, then again at completed
  // (or the same delivery resent). Each is a kPaid event, committed in its own batch.
  Order order = PaidOrder();
  order.platform_order_id = "1234";
  order.customer.reset();  // a guest, keyed by the billing email
  order.email = "Guest@Example.com";
  for (const char* key : {"processing", "completed", "processing-resent"}) {
    ASSERT_TRUE(storage_
                    ->AppendToInbox(
                        {NewInboxEvent{"woo", "woocommerce", "order.updated", key, "d", "{}", 1}})
                    .ok());
    auto pending = storage_->LoadPendingEvents(0, 10);
    ASSERT_EQ(pending->size(), 1u);
    EventOutcome outcome =
        ledger_->Decide((*pending)[0], NormalisedEvent(OrderEvent{OrderEventKind::kPaid, order}));
    ASSERT_TRUE(ledger_->Commit({outcome}).ok());
  }
  auto customers = storage_->FindCustomersByEmail("guest@example.com");
  ASSERT_EQ(customers->size(), 1u);
  EXPECT_EQ((*customers)[0].points_balance, 49);
}

}  // namespace
}  // namespace loyaltyd
