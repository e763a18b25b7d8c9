#include "rules/tier_rules.h"

#include <algorithm>
#include <cctype>

#include "core/money.h"

namespace loyaltyd {
namespace {

// Days since 1970-01-01 of a proleptic Gregorian date, and back (H. Hinnant's algorithms).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

int64_t YearOfDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return static_cast<int64_t>(yoe) + era * 400 + (m <= 2);
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

int64_t UtcYearOf(int64_t ms) { return YearOfDays(FloorDiv(ms, kMillisPerDay)); }

int64_t StartOfUtcYearMs(int64_t year) { return DaysFromCivil(year, 1, 1) * kMillisPerDay; }

bool TagMatches(const std::string& a, const std::string& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Why the customer qualifies for level `index`, or "" when they do not.
std::string QualificationOf(const ProgramConfig& program, size_t index, const TierFacts& facts) {
  const TiersConfig& tiers = program.tiers;
  const TierLevel& level = tiers.levels[index];
  const int64_t metric = TierMetricValue(tiers, facts);
  if (metric >= level.threshold) {
    const std::string window = tiers.window_kind == TierWindowKind::kCalendarYear
                                   ? "this calendar year"
                                   : "the last " + std::to_string(tiers.window_days) + " days";
    const std::string threshold =
        tiers.metric == TierMetric::kSpend
            ? FormatMinor(level.threshold, program.currency_exponent) + " " + program.currency
            : std::to_string(level.threshold);
    return FormatTierMetric(program, metric) + " in " + window + " (" + level.name + " from " +
           threshold + ")";
  }
  if (std::find(facts.granted_level_ids.begin(), facts.granted_level_ids.end(), level.id) !=
      facts.granted_level_ids.end()) {
    return "membership purchased";
  }
  for (const std::string& tag : level.customer_tags) {
    for (const std::string& held : facts.platform_tags) {
      if (TagMatches(tag, held)) return "customer tag '" + held + "'";
    }
  }
  return "";
}

int Qualified(const TiersConfig& tiers, const TierFacts& facts) {
  const int64_t metric = TierMetricValue(tiers, facts);
  int best = -1;
  for (size_t i = 0; i < tiers.levels.size(); ++i) {
    const TierLevel& level = tiers.levels[i];
    bool qualifies = metric >= level.threshold ||
                     std::find(facts.granted_level_ids.begin(), facts.granted_level_ids.end(),
                               level.id) != facts.granted_level_ids.end();
    for (const std::string& tag : level.customer_tags) {
      for (const std::string& held : facts.platform_tags)
        qualifies = qualifies || TagMatches(tag, held);
    }
    if (qualifies) best = static_cast<int>(i);
  }
  return best;
}

}  // namespace

int64_t TierWindowStartMs(const TiersConfig& tiers, int64_t as_of_ms) {
  if (tiers.window_kind == TierWindowKind::kCalendarYear) {
    return StartOfUtcYearMs(UtcYearOf(as_of_ms));
  }
  return as_of_ms - int64_t{tiers.window_days} * kMillisPerDay + 1;
}

int64_t TierKeepUntilMs(const TiersConfig& tiers, int64_t confirmed_at_ms) {
  if (tiers.keep_kind == TierKeepKind::kUntilEndOfNextYear) {
    return StartOfUtcYearMs(UtcYearOf(confirmed_at_ms) + 2);
  }
  return confirmed_at_ms + int64_t{tiers.keep_days} * kMillisPerDay;
}

int64_t TierMetricValue(const TiersConfig& tiers, const TierFacts& facts) {
  switch (tiers.metric) {
    case TierMetric::kSpend:
      return facts.spend_minor;
    case TierMetric::kPointsEarned:
      return facts.points_earned;
    case TierMetric::kOrders:
      return facts.orders;
  }
  return 0;
}

TierStanding EvaluateTier(const TiersConfig& tiers, const TierFacts& facts,
                          const TierStanding& current, int64_t as_of_ms) {
  const int qualified = Qualified(tiers, facts);
  const int current_index = current.level_id.empty() ? -1 : tiers.IndexOf(current.level_id);
  const int held = current_index >= 0 && as_of_ms < current.keep_until_ms ? current_index : -1;
  const int target = std::max(qualified, held);
  if (target < 0) return TierStanding{};
  if (target == current_index) {
    TierStanding kept = current;
    // Qualifying again confirms the level: it is kept for keep_for from now at least.
    if (qualified == target) {
      kept.keep_until_ms = std::max(kept.keep_until_ms, TierKeepUntilMs(tiers, as_of_ms));
    }
    return kept;
  }
  // A change (target == qualified here: a held level is the current one).
  return TierStanding{tiers.levels[static_cast<size_t>(target)].id, as_of_ms,
                      TierKeepUntilMs(tiers, as_of_ms)};
}

std::string DescribeTierChange(const ProgramConfig& program, const TierStanding& from,
                               const TierStanding& to, const TierFacts& facts) {
  const TiersConfig& tiers = program.tiers;
  const TierLevel* old_level = tiers.FindLevel(from.level_id);
  const std::string old_name = old_level != nullptr ? old_level->name : from.level_id;
  const int to_index = to.level_id.empty() ? -1 : tiers.IndexOf(to.level_id);
  if (to_index < 0) {
    return "tier " + old_name + " ended: no level reached (" +
           FormatTierMetric(program, TierMetricValue(tiers, facts)) + " in the window)";
  }
  const TierLevel& level = tiers.levels[static_cast<size_t>(to_index)];
  const int from_index = from.level_id.empty() ? -1 : tiers.IndexOf(from.level_id);
  std::string text = "tier " + level.name + " " +
                     (from.level_id.empty()   ? std::string("reached")
                      : to_index > from_index ? "reached (up from " + old_name + ")"
                                              : "(down from " + old_name + ")");
  const std::string why = QualificationOf(program, static_cast<size_t>(to_index), facts);
  if (!why.empty()) text += ": " + why;
  if (level.multiplier_bp != 10000) text += "; earn x" + FormatMultiplier(level.multiplier_bp);
  return text;
}

std::vector<TierGrant> MembershipGrants(const TiersConfig& tiers, const Order& order) {
  std::vector<TierGrant> grants;
  for (const TierLevel& level : tiers.levels) {
    if (!level.membership) continue;
    const TierMembership& m = *level.membership;
    for (const LineItem& line : order.line_items) {
      if (line.is_gift_card) continue;
      const bool by_product =
          !line.product_id.empty() && std::find(m.product_ids.begin(), m.product_ids.end(),
                                                line.product_id) != m.product_ids.end();
      const bool by_sku =
          !line.sku.empty() && std::find(m.skus.begin(), m.skus.end(), line.sku) != m.skus.end();
      if (by_product || by_sku) {
        grants.push_back(TierGrant{level.id, int64_t{m.days} * kMillisPerDay});
        break;
      }
    }
  }
  return grants;
}

std::string FormatMultiplier(int64_t basis_points) {
  std::string text = FormatMinor(basis_points, 4);
  while (!text.empty() && text.back() == '0') text.pop_back();
  if (!text.empty() && text.back() == '.') text.pop_back();
  return text;
}

std::string FormatTierMetric(const ProgramConfig& program, int64_t value) {
  switch (program.tiers.metric) {
    case TierMetric::kSpend:
      return "spend of " + FormatMinor(value, program.currency_exponent) + " " + program.currency;
    case TierMetric::kPointsEarned:
      return std::to_string(value) + (value == 1 ? " point earned" : " points earned");
    case TierMetric::kOrders:
      return std::to_string(value) + (value == 1 ? " order" : " orders");
  }
  return std::to_string(value);
}

}  // namespace loyaltyd
