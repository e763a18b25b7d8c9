#include "http/report_format.h"

#include <cstdio>

#include "http/api_reply.h"

namespace loyaltyd::report_format {

namespace {
__extension__ typedef __int128 ReportInt128;  // a GCC/Clang extension; -Wpedantic knows it
}  // namespace

namespace {

// "-120", "-1.50", "42": what the reports write for numbers and amounts.
bool IsPlainNumber(std::string_view text) {
  size_t i = text.starts_with('-') ? 1 : 0;
  const size_t digits_start = i;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
  if (i == digits_start) return false;
  if (i == text.size()) return true;
  if (text[i] != '.') return false;
  const size_t fraction_start = ++i;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
  return i == text.size() && i > fraction_start;
}

}  // namespace

std::string CsvField(std::string_view value) {
  std::string text(value);
  const bool formula_start =
      !text.empty() && (text[0] == '=' || text[0] == '+' || text[0] == '-' || text[0] == '@');
  if (formula_start && !IsPlainNumber(text)) text.insert(text.begin(), '\'');
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

std::string CsvRow(const std::vector<std::string>& fields) {
  std::string row;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i != 0) row += ',';
    row += CsvField(fields[i]);
  }
  return row + "\r\n";
}

bool WantsCsv(const httplib::Request& req, httplib::Response& res, bool& csv) {
  const std::string format = req.has_param("format") ? req.get_param_value("format") : "";
  if (format.empty()) {
    csv = req.get_header_value("Accept") == "text/csv";
    return true;
  }
  if (format != "csv" && format != "json") {
    api_reply::ReplyError(res, 400, "format must be \"json\" or \"csv\"");
    return false;
  }
  csv = format == "csv";
  return true;
}

void ReplyCsv(httplib::Response& res, const std::string& filename, const std::string& body) {
  res.status = 200;
  res.set_header("Content-Disposition", "attachment; filename=\"" + filename + "\"");
  res.set_content(body, "text/csv; charset=utf-8");
}

std::optional<YearMonth> ParseYearMonth(std::string_view text) {
  if (text.size() != 7 || text[4] != '-') return std::nullopt;
  for (size_t i = 0; i < text.size(); ++i) {
    if (i != 4 && (text[i] < '0' || text[i] > '9')) return std::nullopt;
  }
  YearMonth ym;
  ym.year = (text[0] - '0') * 1000 + (text[1] - '0') * 100 + (text[2] - '0') * 10 + (text[3] - '0');
  ym.month = (text[5] - '0') * 10 + (text[6] - '0');
  if (ym.year < 1970 || ym.month < 1 || ym.month > 12) return std::nullopt;
  return ym;
}

std::optional<PointsRate> CheapestPointsRate(const std::vector<RewardConfig>& rewards) {
  std::optional<PointsRate> best;
  for (const RewardConfig& r : rewards) {
    if (r.kind != RewardKind::kFixedDiscount && r.kind != RewardKind::kStoreCredit) continue;
    if (r.points <= 0 || r.amount_minor <= 0) continue;
    // a/p < b/q exactly: a*q < b*p, in 128 bits. Ties keep the first in catalogue order.
    if (!best || static_cast<ReportInt128>(r.amount_minor) * best->points <
                     static_cast<ReportInt128>(best->amount_minor) * r.points) {
      best = PointsRate{r.id, r.points, r.amount_minor};
    }
  }
  return best;
}

int64_t PointsValueMinor(int64_t points, const PointsRate& rate) {
  const ReportInt128 product = static_cast<ReportInt128>(points) * rate.amount_minor;
  const ReportInt128 divisor = rate.points;
  // Half away from zero: (|x| * 2 + d) / (2d), sign restored.
  const ReportInt128 magnitude = product < 0 ? -product : product;
  const ReportInt128 rounded = (magnitude * 2 + divisor) / (divisor * 2);
  return static_cast<int64_t>(product < 0 ? -rounded : rounded);
}

std::string PercentText(int64_t part, int64_t whole) {
  if (whole <= 0) return "";
  // Hundredths of a percent: part * 10000 / whole, rounded half up (part >= 0 in reports).
  const ReportInt128 scaled =
      (static_cast<ReportInt128>(part) * 20000 + whole) / (static_cast<ReportInt128>(whole) * 2);
  const int64_t hundredths = static_cast<int64_t>(scaled);
  char text[48];
  const int64_t magnitude = hundredths < 0 ? -hundredths : hundredths;
  std::snprintf(text, sizeof(text), "%s%lld.%02lld", hundredths < 0 ? "-" : "",
                static_cast<long long>(magnitude / 100), static_cast<long long>(magnitude % 100));
  return text;
}

}  // namespace loyaltyd::report_format
