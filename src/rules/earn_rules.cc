#include "rules/earn_rules.h"

#include <algorithm>
#include <cctype>
#include <limits>
#include <optional>

#include "core/money.h"
#include "rules/tier_rules.h"

namespace loyaltyd {
namespace {

// A line's share of eligible spend: after its discounts, without tax, never negative.
int64_t LineEligibleMinor(const Order& order, const LineItem& line) {
  int64_t net = line.gross_minor - line.discount_minor;
  // With tax-inclusive prices the line's price carries its tax; take it out so that two
  // stores selling the same goods earn the same points whatever their tax display.
  if (order.taxes_included) net -= line.tax_minor;
  return std::max<int64_t>(net, 0);
}

// Saturate rather than wrap: an absurd order must not turn into negative spend.
void AddSaturating(int64_t& sum, int64_t value) {
  if (__builtin_add_overflow(sum, value, &sum)) sum = std::numeric_limits<int64_t>::max();
}

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Why a spend rule leaves a line out ("SKU GIFT-WRAP"), or "" when the line counts. A line
// without the field (a deleted product has no id; WooCommerce lines have no vendor) never
// matches an exclusion by it.
std::string ExclusionOf(const EarnRule& rule, const LineItem& line) {
  if (!line.product_id.empty() &&
      std::find(rule.exclude_product_ids.begin(), rule.exclude_product_ids.end(),
                line.product_id) != rule.exclude_product_ids.end()) {
    return "product " + line.product_id;
  }
  if (!line.sku.empty() && std::find(rule.exclude_skus.begin(), rule.exclude_skus.end(),
                                     line.sku) != rule.exclude_skus.end()) {
    return "SKU " + line.sku;
  }
  if (!line.vendor.empty()) {
    for (const std::string& vendor : rule.exclude_vendors) {
      if (EqualsIgnoringCase(vendor, line.vendor)) return "vendor " + line.vendor;
    }
  }
  return "";
}

std::string PointsText(int64_t points) {
  return std::to_string(points) + (points == 1 ? " point" : " points");
}

// The spend rule's award, or nullopt when it gives nothing worth a ledger entry.
// `tier`, when set, is the customer's VIP level: its multiplier scales the rule's points exactly
// (basis points, rounded down) before the per-order cap, which stays the most an order earns.
Result<std::optional<EarnAward>> SpendAward(const ProgramConfig& program, const EarnRule& rule,
                                            const Order& order, const TierLevel* tier) {
  int64_t eligible = 0;
  int64_t excluded_lines = 0;
  std::vector<std::string> reasons;  // distinct, in line order
  for (const LineItem& line : order.line_items) {
    if (line.is_gift_card) continue;  // never spend; not an exclusion of this rule
    std::string reason = ExclusionOf(rule, line);
    if (!reason.empty()) {
      ++excluded_lines;
      if (std::find(reasons.begin(), reasons.end(), reason) == reasons.end()) {
        reasons.push_back(std::move(reason));
      }
      continue;
    }
    AddSaturating(eligible, LineEligibleMinor(order, line));
  }

  const int exponent = program.currency_exponent;
  const std::string& currency = program.currency;
  std::string spend_text = "eligible spend of " + FormatMinor(eligible, exponent) + " " + currency;
  if (excluded_lines > 0) {
    spend_text += " (" + std::to_string(excluded_lines) +
                  (excluded_lines == 1 ? " line excluded: " : " lines excluded: ");
    for (size_t i = 0; i < reasons.size(); ++i) spend_text += (i == 0 ? "" : ", ") + reasons[i];
    spend_text += ")";
  }
  if (eligible < rule.minimum_order_minor) {
    return std::optional<EarnAward>(
        EarnAward{rule.id, 0,
                  "no points: " + spend_text + " is below the minimum order of " +
                      FormatMinor(rule.minimum_order_minor, exponent) + " " + currency,
                  ""});
  }

  // Whole units of `per`; eligible and per are >= 0 and per > 0. Half up compares the
  // remainder with what is left of the unit, which cannot overflow.
  int64_t units = eligible / rule.per_minor;
  const int64_t remainder = eligible % rule.per_minor;
  if (rule.rounding == EarnRounding::kNearest && remainder >= rule.per_minor - remainder) ++units;
  int64_t points = 0;
  if (__builtin_mul_overflow(units, rule.points, &points)) {
    return FailedPrecondition("points for order " + order.name + " overflow a 64-bit count");
  }
  const bool multiplied = tier != nullptr && tier->multiplier_bp != 10000 && points > 0;
  if (multiplied) {
    // multiplier_bp <= 1,000,000 (x100): the result fits when points does a hundredfold.
    if (points > std::numeric_limits<int64_t>::max() / 100) {
      return FailedPrecondition("points for order " + order.name + " overflow a 64-bit count");
    }
    points = MulDivFloor(points, tier->multiplier_bp, 10000);
  }
  const bool capped = rule.max_points_per_order > 0 && points > rule.max_points_per_order;
  if (capped) points = rule.max_points_per_order;
  if (points <= 0) return std::optional<EarnAward>();

  std::string description = PointsText(rule.points) + " per " +
                            FormatMinor(rule.per_minor, exponent) + " " + currency + " on " +
                            spend_text;
  if (remainder != 0) {
    description +=
        rule.rounding == EarnRounding::kFloor ? ", rounded down" : ", rounded to nearest";
  }
  if (multiplied) {
    description += ", x" + FormatMultiplier(tier->multiplier_bp) + " " + tier->name;
  }
  if (capped) description += ", capped at " + PointsText(points) + " per order";
  return std::optional<EarnAward>(EarnAward{rule.id, points, std::move(description), ""});
}

}  // namespace

int64_t EligibleSpendMinor(const Order& order) {
  int64_t eligible = 0;
  for (const LineItem& line : order.line_items) {
    if (line.is_gift_card) continue;
    AddSaturating(eligible, LineEligibleMinor(order, line));
  }
  return eligible;
}

Result<std::vector<EarnAward>> ComputeEarnAwards(const ProgramConfig& program, const Order& order,
                                                 const EarnContext& context) {
  // An unknown tier (the config lost the level) earns like no tier.
  const TierLevel* tier =
      context.tier_id.empty() ? nullptr : program.tiers.FindLevel(context.tier_id);
  if (order.currency != program.currency) {
    return FailedPrecondition("order currency " + order.currency + " is not the program currency " +
                              program.currency + "; loyaltyd does not convert currencies");
  }
  std::vector<EarnAward> awards;
  for (const EarnRule& rule : program.earn) {
    switch (rule.type) {
      case EarnRuleType::kSpend: {
        Result<std::optional<EarnAward>> award = SpendAward(program, rule, order, tier);
        if (!award.ok()) return award.status();
        if (*award) awards.push_back(std::move(**award));
        break;
      }
      case EarnRuleType::kFirstOrder:
        // An order of gift cards only is not a purchase: it does not use up the bonus.
        if (EligibleSpendMinor(order) <= 0) break;
        awards.push_back(
            EarnAward{rule.id, rule.points, "first order bonus", std::string(kFirstOrderOnceKey)});
        break;
    }
  }
  return awards;
}

}  // namespace loyaltyd
