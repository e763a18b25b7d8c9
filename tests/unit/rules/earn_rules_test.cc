#include "rules/earn_rules.h"

#include <gtest/gtest.h>

#include <limits>

namespace loyaltyd {
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
  EXPECT_EQ((*awards)[0].description, "1 point(s) per 1.00 USD on eligible spend of 49.99 USD");
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

}  // namespace
}  // namespace loyaltyd
