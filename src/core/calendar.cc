#include "core/calendar.h"

#include <cstdio>

namespace loyaltyd {
namespace {

constexpr int64_t kMillisPerDay = 86'400'000;

// Floor division: the day of an instant before 1970 is the one that starts before it.
int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

bool IsLeap(int64_t year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int DaysInMonth(int64_t year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeap(year) ? 29 : kDays[month - 1];
}

// Reads exactly `width` digits at text[pos]; false when any is not a digit.
bool Digits(std::string_view text, size_t pos, size_t width, int& out) {
  if (pos + width > text.size()) return false;
  out = 0;
  for (size_t i = pos; i < pos + width; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    out = out * 10 + (text[i] - '0');
  }
  return true;
}

std::string Pad(int64_t value, int width) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%0*lld", width, static_cast<long long>(value));
  return buf;
}

}  // namespace

int64_t DaysFromCivil(int64_t year, int month, int day) {
  year -= month <= 2;
  const int64_t era = FloorDiv(year, 400);
  const int64_t yoe = year - era * 400;                                          // [0, 399]
  const int64_t doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;  // [0, 365]
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;                     // [0, 146096]
  return era * 146097 + doe - 719468;
}

CivilDate CivilFromDays(int64_t days) {
  days += 719468;
  const int64_t era = FloorDiv(days, 146097);
  const int64_t doe = days - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  CivilDate date;
  date.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  date.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  date.year = yoe + era * 400 + (date.month <= 2);
  return date;
}

Result<int64_t> ParseIso8601Millis(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return InvalidArgument(
        "'" + std::string(text) +
        "' is not an ISO-8601 timestamp such as \"2026-11-27T00:00:00Z\": " + why);
  };
  int year, month, day, hour, minute, second;
  if (!Digits(text, 0, 4, year) || text.size() < 19 || text[4] != '-' ||
      !Digits(text, 5, 2, month) || text[7] != '-' || !Digits(text, 8, 2, day) || text[10] != 'T' ||
      !Digits(text, 11, 2, hour) || text[13] != ':' || !Digits(text, 14, 2, minute) ||
      text[16] != ':' || !Digits(text, 17, 2, second)) {
    return bad("expected YYYY-MM-DDTHH:MM:SS");
  }
  if (month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month)) {
    return bad("no such date");
  }
  if (hour > 23 || minute > 59 || second > 59) return bad("no such time of day");
  int64_t ms = (DaysFromCivil(year, month, day) * 86'400 + hour * 3600 + minute * 60 + second) *
               int64_t{1000};
  size_t i = 19;
  if (i < text.size() && text[i] == '.') {
    const size_t start = ++i;
    int64_t scale = 100;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
      ms += (text[i] - '0') * scale;
      scale /= 10;
    }
    if (i == start) return bad("a '.' must be followed by digits");
  }
  if (i < text.size() && text[i] == 'Z') {
    ++i;
  } else if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
    int oh, om;
    if (!Digits(text, i + 1, 2, oh) || i + 3 >= text.size() || text[i + 3] != ':' ||
        !Digits(text, i + 4, 2, om) || oh > 23 || om > 59) {
      return bad("the offset must be +hh:mm or -hh:mm");
    }
    const int64_t offset_ms = (oh * 60 + om) * int64_t{60'000};
    ms += text[i] == '+' ? -offset_ms : offset_ms;
    i += 6;
  } else {
    return bad("it needs a zone: \"Z\" for UTC or an offset such as \"+01:00\"");
  }
  if (i != text.size()) return bad("unexpected text after the zone");
  return ms;
}

std::string_view CalendarPeriodName(CalendarPeriod period) {
  switch (period) {
    case CalendarPeriod::kDay:
      return "day";
    case CalendarPeriod::kWeek:
      return "week";
    case CalendarPeriod::kMonth:
      return "month";
    case CalendarPeriod::kYear:
      return "year";
  }
  return "unknown";
}

PeriodSlot PeriodContaining(CalendarPeriod period, int64_t epoch_ms) {
  const int64_t days = FloorDiv(epoch_ms, kMillisPerDay);
  const CivilDate date = CivilFromDays(days);
  PeriodSlot slot;
  switch (period) {
    case CalendarPeriod::kDay:
      slot.label = Pad(date.year, 4) + "-" + Pad(date.month, 2) + "-" + Pad(date.day, 2);
      slot.starts_at_ms = days * kMillisPerDay;
      slot.next_starts_at_ms = (days + 1) * kMillisPerDay;
      break;
    case CalendarPeriod::kWeek: {
      // ISO 8601: weeks start on Monday; a week belongs to the year that holds its Thursday.
      // 1970-01-01 was a Thursday, so (days + 3) mod 7 is 0 on Mondays.
      const int64_t monday = days - (((days + 3) % 7) + 7) % 7;
      const int64_t thursday = monday + 3;
      const int64_t week_year = CivilFromDays(thursday).year;
      const int64_t week = (thursday - DaysFromCivil(week_year, 1, 1)) / 7 + 1;
      slot.label = Pad(week_year, 4) + "-W" + Pad(week, 2);
      slot.starts_at_ms = monday * kMillisPerDay;
      slot.next_starts_at_ms = (monday + 7) * kMillisPerDay;
      break;
    }
    case CalendarPeriod::kMonth:
      slot.label = Pad(date.year, 4) + "-" + Pad(date.month, 2);
      slot.starts_at_ms = DaysFromCivil(date.year, date.month, 1) * kMillisPerDay;
      slot.next_starts_at_ms = (date.month == 12 ? DaysFromCivil(date.year + 1, 1, 1)
                                                 : DaysFromCivil(date.year, date.month + 1, 1)) *
                               kMillisPerDay;
      break;
    case CalendarPeriod::kYear:
      slot.label = Pad(date.year, 4);
      slot.starts_at_ms = DaysFromCivil(date.year, 1, 1) * kMillisPerDay;
      slot.next_starts_at_ms = DaysFromCivil(date.year + 1, 1, 1) * kMillisPerDay;
      break;
  }
  return slot;
}

}  // namespace loyaltyd
