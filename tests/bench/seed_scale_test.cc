// The scale benchmark's seeder (bench/seed_scale.cc, loyaltyd_bench_seed), whose databases the
// benchmark's figures rest on: each customer's books add up entry by entry, both orders give
// every customer the same number of orders, time order really interleaves customers, and bad
// flags are refused before a file is made.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "support/sqlite_file.h"
#include "support/temp_dir.h"

namespace loyaltyd::seed_scale_test {
namespace {

using testing::QueryRows;
using testing::QueryValue;

constexpr const char* kCustomers = "300";
constexpr const char* kEntries = "5000";

// The seeder's exit status, its output in `log`.
int RunSeeder(const std::string& args, const std::string& log) {
  const std::string command = std::string(LOYALTYD_BENCH_SEED) + " " + args + " >" + log + " 2>&1";
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string Seed(const testing::TempDir& dir, const std::string& order) {
  const std::string db = dir.File(order + ".db");
  EXPECT_EQ(RunSeeder("--db " + db + " --customers " + kCustomers + " --entries " + kEntries +
                          " --order " + order,
                      dir.File(order + ".log")),
            0);
  return db;
}

// Customers whose stored balance is not their ledger's sum, or not their newest entry's
// balance_after, or whose open lots do not hold it.
std::vector<std::vector<std::string>> BooksThatDisagree(const std::string& db) {
  return QueryRows(db,
                   "SELECT c.id FROM customers c WHERE c.points_balance IS NOT "
                   "(SELECT COALESCE(SUM(points), 0) FROM ledger_entries WHERE customer_id = c.id) "
                   "OR c.points_balance IS NOT COALESCE((SELECT balance_after FROM ledger_entries "
                   "WHERE customer_id = c.id ORDER BY id DESC LIMIT 1), 0) "
                   "OR c.points_balance IS NOT "
                   "(SELECT COALESCE(SUM(remaining), 0) FROM point_lots WHERE customer_id = c.id)");
}

// How many customers' ledger entries are not one run of consecutive ids.
std::string CustomersWithScatteredEntries(const std::string& db) {
  return QueryValue(db,
                    "SELECT COUNT(*) FROM (SELECT customer_id FROM ledger_entries "
                    "GROUP BY customer_id HAVING MAX(id) - MIN(id) + 1 != COUNT(*))");
}

TEST(SeedScaleTest, BothOrdersKeepEveryCustomersBooksAndOrderCount) {
  testing::TempDir dir;
  const std::string by_time = Seed(dir, "time");
  const std::string by_customer = Seed(dir, "customer");
  for (const std::string& db : {by_time, by_customer}) {
    EXPECT_EQ(QueryValue(db, "SELECT COUNT(*) FROM ledger_entries"), kEntries) << db;
    EXPECT_EQ(QueryValue(db, "SELECT COUNT(*) FROM customers"), kCustomers) << db;
    EXPECT_TRUE(BooksThatDisagree(db).empty()) << db;
  }
  // The same Zipf draw: every customer has as many orders in one as in the other.
  const std::string per_customer =
      "SELECT customer_id, COUNT(*) FROM ledger_entries GROUP BY customer_id ORDER BY customer_id";
  EXPECT_EQ(QueryRows(by_time, per_customer), QueryRows(by_customer, per_customer));
  // Customer 1, the most frequent, has the longest ledger.
  EXPECT_EQ(QueryValue(by_time,
                       "SELECT customer_id FROM ledger_entries GROUP BY customer_id "
                       "ORDER BY COUNT(*) DESC, customer_id LIMIT 1"),
            "1");
  // Customer order writes each customer's entries as one run; time order interleaves them.
  EXPECT_EQ(CustomersWithScatteredEntries(by_customer), "0");
  EXPECT_GT(std::stoi(CustomersWithScatteredEntries(by_time)), 10);
}

TEST(SeedScaleTest, BadFlagsAreRefusedWithTheReasonAndMakeNoFile) {
  testing::TempDir dir;
  const std::string db = dir.File("seed.db");
  const std::string log = dir.File("seed.log");
  struct Case {
    std::string args;
    std::string reason;
  };
  for (const Case& c : {Case{"--order random", "--order must be 'time' or 'customer'"},
                        Case{"--customers 5000000000", "--customers must be at most"},
                        Case{"--page-size 1000", "--page-size must be a power of two"}}) {
    SCOPED_TRACE(c.args);
    std::string args = "--db " + db + " --customers 10 --entries 10 " + c.args;
    EXPECT_NE(RunSeeder(args, log), 0);
    std::ifstream said(log);
    const std::string output((std::istreambuf_iterator<char>(said)),
                             std::istreambuf_iterator<char>());
    EXPECT_NE(output.find(c.reason), std::string::npos) << output;
    EXPECT_FALSE(std::filesystem::exists(db));
  }
}

}  // namespace
}  // namespace loyaltyd::seed_scale_test
