#include "rules/earn_rules.h"

#include <algorithm>
#include <limits>

namespace loyaltyd {

int64_t EligibleSpendMinor(const Order& order) {
  int64_t eligible = 0;
  for (const LineItem& line : order.line_items) {
    if (line.is_gift_card) continue;
    int64_t net = line.gross_minor - line.discount_minor;
    // With tax-inclusive prices the line's price carries its tax; take it out so that two
    // stores selling the same goods earn the same points whatever their tax display.
    if (order.taxes_included) net -= line.tax_minor;
    // Saturate rather than wrap: an absurd order must not turn into negative spend.
    if (__builtin_add_overflow(eligible, std::max<int64_t>(net, 0), &eligible)) {
      return std::numeric_limits<int64_t>::max();
    }
  }
  return eligible;
}

Result<std::vector<EarnAward>> ComputeEarnAwards(const ProgramConfig& program, const Order& order) {
  if (order.currency != program.currency) {
    return FailedPrecondition("order currency " + order.currency + " is not the program currency " +
                              program.currency + "; loyaltyd does not convert currencies");
  }
  const int64_t eligible = EligibleSpendMinor(order);
  std::vector<EarnAward> awards;
  for (const EarnRule& rule : program.earn) {
    switch (rule.type) {
      case EarnRuleType::kSpend: {
        const int64_t units = eligible / rule.per_minor;  // floor: eligible and per are >= 0
        int64_t points = 0;
        if (__builtin_mul_overflow(units, rule.points, &points)) {
          return FailedPrecondition("points for order " + order.name + " overflow a 64-bit count");
        }
        if (points <= 0) break;
        const int exponent = program.currency_exponent;
        awards.push_back(EarnAward{rule.id, points,
                                   std::to_string(rule.points) + " point(s) per " +
                                       FormatMinor(rule.per_minor, exponent) + " " +
                                       program.currency + " on eligible spend of " +
                                       FormatMinor(eligible, exponent) + " " + program.currency});
        break;
      }
    }
  }
  return awards;
}

}  // namespace loyaltyd
