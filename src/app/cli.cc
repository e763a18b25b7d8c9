#include "app/cli.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "app/daemon.h"
#include "app/events_out_policy.h"
#include "app/import_balances_command.h"
#include "app/logging.h"
#include "app/points_scheduler.h"
#include "app/reconcile_scheduler.h"
#include "app/tier_scheduler.h"
#include "app/trigger.h"
#include "config/config.h"
#include "core/clock.h"
#include "ledger/config_tier_policy.h"
#include "ledger/referral_policy.h"
#include "storage/sqlite_storage.h"
#include "webhooks/order_reconciler.h"

namespace loyaltyd {
namespace {

constexpr const char* kUsage =
    R"(loyaltyd - self-hosted loyalty daemon for Shopify and WooCommerce stores

Usage:
  loyaltyd serve --config FILE         Run the daemon (webhooks, ledger, admin API).
  loyaltyd check-config FILE           Validate a config; print every problem with its JSON path.
  loyaltyd tiers reevaluate --config FILE
                                       Re-evaluate every customer's VIP tier once, as of now.
  loyaltyd trigger --config FILE --topic TOPIC [options]
                                       Send a signed sample webhook to a running daemon.
  loyaltyd expire --config FILE [--now ISO]
                                       Expire points past their lot age or inactivity.
  loyaltyd release-pending --config FILE [--now ISO]
                                       Credit pending awards whose hold has passed.
  loyaltyd reconcile --config FILE --shop ID --since ISO
                                       Find orders whose webhooks were missed and feed them.
  loyaltyd import-balances --config FILE --file CSV [--shop ID]
                                       Import opening balances (a migration) from a CSV file.
  loyaltyd --help | help [COMMAND]     Show this help, or a command's help.
  loyaltyd --version                   Print the version.

Signals (serve): SIGTERM/SIGINT drain and exit; SIGHUP reloads the config file
(`loyaltyd help serve` says what a reload can change).
Exit codes: 0 success, 1 runtime failure, 2 bad usage or invalid config.
Docs: README.md, docs/configuration.md, docs/operations.md.
)";

constexpr const char* kServeUsage = R"(Usage: loyaltyd serve --config FILE

Runs the daemon in the foreground, logging to stderr:
  POST /webhooks/shopify                Shopify webhooks (signed with the shop's webhook_secret)
  POST /webhooks/woocommerce            WooCommerce webhooks (likewise; the creation ping gets 200)
  GET  /healthz                         liveness
  GET  /api/v1/...                      admin API (Authorization: Bearer <admin.token>)
The config is validated first; any problem is printed and the daemon exits with code 2.
SIGTERM or SIGINT drains in-flight requests and exits 0. Webhooks acknowledged with 2xx are
durably stored; events not yet processed are processed at the next start.

SIGHUP reloads FILE without dropping a request, all or nothing:
  applied    program (earn rules, rewards, refunds, ...), shops (webhook secrets and their
             rotation, api credentials, earn_on_status, shops added or removed), admin.token,
             outbox retry settings, logging.level. Each processing batch, request and outbox
             job runs under one version of the config: the next one starts with the new file.
  refused    an invalid file: each problem is logged with its JSON path (as check-config
             prints it) and the running config is kept. Also a file that changes server.*,
             storage.* or logging.format: those need a restart; each such key is logged
             ("server.listen: changes need a restart; kept ...") and nothing is applied.
The log says which: "config reloaded from FILE: program changed, 2 shops" or "config reload
from FILE refused: ...". Check a file first with `loyaltyd check-config FILE`.
)";

constexpr const char* kCheckUsage = R"(Usage: loyaltyd check-config FILE

Validates FILE and prints every problem as `json.path: reason`, one per line.
Exits 0 when the config is valid, 2 otherwise.
)";

constexpr const char* kTiersUsage = R"(Usage: loyaltyd tiers reevaluate --config FILE

Runs the daily VIP tier re-evaluation once, as of now, on the config's database (the daemon may
be running: the run takes the write lock in short transactions). Downgrades whose keep_for has
passed, windows that rolled past old orders and memberships that ended take effect; each change
is written to the customer's ledger and queues its tag update, which the daemon's outbox sends.
Idempotent: running it again changes nothing more. Prints the number of changes.
)";

constexpr const char* kExpireUsage = R"(Usage: loyaltyd expire --config FILE [--now ISO]

Expires, in the config's database, every point lot past its expiry (program.expiry.lot_age_days)
and every lot of a customer without points activity for program.expiry.inactivity_days: one
"expire" ledger entry per lot. Idempotent: running it again, or while the daemon runs (it does
the same every hour), expires nothing twice. Then queues the points.expiring events of
events_out (docs/events.md) for lots expiring within program.expiry.warn_days: once per
customer and expiry day, ever.
  --now ISO    judge expiry as of this UTC time, e.g. 2027-01-31T00:00:00Z or 2027-01-31
               (default: now)
Prints what was expired; exits 0, 1 on a storage error, 2 on bad usage.
)";

constexpr const char* kReleaseUsage = R"(Usage: loyaltyd release-pending --config FILE [--now ISO]

Credits every pending award (program.award.hold_days) whose hold has passed: "earn" entries,
then the clawbacks of refunds recorded during the hold; awards of orders cancelled or fully
refunded meanwhile are voided. Idempotent: each award is released once, whatever the repeats;
the daemon does the same every hour.
  --now ISO    release as of this UTC time, e.g. 2027-01-31T00:00:00Z (default: now)
Prints what was released; exits 0, 1 on a storage error, 2 on bad usage.
)";

constexpr const char* kReconcileUsage =
    R"(Usage: loyaltyd reconcile --config FILE --shop ID --since ISO

Finds the orders of shop ID changed since ISO whose webhooks loyaltyd never got (Shopify gives
up on a failing webhook after a few hours, WooCommerce disables it after a few failures) and
feeds them into the inbox exactly as webhooks: the running daemon processes them within a
second (or at its next start), with the webhooks' dedupe and exactly-once ledger.
Orders are listed through the shop's admin API (shops[].api): Shopify Admin GraphQL `orders`
filtered by updated_at, WooCommerce GET /wp-json/wc/v3/orders?modified_after=. An order whose
state (paid, cancelled, refunds) the ledger already holds is counted as already seen; a state
fed by an earlier run is not fed again: running it twice changes nothing the second time.
  --shop ID     a shop id from the config's `shops`
  --since ISO   UTC time, e.g. 2027-01-31T00:00:00Z or 2027-01-31: orders updated since then
Prints a JSON report: orders_listed, fed (new states), already_seen, skipped (with problems),
complete. Rate limits (Shopify THROTTLED or 429, WooCommerce 429) are waited out; a run that
stops (store unreachable, credentials refused) says how far it got, keeps what it fed, and can
simply be run again. The daemon does the same periodically with `reconcile.enabled`
(docs/configuration.md). Exits 0 when complete, 1 when stopped, 2 on bad usage.
)";

// "2027-01-31", "2027-01-31T12:00:00Z" or with milliseconds; UTC only. nullopt otherwise.
std::optional<int64_t> ParseIsoUtc(const std::string& text) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, millis = 0;
  char tail[8] = {};
  const int n = std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3d%7s", &year, &month, &day,
                            &hour, &minute, &second, &millis, tail);
  const bool date_only = n == 3 && text.size() == 10;
  const bool with_millis = n == 8 && std::string(tail) == "Z";
  const bool plain = n == 6 && text.size() == 20 && text.back() == 'Z';
  if (!date_only && !with_millis && !plain) return std::nullopt;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  return static_cast<int64_t>(timegm(&tm)) * 1000 + millis;
}

// Parses "--name value" pairs after the command word. Returns false on a stray argument.
bool ParseFlags(int argc, char** argv, int first, std::map<std::string, std::string>& flags,
                std::vector<std::string>& positional) {
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) == 0) {
      const size_t eq = arg.find('=');
      if (eq != std::string::npos) {
        flags[arg.substr(2, eq - 2)] = arg.substr(eq + 1);
      } else if (arg == "--help" || arg == "-h") {
        flags["help"] = "1";
      } else if (i + 1 < argc) {
        flags[arg.substr(2)] = argv[++i];
      } else {
        std::fprintf(stderr, "loyaltyd: option %s needs a value\n", arg.c_str());
        return false;
      }
    } else if (arg == "-h") {
      flags["help"] = "1";
    } else {
      positional.push_back(arg);
    }
  }
  return true;
}

// Loads and validates; prints problems to stderr. nullopt when invalid.
std::optional<Config> LoadValidConfig(const std::string& path) {
  ConfigLoadResult loaded = LoadConfigFile(path);
  if (!loaded.ok()) {
    std::fprintf(stderr, "%s: %zu problem(s):\n", path.c_str(), loaded.problems.size());
    for (const ConfigProblem& p : loaded.problems) {
      std::fprintf(stderr, "  %s\n", p.ToString().c_str());
    }
    return std::nullopt;
  }
  return std::move(loaded.config);
}

int Serve(const std::map<std::string, std::string>& flags) {
  auto it = flags.find("config");
  if (it == flags.end()) {
    std::fprintf(stderr, "loyaltyd serve: --config FILE is required\n\n%s", kServeUsage);
    return 2;
  }
  std::optional<Config> config = LoadValidConfig(it->second);
  if (!config) return 2;
  Status logging = ConfigureLogging(config->logging);
  if (!logging.ok()) {
    std::fprintf(stderr, "loyaltyd: %s\n", logging.message().c_str());
    return 2;
  }
  Result<std::unique_ptr<Daemon>> daemon = Daemon::Create(std::move(*config), it->second);
  if (!daemon.ok()) {
    spdlog::critical("cannot start: {}", daemon.status().ToString());
    return 1;
  }
  Status run = (*daemon)->Run();
  if (!run.ok()) {
    spdlog::critical("{}", run.ToString());
    return 1;
  }
  return 0;
}

int CheckConfig(const std::map<std::string, std::string>& flags,
                const std::vector<std::string>& positional) {
  std::string path;
  if (!positional.empty()) {
    path = positional[0];
  } else if (auto it = flags.find("config"); it != flags.end()) {
    path = it->second;
  } else {
    std::fprintf(stderr, "%s", kCheckUsage);
    return 2;
  }
  if (!LoadValidConfig(path)) return 2;
  std::printf("%s: OK\n", path.c_str());
  return 0;
}

int Tiers(const std::map<std::string, std::string>& flags,
          const std::vector<std::string>& positional) {
  auto it = flags.find("config");
  if (positional.size() != 1 || positional[0] != "reevaluate" || it == flags.end()) {
    std::fprintf(stderr, "%s", kTiersUsage);
    return 2;
  }
  std::optional<Config> config = LoadValidConfig(it->second);
  if (!config) return 2;
  std::shared_ptr<const TierPolicy> policy = ConfigTierPolicy::FromConfig(*config);
  if (!policy) {
    std::fprintf(stderr, "loyaltyd tiers: the config has no program.tiers\n");
    return 2;
  }
  Result<std::unique_ptr<SqliteStorage>> storage = SqliteStorage::Open(
      config->storage.sqlite_path, /*read_connections=*/4, config->storage.sqlite_cache_mb);
  if (!storage.ok()) {
    std::fprintf(stderr, "loyaltyd tiers: %s\n", storage.status().ToString().c_str());
    return 1;
  }
  (*storage)->SetEventsOutPolicy(EventsOutPolicyFrom(*config));  // events out: tier.changed
  SystemClock clock;
  TierScheduler scheduler(
      **storage, clock, [policy] { return policy; }, nullptr);
  Result<int64_t> changes = scheduler.RunOnce();
  if (!changes.ok()) {
    std::fprintf(stderr, "loyaltyd tiers: %s\n", changes.status().ToString().c_str());
    return 1;
  }
  std::printf("%lld tier change(s)\n", static_cast<long long>(*changes));
  return 0;
}

// `expire` and `release-pending`: one points run against the config's database.
int RunPointsCommand(const std::string& command, const std::map<std::string, std::string>& flags) {
  const char* usage = command == "expire" ? kExpireUsage : kReleaseUsage;
  auto it = flags.find("config");
  if (it == flags.end()) {
    std::fprintf(stderr, "loyaltyd %s: --config FILE is required\n\n%s", command.c_str(), usage);
    return 2;
  }
  int64_t now_ms = SystemClock().NowMillis();
  if (auto now = flags.find("now"); now != flags.end()) {
    std::optional<int64_t> parsed = ParseIsoUtc(now->second);
    if (!parsed) {
      std::fprintf(stderr, "loyaltyd %s: --now must be a UTC time such as 2027-01-31T00:00:00Z\n",
                   command.c_str());
      return 2;
    }
    now_ms = *parsed;
  }
  std::optional<Config> config = LoadValidConfig(it->second);
  if (!config) return 2;
  Result<std::unique_ptr<SqliteStorage>> storage =
      SqliteStorage::Open(config->storage.sqlite_path, /*read_connections=*/1);
  if (!storage.ok()) {
    std::fprintf(stderr, "loyaltyd %s: %s\n", command.c_str(), storage.status().ToString().c_str());
    return 1;
  }
  (*storage)->SetPointsPolicy(PointsPolicyFrom(config->program));
  // Events out: what this run changes queues its events like the daemon's own runs.
  (*storage)->SetEventsOutPolicy(EventsOutPolicyFrom(*config));
  const std::string as_of = FormatIso8601Millis(now_ms);
  if (command == "expire") {
    Result<ExpiryRunResult> r = (*storage)->ExpirePoints(now_ms);
    if (!r.ok()) {
      std::fprintf(stderr, "loyaltyd expire: %s\n", r.status().ToString().c_str());
      return 1;
    }
    std::printf("as of %s: %lld lot(s) expired, %lld point(s)\n", as_of.c_str(),
                static_cast<long long>(r->lots_expired), static_cast<long long>(r->points_expired));
    // Events out: points.expiring warnings, as the daemon's hourly run queues them.
    Result<ExpiryWarningRunResult> warned = (*storage)->QueueExpiryWarnings(now_ms);
    if (!warned.ok()) {
      std::fprintf(stderr, "loyaltyd expire: %s\n", warned.status().ToString().c_str());
      return 1;
    }
    std::printf("as of %s: %lld points.expiring event(s) queued\n", as_of.c_str(),
                static_cast<long long>(warned->warnings));
    return 0;
  }
  Result<ReleaseRunResult> r = (*storage)->ReleasePendingPoints(now_ms);
  if (!r.ok()) {
    std::fprintf(stderr, "loyaltyd release-pending: %s\n", r.status().ToString().c_str());
    return 1;
  }
  std::printf("as of %s: %lld award(s) released, %lld point(s); %lld voided\n", as_of.c_str(),
              static_cast<long long>(r->released), static_cast<long long>(r->points_released),
              static_cast<long long>(r->voided));
  // Held referrals (program.referrals.hold_days) are released by the same run.
  if (std::shared_ptr<const ReferralPolicy> policy = MakeReferralPolicy(*config)) {
    Result<ReferralRunResult> referrals = (*storage)->ReleaseReferralRewards(*policy, now_ms);
    if (!referrals.ok()) {
      std::fprintf(stderr, "loyaltyd release-pending: %s\n", referrals.status().ToString().c_str());
      return 1;
    }
    std::printf("as of %s: %lld held referral(s) converted; %lld voided\n", as_of.c_str(),
                static_cast<long long>(referrals->converted),
                static_cast<long long>(referrals->voided));
  }
  return 0;
}

int Reconcile(const std::map<std::string, std::string>& flags) {
  auto config_flag = flags.find("config");
  auto shop_flag = flags.find("shop");
  auto since_flag = flags.find("since");
  if (config_flag == flags.end() || shop_flag == flags.end() || since_flag == flags.end()) {
    std::fprintf(stderr, "loyaltyd reconcile: --config, --shop and --since are required\n\n%s",
                 kReconcileUsage);
    return 2;
  }
  std::optional<int64_t> since_ms = ParseIsoUtc(since_flag->second);
  if (!since_ms) {
    std::fprintf(stderr,
                 "loyaltyd reconcile: --since '%s' is not a UTC time; use e.g. "
                 "2027-01-31T00:00:00Z or 2027-01-31\n",
                 since_flag->second.c_str());
    return 2;
  }
  std::optional<Config> config = LoadValidConfig(config_flag->second);
  if (!config) return 2;
  const ShopConfig* shop = config->FindShopById(shop_flag->second);
  if (shop == nullptr) {
    std::string ids;
    for (const ShopConfig& s : config->shops) ids += (ids.empty() ? "" : ", ") + s.id;
    std::fprintf(stderr, "loyaltyd reconcile: no shop '%s' in %s; its shops are: %s\n",
                 shop_flag->second.c_str(), config_flag->second.c_str(), ids.c_str());
    return 2;
  }
  std::unique_ptr<OrderSource> source = MakeOrderSource(*shop);
  if (!source) {
    std::fprintf(stderr,
                 "loyaltyd reconcile: shop '%s' has no `api` block; orders are listed through "
                 "the platform's admin API: add shops[].api (docs/configuration.md)\n",
                 shop->id.c_str());
    return 2;
  }
  (void)ConfigureLogging(config->logging);  // retries and skipped orders are logged to stderr
  Result<std::unique_ptr<SqliteStorage>> storage =
      SqliteStorage::Open(config->storage.sqlite_path, /*read_connections=*/1);
  if (!storage.ok()) {
    std::fprintf(stderr, "loyaltyd reconcile: %s\n", storage.status().ToString().c_str());
    return 1;
  }
  SqliteStorage& db = **storage;
  SystemClock clock;
  // The same inbox rows a delivery makes; the running daemon's processor picks them up (it
  // looks at least once a second), or the next start does.
  OrderReconciler reconciler(
      db, clock,
      [&db](NewInboxEvent event) -> Result<InboxAppendOutcome> {
        Result<std::vector<InboxAppendOutcome>> stored = db.AppendToInbox({std::move(event)});
        if (!stored.ok()) return stored.status();
        return stored->at(0);
      },
      [](int64_t ms) {
        std::this_thread::sleep_for(std::chrono::milliseconds(ms));
        return true;
      });
  const ReconcileReport report = reconciler.Run(*config, *shop, *source, *since_ms);
  std::printf("%s\n", ReconcileReportJson(report).c_str());
  if (!report.complete) {
    std::string hint;
    if (report.status.code() == StatusCode::kUnavailable) {
      hint = "; is the store reachable at " + shop->api.base_url + "? Run the command again later";
    } else if (report.status.code() == StatusCode::kUnauthenticated) {
      hint = "; fix the credentials in shops[].api and run the command again";
    }
    std::fprintf(
        stderr, "loyaltyd reconcile: stopped after %lld page(s), %lld order(s) fed: %s%s%s%s\n",
        static_cast<long long>(report.pages), static_cast<long long>(report.fed),
        report.status.ToString().c_str(), report.error_detail.empty() ? "" : " (",
        report.error_detail.empty() ? "" : (report.error_detail + ")").c_str(), hint.c_str());
    return 1;
  }
  return 0;
}

}  // namespace

int RunCli(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "%s", kUsage);
    return 2;
  }
  const std::string command = argv[1];
  if (command == "--help" || command == "-h" || command == "help") {
    const std::string topic = argc > 2 ? argv[2] : "";
    if (topic == "serve") {
      std::printf("%s", kServeUsage);
    } else if (topic == "check-config") {
      std::printf("%s", kCheckUsage);
    } else if (topic == "tiers") {
      std::printf("%s", kTiersUsage);
    } else if (topic == "trigger") {
      std::printf("%s", TriggerUsage());
    } else if (topic == "expire") {
      std::printf("%s", kExpireUsage);
    } else if (topic == "release-pending") {
      std::printf("%s", kReleaseUsage);
    } else if (topic == "reconcile") {
      std::printf("%s", kReconcileUsage);
    } else if (topic == "import-balances") {
      std::printf("%s", ImportBalancesUsage());
    } else {
      std::printf("%s", kUsage);
    }
    return 0;
  }
  if (command == "--version" || command == "version") {
    std::printf("loyaltyd %s\n", LOYALTYD_VERSION);
    return 0;
  }
  std::map<std::string, std::string> flags;
  std::vector<std::string> positional;
  if (!ParseFlags(argc, argv, 2, flags, positional)) return 2;
  const bool help = flags.count("help") > 0;
  if (command == "serve") {
    if (help) {
      std::printf("%s", kServeUsage);
      return 0;
    }
    return Serve(flags);
  }
  if (command == "check-config") {
    if (help) {
      std::printf("%s", kCheckUsage);
      return 0;
    }
    return CheckConfig(flags, positional);
  }
  if (command == "tiers") {
    if (help) {
      std::printf("%s", kTiersUsage);
      return 0;
    }
    return Tiers(flags, positional);
  }
  if (command == "trigger") {
    if (help) {
      std::printf("%s", TriggerUsage());
      return 0;
    }
    return RunTrigger(flags);
  }
  if (command == "expire" || command == "release-pending") {
    if (help) {
      std::printf("%s", command == "expire" ? kExpireUsage : kReleaseUsage);
      return 0;
    }
    return RunPointsCommand(command, flags);
  }
  if (command == "reconcile") {
    if (help) {
      std::printf("%s", kReconcileUsage);
      return 0;
    }
    return Reconcile(flags);
  }
  if (command == "import-balances") {
    if (help) {
      std::printf("%s", ImportBalancesUsage());
      return 0;
    }
    return RunImportBalances(flags);
  }
  std::fprintf(stderr, "loyaltyd: unknown command '%s'\n\n%s", command.c_str(), kUsage);
  return 2;
}

}  // namespace loyaltyd
