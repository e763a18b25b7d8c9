// Report formatting: CSV per RFC 4180 with the formula-injection guard, report months, the
// cheapest reward rate and the exact value of points at it.
#include "http/report_format.h"

#include <gtest/gtest.h>

namespace loyaltyd::report_format_test {
namespace {

using report_format::CheapestPointsRate;
using report_format::CsvField;
using report_format::CsvRow;
using report_format::ParseYearMonth;
using report_format::PercentText;
using report_format::PointsRate;
using report_format::PointsValueMinor;

TEST(CsvTest, PlainFieldsAreWrittenAsTheyAre) {
  EXPECT_EQ(CsvField("ada@example.com"), "ada@example.com");
  EXPECT_EQ(CsvField(""), "");
  EXPECT_EQ(CsvField("Zoë"), "Zoë");
}

TEST(CsvTest, CommaQuoteAndLineBreaksAreQuotedWithQuotesDoubled) {
  EXPECT_EQ(CsvField("Lovelace, Ada"), "\"Lovelace, Ada\"");
  EXPECT_EQ(CsvField("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(CsvField("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(CsvField("cr\rhere"), "\"cr\rhere\"");
  EXPECT_EQ(CsvField("\""), "\"\"\"\"");
}

TEST(CsvTest, FormulaStartsGetAQuotePrefix) {
  EXPECT_EQ(CsvField("=HYPERLINK(\"http://x\")"), "\"'=HYPERLINK(\"\"http://x\"\")\"");
  EXPECT_EQ(CsvField("+1+2"), "'+1+2");
  EXPECT_EQ(CsvField("-2+3+cmd|' /C calc'!A0"), "'-2+3+cmd|' /C calc'!A0");
  EXPECT_EQ(CsvField("@SUM(A1:A2)"), "'@SUM(A1:A2)");
  EXPECT_EQ(CsvField("=1,2"), "\"'=1,2\"");
  // Only the first character matters.
  EXPECT_EQ(CsvField("a=b"), "a=b");
}

TEST(CsvTest, PlainNumbersStayNumbersEvenWhenNegative) {
  EXPECT_EQ(CsvField("-120"), "-120");
  EXPECT_EQ(CsvField("-1.50"), "-1.50");
  EXPECT_EQ(CsvField("42"), "42");
  // Not plain numbers: guarded.
  EXPECT_EQ(CsvField("-"), "'-");
  EXPECT_EQ(CsvField("-1."), "'-1.");
  EXPECT_EQ(CsvField("-1e5"), "'-1e5");
  EXPECT_EQ(CsvField("--1"), "'--1");
}

TEST(CsvTest, RowsJoinEscapedFieldsAndEndWithCrLf) {
  EXPECT_EQ(CsvRow({"1", "a,b", "=x", "", "-5"}), "1,\"a,b\",'=x,,-5\r\n");
  EXPECT_EQ(CsvRow({}), "\r\n");
}

TEST(YearMonthTest, OnlyYyyyMmInRangeIsAMonth) {
  auto ym = ParseYearMonth("2026-02");
  ASSERT_TRUE(ym.has_value());
  EXPECT_EQ(ym->year, 2026);
  EXPECT_EQ(ym->month, 2);
  EXPECT_TRUE(ParseYearMonth("1970-01").has_value());
  EXPECT_TRUE(ParseYearMonth("9999-12").has_value());
  for (const char* bad : {"2026-13", "2026-00", "2026-1", "26-01", "2026/01", "2026-01-01",
                          "1969-12", "", "abcd-ef", "2026-0a", "+026-01"}) {
    EXPECT_FALSE(ParseYearMonth(bad).has_value()) << bad;
  }
}

RewardConfig Reward(const std::string& id, int64_t points, RewardKind kind, int64_t amount) {
  RewardConfig r;
  r.id = id;
  r.points = points;
  r.kind = kind;
  r.amount_minor = amount;
  if (kind == RewardKind::kPercentageDiscount) r.percentage = 50;
  return r;
}

TEST(PointsRateTest, TheCheapestRewardWithAMoneyValueSetsTheRate) {
  // 1.0, 0.8 and 0.9 minor units per point; the percentage reward (worth "50%") and free
  // shipping have no fixed value and never count.
  const std::vector<RewardConfig> rewards = {Reward("five", 500, RewardKind::kFixedDiscount, 500),
                                             Reward("eight", 1000, RewardKind::kStoreCredit, 800),
                                             Reward("nine", 1000, RewardKind::kFixedDiscount, 900),
                                             Reward("half", 10, RewardKind::kPercentageDiscount, 0),
                                             Reward("ship", 1, RewardKind::kFreeShipping, 0)};
  auto rate = CheapestPointsRate(rewards);
  ASSERT_TRUE(rate.has_value());
  EXPECT_EQ(rate->reward_id, "eight");
  EXPECT_EQ(rate->points, 1000);
  EXPECT_EQ(rate->amount_minor, 800);
  EXPECT_FALSE(CheapestPointsRate({Reward("half", 10, RewardKind::kPercentageDiscount, 0)}));
  EXPECT_FALSE(CheapestPointsRate({}));
}

TEST(PointsRateTest, RatesAreComparedExactlyAndTiesKeepTheFirst) {
  // 1/3 and 333/1000 per point: 333/1000 is cheaper by 1/3000, which a double of the ratio
  // would still tell, but 10^18-sized figures would not.
  auto rate = CheapestPointsRate({Reward("third", 3, RewardKind::kFixedDiscount, 1),
                                  Reward("333", 1000, RewardKind::kFixedDiscount, 333)});
  ASSERT_TRUE(rate);
  EXPECT_EQ(rate->reward_id, "333");
  rate = CheapestPointsRate({Reward("a", 2, RewardKind::kFixedDiscount, 1),
                             Reward("b", 4, RewardKind::kFixedDiscount, 2)});
  ASSERT_TRUE(rate);
  EXPECT_EQ(rate->reward_id, "a");
  // Huge but exact: (10^18 - 1) / 10^18 against 1 / 1.
  rate = CheapestPointsRate({Reward("one", 1, RewardKind::kFixedDiscount, 1),
                             Reward("almost", 1'000'000'000'000'000'000, RewardKind::kFixedDiscount,
                                    999'999'999'999'999'999)});
  ASSERT_TRUE(rate);
  EXPECT_EQ(rate->reward_id, "almost");
}

TEST(PointsRateTest, ValuesRoundToTheNearestMinorUnitHalvesAwayFromZero) {
  const PointsRate eight{"eight", 1000, 800};  // 0.8 minor units per point
  EXPECT_EQ(PointsValueMinor(270, eight), 216);
  EXPECT_EQ(PointsValueMinor(3, eight), 2);  // 2.4
  EXPECT_EQ(PointsValueMinor(7, eight), 6);  // 5.6
  EXPECT_EQ(PointsValueMinor(0, eight), 0);
  const PointsRate half{"half", 2, 1};        // 0.5 per point
  EXPECT_EQ(PointsValueMinor(3, half), 2);    // 1.5 -> 2
  EXPECT_EQ(PointsValueMinor(-3, half), -2);  // -1.5 -> -2
  EXPECT_EQ(PointsValueMinor(1, half), 1);    // 0.5 -> 1
  // No overflow where points x amount exceeds 64 bits: 10^12 points at 5000 per 1000.
  EXPECT_EQ(PointsValueMinor(1'000'000'000'000, PointsRate{"x", 1000, 5'000'000'000}),
            5'000'000'000'000'000'000);
}

TEST(PercentTextTest, TwoDecimalsRoundedHalfUp) {
  EXPECT_EQ(PercentText(25, 155), "16.13");  // 16.129...
  EXPECT_EQ(PercentText(1, 8), "12.50");
  EXPECT_EQ(PercentText(1, 3), "33.33");
  EXPECT_EQ(PercentText(2, 3), "66.67");
  EXPECT_EQ(PercentText(1, 80000), "0.00");  // 0.00125 %
  EXPECT_EQ(PercentText(1, 20000), "0.01");  // 0.005 %: half a hundredth rounds up
  EXPECT_EQ(PercentText(0, 10), "0.00");
  EXPECT_EQ(PercentText(10, 10), "100.00");
  EXPECT_EQ(PercentText(5, 0), "");
}

}  // namespace
}  // namespace loyaltyd::report_format_test
