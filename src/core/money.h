// Exact money: integer minor units plus an ISO-4217 currency.
//
// Amounts arrive from the platforms as decimal strings ("19.99", "1000", "12.345"); they are
// parsed digit by digit into minor units and never pass through a double. The number of minor
// digits comes from ISO 4217 (JPY 0, USD 2, KWD 3, CLF 4).
// Thread-safety: values and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace loyaltyd {

// Number of minor-unit digits for an ISO-4217 code, or InvalidArgument for an unknown code.
// Codes are matched exactly (upper case), as the platforms send them.
Result<int> CurrencyExponent(std::string_view currency_code);

// Parses a decimal string into minor units of a currency with `exponent` digits.
// Accepts an optional leading '-', digits, and an optional '.' followed by digits. Extra
// fractional digits are accepted only when they are zeros ("10.000" in USD), because dropping
// a non-zero digit would not be exact. Rejects empty strings, exponents, spaces, "+", "NaN",
// and values beyond +/- 9.2e18 minor units.
Result<int64_t> ParseDecimalToMinor(std::string_view text, int exponent);

// Formats minor units as a decimal string with exactly `exponent` fractional digits.
std::string FormatMinor(int64_t minor, int exponent);

// floor(a * b / c) for a, b >= 0 and c > 0, exact: the product is taken in 128 bits. For
// proportional shares (points for a refunded part of an order), whose result is at most
// max(a, b) when b <= c or a <= c.
int64_t MulDivFloor(int64_t a, int64_t b, int64_t c);

struct Money {
  int64_t minor = 0;
  std::string currency;  // ISO-4217, e.g. "USD"

  friend bool operator==(const Money&, const Money&) = default;
};

// ParseDecimalToMinor with the currency's own exponent.
Result<Money> ParseMoney(std::string_view text, std::string_view currency_code);

// "19.99 USD".
std::string FormatMoney(const Money& money);

}  // namespace loyaltyd
