// Privacy in SqliteStorage (src/storage/sqlite_privacy.cc), on a real SQLite file: a customer
// redaction leaves none of the customer's personal values anywhere in the database's bytes
// (file and WAL) while every balance and ledger sum stays; a data request exports what is
// held; a shop redaction removes every row of that shop and nothing of another; a deactivated
// shop's outbox jobs are not due.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <set>

#include "core/identity.h"
#include "core/model.h"
#include "storage/sqlite_storage.h"
#include "support/sqlite_file.h"
#include "support/temp_dir.h"

namespace loyaltyd::sqlite_privacy_test {
namespace {

constexpr int64_t kDay = 86'400'000;
constexpr int64_t kT0 = 1'764'000'000'000;  // 2025-11-24T16:00:00Z

// Grace's personal values: none may remain after her redaction.
constexpr const char* kGraceEmail = "Grace.Hopper@navy-mail.example";
constexpr const char* kGraceFirst = "Gracelyn";
constexpr const char* kGraceLast = "Hopperfield";
constexpr const char* kGracePhone = "+1 555 0100 777";
constexpr const char* kGracePhoneKey = "15550100777";
constexpr const char* kGraceAddressKey = "1navyyardway|20374|US";
constexpr const char* kGraceId = "9001";
// Ada's, which must all stay.
constexpr const char* kAdaEmail = "ada.lovelace@analytical.example";
constexpr const char* kAdaLast = "Lovelacewood";

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

class SqlitePrivacyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.File("loyaltyd.db");
    auto opened = SqliteStorage::Open(path_);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    storage_ = std::move(opened).value();
    policy_.currency = "USD";
    policy_.window_ms = 30 * kDay;
    policy_.shop_platforms = {{"demo", "shopify"}, {"other", "shopify"}};
    policy_.advocate_reward.name = "500 points";
    policy_.advocate_reward.points = 500;
  }

  int64_t StoreEvent(const std::string& shop, const std::string& topic, const std::string& key,
                     const std::string& body) {
    EXPECT_TRUE(storage_
                    ->AppendToInbox(
                        {NewInboxEvent{shop, "shopify", topic, key, "delivery-" + key, body, now_}})
                    .ok());
    auto pending = storage_->LoadPendingEvents(0, 1000);
    EXPECT_TRUE(pending.ok());
    for (const auto& e : *pending) {
      if (e.dedupe_key == key) return e.id;
    }
    ADD_FAILURE() << "event " << key << " not pending";
    return 0;
  }

  // A paid order of a customer, its webhook body carrying the customer's personal data as
  // Shopify's would, earning `points`.
  void PaidOrder(const std::string& shop, const std::string& platform_id, const std::string& email,
                 const std::string& first, const std::string& last, const std::string& phone_key,
                 const std::string& address_key, const std::string& order_id, int64_t points,
                 std::vector<ReferralCandidate> candidates = {}) {
    const nlohmann::json body = {
        {"id", std::stoll(order_id)},
        {"email", email},
        {"phone", phone_key.empty() ? "" : kGracePhone},
        {"customer",
         {{"id", std::stoll(platform_id)},
          {"email", email},
          {"first_name", first},
          {"last_name", last}}},
        {"shipping_address", {{"address1", address_key}, {"name", first + " " + last}}}};
    EventOutcome o;
    o.event_id = StoreEvent(shop, "orders/paid", shop + "-order-" + order_id, body.dump());
    o.reason = "paid";
    o.received_at_ms = now_;
    o.customer = CustomerIdentity{shop, platform_id, email, NormaliseEmail(email), first, last};
    o.order = OrderRecord{shop,         order_id,     "#" + order_id, "USD",
                          points * 100, points * 100, true,           "2025-11-24T16:00:00Z"};
    o.points.push_back(PointsChange{"base", "earn", points, "1 point per 1.00 USD"});
    o.referrals = std::make_shared<ReferralPolicy>(policy_);
    const IdentityKeys keys{CanonicalEmail(email), phone_key, address_key};
    o.identity_keys = keys;
    ReferralOrderFacts facts;
    facts.candidates = std::move(candidates);
    facts.friend_email = email;
    facts.friend_keys = keys;
    facts.total_minor = points * 100;
    facts.created_at_ms = now_;
    o.referral_order = facts;
    ASSERT_TRUE(storage_->CommitEventOutcomes({o}, now_).ok());
  }

  int64_t CustomerId(const std::string& shop, const std::string& email) {
    auto found = storage_->FindCustomersByEmail(NormaliseEmail(email));
    EXPECT_TRUE(found.ok());
    for (const CustomerRecord& c : *found) {
      if (c.shop_id == shop) return c.id;
    }
    ADD_FAILURE() << "no customer " << email << " in " << shop;
    return 0;
  }

  int64_t Balance(int64_t id) {
    auto c = storage_->GetCustomer(id);
    EXPECT_TRUE(c.ok() && c->has_value());
    return c.ok() && c->has_value() ? (*c)->points_balance : -1;
  }

  // A query's single integer, on a connection of the test's own.
  int64_t Scalar(const std::string& sql) {
    // -1 without a row; 0 for NULL (a SUM of nothing), as sqlite3_column_int64 reads it.
    const std::string value = testing::QueryValue(path_, sql);
    if (value.empty()) return -1;
    return value == "NULL" ? 0 : std::stoll(value);
  }

  void RunPrivacyWorkToEnd() {
    for (int i = 0; i < 10000; ++i) {
      auto more = storage_->RunPrivacyWork(now_);
      ASSERT_TRUE(more.ok()) << more.status().ToString();
      if (!*more) return;
    }
    FAIL() << "privacy work never finished";
  }

  // The demo shop's shop/redact webhook, applied and its work run to the end; its event id.
  int64_t RedactDemoShop() {
    const int64_t redact_event = StoreEvent("demo", "shop/redact", "demo-shop-redact", "{}");
    EventOutcome outcome;
    outcome.event_id = redact_event;
    outcome.reason = "shop redaction";
    PrivacyAction action;
    action.kind = PrivacyAction::Kind::kShopRedact;
    action.shop_id = "demo";
    action.source = "webhook";
    outcome.privacy = action;
    EXPECT_TRUE(storage_->CommitEventOutcomes({outcome}, now_).ok());
    RunPrivacyWorkToEnd();
    return redact_event;
  }

  // Every byte loyaltyd keeps: the database file and its WAL.
  std::string DatabaseBytes() { return ReadBytes(path_) + ReadBytes(path_ + "-wal"); }

  // Grace (demo shop) was referred by Ada, ordered twice, and has a data request on file; Ada
  // has her own order; the "other" shop has Olga.
  void Populate() {
    PaidOrder("demo", "7001", kAdaEmail, "Ada", kAdaLast, "", "", "100", 40);
    ada_ = CustomerId("demo", kAdaEmail);
    auto code = storage_->GetOrCreateReferralCode(ada_, now_);
    ASSERT_TRUE(code.ok());
    NewReferral r;
    r.shop_id = "demo";
    r.platform = "shopify";
    r.referrer_customer_id = ada_;
    r.friend_email = kGraceEmail;
    r.friend_email_normalised = NormaliseEmail(kGraceEmail);
    r.friend_key = CanonicalEmail(kGraceEmail);
    ASSERT_TRUE(storage_->CreateReferral(r, policy_, now_).ok());
    now_ += kDay;
    PaidOrder("demo", kGraceId, kGraceEmail, kGraceFirst, kGraceLast, kGracePhoneKey,
              kGraceAddressKey, "200", 25, {{*code, "discount_code"}});
    grace_ = CustomerId("demo", kGraceEmail);
    PaidOrder("demo", kGraceId, kGraceEmail, kGraceFirst, kGraceLast, kGracePhoneKey,
              kGraceAddressKey, "201", 15);
    ASSERT_TRUE(storage_->GetOrCreateReferralCode(grace_, now_).ok());
    PaidOrder("other", "5001", "olga.other@elsewhere.example", "Olga", "Otherova", "", "", "300",
              30);
    olga_ = CustomerId("other", "olga.other@elsewhere.example");
  }

  testing::TempDir dir_;
  std::string path_;
  std::unique_ptr<SqliteStorage> storage_;
  ReferralPolicy policy_;
  int64_t now_ = kT0;
  int64_t ada_ = 0, grace_ = 0, olga_ = 0;
};

TEST_F(SqlitePrivacyTest, EveryTableOfTheSchemaIsKnownToThePrivacyCode) {
  // A table added later must be classified (exported, redacted, deleted with the shop, or
  // deliberately left) in sqlite_privacy.cc: this fails until it is.
  std::set<std::string> schema;
  for (const auto& row : testing::QueryRows(
           path_,
           "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")) {
    schema.insert(row[0]);
  }
  const std::vector<std::string> known_list = SqliteStorage::PrivacyKnownTables();
  const std::set<std::string> known(known_list.begin(), known_list.end());
  EXPECT_EQ(schema, known);
}

TEST_F(SqlitePrivacyTest, RedactionLeavesNoPersonalValueInTheFileAndKeepsTheBooks) {
  Populate();
  // A data request first: its stored export holds Grace's data, and must go with her.
  PrivacyAction request;
  request.kind = PrivacyAction::Kind::kDataRequest;
  request.shop_id = "demo";
  request.platform_customer_id = kGraceId;
  request.email = kGraceEmail;
  request.source = "webhook";
  auto exported = storage_->ApplyPrivacyAction(request, now_);
  ASSERT_TRUE(exported.ok()) << exported.status().ToString();
  auto stored = storage_->GetPrivacyRequest(exported->id);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_NE((*stored)->export_json.find(kGraceLast), std::string::npos);

  const int64_t grace_balance = Balance(grace_);
  const int64_t ada_balance = Balance(ada_);
  EXPECT_EQ(grace_balance, 40);
  EXPECT_GT(ada_balance, 40);  // her order and Grace's referral reward
  const int64_t ledger_sum = Scalar("SELECT SUM(points) FROM ledger_entries");
  const int64_t lots_sum = Scalar("SELECT SUM(remaining) FROM point_lots");
  const std::string before = Lower(DatabaseBytes());
  ASSERT_NE(before.find(Lower(kGraceEmail)), std::string::npos);
  ASSERT_NE(before.find("g***@navy-mail.example"), std::string::npos);  // Ada's description

  PrivacyAction redact;
  redact.kind = PrivacyAction::Kind::kCustomerRedact;
  redact.shop_id = "demo";
  redact.platform_customer_id = kGraceId;
  redact.email = kGraceEmail;
  redact.phone = kGracePhone;
  redact.source = "webhook";
  auto redacted = storage_->ApplyPrivacyAction(redact, now_);
  ASSERT_TRUE(redacted.ok()) << redacted.status().ToString();
  EXPECT_EQ(redacted->customer_ids, std::vector<int64_t>{grace_});
  EXPECT_EQ(redacted->status, "pending");  // the inbox bodies are scrubbed next
  RunPrivacyWorkToEnd();
  auto done = storage_->GetPrivacyRequest(redacted->id);
  ASSERT_TRUE(done.ok() && done->has_value());
  EXPECT_EQ((*done)->status, "completed");
  EXPECT_NE((*done)->summary.find("2 inbox body(ies) scrubbed"), std::string::npos)
      << (*done)->summary;

  // The books: every balance, the ledger and the lots are as they were.
  EXPECT_EQ(Balance(grace_), grace_balance);
  EXPECT_EQ(Balance(ada_), ada_balance);
  EXPECT_EQ(Scalar("SELECT SUM(points) FROM ledger_entries"), ledger_sum);
  EXPECT_EQ(Scalar("SELECT SUM(remaining) FROM point_lots"), lots_sum);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM customer_redactions WHERE customer_id = " +
                   std::to_string(grace_)),
            1);
  auto grace = storage_->GetCustomer(grace_);
  ASSERT_TRUE(grace.ok() && grace->has_value());
  EXPECT_EQ((*grace)->email, "");
  EXPECT_EQ((*grace)->first_name, "");
  EXPECT_EQ((*grace)->platform_customer_id, "");

  // The bytes: no personal value of Grace's anywhere, in any case, in the file or its WAL
  // (secure_delete zeroes what was overwritten; the WAL was truncated).
  const std::string after = Lower(DatabaseBytes());
  for (const std::string& value :
       {std::string(kGraceEmail), std::string("grace.hopper"), std::string(kGraceFirst),
        std::string(kGraceLast), std::string(kGracePhone), std::string(kGracePhoneKey),
        std::string(kGraceAddressKey), std::string("navy-mail.example"),
        CanonicalEmail(kGraceEmail)}) {
    EXPECT_EQ(after.find(Lower(value)), std::string::npos) << value << " is still in the file";
  }
  // The earlier export is gone too; Ada and Olga are untouched.
  auto erased = storage_->GetPrivacyRequest(exported->id);
  ASSERT_TRUE(erased.ok() && erased->has_value());
  EXPECT_EQ((*erased)->export_json, "");
  EXPECT_NE(after.find(kAdaEmail), std::string::npos);
  EXPECT_NE(after.find(Lower(kAdaLast)), std::string::npos);
  EXPECT_NE(after.find("olga.other@elsewhere.example"), std::string::npos);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM pragma_foreign_key_check"), 0);

  // And after the storage closes (SQLite checkpoints the WAL into the file then), still none.
  storage_.reset();
  const std::string closed = Lower(DatabaseBytes());
  EXPECT_EQ(closed.find(Lower(kGraceEmail)), std::string::npos);
  EXPECT_EQ(closed.find(Lower(kGraceLast)), std::string::npos);
}

TEST_F(SqlitePrivacyTest, RedactingTwiceChangesNothingAndALaterOrderIsANewCustomer) {
  Populate();
  PrivacyAction redact;
  redact.kind = PrivacyAction::Kind::kCustomerRedact;
  redact.shop_id = "demo";
  redact.platform_customer_id = kGraceId;
  redact.email = kGraceEmail;
  ASSERT_TRUE(storage_->ApplyPrivacyAction(redact, now_).ok());
  RunPrivacyWorkToEnd();
  const int64_t balance = Balance(grace_);
  const int64_t ledger_sum = Scalar("SELECT SUM(points) FROM ledger_entries");

  auto again = storage_->ApplyPrivacyAction(redact, now_);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->customer_ids.empty());  // nobody left to find by those keys
  RunPrivacyWorkToEnd();
  EXPECT_EQ(Balance(grace_), balance);
  EXPECT_EQ(Scalar("SELECT SUM(points) FROM ledger_entries"), ledger_sum);

  // The admin API on the redacted customer: that same redaction.
  PrivacyAction by_id;
  by_id.kind = PrivacyAction::Kind::kCustomerRedact;
  by_id.shop_id = "demo";
  by_id.customer_id = grace_;
  auto same = storage_->ApplyPrivacyAction(by_id, now_);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->customer_ids, std::vector<int64_t>{grace_});

  // She orders again: a new customer, starting from nothing.
  PaidOrder("demo", kGraceId, kGraceEmail, kGraceFirst, kGraceLast, "", "", "202", 5);
  const int64_t renewed = CustomerId("demo", kGraceEmail);
  EXPECT_NE(renewed, grace_);
  EXPECT_EQ(Balance(renewed), 5);
  EXPECT_EQ(Balance(grace_), balance);
}

TEST_F(SqlitePrivacyTest, DataRequestExportsEverythingHeldOnTheCustomer) {
  Populate();
  PrivacyAction request;
  request.kind = PrivacyAction::Kind::kDataRequest;
  request.shop_id = "demo";
  request.platform_customer_id = kGraceId;
  request.email = kGraceEmail;
  request.platform_order_ids = {"200", "201"};
  request.platform_request_id = "9999";
  request.source = "webhook";
  auto applied = storage_->ApplyPrivacyAction(request, now_);
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  EXPECT_EQ(applied->status, "completed");
  auto stored = storage_->GetPrivacyRequest(applied->id);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  const nlohmann::json doc = nlohmann::json::parse((*stored)->export_json);
  EXPECT_EQ(doc["platform_request_id"], "9999");
  ASSERT_EQ(doc["customers"].size(), 1u);
  const nlohmann::json& c = doc["customers"][0];
  EXPECT_EQ(c["customer"]["email"], kGraceEmail);
  EXPECT_EQ(c["customer"]["first_name"], kGraceFirst);
  EXPECT_EQ(c["customer"]["points_balance"], 40);
  EXPECT_EQ(c["ledger_entries"].size(), 2u);
  EXPECT_EQ(c["point_lots"].size(), 2u);
  EXPECT_EQ(c["orders"].size(), 2u);
  EXPECT_EQ(c["referrals_received"].size(), 1u);
  EXPECT_FALSE(c["referral_code"].is_null());
  EXPECT_EQ(c["identity_keys"].size(), 3u);  // email, phone, address
  ASSERT_EQ(c["inbox_events"].size(), 2u);   // the two paid orders, bodies included
  EXPECT_EQ(c["inbox_events"][0]["body_json"]["customer"]["last_name"], kGraceLast);

  // The on-demand export (admin API) holds the same customer document.
  auto now_export = storage_->ExportCustomer(grace_, now_);
  ASSERT_TRUE(now_export.ok() && now_export->has_value());
  EXPECT_EQ(nlohmann::json::parse(**now_export)["customers"][0]["customer"], c["customer"]);
  auto unknown = storage_->ExportCustomer(424242, now_);
  ASSERT_TRUE(unknown.ok());
  EXPECT_FALSE(unknown->has_value());
}

TEST_F(SqlitePrivacyTest, ShopRedactionRemovesEveryRowOfThatShopAndNothingOfAnother) {
  Populate();
  const int64_t olga_balance = Balance(olga_);
  const int64_t other_events = Scalar("SELECT COUNT(*) FROM inbox_events WHERE shop_id = 'other'");
  const int64_t redact_event = RedactDemoShop();

  for (const char* table : {"customers", "orders", "redemptions", "outbox_jobs"}) {
    EXPECT_EQ(Scalar(std::string("SELECT COUNT(*) FROM ") + table + " WHERE shop_id = 'demo'"), 0)
        << table;
  }
  // Only the shop/redact webhook itself stays, as the record of the request.
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM inbox_events WHERE shop_id = 'demo'"), 1);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM inbox_events WHERE shop_id = 'demo' AND id = " +
                   std::to_string(redact_event)),
            1);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM ledger_entries l JOIN customers c ON c.id = "
                   "l.customer_id WHERE c.shop_id = 'demo'"),
            0);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM ledger_entries"), 1);  // Olga's
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM referrals"), 0);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM customer_identity_keys"),
            Scalar("SELECT COUNT(*) FROM customer_identity_keys WHERE customer_id = " +
                   std::to_string(olga_)));
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM pragma_foreign_key_check"), 0);
  EXPECT_EQ(Scalar("SELECT redacted_at_ms > 0 FROM shop_states WHERE shop_id = 'demo'"), 1);
  // The other shop: untouched.
  EXPECT_EQ(Balance(olga_), olga_balance);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM inbox_events WHERE shop_id = 'other'"), other_events);
  const std::string bytes = Lower(DatabaseBytes());
  EXPECT_EQ(bytes.find(Lower(kAdaEmail)), std::string::npos);
  EXPECT_EQ(bytes.find(Lower(kGraceEmail)), std::string::npos);
  EXPECT_NE(bytes.find("olga.other@elsewhere.example"), std::string::npos);
  auto list = storage_->ListPrivacyRequests(0, 10);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].kind, "shop_redact");
  EXPECT_EQ((*list)[0].status, "completed");
}

// A row of another shop may name one of the redacted shop's webhooks as its cause (a member's
// tier change or account link made by an order there): the link goes, the row stays, and the
// webhook can be deleted (a foreign key would otherwise stop the redaction for good).
TEST_F(SqlitePrivacyTest, ShopRedactionUnlinksOtherShopsRowsCausedByItsWebhooks) {
  Populate();
  const int64_t demo_event = Scalar("SELECT MIN(id) FROM inbox_events WHERE shop_id = 'demo'");
  ASSERT_GT(demo_event, 0);
  {
    const std::string olga = std::to_string(olga_), event = std::to_string(demo_event);
    const std::string sql =
        "INSERT INTO tier_changes (customer_id, from_level_id, to_level_id, direction, "
        "changed_at_ms, source_event_id, created_at_ms) VALUES (" +
        olga + ", '', 'gold', 'up', 1, " + event +
        ", 1);"
        "INSERT OR IGNORE INTO member_links (customer_id, member_id, email_normalised, "
        "linked_at_ms) VALUES (" +
        olga + ", " + olga +
        ", 'olga.other@elsewhere.example', 1);"
        "UPDATE member_links SET source_event_id = " +
        event + " WHERE customer_id = " + olga + ";";
    ASSERT_TRUE(testing::ExecSql(path_, sql));
  }
  RedactDemoShop();

  auto list = storage_->ListPrivacyRequests(0, 10);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].status, "completed") << (*list)[0].last_error;
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM inbox_events WHERE id = " + std::to_string(demo_event)),
            0);
  const std::string olga = std::to_string(olga_);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM tier_changes WHERE customer_id = " + olga +
                   " AND source_event_id IS NULL"),
            1);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM member_links WHERE customer_id = " + olga +
                   " AND source_event_id IS NULL"),
            1);
}

TEST_F(SqlitePrivacyTest, AnInactiveShopsJobsWaitUntilItIsActivatedAgain) {
  Populate();
  NewRedemption spend;
  spend.customer_id = grace_;
  spend.shop_id = "demo";
  spend.idempotency_key = "k1";
  spend.reward_id = "five-off";
  spend.reward_kind = "fixed_discount";
  spend.reward_name = "5 off";
  spend.points = 10;
  spend.code = "LOY-TEST-1";
  spend.value_minor = 500;
  spend.currency = "USD";
  ASSERT_TRUE(storage_->CreateRedemption(spend, now_).ok());
  auto due = storage_->LoadDueJobs(now_, 10);
  ASSERT_TRUE(due.ok());
  ASSERT_EQ(due->size(), 1u);

  PrivacyAction off;
  off.kind = PrivacyAction::Kind::kShopDeactivate;
  off.shop_id = "demo";
  off.source = "webhook";
  ASSERT_TRUE(storage_->ApplyPrivacyAction(off, now_).ok());
  due = storage_->LoadDueJobs(now_, 10);
  ASSERT_TRUE(due.ok());
  EXPECT_TRUE(due->empty());
  auto states = storage_->ListShopStates();
  ASSERT_TRUE(states.ok());
  ASSERT_EQ(states->size(), 1u);
  EXPECT_FALSE((*states)[0].active);
  EXPECT_EQ((*states)[0].reason, "app uninstalled");

  PrivacyAction on = off;
  on.kind = PrivacyAction::Kind::kShopActivate;
  on.source = "api";
  ASSERT_TRUE(storage_->ApplyPrivacyAction(on, now_).ok());
  due = storage_->LoadDueJobs(now_, 10);
  ASSERT_TRUE(due.ok());
  EXPECT_EQ(due->size(), 1u);
}

}  // namespace
}  // namespace loyaltyd::sqlite_privacy_test
