// SqliteStorage customer tools against a real SQLite file: customer search and its cursors and
// indexes, manual adjustments (idempotency, lots, the no-negative rule) and opening-balance
// imports (customers found or made, once per customer).
#include <gtest/gtest.h>

#include "storage/sqlite_storage.h"
#include "support/sqlite_file.h"
#include "support/temp_dir.h"

namespace loyaltyd::sqlite_customers_test {
namespace {

class SqliteCustomersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = SqliteStorage::Open(dir_.File("loyaltyd.db"));
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    storage_ = std::move(opened).value();
  }

  static OpeningBalanceRow Row(int line, const std::string& email, int64_t points,
                               const std::string& platform_id = "", const std::string& first = "",
                               const std::string& last = "", const std::string& shop = "demo") {
    OpeningBalanceRow r;
    r.line = line;
    r.shop_id = shop;
    r.email = email;
    r.email_normalised = email;
    r.platform_customer_id = platform_id;
    r.first_name = first;
    r.last_name = last;
    r.points = points;
    return r;
  }

  int64_t Import(const OpeningBalanceRow& row) {
    auto out = storage_->ImportOpeningBalances({row}, 1000);
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    if (!out.ok() || out->size() != 1u) return 0;
    return (*out)[0].customer_id;
  }

  int64_t Balance(int64_t customer) {
    auto c = storage_->GetCustomer(customer);
    EXPECT_TRUE(c.ok() && c->has_value());
    return c.ok() && c->has_value() ? (*c)->points_balance : -1;
  }
  int64_t OpenLotPoints(int64_t customer) {
    auto lots = storage_->ListLots(customer, true, 0, 500);
    EXPECT_TRUE(lots.ok());
    int64_t sum = 0;
    for (const PointLotRecord& l : *lots) sum += l.remaining;
    return sum;
  }

  // The database file read directly (a second connection), for what the API does not show.
  std::string Count(const std::string& table) {
    return testing::QueryValue(dir_.File("loyaltyd.db"), "SELECT COUNT(*) FROM " + table);
  }
  // The query plan of `sql`, one step per line.
  std::string Plan(const std::string& sql) {
    std::string plan;
    for (const auto& step :
         testing::QueryRows(dir_.File("loyaltyd.db"), "EXPLAIN QUERY PLAN " + sql)) {
      plan += step.back() + "\n";
    }
    return plan;
  }

  std::vector<int64_t> Ids(const CustomerSearchPage& page) {
    std::vector<int64_t> ids;
    for (const CustomerSearchRow& r : page.rows) ids.push_back(r.customer.id);
    return ids;
  }

  testing::TempDir dir_;
  std::unique_ptr<SqliteStorage> storage_;
};

TEST_F(SqliteCustomersTest, SearchesByEmailTextAndTierWithCursors) {
  const int64_t ada = Import(Row(1, "ada@example.com", 0, "1", "Ada", "Lovelace"));
  const int64_t alan = Import(Row(2, "alan@example.com", 0, "2", "Alan", "Turing"));
  const int64_t grace = Import(Row(3, "grace@navy.example", 0, "3", "Grace", "Hopper"));
  const int64_t under = Import(Row(4, "a_b@example.com", 0, "4", "Under", "Score"));
  // A tier standing, which these tests have no writer for.
  ASSERT_TRUE(testing::ExecSql(
      dir_.File("loyaltyd.db"),
      "INSERT INTO customer_tiers (customer_id, level_id, updated_at_ms) VALUES (" +
          std::to_string(alan) + ", 'gold', 1), (" + std::to_string(grace) + ", 'gold', 1), (" +
          std::to_string(ada) + ", 'silver', 1)"));

  CustomerSearch by_email;
  by_email.email_normalised = "ada@example.com";
  auto found = storage_->SearchCustomers(by_email);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(Ids(*found), std::vector<int64_t>({ada}));
  EXPECT_EQ(found->rows[0].tier_level, "silver");

  // Case-insensitive substring of the email or of "first last".
  CustomerSearch text;
  text.text = "example.com";
  EXPECT_EQ(Ids(*storage_->SearchCustomers(text)), std::vector<int64_t>({ada, alan, under}));
  text.text = "ace hop";
  EXPECT_EQ(Ids(*storage_->SearchCustomers(text)), std::vector<int64_t>({grace}));
  // LIKE's wildcards are literal: "_" matches only an underscore.
  text.text = "a_b";
  EXPECT_EQ(Ids(*storage_->SearchCustomers(text)), std::vector<int64_t>({under}));
  text.text = "%";
  EXPECT_TRUE(storage_->SearchCustomers(text)->rows.empty());

  CustomerSearch tier;
  tier.tier_level = "gold";
  EXPECT_EQ(Ids(*storage_->SearchCustomers(tier)), std::vector<int64_t>({alan, grace}));
  tier.text = "navy";
  EXPECT_EQ(Ids(*storage_->SearchCustomers(tier)), std::vector<int64_t>({grace}));

  // Pages of one, forwards with `after` and back with `before`.
  CustomerSearch page;
  page.text = "a";
  page.limit = 2;
  auto first = storage_->SearchCustomers(page);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(Ids(*first), std::vector<int64_t>({ada, alan}));
  EXPECT_TRUE(first->more_after);
  EXPECT_FALSE(first->more_before);
  page.after_id = alan;
  auto second = storage_->SearchCustomers(page);
  EXPECT_EQ(Ids(*second), std::vector<int64_t>({grace, under}));
  EXPECT_FALSE(second->more_after);
  EXPECT_TRUE(second->more_before);
  page.after_id = 0;
  page.before_id = grace;
  page.limit = 1;
  auto back = storage_->SearchCustomers(page);
  EXPECT_EQ(Ids(*back), std::vector<int64_t>({alan}));
  EXPECT_TRUE(back->more_before);
  EXPECT_TRUE(back->more_after);
}

TEST_F(SqliteCustomersTest, EmailAndTierSearchesUseAnIndexNotAScanOfCustomers) {
  CustomerSearch by_email;
  by_email.email_normalised = "ada@example.com";
  by_email.after_id = 10;
  std::string plan = Plan(SqliteStorage::CustomerSearchSql(by_email));
  EXPECT_NE(plan.find("USING INDEX customers_email"), std::string::npos) << plan;
  EXPECT_EQ(plan.find("SCAN c"), std::string::npos) << plan;
  EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << plan;

  CustomerSearch by_tier;
  by_tier.tier_level = "gold";
  by_tier.before_id = 10;
  plan = Plan(SqliteStorage::CustomerSearchSql(by_tier));
  EXPECT_NE(plan.find("customer_tiers_level"), std::string::npos) << plan;
  EXPECT_EQ(plan.find("SCAN c"), std::string::npos) << plan;
  EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << plan;
}

TEST_F(SqliteCustomersTest, FindReferralCodeNeverMakesOne) {
  const int64_t ada = Import(Row(1, "ada@example.com", 0, "1"));
  auto none = storage_->FindReferralCode(ada);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  EXPECT_EQ(Count("referral_codes"), "0");
  auto made = storage_->GetOrCreateReferralCode(ada, 1000);
  ASSERT_TRUE(made.ok());
  auto found = storage_->FindReferralCode(ada);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ(**found, *made);
}

TEST_F(SqliteCustomersTest, AdjustmentsPostOnceAndDebitLots) {
  const int64_t ada = Import(Row(1, "ada@example.com", 100, "1"));
  NewAdjustment credit{ada, "key-1", 50, "goodwill", "ann@shop", false};
  auto created = storage_->CreateAdjustment(credit, 2000);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->outcome, AdjustmentResult::Outcome::kCreated);
  EXPECT_EQ(created->adjustment.balance_after, 150);
  EXPECT_EQ(Balance(ada), 150);
  EXPECT_EQ(OpenLotPoints(ada), 150);

  // The same key and body: the same answer, nothing posted again.
  auto replay = storage_->CreateAdjustment(credit, 3000);
  ASSERT_TRUE(replay.ok());
  EXPECT_EQ(replay->outcome, AdjustmentResult::Outcome::kReplayed);
  EXPECT_EQ(replay->adjustment.id, created->adjustment.id);
  EXPECT_EQ(replay->adjustment.ledger_entry_id, created->adjustment.ledger_entry_id);
  EXPECT_EQ(Balance(ada), 150);
  // The same key, another body: refused, the first kept.
  NewAdjustment other = credit;
  other.points = 60;
  auto conflict = storage_->CreateAdjustment(other, 3000);
  ASSERT_TRUE(conflict.ok());
  EXPECT_EQ(conflict->outcome, AdjustmentResult::Outcome::kKeyConflict);
  EXPECT_EQ(conflict->adjustment.points, 50);
  EXPECT_EQ(Balance(ada), 150);

  // A debit takes from the lots; one beyond the balance changes nothing.
  auto debit = storage_->CreateAdjustment({ada, "key-2", -120, "fraud", "ann@shop", false}, 4000);
  ASSERT_TRUE(debit.ok());
  EXPECT_EQ(debit->outcome, AdjustmentResult::Outcome::kCreated);
  EXPECT_EQ(Balance(ada), 30);
  EXPECT_EQ(OpenLotPoints(ada), 30);
  auto too_much = storage_->CreateAdjustment({ada, "key-3", -31, "x", "ann@shop", false}, 5000);
  ASSERT_TRUE(too_much.ok());
  EXPECT_EQ(too_much->outcome, AdjustmentResult::Outcome::kInsufficientPoints);
  EXPECT_EQ(too_much->balance, 30);
  EXPECT_EQ(Balance(ada), 30);
  // Nothing was recorded under the refused key: it can be used once the balance allows.
  auto retry = storage_->CreateAdjustment({ada, "key-3", -30, "x", "ann@shop", false}, 5000);
  ASSERT_TRUE(retry.ok());
  EXPECT_EQ(retry->outcome, AdjustmentResult::Outcome::kCreated);
  EXPECT_EQ(Balance(ada), 0);

  // With program.refunds.allow_negative_balance the balance may go below zero: a debt that
  // the next credit pays first.
  auto negative = storage_->CreateAdjustment({ada, "key-4", -10, "y", "ann@shop", true}, 6000);
  ASSERT_TRUE(negative.ok());
  EXPECT_EQ(negative->outcome, AdjustmentResult::Outcome::kCreated);
  EXPECT_EQ(Balance(ada), -10);
  EXPECT_EQ(OpenLotPoints(ada), 0);

  auto ledger = storage_->ListLedger(ada, 0, 10);
  ASSERT_TRUE(ledger.ok());
  ASSERT_EQ(ledger->size(), 5u);  // opening balance + 4 adjustments
  EXPECT_EQ((*ledger)[0].kind, "adjustment");
  EXPECT_EQ((*ledger)[0].description, "adjustment by ann@shop: y");
  EXPECT_EQ((*ledger)[4].kind, "opening_balance");

  auto stranger = storage_->CreateAdjustment({999, "k", 5, "r", "a", false}, 1000);
  ASSERT_FALSE(stranger.ok());
  EXPECT_EQ(stranger.status().code(), StatusCode::kNotFound);
}

TEST_F(SqliteCustomersTest, ImportPostsEachOpeningBalanceOnce) {
  std::vector<OpeningBalanceRow> rows = {Row(2, "ada@example.com", 100, "1", "Ada"),
                                         Row(3, "bob@example.com", 0), Row(4, "cy@example.com", 7)};
  auto first = storage_->ImportOpeningBalances(rows, 1000);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_EQ(first->size(), 3u);
  for (const OpeningBalanceOutcome& o : *first) {
    EXPECT_EQ(o.kind, OpeningBalanceOutcome::Kind::kApplied) << o.line;
    EXPECT_TRUE(o.customer_created) << o.line;
  }
  const int64_t ada = (*first)[0].customer_id;
  EXPECT_EQ(Balance(ada), 100);
  EXPECT_EQ(OpenLotPoints(ada), 100);
  EXPECT_EQ(Balance((*first)[1].customer_id), 0);

  // The same file again: nothing changes, no customer is made twice.
  auto again = storage_->ImportOpeningBalances(rows, 2000);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)[0].kind, OpeningBalanceOutcome::Kind::kUnchanged);
  EXPECT_EQ((*again)[0].customer_id, ada);
  EXPECT_FALSE((*again)[0].customer_created);
  EXPECT_EQ(Balance(ada), 100);
  EXPECT_EQ(Count("customers"), "3");

  // A corrected row: refused with the way to correct it; bob's 0 becomes a real balance.
  rows[0].points = 150;
  rows[1].points = 20;
  auto fixed = storage_->ImportOpeningBalances(rows, 3000);
  ASSERT_TRUE(fixed.ok());
  EXPECT_EQ((*fixed)[0].kind, OpeningBalanceOutcome::Kind::kRejected);
  EXPECT_NE((*fixed)[0].reason.find("already has an imported opening balance of 100 points"),
            std::string::npos)
      << (*fixed)[0].reason;
  EXPECT_EQ((*fixed)[1].kind, OpeningBalanceOutcome::Kind::kApplied);
  EXPECT_EQ(Balance(ada), 100);
  EXPECT_EQ(Balance((*fixed)[1].customer_id), 20);
}

TEST_F(SqliteCustomersTest, ImportMatchesExistingCustomersByPlatformIdThenEmail) {
  const int64_t ada = Import(Row(1, "ada@example.com", 0, "7001"));
  // By platform id, whatever the email says.
  auto by_id = storage_->ImportOpeningBalances({Row(2, "other@example.com", 5, "7001")}, 1000);
  ASSERT_TRUE(by_id.ok());
  EXPECT_EQ((*by_id)[0].customer_id, ada);
  EXPECT_FALSE((*by_id)[0].customer_created);
  // By email in the shop when the row has no platform id.
  Import(Row(1, "bea@example.com", 0, "7002"));
  auto by_email = storage_->ImportOpeningBalances({Row(3, "bea@example.com", 9)}, 1000);
  ASSERT_TRUE(by_email.ok());
  EXPECT_FALSE((*by_email)[0].customer_created);
  // Another shop's customer with that email is someone else.
  auto other_shop = storage_->ImportOpeningBalances(
      {Row(4, "bea@example.com", 3, "", "", "", "other-shop")}, 1000);
  ASSERT_TRUE(other_shop.ok());
  EXPECT_TRUE((*other_shop)[0].customer_created);
  // Two customers of the shop with the email (a guest and a registered one): ambiguous.
  Import(Row(5, "cy@example.com", 0, "7003"));
  Import(Row(6, "cy@example.com", 0, "7004"));
  auto ambiguous = storage_->ImportOpeningBalances({Row(7, "cy@example.com", 1)}, 1000);
  ASSERT_TRUE(ambiguous.ok());
  EXPECT_EQ((*ambiguous)[0].kind, OpeningBalanceOutcome::Kind::kRejected);
  EXPECT_NE((*ambiguous)[0].reason.find("several customers"), std::string::npos);
}

}  // namespace
}  // namespace loyaltyd::sqlite_customers_test
