#include "rules/earn_rules.h"

#include <gtest/gtest.h>

#include <limits>
#include <ostream>

#include "core/calendar.h"

namespace loyaltyd::earn_rules_test {
namespace {

LineItem Line(int64_t gross, int64_t discount = 0, int64_t tax = 0, bool gift_card = false) {
  LineItem line;
  line.quantity = 1;
  line.gross_minor = gross;
  line.discount_minor = discount;
  line.tax_minor = tax;
  line.is_gift_card = gift_card;
  return line;
}

ProgramConfig Program(int64_t points, int64_t per_minor, const std::string& currency = "USD") {
  ProgramConfig p;
  p.currency = currency;
  p.currency_exponent = currency == "JPY" ? 0 : 2;
  p.earn.push_back(EarnRule{"spend", EarnRuleType::kSpend, points, per_minor});
  return p;
}

Order OrderWith(std::vector<LineItem> lines, bool taxes_included = false) {
  Order o;
  o.currency = "USD";
  o.name = "#1001";
  o.taxes_included = taxes_included;
  o.line_items = std::move(lines);
  o.total_shipping_minor = 999;  // never part of eligible spend
  return o;
}

TEST(EarnRulesTest, EligibleSpendIsMerchandiseAfterDiscounts) {
  // 2 lines: 30.00 with 5.00 off, 20.00 with 2.50 off (an order-level code allocated to lines).
  EXPECT_EQ(EligibleSpendMinor(OrderWith({Line(3000, 500), Line(2000, 250)})), 4250);
}

TEST(EarnRulesTest, TaxExcludedFromEligibleWhenPricesIncludeIt) {
  // EU store: 119.00 incl. 19.00 VAT -> 100.00; tax on top (not included) is not in gross.
  EXPECT_EQ(EligibleSpendMinor(OrderWith({Line(11900, 0, 1900)}, /*taxes_included=*/true)), 10000);
  EXPECT_EQ(EligibleSpendMinor(OrderWith({Line(10000, 0, 1900)}, /*taxes_included=*/false)), 10000);
}

TEST(EarnRulesTest, GiftCardLinesAreNotSpend) {
  EXPECT_EQ(EligibleSpendMinor(OrderWith({Line(5000, 0, 0, true), Line(1500)})), 1500);
}

TEST(EarnRulesTest, FullyDiscountedLineNeverGoesNegative) {
  EXPECT_EQ(EligibleSpendMinor(OrderWith({Line(1000, 1500), Line(700)})), 700);
}

TEST(EarnRulesTest, SpendRuleFloorsPerUnit) {
  auto awards = ComputeEarnAwards(Program(1, 100), OrderWith({Line(4999)}));
  ASSERT_TRUE(awards.ok());
  ASSERT_EQ(awards->size(), 1u);
  EXPECT_EQ((*awards)[0].points, 49);
  EXPECT_EQ((*awards)[0].rule_id, "spend");
  EXPECT_EQ((*awards)[0].description,
            "1 point per 1.00 USD on eligible spend of 49.99 USD, rounded down");
}

TEST(EarnRulesTest, PointsPerLargerUnit) {
  // 5 points per 10.00: 49.99 -> 4 units -> 20 points.
  auto awards = ComputeEarnAwards(Program(5, 1000), OrderWith({Line(4999)}));
  ASSERT_TRUE(awards.ok());
  EXPECT_EQ((*awards)[0].points, 20);
}

TEST(EarnRulesTest, BelowOneUnitEarnsNothing) {
  auto awards = ComputeEarnAwards(Program(1, 100), OrderWith({Line(99)}));
  ASSERT_TRUE(awards.ok());
  EXPECT_TRUE(awards->empty());
}

TEST(EarnRulesTest, CurrencyMismatchIsRefused) {
  Order order = OrderWith({Line(5000)});
  order.currency = "EUR";
  auto awards = ComputeEarnAwards(Program(1, 100), order);
  ASSERT_FALSE(awards.ok());
  EXPECT_EQ(awards.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(awards.status().message().find("EUR"), std::string::npos);
}

TEST(EarnRulesTest, PointsOverflowIsRefusedNotWrapped) {
  const int64_t huge = std::numeric_limits<int64_t>::max() / 2;
  auto awards = ComputeEarnAwards(Program(1000000, 1), OrderWith({Line(huge)}));
  ASSERT_FALSE(awards.ok());
  EXPECT_EQ(awards.status().code(), StatusCode::kFailedPrecondition);
}

LineItem Product(int64_t gross, const std::string& product_id, const std::string& sku,
                 const std::string& vendor) {
  LineItem line = Line(gross);
  line.product_id = product_id;
  line.sku = sku;
  line.vendor = vendor;
  return line;
}

// One spend rule and one order: the points and the ledger description they give.
struct SpendCase {
  std::string name;
  EarnRule rule;
  std::vector<LineItem> lines;
  int64_t points;  // -1: the rule gives no award at all
  std::string description;
};

EarnRule Spend(int64_t points, int64_t per_minor) {
  return EarnRule{"spend", EarnRuleType::kSpend, points, per_minor};
}
EarnRule Nearest(EarnRule rule) {
  rule.rounding = EarnRounding::kNearest;
  return rule;
}
EarnRule ExcludeSkus(EarnRule rule, std::vector<std::string> skus) {
  rule.exclude_skus = std::move(skus);
  return rule;
}
EarnRule ExcludeProducts(EarnRule rule, std::vector<std::string> ids) {
  rule.exclude_product_ids = std::move(ids);
  return rule;
}
EarnRule ExcludeVendors(EarnRule rule, std::vector<std::string> vendors) {
  rule.exclude_vendors = std::move(vendors);
  return rule;
}
EarnRule Minimum(EarnRule rule, int64_t minimum_minor) {
  rule.minimum_order_minor = minimum_minor;
  return rule;
}
EarnRule Cap(EarnRule rule, int64_t cap) {
  rule.max_points_per_order = cap;
  return rule;
}

TEST(EarnRulesTest, SpendRuleOptions) {
  const std::vector<SpendCase> cases = {
      {"floor rounds down",
       Spend(1, 100),
       {Line(4999)},
       49,
       "1 point per 1.00 USD on eligible spend of 49.99 USD, rounded down"},
      {"exact division says no rounding",
       Spend(2, 100),
       {Line(5000)},
       100,
       "2 points per 1.00 USD on eligible spend of 50.00 USD"},
      {"nearest rounds .99 up",
       Nearest(Spend(1, 100)),
       {Line(4999)},
       50,
       "1 point per 1.00 USD on eligible spend of 49.99 USD, rounded to nearest"},
      {"nearest rounds half up",
       Nearest(Spend(1, 100)),
       {Line(4950)},
       50,
       "1 point per 1.00 USD on eligible spend of 49.50 USD, rounded to nearest"},
      {"nearest rounds below half down",
       Nearest(Spend(1, 100)),
       {Line(4949)},
       49,
       "1 point per 1.00 USD on eligible spend of 49.49 USD, rounded to nearest"},
      {"nearest rounds units, not points",
       Nearest(Spend(5, 1000)),
       {Line(4999)},
       25,
       "5 points per 10.00 USD on eligible spend of 49.99 USD, rounded to nearest"},
      {"nearest with an odd per: 1.5 of 3 is half",
       Nearest(Spend(1, 3)),
       {Line(4)},
       1,
       "1 point per 0.03 USD on eligible spend of 0.04 USD, rounded to nearest"},
      {"nearest with an odd per: 2 of 3 rounds up",
       Nearest(Spend(1, 3)),
       {Line(5)},
       2,
       "1 point per 0.03 USD on eligible spend of 0.05 USD, rounded to nearest"},
      {"nearest below half a unit earns nothing", Nearest(Spend(1, 100)), {Line(49)}, -1, ""},
      {"excluded SKU",
       ExcludeSkus(Spend(1, 100), {"GIFT-WRAP"}),
       {Product(4999, "1", "TEE", "Acme"), Product(500, "2", "GIFT-WRAP", "Acme"),
        Product(500, "2", "GIFT-WRAP", "Acme")},
       49,
       "1 point per 1.00 USD on eligible spend of 49.99 USD (2 lines excluded: SKU GIFT-WRAP), "
       "rounded down"},
      {"SKUs match exactly",
       ExcludeSkus(Spend(1, 100), {"gift-wrap"}),
       {Product(1000, "1", "GIFT-WRAP", "")},
       10,
       "1 point per 1.00 USD on eligible spend of 10.00 USD"},
      {"excluded product id",
       ExcludeProducts(Spend(1, 100), {"632910392"}),
       {Product(2000, "632910392", "", ""), Product(1000, "808950810", "", "")},
       10,
       "1 point per 1.00 USD on eligible spend of 10.00 USD (1 line excluded: product "
       "632910392)"},
      {"excluded vendor, any case",
       ExcludeVendors(Spend(1, 100), {"acme"}),
       {Product(2000, "1", "A", "ACME"), Product(1000, "2", "B", "Other")},
       10,
       "1 point per 1.00 USD on eligible spend of 10.00 USD (1 line excluded: vendor ACME)"},
      {"a line without the field never matches",
       ExcludeVendors(Spend(1, 100), {"acme"}),
       {Product(1000, "", "", "")},
       10,
       "1 point per 1.00 USD on eligible spend of 10.00 USD"},
      {"every line excluded earns nothing",
       ExcludeSkus(Spend(1, 100), {"TEE"}),
       {Product(1000, "1", "TEE", "")},
       -1,
       ""},
      {"gift cards are not counted as excluded lines",
       ExcludeSkus(Spend(1, 100), {"X"}),
       {Line(5000, 0, 0, true), Product(1000, "1", "X", ""), Line(300)},
       3,
       "1 point per 1.00 USD on eligible spend of 3.00 USD (1 line excluded: SKU X)"},
      {"below the minimum earns 0 and says why",
       Minimum(Spend(1, 100), 2500),
       {Line(2499)},
       0,
       "no points: eligible spend of 24.99 USD is below the minimum order of 25.00 USD"},
      {"equal to the minimum earns",
       Minimum(Spend(1, 100), 2500),
       {Line(2500)},
       25,
       "1 point per 1.00 USD on eligible spend of 25.00 USD"},
      {"the minimum applies to spend after exclusions",
       Minimum(ExcludeSkus(Spend(1, 100), {"GIFT-WRAP"}), 2500),
       {Product(2000, "1", "TEE", ""), Product(1000, "2", "GIFT-WRAP", "")},
       0,
       "no points: eligible spend of 20.00 USD (1 line excluded: SKU GIFT-WRAP) is below the "
       "minimum order of 25.00 USD"},
      {"cap",
       Cap(Spend(10, 100), 500),
       {Line(9999)},
       500,
       "10 points per 1.00 USD on eligible spend of 99.99 USD, rounded down, capped at 500 "
       "points per order"},
      {"at the cap is not capped",
       Cap(Spend(10, 100), 500),
       {Line(5000)},
       500,
       "10 points per 1.00 USD on eligible spend of 50.00 USD"},
      {"everything at once",
       Cap(Minimum(Nearest(ExcludeVendors(ExcludeSkus(Spend(2, 100), {"GIFT-WRAP"}), {"Acme"})),
                   3000),
           90),
       {Product(4950, "1", "TEE", "Other"), Product(500, "2", "GIFT-WRAP", "Other"),
        Product(9900, "3", "MUG", "acme")},
       90,
       "2 points per 1.00 USD on eligible spend of 49.50 USD (2 lines excluded: SKU GIFT-WRAP, "
       "vendor acme), rounded to nearest, capped at 90 points per order"},
  };
  for (const SpendCase& c : cases) {
    SCOPED_TRACE(c.name);
    ProgramConfig program = Program(1, 100);
    program.earn = {c.rule};
    auto awards = ComputeEarnAwards(program, OrderWith(c.lines));
    ASSERT_TRUE(awards.ok()) << awards.status().ToString();
    if (c.points < 0) {
      EXPECT_TRUE(awards->empty());
      continue;
    }
    ASSERT_EQ(awards->size(), 1u);
    EXPECT_EQ((*awards)[0].points, c.points);
    EXPECT_EQ((*awards)[0].description, c.description);
    EXPECT_EQ((*awards)[0].once_per_customer_key, "");
  }
}

TEST(EarnRulesTest, ExclusionsAreTheRulesOwnNotTheOrders) {
  // Two spend rules: only the one that excludes the SKU leaves the line out.
  ProgramConfig program = Program(1, 100);
  program.earn.push_back(ExcludeSkus(Spend(1, 100), {"GIFT-WRAP"}));
  program.earn.back().id = "no-wrap";
  auto awards = ComputeEarnAwards(
      program, OrderWith({Product(1000, "1", "TEE", ""), Product(500, "2", "GIFT-WRAP", "")}));
  ASSERT_TRUE(awards.ok());
  ASSERT_EQ(awards->size(), 2u);
  EXPECT_EQ((*awards)[0].points, 15);
  EXPECT_EQ((*awards)[1].points, 10);
  // The order's recorded eligible spend is before any rule's exclusions.
  EXPECT_EQ(EligibleSpendMinor(
                OrderWith({Product(1000, "1", "TEE", ""), Product(500, "2", "GIFT-WRAP", "")})),
            1500);
}

TEST(EarnRulesTest, FirstOrderRuleOffersAOncePerCustomerBonus) {
  ProgramConfig program = Program(1, 100);
  program.earn.push_back(EarnRule{"welcome", EarnRuleType::kFirstOrder, 250});
  auto awards = ComputeEarnAwards(program, OrderWith({Line(1000)}));
  ASSERT_TRUE(awards.ok());
  ASSERT_EQ(awards->size(), 2u);
  EXPECT_EQ((*awards)[1].rule_id, "welcome");
  EXPECT_EQ((*awards)[1].points, 250);
  EXPECT_EQ((*awards)[1].description, "first order bonus");
  // Keyed by the bonus, not the rule id: renaming the rule must not pay it again.
  EXPECT_EQ((*awards)[1].once_per_customer_key, "first_order");
}

TEST(EarnRulesTest, FirstOrderBonusNeedsEligibleSpend) {
  // Gift cards only: not a purchase, so it does not use up the customer's first order.
  ProgramConfig program;
  program.earn.push_back(EarnRule{"first_order", EarnRuleType::kFirstOrder, 250});
  auto awards = ComputeEarnAwards(program, OrderWith({Line(5000, 0, 0, true)}));
  ASSERT_TRUE(awards.ok());
  EXPECT_TRUE(awards->empty());
}

TEST(EarnRulesTest, CapDoesNotHideOverflow) {
  // An absurd order is refused even with a cap: the computation itself is out of range.
  ProgramConfig program = Program(1, 100);
  program.earn = {Cap(Spend(1000000, 1), 500)};
  auto awards =
      ComputeEarnAwards(program, OrderWith({Line(std::numeric_limits<int64_t>::max() / 2)}));
  ASSERT_FALSE(awards.ok());
  EXPECT_EQ(awards.status().code(), StatusCode::kFailedPrecondition);
}

// --- Campaigns ---

CampaignConfig Multiplier(const std::string& id, const std::string& name, int64_t basis_points) {
  CampaignConfig c;
  c.id = id;
  c.name = name;
  c.starts_at_ms = *ParseIso8601Millis("2026-11-27T00:00:00Z");
  c.ends_at_ms = *ParseIso8601Millis("2026-12-01T00:00:00Z");
  c.multiplier_basis_points = basis_points;
  return c;
}
CampaignConfig Bonus(const std::string& id, const std::string& name, int64_t points) {
  CampaignConfig c = Multiplier(id, name, 0);
  c.bonus_points = points;
  return c;
}
CampaignConfig OnSkus(CampaignConfig c, std::vector<std::string> skus) {
  c.skus = std::move(skus);
  return c;
}
CampaignConfig ForTiers(CampaignConfig c, std::vector<std::string> tiers) {
  c.tiers = std::move(tiers);
  return c;
}

struct Award {
  std::string rule_id;
  int64_t points;
  std::string description;
  friend bool operator==(const Award&, const Award&) = default;
};
std::ostream& operator<<(std::ostream& os, const Award& a) {
  return os << "{" << a.rule_id << ", " << a.points << ", \"" << a.description << "\"}";
}

// Rules and campaigns, one order at a time: every award it gets.
struct CampaignCase {
  std::string name;
  std::vector<EarnRule> rules;
  std::vector<CampaignConfig> campaigns;
  std::vector<LineItem> lines;
  std::string created_at;
  std::string tier;
  std::vector<Award> awards;
};

TEST(EarnRulesTest, Campaigns) {
  const std::string base49 = "1 point per 1.00 USD on eligible spend of 49.99 USD, rounded down";
  const CampaignConfig bf = Multiplier("black-friday", "Black Friday", 20'000);
  const std::vector<CampaignCase> cases = {
      {"2x on the whole order",
       {Spend(1, 100)},
       {bf},
       {Line(4999)},
       "2026-11-27T12:00:00Z",
       "",
       {{"spend", 98, base49 + "; 2x Black Friday: 98 points"}}},
      {"the start is included",
       {Spend(1, 100)},
       {bf},
       {Line(4999)},
       "2026-11-27T00:00:00Z",
       "",
       {{"spend", 98, base49 + "; 2x Black Friday: 98 points"}}},
      {"before the start",
       {Spend(1, 100)},
       {bf},
       {Line(4999)},
       "2026-11-26T23:59:59Z",
       "",
       {{"spend", 49, base49}}},
      {"the end is excluded",
       {Spend(1, 100)},
       {bf},
       {Line(4999)},
       "2026-12-01T00:00:00Z",
       "",
       {{"spend", 49, base49}}},
      {"the order's own offset is honoured: 20:00 in New York is 01:00 UTC next day",
       {Spend(1, 100)},
       {bf},
       {Line(4999)},
       "2026-11-26T20:00:00-05:00",
       "",
       {{"spend", 98, base49 + "; 2x Black Friday: 98 points"}}},
      {"an order without a readable created_at is in no campaign",
       {Spend(1, 100)},
       {bf},
       {Line(4999)},
       "",
       "",
       {{"spend", 49, base49}}},
      {"1.5x rounds down with a floor rule",
       {Spend(1, 100)},
       {Multiplier("half", "Half again", 15'000)},
       {Line(4999)},
       "2026-11-28T00:00:00Z",
       "",
       {{"spend", 73, base49 + "; 1.5x Half again: 73 points"}}},
      {"1.5x rounds half up with a nearest rule",
       {Nearest(Spend(1, 100))},
       {Multiplier("half", "Half again", 15'000)},
       {Line(4900)},
       "2026-11-28T00:00:00Z",
       "",
       {{"spend", 74,
         "1 point per 1.00 USD on eligible spend of 49.00 USD; 1.5x Half again: 74 points"}}},
      {"1.25x is exact: 4 points become 5",
       {Spend(1, 100)},
       {Multiplier("q", "Quarter", 12'500)},
       {Line(400)},
       "2026-11-28T00:00:00Z",
       "",
       {{"spend", 5,
         "1 point per 1.00 USD on eligible spend of 4.00 USD; 1.25x Quarter: 5 points"}}},
      {"a multiplier that adds nothing is not mentioned",
       {Spend(1, 100)},
       {Multiplier("tiny", "Tiny", 10'100)},
       {Line(4999)},
       "2026-11-28T00:00:00Z",
       "",
       {{"spend", 49, base49}}},
      {"the cap applies to the rule's points, the campaign on top",
       {Cap(Spend(10, 100), 500)},
       {bf},
       {Line(9999)},
       "2026-11-28T00:00:00Z",
       "",
       {{"spend", 1000,
         "10 points per 1.00 USD on eligible spend of 99.99 USD, rounded down, capped at 500 "
         "points per order; 2x Black Friday: 1000 points"}}},
      {"of overlapping multipliers the largest applies",
       {Spend(1, 100)},
       {bf, Multiplier("triple", "Triple Sunday", 30'000)},
       {Line(4999)},
       "2026-11-29T10:00:00Z",
       "",
       {{"spend", 147, base49 + "; 3x Triple Sunday: 147 points"}}},
      {"each spend rule is multiplied",
       {Spend(1, 100), ExcludeSkus(Spend(1, 1000), {"X"})},
       {bf},
       {Line(4999)},
       "2026-11-29T10:00:00Z",
       "",
       {{"spend", 98, base49 + "; 2x Black Friday: 98 points"},
        {"spend", 8,
         "1 point per 10.00 USD on eligible spend of 49.99 USD, rounded down; 2x Black Friday: 8 "
         "points"}}},
      {"a campaign on one SKU multiplies the points of its lines only",
       {Spend(1, 100)},
       {OnSkus(Multiplier("mugs", "Mug Day", 30'000), {"MUG"})},
       {Product(3000, "1", "TEE", ""), Product(2050, "2", "MUG", "")},
       "2026-11-28T00:00:00Z",
       "",
       {{"spend", 90,
         "1 point per 1.00 USD on eligible spend of 50.50 USD, rounded down; 3x Mug Day on 20.50 "
         "USD of it: 90 points"}}},
      {"the campaign that gives most wins, whatever its multiplier",
       {Spend(1, 100)},
       {OnSkus(Multiplier("mugs", "Mug Day", 30'000), {"MUG"}), bf},
       {Product(3000, "1", "TEE", ""), Product(2050, "2", "MUG", "")},
       "2026-11-28T00:00:00Z",
       "",
       {{"spend", 100,
         "1 point per 1.00 USD on eligible spend of 50.50 USD, rounded down; 2x Black Friday: "
         "100 points"}}},
      {"a campaign on a SKU the order lacks changes nothing",
       {Spend(1, 100)},
       {OnSkus(Multiplier("mugs", "Mug Day", 30'000), {"MUG"})},
       {Product(3000, "1", "TEE", "")},
       "2026-11-28T00:00:00Z",
       "",
       {{"spend", 30, "1 point per 1.00 USD on eligible spend of 30.00 USD"}}},
      {"lines the rule excludes stay excluded under a campaign",
       {ExcludeSkus(Spend(1, 100), {"MUG"})},
       {OnSkus(Multiplier("mugs", "Mug Day", 30'000), {"MUG"})},
       {Product(3000, "1", "TEE", ""), Product(2050, "2", "MUG", "")},
       "2026-11-28T00:00:00Z",
       "",
       {{"spend", 30,
         "1 point per 1.00 USD on eligible spend of 30.00 USD (1 line excluded: SKU MUG)"}}},
      {"a tier campaign applies to the tier's customers",
       {Spend(1, 100)},
       {ForTiers(bf, {"gold", "silver"})},
       {Line(4999)},
       "2026-11-28T00:00:00Z",
       "silver",
       {{"spend", 98, base49 + "; 2x Black Friday: 98 points"}}},
      {"a tier campaign skips other tiers",
       {Spend(1, 100)},
       {ForTiers(bf, {"gold"})},
       {Line(4999)},
       "2026-11-28T00:00:00Z",
       "silver",
       {{"spend", 49, base49}}},
      {"a tier campaign skips customers without a tier",
       {Spend(1, 100)},
       {ForTiers(bf, {"gold"})},
       {Line(4999)},
       "2026-11-28T00:00:00Z",
       "",
       {{"spend", 49, base49}}},
      {"a bonus campaign is an award of its own",
       {Spend(1, 100)},
       {Bonus("weekend", "Weekend bonus", 100)},
       {Line(4999)},
       "2026-11-28T00:00:00Z",
       "",
       {{"spend", 49, base49}, {"campaign:weekend", 100, "Weekend bonus: bonus of 100 points"}}},
      {"bonus and multiplier together, each bonus once",
       {Spend(1, 100)},
       {Bonus("weekend", "Weekend bonus", 100), bf, Bonus("vip", "VIP night", 1)},
       {Line(4999)},
       "2026-11-28T00:00:00Z",
       "",
       {{"spend", 98, base49 + "; 2x Black Friday: 98 points"},
        {"campaign:weekend", 100, "Weekend bonus: bonus of 100 points"},
        {"campaign:vip", 1, "VIP night: bonus of 1 point"}}},
      {"a bonus outside its window",
       {Spend(1, 100)},
       {Bonus("weekend", "Weekend bonus", 100)},
       {Line(4999)},
       "2026-12-02T00:00:00Z",
       "",
       {{"spend", 49, base49}}},
      {"gift cards only earn no bonus",
       {Spend(1, 100)},
       {Bonus("weekend", "Weekend bonus", 100)},
       {Line(5000, 0, 0, true)},
       "2026-11-28T00:00:00Z",
       "",
       {}},
      {"a bonus on a SKU needs that SKU in the order",
       {},
       {OnSkus(Bonus("mugs", "Mug bonus", 25), {"MUG"})},
       {Product(3000, "1", "TEE", "")},
       "2026-11-28T00:00:00Z",
       "",
       {}},
      {"a bonus on a SKU the order has",
       {},
       {OnSkus(Bonus("mugs", "Mug bonus", 25), {"MUG"})},
       {Product(3000, "1", "TEE", ""), Product(900, "2", "MUG", "")},
       "2026-11-28T00:00:00Z",
       "",
       {{"campaign:mugs", 25, "Mug bonus: bonus of 25 points"}}},
  };
  for (const CampaignCase& c : cases) {
    SCOPED_TRACE(c.name);
    ProgramConfig program = Program(1, 100);
    program.earn = c.rules;
    program.campaigns = c.campaigns;
    Order order = OrderWith(c.lines);
    order.created_at = c.created_at;
    auto awards = ComputeEarnAwards(program, order, EarnContext{c.tier});
    ASSERT_TRUE(awards.ok()) << awards.status().ToString();
    std::vector<Award> got;
    for (const EarnAward& a : *awards) {
      got.push_back(Award{a.rule_id, a.points, a.description});
      EXPECT_EQ(a.once_per_customer_key, "");
    }
    EXPECT_EQ(got, c.awards);
  }
}

TEST(EarnRulesTest, ActionRulesGiveNothingForOrders) {
  ProgramConfig program = Program(1, 100);
  EarnRule review;
  review.id = "review";
  review.type = EarnRuleType::kAction;
  review.points = 50;
  review.action = "review";
  program.earn.push_back(review);
  auto awards = ComputeEarnAwards(program, OrderWith({Line(1000)}));
  ASSERT_TRUE(awards.ok());
  ASSERT_EQ(awards->size(), 1u);
  EXPECT_EQ((*awards)[0].rule_id, "spend");
}

// --- Cashback: a percentage of eligible spend in store credit ---

LineItem SkuLine(int64_t gross, const std::string& sku, const std::string& vendor = "",
                 const std::string& product_id = "") {
  LineItem line = Line(gross);
  line.sku = sku;
  line.vendor = vendor;
  line.product_id = product_id;
  return line;
}

struct CashbackCase {
  std::string name;
  int64_t basis_points;
  int64_t max_per_order_minor;
  int64_t minimum_order_minor;
  std::vector<std::string> exclude_skus;
  std::vector<std::string> exclude_vendors;
  std::vector<std::string> exclude_product_ids;
  std::vector<LineItem> lines;
  bool expect_award;  // false: no award at all
  int64_t expect_credit_minor;
  std::string expect_description;
};

TEST(EarnRulesTest, CashbackTable) {
  const std::vector<CashbackCase> cases = {
      {"ten percent of 49.00",
       1000,
       0,
       0,
       {},
       {},
       {},
       {Line(4900)},
       true,
       490,
       "10.00% cashback on eligible spend of 49.00 USD: 4.90 USD in store credit"},
      {"rounds down to the minor unit",
       1000,
       0,
       0,
       {},
       {},
       {},
       {Line(4999)},
       true,
       499,
       "10.00% cashback on eligible spend of 49.99 USD: 4.99 USD in store credit, rounded down"},
      {"fractional percent, exact",
       250,
       0,
       0,
       {},
       {},
       {},
       {Line(1999)},
       true,
       49,
       "2.50% cashback on eligible spend of 19.99 USD: 0.49 USD in store credit, rounded down"},
      {"one hundred percent",
       10000,
       0,
       0,
       {},
       {},
       {},
       {Line(1234)},
       true,
       1234,
       "100.00% cashback on eligible spend of 12.34 USD: 12.34 USD in store credit"},
      {"capped per order",
       1000,
       5000,
       0,
       {},
       {},
       {},
       {Line(100000)},
       true,
       5000,
       "10.00% cashback on eligible spend of 1000.00 USD: 50.00 USD in store credit, capped at "
       "50.00 USD per order"},
      {"cap not reached",
       1000,
       5000,
       0,
       {},
       {},
       {},
       {Line(49900)},
       true,
       4990,
       "10.00% cashback on eligible spend of 499.00 USD: 49.90 USD in store credit"},
      {"below the minimum order says why",
       1000,
       0,
       2000,
       {},
       {},
       {},
       {Line(1999)},
       true,
       0,
       "no credit: eligible spend of 19.99 USD is below the minimum order of 20.00 USD"},
      {"at the minimum order earns",
       1000,
       0,
       2000,
       {},
       {},
       {},
       {Line(2000)},
       true,
       200,
       "10.00% cashback on eligible spend of 20.00 USD: 2.00 USD in store credit"},
      {"excluded SKU is not eligible",
       1000,
       0,
       0,
       {"GIFT-WRAP"},
       {},
       {},
       {SkuLine(3000, "SHIRT"), SkuLine(500, "GIFT-WRAP")},
       true,
       300,
       "10.00% cashback on eligible spend of 30.00 USD (1 line excluded: SKU GIFT-WRAP): 3.00 "
       "USD in store credit"},
      {"excluded vendor, any case",
       1000,
       0,
       0,
       {},
       {"acme"},
       {},
       {SkuLine(3000, "A", "ACME"), SkuLine(1000, "B", "Other")},
       true,
       100,
       "10.00% cashback on eligible spend of 10.00 USD (1 line excluded: vendor ACME): 1.00 USD "
       "in store credit"},
      {"excluded product",
       1000,
       0,
       0,
       {},
       {},
       {"42"},
       {SkuLine(3000, "A", "", "42"), SkuLine(1000, "B", "", "43")},
       true,
       100,
       "10.00% cashback on eligible spend of 10.00 USD (1 line excluded: product 42): 1.00 USD "
       "in store credit"},
      {"exclusions count against the minimum",
       1000,
       0,
       2000,
       {"GIFT-WRAP"},
       {},
       {},
       {SkuLine(1500, "SHIRT"), SkuLine(1000, "GIFT-WRAP")},
       true,
       0,
       "no credit: eligible spend of 15.00 USD (1 line excluded: SKU GIFT-WRAP) is below the "
       "minimum order of 20.00 USD"},
      {"less than a cent earns nothing", 100, 0, 0, {}, {}, {}, {Line(99)}, false, 0, ""},
      {"gift cards are not spend",
       1000,
       0,
       0,
       {},
       {},
       {},
       {Line(5000, 0, 0, true), Line(1000)},
       true,
       100,
       "10.00% cashback on eligible spend of 10.00 USD: 1.00 USD in store credit"},
  };
  for (const CashbackCase& c : cases) {
    SCOPED_TRACE(c.name);
    ProgramConfig program;
    EarnRule rule;
    rule.id = "cashback";
    rule.type = EarnRuleType::kCashback;
    rule.percent_basis_points = c.basis_points;
    rule.max_credit_per_order_minor = c.max_per_order_minor;
    rule.minimum_order_minor = c.minimum_order_minor;
    rule.exclude_skus = c.exclude_skus;
    rule.exclude_vendors = c.exclude_vendors;
    rule.exclude_product_ids = c.exclude_product_ids;
    program.earn.push_back(rule);
    const Order order = OrderWith(c.lines);

    Result<std::vector<CreditAward>> credits = ComputeCashbackAwards(program, order);
    ASSERT_TRUE(credits.ok()) << credits.status().ToString();
    if (!c.expect_award) {
      EXPECT_TRUE(credits->empty());
      continue;
    }
    ASSERT_EQ(credits->size(), 1u);
    EXPECT_EQ((*credits)[0].rule_id, "cashback");
    EXPECT_EQ((*credits)[0].amount_minor, c.expect_credit_minor);
    EXPECT_EQ((*credits)[0].description, c.expect_description);
    // Cashback is credit, never points.
    Result<std::vector<EarnAward>> points = ComputeEarnAwards(program, order);
    ASSERT_TRUE(points.ok());
    EXPECT_TRUE(points->empty());
  }
}

TEST(EarnRulesTest, CashbackAndSpendRulesEarnSideBySide) {
  ProgramConfig program = Program(1, 100);
  EarnRule cashback;
  cashback.id = "cashback";
  cashback.type = EarnRuleType::kCashback;
  cashback.percent_basis_points = 500;
  program.earn.push_back(cashback);
  const Order order = OrderWith({Line(4900)});
  auto points = ComputeEarnAwards(program, order);
  ASSERT_TRUE(points.ok());
  ASSERT_EQ(points->size(), 1u);
  EXPECT_EQ((*points)[0].points, 49);
  auto credits = ComputeCashbackAwards(program, order);
  ASSERT_TRUE(credits.ok());
  ASSERT_EQ(credits->size(), 1u);
  EXPECT_EQ((*credits)[0].amount_minor, 245);
}

TEST(EarnRulesTest, CashbackRefusesAnotherCurrency) {
  ProgramConfig program = Program(1, 100, "EUR");
  auto credits = ComputeCashbackAwards(program, OrderWith({Line(4900)}));
  ASSERT_FALSE(credits.ok());
  EXPECT_EQ(credits.status().code(), StatusCode::kFailedPrecondition);
}

TEST(EarnRulesTest, CashbackOnAHugeOrderIsExact) {
  // 9.2e18 minor units * 10000 basis points overflows 64 bits; the 128-bit product does not.
  ProgramConfig program;
  EarnRule rule;
  rule.id = "cashback";
  rule.type = EarnRuleType::kCashback;
  rule.percent_basis_points = 3333;
  program.earn.push_back(rule);
  const int64_t huge = std::numeric_limits<int64_t>::max();
  auto credits = ComputeCashbackAwards(program, OrderWith({Line(huge)}));
  ASSERT_TRUE(credits.ok());
  ASSERT_EQ(credits->size(), 1u);
  EXPECT_EQ((*credits)[0].amount_minor,
            int64_t{3074149899883696776});  // floor((2^63-1) * 3333 / 10000)
}

}  // namespace
}  // namespace loyaltyd::earn_rules_test
