// Shared membership in SqliteStorage (src/storage/sqlite_members.cc): accounts of sharing shops
// with the same verified email are one member with one set of books; guests and unverified
// emails never join; an account that joins with books of its own is merged once, exactly, in
// the event's transaction.
#include <gtest/gtest.h>

#include "core/model.h"
#include "storage/sqlite_storage.h"
#include "support/temp_dir.h"

namespace loyaltyd::sqlite_members_test {
namespace {

constexpr int64_t kDayMs = 86'400'000;

class SqliteMembersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = SqliteStorage::Open(dir_.File("loyaltyd.db"));
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    storage_ = std::move(opened).value();
    storage_->SetPointsPolicy(PointsPolicy{365 * kDayMs, 0});  // lots expire: their expiry moves
  }

  int64_t StoreOne(const std::string& shop, const std::string& key) {
    EXPECT_TRUE(storage_
                    ->AppendToInbox({NewInboxEvent{shop, "shopify", "orders/paid", key,
                                                   "delivery-" + key, "{}", ++received_}})
                    .ok());
    auto pending = storage_->LoadPendingEvents(0, 1000);
    EXPECT_TRUE(pending.ok());
    for (const auto& e : *pending) {
      if (e.dedupe_key == key) return e.id;
    }
    ADD_FAILURE() << "event " << key << " not pending";
    return 0;
  }

  static CustomerIdentity Account(const std::string& shop, const std::string& platform_id,
                                  const std::string& email, bool verified) {
    CustomerIdentity who{shop, platform_id, email, NormaliseEmail(email), "Ada", ""};
    who.link_by_email = verified;
    return who;
  }

  // A paid order of `shop` for `who`: `points` points and `credit_minor` of cashback.
  EventOutcome Paid(const std::string& event_key, const CustomerIdentity& who,
                    const std::string& order_id, int64_t points, int64_t credit_minor = 0) {
    EventOutcome o;
    o.event_id = StoreOne(who.shop_id, event_key);
    o.received_at_ms = received_;
    o.reason = "paid";
    o.customer = who;
    o.order = OrderRecord{who.shop_id, order_id, "#" + order_id, "USD", 10000, 10000, true, ""};
    o.points.push_back(PointsChange{"spend", "earn", points, "points"});
    if (credit_minor > 0) {
      o.credits.push_back(CreditChange{"cashback", "earn", credit_minor, "USD", "cashback"});
    }
    return o;
  }

  // A customers/update of the account: nothing but the account.
  EventOutcome CustomerSeen(const std::string& event_key, const CustomerIdentity& who) {
    EventOutcome o;
    o.event_id = StoreOne(who.shop_id, event_key);
    o.reason = "customer recorded";
    o.customer = who;
    return o;
  }

  EventOutcome FullRefund(const std::string& event_key, const std::string& shop,
                          const std::string& order_id) {
    EventOutcome o;
    o.event_id = StoreOne(shop, event_key);
    o.reason = "refund";
    o.order = OrderRecord{shop, order_id, "", "", 0, 0, false, ""};
    o.order->placeholder = true;
    o.refunds.push_back(RefundRecord{"full", 10000, 0, true});
    return o;
  }

  void Commit(const EventOutcome& o) {
    ASSERT_TRUE(storage_->CommitEventOutcomes({o}, ++now_).ok());
  }

  CustomerRecord On(const std::string& shop) {
    auto found = storage_->FindCustomersByEmail("ada@example.com");
    EXPECT_TRUE(found.ok());
    for (const CustomerRecord& c : *found) {
      if (c.shop_id == shop) return c;
    }
    ADD_FAILURE() << "no customer on " << shop;
    return {};
  }

  MembershipRecord Membership(int64_t id) {
    auto m = storage_->GetMembership(id);
    EXPECT_TRUE(m.ok() && m->has_value());
    return m.ok() && m->has_value() ? **m : MembershipRecord{};
  }

  // The ledger oldest first, checked to add up to the balance.
  std::vector<LedgerEntryRecord> Ledger(int64_t customer_id) {
    auto entries = storage_->ListLedger(customer_id, 0, 1000);
    EXPECT_TRUE(entries.ok());
    std::vector<LedgerEntryRecord> out(entries->rbegin(), entries->rend());
    int64_t sum = 0;
    for (const LedgerEntryRecord& e : out) {
      sum += e.points;
      EXPECT_EQ(e.balance_after, sum) << e.description;
    }
    EXPECT_EQ((*storage_->GetCustomer(customer_id))->points_balance, sum);
    return out;
  }

  // The open lots sum to max(balance, 0) (the lots invariant, kept across a merge).
  int64_t OpenLots(int64_t customer_id) {
    auto lots = storage_->ListLots(customer_id, true, 0, 1000);
    EXPECT_TRUE(lots.ok());
    int64_t sum = 0;
    for (const PointLotRecord& lot : *lots) sum += lot.remaining;
    return sum;
  }

  testing::TempDir dir_;
  std::unique_ptr<SqliteStorage> storage_;
  int64_t now_ = 10'000;
  int64_t received_ = 1'000'000;
};

TEST_F(SqliteMembersTest, VerifiedAccountsOnTwoShopsEarnIntoOneBalance) {
  Commit(Paid("a-1", Account("shop-a", "1", "ada@example.com", true), "A1", 100));
  Commit(Paid("b-1", Account("woo-b", "12", "Ada@Example.com", true), "B1", 50));

  const CustomerRecord a = On("shop-a");
  const CustomerRecord b = On("woo-b");
  EXPECT_EQ(a.points_balance, 150);
  EXPECT_EQ(b.points_balance, 0) << "the account's books are the member's";
  EXPECT_TRUE(Ledger(b.id).empty()) << "a fresh account joins without a merge";
  const auto ledger = Ledger(a.id);
  ASSERT_EQ(ledger.size(), 2u);
  EXPECT_EQ(ledger[1].points, 50);
  EXPECT_EQ(OpenLots(a.id), 150);

  for (int64_t id : {a.id, b.id}) {
    const MembershipRecord m = Membership(id);
    EXPECT_EQ(m.member_id, a.id);
    ASSERT_EQ(m.accounts.size(), 2u);
    EXPECT_EQ(m.accounts[0].id, a.id);
    EXPECT_EQ(m.accounts[1].shop_id, "woo-b");
    EXPECT_EQ(m.accounts[1].platform_customer_id, "12");
  }
}

TEST_F(SqliteMembersTest, RedeliveriesChangeNothing) {
  const CustomerIdentity a = Account("shop-a", "1", "ada@example.com", true);
  const CustomerIdentity b = Account("woo-b", "12", "ada@example.com", true);
  Commit(Paid("a-1", a, "A1", 100));
  Commit(Paid("b-1", b, "B1", 50));
  // The same orders again under new event ids (a redelivery, an orders/updated).
  Commit(Paid("b-1-again", b, "B1", 50));
  Commit(Paid("a-1-again", a, "A1", 100));
  Commit(CustomerSeen("b-seen", b));
  EXPECT_EQ(On("shop-a").points_balance, 150);
  EXPECT_EQ(Ledger(On("shop-a").id).size(), 2u);
  EXPECT_EQ(Membership(On("woo-b").id).accounts.size(), 2u);
}

TEST_F(SqliteMembersTest, GuestsUnverifiedEmailsAndASecondAccountOfOneShopNeverJoin) {
  Commit(Paid("a-1", Account("shop-a", "1", "ada@example.com", true), "A1", 100));
  Commit(Paid("b-unverified", Account("woo-b", "12", "ada@example.com", false), "B1", 50));
  Commit(Paid("c-guest", Account("shop-c", "", "ada@example.com", true), "C1", 30));
  // Another account of shop-a with the same (verified) email is another person to that store.
  Commit(Paid("a-2", Account("shop-a", "2", "ada@example.com", true), "A2", 20));

  auto all = storage_->FindCustomersByEmail("ada@example.com");
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 4u);
  for (const CustomerRecord& c : *all) {
    const MembershipRecord m = Membership(c.id);
    EXPECT_EQ(m.member_id, c.id) << c.shop_id << " " << c.platform_customer_id;
    EXPECT_EQ(m.accounts.size(), 1u);
  }
  EXPECT_EQ(On("woo-b").points_balance, 50);
  EXPECT_EQ(On("shop-c").points_balance, 30);
}

TEST_F(SqliteMembersTest, AnAccountWithBooksIsMergedOnceWithItsLotsAndCredit) {
  const CustomerIdentity b_unverified = Account("woo-b", "12", "ada@example.com", false);
  Commit(Paid("b-1", b_unverified, "B1", 70, 300));  // earned before its email was verified
  Commit(Paid("a-1", Account("shop-a", "1", "ada@example.com", true), "A1", 100, 500));
  const int64_t b_id = On("woo-b").id;
  auto b_lots = storage_->ListLots(b_id, true, 0, 10);
  ASSERT_TRUE(b_lots.ok());
  ASSERT_EQ(b_lots->size(), 1u);
  const PointLotRecord b_lot = (*b_lots)[0];
  ASSERT_NE(b_lot.expires_at_ms, 0);

  // The email is verified now: the account joins the member, its books with it.
  const CustomerIdentity b = Account("woo-b", "12", "ada@example.com", true);
  Commit(CustomerSeen("b-verified", b));

  const CustomerRecord a = On("shop-a");
  const CustomerRecord after_b = On("woo-b");
  EXPECT_EQ(a.points_balance, 170);
  EXPECT_EQ(after_b.points_balance, 0);
  EXPECT_EQ(a.credit_balance_minor, 800);
  EXPECT_EQ(after_b.credit_balance_minor, 0);
  const auto b_ledger = Ledger(b_id);
  ASSERT_EQ(b_ledger.size(), 2u);
  EXPECT_EQ(b_ledger[1].kind, "merge_out");
  EXPECT_EQ(b_ledger[1].points, -70);
  const auto a_ledger = Ledger(a.id);
  ASSERT_EQ(a_ledger.size(), 2u);
  EXPECT_EQ(a_ledger[1].kind, "merge_in");
  EXPECT_EQ(a_ledger[1].points, 70);
  // The lot moved as it was: what was left of it, its earn time and expiry, now the member's.
  auto a_lots = storage_->ListLots(a.id, true, 0, 10);
  ASSERT_TRUE(a_lots.ok());
  int moved = 0;
  for (const PointLotRecord& lot : *a_lots) {
    if (lot.kind != "merge_in") continue;
    ++moved;
    EXPECT_EQ(lot.remaining, 70);
    EXPECT_EQ(lot.earned_at_ms, b_lot.earned_at_ms);
    EXPECT_EQ(lot.expires_at_ms, b_lot.expires_at_ms);
    EXPECT_EQ(lot.order_platform_id, "B1");
  }
  EXPECT_EQ(moved, 1);
  EXPECT_EQ(OpenLots(a.id), 170);
  EXPECT_EQ(OpenLots(b_id), 0);
  auto credit = storage_->ListCreditEntries(b_id, 0, 10);
  ASSERT_TRUE(credit.ok());
  ASSERT_EQ(credit->size(), 2u);
  EXPECT_EQ((*credit)[0].kind, "merge_out");
  EXPECT_EQ((*credit)[0].amount_minor, -300);

  // Seen again, verified again, and its order redelivered: nothing moves twice.
  Commit(CustomerSeen("b-verified-again", b));
  Commit(Paid("b-1-again", b, "B1", 70, 300));
  EXPECT_EQ(On("shop-a").points_balance, 170);
  EXPECT_EQ(On("shop-a").credit_balance_minor, 800);
  EXPECT_EQ(Ledger(b_id).size(), 2u);
  EXPECT_EQ(Ledger(a.id).size(), 2u);

  // A refund of the order the account earned before the merge takes back from the member.
  Commit(FullRefund("b-refund", "woo-b", "B1"));
  EXPECT_EQ(On("shop-a").points_balance, 100);
  EXPECT_EQ(On("shop-a").credit_balance_minor, 500);
  EXPECT_EQ(On("woo-b").points_balance, 0);
  EXPECT_EQ(OpenLots(On("shop-a").id), 100);
}

TEST_F(SqliteMembersTest, AFailingEventLeavesNeitherTheLinkNorTheMerge) {
  Commit(Paid("b-1", Account("woo-b", "12", "ada@example.com", false), "B1", 70));
  Commit(Paid("a-1", Account("shop-a", "1", "ada@example.com", true), "A1", 100));
  const int64_t b_id = On("woo-b").id;

  // The verifying event fails after the link and the merge were written (points without an
  // order are refused): the event's savepoint takes all of it back.
  EventOutcome broken = CustomerSeen("b-broken", Account("woo-b", "12", "ada@example.com", true));
  broken.points.push_back(PointsChange{"spend", "earn", 5, "points"});
  Commit(broken);
  auto failed = storage_->ListEvents(EventStatus::kFailed, 0, 10);
  ASSERT_TRUE(failed.ok());
  ASSERT_EQ(failed->size(), 1u);
  EXPECT_EQ(Membership(b_id).member_id, b_id);
  EXPECT_EQ(On("woo-b").points_balance, 70);
  EXPECT_EQ(On("shop-a").points_balance, 100);
  EXPECT_EQ(Ledger(b_id).size(), 1u);
  EXPECT_EQ(OpenLots(b_id), 70);

  // The next good event links and merges, once.
  Commit(CustomerSeen("b-good", Account("woo-b", "12", "ada@example.com", true)));
  EXPECT_EQ(Membership(b_id).member_id, On("shop-a").id);
  EXPECT_EQ(On("shop-a").points_balance, 170);
}

TEST_F(SqliteMembersTest, LinksSurviveAReopen) {
  Commit(Paid("a-1", Account("shop-a", "1", "ada@example.com", true), "A1", 100));
  Commit(Paid("b-1", Account("woo-b", "12", "ada@example.com", false), "B1", 40));
  Commit(CustomerSeen("b-verified", Account("woo-b", "12", "ada@example.com", true)));
  storage_.reset();
  auto reopened = SqliteStorage::Open(dir_.File("loyaltyd.db"));
  ASSERT_TRUE(reopened.ok());
  storage_ = std::move(reopened).value();
  // A refund of the account's pre-merge order after the restart still goes to the member.
  Commit(FullRefund("b-refund", "woo-b", "B1"));
  EXPECT_EQ(On("shop-a").points_balance, 100);
  EXPECT_EQ(On("woo-b").points_balance, 0);
}

// Privacy with shared membership: a customer redaction from one store keeps the member's books
// and drops the email from the link; a shop redaction of the store that holds the books hands
// them on to the member's account in the other store first.
TEST_F(SqliteMembersTest, RedactingOneStoresAccountKeepsTheMembersBooks) {
  Commit(Paid("a-1", Account("shop-a", "1", "ada@example.com", true), "A1", 100));
  Commit(Paid("b-1", Account("woo-b", "12", "ada@example.com", true), "B1", 50));
  const int64_t a_id = On("shop-a").id;
  const int64_t b_id = On("woo-b").id;
  PrivacyAction redact;
  redact.kind = PrivacyAction::Kind::kCustomerRedact;
  redact.shop_id = "woo-b";
  redact.customer_id = b_id;
  redact.source = "api";
  ASSERT_TRUE(storage_->ApplyPrivacyAction(redact, ++now_).ok());
  for (int i = 0; i < 100; ++i) {
    auto more = storage_->RunPrivacyWork(now_);
    ASSERT_TRUE(more.ok()) << more.status().ToString();
    if (!*more) break;
  }
  EXPECT_EQ(Membership(b_id).member_id, a_id);
  EXPECT_EQ((*storage_->GetCustomer(a_id))->points_balance, 150);
  EXPECT_EQ((*storage_->GetCustomer(b_id))->email, "");
  auto export_json = storage_->ExportCustomer(b_id, now_);
  ASSERT_TRUE(export_json.ok() && export_json->has_value());
  EXPECT_EQ((*export_json)->find("ada@example.com"), std::string::npos)
      << "the link still holds the email";
}

TEST_F(SqliteMembersTest, AShopRedactionHandsTheBooksToTheOtherStoresAccount) {
  Commit(Paid("a-1", Account("shop-a", "1", "ada@example.com", true), "A1", 100, 400));
  Commit(Paid("b-1", Account("woo-b", "12", "ada@example.com", true), "B1", 50));
  const int64_t b_id = On("woo-b").id;
  PrivacyAction redact;
  redact.kind = PrivacyAction::Kind::kShopRedact;
  redact.shop_id = "shop-a";
  redact.source = "api";
  ASSERT_TRUE(storage_->ApplyPrivacyAction(redact, ++now_).ok());
  for (int i = 0; i < 1000; ++i) {
    auto more = storage_->RunPrivacyWork(now_);
    ASSERT_TRUE(more.ok()) << more.status().ToString();
    if (!*more) break;
  }
  auto left = storage_->FindCustomersByEmail("ada@example.com");
  ASSERT_TRUE(left.ok());
  ASSERT_EQ(left->size(), 1u);
  const CustomerRecord b = (*left)[0];
  EXPECT_EQ(b.id, b_id);
  EXPECT_EQ(b.points_balance, 150);
  EXPECT_EQ(b.credit_balance_minor, 400);
  EXPECT_EQ(OpenLots(b_id), 150);
  const MembershipRecord m = Membership(b_id);
  EXPECT_EQ(m.member_id, b_id);
  EXPECT_EQ(m.accounts.size(), 1u);
  Ledger(b_id);  // adds up
  // And the store goes on: a new order of the account earns into the same balance.
  Commit(Paid("b-2", Account("woo-b", "12", "ada@example.com", true), "B2", 5));
  EXPECT_EQ(On("woo-b").points_balance, 155);
}

}  // namespace
}  // namespace loyaltyd::sqlite_members_test
