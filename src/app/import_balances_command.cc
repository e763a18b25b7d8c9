#include "app/import_balances_command.h"

#include <cstdio>
#include <fstream>
#include <sstream>

#include "app/points_scheduler.h"
#include "config/config.h"
#include "core/clock.h"
#include "customers/balance_import.h"
#include "storage/sqlite_storage.h"

namespace loyaltyd {
namespace {

// The CLI takes files far larger than an HTTP body; this only stops a wrong path (a disk
// image) from being read into memory.
constexpr std::streamoff kMaxImportFileBytes = std::streamoff{256} << 20;

}  // namespace

const char* ImportBalancesUsage() {
  return R"(Usage: loyaltyd import-balances --config FILE --file CSV [--shop ID]

Imports opening balances (a migration from another loyalty app) into the config's database:
one "opening_balance" ledger entry per customer, once ever. The daemon may be running (rows
commit in short transactions). The CSV's first line names its columns:
  email,points[,shop_id,platform_customer_id,first_name,last_name]
points are whole numbers (digits only); shop_id defaults to --shop or the config's only shop;
platform_customer_id (the platform's numeric customer id) links the record to the customer's
later orders. Rejected rows are printed with their line number and reason and change nothing;
running the same file again changes nothing. The report is JSON, as the API's
(POST /api/v1/imports/balances; docs/api.md).
Exits 0 when the file was read (even with rejected rows), 1 on a storage or file error, 2 on bad
usage, an invalid config or a file whose header cannot be used.
)";
}

int RunImportBalances(const std::map<std::string, std::string>& flags) {
  auto config_flag = flags.find("config");
  auto file_flag = flags.find("file");
  if (config_flag == flags.end() || file_flag == flags.end()) {
    std::fprintf(stderr,
                 "loyaltyd import-balances: --config FILE and --file CSV are required\n\n%s",
                 ImportBalancesUsage());
    return 2;
  }
  ConfigLoadResult loaded = LoadConfigFile(config_flag->second);
  if (!loaded.ok()) {
    for (const ConfigProblem& p : loaded.problems) {
      std::fprintf(stderr, "%s: %s\n", config_flag->second.c_str(), p.ToString().c_str());
    }
    return 2;
  }
  const Config& config = loaded.config;
  std::string shop;
  if (auto it = flags.find("shop"); it != flags.end()) {
    shop = it->second;
    if (config.FindShopById(shop) == nullptr) {
      std::fprintf(stderr, "loyaltyd import-balances: --shop: unknown shop '%s'\n", shop.c_str());
      return 2;
    }
  }
  std::ifstream in(file_flag->second, std::ios::binary | std::ios::ate);
  if (!in) {
    std::fprintf(stderr, "loyaltyd import-balances: cannot read '%s'\n", file_flag->second.c_str());
    return 1;
  }
  if (in.tellg() > kMaxImportFileBytes) {
    std::fprintf(stderr, "loyaltyd import-balances: '%s' is larger than 256 MiB; split it\n",
                 file_flag->second.c_str());
    return 1;
  }
  in.seekg(0);
  std::ostringstream text;
  text << in.rdbuf();
  Result<std::unique_ptr<SqliteStorage>> storage =
      SqliteStorage::Open(config.storage.sqlite_path, /*read_connections=*/1);
  if (!storage.ok()) {
    std::fprintf(stderr, "loyaltyd import-balances: %s\n", storage.status().ToString().c_str());
    return 1;
  }
  // New lots take their expiry from the program, as the daemon's would.
  (*storage)->SetPointsPolicy(PointsPolicyFrom(config.program));
  Result<BalanceImportReport> report =
      ImportBalances(**storage, config, text.str(), shop, SystemClock().NowMillis());
  if (!report.ok()) {
    std::fprintf(stderr, "loyaltyd import-balances: %s\n", report.status().message().c_str());
    const StatusCode code = report.status().code();
    return code == StatusCode::kInvalidArgument || code == StatusCode::kPayloadTooLarge ? 2 : 1;
  }
  std::printf("%s\n", BalanceImportReportJson(*report).dump(2).c_str());
  return 0;
}

}  // namespace loyaltyd
