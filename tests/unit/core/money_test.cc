#include "core/money.h"

#include <limits>
#include <string>

#include <gtest/gtest.h>

namespace loyaltyd::money_test {
namespace {

int64_t Minor(std::string_view text, int exponent) {
  Result<int64_t> r = ParseDecimalToMinor(text, exponent);
  EXPECT_TRUE(r.ok()) << text << ": " << r.status().message();
  return r.ok() ? *r : -999;
}

bool Rejected(std::string_view text, int exponent) {
  return !ParseDecimalToMinor(text, exponent).ok();
}

TEST(MoneyTest, ParsesDecimalStringsExactly) {
  EXPECT_EQ(Minor("10.00", 2), 1000);
  EXPECT_EQ(Minor("0.1", 2), 10);
  EXPECT_EQ(Minor("19.99", 2), 1999);
  EXPECT_EQ(Minor("0.07", 2), 7);
  EXPECT_EQ(Minor("7", 2), 700);
  EXPECT_EQ(Minor("-5.25", 2), -525);
  EXPECT_EQ(Minor("-0", 2), 0);
  // 0.1 + 0.2 style values that a double gets wrong stay exact.
  EXPECT_EQ(Minor("0.30", 2), 30);
  EXPECT_EQ(Minor("1234567890123.45", 2), 123456789012345);
}

TEST(MoneyTest, ExtraFractionalDigitsOnlyWhenZero) {
  EXPECT_EQ(Minor("10.000", 2), 1000);
  EXPECT_EQ(Minor("10.5000", 2), 1050);
  EXPECT_TRUE(Rejected("19.999", 2));
  EXPECT_TRUE(Rejected("0.001", 2));
}

TEST(MoneyTest, CurrencyExponentsFollowIso4217) {
  EXPECT_EQ(*CurrencyExponent("USD"), 2);
  EXPECT_EQ(*CurrencyExponent("JPY"), 0);
  EXPECT_EQ(*CurrencyExponent("KWD"), 3);
  EXPECT_EQ(*CurrencyExponent("CLF"), 4);
  EXPECT_FALSE(CurrencyExponent("usd").ok());
  EXPECT_FALSE(CurrencyExponent("XYZ").ok());
  EXPECT_FALSE(CurrencyExponent("").ok());
  EXPECT_EQ(Minor("1000", 0), 1000);
  EXPECT_TRUE(Rejected("1000.5", 0));
  EXPECT_EQ(Minor("1000.0", 0), 1000);
  EXPECT_EQ(Minor("1.234", 3), 1234);
}

TEST(MoneyTest, RejectsWhatIsNotAPlainDecimal) {
  for (const char* bad : {"", " 1", "1 ", "+1", "1e3", "1E3", "NaN", "inf", "0x10", "1,000.00",
                          ".5", "5.", "-", "--1", "1.2.3", "$5", "١٢"}) {
    EXPECT_TRUE(Rejected(bad, 2)) << "'" << bad << "'";
  }
}

TEST(MoneyTest, RejectsValuesOutsideInt64InsteadOfWrapping) {
  EXPECT_EQ(Minor("92233720368547758.07", 2), INT64_MAX);
  EXPECT_TRUE(Rejected("92233720368547758.08", 2));
  EXPECT_EQ(Minor("-92233720368547758.08", 2), INT64_MIN);
  EXPECT_TRUE(Rejected("-92233720368547758.09", 2));
  EXPECT_TRUE(Rejected("99999999999999999999999999999", 0));
  EXPECT_TRUE(Rejected(std::string(5000, '9'), 2));
}

TEST(MoneyTest, FormatsWithTheCurrencyDigitsAndRoundTrips) {
  EXPECT_EQ(FormatMinor(1999, 2), "19.99");
  EXPECT_EQ(FormatMinor(5, 2), "0.05");
  EXPECT_EQ(FormatMinor(-5, 2), "-0.05");
  EXPECT_EQ(FormatMinor(0, 2), "0.00");
  EXPECT_EQ(FormatMinor(1000, 0), "1000");
  EXPECT_EQ(FormatMinor(1, 3), "0.001");
  EXPECT_EQ(FormatMinor(INT64_MIN, 2), "-92233720368547758.08");
  for (int64_t v : {int64_t{0}, int64_t{1}, int64_t{-1}, int64_t{123456}, INT64_MAX, INT64_MIN}) {
    for (int exponent : {0, 2, 3}) {
      EXPECT_EQ(Minor(FormatMinor(v, exponent), exponent), v) << v << " exp " << exponent;
    }
  }
}

TEST(MoneyTest, MoneyCarriesItsCurrency) {
  Result<Money> m = ParseMoney("12.345", "KWD");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(*m, (Money{12345, "KWD"}));
  EXPECT_EQ(FormatMoney(*m), "12.345 KWD");
  EXPECT_EQ(FormatMoney(Money{4900, "JPY"}), "4900 JPY");
  EXPECT_FALSE(ParseMoney("1.00", "ZZZ").ok());
  EXPECT_FALSE(ParseMoney("1.5", "JPY").ok());
}

TEST(MoneyTest, MulDivFloorIsExactBeyond64BitProducts) {
  EXPECT_EQ(MulDivFloor(10, 333, 1000), 3);
  EXPECT_EQ(MulDivFloor(10, 1000, 1000), 10);
  EXPECT_EQ(MulDivFloor(0, 5, 7), 0);
  const int64_t big = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(MulDivFloor(big, big - 1, big), big - 1);  // the product needs 126 bits
}

}  // namespace
}  // namespace loyaltyd::money_test
