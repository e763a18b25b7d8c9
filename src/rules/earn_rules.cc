#include "rules/earn_rules.h"

#include <algorithm>
#include <cctype>
#include <limits>
#include <optional>
#include <utility>

#include "core/calendar.h"
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

// --- Campaigns (program.campaigns) ---

// Whether a line is one a campaign names (any line when it names none).
bool InCampaignScope(const CampaignConfig& campaign, const LineItem& line) {
  if (campaign.product_ids.empty() && campaign.skus.empty()) return true;
  auto listed = [](const std::vector<std::string>& list, const std::string& value) {
    return !value.empty() && std::find(list.begin(), list.end(), value) != list.end();
  };
  return listed(campaign.product_ids, line.product_id) || listed(campaign.skus, line.sku);
}

bool IsScoped(const CampaignConfig& campaign) {
  return !campaign.product_ids.empty() || !campaign.skus.empty();
}

// Campaigns whose window holds the order's created_at and whose tiers (if any) hold the
// customer's. The order's own timestamp, not the clock: replaying the inbox decides the same.
// An order whose created_at does not parse is in no campaign.
std::vector<const CampaignConfig*> ActiveCampaigns(const ProgramConfig& program, const Order& order,
                                                   const EarnContext& context) {
  std::vector<const CampaignConfig*> active;
  if (program.campaigns.empty()) return active;
  Result<int64_t> created = ParseIso8601Millis(order.created_at);
  if (!created.ok()) return active;
  for (const CampaignConfig& c : program.campaigns) {
    if (*created < c.starts_at_ms || *created >= c.ends_at_ms) continue;
    if (!c.tiers.empty() &&
        std::find(c.tiers.begin(), c.tiers.end(), context.tier_id) == c.tiers.end()) {
      continue;
    }
    active.push_back(&c);
  }
  return active;
}

// "2", "1.5", "1.25" from basis points.
std::string MultiplierText(int64_t basis_points) {
  std::string text = FormatMinor(basis_points / 100, 2);
  while (text.back() == '0') text.pop_back();
  if (text.back() == '.') text.pop_back();
  return text + "x";
}

// points * basis_points / 10000, rounded as the rule rounds (down, or half up). points <=
// INT64_MAX / 100 and basis_points <= 1'000'000, so the result fits.
int64_t ScaleBasisPoints(int64_t points, int64_t basis_points, EarnRounding rounding) {
  int64_t scaled = MulDivFloor(points, basis_points, 10'000);
  const int64_t remainder = ((points % 10'000) * basis_points) % 10'000;
  if (rounding == EarnRounding::kNearest && 2 * remainder >= 10'000) ++scaled;
  return scaled;
}

// --- Spend rules ---

// Units of `per` in `eligible` (rounded as the rule says) times the rule's points, before any
// cap; false on overflow. `remainder` is what is left of the last unit.
bool RulePoints(const EarnRule& rule, int64_t eligible, int64_t& points, int64_t& remainder) {
  // Whole units of `per`; eligible and per are >= 0 and per > 0. Half up compares the
  // remainder with what is left of the unit, which cannot overflow.
  int64_t units = eligible / rule.per_minor;
  remainder = eligible % rule.per_minor;
  if (rule.rounding == EarnRounding::kNearest && remainder >= rule.per_minor - remainder) ++units;
  return !__builtin_mul_overflow(units, rule.points, &points);
}

// A rule's eligible spend: the order's, less the lines the rule excludes (spend and cashback
// rules share the exclusions), with the words that explain it to the merchant.
struct RuleSpend {
  int64_t eligible_minor = 0;
  std::string text;  // "eligible spend of 49.00 USD (1 line excluded: SKU GIFT-WRAP)"
  std::vector<std::pair<const LineItem*, int64_t>> lines;  // eligible lines, for scoped campaigns
};

RuleSpend RuleEligibleSpend(const ProgramConfig& program, const EarnRule& rule,
                            const Order& order) {
  int64_t eligible = 0;
  int64_t excluded_lines = 0;
  std::vector<std::string> reasons;                                 // distinct, in line order
  std::vector<std::pair<const LineItem*, int64_t>> eligible_lines;  // for scoped campaigns
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
    eligible_lines.emplace_back(&line, LineEligibleMinor(order, line));
  }

  std::string spend_text = "eligible spend of " + FormatMinor(eligible, program.currency_exponent) +
                           " " + program.currency;
  if (excluded_lines > 0) {
    spend_text += " (" + std::to_string(excluded_lines) +
                  (excluded_lines == 1 ? " line excluded: " : " lines excluded: ");
    for (size_t i = 0; i < reasons.size(); ++i) spend_text += (i == 0 ? "" : ", ") + reasons[i];
    spend_text += ")";
  }
  return RuleSpend{eligible, std::move(spend_text), std::move(eligible_lines)};
}

// The spend rule's award, or nullopt when it gives nothing worth a ledger entry. `multipliers`
// are the active multiplier campaigns: the one that gives the most points applies.
Result<std::optional<EarnAward>> SpendAward(const ProgramConfig& program, const EarnRule& rule,
                                            const Order& order,
                                            const std::vector<const CampaignConfig*>& multipliers) {
  const RuleSpend spend = RuleEligibleSpend(program, rule, order);
  const int64_t eligible = spend.eligible_minor;
  const std::string& spend_text = spend.text;
  const auto& eligible_lines = spend.lines;
  const int exponent = program.currency_exponent;
  const std::string& currency = program.currency;
  if (eligible < rule.minimum_order_minor) {
    return std::optional<EarnAward>(
        EarnAward{rule.id, 0,
                  "no points: " + spend_text + " is below the minimum order of " +
                      FormatMinor(rule.minimum_order_minor, exponent) + " " + currency,
                  ""});
  }

  int64_t points = 0;
  int64_t remainder = 0;
  if (!RulePoints(rule, eligible, points, remainder)) {
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

  // Campaigns multiply what the rule gives after its cap (the cap bounds the everyday program;
  // a campaign is the merchant's deliberate extra). A campaign on some products multiplies the
  // points those lines alone would earn under the rule: the extra is (multiplier - 1) times
  // them, rounded as the rule rounds. Of several campaigns, the one giving most points applies.
  const CampaignConfig* best = nullptr;
  int64_t best_total = points;
  int64_t best_scoped_spend = 0;
  if (points > std::numeric_limits<int64_t>::max() / 100 && !multipliers.empty()) {
    return FailedPrecondition("points for order " + order.name + " overflow a 64-bit count");
  }
  for (const CampaignConfig* campaign : multipliers) {
    int64_t scoped_spend = 0;
    for (const auto& [line, amount] : eligible_lines) {
      if (InCampaignScope(*campaign, *line)) AddSaturating(scoped_spend, amount);
    }
    int64_t campaign_points = points;
    if (IsScoped(*campaign)) {
      int64_t scoped_points = 0, scoped_remainder = 0;
      if (!RulePoints(rule, scoped_spend, scoped_points, scoped_remainder)) {
        scoped_points = points;
      }
      campaign_points = std::min(scoped_points, points);
    }
    if (campaign_points <= 0) continue;
    const int64_t extra = ScaleBasisPoints(
        campaign_points, campaign->multiplier_basis_points - 10'000, rule.rounding);
    const int64_t total = points + extra;  // <= 100 * points: fits
    if (total > best_total) {
      best = campaign;
      best_total = total;
      best_scoped_spend = scoped_spend;
    }
  }
  if (best != nullptr) {
    description += "; " + MultiplierText(best->multiplier_basis_points) + " " + best->name;
    if (IsScoped(*best)) {
      description += " on " + FormatMinor(best_scoped_spend, exponent) + " " + currency + " of it";
    }
    description += ": " + PointsText(best_total);
    points = best_total;
  }
  return std::optional<EarnAward>(EarnAward{rule.id, points, std::move(description), ""});
}

// A bonus campaign's award for the order, or nullopt. Like the first-order bonus it needs
// eligible spend (gift cards are not a purchase); a campaign on some products needs one of
// their lines in the order, with spend on it.
std::optional<EarnAward> CampaignBonus(const CampaignConfig& campaign, const Order& order) {
  bool in_scope = false;
  for (const LineItem& line : order.line_items) {
    if (line.is_gift_card || LineEligibleMinor(order, line) <= 0) continue;
    if (InCampaignScope(campaign, line)) in_scope = true;
  }
  if (!in_scope) return std::nullopt;
  return EarnAward{std::string(kCampaignRulePrefix) + campaign.id, campaign.bonus_points,
                   campaign.name + ": bonus of " + PointsText(campaign.bonus_points), ""};
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
  LOYALTYD_RETURN_IF_ERROR(CheckProgramCurrency(program, order));
  const std::vector<const CampaignConfig*> campaigns = ActiveCampaigns(program, order, context);
  std::vector<const CampaignConfig*> multipliers;
  for (const CampaignConfig* c : campaigns) {
    if (c->multiplier_basis_points > 0) multipliers.push_back(c);
  }
  std::vector<EarnAward> awards;
  for (const EarnRule& rule : program.earn) {
    switch (rule.type) {
      case EarnRuleType::kSpend: {
        Result<std::optional<EarnAward>> award = SpendAward(program, rule, order, multipliers);
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
      case EarnRuleType::kAction:
        break;  // not about orders: ActionService applies them (rules/action_rules.h)
      case EarnRuleType::kCashback:
        break;  // store credit, not points: ComputeCashbackAwards
    }
  }
  for (const CampaignConfig* c : campaigns) {
    if (c->bonus_points <= 0) continue;
    std::optional<EarnAward> bonus = CampaignBonus(*c, order);
    if (bonus) awards.push_back(std::move(*bonus));
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
