// loyaltyd_bench_seed: a database with a large store's history, for the scale benchmark
// (bench/README.md, "Scale").
//
// Creates the database with loyaltyd's own schema (SqliteStorage::Open), then writes, in bulk:
// --customers registered customers of the bench shop, with the Shopify ids and e-mails the
// ingest benchmark's orders name (bench/order_generator.h), and --entries paid orders, each
// with its earn ledger entry, its point lot and the customer's running balance — the rows one
// processed orders/paid webhook leaves under a spend-only program. Entries go to customers by
// the same Zipf distribution as the ingest's orders, so the regulars have long ledgers, and in
// time order, customers interleaved, as a store takes them (Seed() says why it matters).
//
// Rows are written directly (one transaction, prepared statements) because
// 10^7 entries through the event processor would take the better part of an hour; the seeder
// checks at the end that balances, ledgers and lots agree, as the ledger keeps them.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <sqlite3.h>

#include "bench/order_generator.h"
#include "storage/sqlite_storage.h"

namespace {

constexpr const char* kUsage =
    "usage: loyaltyd_bench_seed --db FILE --customers N --entries N [--seed N] [--order O]\n"
    "                           [--page-size N]\n"
    "  --db FILE       the database to create (must not exist)\n"
    "  --customers N   registered customers of shop 'bench' (the ingest's customers)\n"
    "  --entries N     paid orders, each with its earn entry and point lot\n"
    "  --seed N        random seed for the Zipf draw (default 7)\n"
    "  --order O       'time' (default): orders in the order a store takes them, customers\n"
    "                  interleaved; 'customer': each customer's orders together (seeds made\n"
    "                  until session 13, 2026-11-26: a customer's rows side by side)\n"
    "  --page-size N   the database's page size in bytes (default: loyaltyd's, 4096), to\n"
    "                  measure another\n";

// 2024-05-01, also the ingest's first order's created_at. In time order the history runs to
// 2026-03, before the ingest's own entries (stamped with the daemon's clock); in customer order
// a regular's hourly orders run decades past it, as in every seed before session 13. Only
// stored: the scale benchmark's program has no expiry and no tiers.
constexpr int64_t kSeedEpochMs = 1714536000000;
// Platform order ids for seeded orders: far from the ingest's (2^53 + 5e9 + ...).
constexpr uint64_t kSeedOrderIdBase = uint64_t{1} << 60;

int Fail(const std::string& what) {
  std::fprintf(stderr, "loyaltyd_bench_seed: %s\n", what.c_str());
  return 1;
}

class Db {
 public:
  explicit Db(sqlite3* db) : db_(db) {}
  ~Db() { sqlite3_close(db_); }
  bool Exec(const char* sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) == SQLITE_OK) return true;
    std::fprintf(stderr, "loyaltyd_bench_seed: %s: %s\n", sql, error ? error : "?");
    sqlite3_free(error);
    return false;
  }
  sqlite3_stmt* Prepare(const char* sql) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr) != SQLITE_OK) {
      std::fprintf(stderr, "loyaltyd_bench_seed: %s: %s\n", sql, sqlite3_errmsg(db_));
      return nullptr;
    }
    return stmt;
  }
  bool Step(sqlite3_stmt* stmt) {
    const int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    if (rc == SQLITE_DONE || rc == SQLITE_ROW) return true;
    std::fprintf(stderr, "loyaltyd_bench_seed: %s\n", sqlite3_errmsg(db_));
    return false;
  }
  int64_t QueryInt(const char* sql) {
    sqlite3_stmt* stmt = Prepare(sql);
    int64_t v = -1;
    if (stmt != nullptr && sqlite3_step(stmt) == SQLITE_ROW) v = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return v;
  }

 private:
  sqlite3* db_;
};

int Seed(const std::string& path, size_t customers, size_t entries, uint64_t seed, int page_size,
         bool by_time) {
  if (std::filesystem::exists(path)) return Fail(path + " exists; give a new file");
  if (page_size != 0) {
    // A database keeps the page size it was created with; loyaltyd's Open then keeps it.
    sqlite3* raw = nullptr;
    const std::string sql = "PRAGMA page_size=" + std::to_string(page_size) +
                            "; CREATE TABLE seed_page_size(x); DROP TABLE seed_page_size;";
    const bool ok = sqlite3_open(path.c_str(), &raw) == SQLITE_OK &&
                    sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK;
    sqlite3_close(raw);
    if (!ok) return Fail("cannot create " + path + " with page size " + std::to_string(page_size));
  }
  {
    // loyaltyd's schema, exactly as the daemon creates it.
    auto storage = loyaltyd::SqliteStorage::Open(path, 1);
    if (!storage.ok()) return Fail(storage.status().ToString());
  }
  sqlite3* raw = nullptr;
  if (sqlite3_open(path.c_str(), &raw) != SQLITE_OK) return Fail("cannot open " + path);
  Db db(raw);
  if (!db.Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF; PRAGMA cache_size=-1048576;")) {
    return 1;
  }

  // Who places each order: the ingest's Zipf over the same customers (rank 0, customer 1, the
  // most). In time order the draws are the store's history as it happened, regulars' orders
  // interleaved with everyone else's, so a customer's orders, ledger entries and lots lie
  // scattered over their tables, as in a real store's database, and reading a customer's
  // ledger page or open lots reads pages from all over the file. In customer order (how seeds
  // were made until session 13) each customer's rows are written together and sit side by
  // side, which made those reads cheaper than a real store's. (The per-customer indexes come
  // out about as full either way: 87-91 % of each leaf, read with dbstat on small seeds.)
  std::vector<uint32_t> owner(entries);
  {
    loyaltyd::bench::ZipfSampler zipf(customers, 1.0);
    std::mt19937_64 rng(seed);
    for (uint32_t& rank : owner) rank = static_cast<uint32_t>(zipf(rng));
  }
  if (!by_time) std::sort(owner.begin(), owner.end());

  sqlite3_stmt* customer = db.Prepare(
      "INSERT INTO customers (id, shop_id, platform_customer_id, email, email_normalised, "
      "first_name, last_name, points_balance, created_at_ms, updated_at_ms) "
      "VALUES (?1, 'bench', ?2, ?3, ?3, 'Seed', 'Customer', ?4, ?5, ?5)");
  sqlite3_stmt* activity =
      db.Prepare("INSERT INTO customer_activity (customer_id, last_activity_ms) VALUES (?1, ?2)");
  sqlite3_stmt* order = db.Prepare(
      "INSERT INTO orders (id, shop_id, platform_order_id, customer_id, name, currency, "
      "total_minor, eligible_minor, paid, created_at, updated_at_ms) "
      "VALUES (?1, 'bench', ?2, ?3, ?4, 'USD', ?5, ?5, 1, '2024-05-01T00:00:00Z', ?6)");
  sqlite3_stmt* entry = db.Prepare(
      "INSERT INTO ledger_entries (id, customer_id, order_id, rule_id, kind, points, "
      "balance_after, description, created_at_ms) "
      "VALUES (?1, ?2, ?1, 'spend', 'earn', ?3, ?4, ?5, ?6)");
  sqlite3_stmt* lot = db.Prepare(
      "INSERT INTO point_lots (customer_id, ledger_entry_id, order_id, points, remaining, "
      "earned_at_ms) VALUES (?1, ?2, ?2, ?3, ?3, ?4)");
  if (!customer || !activity || !order || !entry || !lot) return 1;

  if (!db.Exec("BEGIN")) return 1;
  std::vector<int64_t> balance(customers, 0);
  std::vector<int64_t> last_at_ms(customers, kSeedEpochMs);
  // Customers 0..limit-1 not written yet: in customer order each right after its last order
  // (where the old seeder put it, so that the file's pages lie as they did), in time order all
  // at the end.
  size_t next_customer = 0;
  auto write_customers_before = [&](size_t limit) {
    for (; next_customer < limit; ++next_customer) {
      const size_t rank = next_customer;
      const int64_t customer_id = static_cast<int64_t>(rank) + 1;
      const std::string email = loyaltyd::bench::OrderGenerator::CustomerEmail(rank);
      const std::string platform_id =
          std::to_string(loyaltyd::bench::OrderGenerator::CustomerPlatformId(rank));
      sqlite3_bind_int64(customer, 1, customer_id);
      sqlite3_bind_text(customer, 2, platform_id.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(customer, 3, email.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64(customer, 4, balance[rank]);
      sqlite3_bind_int64(customer, 5, last_at_ms[rank]);
      if (!db.Step(customer)) return false;
      if (balance[rank] > 0) {  // every order earns at least 15 points
        sqlite3_bind_int64(activity, 1, customer_id);
        sqlite3_bind_int64(activity, 2, last_at_ms[rank]);
        if (!db.Step(activity)) return false;
      }
    }
    return true;
  };
  std::mt19937_64 rng(seed + 1);
  for (size_t i = 0; i < entries; ++i) {
    const int64_t next_entry = static_cast<int64_t>(i) + 1;
    const uint32_t rank = owner[i];
    if (!by_time && !write_customers_before(rank)) return 1;
    const int64_t customer_id = static_cast<int64_t>(rank) + 1;
    const int64_t total_minor = 1500 + static_cast<int64_t>(rng() % 20000);  // $15-$215
    const int64_t points = total_minor / 100;  // 1 point per whole dollar
    balance[rank] += points;
    // In time order an order every 6 s (10^7 of them span 1.9 years); in customer order each
    // customer's orders an hour apart.
    const int64_t at_ms = last_at_ms[rank] =
        by_time ? kSeedEpochMs + next_entry * 6000 : last_at_ms[rank] + 3600000;
    const std::string order_id = std::to_string(kSeedOrderIdBase + next_entry);
    const std::string name = "#S" + std::to_string(next_entry);
    // As the spend rule words it (the ingest's program: 1 point per 1.00 USD).
    const std::string description = "1 point per 1.00 USD on eligible spend of " +
                                    std::to_string(total_minor / 100) + "." +
                                    std::to_string(total_minor % 100 / 10) +
                                    std::to_string(total_minor % 10) + " USD, rounded down";
    sqlite3_bind_int64(order, 1, next_entry);
    sqlite3_bind_text(order, 2, order_id.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(order, 3, customer_id);
    sqlite3_bind_text(order, 4, name.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(order, 5, total_minor);
    sqlite3_bind_int64(order, 6, at_ms);
    if (!db.Step(order)) return 1;
    sqlite3_bind_int64(entry, 1, next_entry);
    sqlite3_bind_int64(entry, 2, customer_id);
    sqlite3_bind_int64(entry, 3, points);
    sqlite3_bind_int64(entry, 4, balance[rank]);
    sqlite3_bind_text(entry, 5, description.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(entry, 6, at_ms);
    if (!db.Step(entry)) return 1;
    sqlite3_bind_int64(lot, 1, customer_id);
    sqlite3_bind_int64(lot, 2, next_entry);
    sqlite3_bind_int64(lot, 3, points);
    sqlite3_bind_int64(lot, 4, at_ms);
    if (!db.Step(lot)) return 1;
    if (next_entry % 1000000 == 0) std::fprintf(stderr, "  %lld orders\n", (long long)next_entry);
  }
  if (!write_customers_before(customers)) return 1;
  for (sqlite3_stmt* s : {customer, activity, order, entry, lot}) sqlite3_finalize(s);
  if (!db.Exec("COMMIT")) return 1;

  // The books agree, as the ledger keeps them.
  const int64_t ledger_sum = db.QueryInt("SELECT COALESCE(SUM(points), 0) FROM ledger_entries");
  const int64_t balance_sum = db.QueryInt("SELECT COALESCE(SUM(points_balance), 0) FROM customers");
  const int64_t lot_sum = db.QueryInt("SELECT COALESCE(SUM(remaining), 0) FROM point_lots");
  if (ledger_sum != balance_sum || lot_sum != balance_sum) {
    return Fail("seeded books disagree: ledger " + std::to_string(ledger_sum) + ", balances " +
                std::to_string(balance_sum) + ", lots " + std::to_string(lot_sum));
  }
  if (!db.Exec("PRAGMA wal_checkpoint(TRUNCATE); ANALYZE;")) return 1;
  std::printf(
      "seeded %s: %zu customers, %lld ledger entries (%lld points), largest ledger %u "
      "entries\n",
      path.c_str(), customers,
      static_cast<long long>(db.QueryInt("SELECT COUNT(*) FROM ledger_entries")),
      static_cast<long long>(ledger_sum),
      static_cast<unsigned>(std::count(owner.begin(), owner.end(), 0u)));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string path;
  size_t customers = 0, entries = 0;
  uint64_t seed = 7;
  int page_size = 0;
  bool by_time = true;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (i + 1 >= argc) return Fail("missing value after " + std::string(flag));
    const char* value = argv[++i];
    if (flag == "--db") {
      path = value;
    } else if (flag == "--customers") {
      customers = std::strtoull(value, nullptr, 10);
    } else if (flag == "--entries") {
      entries = std::strtoull(value, nullptr, 10);
    } else if (flag == "--page-size") {
      page_size = std::atoi(value);
      if (page_size < 512 || page_size > 65536 || (page_size & (page_size - 1)) != 0) {
        return Fail("--page-size must be a power of two from 512 to 65536");
      }
    } else if (flag == "--order") {
      if (std::string_view(value) != "time" && std::string_view(value) != "customer") {
        return Fail("--order must be 'time' or 'customer'");
      }
      by_time = std::string_view(value) == "time";
    } else if (flag == "--seed") {
      seed = std::strtoull(value, nullptr, 10);
    } else {
      std::fprintf(stderr, "loyaltyd_bench_seed: unknown option %s\n%s", argv[i - 1], kUsage);
      return 2;
    }
  }
  if (customers > UINT32_MAX)
    return Fail("--customers must be at most " + std::to_string(UINT32_MAX));
  if (path.empty() || customers == 0) {
    std::fprintf(stderr, "loyaltyd_bench_seed: --db and --customers (> 0) are required\n%s",
                 kUsage);
    return 2;
  }
  return Seed(path, customers, entries, seed, page_size, by_time);
}
