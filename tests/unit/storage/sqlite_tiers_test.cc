// VIP tiers in storage: evaluation inside the event's transaction, the "tier" ledger entry and
// update_tags job written once per change, the daily re-evaluation, keep_for and windows.
#include <gtest/gtest.h>

#include "ledger/config_tier_policy.h"
#include "rules/tier_rules.h"
#include "storage/sqlite_storage.h"
#include "support/temp_dir.h"

namespace loyaltyd::sqlite_tiers_test {
namespace {

constexpr int64_t kDay = kMillisPerDay;
constexpr int64_t kT0 = 1772323200000;  // 2026-03-01T00:00:00Z

Config TierConfig(int keep_days) {
  Config config;
  ShopConfig shop;
  shop.id = "demo";
  shop.api.configured = true;
  config.shops.push_back(shop);
  config.program.currency = "USD";
  TiersConfig& t = config.program.tiers;
  t.enabled = true;
  t.metric = TierMetric::kSpend;
  t.window_kind = TierWindowKind::kRolling;
  t.window_days = 365;
  t.keep_kind = TierKeepKind::kDays;
  t.keep_days = keep_days;
  TierLevel silver;
  silver.id = "silver";
  silver.name = "Silver";
  silver.threshold = 50000;
  silver.multiplier_bp = 12500;
  silver.tags = {"vip-silver"};
  TierLevel gold;
  gold.id = "gold";
  gold.name = "Gold";
  gold.threshold = 150000;
  gold.multiplier_bp = 15000;
  gold.tags = {"vip-gold"};
  gold.customer_tags = {"wholesale-gold"};
  t.levels = {silver, gold};
  return config;
}

class SqliteTiersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = SqliteStorage::Open(dir_.File("loyaltyd.db"));
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    storage_ = std::move(opened).value();
    UseConfig(30);
  }
  void UseConfig(int keep_days) {
    config_ = TierConfig(keep_days);
    policy_ = ConfigTierPolicy::FromConfig(config_);
  }
  int64_t Store() {
    const std::string key = "e" + std::to_string(++deliveries_);
    auto r = storage_->AppendToInbox(
        {NewInboxEvent{"demo", "shopify", "orders/paid", key, key, "{}", 1000}});
    EXPECT_TRUE(r.ok());
    auto pending = storage_->LoadPendingEvents(0, 1000);
    EXPECT_TRUE(pending.ok());
    return pending->back().id;
  }
  // A paid order of `eligible` minor units earning 1 point per 1.00, x the tier's multiplier.
  EventOutcome Paid(const std::string& order_id, int64_t eligible, int64_t at_ms,
                    const std::string& customer = "7001") {
    EventOutcome o;
    o.event_id = Store();
    o.reason = "paid";
    o.customer =
        CustomerIdentity{"demo", customer, "ada@example.com", "ada@example.com", "Ada", "Lovelace"};
    if (customer.empty()) o.customer->platform_customer_id.clear();
    o.order = OrderRecord{"demo", order_id, "#" + order_id, "USD", eligible, eligible, true, ""};
    const int64_t base = eligible / 100;
    o.points.push_back(PointsChange{"spend", "earn", base, "base"});
    for (const TierLevel& level : config_.program.tiers.levels) {
      o.points_by_tier[level.id].push_back(PointsChange{
          "spend", "earn", MulDivFloor(base, level.multiplier_bp, 10000), "x " + level.name});
    }
    o.tiers = policy_;
    o.received_at_ms = at_ms;
    return o;
  }
  EventOutcome FullRefund(const std::string& order_id, int64_t eligible, int64_t at_ms) {
    EventOutcome o = Paid(order_id, eligible, at_ms);
    o.order->paid = false;
    o.points.clear();
    o.points_by_tier.clear();
    o.refunds.push_back(RefundRecord{"full", 0, 0, true});
    return o;
  }
  int64_t CustomerId(const std::string& email = "ada@example.com") {
    auto found = storage_->FindCustomersByEmail(email);
    EXPECT_TRUE(found.ok() && !found->empty());
    return found->front().id;
  }
  std::vector<LedgerEntryRecord> TierEntries(int64_t customer_id) {
    std::vector<LedgerEntryRecord> out;
    auto ledger = storage_->ListLedger(customer_id, 0, 100);
    EXPECT_TRUE(ledger.ok());
    for (const LedgerEntryRecord& e : *ledger) {
      if (e.kind == "tier") out.push_back(e);
    }
    return out;
  }
  std::vector<OutboxJob> TagJobs() {
    std::vector<OutboxJob> out;
    auto jobs = storage_->ListJobs(std::nullopt, 0, 100);
    EXPECT_TRUE(jobs.ok());
    for (const OutboxJob& j : *jobs) {
      if (j.kind == "update_tags") out.push_back(j);
    }
    return out;
  }
  std::string Level() {
    auto tier = storage_->GetCustomerTier(CustomerId());
    EXPECT_TRUE(tier.ok());
    return tier->level_id;
  }

  testing::TempDir dir_;
  std::unique_ptr<SqliteStorage> storage_;
  Config config_;
  std::shared_ptr<const TierPolicy> policy_;
  int deliveries_ = 0;
};

TEST_F(SqliteTiersTest, TierChangeWritesOneEntryAndOneTagJob) {
  ASSERT_TRUE(storage_->CommitEventOutcomes({Paid("1", 30000, kT0)}, 5).ok());
  EXPECT_EQ(Level(), "");
  EventOutcome second = Paid("2", 30000, kT0 + kDay);
  ASSERT_TRUE(storage_->CommitEventOutcomes({second}, 6).ok());
  const int64_t id = CustomerId();

  auto tier = storage_->GetCustomerTier(id);
  ASSERT_TRUE(tier.ok());
  EXPECT_EQ(tier->level_id, "silver");
  EXPECT_EQ(tier->reached_at_ms, kT0 + kDay);  // the event's time, not the commit's
  EXPECT_EQ(tier->keep_until_ms, kT0 + 31 * kDay);

  std::vector<LedgerEntryRecord> entries = TierEntries(id);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].points, 0);
  EXPECT_EQ(entries[0].rule_id, "silver");
  EXPECT_EQ(entries[0].source_event_id, second.event_id);
  EXPECT_EQ(entries[0].description,
            "tier Silver reached: spend of 600.00 USD in the last 365 days (Silver from 500.00 "
            "USD); earn x1.25");
  EXPECT_EQ(entries[0].balance_after, 600);  // the second order earned before the change

  std::vector<OutboxJob> jobs = TagJobs();
  ASSERT_EQ(jobs.size(), 1u);
  auto update = storage_->GetTagUpdate(jobs[0].id);
  ASSERT_TRUE(update.ok() && update->has_value());
  EXPECT_EQ((*update)->platform_customer_id, "7001");
  EXPECT_EQ((*update)->add, std::vector<std::string>{"vip-silver"});
  EXPECT_EQ((*update)->remove, std::vector<std::string>{"vip-gold"});

  // A redelivered outcome (the event is no longer pending) and re-evaluations as of the same
  // moment change nothing.
  ASSERT_TRUE(storage_->CommitEventOutcomes({second}, 7).ok());
  auto changes = storage_->ReevaluateTiers(*policy_, kT0 + kDay);
  ASSERT_TRUE(changes.ok());
  EXPECT_EQ(*changes, 0);
  EXPECT_EQ(TierEntries(id).size(), 1u);
  EXPECT_EQ(TagJobs().size(), 1u);
}

// Two events of one customer in one batch: the second order earns with the tier the first one
// reached, although neither is committed when the batch is decided.
TEST_F(SqliteTiersTest, SecondEventInABatchEarnsWithTheTierTheFirstReached) {
  ASSERT_TRUE(
      storage_->CommitEventOutcomes({Paid("1", 60000, kT0), Paid("2", 4000, kT0 + 1)}, 5).ok());
  auto ledger = storage_->ListLedger(CustomerId(), 0, 10);
  ASSERT_TRUE(ledger.ok());
  int64_t second_order_points = -1;
  for (const LedgerEntryRecord& e : *ledger) {
    if (e.kind == "earn" && e.order_platform_id == "2") second_order_points = e.points;
  }
  EXPECT_EQ(second_order_points, 50);  // 40 x 1.25, not the base 40
  EXPECT_EQ(Level(), "silver");
}

// Award timing meets tiers: with a hold, the changes picked for the customer's tier are the ones
// held and later released (not the no-tier `points`); a tier change posts its 0-point entry
// through PostPoints without a lot and without counting as the customer's activity.
TEST_F(SqliteTiersTest, HeldAwardKeepsTheTierPointsAndTierEntriesMakeNoLot) {
  ASSERT_TRUE(storage_->CommitEventOutcomes({Paid("1", 60000, kT0)}, 5).ok());
  ASSERT_EQ(Level(), "silver");
  const int64_t id = CustomerId();
  auto lots = storage_->ListLots(id, false, 0, 10);
  ASSERT_TRUE(lots.ok());
  ASSERT_EQ(lots->size(), 1u);  // the order's 600 points; none for the tier entry
  EXPECT_EQ((*lots)[0].kind, "earn");
  ASSERT_EQ(TierEntries(id).size(), 1u);

  EventOutcome held = Paid("2", 4000, kT0 + kDay);
  held.hold_until_ms = kT0 + 15 * kDay;
  ASSERT_TRUE(storage_->CommitEventOutcomes({held}, 6).ok());
  auto balance = storage_->GetCustomer(id);
  ASSERT_TRUE(balance.ok() && balance->has_value());
  EXPECT_EQ((*balance)->points_balance, 600);  // nothing credited while held
  auto awards = storage_->ListPendingAwards(id, 10);
  ASSERT_TRUE(awards.ok());
  ASSERT_EQ(awards->size(), 1u);
  EXPECT_EQ((*awards)[0].points, 50);  // 40 x 1.25 for Silver, not the base 40

  auto released = storage_->ReleasePendingPoints(kT0 + 15 * kDay);
  ASSERT_TRUE(released.ok());
  EXPECT_EQ(released->points_released, 50);
  balance = storage_->GetCustomer(id);
  ASSERT_TRUE(balance.ok() && balance->has_value());
  EXPECT_EQ((*balance)->points_balance, 650);
}

TEST_F(SqliteTiersTest, DowngradeIsHeldUntilKeepForHasPassed) {
  ASSERT_TRUE(storage_->CommitEventOutcomes({Paid("1", 60000, kT0)}, 5).ok());
  ASSERT_TRUE(storage_->CommitEventOutcomes({FullRefund("1", 60000, kT0 + kDay)}, 6).ok());
  EXPECT_EQ(Level(), "silver");  // the refund leaves nothing in the window, but keep_for holds
  auto held = storage_->ReevaluateTiers(*policy_, kT0 + 29 * kDay);
  ASSERT_TRUE(held.ok());
  EXPECT_EQ(*held, 0);
  EXPECT_EQ(Level(), "silver");

  auto dropped = storage_->ReevaluateTiers(*policy_, kT0 + 30 * kDay);
  ASSERT_TRUE(dropped.ok());
  EXPECT_EQ(*dropped, 1);
  EXPECT_EQ(Level(), "");
  std::vector<LedgerEntryRecord> entries = TierEntries(CustomerId());
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].rule_id, "");  // newest first
  EXPECT_EQ(entries[0].source_event_id, 0);
  EXPECT_EQ(entries[0].description,
            "tier Silver ended: no level reached (spend of 0.00 USD in "
            "the window)");
  std::vector<OutboxJob> jobs = TagJobs();
  ASSERT_EQ(jobs.size(), 2u);
  auto update = storage_->GetTagUpdate(jobs[0].id);
  ASSERT_TRUE(update.ok() && update->has_value());
  EXPECT_TRUE((*update)->add.empty());
  EXPECT_EQ((*update)->remove, (std::vector<std::string>{"vip-silver", "vip-gold"}));
  // The older job sends the newest tags too: sent late, it cannot put Silver back.
  auto older = storage_->GetTagUpdate(jobs[1].id);
  ASSERT_TRUE(older.ok() && older->has_value());
  EXPECT_TRUE((*older)->add.empty());

  auto again = storage_->ReevaluateTiers(*policy_, kT0 + 30 * kDay);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 0);
  EXPECT_EQ(TagJobs().size(), 2u);
}

TEST_F(SqliteTiersTest, WindowRollOffDowngradesAfterKeepFor) {
  ASSERT_TRUE(storage_->CommitEventOutcomes({Paid("1", 60000, kT0)}, 5).ok());
  // Day 360: the order is still in the window, which confirms Silver until day 390.
  ASSERT_TRUE(storage_->ReevaluateTiers(*policy_, kT0 + 360 * kDay).ok());
  auto tier = storage_->GetCustomerTier(CustomerId());
  ASSERT_TRUE(tier.ok());
  EXPECT_EQ(tier->reached_at_ms, kT0);
  EXPECT_EQ(tier->keep_until_ms, kT0 + 390 * kDay);
  // Day 370: the order has left the 365-day window; Silver is kept.
  auto kept = storage_->ReevaluateTiers(*policy_, kT0 + 370 * kDay);
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(*kept, 0);
  EXPECT_EQ(Level(), "silver");
  // Day 390: keep_for has passed.
  auto dropped = storage_->ReevaluateTiers(*policy_, kT0 + 390 * kDay);
  ASSERT_TRUE(dropped.ok());
  EXPECT_EQ(*dropped, 1);
  EXPECT_EQ(Level(), "");
}

TEST_F(SqliteTiersTest, OrdersBeforeTiersWereConfiguredCountOnceTheyAre) {
  EventOutcome before = Paid("1", 60000, kT0);
  before.tiers = nullptr;  // no program.tiers yet
  before.points_by_tier.clear();
  ASSERT_TRUE(storage_->CommitEventOutcomes({before}, 5).ok());
  EXPECT_EQ(Level(), "");
  EXPECT_TRUE(TierEntries(CustomerId()).empty());
  // Tiers configured: the first re-evaluation finds the order in the window.
  auto changes = storage_->ReevaluateTiers(*policy_, kT0 + kDay);
  ASSERT_TRUE(changes.ok());
  EXPECT_EQ(*changes, 1);
  EXPECT_EQ(Level(), "silver");
}

TEST_F(SqliteTiersTest, GuestsGetTiersButNoTagJob) {
  ASSERT_TRUE(storage_->CommitEventOutcomes({Paid("1", 60000, kT0, /*customer=*/"")}, 5).ok());
  EXPECT_EQ(Level(), "silver");
  EXPECT_EQ(TierEntries(CustomerId()).size(), 1u);
  EXPECT_TRUE(TagJobs().empty());
}

TEST_F(SqliteTiersTest, MembershipAndPlatformTagGrantLevels) {
  EventOutcome membership = Paid("1", 1000, kT0);
  membership.tier_grants.push_back(TierGrant{"gold", 10 * kDay});
  ASSERT_TRUE(storage_->CommitEventOutcomes({membership}, 5).ok());
  EXPECT_EQ(Level(), "gold");
  // The membership ends on day 10; keep_for (30 days from its last confirmation) follows.
  ASSERT_TRUE(storage_->ReevaluateTiers(*policy_, kT0 + 9 * kDay).ok());
  ASSERT_TRUE(storage_->ReevaluateTiers(*policy_, kT0 + 38 * kDay).ok());
  EXPECT_EQ(Level(), "gold");
  ASSERT_TRUE(storage_->ReevaluateTiers(*policy_, kT0 + 39 * kDay).ok());
  EXPECT_EQ(Level(), "");

  // A customers/update carrying the wholesale tag grants Gold; removing the tag ends it (after
  // keep_for).
  EventOutcome tagged;
  tagged.event_id = Store();
  tagged.reason = "customer recorded";
  tagged.customer = CustomerIdentity{"demo", "7001", "", "", "", ""};
  tagged.platform_tags = std::vector<std::string>{"newsletter", "wholesale-gold"};
  tagged.tiers = policy_;
  tagged.received_at_ms = kT0 + 40 * kDay;
  ASSERT_TRUE(storage_->CommitEventOutcomes({tagged}, 6).ok());
  EXPECT_EQ(Level(), "gold");
  auto facts = storage_->LoadTierFacts(CustomerId(), 0, kT0 + 40 * kDay);
  ASSERT_TRUE(facts.ok());
  EXPECT_EQ(facts->platform_tags, (std::vector<std::string>{"newsletter", "wholesale-gold"}));
}

}  // namespace
}  // namespace loyaltyd::sqlite_tiers_test
