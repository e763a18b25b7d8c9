#include "rules/tier_rules.h"

#include <gtest/gtest.h>

#include "rules/earn_rules.h"

namespace loyaltyd::tier_rules_test {
namespace {

constexpr int64_t kDay = kMillisPerDay;
// 2026-03-01T00:00:00Z and 2026-01-01T00:00:00Z, 2028-01-01T00:00:00Z.
constexpr int64_t kMar2026 = 1772323200000;
constexpr int64_t kJan2026 = 1767225600000;
constexpr int64_t kJan2028 = 1830297600000;

TierLevel Level(std::string id, int64_t threshold, int64_t multiplier_bp = 10000) {
  TierLevel level;
  level.id = id;
  level.name = std::string(1, static_cast<char>(std::toupper(id[0]))) + id.substr(1);
  level.threshold = threshold;
  level.multiplier_bp = multiplier_bp;
  level.tags = {"vip-" + id};
  return level;
}

// Spend tiers in USD over a rolling 365 days, kept 30 days: bronze 0.00 is not used here;
// silver 500.00 (x1.25), gold 1000.00 (x1.5).
TiersConfig Tiers(int keep_days = 30) {
  TiersConfig tiers;
  tiers.enabled = true;
  tiers.metric = TierMetric::kSpend;
  tiers.window_kind = TierWindowKind::kRolling;
  tiers.window_days = 365;
  tiers.keep_kind = TierKeepKind::kDays;
  tiers.keep_days = keep_days;
  tiers.levels = {Level("silver", 50000, 12500), Level("gold", 100000, 15000)};
  tiers.levels[1].customer_tags = {"wholesale-gold"};
  return tiers;
}

TierFacts Spend(int64_t minor) {
  TierFacts facts;
  facts.spend_minor = minor;
  return facts;
}

struct EvaluationCase {
  const char* name;
  TierFacts facts;
  TierStanding current;
  int64_t as_of;
  TierStanding expected;
};

TEST(TierRulesTest, EvaluationTable) {
  const int64_t t = kMar2026;
  const int64_t keep = 30 * kDay;
  TierFacts granted;
  granted.granted_level_ids = {"gold"};
  TierFacts tagged;
  tagged.platform_tags = {"newsletter", "Wholesale-Gold"};  // tags match without regard to case
  const std::vector<EvaluationCase> cases = {
      {"below every threshold: no tier", Spend(49999), {}, t, {}},
      {"threshold reached exactly", Spend(50000), {}, t, {"silver", t, t + keep}},
      {"highest level reached wins", Spend(250000), {}, t, {"gold", t, t + keep}},
      {"upgrade is immediate",
       Spend(100000),
       {"silver", t - 5 * kDay, t + 25 * kDay},
       t,
       {"gold", t, t + keep}},
      {"still qualifying confirms: keep_until moves on, reached_at stays",
       Spend(60000),
       {"silver", t - 40 * kDay, t - 10 * kDay},
       t,
       {"silver", t - 40 * kDay, t + keep}},
      {"downgrade held while keep_until is ahead",
       Spend(0),
       {"gold", t - 5 * kDay, t + kDay},
       t,
       {"gold", t - 5 * kDay, t + kDay}},
      {"downgrade once keep_until has passed, to the level still reached",
       Spend(70000),
       {"gold", t - 60 * kDay, t - kDay},
       t,
       {"silver", t, t + keep}},
      {"keep_until is exclusive", Spend(0), {"silver", t - 30 * kDay, t}, t, {}},
      {"membership grants its level", granted, {}, t, {"gold", t, t + keep}},
      {"platform tag grants its level", tagged, {}, t, {"gold", t, t + keep}},
      {"a level the config no longer has is dropped",
       Spend(60000),
       {"platinum", t - kDay, t + 100 * kDay},
       t,
       {"silver", t, t + keep}},
  };
  const TiersConfig tiers = Tiers();
  for (const EvaluationCase& c : cases) {
    const TierStanding got = EvaluateTier(tiers, c.facts, c.current, c.as_of);
    EXPECT_EQ(got.level_id, c.expected.level_id) << c.name;
    EXPECT_EQ(got.reached_at_ms, c.expected.reached_at_ms) << c.name;
    EXPECT_EQ(got.keep_until_ms, c.expected.keep_until_ms) << c.name;
    // Evaluating again as of the same moment changes nothing (the daily run is idempotent).
    EXPECT_EQ(EvaluateTier(tiers, c.facts, got, c.as_of), got) << c.name << " (again)";
  }
}

TEST(TierRulesTest, MetricsCountWhatTheConfigSays) {
  TierFacts facts;
  facts.spend_minor = 12345;
  facts.points_earned = 77;
  facts.orders = 3;
  TiersConfig tiers = Tiers();
  EXPECT_EQ(TierMetricValue(tiers, facts), 12345);
  tiers.metric = TierMetric::kPointsEarned;
  EXPECT_EQ(TierMetricValue(tiers, facts), 77);
  tiers.metric = TierMetric::kOrders;
  EXPECT_EQ(TierMetricValue(tiers, facts), 3);
  tiers.levels = {Level("regular", 3)};
  EXPECT_EQ(EvaluateTier(tiers, facts, {}, kMar2026).level_id, "regular");
  facts.orders = 2;
  EXPECT_EQ(EvaluateTier(tiers, facts, {}, kMar2026).level_id, "");
}

TEST(TierRulesTest, WindowsAndKeepPeriodsInUtc) {
  TiersConfig tiers = Tiers();
  EXPECT_EQ(TierWindowStartMs(tiers, kMar2026), kMar2026 - 365 * kDay + 1);
  tiers.window_kind = TierWindowKind::kCalendarYear;
  EXPECT_EQ(TierWindowStartMs(tiers, kMar2026), kJan2026);
  EXPECT_EQ(TierWindowStartMs(tiers, kJan2026), kJan2026);           // the first moment of the year
  EXPECT_EQ(TierWindowStartMs(tiers, kJan2026 - 1), 1735689600000);  // 2025-01-01
  EXPECT_EQ(TierKeepUntilMs(tiers, kMar2026), kMar2026 + 30 * kDay);
  tiers.keep_kind = TierKeepKind::kUntilEndOfNextYear;
  EXPECT_EQ(TierKeepUntilMs(tiers, kMar2026), kJan2028);
  EXPECT_EQ(TierKeepUntilMs(tiers, kJan2026), kJan2028);
  EXPECT_EQ(TierKeepUntilMs(tiers, kJan2026 - 1), 1798761600000);  // 2027-01-01
}

TEST(TierRulesTest, MembershipGrantsByProductIdOrSku) {
  TiersConfig tiers = Tiers();
  tiers.levels[1].membership = TierMembership{{"555"}, {"GOLD-CLUB"}, 365};
  Order order;
  LineItem tee;
  tee.product_id = "1";
  tee.sku = "TEE";
  order.line_items = {tee};
  EXPECT_TRUE(MembershipGrants(tiers, order).empty());
  LineItem club;
  club.sku = "GOLD-CLUB";
  order.line_items.push_back(club);
  const std::vector<TierGrant> grants = MembershipGrants(tiers, order);
  ASSERT_EQ(grants.size(), 1u);
  EXPECT_EQ(grants[0].level_id, "gold");
  EXPECT_EQ(grants[0].duration_ms, 365 * kDay);
  order.line_items[1].sku = "";
  order.line_items[1].product_id = "555";
  EXPECT_EQ(MembershipGrants(tiers, order).size(), 1u);
  order.line_items[1].is_gift_card = true;  // a gift card is never the membership
  EXPECT_TRUE(MembershipGrants(tiers, order).empty());
}

TEST(TierRulesTest, ChangeDescriptionsSayWhy) {
  ProgramConfig program;
  program.tiers = Tiers();
  EXPECT_EQ(DescribeTierChange(program, {}, {"silver", 1, 2}, Spend(51200)),
            "tier Silver reached: spend of 512.00 USD in the last 365 days (Silver from 500.00 "
            "USD); earn x1.25");
  EXPECT_EQ(DescribeTierChange(program, {"gold", 0, 0}, {"silver", 1, 2}, Spend(51200)),
            "tier Silver (down from Gold): spend of 512.00 USD in the last 365 days (Silver from "
            "500.00 USD); earn x1.25");
  EXPECT_EQ(DescribeTierChange(program, {"silver", 0, 0}, {}, Spend(100)),
            "tier Silver ended: no level reached (spend of 1.00 USD in the window)");
  EXPECT_EQ(FormatMultiplier(12500), "1.25");
  EXPECT_EQ(FormatMultiplier(20000), "2");
  EXPECT_EQ(FormatMultiplier(10001), "1.0001");
}

struct MultiplierCase {
  const char* name;
  int64_t multiplier_bp;
  int64_t spend_minor;
  int64_t cap;
  int64_t expected_points;
  const char* description_suffix;
};

// The tier's multiplier scales spend rules exactly (rounded down), before the per-order cap.
TEST(TierRulesTest, EarnMultiplierTable) {
  const std::vector<MultiplierCase> cases = {
      {"x1.25 on 49 points", 12500, 4900, 0, 61, ", rounded down, x1.25 Silver"},
      {"x1.25 on 40 points", 12500, 4000, 0, 50, ", x1.25 Silver"},
      {"x1.5 on 99 points", 15000, 9900, 0, 148, ", x1.5 Silver"},
      {"x1 changes nothing", 10000, 4900, 0, 49, ", rounded down"},
      {"cap after the multiplier", 20000, 10000, 150, 150,
       ", x2 Silver, capped at 150 points per "
       "order"},
  };
  for (const MultiplierCase& c : cases) {
    ProgramConfig program;
    program.currency = "USD";
    program.earn.push_back(EarnRule{"spend", EarnRuleType::kSpend, 1, 100});
    program.earn[0].max_points_per_order = c.cap;
    program.tiers = Tiers();
    program.tiers.levels[0].multiplier_bp = c.multiplier_bp;
    Order order;
    order.currency = "USD";
    LineItem line;
    line.gross_minor = c.spend_minor + (c.spend_minor == 4900 ? 99 : 0);  // 49.99 rounds down
    order.line_items = {line};
    Result<std::vector<EarnAward>> awards =
        ComputeEarnAwards(program, order, EarnContext{"silver"});
    ASSERT_TRUE(awards.ok()) << c.name;
    ASSERT_EQ(awards->size(), 1u) << c.name;
    EXPECT_EQ((*awards)[0].points, c.expected_points) << c.name;
    const std::string& d = (*awards)[0].description;
    EXPECT_EQ(d.substr(d.size() - std::string(c.description_suffix).size()), c.description_suffix)
        << c.name << ": " << d;
    // Without a tier (or with a tier the config no longer has) the rule earns its base points.
    Result<std::vector<EarnAward>> base = ComputeEarnAwards(program, order, EarnContext{"gone"});
    ASSERT_TRUE(base.ok());
    EXPECT_EQ((*base)[0].points, std::min<int64_t>(c.spend_minor / 100, c.cap ? c.cap : 1 << 30))
        << c.name;
  }
}

}  // namespace
}  // namespace loyaltyd::tier_rules_test
