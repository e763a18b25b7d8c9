#include "core/calendar.h"

#include <gtest/gtest.h>

namespace loyaltyd::calendar_test {
namespace {

TEST(CalendarTest, ParsesIso8601WithZoneExactly) {
  struct Case {
    std::string text;
    int64_t ms;
  };
  const std::vector<Case> cases = {
      {"1970-01-01T00:00:00Z", 0},
      {"2026-11-25T10:00:00Z", 1795600800000},
      {"2026-11-25T10:00:00.123Z", 1795600800123},
      {"2026-11-25T10:00:00.1239Z", 1795600800123},  // truncated, never rounded up
      {"2026-11-25T05:00:00-05:00", 1795600800000},  // Shopify writes the shop's offset
      {"2026-11-25T11:30:00+01:30", 1795600800000},
      {"2024-02-29T00:00:00Z", 1709164800000},
      {"1969-12-31T23:59:59Z", -1000},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    Result<int64_t> ms = ParseIso8601Millis(c.text);
    ASSERT_TRUE(ms.ok()) << ms.status().ToString();
    EXPECT_EQ(*ms, c.ms);
  }
}

TEST(CalendarTest, RefusesTimestampsThatAreNotExact) {
  for (const std::string text :
       {"", "2026-11-25", "2026-11-25T10:00:00", "2026-11-25 10:00:00Z", "2026-13-01T00:00:00Z",
        "2026-02-29T00:00:00Z", "2026-11-31T00:00:00Z", "2026-11-25T24:00:00Z",
        "2026-11-25T10:00:00.Z", "2026-11-25T10:00:00+0100", "2026-11-25T10:00:00Zjunk",
        "26-11-25T10:00:00Z"}) {
    SCOPED_TRACE(text);
    Result<int64_t> ms = ParseIso8601Millis(text);
    ASSERT_FALSE(ms.ok());
    EXPECT_EQ(ms.status().code(), StatusCode::kInvalidArgument);
  }
}

TEST(CalendarTest, CivilDatesRoundTrip) {
  for (int64_t days : {-719468, -1, 0, 1, 59, 11016, 20417, 2932896}) {
    const CivilDate d = CivilFromDays(days);
    EXPECT_EQ(DaysFromCivil(d.year, d.month, d.day), days);
  }
  EXPECT_EQ(DaysFromCivil(2000, 3, 1) - DaysFromCivil(2000, 2, 28), 2);  // 2000 is a leap year
  EXPECT_EQ(DaysFromCivil(1900, 3, 1) - DaysFromCivil(1900, 2, 28), 1);  // 1900 is not
}

TEST(CalendarTest, PeriodsContainingAnInstant) {
  struct Case {
    CalendarPeriod period;
    std::string at;
    std::string label;
    std::string starts;
    std::string next;
  };
  const std::vector<Case> cases = {
      {CalendarPeriod::kDay, "2026-11-25T10:00:00Z", "2026-11-25", "2026-11-25T00:00:00Z",
       "2026-11-26T00:00:00Z"},
      {CalendarPeriod::kDay, "2026-11-25T23:59:59.999Z", "2026-11-25", "2026-11-25T00:00:00Z",
       "2026-11-26T00:00:00Z"},
      // In UTC: 20:00 in New York on the 25th is the 26th.
      {CalendarPeriod::kDay, "2026-11-25T20:00:00-05:00", "2026-11-26", "2026-11-26T00:00:00Z",
       "2026-11-27T00:00:00Z"},
      {CalendarPeriod::kWeek, "2026-11-25T10:00:00Z", "2026-W48", "2026-11-23T00:00:00Z",
       "2026-11-30T00:00:00Z"},
      {CalendarPeriod::kWeek, "2026-11-29T23:59:59Z", "2026-W48", "2026-11-23T00:00:00Z",
       "2026-11-30T00:00:00Z"},
      {CalendarPeriod::kWeek, "2026-11-30T00:00:00Z", "2026-W49", "2026-11-30T00:00:00Z",
       "2026-12-07T00:00:00Z"},
      // ISO week-numbering years: 2027-01-01 (a Friday) is in 2026's week 53; 2024-12-30 (a
      // Monday) starts 2025's week 1.
      {CalendarPeriod::kWeek, "2027-01-01T12:00:00Z", "2026-W53", "2026-12-28T00:00:00Z",
       "2027-01-04T00:00:00Z"},
      {CalendarPeriod::kWeek, "2024-12-30T00:00:00Z", "2025-W01", "2024-12-30T00:00:00Z",
       "2025-01-06T00:00:00Z"},
      {CalendarPeriod::kWeek, "1970-01-01T00:00:00Z", "1970-W01", "1969-12-29T00:00:00Z",
       "1970-01-05T00:00:00Z"},
      {CalendarPeriod::kMonth, "2026-11-25T10:00:00Z", "2026-11", "2026-11-01T00:00:00Z",
       "2026-12-01T00:00:00Z"},
      {CalendarPeriod::kMonth, "2026-12-31T23:00:00Z", "2026-12", "2026-12-01T00:00:00Z",
       "2027-01-01T00:00:00Z"},
      {CalendarPeriod::kYear, "2026-11-25T10:00:00Z", "2026", "2026-01-01T00:00:00Z",
       "2027-01-01T00:00:00Z"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(CalendarPeriodName(c.period)) + " " + c.at);
    const PeriodSlot slot = PeriodContaining(c.period, *ParseIso8601Millis(c.at));
    EXPECT_EQ(slot.label, c.label);
    EXPECT_EQ(slot.starts_at_ms, *ParseIso8601Millis(c.starts));
    EXPECT_EQ(slot.next_starts_at_ms, *ParseIso8601Millis(c.next));
  }
}

}  // namespace
}  // namespace loyaltyd::calendar_test
