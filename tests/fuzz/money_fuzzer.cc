// Fuzzes the money parser (core/money.h) against a reference written differently: the first
// byte picks the currency exponent (0..4, as in ISO 4217), the rest is the amount text.
// ParseDecimalToMinor must accept exactly the texts the reference accepts, with the same value,
// and FormatMinor must print a text that parses back to it. With the first byte's high bit
// set, bytes 1..3 are a currency code for ParseMoney instead, which must agree with
// CurrencyExponent + ParseDecimalToMinor.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/money.h"
#include "fuzz/fuzz_message.h"

namespace loyaltyd::fuzz {
namespace {

__extension__ typedef __int128 Int128;  // a GCC/Clang extension

// The reference: strip the sign, split at '.', pad or trim the fraction to `exponent` digits
// (trimming only zeros), drop leading zeros, and range-check the digits in 128 bits.
std::optional<int64_t> ReferenceParse(std::string_view text, int exponent) {
  bool negative = false;
  if (!text.empty() && text[0] == '-') {
    negative = true;
    text.remove_prefix(1);
  }
  const size_t dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  std::string_view fraction;
  if (dot != std::string_view::npos) {
    fraction = text.substr(dot + 1);
    if (fraction.empty()) return std::nullopt;  // "5." is not an amount
  }
  if (whole.empty()) return std::nullopt;  // ".5" and "-" are not amounts
  auto all_digits = [](std::string_view s) {
    return s.find_first_not_of("0123456789") == std::string_view::npos;
  };
  if (!all_digits(whole) || !all_digits(fraction)) return std::nullopt;
  std::string digits(whole);
  for (size_t i = 0; i < fraction.size(); ++i) {
    if (i < static_cast<size_t>(exponent)) {
      digits.push_back(fraction[i]);
    } else if (fraction[i] != '0') {
      return std::nullopt;  // a non-zero digit beyond the currency's precision
    }
  }
  for (size_t i = fraction.size(); i < static_cast<size_t>(exponent); ++i) digits.push_back('0');
  const size_t first = digits.find_first_not_of('0');
  digits = first == std::string::npos ? "0" : digits.substr(first);
  if (digits.size() > 19) return std::nullopt;
  Int128 value = 0;
  for (char c : digits) value = value * 10 + (c - '0');
  if (negative) value = -value;
  if (value > INT64_MAX || value < INT64_MIN) return std::nullopt;
  return static_cast<int64_t>(value);
}

}  // namespace
}  // namespace loyaltyd::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace loyaltyd;
  using namespace loyaltyd::fuzz;
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);

  if ((mode & 0x80) != 0) {
    const std::string_view code = rest.substr(0, 3);
    const std::string_view text = rest.substr(code.size());
    Result<Money> money = ParseMoney(text, code);
    Result<int> exponent = CurrencyExponent(code);
    if (!exponent.ok()) {
      if (money.ok()) InvariantBroken("ParseMoney accepted an unknown currency");
      return 0;
    }
    if (*exponent < 0 || *exponent > 4) InvariantBroken("an ISO exponent outside 0..4");
    Result<int64_t> minor = ParseDecimalToMinor(text, *exponent);
    if (money.ok() != minor.ok()) InvariantBroken("ParseMoney disagrees with its parts");
    if (money.ok() && (money->minor != *minor || money->currency != code)) {
      InvariantBroken("ParseMoney's value differs from its parts'");
    }
    if (money.ok()) (void)FormatMoney(*money);
    return 0;
  }

  const int exponent = mode % 5;
  Result<int64_t> parsed = ParseDecimalToMinor(rest, exponent);
  const std::optional<int64_t> reference = ReferenceParse(rest, exponent);
  if (parsed.ok() != reference.has_value()) {
    InvariantBroken(parsed.ok() ? "accepted a text the reference refuses"
                                : "refused a text the reference accepts");
  }
  if (!parsed.ok()) {
    if (parsed.status().code() != StatusCode::kInvalidArgument) {
      InvariantBroken("a refused amount is not InvalidArgument");
    }
    return 0;
  }
  if (*parsed != *reference) InvariantBroken("parsed value differs from the reference");
  const std::string formatted = FormatMinor(*parsed, exponent);
  Result<int64_t> again = ParseDecimalToMinor(formatted, exponent);
  if (!again.ok() || *again != *parsed) InvariantBroken("FormatMinor does not parse back");
  return 0;
}
