#include "rules/action_rules.h"

#include <gtest/gtest.h>

#include "core/calendar.h"

namespace loyaltyd::action_rules_test {
namespace {

EarnRule Action(const std::string& action, int64_t points, ActionLimit limit,
                CalendarPeriod period = CalendarPeriod::kDay, int max = 1) {
  EarnRule rule;
  rule.id = action;
  rule.type = EarnRuleType::kAction;
  rule.points = points;
  rule.action = action;
  rule.limit = limit;
  rule.period = period;
  rule.max_per_period = max;
  return rule;
}

int64_t At(const std::string& iso) { return *ParseIso8601Millis(iso); }

// One rule, one occurred_at: the once keys storage tries, in order, and what each entry says.
struct PlanCase {
  std::string name;
  EarnRule rule;
  std::string occurred_at;
  std::string reference;
  std::vector<std::string> keys;
  std::string first_description;
  std::string period_label;
  std::string next_period;  // "" for none
  std::string limit_message;
};

TEST(ActionRulesTest, PlansOneKeyPerAllowedAward) {
  const std::vector<PlanCase> cases = {
      {"once ever",
       Action("signup", 100, ActionLimit::kOnce),
       "2026-11-25T10:00:00Z",
       "",
       {"action:signup"},
       "signup: 100 points (once ever)",
       "",
       "",
       "limit reached: signup earns points once per customer, and this customer has had them"},
      {"once per day",
       Action("review", 50, ActionLimit::kPerPeriod, CalendarPeriod::kDay),
       "2026-11-25T10:00:00Z",
       "review-123",
       {"action:review:2026-11-25:1"},
       "review: 50 points (1 of 1 this day, 2026-11-25), reference review-123",
       "2026-11-25",
       "2026-11-26T00:00:00Z",
       "limit reached: review earns points at most once per day (2026-11-25, UTC); the next day "
       "starts at 2026-11-26T00:00:00.000Z"},
      {"three a week, ISO week",
       Action("social_follow", 10, ActionLimit::kPerPeriod, CalendarPeriod::kWeek, 3),
       "2026-11-29T23:00:00Z",
       "",
       {"action:social_follow:2026-W48:1", "action:social_follow:2026-W48:2",
        "action:social_follow:2026-W48:3"},
       "social_follow: 10 points (1 of 3 this week, 2026-W48)",
       "2026-W48",
       "2026-11-30T00:00:00Z",
       "limit reached: social_follow earns points at most 3 times per week (2026-W48, UTC); the "
       "next week starts at 2026-11-30T00:00:00.000Z"},
      {"per month, occurred_at in another zone counts in UTC",
       Action("newsletter", 20, ActionLimit::kPerPeriod, CalendarPeriod::kMonth, 2),
       "2026-11-30T20:00:00-05:00",  // 2026-12-01T01:00:00Z
       "",
       {"action:newsletter:2026-12:1", "action:newsletter:2026-12:2"},
       "newsletter: 20 points (1 of 2 this month, 2026-12)",
       "2026-12",
       "2027-01-01T00:00:00Z",
       "limit reached: newsletter earns points at most 2 times per month (2026-12, UTC); the next "
       "month starts at 2027-01-01T00:00:00.000Z"},
      {"birthday once a year",
       Action("birthday", 200, ActionLimit::kPerPeriod, CalendarPeriod::kYear),
       "2026-03-14T09:00:00Z",
       "",
       {"action:birthday:2026:1"},
       "birthday: 200 points (1 of 1 this year, 2026)",
       "2026",
       "2027-01-01T00:00:00Z",
       "limit reached: birthday earns points at most once per year (2026, UTC); the next year "
       "starts at 2027-01-01T00:00:00.000Z"},
      {"a merchant's own action, one point",
       Action("app_download", 1, ActionLimit::kOnce),
       "2026-11-25T10:00:00Z",
       "ios",
       {"action:app_download"},
       "app_download: 1 point (once ever), reference ios",
       "",
       "",
       "limit reached: app_download earns points once per customer, and this customer has had "
       "them"},
  };
  for (const PlanCase& c : cases) {
    SCOPED_TRACE(c.name);
    const ActionPlan plan = PlanAction(c.rule, At(c.occurred_at), c.reference);
    std::vector<std::string> keys;
    for (const ActionSlot& slot : plan.slots) keys.push_back(slot.once_key);
    EXPECT_EQ(keys, c.keys);
    ASSERT_FALSE(plan.slots.empty());
    EXPECT_EQ(plan.slots[0].description, c.first_description);
    EXPECT_EQ(plan.period_label, c.period_label);
    EXPECT_EQ(plan.next_period_starts_at_ms, c.next_period.empty() ? 0 : At(c.next_period));
    EXPECT_EQ(LimitReachedMessage(c.rule, plan), c.limit_message);
  }
}

TEST(ActionRulesTest, LaterSlotsCountUp) {
  const ActionPlan plan =
      PlanAction(Action("review", 50, ActionLimit::kPerPeriod, CalendarPeriod::kDay, 2),
                 At("2026-11-25T10:00:00Z"), "");
  ASSERT_EQ(plan.slots.size(), 2u);
  EXPECT_EQ(plan.slots[1].description, "review: 50 points (2 of 2 this day, 2026-11-25)");
}

TEST(ActionRulesTest, ThePeriodIsTheActionsNotTheRequests) {
  // Two reports of the same day's action give the same keys whenever they are sent, and the
  // next day gives fresh ones: the limit resets at midnight UTC.
  const EarnRule rule = Action("review", 50, ActionLimit::kPerPeriod);
  EXPECT_EQ(PlanAction(rule, At("2026-11-25T00:00:00Z"), "").slots[0].once_key,
            PlanAction(rule, At("2026-11-25T23:59:59.999Z"), "").slots[0].once_key);
  EXPECT_NE(PlanAction(rule, At("2026-11-25T23:59:59.999Z"), "").slots[0].once_key,
            PlanAction(rule, At("2026-11-26T00:00:00Z"), "").slots[0].once_key);
}

}  // namespace
}  // namespace loyaltyd::action_rules_test
