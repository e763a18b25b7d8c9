#include "rules/action_rules.h"

#include "core/calendar.h"
#include "core/clock.h"

namespace loyaltyd {
namespace {

std::string ActionPointsText(int64_t points) {
  return std::to_string(points) + (points == 1 ? " point" : " points");
}

std::string TimesText(int n) { return n == 1 ? "once" : std::to_string(n) + " times"; }

}  // namespace

ActionPlan PlanAction(const EarnRule& rule, int64_t occurred_at_ms, std::string_view reference) {
  ActionPlan plan;
  const std::string head = rule.action + ": " + ActionPointsText(rule.points) + " (";
  const std::string tail = reference.empty() ? ")" : "), reference " + std::string(reference);
  const std::string key = "action:" + rule.action;
  if (rule.limit == ActionLimit::kOnce) {
    plan.slots.push_back(ActionSlot{key, head + "once ever" + tail});
    return plan;
  }
  const PeriodSlot period = PeriodContaining(rule.period, occurred_at_ms);
  plan.period_label = period.label;
  plan.next_period_starts_at_ms = period.next_starts_at_ms;
  const std::string per = std::string(CalendarPeriodName(rule.period));
  for (int n = 1; n <= rule.max_per_period; ++n) {
    plan.slots.push_back(ActionSlot{key + ":" + period.label + ":" + std::to_string(n),
                                    head + std::to_string(n) + " of " +
                                        std::to_string(rule.max_per_period) + " this " + per +
                                        ", " + period.label + tail});
  }
  return plan;
}

std::string LimitReachedMessage(const EarnRule& rule, const ActionPlan& plan) {
  if (rule.limit == ActionLimit::kOnce) {
    return "limit reached: " + rule.action +
           " earns points once per customer, and this customer has had them";
  }
  const std::string per = std::string(CalendarPeriodName(rule.period));
  return "limit reached: " + rule.action + " earns points at most " +
         TimesText(rule.max_per_period) + " per " + per + " (" + plan.period_label +
         ", UTC); the next " + per + " starts at " +
         FormatIso8601Millis(plan.next_period_starts_at_ms);
}

}  // namespace loyaltyd
