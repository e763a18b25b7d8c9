// Report formatting shared by the admin API's report routes (admin_reports.cc,
// admin_referrals.cc): CSV per RFC 4180 with a guard against formula injection, the JSON/CSV
// choice of a request, report months as "YYYY-MM", and the money value of points at the
// catalogue's cheapest rate, computed exactly in minor units. Internal to src/http.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "http/server_tuning.h"

namespace loyaltyd::report_format {

// One CSV field (RFC 4180, https://www.rfc-editor.org/rfc/rfc4180): quoted when it holds a
// comma, a double quote, CR or LF, with each double quote doubled. A value that starts with
// = + - or @ gets a leading ' first, so that a spreadsheet shows it as text instead of running
// it as a formula (OWASP, "CSV Injection"): emails, names and reasons come from the public. A
// plain number ("-120", "-1.50": an optional minus, digits, an optional fraction) is left as
// it is: it cannot be a formula, and a negative balance must stay a number.
std::string CsvField(std::string_view value);
// The fields, each through CsvField, joined by commas, ending with CRLF.
std::string CsvRow(const std::vector<std::string>& fields);

// ?format=csv, or no format and an Accept header of text/csv, answers in CSV; ?format=json or
// none in JSON. False, with a 400 filled in, for any other format.
bool WantsCsv(const httplib::Request& req, httplib::Response& res, bool& csv);
// 200 with the CSV body and a download file name.
void ReplyCsv(httplib::Response& res, const std::string& filename, const std::string& body);

// "YYYY-MM" (month 01..12, year 1970..9999); nullopt otherwise.
struct YearMonth {
  int64_t year = 0;
  int month = 0;
};
std::optional<YearMonth> ParseYearMonth(std::string_view text);

// The lowest money value per point among the rewards that have one (fixed_discount and
// store_credit: amount_minor for points); percentage and free-shipping rewards have no fixed
// value and are left out. nullopt when no reward has a value.
struct PointsRate {
  std::string reward_id;
  int64_t points = 0;        // the reward's price in points (> 0)
  int64_t amount_minor = 0;  // what it is worth, program currency
};
std::optional<PointsRate> CheapestPointsRate(const std::vector<RewardConfig>& rewards);
// points * amount_minor / rate.points in minor units, rounded to the nearest minor unit with
// halves away from zero; exact (128-bit intermediate) for any int64 inputs whose result fits.
int64_t PointsValueMinor(int64_t points, const PointsRate& rate);
// part / whole as a percentage with two decimals, rounded half up ("12.35"); "" when whole <= 0.
std::string PercentText(int64_t part, int64_t whole);

}  // namespace loyaltyd::report_format
