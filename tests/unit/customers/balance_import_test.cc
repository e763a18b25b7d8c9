// The opening-balance CSV: what a header must hold, each reason a row is rejected with its line
// number, and the import end to end on a real SQLite file (re-posting changes nothing).
#include "customers/balance_import.h"

#include <gtest/gtest.h>

#include "storage/sqlite_storage.h"
#include "support/temp_dir.h"

namespace loyaltyd::balance_import_test {
namespace {

Config TwoShops() {
  Config config;
  ShopConfig a;
  a.id = "main";
  ShopConfig b;
  b.id = "outlet";
  config.shops = {a, b};
  return config;
}

Config OneShop() {
  Config config;
  ShopConfig a;
  a.id = "main";
  config.shops = {a};
  return config;
}

std::string Reasons(const ParsedBalanceFile& parsed) {
  std::string out;
  for (const BalanceImportRejection& r : parsed.rejections) {
    out += std::to_string(r.line) + ": " + r.reason + "\n";
  }
  return out;
}

TEST(BalanceImportTest, ReadsQuotedFieldsCrlfBomAndAnyColumnOrder) {
  const std::string csv =
      "\xEF\xBB\xBFPoints, Email ,first_name,last_name,platform_customer_id\r\n"
      "120,ADA@Example.com,\"Ada, Countess\",\"Love\"\"lace\",7001\r\n"
      "\r\n"
      "0,bob@example.com,,,\r\n";
  auto parsed = ParseBalanceFile(csv, OneShop(), "");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->data_rows, 2u);
  EXPECT_TRUE(parsed->rejections.empty()) << Reasons(*parsed);
  ASSERT_EQ(parsed->rows.size(), 2u);
  const OpeningBalanceRow& ada = parsed->rows[0];
  EXPECT_EQ(ada.line, 2);
  EXPECT_EQ(ada.shop_id, "main");  // the config's only shop
  EXPECT_EQ(ada.email, "ADA@Example.com");
  EXPECT_EQ(ada.email_normalised, "ada@example.com");
  EXPECT_EQ(ada.first_name, "Ada, Countess");
  EXPECT_EQ(ada.last_name, "Love\"lace");
  EXPECT_EQ(ada.platform_customer_id, "7001");
  EXPECT_EQ(ada.points, 120);
  EXPECT_EQ(parsed->rows[1].line, 4);
  EXPECT_EQ(parsed->rows[1].points, 0);
}

TEST(BalanceImportTest, AHeaderThatCannotBeUsedRefusesTheFile) {
  for (const auto& [csv, message] : std::vector<std::pair<std::string, std::string>>{
           {"", "the file is empty"},
           {"email\nada@example.com\n", "line 1: the header has no 'points' column"},
           {"email,points,balance\n", "line 1: unknown column 'balance'"},
           {"email,points,EMAIL\n", "line 1: column 'email' appears twice"},
           {"email,points\n\"ada@example.com,5\n", "line 2: a quoted field is never closed"},
           {"email,points\n\"ada\"x@example.com,5\n", "line 2: text after a closing quote"}}) {
    auto parsed = ParseBalanceFile(csv, OneShop(), "");
    ASSERT_FALSE(parsed.ok()) << csv;
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
    EXPECT_TRUE(parsed.status().message().starts_with(message)) << parsed.status().message();
  }
}

TEST(BalanceImportTest, EachBadRowIsRejectedWithItsLineAndReason) {
  const std::string csv =
      "email,points,shop_id,platform_customer_id\n"
      "good@example.com,10,main,\n"       // 2
      "not-an-email,10,main,\n"           // 3
      "a@example.com,1.5,main,\n"         // 4
      "b@example.com,-5,main,\n"          // 5
      "c@example.com,\"1,000\",main,\n"   // 6
      "d@example.com,10,nowhere,\n"       // 7
      "e@example.com,10,,\n"              // 8 (two shops, no default)
      "f@example.com,10,main,gid://x\n"   // 9
      "g@example.com,10,main\n"           // 10
      "dup@example.com,1,main,\n"         // 11
      "DUP@example.com,2,main,\n"         // 12
      "dup@example.com,3,outlet,\n"       // 13: another shop, another customer
      "h@example.com,1000000001,main,\n"  // 14
      ",5,main,\n";                       // 15
  auto parsed = ParseBalanceFile(csv, TwoShops(), "");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->data_rows, 14u);
  ASSERT_EQ(parsed->rows.size(), 2u) << Reasons(*parsed);
  EXPECT_EQ(parsed->rows[0].line, 2);
  EXPECT_EQ(parsed->rows[1].line, 13);
  EXPECT_EQ(Reasons(*parsed),
            "3: email: not an email address\n"
            "4: points: '1.5' is not a whole number from 0 to 1000000000 (digits only)\n"
            "5: points: '-5' is not a whole number from 0 to 1000000000 (digits only)\n"
            "6: points: '1,000' is not a whole number from 0 to 1000000000 (digits only)\n"
            "7: shop_id: unknown shop 'nowhere'\n"
            "8: shop_id: missing; the config has several shops (add a shop_id column or "
            "?shop_id=)\n"
            "9: platform_customer_id: must be the platform's numeric customer id\n"
            "10: expected 4 fields as in the header, found 3\n"
            "11: duplicate: the file names this customer (by shop and email) on lines 11, 12\n"
            "12: duplicate: the file names this customer (by shop and email) on lines 11, 12\n"
            "14: points: '1000000001' is not a whole number from 0 to 1000000000 (digits "
            "only)\n"
            "15: email: missing\n");
  // A default shop fills rows without one.
  auto with_default = ParseBalanceFile("email,points\ne@example.com,10\n", TwoShops(), "outlet");
  ASSERT_TRUE(with_default.ok());
  ASSERT_EQ(with_default->rows.size(), 1u);
  EXPECT_EQ(with_default->rows[0].shop_id, "outlet");
}

TEST(BalanceImportTest, ImportAppliesGoodRowsAndRepostingChangesNothing) {
  testing::TempDir dir;
  auto storage = SqliteStorage::Open(dir.File("loyaltyd.db"));
  ASSERT_TRUE(storage.ok());
  const std::string csv =
      "email,points,platform_customer_id\n"
      "ada@example.com,100,7001\n"
      "bad,5,\n"
      "bob@example.com,25,\n";
  auto first = ImportBalances(**storage, OneShop(), csv, "", 1000);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->rows, 3u);
  EXPECT_EQ(first->applied, 2u);
  EXPECT_EQ(first->customers_created, 2u);
  EXPECT_EQ(first->points_imported, 125);
  ASSERT_EQ(first->rejections.size(), 1u);
  EXPECT_EQ(first->rejections[0].line, 3);
  EXPECT_EQ(first->rejections[0].email, "bad");

  auto second = ImportBalances(**storage, OneShop(), csv, "", 2000);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->applied, 0u);
  EXPECT_EQ(second->unchanged, 2u);
  EXPECT_EQ(second->customers_created, 0u);
  EXPECT_EQ(second->points_imported, 0);
  auto ada = (*storage)->FindCustomersByEmail("ada@example.com");
  ASSERT_TRUE(ada.ok() && ada->size() == 1u);
  EXPECT_EQ((*ada)[0].points_balance, 100);
  EXPECT_EQ((*ada)[0].platform_customer_id, "7001");

  const nlohmann::json report = BalanceImportReportJson(*second);
  EXPECT_EQ(report["unchanged"], 2);
  EXPECT_EQ(report["rejected"], 1);
  EXPECT_EQ(report["rejections"][0]["line"], 3);
}

}  // namespace
}  // namespace loyaltyd::balance_import_test
