#include "core/clock.h"

#include <cstdio>
#include <ctime>

namespace loyaltyd {

std::string FormatIso8601Millis(int64_t epoch_millis) {
  const std::time_t seconds = static_cast<std::time_t>(epoch_millis / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(epoch_millis % 1000));
  return buf;
}

}  // namespace loyaltyd
