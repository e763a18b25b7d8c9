#include "core/money.h"

#include <algorithm>
#include <iterator>
#include <limits>

namespace loyaltyd {
namespace {

struct CurrencyDigits {
  std::string_view code;
  int exponent;
};

// ISO 4217 active codes and their minor units (List One, 2024). Kept sorted for binary search.
constexpr CurrencyDigits kCurrencies[] = {
    {"AED", 2}, {"AFN", 2}, {"ALL", 2}, {"AMD", 2}, {"ANG", 2}, {"AOA", 2}, {"ARS", 2}, {"AUD", 2},
    {"AWG", 2}, {"AZN", 2}, {"BAM", 2}, {"BBD", 2}, {"BDT", 2}, {"BGN", 2}, {"BHD", 3}, {"BIF", 0},
    {"BMD", 2}, {"BND", 2}, {"BOB", 2}, {"BRL", 2}, {"BSD", 2}, {"BTN", 2}, {"BWP", 2}, {"BYN", 2},
    {"BZD", 2}, {"CAD", 2}, {"CDF", 2}, {"CHF", 2}, {"CLF", 4}, {"CLP", 0}, {"CNY", 2}, {"COP", 2},
    {"CRC", 2}, {"CUP", 2}, {"CVE", 2}, {"CZK", 2}, {"DJF", 0}, {"DKK", 2}, {"DOP", 2}, {"DZD", 2},
    {"EGP", 2}, {"ERN", 2}, {"ETB", 2}, {"EUR", 2}, {"FJD", 2}, {"FKP", 2}, {"GBP", 2}, {"GEL", 2},
    {"GHS", 2}, {"GIP", 2}, {"GMD", 2}, {"GNF", 0}, {"GTQ", 2}, {"GYD", 2}, {"HKD", 2}, {"HNL", 2},
    {"HTG", 2}, {"HUF", 2}, {"IDR", 2}, {"ILS", 2}, {"INR", 2}, {"IQD", 3}, {"IRR", 2}, {"ISK", 0},
    {"JMD", 2}, {"JOD", 3}, {"JPY", 0}, {"KES", 2}, {"KGS", 2}, {"KHR", 2}, {"KMF", 0}, {"KPW", 2},
    {"KRW", 0}, {"KWD", 3}, {"KYD", 2}, {"KZT", 2}, {"LAK", 2}, {"LBP", 2}, {"LKR", 2}, {"LRD", 2},
    {"LSL", 2}, {"LYD", 3}, {"MAD", 2}, {"MDL", 2}, {"MGA", 2}, {"MKD", 2}, {"MMK", 2}, {"MNT", 2},
    {"MOP", 2}, {"MRU", 2}, {"MUR", 2}, {"MVR", 2}, {"MWK", 2}, {"MXN", 2}, {"MYR", 2}, {"MZN", 2},
    {"NAD", 2}, {"NGN", 2}, {"NIO", 2}, {"NOK", 2}, {"NPR", 2}, {"NZD", 2}, {"OMR", 3}, {"PAB", 2},
    {"PEN", 2}, {"PGK", 2}, {"PHP", 2}, {"PKR", 2}, {"PLN", 2}, {"PYG", 0}, {"QAR", 2}, {"RON", 2},
    {"RSD", 2}, {"RUB", 2}, {"RWF", 0}, {"SAR", 2}, {"SBD", 2}, {"SCR", 2}, {"SDG", 2}, {"SEK", 2},
    {"SGD", 2}, {"SHP", 2}, {"SLE", 2}, {"SOS", 2}, {"SRD", 2}, {"SSP", 2}, {"STN", 2}, {"SVC", 2},
    {"SYP", 2}, {"SZL", 2}, {"THB", 2}, {"TJS", 2}, {"TMT", 2}, {"TND", 3}, {"TOP", 2}, {"TRY", 2},
    {"TTD", 2}, {"TWD", 2}, {"TZS", 2}, {"UAH", 2}, {"UGX", 0}, {"USD", 2}, {"UYI", 0}, {"UYU", 2},
    {"UYW", 4}, {"UZS", 2}, {"VES", 2}, {"VND", 0}, {"VUV", 0}, {"WST", 2}, {"XAF", 0}, {"XCD", 2},
    {"XOF", 0}, {"XPF", 0}, {"YER", 2}, {"ZAR", 2}, {"ZMW", 2}, {"ZWG", 2}, {"ZWL", 2},
};

}  // namespace

Result<int> CurrencyExponent(std::string_view code) {
  auto it =
      std::lower_bound(std::begin(kCurrencies), std::end(kCurrencies), code,
                       [](const CurrencyDigits& c, std::string_view k) { return c.code < k; });
  if (it == std::end(kCurrencies) || it->code != code) {
    return InvalidArgument("unknown ISO-4217 currency code '" + std::string(code) + "'");
  }
  return it->exponent;
}

Result<int64_t> ParseDecimalToMinor(std::string_view text, int exponent) {
  // Built by appending: GCC 12 warns falsely (-Wrestrict, PR 105651) on "'" + std::string.
  std::string shown(1, '\'');
  shown.append(text.substr(0, 40)).push_back('\'');
  if (text.empty()) return InvalidArgument("empty amount");
  bool negative = false;
  size_t i = 0;
  if (text[0] == '-') {
    negative = true;
    i = 1;
  }
  // Accumulate as a negative number so that INT64_MIN stays representable.
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  int64_t acc = 0;
  size_t int_digits = 0;
  auto push_digit = [&](int d) -> bool {
    if (acc < kMin / 10) return false;
    acc *= 10;
    if (acc < kMin + d) return false;
    acc -= d;
    return true;
  };
  for (; i < text.size() && text[i] != '.'; ++i) {
    const char c = text[i];
    if (c < '0' || c > '9') return InvalidArgument("not a decimal amount: " + shown);
    if (!push_digit(c - '0')) return InvalidArgument("amount out of range: " + shown);
    ++int_digits;
  }
  if (int_digits == 0) return InvalidArgument("not a decimal amount: " + shown);
  int frac_digits = 0;
  if (i < text.size()) {  // text[i] == '.'
    ++i;
    if (i == text.size()) return InvalidArgument("not a decimal amount: " + shown);
    for (; i < text.size(); ++i) {
      const char c = text[i];
      if (c < '0' || c > '9') return InvalidArgument("not a decimal amount: " + shown);
      if (frac_digits < exponent) {
        if (!push_digit(c - '0')) return InvalidArgument("amount out of range: " + shown);
      } else if (c != '0') {
        return InvalidArgument("amount " + shown + " has more than " + std::to_string(exponent) +
                               " decimal places");
      }
      ++frac_digits;
    }
  }
  for (; frac_digits < exponent; ++frac_digits) {
    if (!push_digit(0)) return InvalidArgument("amount out of range: " + shown);
  }
  if (negative) return acc;
  if (acc == kMin) return InvalidArgument("amount out of range: " + shown);
  return -acc;
}

std::string FormatMinor(int64_t minor, int exponent) {
  const bool negative = minor < 0;
  // Work in unsigned so that INT64_MIN formats correctly.
  uint64_t magnitude = negative ? 0 - static_cast<uint64_t>(minor) : static_cast<uint64_t>(minor);
  std::string digits = std::to_string(magnitude);
  if (exponent > 0) {
    if (digits.size() <= static_cast<size_t>(exponent)) {
      digits.insert(0, static_cast<size_t>(exponent) + 1 - digits.size(), '0');
    }
    digits.insert(digits.size() - static_cast<size_t>(exponent), 1, '.');
  }
  return negative ? "-" + digits : digits;
}

Result<Money> ParseMoney(std::string_view text, std::string_view currency_code) {
  Result<int> exponent = CurrencyExponent(currency_code);
  if (!exponent.ok()) return exponent.status();
  Result<int64_t> minor = ParseDecimalToMinor(text, *exponent);
  if (!minor.ok()) return minor.status();
  return Money{*minor, std::string(currency_code)};
}

std::string FormatMoney(const Money& money) {
  Result<int> exponent = CurrencyExponent(money.currency);
  return FormatMinor(money.minor, exponent.ok() ? *exponent : 2) + " " + money.currency;
}

int64_t MulDivFloor(int64_t a, int64_t b, int64_t c) {
  __extension__ typedef __int128 Int128;  // a GCC/Clang extension; -Wpedantic knows it is one
  return static_cast<int64_t>(static_cast<Int128>(a) * b / c);
}

}  // namespace loyaltyd
