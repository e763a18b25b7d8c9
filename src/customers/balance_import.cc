#include "customers/balance_import.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>

#include "core/model.h"

namespace loyaltyd {
namespace {

constexpr size_t kMaxNameBytes = 255;
constexpr size_t kMaxEmailBytes = 254;  // RFC 5321's limit on a path

struct CsvRecord {
  int line = 0;  // where the record starts
  std::vector<std::string> fields;
};

// RFC 4180 records. InvalidArgument for a quote left open or text after a closing quote.
Result<std::vector<CsvRecord>> SplitCsv(std::string_view text) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  std::vector<CsvRecord> records;
  CsvRecord record;
  std::string field;
  int line = 1;
  record.line = 1;
  bool in_quotes = false;
  bool quoted_field = false;  // the current field was quoted: only a separator may follow
  bool record_has_content = false;
  auto end_record = [&] {
    record.fields.push_back(std::move(field));
    field.clear();
    // A blank line is no record.
    if (record_has_content || record.fields.size() > 1 || !record.fields[0].empty()) {
      records.push_back(std::move(record));
    }
    record = CsvRecord{};
    record_has_content = false;
    quoted_field = false;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          in_quotes = false;
        }
      } else {
        if (c == '\n') ++line;
        field += c;
      }
      continue;
    }
    if (c == ',') {
      record.fields.push_back(std::move(field));
      field.clear();
      quoted_field = false;
      continue;
    }
    if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') continue;
    if (c == '\n') {
      end_record();
      ++line;
      record.line = line;
      continue;
    }
    if (quoted_field) {
      return InvalidArgument("line " + std::to_string(line) +
                             ": text after a closing quote; a quote inside a quoted field is "
                             "written twice (\"\")");
    }
    if (c == '"' && field.empty()) {
      in_quotes = true;
      quoted_field = true;
      record_has_content = true;
      continue;
    }
    field += c;
  }
  if (in_quotes) {
    return InvalidArgument("line " + std::to_string(record.line) +
                           ": a quoted field is never closed");
  }
  if (!field.empty() || !record.fields.empty() || record_has_content) end_record();
  return records;
}

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

std::string LowerAscii(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Digits only, within [0, kMaxImportPoints]: "1,000", "10.5", "1e3", "-5", " 7 " are refused
// rather than guessed at.
std::optional<int64_t> ParsePoints(const std::string& text) {
  if (text.empty() || text.size() > 10) return std::nullopt;
  int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  if (value > kMaxImportPoints) return std::nullopt;
  return value;
}

bool IsPlausibleEmail(const std::string& normalised) {
  if (normalised.empty() || normalised.size() > kMaxEmailBytes) return false;
  const size_t at = normalised.find('@');
  if (at == std::string::npos || normalised.find('@', at + 1) != std::string::npos) return false;
  if (normalised.find('.', at) == std::string::npos) return false;
  return std::none_of(normalised.begin(), normalised.end(), [](char c) {
    return std::isspace(static_cast<unsigned char>(c)) || c == ',' || c == '<' || c == '>';
  });
}

const std::vector<std::string>& KnownColumns() {
  static const std::vector<std::string> kColumns = {
      "email", "points", "shop_id", "platform_customer_id", "first_name", "last_name"};
  return kColumns;
}

}  // namespace

Result<ParsedBalanceFile> ParseBalanceFile(std::string_view csv, const Config& config,
                                           const std::string& default_shop_id) {
  Result<std::vector<CsvRecord>> records = SplitCsv(csv);
  if (!records.ok()) return records.status();
  if (records->empty()) {
    return InvalidArgument(
        "the file is empty; the first line must name the columns, e.g. "
        "email,points,shop_id,platform_customer_id,first_name,last_name");
  }
  if (records->size() - 1 > kMaxImportRows) {
    return PayloadTooLarge("the file has " + std::to_string(records->size() - 1) +
                           " rows; one import takes at most " + std::to_string(kMaxImportRows) +
                           " (split the file)");
  }
  // The header: which field holds which column.
  std::map<std::string, size_t> column;
  const CsvRecord& header = records->front();
  for (size_t i = 0; i < header.fields.size(); ++i) {
    const std::string name = LowerAscii(Trim(header.fields[i]));
    const std::vector<std::string>& known = KnownColumns();
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      return InvalidArgument("line " + std::to_string(header.line) + ": unknown column '" + name +
                             "'; the columns are email, points, shop_id, platform_customer_id, "
                             "first_name, last_name");
    }
    if (!column.emplace(name, i).second) {
      return InvalidArgument("line " + std::to_string(header.line) + ": column '" + name +
                             "' appears twice");
    }
  }
  for (const char* required : {"email", "points"}) {
    if (column.count(required) == 0) {
      return InvalidArgument("line " + std::to_string(header.line) + ": the header has no '" +
                             required + "' column (email and points are required)");
    }
  }
  std::string fallback_shop = default_shop_id;
  if (fallback_shop.empty() && config.shops.size() == 1) fallback_shop = config.shops[0].id;

  ParsedBalanceFile out;
  out.data_rows = records->size() - 1;
  // Keys of the customers the rows name, to find rows naming one customer twice.
  std::map<std::string, std::vector<size_t>> by_key;
  std::vector<std::optional<BalanceImportRejection>> verdicts;
  std::vector<OpeningBalanceRow> candidates;
  for (size_t r = 1; r < records->size(); ++r) {
    const CsvRecord& rec = (*records)[r];
    auto field = [&](const char* name) -> std::string {
      auto it = column.find(name);
      return it == column.end() || it->second >= rec.fields.size() ? std::string()
                                                                   : Trim(rec.fields[it->second]);
    };
    OpeningBalanceRow row;
    row.line = rec.line;
    row.email = field("email");
    auto reject = [&](std::string reason) {
      verdicts.push_back(BalanceImportRejection{rec.line, row.email, std::move(reason)});
      candidates.push_back(row);
    };
    if (rec.fields.size() != header.fields.size()) {
      reject("expected " + std::to_string(header.fields.size()) +
             " fields as in the header, found " + std::to_string(rec.fields.size()));
      continue;
    }
    row.email_normalised = NormaliseEmail(row.email);
    if (!IsPlausibleEmail(row.email_normalised)) {
      reject(row.email.empty() ? "email: missing" : "email: not an email address");
      continue;
    }
    const std::string points_text = field("points");
    std::optional<int64_t> points = ParsePoints(points_text);
    if (!points) {
      reject("points: '" + points_text + "' is not a whole number from 0 to " +
             std::to_string(kMaxImportPoints) + " (digits only)");
      continue;
    }
    row.points = *points;
    row.shop_id = field("shop_id");
    if (row.shop_id.empty()) row.shop_id = fallback_shop;
    if (row.shop_id.empty()) {
      reject(
          "shop_id: missing; the config has several shops (add a shop_id column or "
          "?shop_id=)");
      continue;
    }
    if (config.FindShopById(row.shop_id) == nullptr) {
      reject("shop_id: unknown shop '" + row.shop_id + "'");
      continue;
    }
    row.platform_customer_id = field("platform_customer_id");
    if (!row.platform_customer_id.empty() &&
        (row.platform_customer_id.size() > 20 ||
         !std::all_of(row.platform_customer_id.begin(), row.platform_customer_id.end(),
                      [](char c) { return c >= '0' && c <= '9'; }))) {
      reject("platform_customer_id: must be the platform's numeric customer id");
      continue;
    }
    row.first_name = field("first_name");
    row.last_name = field("last_name");
    if (row.first_name.size() > kMaxNameBytes || row.last_name.size() > kMaxNameBytes) {
      reject("first_name/last_name: longer than " + std::to_string(kMaxNameBytes) + " bytes");
      continue;
    }
    const size_t index = candidates.size();
    by_key[row.shop_id + "\n@" + row.email_normalised].push_back(index);
    if (!row.platform_customer_id.empty()) {
      by_key[row.shop_id + "\n#" + row.platform_customer_id].push_back(index);
    }
    verdicts.push_back(std::nullopt);
    candidates.push_back(std::move(row));
  }
  for (const auto& [key, indexes] : by_key) {
    if (indexes.size() < 2) continue;
    const bool by_email = key.find("\n@") != std::string::npos;
    std::string lines;
    for (size_t i : indexes) {
      lines += (lines.empty() ? "" : ", ") + std::to_string(candidates[i].line);
    }
    for (size_t i : indexes) {
      if (verdicts[i]) continue;
      verdicts[i] = BalanceImportRejection{
          candidates[i].line, candidates[i].email,
          std::string("duplicate: the file names this customer (by ") +
              (by_email ? "shop and email" : "shop and platform_customer_id") + ") on lines " +
              lines};
    }
  }
  for (size_t i = 0; i < candidates.size(); ++i) {
    if (verdicts[i]) {
      out.rejections.push_back(std::move(*verdicts[i]));
    } else {
      out.rows.push_back(std::move(candidates[i]));
    }
  }
  return out;
}

Result<BalanceImportReport> ImportBalances(Storage& storage, const Config& config,
                                           std::string_view csv, const std::string& default_shop_id,
                                           int64_t now_ms) {
  Result<ParsedBalanceFile> parsed = ParseBalanceFile(csv, config, default_shop_id);
  if (!parsed.ok()) return parsed.status();
  BalanceImportReport report;
  report.rows = parsed->data_rows;
  report.rejections = std::move(parsed->rejections);
  Result<std::vector<OpeningBalanceOutcome>> outcomes =
      storage.ImportOpeningBalances(parsed->rows, now_ms);
  if (!outcomes.ok()) return outcomes.status();
  for (size_t i = 0; i < outcomes->size() && i < parsed->rows.size(); ++i) {
    const OpeningBalanceOutcome& o = (*outcomes)[i];
    const OpeningBalanceRow& row = parsed->rows[i];
    if (o.customer_created) ++report.customers_created;
    switch (o.kind) {
      case OpeningBalanceOutcome::Kind::kApplied:
        ++report.applied;
        report.points_imported += row.points;
        break;
      case OpeningBalanceOutcome::Kind::kUnchanged:
        ++report.unchanged;
        break;
      case OpeningBalanceOutcome::Kind::kRejected:
        report.rejections.push_back({row.line, row.email, o.reason});
        break;
    }
  }
  std::stable_sort(report.rejections.begin(), report.rejections.end(),
                   [](const BalanceImportRejection& a, const BalanceImportRejection& b) {
                     return a.line < b.line;
                   });
  return report;
}

nlohmann::json BalanceImportReportJson(const BalanceImportReport& report) {
  nlohmann::json rejections = nlohmann::json::array();
  for (const BalanceImportRejection& r : report.rejections) {
    rejections.push_back({{"line", r.line}, {"email", r.email}, {"reason", r.reason}});
  }
  return {{"rows", report.rows},
          {"applied", report.applied},
          {"unchanged", report.unchanged},
          {"rejected", report.rejections.size()},
          {"customers_created", report.customers_created},
          {"points_imported", report.points_imported},
          {"rejections", rejections}};
}

}  // namespace loyaltyd
