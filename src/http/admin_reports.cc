// AdminApi, reports (docs/api.md, "Reports"): the customer manager report, the program's points
// liability and the tier distribution and movement, each as JSON or CSV.
//
// The customer report is the one that grows with the store. As JSON it is a keyset-paginated
// list (?limit, ?before; next_before), like every other list of the API. As CSV it is the whole
// customer base in one download, streamed with chunked transfer encoding: the server reads
// kCsvPageSize customers at a time, each page in its own short read on a pooled reader, and
// writes it out before reading the next. Memory stays at one page whatever the store's size,
// no reader connection is held while the client is slow, and the writer is never blocked.
// The price: the file is not one snapshot (a customer who changes while it streams appears as
// its page read them), and an error after the first page can only cut the stream short (the
// terminating chunk is missing, which HTTP clients report as an incomplete body).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/calendar.h"
#include "core/clock.h"
#include "core/money.h"
#include "http/admin_api.h"
#include "http/api_reply.h"
#include "http/report_format.h"

namespace loyaltyd {
namespace {

using nlohmann::json;
using namespace api_reply;  // NOLINT: the shared answer helpers
using report_format::CsvRow;
using report_format::ReplyCsv;
using report_format::WantsCsv;

// Customers per page of the CSV stream: about 200 KB of CSV per read.
constexpr size_t kCsvPageSize = 1000;
// Months a liability or tier report may span (?from .. ?to), and the default span.
constexpr int kMaxReportMonths = 120;
constexpr int kDefaultReportMonths = 12;
// "Expiring in the next 30/60/90 days".
constexpr int kExpiringDays[] = {30, 60, 90};
constexpr int64_t kReportsDayMs = 86'400'000;

std::string Amount(int64_t minor, const ProgramConfig& program) {
  return FormatMinor(minor, program.currency_exponent);
}

json AmountJson(int64_t minor, const ProgramConfig& program) {
  return json{{"amount", Amount(minor, program)}, {"currency", program.currency}};
}

json NullIfEmpty(const std::string& text) { return text.empty() ? json(nullptr) : json(text); }

// The months of ?from=YYYY-MM .. ?to=YYYY-MM (both included), UTC: the program has no time zone
// of its own (core/calendar.h: every date rule works in UTC). Defaults: `to` the current month,
// `from` 11 months before `to`. False, with a 400 that says why, for a bad value or span.
bool ReadReportMonths(const httplib::Request& req, httplib::Response& res, int64_t now_ms,
                      std::vector<ReportMonth>& months) {
  auto month_index = [](const report_format::YearMonth& ym) {
    return ym.year * 12 + (ym.month - 1);
  };
  const CivilDate today = CivilFromDays(now_ms / kReportsDayMs);
  report_format::YearMonth to{today.year, today.month};
  if (req.has_param("to")) {
    std::optional<report_format::YearMonth> parsed =
        report_format::ParseYearMonth(req.get_param_value("to"));
    if (!parsed) {
      ReplyError(res, 400, "to must be a month as YYYY-MM, e.g. 2026-11");
      return false;
    }
    to = *parsed;
  }
  report_format::YearMonth from;
  const int64_t default_from = month_index(to) - (kDefaultReportMonths - 1);
  from.year = default_from / 12;
  from.month = static_cast<int>(default_from % 12) + 1;
  if (req.has_param("from")) {
    std::optional<report_format::YearMonth> parsed =
        report_format::ParseYearMonth(req.get_param_value("from"));
    if (!parsed) {
      ReplyError(res, 400, "from must be a month as YYYY-MM, e.g. 2026-01");
      return false;
    }
    from = *parsed;
  }
  const int64_t span = month_index(to) - month_index(from) + 1;
  if (span < 1) {
    ReplyError(res, 400, "from must not be after to");
    return false;
  }
  if (span > kMaxReportMonths) {
    ReplyError(
        res, 400,
        "a report spans at most " + std::to_string(kMaxReportMonths) + " months; narrow from/to");
    return false;
  }
  months = ReportMonths(from.year, from.month, to.year, to.month);
  return true;
}

// ?table= picks the CSV table of a report with more than one; JSON always has them all.
bool ReadCsvTable(const httplib::Request& req, httplib::Response& res, bool csv,
                  const std::vector<std::string>& tables, std::string& table) {
  table = tables.front();
  if (!req.has_param("table")) return true;
  const std::string asked = req.get_param_value("table");
  if (!csv) {
    ReplyError(res, 400, "table applies to CSV (format=csv); JSON answers carry every table");
    return false;
  }
  if (std::find(tables.begin(), tables.end(), asked) == tables.end()) {
    std::string names;
    for (const std::string& t : tables) names += (names.empty() ? "\"" : ", \"") + t + "\"";
    ReplyError(res, 400, "table must be one of " + names);
    return false;
  }
  table = asked;
  return true;
}

const std::vector<std::string> kCustomerCsvHeader = {
    "customer_id",  "shop_id",         "platform_customer_id",
    "email",        "first_name",      "last_name",
    "tier",         "tier_reached_at", "points",
    "store_credit", "currency",        "referrals_converted",
    "paid_orders",  "paid_total",      "last_order_at",
    "created_at"};

std::string CustomerCsvLine(const CustomerReportRow& r, const ProgramConfig& program) {
  return CsvRow({std::to_string(r.customer_id), r.shop_id, r.platform_customer_id, r.email,
                 r.first_name, r.last_name, r.tier_level_id, IsoOrEmpty(r.tier_reached_at_ms),
                 std::to_string(r.points_balance), Amount(r.credit_balance_minor, program),
                 program.currency, std::to_string(r.referrals_converted),
                 std::to_string(r.paid_orders), Amount(r.paid_total_minor, program),
                 IsoOrEmpty(r.last_order_at_ms), FormatIso8601Millis(r.created_at_ms)});
}

json CustomerReportJson(const CustomerReportRow& r, const Config& config) {
  json tier = nullptr;
  if (!r.tier_level_id.empty()) {
    const TierLevel* level = config.program.tiers.FindLevel(r.tier_level_id);
    tier = json{{"level_id", r.tier_level_id},
                {"name", level ? json(level->name) : json(nullptr)},
                {"reached_at", IsoOrEmpty(r.tier_reached_at_ms)}};
  }
  return json{{"id", r.customer_id},
              {"shop_id", r.shop_id},
              {"platform_customer_id", NullIfEmpty(r.platform_customer_id)},
              {"email", r.email},
              {"first_name", r.first_name},
              {"last_name", r.last_name},
              {"tier", tier},
              {"points_balance", r.points_balance},
              {"credit_balance", AmountJson(r.credit_balance_minor, config.program)},
              {"referrals_converted", r.referrals_converted},
              {"paid_orders", r.paid_orders},
              {"paid_total", AmountJson(r.paid_total_minor, config.program)},
              {"last_order_at", NullIfEmpty(IsoOrEmpty(r.last_order_at_ms))},
              {"created_at", FormatIso8601Millis(r.created_at_ms)}};
}

// What a CSV stream of the customer report carries between the provider's calls.
struct CustomerCsvStream {
  ProgramConfig program;  // a copy: the request's config snapshot is gone once the handler returns
  std::vector<CustomerReportRow> page;  // read, not yet written
  int64_t next_before = 0;
  bool last_page = false;
  bool header_written = false;
};

}  // namespace

void AdminApi::ReportCustomers(const Config& config, const httplib::Request& req,
                               httplib::Response& res) {
  bool csv = false;
  size_t limit;
  int64_t before;
  if (!WantsCsv(req, res, csv) || !ReadPage(req, res, limit, before)) return;
  if (csv && req.has_param("limit")) {
    return ReplyError(res, 400,
                      "limit applies to JSON pages; the CSV streams every customer (from "
                      "?before= when given)");
  }
  CustomerReportQuery query;
  query.before_id = before;
  query.limit = csv ? kCsvPageSize : limit;
  query.currency = config.program.currency;
  // The first page is read here so that a storage failure is still a 503, not a cut stream.
  Result<std::vector<CustomerReportRow>> first = storage_.CustomerReport(query);
  if (!first.ok()) return ReplyStorageError(res, first.status());
  if (!csv) {
    json rows = json::array();
    for (const CustomerReportRow& r : *first) rows.push_back(CustomerReportJson(r, config));
    json next =
        first->size() == limit && !first->empty() ? json(first->back().customer_id) : json(nullptr);
    return Reply(res, 200, json{{"customers", rows}, {"next_before", next}});
  }

  auto stream = std::make_shared<CustomerCsvStream>();
  stream->program = config.program;
  stream->last_page = first->size() < kCsvPageSize;
  stream->next_before = first->empty() ? 0 : first->back().customer_id;
  stream->page = std::move(first).value();
  res.status = 200;
  res.set_header("Content-Disposition", "attachment; filename=\"customers-report.csv\"");
  // Runs on the server thread after this handler returned, once per chunk; AdminApi (and so
  // storage_) outlives the server. Nothing in it may throw out of it.
  res.set_chunked_content_provider(
      "text/csv; charset=utf-8", [this, stream](size_t, httplib::DataSink& sink) {
        try {
          std::string chunk;
          if (!stream->header_written) {
            chunk = CsvRow(kCustomerCsvHeader);
            stream->header_written = true;
          }
          for (const CustomerReportRow& r : stream->page) {
            chunk += CustomerCsvLine(r, stream->program);
          }
          stream->page.clear();
          if (!chunk.empty() && !sink.write(chunk.data(), chunk.size())) return false;
          if (stream->last_page) {
            sink.done();
            return true;
          }
          CustomerReportQuery next;
          next.before_id = stream->next_before;
          next.limit = kCsvPageSize;
          next.currency = stream->program.currency;
          Result<std::vector<CustomerReportRow>> page = storage_.CustomerReport(next);
          if (!page.ok()) {
            spdlog::error("customer report CSV cut short: {}", page.status().ToString());
            return false;  // closes the connection without the terminating chunk
          }
          stream->last_page = page->size() < kCsvPageSize;
          if (!page->empty()) stream->next_before = page->back().customer_id;
          stream->page = std::move(page).value();
          return true;
        } catch (const std::exception& e) {
          spdlog::error("customer report CSV failed: {}", e.what());
          return false;
        }
      });
}

void AdminApi::ReportLiability(const Config& config, const httplib::Request& req,
                               httplib::Response& res) {
  bool csv = false;
  std::string table;
  std::vector<ReportMonth> months;
  const int64_t now = clock_.NowMillis();
  if (!WantsCsv(req, res, csv) || !ReadCsvTable(req, res, csv, {"months", "summary"}, table) ||
      !ReadReportMonths(req, res, now, months)) {
    return;
  }
  LiabilityQuery query;
  query.now_ms = now;
  for (int days : kExpiringDays) query.expiring_within_ms.push_back(days * kReportsDayMs);
  query.months = months;
  Result<PointsLiability> report = storage_.LiabilityReport(query);
  if (!report.ok()) return ReplyStorageError(res, report.status());
  const ProgramConfig& program = config.program;
  const std::optional<report_format::PointsRate> rate =
      report_format::CheapestPointsRate(program.rewards);
  auto value_of = [&](int64_t points) -> std::optional<int64_t> {
    if (!rate) return std::nullopt;
    return report_format::PointsValueMinor(points, *rate);
  };
  auto value_json = [&](int64_t points) {
    std::optional<int64_t> v = value_of(points);
    return v ? AmountJson(*v, program) : json(nullptr);
  };
  auto value_text = [&](int64_t points) {
    std::optional<int64_t> v = value_of(points);
    return v ? Amount(*v, program) : std::string();
  };

  LedgerMonthRow totals;
  for (const LedgerMonthRow& m : report->months) {
    totals.earned += m.earned;
    totals.redeemed += m.redeemed;
    totals.expired += m.expired;
    totals.clawed_back += m.clawed_back;
    totals.adjusted += m.adjusted;
    totals.entries += m.entries;
  }
  auto net = [](const LedgerMonthRow& m) {
    return m.earned - m.redeemed - m.expired - m.clawed_back + m.adjusted;
  };

  if (csv && table == "months") {
    std::string body = CsvRow({"month", "earned", "redeemed", "expired", "clawed_back", "adjusted",
                               "net", "breakage_percent", "entries"});
    for (const LedgerMonthRow& m : report->months) {
      body += CsvRow({m.month.label, std::to_string(m.earned), std::to_string(m.redeemed),
                      std::to_string(m.expired), std::to_string(m.clawed_back),
                      std::to_string(m.adjusted), std::to_string(net(m)),
                      report_format::PercentText(m.expired, m.earned), std::to_string(m.entries)});
    }
    return ReplyCsv(res, "liability-months.csv", body);
  }
  if (csv) {
    std::vector<std::string> header = {"as_of",
                                       "currency",
                                       "outstanding_points",
                                       "outstanding_value",
                                       "valuation_reward",
                                       "valuation_points",
                                       "valuation_amount",
                                       "pending_points",
                                       "never_expiring_points"};
    std::vector<std::string> row = {FormatIso8601Millis(now),
                                    program.currency,
                                    std::to_string(report->outstanding_points),
                                    value_text(report->outstanding_points),
                                    rate ? rate->reward_id : "",
                                    rate ? std::to_string(rate->points) : "",
                                    rate ? Amount(rate->amount_minor, program) : "",
                                    std::to_string(report->pending_points),
                                    std::to_string(report->never_expiring_points)};
    for (size_t i = 0; i < report->expiring_points.size(); ++i) {
      const std::string days = std::to_string(kExpiringDays[i]);
      header.push_back("expiring_" + days + "d_points");
      header.push_back("expiring_" + days + "d_value");
      row.push_back(std::to_string(report->expiring_points[i]));
      row.push_back(value_text(report->expiring_points[i]));
    }
    return ReplyCsv(res, "liability-summary.csv", CsvRow(header) + CsvRow(row));
  }

  json expiring = json::array();
  for (size_t i = 0; i < report->expiring_points.size(); ++i) {
    expiring.push_back(json{{"within_days", kExpiringDays[i]},
                            {"by", FormatIso8601Millis(now + kExpiringDays[i] * kReportsDayMs)},
                            {"points", report->expiring_points[i]},
                            {"value", value_json(report->expiring_points[i])}});
  }
  json month_rows = json::array();
  for (const LedgerMonthRow& m : report->months) {
    month_rows.push_back(
        json{{"month", m.month.label},
             {"starts_at", FormatIso8601Millis(m.month.starts_at_ms)},
             {"earned", m.earned},
             {"redeemed", m.redeemed},
             {"expired", m.expired},
             {"clawed_back", m.clawed_back},
             {"adjusted", m.adjusted},
             {"net", net(m)},
             {"breakage_percent", NullIfEmpty(report_format::PercentText(m.expired, m.earned))},
             {"entries", m.entries},
             {"points_by_kind", m.points_by_kind}});
  }
  json valuation = nullptr;
  if (rate) {
    valuation = json{{"reward_id", rate->reward_id},
                     {"points", rate->points},
                     {"amount", AmountJson(rate->amount_minor, program)},
                     {"rounding", "nearest minor unit, halves away from zero"}};
  }
  Reply(res, 200,
        json{{"as_of", FormatIso8601Millis(now)},
             {"currency", program.currency},
             {"valuation", valuation},
             {"outstanding", json{{"points", report->outstanding_points},
                                  {"value", value_json(report->outstanding_points)},
                                  {"open_lots", report->open_lots},
                                  {"never_expiring_points", report->never_expiring_points}}},
             {"pending_points", report->pending_points},
             {"expiring", expiring},
             {"time_zone", "UTC"},
             {"months", month_rows},
             {"totals", json{{"earned", totals.earned},
                             {"redeemed", totals.redeemed},
                             {"expired", totals.expired},
                             {"clawed_back", totals.clawed_back},
                             {"adjusted", totals.adjusted},
                             {"net", net(totals)},
                             {"breakage_percent", NullIfEmpty(report_format::PercentText(
                                                      totals.expired, totals.earned))},
                             {"entries", totals.entries}}}});
}

void AdminApi::ReportTiers(const Config& config, const httplib::Request& req,
                           httplib::Response& res) {
  bool csv = false;
  std::string table;
  std::vector<ReportMonth> months;
  const int64_t now = clock_.NowMillis();
  if (!WantsCsv(req, res, csv) ||
      !ReadCsvTable(req, res, csv, {"movement", "distribution"}, table) ||
      !ReadReportMonths(req, res, now, months)) {
    return;
  }
  Result<TierFigures> report = storage_.TierReport(months);
  if (!report.ok()) return ReplyStorageError(res, report.status());
  const TiersConfig& tiers = config.program.tiers;

  // Distribution in the config's order (lowest level first, "no tier" before them), every
  // configured level even when empty; levels stored but no longer configured come last.
  std::vector<TierLevelCount> levels;
  std::map<std::string, int64_t> stored;
  for (const TierLevelCount& l : report->levels) stored[l.level_id] = l.customers;
  levels.push_back(TierLevelCount{"", stored[""]});
  for (const TierLevel& level : tiers.levels) {
    levels.push_back(TierLevelCount{level.id, stored.count(level.id) ? stored[level.id] : 0});
  }
  for (const TierLevelCount& l : report->levels) {
    if (!l.level_id.empty() && tiers.FindLevel(l.level_id) == nullptr) levels.push_back(l);
  }
  auto level_name = [&](const std::string& id) -> std::string {
    if (id.empty()) return "No tier";
    const TierLevel* level = tiers.FindLevel(id);
    return level ? level->name : "";
  };

  if (csv && table == "distribution") {
    std::string body = CsvRow({"level_id", "name", "customers"});
    for (const TierLevelCount& l : levels) {
      body += CsvRow({l.level_id, level_name(l.level_id), std::to_string(l.customers)});
    }
    return ReplyCsv(res, "tiers-distribution.csv", body);
  }
  if (csv) {
    std::string body = CsvRow({"month", "level_id", "entered", "upgraded_in", "downgraded_in",
                               "left", "upgraded_out", "downgraded_out"});
    for (const TierMovementRow& m : report->movement) {
      body += CsvRow({m.month, m.level_id, std::to_string(m.entered), std::to_string(m.upgraded_in),
                      std::to_string(m.downgraded_in), std::to_string(m.left),
                      std::to_string(m.upgraded_out), std::to_string(m.downgraded_out)});
    }
    return ReplyCsv(res, "tiers-movement.csv", body);
  }

  json distribution = json::array();
  for (const TierLevelCount& l : levels) {
    distribution.push_back(
        json{{"level_id", NullIfEmpty(l.level_id)},
             {"name", NullIfEmpty(level_name(l.level_id))},
             {"customers", l.customers},
             {"configured", l.level_id.empty() || tiers.FindLevel(l.level_id) != nullptr}});
  }
  json movement = json::array();
  size_t next = 0;
  for (const ReportMonth& month : months) {
    json rows = json::array();
    while (next < report->movement.size() && report->movement[next].month == month.label) {
      const TierMovementRow& m = report->movement[next++];
      rows.push_back(json{{"level_id", NullIfEmpty(m.level_id)},
                          {"entered", m.entered},
                          {"upgraded_in", m.upgraded_in},
                          {"downgraded_in", m.downgraded_in},
                          {"left", m.left},
                          {"upgraded_out", m.upgraded_out},
                          {"downgraded_out", m.downgraded_out}});
    }
    movement.push_back(json{{"month", month.label}, {"levels", rows}});
  }
  Reply(res, 200,
        json{{"as_of", FormatIso8601Millis(now)},
             {"customers", report->customers},
             {"distribution", distribution},
             {"time_zone", "UTC"},
             {"movement", movement}});
}

}  // namespace loyaltyd
