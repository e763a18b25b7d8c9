// Calendar arithmetic in UTC: ISO-8601 timestamps, civil dates, and the day / ISO week / month /
// year periods that action limits count in.
//
// Rules that depend on dates (campaign windows, "once per day") must decide the same way on
// every replay, so they work on the event's own timestamp in UTC, never on the local time zone
// of the machine: everything here is pure integer arithmetic on epoch milliseconds (civil-date
// conversions after Howard Hinnant's public-domain algorithms), with no libc time-zone state.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace loyaltyd {

// Epoch milliseconds of "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+hh:mm|-hh:mm)" (Shopify writes
// offsets, loyaltyd's own API and config write "Z"). A timestamp without a zone is ambiguous and
// refused. InvalidArgument with the reason otherwise. Fraction digits past milliseconds are
// dropped (truncated).
Result<int64_t> ParseIso8601Millis(std::string_view text);

struct CivilDate {
  int64_t year = 1970;
  int month = 1;  // 1..12
  int day = 1;    // 1..31
};

// Days since 1970-01-01 of a proleptic Gregorian date, and back.
int64_t DaysFromCivil(int64_t year, int month, int day);
CivilDate CivilFromDays(int64_t days);

// The calendar periods an action limit counts in (program.earn[].period).
enum class CalendarPeriod { kDay, kWeek, kMonth, kYear };

// "day", "week", "month", "year".
std::string_view CalendarPeriodName(CalendarPeriod period);

// The period (in UTC) that contains an instant.
struct PeriodSlot {
  // "2026-11-25" (day), "2026-W48" (ISO week, Monday to Sunday, in the ISO week-numbering
  // year), "2026-11" (month), "2026" (year).
  std::string label;
  int64_t starts_at_ms = 0;
  int64_t next_starts_at_ms = 0;  // where the following period starts
};

PeriodSlot PeriodContaining(CalendarPeriod period, int64_t epoch_ms);

}  // namespace loyaltyd
