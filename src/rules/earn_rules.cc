#include "rules/earn_rules.h"

#include <algorithm>
#include <cctype>
#include <limits>
#include <optional>

#include "core/money.h"

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

// A rule's eligible spend: the order's, less the lines the rule excludes (spend and cashback
// rules share the exclusions), with the words that explain it to the merchant.
struct RuleSpend {
  int64_t eligible_minor = 0;
  std::string text;  // "eligible spend of 49.00 USD (1 line excluded: SKU GIFT-WRAP)"
};

RuleSpend RuleEligibleSpend(const ProgramConfig& program, const EarnRule& rule,
                            const Order& order) {
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

  std::string spend_text = "eligible spend of " + FormatMinor(eligible, program.currency_exponent) +
                           " " + program.currency;
  if (excluded_lines > 0) {
    spend_text += " (" + std::to_string(excluded_lines) +
                  (excluded_lines == 1 ? " line excluded: " : " lines excluded: ");
    for (size_t i = 0; i < reasons.size(); ++i) spend_text += (i == 0 ? "" : ", ") + reasons[i];
    spend_text += ")";
  }
  return RuleSpend{eligible, std::move(spend_text)};
}

// The spend rule's award, or nullopt when it gives nothing worth a ledger entry.
Result<std::optional<EarnAward>> SpendAward(const ProgramConfig& program, const EarnRule& rule,
                                            const Order& order) {
  RuleSpend spend = RuleEligibleSpend(program, rule, order);
  const int64_t eligible = spend.eligible_minor;
  const std::string& spend_text = spend.text;
  const int exponent = program.currency_exponent;
  const std::string& currency = program.currency;
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
  if (capped) description += ", capped at " + PointsText(points) + " per order";
  return std::optional<EarnAward>(EarnAward{rule.id, points, std::move(description), ""});
}

// Points and credit are priced in the program currency; loyaltyd does not convert.
Status CheckProgramCurrency(const ProgramConfig& program, const Order& order) {
  if (order.currency == program.currency) return Status::Ok();
  return FailedPrecondition("order currency " + order.currency + " is not the program currency " +
                            program.currency + "; loyaltyd does not convert currencies");
}

// The cashback rule's award, or nullopt when it gives nothing worth a ledger entry. The credit
// is floor(eligible * basis points / 10000) in minor units: exact, and never more than the
// stated percentage.
std::optional<CreditAward> CashbackAward(const ProgramConfig& program, const EarnRule& rule,
                                         const Order& order) {
  const RuleSpend spend = RuleEligibleSpend(program, rule, order);
  const int exponent = program.currency_exponent;
  const std::string& currency = program.currency;
  if (spend.eligible_minor < rule.minimum_order_minor) {
    return CreditAward{rule.id, 0,
                       "no credit: " + spend.text + " is below the minimum order of " +
                           FormatMinor(rule.minimum_order_minor, exponent) + " " + currency};
  }
  int64_t credit = MulDivFloor(spend.eligible_minor, rule.percent_basis_points, 10'000);
  const bool capped =
      rule.max_credit_per_order_minor > 0 && credit > rule.max_credit_per_order_minor;
  if (capped) credit = rule.max_credit_per_order_minor;
  if (credit <= 0) return std::nullopt;
  std::string description = FormatMinor(rule.percent_basis_points, 2) + "% cashback on " +
                            spend.text + ": " + FormatMinor(credit, exponent) + " " + currency +
                            " in store credit";
  // eligible * bp is a whole number of minor units times 10000 only when no fraction was
  // dropped; (eligible mod 10000) * bp < 10^8 cannot overflow.
  if (!capped && (spend.eligible_minor % 10'000) * rule.percent_basis_points % 10'000 != 0) {
    description += ", rounded down";
  }
  if (capped) {
    description += ", capped at " + FormatMinor(credit, exponent) + " " + currency + " per order";
  }
  return CreditAward{rule.id, credit, std::move(description)};
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
  (void)context;  // tiers and campaigns read it
  LOYALTYD_RETURN_IF_ERROR(CheckProgramCurrency(program, order));
  std::vector<EarnAward> awards;
  for (const EarnRule& rule : program.earn) {
    switch (rule.type) {
      case EarnRuleType::kSpend: {
        Result<std::optional<EarnAward>> award = SpendAward(program, rule, order);
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
      case EarnRuleType::kCashback:
        break;  // store credit, not points: ComputeCashbackAwards
    }
  }
  return awards;
}

Result<std::vector<CreditAward>> ComputeCashbackAwards(const ProgramConfig& program,
                                                       const Order& order) {
  LOYALTYD_RETURN_IF_ERROR(CheckProgramCurrency(program, order));
  std::vector<CreditAward> awards;
  for (const EarnRule& rule : program.earn) {
    if (rule.type != EarnRuleType::kCashback) continue;
    if (std::optional<CreditAward> award = CashbackAward(program, rule, order)) {
      awards.push_back(std::move(*award));
    }
  }
  return awards;
}

}  // namespace loyaltyd
