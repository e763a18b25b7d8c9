// BalanceImport: opening balances from a CSV file, for merchants migrating from another
// loyalty app (POST /api/v1/imports/balances and `loyaltyd import-balances`; docs/api.md,
// "Importing opening balances").
//
// The file has a header row naming its columns, in any order and case:
//   email                 required; the customer's email
//   points                required; a whole number from 0 to 1000000000, digits only
//   shop_id               the shop of config `shops` (optional when there is one shop or the
//                         caller names a default)
//   platform_customer_id  the platform's numeric customer id (recommended: the customer's
//                         later orders then earn on the imported record)
//   first_name, last_name optional
// RFC 4180: fields may be quoted ("a, b"; "" for a quote); lines end in LF or CRLF; a UTF-8
// byte-order mark and blank lines are skipped.
//
// Each row is checked on its own; a bad row is reported with its line number and reason and
// changes nothing, good rows apply. Rows naming the same customer twice (shop and email, or
// shop and platform id) are all rejected: which one is right is for the merchant to say.
// Storage posts each customer's opening balance once ever ("opening_balance" ledger entry), so
// re-posting a file changes nothing; a row whose points differ from the balance imported
// before is rejected (correct it with an adjustment).
//
// Thread-safety: free functions; ImportBalances writes through Storage, which serialises.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "core/status.h"
#include "storage/storage.h"

namespace loyaltyd {

// Rows one import takes at most; a larger file is refused whole (split it).
inline constexpr size_t kMaxImportRows = 100'000;
inline constexpr int64_t kMaxImportPoints = 1'000'000'000;

struct BalanceImportRejection {
  int line = 0;
  std::string email;  // as in the file ("" when the row has no email column value)
  std::string reason;
};

struct ParsedBalanceFile {
  std::vector<OpeningBalanceRow> rows;  // good rows, in file order
  std::vector<BalanceImportRejection> rejections;
  size_t data_rows = 0;  // rows after the header, blank lines not counted
};

// Parses and checks the file. InvalidArgument when the file cannot be read as a whole (no
// header, a missing or unknown column, an unterminated quote), PayloadTooLarge beyond
// kMaxImportRows. `default_shop_id` applies to rows without a shop_id ("" : the config's only
// shop, if it has one).
Result<ParsedBalanceFile> ParseBalanceFile(std::string_view csv, const Config& config,
                                           const std::string& default_shop_id);

struct BalanceImportReport {
  size_t rows = 0;
  size_t applied = 0;
  size_t unchanged = 0;
  size_t customers_created = 0;
  int64_t points_imported = 0;
  std::vector<BalanceImportRejection> rejections;  // by line
};

// Parses, then applies the good rows through Storage::ImportOpeningBalances.
Result<BalanceImportReport> ImportBalances(Storage& storage, const Config& config,
                                           std::string_view csv, const std::string& default_shop_id,
                                           int64_t now_ms);

nlohmann::json BalanceImportReportJson(const BalanceImportReport& report);

}  // namespace loyaltyd
