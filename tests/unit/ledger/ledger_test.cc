#include "ledger/ledger.h"

#include <gtest/gtest.h>

#include "core/calendar.h"
#include "storage/sqlite_storage.h"
#include "support/temp_dir.h"

namespace loyaltyd::ledger_test {
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
  // Runs one event through the inbox, Decide and Commit in its own batch, as the processor does.
  void Process(const std::string& topic, OrderEventKind kind, const Order& order) {
    const std::string key = "event-" + std::to_string(++events_);
    ASSERT_TRUE(
        storage_->AppendToInbox({NewInboxEvent{"demo", "shopify", topic, key, key, "{}", 1}}).ok());
    auto pending = storage_->LoadPendingEvents(0, 10);
    ASSERT_TRUE(pending.ok());
    ASSERT_EQ(pending->size(), 1u);
    ASSERT_TRUE(
        ledger_->Commit({ledger_->Decide((*pending)[0], NormalisedEvent(OrderEvent{kind, order}))})
            .ok());
  }
  // Bob's balance, or -1 when he is not known yet.
  int64_t Balance() {
    auto customers = storage_->FindCustomersByEmail("bob@example.com");
    EXPECT_TRUE(customers.ok());
    return customers->size() == 1 ? (*customers)[0].points_balance : -1;
  }
  // Bob's ledger entries of one kind, oldest first.
  std::vector<LedgerEntryRecord> Entries(const std::string& kind) {
    std::vector<LedgerEntryRecord> out;
    auto customers = storage_->FindCustomersByEmail("bob@example.com");
    if (!customers.ok() || customers->size() != 1) return out;
    auto entries = storage_->ListLedger((*customers)[0].id, 0, 100);
    for (auto it = entries->rbegin(); it != entries->rend(); ++it) {
      if (it->kind == kind) out.push_back(*it);
    }
    return out;
  }

  Config config_;
  FixedClock clock_;
  testing::TempDir dir_;
  std::unique_ptr<SqliteStorage> storage_;
  std::unique_ptr<Ledger> ledger_;
  int events_ = 0;
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

// VIP tiers: Decide stays pure and offers the earn of every level; storage picks the one for the
// customer's tier when it applies the event (tests/unit/storage/sqlite_tiers_test.cc).
TEST_F(LedgerTest, PaidOrderOffersTheEarnOfEveryTierAndItsTierInputs) {
  TierLevel silver;
  silver.id = "silver";
  silver.name = "Silver";
  silver.threshold = 50000;
  silver.multiplier_bp = 12500;
  silver.membership = TierMembership{{}, {"CLUB"}, 365};
  config_.program.tiers.enabled = true;
  config_.program.tiers.levels = {silver};
  Ledger ledger(config_, *storage_, clock_);

  Order order = PaidOrder();
  LineItem club;
  club.quantity = 1;
  club.sku = "CLUB";
  club.gross_minor = 1000;
  order.line_items.push_back(club);
  order.customer->tags = {"wholesale"};
  InboxEvent event = Event("orders/paid");
  event.received_at_ms = 1'772'323'200'000;
  EventOutcome o = ledger.Decide(event, NormalisedEvent(OrderEvent{OrderEventKind::kPaid, order}));

  ASSERT_EQ(o.status, EventStatus::kProcessed) << o.reason;
  ASSERT_EQ(o.points.size(), 1u);
  EXPECT_EQ(o.points[0].points, 59);  // 59.99 at 1 per 1.00, no tier
  ASSERT_EQ(o.points_by_tier.count("silver"), 1u);
  ASSERT_EQ(o.points_by_tier["silver"].size(), 1u);
  EXPECT_EQ(o.points_by_tier["silver"][0].points, 73);  // 59 x 1.25 = 73.75, rounded down
  EXPECT_NE(o.points_by_tier["silver"][0].description.find("x1.25 Silver"), std::string::npos);
  ASSERT_EQ(o.tier_grants.size(), 1u);
  EXPECT_EQ(o.tier_grants[0].level_id, "silver");
  EXPECT_EQ(o.tier_grants[0].duration_ms, 365 * int64_t{86'400'000});
  ASSERT_TRUE(o.platform_tags.has_value());
  EXPECT_EQ(*o.platform_tags, std::vector<std::string>{"wholesale"});
  EXPECT_EQ(o.received_at_ms, event.received_at_ms);  // not the clock: replays decide the same
  EXPECT_NE(o.tiers, nullptr);

  // Without tiers nothing of this is set.
  EventOutcome plain =
      ledger_->Decide(event, NormalisedEvent(OrderEvent{OrderEventKind::kPaid, order}));
  EXPECT_TRUE(plain.points_by_tier.empty());
  EXPECT_TRUE(plain.tier_grants.empty());
  EXPECT_EQ(plain.tiers, nullptr);
}

// A campaign limited to tiers (program.campaigns[].tiers) reads EarnContext::tier_id: each level's
// earn in points_by_tier is computed with that level's id, so the campaign applies to the levels
// it names and to nothing else, and not to the no-tier earn.
TEST_F(LedgerTest, TierLimitedCampaignAppliesOnlyToTheEarnOfItsTiers) {
  TierLevel silver;
  silver.id = "silver";
  silver.name = "Silver";
  silver.threshold = 50000;
  silver.multiplier_bp = 12500;
  TierLevel gold;
  gold.id = "gold";
  gold.name = "Gold";
  gold.threshold = 150000;
  gold.multiplier_bp = 15000;
  config_.program.tiers.enabled = true;
  config_.program.tiers.levels = {silver, gold};
  CampaignConfig gold_days;
  gold_days.id = "gold-days";
  gold_days.name = "Gold days";
  gold_days.starts_at_ms = *ParseIso8601Millis("2026-11-27T00:00:00Z");
  gold_days.ends_at_ms = *ParseIso8601Millis("2026-12-01T00:00:00Z");
  gold_days.multiplier_basis_points = 20000;
  gold_days.tiers = {"gold"};
  CampaignConfig silver_bonus = gold_days;
  silver_bonus.id = "silver-bonus";
  silver_bonus.name = "Silver bonus";
  silver_bonus.multiplier_basis_points = 0;
  silver_bonus.bonus_points = 50;
  silver_bonus.tiers = {"silver"};
  config_.program.campaigns = {gold_days, silver_bonus};
  Ledger ledger(config_, *storage_, clock_);

  Order order = PaidOrder();
  order.created_at = "2026-11-28T10:00:00Z";  // inside both windows
  EventOutcome o = ledger.Decide(Event("orders/paid"),
                                 NormalisedEvent(OrderEvent{OrderEventKind::kPaid, order}));
  ASSERT_EQ(o.status, EventStatus::kProcessed) << o.reason;

  // No tier: neither campaign.
  ASSERT_EQ(o.points.size(), 1u);
  EXPECT_EQ(o.points[0].points, 49);  // 49.99 at 1 per 1.00
  // Silver: x1.25 and the silver bonus, not the gold multiplier.
  const std::vector<PointsChange>& s = o.points_by_tier.at("silver");
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].points, 61);  // 49 x 1.25 = 61.25, rounded down
  EXPECT_EQ(s[0].description.find("Gold days"), std::string::npos) << s[0].description;
  EXPECT_EQ(s[1].rule_id, "campaign:silver-bonus");
  EXPECT_EQ(s[1].points, 50);
  // Gold: x1.5 (73), then the gold campaign's 2x (146); no silver bonus.
  const std::vector<PointsChange>& g = o.points_by_tier.at("gold");
  ASSERT_EQ(g.size(), 1u);
  EXPECT_EQ(g[0].points, 146);
  EXPECT_NE(g[0].description.find("2x Gold days"), std::string::npos) << g[0].description;

  // With a hold, an order that earns only under a tier (here: only a tier's bonus) is held too.
  config_.program.earn.clear();
  config_.program.award.hold_days = 14;
  Ledger held(config_, *storage_, clock_);
  InboxEvent event = Event("orders/paid");
  event.received_at_ms = 1'772'323'200'000;
  EventOutcome h = held.Decide(event, NormalisedEvent(OrderEvent{OrderEventKind::kPaid, order}));
  ASSERT_EQ(h.status, EventStatus::kProcessed) << h.reason;
  EXPECT_TRUE(h.points.empty());
  ASSERT_EQ(h.points_by_tier.at("silver").size(), 1u);
  EXPECT_TRUE(h.points_by_tier.at("gold").empty());
  EXPECT_EQ(h.hold_until_ms, event.received_at_ms + 14 * int64_t{86'400'000});
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

// The first-order bonus: once ever per customer. "First" is the first paid order loyaltyd
// applies for the customer, not the earliest created_at: see docs/configuration.md.
class FirstOrderLedgerTest : public LedgerTest {
 protected:
  void SetUp() override {
    LedgerTest::SetUp();
    config_.program.earn.push_back(EarnRule{"first_order", EarnRuleType::kFirstOrder, 250});
  }
  // Stores a delivery under a fresh key, decides it as orders/paid for `order` and commits it.
  void Pay(const Order& order) {
    const std::string key = "delivery-" + std::to_string(++deliveries_);
    ASSERT_TRUE(
        storage_
            ->AppendToInbox({NewInboxEvent{"demo", "shopify", "orders/paid", key, key, "{}", 1}})
            .ok());
    auto pending = storage_->LoadPendingEvents(0, 10);
    ASSERT_TRUE(pending.ok());
    ASSERT_EQ(pending->size(), 1u);
    ASSERT_TRUE(ledger_
                    ->Commit({ledger_->Decide(
                        (*pending)[0], NormalisedEvent(OrderEvent{OrderEventKind::kPaid, order}))})
                    .ok());
  }
  static Order OrderNumbered(const std::string& id, const std::string& created_at) {
    Order o = PaidOrder();
    o.platform_order_id = id;
    o.name = "#" + id;
    o.created_at = created_at;
    return o;
  }
  CustomerRecord Bob() {
    auto customers = storage_->FindCustomersByEmail("bob@example.com");
    EXPECT_TRUE(customers.ok());
    EXPECT_EQ(customers->size(), 1u);
    return customers->empty() ? CustomerRecord{} : (*customers)[0];
  }
  std::vector<LedgerEntryRecord> Entries(const std::string& rule_id) {
    auto ledger = storage_->ListLedger(Bob().id, 0, 100);
    EXPECT_TRUE(ledger.ok());
    std::vector<LedgerEntryRecord> out;
    for (const LedgerEntryRecord& e : *ledger) {
      if (e.rule_id == rule_id) out.push_back(e);
    }
    return out;
  }

  int deliveries_ = 0;
};

TEST_F(FirstOrderLedgerTest, FirstPaidOrderEarnsTheBonusWithItsDescription) {
  Pay(OrderNumbered("1001", "2026-01-01T10:00:00Z"));
  EXPECT_EQ(Bob().points_balance, 49 + 250);
  const auto bonus = Entries("first_order");
  ASSERT_EQ(bonus.size(), 1u);
  EXPECT_EQ(bonus[0].points, 250);
  EXPECT_EQ(bonus[0].description, "first order bonus");
  EXPECT_EQ(bonus[0].order_platform_id, "1001");
}

TEST_F(FirstOrderLedgerTest, RedeliveredFirstOrderEarnsTheBonusOnce) {
  const Order order = OrderNumbered("1001", "2026-01-01T10:00:00Z");
  Pay(order);
  Pay(order);  // the same orders/paid under a new delivery id
  Pay(order);
  EXPECT_EQ(Bob().points_balance, 49 + 250);
  EXPECT_EQ(Entries("first_order").size(), 1u);
  EXPECT_EQ(Entries("spend").size(), 1u);
}

TEST_F(FirstOrderLedgerTest, SecondOrderEarnsSpendButNoBonus) {
  Pay(OrderNumbered("1001", "2026-01-01T10:00:00Z"));
  Pay(OrderNumbered("1002", "2026-02-01T10:00:00Z"));
  EXPECT_EQ(Bob().points_balance, 49 + 49 + 250);
  const auto bonus = Entries("first_order");
  ASSERT_EQ(bonus.size(), 1u);
  EXPECT_EQ(bonus[0].order_platform_id, "1001");
  EXPECT_EQ(Entries("spend").size(), 2u);
}

TEST_F(FirstOrderLedgerTest, OutOfOrderTheFirstOrderProcessedTakesTheBonus) {
  // #1002 (created later) is paid and processed before #1001's orders/paid arrives. The bonus
  // has been credited to #1002 and the customer may have spent it: loyaltyd never moves it, and
  // #1001 does not earn a second one.
  Pay(OrderNumbered("1002", "2026-01-01T10:05:00Z"));
  Pay(OrderNumbered("1001", "2026-01-01T10:00:00Z"));
  EXPECT_EQ(Bob().points_balance, 49 + 49 + 250);
  const auto bonus = Entries("first_order");
  ASSERT_EQ(bonus.size(), 1u);
  EXPECT_EQ(bonus[0].order_platform_id, "1002");
}

TEST_F(FirstOrderLedgerTest, BonusIsPerCustomer) {
  Pay(OrderNumbered("1001", ""));
  Order other = OrderNumbered("1002", "");
  other.customer = Customer{"9001", "ann@example.com", "Ann", "", {}};
  Pay(other);
  auto ann = storage_->FindCustomersByEmail("ann@example.com");
  ASSERT_EQ(ann->size(), 1u);
  EXPECT_EQ((*ann)[0].points_balance, 49 + 250);
  EXPECT_EQ(Bob().points_balance, 49 + 250);
}

TEST_F(LedgerTest, OrderBelowMinimumRecordsWhyItEarnedNothing) {
  config_.program.earn[0].minimum_order_minor = 5000;
  ASSERT_TRUE(
      storage_->AppendToInbox({NewInboxEvent{"demo", "shopify", "orders/paid", "m1", "d", "{}", 1}})
          .ok());
  auto pending = storage_->LoadPendingEvents(0, 10);
  ASSERT_EQ(pending->size(), 1u);
  EventOutcome outcome = ledger_->Decide(
      (*pending)[0], NormalisedEvent(OrderEvent{OrderEventKind::kPaid, PaidOrder()}));
  EXPECT_EQ(outcome.reason,
            "order paid; 0 point(s) earned; rule spend: no points: eligible spend of 49.99 USD is "
            "below the minimum order of 50.00 USD");
  ASSERT_TRUE(ledger_->Commit({outcome}).ok());
  auto customers = storage_->FindCustomersByEmail("bob@example.com");
  ASSERT_EQ(customers->size(), 1u);
  EXPECT_EQ((*customers)[0].points_balance, 0);
  auto ledger = storage_->ListLedger((*customers)[0].id, 0, 10);
  ASSERT_EQ(ledger->size(), 1u);
  EXPECT_EQ((*ledger)[0].points, 0);
  EXPECT_EQ((*ledger)[0].description,
            "no points: eligible spend of 49.99 USD is below the minimum order of 50.00 USD");
}

// --- Refunds: clawbacks (table-driven; storage does the arithmetic, so each case commits) ---

struct RefundStep {
  OrderEventKind kind;
  // refund id -> (line id, refunded subtotal); an empty id list sends no refund.
  std::vector<std::pair<std::string, std::vector<std::pair<std::string, int64_t>>>> refunds;
};

struct ClawbackCase {
  std::string name;
  std::vector<int64_t> line_prices;  // line ids "1", "2", ...; a negative price is a gift card
  std::vector<RefundStep> steps;     // after orders/paid
  int64_t earned;
  int64_t final_balance;
  std::vector<int64_t> clawbacks;  // points of the clawback entries, oldest first
};

class LedgerClawbackTest : public LedgerTest, public ::testing::WithParamInterface<ClawbackCase> {
 protected:
  static Order ThreeLineOrder(const std::vector<int64_t>& prices) {
    Order o = PaidOrder();
    o.line_items.clear();
    for (size_t i = 0; i < prices.size(); ++i) {
      LineItem line;
      line.platform_line_id = std::to_string(i + 1);
      line.quantity = 1;
      line.gross_minor = prices[i] < 0 ? -prices[i] : prices[i];
      line.is_gift_card = prices[i] < 0;
      o.line_items.push_back(line);
    }
    return o;
  }
};

Order WithRefunds(Order order, const RefundStep& step) {
  for (const auto& [id, lines] : step.refunds) {
    Refund refund;
    refund.platform_refund_id = id;
    for (const auto& [line_id, subtotal] : lines) {
      refund.lines.push_back(RefundLine{line_id, 1, subtotal, 0});
    }
    order.refunds.push_back(refund);
  }
  if (step.kind == OrderEventKind::kCancelled) order.cancelled = true;
  return order;
}

TEST_P(LedgerClawbackTest, ClawsBackItsShare) {
  const ClawbackCase& c = GetParam();
  const Order order = ThreeLineOrder(c.line_prices);
  Process("orders/paid", OrderEventKind::kPaid, order);
  ASSERT_EQ(Balance(), c.earned);
  // Each step's payload carries every refund so far, as Shopify's later order payloads do.
  Order so_far = order;
  for (const RefundStep& step : c.steps) {
    so_far = WithRefunds(so_far, step);
    const char* topic =
        step.kind == OrderEventKind::kCancelled ? "orders/cancelled" : "orders/updated";
    Process(topic, step.kind, so_far);
  }
  EXPECT_EQ(Balance(), c.final_balance);
  std::vector<int64_t> clawbacks;
  for (const LedgerEntryRecord& e : Entries("clawback")) clawbacks.push_back(e.points);
  EXPECT_EQ(clawbacks, c.clawbacks);
}

RefundStep Updated(
    std::vector<std::pair<std::string, std::vector<std::pair<std::string, int64_t>>>> refunds) {
  return RefundStep{OrderEventKind::kUpdated, std::move(refunds)};
}

INSTANTIATE_TEST_SUITE_P(
    Refunds, LedgerClawbackTest,
    ::testing::Values(
        ClawbackCase{"OneOfThreeLines",
                     {1000, 2000, 3000},
                     {Updated({{"r1", {{"2", 2000}}}})},
                     60,
                     40,
                     {-20}},
        ClawbackCase{"TwoPartialRefundsAddUp",
                     {1000, 2000, 3000},
                     {Updated({{"r1", {{"1", 1000}}}}), Updated({{"r2", {{"2", 2000}}}})},
                     60,
                     30,
                     {-10, -20}},
        ClawbackCase{"FullRefundNetsZero",
                     {1000, 2000, 3000},
                     {Updated({{"r1", {{"1", 1000}, {"2", 2000}, {"3", 3000}}}})},
                     60,
                     0,
                     {-60}},
        ClawbackCase{"CancellationAfterPartialRefundNetsZero",
                     {1000, 2000, 3000},
                     {Updated({{"r1", {{"3", 3000}}}}), RefundStep{OrderEventKind::kCancelled, {}}},
                     60,
                     0,
                     {-30, -30}},
        ClawbackCase{"GiftCardLineClawsNothingBack",
                     {1000, 2000, -5000},
                     {Updated({{"r1", {{"3", 5000}}}})},
                     30,
                     30,
                     {}},
        ClawbackCase{"RedeliveredRefundClawsBackOnce",
                     {1000, 2000, 3000},
                     {Updated({{"r1", {{"1", 1000}}}}), Updated({}), Updated({})},
                     60,
                     50,
                     {-10}},
        // 10 points over 3.33 + 3.33 + 3.34: shares of 3.33, 3.33, 3.34 would be 3.33 points
        // each; floor of the cumulative target gives 3, 3, 4 and the sum is exactly 10.
        ClawbackCase{"UnevenSharesStayExact",
                     {333, 333, 334},
                     {Updated({{"r1", {{"1", 333}}}}), Updated({{"r2", {{"2", 333}}}}),
                      Updated({{"r3", {{"3", 334}}}})},
                     10,
                     0,
                     {-3, -3, -4}},
        ClawbackCase{"UnevenPartialNeverExceedsTheShare",
                     {333, 333, 334},
                     {Updated({{"r1", {{"1", 333}}}}), Updated({{"r2", {{"2", 333}}}})},
                     10,
                     4,
                     {-3, -3}}),
    [](const ::testing::TestParamInfo<ClawbackCase>& info) { return info.param.name; });

TEST_F(LedgerTest, RefundBeforePaidEndsLikePaidThenRefund) {
  Order order = PaidOrder();
  order.line_items[0].platform_line_id = "1";
  LineItem second;
  second.platform_line_id = "2";
  second.quantity = 1;
  second.gross_minor = 2001;
  order.line_items.push_back(second);  // eligible 70.00: 70 points
  Order refund_only;
  refund_only.platform_order_id = order.platform_order_id;
  refund_only.refunds.push_back(Refund{"r1", "", {RefundLine{"2", 1, 2001, 0}}, 0});

  // A refunds/create that overtakes orders/paid is kept and applied when the order earns.
  Process("refunds/create", OrderEventKind::kRefunded, refund_only);
  EXPECT_EQ(Balance(), -1);  // nobody to take from yet
  Process("orders/paid", OrderEventKind::kPaid, order);
  const int64_t out_of_order = Balance();
  const std::vector<LedgerEntryRecord> clawbacks = Entries("clawback");

  // The same events in the usual order, for another order of another customer.
  storage_.reset();
  ledger_.reset();
  auto opened = SqliteStorage::Open(dir_.File("in-order.db"));
  ASSERT_TRUE(opened.ok());
  storage_ = std::move(opened).value();
  ledger_ = std::make_unique<Ledger>(config_, *storage_, clock_);
  Process("orders/paid", OrderEventKind::kPaid, order);
  Process("refunds/create", OrderEventKind::kRefunded, refund_only);
  EXPECT_EQ(Balance(), out_of_order);
  EXPECT_EQ(out_of_order, 70 - 20);  // floor(70 * 20.01 / 70.00)
  ASSERT_EQ(clawbacks.size(), 1u);
  EXPECT_EQ(clawbacks[0].refund_key, "r1");
}

TEST_F(LedgerTest, CancelledOrderThatWasNeverPaidRecordsTheFullRowAndCarriesThePolicy) {
  config_.program.refunds.allow_negative_balance = true;
  Order order = PaidOrder();
  order.cancelled = true;
  EventOutcome o = ledger_->Decide(Event("orders/cancelled"),
                                   NormalisedEvent(OrderEvent{OrderEventKind::kCancelled, order}));
  EXPECT_EQ(o.status, EventStatus::kProcessed);
  EXPECT_TRUE(o.allow_negative_balance);
  ASSERT_EQ(o.refunds.size(), 1u);
  EXPECT_EQ(o.refunds[0].refund_key, "full");
  EXPECT_TRUE(o.refunds[0].refunds_rest);
  // A late orders/paid (its payload taken before the cancellation) earns, and the recorded
  // cancellation takes it all back in the same transaction.
  Process("orders/cancelled", OrderEventKind::kCancelled, order);
  order.cancelled = false;
  Process("orders/paid", OrderEventKind::kPaid, order);
  EXPECT_EQ(Balance(), 0);
}

TEST_F(LedgerTest, WooCommerceRefundTotalClawsBackItsShareOfTheOrderTotal) {
  // WooCommerce's order payload has only each refund's total: 27.50 of a 55.00 order (49.99 of
  // merchandise) is half the eligible spend, 24.99, which is worth 24 of the 49 points.
  Order order = PaidOrder();
  Process("order.updated", OrderEventKind::kPaid, order);
  order.refunds.push_back(Refund{"71", "", {}, 2750});
  order.financial_status = FinancialStatus::kPartiallyRefunded;
  Process("order.updated", OrderEventKind::kPaid, order);
  EXPECT_EQ(Balance(), 49 - 24);
  order.financial_status = FinancialStatus::kRefunded;
  order.refunds.push_back(Refund{"72", "", {}, 2750});
  Process("order.updated", OrderEventKind::kCancelled, order);
  EXPECT_EQ(Balance(), 0);
}

// --- Award timing (program.award) ---

constexpr int64_t kDayMs = 86'400'000;
constexpr int64_t kReceived = 1'767'225'600'000;  // 2026-01-01T00:00:00Z

struct AwardStep {
  std::string topic;
  OrderEventKind kind;
  bool fulfilled;
  bool cancelled;
};
struct AwardCase {
  std::string name;
  AwardOn on;
  int hold_days;
  std::vector<AwardStep> steps;
  int64_t balance_before_release;
  int64_t pending_before_release;
  int64_t balance_after_release;  // after a release run 30 days on
  std::string last_reason;        // of the last step's event
};

TEST_F(LedgerTest, AwardTimingFollowsTheConfiguredAwardPointAndHold) {
  const AwardStep paid{"orders/paid", OrderEventKind::kPaid, false, false};
  const AwardStep fulfilled{"orders/fulfilled", OrderEventKind::kUpdated, true, false};
  const AwardStep woo_completed{"order.updated", OrderEventKind::kPaid, true, false};
  const AwardStep cancelled{"orders/cancelled", OrderEventKind::kCancelled, false, true};
  const std::vector<AwardCase> cases = {
      {"default: on payment, no hold",
       AwardOn::kPaid,
       0,
       {paid},
       49,
       0,
       49,
       "order paid; 49 point(s) earned"},
      {"on payment: fulfilment changes nothing",
       AwardOn::kPaid,
       0,
       {paid, fulfilled},
       49,
       0,
       49,
       "order recorded; orders/fulfilled changes no points"},
      {"on fulfilment: payment earns nothing yet",
       AwardOn::kFulfilled,
       0,
       {paid},
       0,
       0,
       0,
       "order paid; points are earned when it is fulfilled"},
      {"on fulfilment: Shopify orders/fulfilled earns",
       AwardOn::kFulfilled,
       0,
       {paid, fulfilled},
       49,
       0,
       49,
       "order fulfilled; 49 point(s) earned"},
      {"on fulfilment: WooCommerce completed earns",
       AwardOn::kFulfilled,
       0,
       {woo_completed},
       49,
       0,
       49,
       "order fulfilled; 49 point(s) earned"},
      {"hold: pending, then released",
       AwardOn::kPaid,
       14,
       {paid},
       0,
       49,
       49,
       "order paid; 49 point(s) earned; pending until 2026-01-15T00:00:00.000Z"},
      {"hold after fulfilment",
       AwardOn::kFulfilled,
       7,
       {paid, fulfilled},
       0,
       49,
       49,
       "order fulfilled; 49 point(s) earned; pending until 2026-01-08T01:00:00.000Z"},
      {"cancelled within the hold: voided",
       AwardOn::kPaid,
       14,
       {paid, cancelled},
       0,
       0,
       0,
       "order recorded; the order is cancelled or fully refunded: the points it earned are "
       "taken back"},
  };
  int n = 0;
  for (const AwardCase& c : cases) {
    SCOPED_TRACE(c.name);
    Config config = config_;
    config.program.award.on = c.on;
    config.program.award.hold_days = c.hold_days;
    testing::TempDir dir;
    auto opened = SqliteStorage::Open(dir.File("award.db"));
    ASSERT_TRUE(opened.ok());
    SqliteStorage& storage = **opened;
    Ledger ledger(config, storage, clock_);
    std::string reason;
    int64_t at = kReceived;
    for (const AwardStep& step : c.steps) {
      Order order = PaidOrder();
      order.fulfilled = step.fulfilled;
      order.cancelled = step.cancelled;
      const std::string key = "award-" + std::to_string(++n);
      ASSERT_TRUE(
          storage.AppendToInbox({NewInboxEvent{"demo", "shopify", step.topic, key, key, "{}", at}})
              .ok());
      auto pending = storage.LoadPendingEvents(0, 10);
      ASSERT_EQ(pending->size(), 1u);
      EventOutcome outcome =
          ledger.Decide((*pending)[0], NormalisedEvent(OrderEvent{step.kind, order}));
      reason = outcome.reason;
      ASSERT_TRUE(ledger.Commit({outcome}).ok());
      at += 3'600'000;  // the next step an hour later
    }
    EXPECT_EQ(reason, c.last_reason);
    auto bob = storage.FindCustomersByEmail("bob@example.com");
    ASSERT_EQ(bob->size(), 1u);
    const int64_t id = (*bob)[0].id;
    EXPECT_EQ((*storage.GetCustomer(id))->points_balance, c.balance_before_release);
    EXPECT_EQ(storage.GetPointsOutlook(id, kReceived)->pending_points, c.pending_before_release);
    ASSERT_TRUE(storage.ReleasePendingPoints(kReceived + 30 * kDayMs).ok());
    EXPECT_EQ((*storage.GetCustomer(id))->points_balance, c.balance_after_release);
  }
}

// --- Cashback: store credit earned with the points, clawed back by refunds ---

TEST_F(LedgerTest, PaidOrderEarnsCashbackInStoreCreditBesidePoints) {
  EarnRule cashback;
  cashback.id = "cashback";
  cashback.type = EarnRuleType::kCashback;
  cashback.percent_basis_points = 1000;
  config_.program.earn.push_back(cashback);

  auto event = Event("orders/paid");
  const EventOutcome outcome =
      ledger_->Decide(event, NormalisedEvent(OrderEvent{OrderEventKind::kPaid, PaidOrder()}));
  EXPECT_EQ(outcome.status, EventStatus::kProcessed);
  ASSERT_EQ(outcome.points.size(), 1u);
  EXPECT_EQ(outcome.points[0].points, 49);
  ASSERT_EQ(outcome.credits.size(), 1u);
  EXPECT_EQ(outcome.credits[0].rule_id, "cashback");
  EXPECT_EQ(outcome.credits[0].kind, "earn");
  EXPECT_EQ(outcome.credits[0].amount_minor, 499);  // 10% of 49.99, rounded down
  EXPECT_EQ(outcome.credits[0].currency, "USD");
  EXPECT_EQ(outcome.reason, "order paid; 49 point(s) earned; 4.99 USD store credit earned");

  // Committed twice (a redelivery): credited once; a half refund takes half back.
  Order order = PaidOrder();
  order.line_items[0].platform_line_id = "1";
  Process("orders/paid", OrderEventKind::kPaid, order);
  Process("orders/paid", OrderEventKind::kPaid, order);
  Order refund_only;
  refund_only.platform_order_id = order.platform_order_id;
  refund_only.refunds.push_back(Refund{"r1", "", {RefundLine{"1", 1, 2500, 0}}, 0});
  Process("refunds/create", OrderEventKind::kRefunded, refund_only);
  auto customers = storage_->FindCustomersByEmail("bob@example.com");
  ASSERT_EQ(customers->size(), 1u);
  EXPECT_EQ((*customers)[0].credit_balance_minor, 499 - 249);  // floor(499 * 25.00 / 49.99)
  EXPECT_EQ((*customers)[0].points_balance, 49 - 24);
}

TEST_F(LedgerTest, CashbackBelowItsMinimumSaysWhyAndBooksNothing) {
  EarnRule cashback;
  cashback.id = "cashback";
  cashback.type = EarnRuleType::kCashback;
  cashback.percent_basis_points = 1000;
  cashback.minimum_order_minor = 10000;
  config_.program.earn.push_back(cashback);
  const EventOutcome outcome = ledger_->Decide(
      Event("orders/paid"), NormalisedEvent(OrderEvent{OrderEventKind::kPaid, PaidOrder()}));
  EXPECT_TRUE(outcome.credits.empty());
  EXPECT_EQ(outcome.reason,
            "order paid; 49 point(s) earned; rule cashback: no credit: eligible spend of 49.99 "
            "USD is below the minimum order of 100.00 USD");
}

// Referrals: a paid order carries its attribution facts in precedence order, and the
// customer's identity keys; cancelled orders and unpaid events offer no attribution.
TEST_F(LedgerTest, PaidOrderOffersReferralFactsInPrecedenceOrder) {
  config_.program.referrals.enabled = true;
  config_.program.referrals.advocate_reward.is_points = true;
  config_.program.referrals.advocate_reward.points = 500;
  Ledger ledger(config_, *storage_, clock_);
  Order order = PaidOrder();
  order.created_at = "2026-11-24T10:00:00Z";
  order.discount_codes = {"FRIEND-ABC"};
  order.landing_site = "/products/x?utm=1&ref=LINK1";
  order.attributes = {{"gift_note", "hi"}, {"ref", "NOTE1"}, {"_ref", "HIDDEN"}};
  order.phone = "+1 (613) 612-0707";
  order.shipping_address = Address{"12 St. James's Sq", "", "London", "", "SW1Y 4LB", "GB"};
  EventOutcome paid = ledger.Decide(Event("orders/paid"),
                                    NormalisedEvent(OrderEvent{OrderEventKind::kPaid, order}));
  ASSERT_TRUE(paid.referrals);
  ASSERT_TRUE(paid.referral_order.has_value());
  const ReferralOrderFacts& facts = *paid.referral_order;
  std::vector<std::pair<std::string, std::string>> candidates;
  for (const ReferralCandidate& c : facts.candidates) candidates.emplace_back(c.code, c.source);
  // "_ref" counts for WooCommerce order meta only (plugins hide their meta behind '_').
  EXPECT_EQ(candidates,
            (std::vector<std::pair<std::string, std::string>>{{"FRIEND-ABC", "discount_code"},
                                                              {"LINK1", "landing_site"},
                                                              {"NOTE1", "note_attribute"}}));
  EXPECT_EQ(facts.friend_keys.email_key, "bob@example.com");
  EXPECT_EQ(facts.friend_keys.phone_key, "6136120707");
  EXPECT_EQ(facts.friend_keys.address_key, "12stjamesssq|SW1Y4LB|GB");
  EXPECT_EQ(facts.total_minor, 5500);
  EXPECT_EQ(facts.created_at_ms, ParseIso8601Millis("2026-11-24T10:00:00Z").value());

  InboxEvent woo = Event("order.updated");
  woo.platform = "woocommerce";
  EventOutcome woo_paid =
      ledger.Decide(woo, NormalisedEvent(OrderEvent{OrderEventKind::kPaid, order}));
  ASSERT_TRUE(woo_paid.referral_order.has_value());
  EXPECT_EQ(woo_paid.referral_order->candidates.back().code, "HIDDEN");
  EXPECT_EQ(woo_paid.referral_order->candidates.back().source, "order_meta");

  // Created (not paid) and cancelled orders leave identity keys only.
  EventOutcome created = ledger.Decide(
      Event("orders/create"), NormalisedEvent(OrderEvent{OrderEventKind::kCreated, order}));
  EXPECT_TRUE(created.identity_keys.has_value());
  EXPECT_FALSE(created.referral_order.has_value());
  order.cancelled = true;
  EventOutcome cancelled = ledger.Decide(Event("orders/paid"),
                                         NormalisedEvent(OrderEvent{OrderEventKind::kPaid, order}));
  EXPECT_FALSE(cancelled.referral_order.has_value());

  // Without a referral program nothing referral-related is attached.
  EventOutcome plain = ledger_->Decide(Event("orders/paid"),
                                       NormalisedEvent(OrderEvent{OrderEventKind::kPaid, order}));
  EXPECT_FALSE(plain.referrals);
  EXPECT_FALSE(plain.identity_keys.has_value());
}

}  // namespace
}  // namespace loyaltyd::ledger_test
