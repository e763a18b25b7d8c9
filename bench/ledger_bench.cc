// loyaltyd_bench_ledger: the ledger side of loyaltyd, without HTTP (bench/README.md, "Ledger").
//
//  1. Processing: fills a fresh inbox (a SQLite file on disk, the daemon's settings) with
//     --events signed-shape Shopify orders/paid events, exactly as the ingest stores them, then
//     times EventProcessor::ProcessPending — normalise, rules, ledger, one transaction per batch
//     of 64 — until the inbox is empty. Once with a spend-only program and once with the example
//     config's whole program (campaigns, cashback, tiers, expiry lots, referrals).
//  2. Redemptions on hot customers: --redeem-threads threads redeem a 10-point reward for the
//     --hot most frequent customers (each thread picks one at random per request, so threads
//     contend on the same balances), --redemptions in all, each with its own idempotency key,
//     through RedemptionService::Redeem (balance check, debit, lots, redemption row, outbox job
//     in one transaction). The outbox is not drained: the platform's side is not measured here.
//
// Prints one line per figure. Every number comes from a run; nothing is asserted.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/points_scheduler.h"
#include "bench/order_generator.h"
#include "config/config.h"
#include "config/config_source.h"
#include "connectors/shopify/shopify_normaliser.h"
#include "core/clock.h"
#include "core/model.h"
#include "rewards/redemption_service.h"
#include "storage/sqlite_storage.h"
#include "webhooks/event_processor.h"
#include "webhooks/webhook_ingest.h"

namespace {

using loyaltyd::Config;
using loyaltyd::Result;
using Clock = std::chrono::steady_clock;

constexpr const char* kUsage =
    "usage: loyaltyd_bench_ledger [--events N] [--customers N] [--redemptions N]\n"
    "         [--redeem-threads N] [--hot N] [--dir DIR] [--programs spend,full]\n"
    "         [--from-db FILE]\n"
    "  --events N          orders/paid events processed per program (default 50000)\n"
    "  --customers N       customers the orders are spread over, Zipf (default 10000)\n"
    "  --redemptions N     redemptions in the hot-customer run (default 10000)\n"
    "  --redeem-threads N  threads redeeming at once (default 8)\n"
    "  --hot N             the most frequent customers the redemptions go to (default 10)\n"
    "  --dir DIR           where the databases go: a disk, not tmpfs (default $TMPDIR or /tmp)\n"
    "  --programs LIST     spend (spend rule only), full (config/example.json's program), or\n"
    "                      both, comma-separated (default spend,full)\n"
    "  --from-db FILE      start each program's database as a copy of FILE (a database seeded\n"
    "                      by loyaltyd_bench_seed with --customers, for processing at scale)\n";

struct Options {
  size_t events = 50000;
  size_t customers = 10000;
  size_t redemptions = 10000;
  size_t redeem_threads = 8;
  size_t hot = 10;
  std::string dir;
  std::vector<std::string> programs = {"spend", "full"};
  std::string from_db;
};

constexpr std::string_view kShopDomain = "bench-shop.myshopify.com";

// The program under test, with the bench shop and a cheap reward for the redemption run.
Result<Config> MakeConfig(const std::string& program, const std::string& db_path) {
  nlohmann::json doc;
  if (program == "full") {
    std::ifstream in(std::string(LOYALTYD_SOURCE_DIR) + "/config/example.json");
    if (!in) return loyaltyd::NotFound("config/example.json not found");
    doc = nlohmann::json::parse(in);
  } else {
    doc["program"] = {{"currency", "USD"},
                      {"earn", {{{"type", "spend"}, {"points", 1}, {"per", "1.00"}}}},
                      {"rewards", nlohmann::json::array()}};
  }
  doc["server"] = {{"listen", "127.0.0.1:0"}};
  doc["storage"] = {{"sqlite", {{"path", db_path}}}};
  doc["admin"] = {{"token", "bench-admin-token-0123456789abcdef"}};
  doc["shops"] = {{{"id", "bench"},
                   {"platform", "shopify"},
                   {"domain", kShopDomain},
                   {"webhook_secret", "bench-webhook-secret"}}};
  doc["program"]["rewards"].push_back({{"id", "bench-dime"},
                                       {"name", "10 cents off"},
                                       {"points", 10},
                                       {"kind", "fixed_discount"},
                                       {"amount", "0.10"}});
  loyaltyd::ConfigLoadResult loaded = loyaltyd::ParseConfig(doc.dump());
  if (!loaded.ok()) {
    std::string all;
    for (const auto& problem : loaded.problems) all += "\n  " + problem.ToString();
    return loyaltyd::InvalidArgument("bench config:" + all);
  }
  return std::move(loaded.config);
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  const size_t k = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

int Fail(const std::string& what) {
  std::fprintf(stderr, "loyaltyd_bench_ledger: %s\n", what.c_str());
  return 1;
}

// One program: fill, process, redeem. Returns a process exit code.
int RunProgram(const Options& options, const std::string& program) {
  const std::string db_path = options.dir + "/ledger-" + program + ".db";
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(db_path + suffix);
  if (!options.from_db.empty()) {
    std::filesystem::copy_file(options.from_db, db_path);
    // Write the copy out before measuring: otherwise the kernel writes back gigabytes of the
    // copy while the redemptions fsync, and their latency measures that (p99 about 1 s).
    const int fd = open(db_path.c_str(), O_RDONLY);
    const bool written = fd >= 0 && fsync(fd) == 0;
    if (fd >= 0) close(fd);
    if (!written) return Fail("cannot write out the copy " + db_path);
  }
  Result<Config> config = MakeConfig(program, db_path);
  if (!config.ok()) return Fail(config.status().ToString());
  auto source = std::make_shared<loyaltyd::ConfigSource>(
      std::make_shared<const Config>(std::move(config).value()));
  const std::shared_ptr<const Config> snapshot = source->Current();
  Result<std::unique_ptr<loyaltyd::SqliteStorage>> opened = loyaltyd::SqliteStorage::Open(db_path);
  if (!opened.ok()) return Fail(opened.status().ToString());
  loyaltyd::SqliteStorage& storage = **opened;
  storage.SetPointsPolicy(loyaltyd::PointsPolicyFrom(snapshot->program));
  loyaltyd::SystemClock clock;

  // --- Fill the inbox as the ingest would (untimed) ---
  loyaltyd::bench::OrderGenerator generator({.customers = options.customers});
  loyaltyd::VerifiedWebhook hook;
  hook.config = snapshot;
  hook.shop = snapshot->FindShopById("bench");
  hook.topic = "orders/paid";
  size_t body_bytes = 0;
  std::vector<loyaltyd::NewInboxEvent> batch;
  for (size_t i = 0; i < options.events; ++i) {
    loyaltyd::bench::GeneratedOrder order = generator.Next();
    hook.event_id = "bench-" + std::to_string(order.id);
    hook.delivery_id = hook.event_id;
    body_bytes += order.body.size();
    batch.push_back(loyaltyd::WebhookIngest::InboxEventFor(loyaltyd::Platform::kShopify, hook,
                                                           order.body, clock.NowMillis()));
    if (batch.size() == 1000 || i + 1 == options.events) {
      auto stored = storage.AppendToInbox(batch);
      if (!stored.ok()) return Fail(stored.status().ToString());
      batch.clear();
    }
  }

  // --- Process (timed) ---
  loyaltyd::ShopifyNormaliser normaliser;
  loyaltyd::EventProcessor processor(
      source, storage, clock,
      {{std::string(loyaltyd::PlatformName(loyaltyd::Platform::kShopify)), &normaliser}});
  const auto t0 = Clock::now();
  Result<size_t> processed = processor.ProcessPending();
  const double process_s = Seconds(Clock::now() - t0);
  if (!processed.ok()) return Fail(processed.status().ToString());
  Result<loyaltyd::InboxCounts> counts = storage.CountInbox();
  if (!counts.ok()) return Fail(counts.status().ToString());
  std::printf(
      "program=%s%s events=%zu mean_body_bytes=%zu processed=%zu failed=%lld seconds=%.2f "
      "events_per_s=%.0f\n",
      program.c_str(), options.from_db.empty() ? "" : " from_db=1", options.events,
      body_bytes / std::max<size_t>(1, options.events), *processed,
      static_cast<long long>(counts->failed), process_s,
      static_cast<double>(*processed) / process_s);
  std::fflush(stdout);

  // --- Redemptions on hot customers (timed) ---
  std::vector<int64_t> hot_ids;
  for (size_t rank = 0; rank < options.hot; ++rank) {
    auto found = storage.FindCustomersByEmail(loyaltyd::bench::OrderGenerator::CustomerEmail(rank));
    if (!found.ok()) return Fail(found.status().ToString());
    if (!found->empty()) hot_ids.push_back(found->front().id);
  }
  if (hot_ids.empty()) return Fail("no hot customer was found after processing");
  loyaltyd::RedemptionService service(
      source, storage, clock, [](const loyaltyd::ShopConfig&) { return true; }, [] {});
  std::atomic<size_t> next{0}, ok{0}, short_of_points{0}, errors{0};
  std::vector<std::vector<double>> latencies(options.redeem_threads);
  const auto r0 = Clock::now();
  std::vector<std::thread> threads;
  for (size_t t = 0; t < options.redeem_threads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(t + 1);
      for (size_t i = next++; i < options.redemptions; i = next++) {
        const int64_t customer = hot_ids[rng() % hot_ids.size()];
        const std::string key = "bench-" + program + "-" + std::to_string(i);
        const auto start = Clock::now();
        Result<loyaltyd::RedeemResult> r = service.Redeem(customer, "bench-dime", key);
        latencies[t].push_back(Seconds(Clock::now() - start) * 1000.0);
        if (r.ok()) {
          ++ok;
        } else if (r.status().code() == loyaltyd::StatusCode::kFailedPrecondition) {
          ++short_of_points;
        } else {
          ++errors;
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  const double redeem_s = Seconds(Clock::now() - r0);
  std::vector<double> all;
  for (auto& v : latencies) all.insert(all.end(), v.begin(), v.end());
  const double p50 = Percentile(all, 0.50), p99 = Percentile(all, 0.99);
  std::printf(
      "program=%s redemptions=%zu threads=%zu hot_customers=%zu ok=%zu "
      "not_enough_points=%zu errors=%zu seconds=%.2f redemptions_per_s=%.0f p50_ms=%.2f "
      "p99_ms=%.2f\n",
      program.c_str(), options.redemptions, options.redeem_threads, hot_ids.size(), ok.load(),
      short_of_points.load(), errors.load(), redeem_s,
      static_cast<double>(options.redemptions) / redeem_s, p50, p99);
  std::fflush(stdout);
  return errors.load() == 0 ? 0 : 1;
}

bool ParseCount(const char* text, size_t min, size_t& out) {
  char* end = nullptr;
  const unsigned long long v = std::strtoull(text, &end, 10);
  if (end == text || *end != '\0' || v < min) return false;
  out = static_cast<size_t>(v);
  return true;
}

std::string ParseOptions(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; i += 2) {
    const std::string_view flag = argv[i];
    if (i + 1 >= argc) return "missing value after " + std::string(flag);
    const char* value = argv[i + 1];
    bool good = true;
    if (flag == "--events") {
      good = ParseCount(value, 1, o.events);
    } else if (flag == "--customers") {
      good = ParseCount(value, 1, o.customers);
    } else if (flag == "--redemptions") {
      good = ParseCount(value, 0, o.redemptions);
    } else if (flag == "--redeem-threads") {
      good = ParseCount(value, 1, o.redeem_threads);
    } else if (flag == "--hot") {
      good = ParseCount(value, 1, o.hot);
    } else if (flag == "--from-db") {
      o.from_db = value;
      if (!std::filesystem::is_regular_file(o.from_db)) return "--from-db: no file " + o.from_db;
    } else if (flag == "--dir") {
      o.dir = value;
    } else if (flag == "--programs") {
      o.programs.clear();
      std::stringstream list(value);
      for (std::string p; std::getline(list, p, ',');) {
        if (p != "spend" && p != "full") return "--programs takes spend and/or full";
        o.programs.push_back(p);
      }
    } else {
      return "unknown option " + std::string(flag);
    }
    if (!good) return std::string(flag) + " needs a positive whole number";
  }
  if (o.dir.empty()) o.dir = std::getenv("TMPDIR") != nullptr ? std::getenv("TMPDIR") : "/tmp";
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && (std::string_view(argv[1]) == "--help" || std::string_view(argv[1]) == "-h")) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  Options options;
  const std::string error = ParseOptions(argc, argv, options);
  if (!error.empty()) {
    std::fprintf(stderr, "loyaltyd_bench_ledger: %s\n%s", error.c_str(), kUsage);
    return 2;
  }
  try {
    int rc = 0;
    for (const std::string& program : options.programs) rc |= RunProgram(options, program);
    return rc;
  } catch (const std::exception& e) {
    return Fail(e.what());
  }
}
