// Reports in storage, against a real SQLite file: a ledger, lots and tier history constructed
// row by row, with every expected figure worked out by hand below (earned / redeemed / expired
// by month, outstanding and expiring points, the customer report's pages, tier distribution and
// movement); and tier_changes written where tiers change (event processing, daily run).
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "ledger/config_tier_policy.h"
#include "rules/tier_rules.h"
#include "storage/sqlite_storage.h"
#include "support/temp_dir.h"

namespace loyaltyd::sqlite_reports_test {
namespace {

constexpr int64_t kDay = 86'400'000;
constexpr int64_t kJan1 = 1767225600000;     // 2026-01-01T00:00:00Z
constexpr int64_t kFeb1 = 1769904000000;     // 2026-02-01T00:00:00Z
constexpr int64_t kMar1 = 1772323200000;     // 2026-03-01T00:00:00Z
constexpr int64_t kApr1 = 1775001600000;     // 2026-04-01T00:00:00Z
constexpr int64_t kNow = kMar1 + 14 * kDay;  // 2026-03-15T00:00:00Z

class SqliteReportsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = SqliteStorage::Open(dir_.File("loyaltyd.db"));
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    storage_ = std::move(opened).value();
    // A second connection writes the constructed rows, as any other writer of the file would;
    // one for the whole test, whose rows use last_insert_rowid() of the statement before.
    ASSERT_EQ(sqlite3_open(dir_.File("loyaltyd.db").c_str(), &raw_), SQLITE_OK);
    sqlite3_busy_timeout(raw_, 5000);
  }
  void TearDown() override { sqlite3_close(raw_); }

  void Sql(const std::string& sql) {
    char* error = nullptr;
    ASSERT_EQ(sqlite3_exec(raw_, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK)
        << (error ? error : "") << "\n"
        << sql;
  }
  void Customer(int64_t id, const std::string& email, int64_t balance = 0, int64_t credit = 0) {
    Sql("INSERT INTO customers (id, shop_id, platform_customer_id, email, email_normalised, "
        "first_name, last_name, points_balance, credit_balance_minor, created_at_ms, "
        "updated_at_ms) VALUES (" +
        std::to_string(id) + ", 'demo', '" + std::to_string(9000 + id) + "', '" + email + "', '" +
        email + "', 'First" + std::to_string(id) + "', 'Last', " + std::to_string(balance) + ", " +
        std::to_string(credit) + ", " + std::to_string(kJan1 + id) + ", 0)");
  }
  void Entry(int64_t customer, const std::string& kind, int64_t points, int64_t at_ms) {
    Sql("INSERT INTO ledger_entries (customer_id, rule_id, kind, points, balance_after, "
        "description, created_at_ms) VALUES (" +
        std::to_string(customer) + ", 'r', '" + kind + "', " + std::to_string(points) +
        ", 0, 'test', " + std::to_string(at_ms) + ")");
  }
  // A lot needs its own ledger entry (ledger_entry_id is unique).
  void Lot(int64_t customer, int64_t points, int64_t remaining, int64_t expires_at_ms) {
    Entry(customer, "earn", 0, kJan1 - 400 * kDay);  // before every report month
    Sql("INSERT INTO point_lots (customer_id, ledger_entry_id, points, remaining, earned_at_ms, "
        "expires_at_ms) VALUES (" +
        std::to_string(customer) + ", last_insert_rowid(), " + std::to_string(points) + ", " +
        std::to_string(remaining) + ", 0, " + std::to_string(expires_at_ms) + ")");
  }
  void Order(int64_t id, int64_t customer, int64_t total, bool paid, const std::string& currency,
             const std::string& created_at) {
    Sql("INSERT INTO orders (id, shop_id, platform_order_id, customer_id, currency, total_minor, "
        "eligible_minor, paid, created_at, updated_at_ms) VALUES (" +
        std::to_string(id) + ", 'demo', 'o" + std::to_string(id) + "', " +
        std::to_string(customer) + ", '" + currency + "', " + std::to_string(total) + ", " +
        std::to_string(total) + ", " + (paid ? "1" : "0") + ", '" + created_at + "', 0)");
  }
  void Referral(int64_t referrer, const std::string& friend_key, const std::string& status) {
    Sql("INSERT INTO referrals (referrer_customer_id, shop_id, friend_email, friend_key, source, "
        "status, identified_at_ms, window_ends_at_ms, created_at_ms, updated_at_ms) VALUES (" +
        std::to_string(referrer) + ", 'demo', '" + friend_key + "', '" + friend_key +
        "', 'self_identified', '" + status + "', 0, 0, 0, 0)");
  }
  void Tier(int64_t customer, const std::string& level, int64_t reached_at_ms) {
    Sql("INSERT INTO customer_tiers (customer_id, level_id, reached_at_ms, updated_at_ms) VALUES "
        "(" +
        std::to_string(customer) + ", '" + level + "', " + std::to_string(reached_at_ms) + ", 0)");
  }
  void Change(int64_t customer, const std::string& from, const std::string& to,
              const std::string& direction, int64_t at_ms) {
    Sql("INSERT INTO tier_changes (customer_id, from_level_id, to_level_id, direction, "
        "changed_at_ms, created_at_ms) VALUES (" +
        std::to_string(customer) + ", '" + from + "', '" + to + "', '" + direction + "', " +
        std::to_string(at_ms) + ", 0)");
  }

  testing::TempDir dir_;
  std::unique_ptr<SqliteStorage> storage_;
  sqlite3* raw_ = nullptr;
};

TEST(ReportMonthsTest, MonthsAreUtcCalendarMonthsAcrossAYearEnd) {
  const std::vector<ReportMonth> months = ReportMonths(2025, 11, 2026, 2);
  ASSERT_EQ(months.size(), 4u);
  EXPECT_EQ(months[0].label, "2025-11");
  EXPECT_EQ(months[1].label, "2025-12");
  EXPECT_EQ(months[2].label, "2026-01");
  EXPECT_EQ(months[3].label, "2026-02");
  EXPECT_EQ(months[2].starts_at_ms, kJan1);
  EXPECT_EQ(months[2].next_starts_at_ms, kFeb1);
  EXPECT_EQ(months[3].next_starts_at_ms, kMar1);
  EXPECT_EQ(months[1].next_starts_at_ms, months[2].starts_at_ms);
  EXPECT_TRUE(ReportMonths(2026, 3, 2026, 2).empty());
}

TEST(LedgerKindCategoryTest, EveryKindTheLedgerWritesHasItsCategory) {
  EXPECT_EQ(LedgerKindCategory("earn"), LedgerCategory::kEarned);
  EXPECT_EQ(LedgerKindCategory("action"), LedgerCategory::kEarned);
  EXPECT_EQ(LedgerKindCategory("referral"), LedgerCategory::kEarned);
  EXPECT_EQ(LedgerKindCategory("redeem"), LedgerCategory::kRedeemed);
  EXPECT_EQ(LedgerKindCategory("refund"), LedgerCategory::kRedeemed);
  EXPECT_EQ(LedgerKindCategory("expire"), LedgerCategory::kExpired);
  EXPECT_EQ(LedgerKindCategory("clawback"), LedgerCategory::kClawedBack);
  EXPECT_EQ(LedgerKindCategory("tier"), LedgerCategory::kNone);
  EXPECT_EQ(LedgerKindCategory("adjustment"), LedgerCategory::kAdjusted);
  EXPECT_EQ(LedgerKindCategory("opening_balance"), LedgerCategory::kAdjusted);
}

TEST_F(SqliteReportsTest, LedgerByMonthSumsEachCategoryInItsUtcMonth) {
  Customer(1, "ada@example.com");
  Customer(2, "bob@example.com");
  // Outside the months asked for: the last millisecond of December and the first of April.
  Entry(1, "earn", 1000, kJan1 - 1);
  Entry(1, "earn", 999, kApr1);
  // January: earned 100 + 20 + 5 + 3 = 128 (the last one on its last millisecond).
  Entry(1, "earn", 100, kJan1 + 4 * kDay);
  Entry(1, "action", 20, kJan1 + 19 * kDay);
  Entry(1, "earn", 5, kFeb1 - 1);
  Entry(2, "referral", 3, kJan1);
  // February: redeemed 50, of which 10 came back (a failed reward): 40; earned 30; the tier
  // entry counts as an entry but moves no points.
  Entry(1, "redeem", -50, kFeb1);
  Entry(1, "refund", 10, kFeb1 + 9 * kDay);
  Entry(2, "referral", 30, kFeb1 + 14 * kDay);
  Entry(1, "tier", 0, kFeb1 + 19 * kDay);
  // March: expired 25 + 5 = 30, clawed back 15, adjusted +7 - 2 = 5 (a kind the report does
  // not know is an adjustment).
  Entry(1, "expire", -25, kMar1);
  Entry(2, "expire", -5, kMar1 + kDay);
  Entry(1, "clawback", -15, kMar1 + kDay);
  Entry(1, "adjustment", 7, kMar1 + 2 * kDay);
  Entry(2, "adjustment", -2, kApr1 - 1);

  LiabilityQuery query;
  query.now_ms = kNow;
  query.months = ReportMonths(2026, 1, 2026, 3);
  auto report = storage_->LiabilityReport(query);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_EQ(report->months.size(), 3u);

  const LedgerMonthRow& jan = report->months[0];
  EXPECT_EQ(jan.month.label, "2026-01");
  EXPECT_EQ(jan.earned, 128);
  EXPECT_EQ(jan.redeemed, 0);
  EXPECT_EQ(jan.expired, 0);
  EXPECT_EQ(jan.clawed_back, 0);
  EXPECT_EQ(jan.adjusted, 0);
  EXPECT_EQ(jan.entries, 4);
  EXPECT_EQ(jan.points_by_kind,
            (std::map<std::string, int64_t>{{"action", 20}, {"earn", 105}, {"referral", 3}}));

  const LedgerMonthRow& feb = report->months[1];
  EXPECT_EQ(feb.earned, 30);
  EXPECT_EQ(feb.redeemed, 40);
  EXPECT_EQ(feb.expired, 0);
  EXPECT_EQ(feb.entries, 4);
  EXPECT_EQ(feb.points_by_kind.at("tier"), 0);
  EXPECT_EQ(feb.points_by_kind.at("redeem"), -50);
  EXPECT_EQ(feb.points_by_kind.at("refund"), 10);

  const LedgerMonthRow& mar = report->months[2];
  EXPECT_EQ(mar.earned, 0);
  EXPECT_EQ(mar.redeemed, 0);
  EXPECT_EQ(mar.expired, 30);
  EXPECT_EQ(mar.clawed_back, 15);
  EXPECT_EQ(mar.adjusted, 5);
  EXPECT_EQ(mar.entries, 5);
}

TEST_F(SqliteReportsTest, OpenPointsAndExpiringBucketsComeFromOpenLots) {
  Customer(1, "ada@example.com");
  Customer(2, "bob@example.com");
  Lot(1, 50, 40, kNow + 10 * kDay);      // within 30, 60, 90 days
  Lot(1, 60, 60, kNow + 30 * kDay);      // exactly 30 days out: within 30 (the bound is included)
  Lot(2, 90, 70, kNow + 45 * kDay);      // within 60, 90
  Lot(2, 80, 80, kNow + 90 * kDay + 1);  // a millisecond past 90 days: in no bucket
  Lot(2, 30, 0, kNow + 5 * kDay);        // used up: not open
  Lot(1, 15, 15, 0);                     // never expires
  Lot(2, 5, 5, kNow - kDay);             // due, not yet expired by the expiry run: in every bucket
  Sql("INSERT INTO orders (id, shop_id, platform_order_id, customer_id, currency, total_minor, "
      "eligible_minor, updated_at_ms) VALUES (1, 'demo', 'o1', 1, 'USD', 0, 0, 0)");
  Sql("INSERT INTO pending_awards (order_id, customer_id, rule_id, points, description, "
      "awarded_at_ms, release_at_ms, status) VALUES (1, 1, 'a', 12, 'held', 0, 0, 'pending'), "
      "(1, 1, 'b', 99, 'released', 0, 0, 'released')");

  LiabilityQuery query;
  query.now_ms = kNow;
  query.expiring_within_ms = {30 * kDay, 60 * kDay, 90 * kDay};
  auto report = storage_->LiabilityReport(query);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  // 40 + 60 + 70 + 80 + 15 + 5
  EXPECT_EQ(report->outstanding_points, 270);
  EXPECT_EQ(report->open_lots, 6);
  EXPECT_EQ(report->never_expiring_points, 15);
  // 30 days: 40 + 60 + 5; 60 days: + 70; 90 days: the same (80 is a millisecond later).
  EXPECT_EQ(report->expiring_points, (std::vector<int64_t>{105, 175, 175}));
  EXPECT_EQ(report->pending_points, 12);
  EXPECT_TRUE(report->months.empty());
}

TEST_F(SqliteReportsTest, CustomerReportPagesNewestFirstWithEachCustomersFigures) {
  Customer(1, "ada@example.com", 120, 490);
  Customer(2, "bob@example.com", -30, 0);
  Customer(3, "cleo@example.com", 0, 0);
  Tier(1, "gold", kFeb1);
  Tier(3, "", 0);  // a row with tags only: no tier
  // Ada: two paid USD orders and one in EUR (counted, not summed), one unpaid. The later of the
  // paid ones is the one with the smaller text: 10:00-05:00 is 15:00Z, after 14:00Z.
  Order(1, 1, 4900, true, "USD", "2026-02-01T10:00:00-05:00");
  Order(2, 1, 1000, true, "USD", "2026-02-01T14:00:00Z");
  Order(3, 1, 700, true, "EUR", "2026-01-05T00:00:00Z");
  Order(4, 1, 99999, false, "USD", "2026-03-01T00:00:00Z");
  Order(5, 2, 2500, true, "USD", "");  // no created_at: counted, no last order date
  Referral(1, "f1", "converted");
  Referral(1, "f2", "converted");
  Referral(1, "f3", "pending");
  Referral(2, "f4", "rejected");

  CustomerReportQuery query;
  query.limit = 2;
  query.currency = "USD";
  auto first = storage_->CustomerReport(query);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_EQ(first->size(), 2u);
  EXPECT_EQ((*first)[0].customer_id, 3);
  EXPECT_EQ((*first)[0].tier_level_id, "");
  EXPECT_EQ((*first)[0].paid_orders, 0);
  EXPECT_EQ((*first)[0].last_order_at_ms, 0);
  const CustomerReportRow& bob = (*first)[1];
  EXPECT_EQ(bob.customer_id, 2);
  EXPECT_EQ(bob.points_balance, -30);
  EXPECT_EQ(bob.referrals_converted, 0);
  EXPECT_EQ(bob.paid_orders, 1);
  EXPECT_EQ(bob.paid_total_minor, 2500);
  EXPECT_EQ(bob.last_order_at_ms, 0);
  EXPECT_EQ(bob.tier_level_id, "");

  query.before_id = 2;
  auto second = storage_->CustomerReport(query);
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->size(), 1u);
  const CustomerReportRow& ada = (*second)[0];
  EXPECT_EQ(ada.customer_id, 1);
  EXPECT_EQ(ada.email, "ada@example.com");
  EXPECT_EQ(ada.platform_customer_id, "9001");
  EXPECT_EQ(ada.first_name, "First1");
  EXPECT_EQ(ada.tier_level_id, "gold");
  EXPECT_EQ(ada.tier_reached_at_ms, kFeb1);
  EXPECT_EQ(ada.points_balance, 120);
  EXPECT_EQ(ada.credit_balance_minor, 490);
  EXPECT_EQ(ada.referrals_converted, 2);
  EXPECT_EQ(ada.paid_orders, 3);
  EXPECT_EQ(ada.paid_total_minor, 4900 + 1000);
  EXPECT_EQ(ada.last_order_at_ms, kFeb1 + 15 * 3'600'000);
  EXPECT_EQ(ada.created_at_ms, kJan1 + 1);

  query.before_id = 1;
  auto empty = storage_->CustomerReport(query);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST_F(SqliteReportsTest, TierDistributionAndMovementCountDistinctCustomersPerMonth) {
  for (int64_t id = 1; id <= 6; ++id) Customer(id, "c" + std::to_string(id) + "@example.com");
  Tier(1, "gold", 0);
  Tier(2, "silver", 0);
  Tier(3, "silver", 0);
  Tier(4, "", 0);
  // Customers 5 and 6 have no tier row: no tier.
  // February: customer 1 goes "" -> silver -> gold; 2 goes "" -> silver; 3 goes gold -> silver
  // (had gold before the months asked for).
  Change(3, "", "gold", "up", kJan1 - 1);
  Change(1, "", "silver", "up", kFeb1);
  Change(1, "silver", "gold", "up", kFeb1 + kDay);
  Change(2, "", "silver", "up", kFeb1 + 2 * kDay);
  Change(3, "gold", "silver", "down", kMar1 - 1);
  // March: customer 2 drops out of silver and comes back twice; 4 loses gold (a level the
  // config no longer orders: no direction).
  Change(2, "silver", "", "down", kMar1);
  Change(2, "", "silver", "up", kMar1 + kDay);
  Change(2, "silver", "", "down", kMar1 + 2 * kDay);
  Change(2, "", "silver", "up", kMar1 + 3 * kDay);
  Change(4, "platinum", "", "", kMar1 + 4 * kDay);

  auto report = storage_->TierReport(ReportMonths(2026, 1, 2026, 3));
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->customers, 6);
  ASSERT_EQ(report->levels.size(), 3u);
  EXPECT_EQ(report->levels[0].level_id, "");
  EXPECT_EQ(report->levels[0].customers, 3);  // 4 (empty level), 5 and 6 (no row)
  EXPECT_EQ(report->levels[1].level_id, "gold");
  EXPECT_EQ(report->levels[1].customers, 1);
  EXPECT_EQ(report->levels[2].level_id, "silver");
  EXPECT_EQ(report->levels[2].customers, 2);

  std::map<std::pair<std::string, std::string>, TierMovementRow> rows;
  for (const TierMovementRow& r : report->movement) rows[{r.month, r.level_id}] = r;
  // January had no change in it (the one before is a millisecond earlier).
  for (const TierMovementRow& r : report->movement) EXPECT_NE(r.month, "2026-01");
  ASSERT_EQ(rows.size(), 6u);

  const TierMovementRow& feb_none = rows[{"2026-02", ""}];
  EXPECT_EQ(feb_none.left, 2);  // 1 and 2 left "no tier"
  EXPECT_EQ(feb_none.upgraded_out, 2);
  EXPECT_EQ(feb_none.entered, 0);
  const TierMovementRow& feb_silver = rows[{"2026-02", "silver"}];
  EXPECT_EQ(feb_silver.entered, 3);  // 1 and 2 from below, 3 from gold
  EXPECT_EQ(feb_silver.upgraded_in, 2);
  EXPECT_EQ(feb_silver.downgraded_in, 1);
  EXPECT_EQ(feb_silver.left, 1);  // 1, on to gold
  EXPECT_EQ(feb_silver.upgraded_out, 1);
  EXPECT_EQ(feb_silver.downgraded_out, 0);
  const TierMovementRow& feb_gold = rows[{"2026-02", "gold"}];
  EXPECT_EQ(feb_gold.entered, 1);
  EXPECT_EQ(feb_gold.upgraded_in, 1);
  EXPECT_EQ(feb_gold.left, 1);  // 3
  EXPECT_EQ(feb_gold.downgraded_out, 1);

  // March: customer 2 counts once per level and direction however often they moved.
  const TierMovementRow& mar_silver = rows[{"2026-03", "silver"}];
  EXPECT_EQ(mar_silver.entered, 1);
  EXPECT_EQ(mar_silver.upgraded_in, 1);
  EXPECT_EQ(mar_silver.left, 1);
  EXPECT_EQ(mar_silver.downgraded_out, 1);
  const TierMovementRow& mar_none = rows[{"2026-03", ""}];
  EXPECT_EQ(mar_none.entered, 2);        // 2 and 4
  EXPECT_EQ(mar_none.downgraded_in, 1);  // 4's change has no direction
  EXPECT_EQ(mar_none.upgraded_out, 1);
  const TierMovementRow& mar_platinum = rows[{"2026-03", "platinum"}];
  EXPECT_EQ(mar_platinum.left, 1);
  EXPECT_EQ(mar_platinum.upgraded_out + mar_platinum.downgraded_out, 0);
}

// tier_changes is written where the tier changes: by event processing and by the daily run.
Config TierConfig() {
  Config config;
  ShopConfig shop;
  shop.id = "demo";
  config.shops.push_back(shop);
  config.program.currency = "USD";
  TiersConfig& t = config.program.tiers;
  t.enabled = true;
  t.metric = TierMetric::kSpend;
  t.window_kind = TierWindowKind::kRolling;
  t.window_days = 30;
  t.keep_kind = TierKeepKind::kDays;
  t.keep_days = 0;
  TierLevel silver;
  silver.id = "silver";
  silver.name = "Silver";
  silver.threshold = 50000;
  TierLevel gold;
  gold.id = "gold";
  gold.name = "Gold";
  gold.threshold = 150000;
  t.levels = {silver, gold};
  return config;
}

TEST_F(SqliteReportsTest, TierChangesAreRecordedByEventsAndByTheDailyRun) {
  const Config config = TierConfig();
  std::shared_ptr<const TierPolicy> policy = ConfigTierPolicy::FromConfig(config);
  int deliveries = 0;
  auto paid = [&](const std::string& order_id, int64_t eligible, int64_t at_ms) {
    const std::string key = "e" + std::to_string(++deliveries);
    auto stored = storage_->AppendToInbox(
        {NewInboxEvent{"demo", "shopify", "orders/paid", key, key, "{}", at_ms}});
    EXPECT_TRUE(stored.ok());
    auto pending = storage_->LoadPendingEvents(0, 1000);
    EXPECT_TRUE(pending.ok() && !pending->empty());
    EventOutcome o;
    o.event_id = pending->back().id;
    o.reason = "paid";
    o.customer = CustomerIdentity{"demo", "7001", "ada@example.com", "ada@example.com", "Ada", "L"};
    o.order = OrderRecord{"demo", order_id, "#" + order_id, "USD", eligible, eligible, true, ""};
    o.points.push_back(PointsChange{"spend", "earn", eligible / 100, "base"});
    o.tiers = policy;
    o.received_at_ms = at_ms;
    return o;
  };
  // 600.00 on Feb 1: silver. 1,000.00 more on Feb 3: gold (1,600.00 in the window).
  ASSERT_TRUE(storage_->CommitEventOutcomes({paid("1", 60000, kFeb1)}, kFeb1 + 5).ok());
  ASSERT_TRUE(storage_->CommitEventOutcomes({paid("2", 100000, kFeb1 + 2 * kDay)}, kFeb1).ok());
  // The 30-day window passes without orders: the daily run of Mar 10 drops the customer to no
  // tier (keep_days 0).
  auto changed = storage_->ReevaluateTiers(*policy, kMar1 + 9 * kDay);
  ASSERT_TRUE(changed.ok()) << changed.status().ToString();
  EXPECT_EQ(*changed, 1);
  // A second run as of the same moment changes (and records) nothing.
  ASSERT_TRUE(storage_->ReevaluateTiers(*policy, kMar1 + 9 * kDay).ok());

  auto found = storage_->FindCustomersByEmail("ada@example.com");
  ASSERT_TRUE(found.ok() && found->size() == 1u);
  auto changes = storage_->ListTierChanges(found->front().id, 10);
  ASSERT_TRUE(changes.ok()) << changes.status().ToString();
  ASSERT_EQ(changes->size(), 3u);
  // Newest first.
  EXPECT_EQ((*changes)[0].from_level_id, "gold");
  EXPECT_EQ((*changes)[0].to_level_id, "");
  EXPECT_EQ((*changes)[0].direction, "down");
  EXPECT_EQ((*changes)[0].changed_at_ms, kMar1 + 9 * kDay);
  EXPECT_EQ((*changes)[0].source_event_id, 0);
  EXPECT_EQ((*changes)[1].from_level_id, "silver");
  EXPECT_EQ((*changes)[1].to_level_id, "gold");
  EXPECT_EQ((*changes)[1].direction, "up");
  EXPECT_EQ((*changes)[1].changed_at_ms, kFeb1 + 2 * kDay);
  EXPECT_NE((*changes)[1].source_event_id, 0);
  EXPECT_EQ((*changes)[2].from_level_id, "");
  EXPECT_EQ((*changes)[2].to_level_id, "silver");
  EXPECT_EQ((*changes)[2].direction, "up");
  // Each change points at its "tier" ledger entry.
  auto ledger = storage_->ListLedger(found->front().id, 0, 100);
  ASSERT_TRUE(ledger.ok());
  int tier_entries = 0;
  for (const LedgerEntryRecord& e : *ledger) {
    if (e.kind != "tier") continue;
    ++tier_entries;
    bool linked = false;
    for (const TierChangeRecord& c : *changes) linked = linked || c.ledger_entry_id == e.id;
    EXPECT_TRUE(linked) << e.description;
  }
  EXPECT_EQ(tier_entries, 3);

  // And the movement report reads them: February silver in and out, gold in; March gold out.
  auto report = storage_->TierReport(ReportMonths(2026, 2, 2026, 3));
  ASSERT_TRUE(report.ok());
  std::map<std::pair<std::string, std::string>, TierMovementRow> rows;
  for (const TierMovementRow& r : report->movement) rows[{r.month, r.level_id}] = r;
  EXPECT_EQ((rows[{"2026-02", "silver"}].upgraded_in), 1);
  EXPECT_EQ((rows[{"2026-02", "silver"}].upgraded_out), 1);
  EXPECT_EQ((rows[{"2026-02", "gold"}].upgraded_in), 1);
  EXPECT_EQ((rows[{"2026-03", "gold"}].downgraded_out), 1);
  EXPECT_EQ((rows[{"2026-03", ""}].downgraded_in), 1);
}

}  // namespace
}  // namespace loyaltyd::sqlite_reports_test
