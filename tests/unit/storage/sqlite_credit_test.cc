// Store credit (cashback) in SqliteStorage: its own balance and ledger, earned once, clawed back
// by the points formula, paid out through the redemption/outbox path
// (src/storage/sqlite_credit.cc).
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "storage/sqlite_storage.h"
#include "support/temp_dir.h"

namespace loyaltyd::sqlite_credit_test {
namespace {

class SqliteCreditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = SqliteStorage::Open(dir_.File("loyaltyd.db"));
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    storage_ = std::move(opened).value();
  }

  int64_t StoreOne(const std::string& key) {
    EXPECT_TRUE(storage_
                    ->AppendToInbox({NewInboxEvent{"demo", "shopify", "orders/paid", key,
                                                   "delivery-" + key, "{}", 1000}})
                    .ok());
    auto pending = storage_->LoadPendingEvents(0, 1000);
    EXPECT_TRUE(pending.ok());
    for (const auto& e : *pending) {
      if (e.dedupe_key == key) return e.id;
    }
    ADD_FAILURE() << "event " << key << " not pending";
    return 0;
  }

  // Order `order_id` paid: 49.00 eligible, `points` points and `credit_minor` of cashback.
  EventOutcome PaidOrder(const std::string& event_key, const std::string& order_id, int64_t points,
                         int64_t credit_minor) {
    EventOutcome o;
    o.event_id = StoreOne(event_key);
    o.reason = "paid";
    o.customer = CustomerIdentity{"demo", "7001", "ada@example.com", "ada@example.com", "Ada", ""};
    o.order = OrderRecord{"demo", order_id, "#" + order_id, "USD", 5000, 4900, true, ""};
    if (points > 0) o.points.push_back(PointsChange{"spend", "earn", points, "points"});
    if (credit_minor > 0) {
      o.credits.push_back(
          CreditChange{"cashback", "earn", credit_minor, "USD", "10.00% cashback on 49.00 USD"});
    }
    return o;
  }

  // A refund of `merchandise` (eligible, no tax) sent on its own; "full" refunds the rest.
  EventOutcome Refund(const std::string& event_key, const std::string& order_id,
                      const std::string& refund_key, int64_t merchandise,
                      bool allow_negative = false) {
    EventOutcome o;
    o.event_id = StoreOne(event_key);
    o.reason = "refund";
    o.order = OrderRecord{"demo", order_id, "", "", 0, 0, false, ""};
    o.order->placeholder = true;
    o.refunds.push_back(RefundRecord{refund_key, merchandise, 0, refund_key == "full"});
    o.allow_negative_balance = allow_negative;
    return o;
  }

  void Commit(const EventOutcome& o) {
    ASSERT_TRUE(storage_->CommitEventOutcomes({o}, ++now_).ok());
  }

  CustomerRecord Ada() {
    auto found = storage_->FindCustomersByEmail("ada@example.com");
    EXPECT_TRUE(found.ok());
    EXPECT_EQ(found->size(), 1u);
    return found->empty() ? CustomerRecord{} : (*found)[0];
  }

  // The credit ledger oldest first, and a check that it adds up to the balance.
  std::vector<CreditEntryRecord> CreditLedger(int64_t customer_id) {
    auto entries = storage_->ListCreditEntries(customer_id, 0, 1000);
    EXPECT_TRUE(entries.ok());
    std::vector<CreditEntryRecord> out(entries->rbegin(), entries->rend());
    int64_t sum = 0;
    for (const CreditEntryRecord& e : out) {
      sum += e.amount_minor;
      EXPECT_EQ(e.balance_after_minor, sum) << e.description;
    }
    auto customer = storage_->GetCustomer(customer_id);
    EXPECT_EQ((*customer)->credit_balance_minor, sum);
    return out;
  }

  NewCreditPayout Payout(int64_t customer_id, const std::string& key, int64_t amount_minor) {
    NewCreditPayout p;
    p.customer_id = customer_id;
    p.shop_id = "demo";
    p.idempotency_key = key;
    p.amount_minor = amount_minor;
    p.currency = "USD";
    p.description = "Store credit payout";
    return p;
  }

  testing::TempDir dir_;
  std::unique_ptr<SqliteStorage> storage_;
  int64_t now_ = 10'000;
};

TEST_F(SqliteCreditTest, CreditIsEarnedOnceWhateverTheRedeliveries) {
  Commit(PaidOrder("paid", "1001", 49, 490));
  Commit(PaidOrder("paid-again", "1001", 49, 490));  // a redelivery under another event id
  Commit(PaidOrder("updated", "1001", 49, 490));

  const CustomerRecord ada = Ada();
  EXPECT_EQ(ada.credit_balance_minor, 490);
  EXPECT_EQ(ada.points_balance, 49);  // the points book is apart and also credited once
  const auto ledger = CreditLedger(ada.id);
  ASSERT_EQ(ledger.size(), 1u);
  EXPECT_EQ(ledger[0].kind, "earn");
  EXPECT_EQ(ledger[0].rule_id, "cashback");
  EXPECT_EQ(ledger[0].amount_minor, 490);
  EXPECT_EQ(ledger[0].currency, "USD");
  EXPECT_EQ(ledger[0].order_platform_id, "1001");
  EXPECT_EQ(ledger[0].source_topic, "orders/paid");
  EXPECT_EQ(ledger[0].description, "10.00% cashback on 49.00 USD");
  // The points ledger holds no credit entries, and the credit ledger no points.
  auto points = storage_->ListLedger(ada.id, 0, 100);
  ASSERT_EQ(points->size(), 1u);
  EXPECT_EQ((*points)[0].points, 49);
}

TEST_F(SqliteCreditTest, PartialRefundsClawBackProportionallyAndAFullRefundTakesTheRest) {
  Commit(PaidOrder("paid", "1001", 49, 490));
  // Three refunds of a third each of 49.00, then a cancellation; redeliveries in between.
  // Credit targets: floor(490 * 1633 / 4900) = 163, floor(490 * 3266 / 4900) = 326, then 490.
  // Points targets: 16, 32, then 49.
  Commit(Refund("r1", "1001", "71", 1633));
  Commit(Refund("r1-again", "1001", "71", 1633));
  Commit(Refund("r2", "1001", "72", 1633));
  Commit(Refund("full", "1001", "full", 0));
  Commit(Refund("full-again", "1001", "full", 0));

  const CustomerRecord ada = Ada();
  EXPECT_EQ(ada.credit_balance_minor, 0);
  EXPECT_EQ(ada.points_balance, 0);
  const auto ledger = CreditLedger(ada.id);
  ASSERT_EQ(ledger.size(), 4u);
  EXPECT_EQ(ledger[1].kind, "clawback");
  EXPECT_EQ(ledger[1].refund_key, "71");
  EXPECT_EQ(ledger[1].amount_minor, -163);
  EXPECT_EQ(ledger[1].description,
            "refund 71: 1.63 of the 4.90 USD of store credit the order earned taken back");
  EXPECT_EQ(ledger[2].amount_minor, -163);
  EXPECT_EQ(ledger[3].refund_key, "full");
  EXPECT_EQ(ledger[3].amount_minor, -164);
  EXPECT_EQ(ledger[3].description,
            "order cancelled or fully refunded: 1.64 of the 4.90 USD of store credit the order "
            "earned taken back");
  auto points = storage_->ListLedger(ada.id, 0, 100);
  ASSERT_EQ(points->size(), 4u);
  EXPECT_EQ((*points)[2].points, -16);
  EXPECT_EQ((*points)[1].points, -16);
  EXPECT_EQ((*points)[0].points, -17);
}

TEST_F(SqliteCreditTest, ThreeThirdsTakeBackExactlyWhatWasEarned) {
  // Fractions of a cent are never lost nor invented: 3 refunds of a third take 163, 163, 164.
  Commit(PaidOrder("paid", "1001", 0, 490));
  Commit(Refund("r1", "1001", "71", 1633));
  Commit(Refund("r2", "1001", "72", 1633));
  Commit(Refund("r3", "1001", "73", 1634));
  const auto ledger = CreditLedger(Ada().id);
  ASSERT_EQ(ledger.size(), 4u);
  EXPECT_EQ(ledger[1].amount_minor + ledger[2].amount_minor + ledger[3].amount_minor, -490);
  EXPECT_EQ(ledger[3].amount_minor, -164);
}

TEST_F(SqliteCreditTest, AnOrderThatEarnedOnlyCreditClawsBackCredit) {
  // No points (below the spend rule's minimum, say), but cashback: the refund still applies to
  // the credit book, and the points book has nothing to take.
  Commit(PaidOrder("paid", "1001", 0, 490));
  Commit(Refund("r1", "1001", "71", 2450));
  const CustomerRecord ada = Ada();
  EXPECT_EQ(ada.credit_balance_minor, 245);
  EXPECT_EQ(ada.points_balance, 0);
  EXPECT_TRUE(storage_->ListLedger(ada.id, 0, 100)->empty());
}

TEST_F(SqliteCreditTest, ARefundBeforeTheOrderWaitsForTheEarn) {
  Commit(Refund("r1", "1001", "71", 2450));
  EXPECT_TRUE(storage_->FindCustomersByEmail("ada@example.com")->empty());
  Commit(PaidOrder("paid", "1001", 49, 490));
  const CustomerRecord ada = Ada();
  EXPECT_EQ(ada.credit_balance_minor, 490 - 245);
  EXPECT_EQ(ada.points_balance, 49 - 24);
  const auto ledger = CreditLedger(ada.id);
  ASSERT_EQ(ledger.size(), 2u);
  EXPECT_EQ(ledger[0].kind, "earn");
  EXPECT_EQ(ledger[1].kind, "clawback");
  EXPECT_EQ(ledger[1].amount_minor, -245);
}

TEST_F(SqliteCreditTest, OutOfOrderRefundsEndInTheSameBalanceAsInOrder) {
  // In order: paid, refund, refund. Out of order: refund, paid, refund (a second database).
  Commit(PaidOrder("paid", "1001", 49, 490));
  Commit(Refund("r1", "1001", "71", 1000));
  Commit(Refund("r2", "1001", "72", 1500));
  const int64_t in_order = Ada().credit_balance_minor;

  testing::TempDir other_dir;
  auto other = SqliteStorage::Open(other_dir.File("other.db"));
  ASSERT_TRUE(other.ok());
  std::swap(storage_, *other);
  Commit(Refund("r2", "1001", "72", 1500));
  Commit(PaidOrder("paid", "1001", 49, 490));
  Commit(Refund("r1", "1001", "71", 1000));
  EXPECT_EQ(Ada().credit_balance_minor, in_order);
  EXPECT_EQ(in_order, 490 - 250);  // floor(490 * 2500 / 4900) = 250 in total
  std::swap(storage_, *other);
}

TEST_F(SqliteCreditTest, ClawbackOfSpentCreditTakesWhatIsThereOrGoesNegativeIfAllowed) {
  Commit(PaidOrder("paid", "1001", 0, 490));
  const int64_t customer_id = Ada().id;
  auto paid_out = storage_->CreateCreditPayout(Payout(customer_id, "p1", 400), ++now_);
  ASSERT_TRUE(paid_out.ok());
  Commit(Refund("full", "1001", "full", 0));
  auto ledger = CreditLedger(customer_id);
  ASSERT_EQ(ledger.size(), 3u);
  EXPECT_EQ(ledger[2].amount_minor, -90);
  EXPECT_EQ(ledger[2].balance_after_minor, 0);
  EXPECT_EQ(ledger[2].description,
            "order cancelled or fully refunded: 4.90 of the 4.90 USD of store credit the order "
            "earned taken back; shortfall of 4.00 USD already spent: the balance held 0.90 USD");

  Commit(PaidOrder("paid-2", "1002", 0, 490));
  ASSERT_TRUE(storage_->CreateCreditPayout(Payout(customer_id, "p2", 400), ++now_).ok());
  Commit(Refund("full-2", "1002", "full", 0, /*allow_negative=*/true));
  ledger = CreditLedger(customer_id);
  EXPECT_EQ(ledger.back().amount_minor, -490);
  EXPECT_EQ(ledger.back().balance_after_minor, -400);
}

TEST_F(SqliteCreditTest, PayoutDebitsQueuesOneJobAndReturnsTheCreditWhenTheStoreRejectsIt) {
  Commit(PaidOrder("paid", "1001", 49, 1250));
  const int64_t customer_id = Ada().id;

  auto created = storage_->CreateCreditPayout(Payout(customer_id, "payout-1", 1000), ++now_);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  ASSERT_EQ(created->outcome, CreditPayoutResult::Outcome::kCreated);
  EXPECT_EQ(created->balance_minor, 250);
  const RedemptionRecord& payout = created->payout;
  EXPECT_EQ(payout.paid_with, "credit");
  EXPECT_EQ(payout.reward_kind, "store_credit");
  EXPECT_EQ(payout.points, 0);
  EXPECT_EQ(payout.value_minor, 1000);
  EXPECT_EQ(payout.currency, "USD");
  EXPECT_EQ(payout.status, RedemptionStatus::kPending);
  EXPECT_EQ(Ada().points_balance, 49);  // points untouched

  auto jobs = storage_->LoadDueJobs(now_, 10);
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_EQ((*jobs)[0].kind, "issue_reward");
  EXPECT_EQ((*jobs)[0].redemption_id, payout.id);
  EXPECT_EQ((*jobs)[0].idempotency_key, "demo:credit:" + std::to_string(payout.id));

  // The same key again: the same payout, nothing changes.
  auto again = storage_->CreateCreditPayout(Payout(customer_id, "payout-1", 1000), ++now_);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->outcome, CreditPayoutResult::Outcome::kExisting);
  EXPECT_EQ(again->payout.id, payout.id);
  EXPECT_EQ(storage_->LoadDueJobs(now_, 10)->size(), 1u);

  // More than the balance: refused, nothing changes.
  auto too_much = storage_->CreateCreditPayout(Payout(customer_id, "payout-2", 251), ++now_);
  ASSERT_TRUE(too_much.ok());
  EXPECT_EQ(too_much->outcome, CreditPayoutResult::Outcome::kInsufficientCredit);
  EXPECT_EQ(too_much->balance_minor, 250);

  auto ledger = CreditLedger(customer_id);
  ASSERT_EQ(ledger.size(), 2u);
  EXPECT_EQ(ledger[1].kind, "payout");
  EXPECT_EQ(ledger[1].amount_minor, -1000);
  EXPECT_EQ(ledger[1].payout_id, payout.id);

  // The store rejects it for good: the credit comes back once, however often this is settled.
  const int64_t job_id = (*jobs)[0].id;
  ASSERT_TRUE(storage_->FailRewardJob(job_id, "customer account disabled", ++now_).ok());
  ASSERT_TRUE(storage_->FailRewardJob(job_id, "customer account disabled", ++now_).ok());
  ledger = CreditLedger(customer_id);
  ASSERT_EQ(ledger.size(), 3u);
  EXPECT_EQ(ledger[2].kind, "payout_refund");
  EXPECT_EQ(ledger[2].amount_minor, 1000);
  EXPECT_EQ(ledger[2].balance_after_minor, 1250);
  EXPECT_EQ(ledger[2].description,
            "refund of payout " + std::to_string(payout.id) +
                ": the store rejected the store credit (customer account disabled)");
  EXPECT_EQ(Ada().points_balance, 49);  // not refunded in points
  auto failed = storage_->GetRedemption(payout.id);
  EXPECT_EQ((*failed)->status, RedemptionStatus::kFailed);
}

TEST_F(SqliteCreditTest, APayoutIssuedByTheStoreKeepsItsDebit) {
  Commit(PaidOrder("paid", "1001", 0, 1250));
  const int64_t customer_id = Ada().id;
  auto created = storage_->CreateCreditPayout(Payout(customer_id, "payout-1", 1250), ++now_);
  ASSERT_TRUE(created.ok());
  auto jobs = storage_->LoadDueJobs(now_, 10);
  ASSERT_TRUE(storage_->CompleteRewardJob((*jobs)[0].id, "gid://credit/1", "", ++now_).ok());
  ASSERT_TRUE(storage_->FailRewardJob((*jobs)[0].id, "late failure", ++now_).ok());  // no-op
  EXPECT_EQ(Ada().credit_balance_minor, 0);
  EXPECT_EQ(CreditLedger(customer_id).size(), 2u);
  EXPECT_EQ((*storage_->GetRedemption(created->payout.id))->status, RedemptionStatus::kIssued);
}

TEST_F(SqliteCreditTest, ConcurrentPayoutsNeverOverdraw) {
  Commit(PaidOrder("paid", "1001", 0, 1000));
  const int64_t customer_id = Ada().id;
  std::atomic<int> created{0}, refused{0}, other{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&, i] {
      auto r = storage_->CreateCreditPayout(Payout(customer_id, "k-" + std::to_string(i), 300),
                                            20'000 + i);
      if (!r.ok()) {
        ++other;
      } else if (r->outcome == CreditPayoutResult::Outcome::kCreated) {
        ++created;
      } else if (r->outcome == CreditPayoutResult::Outcome::kInsufficientCredit) {
        ++refused;
      } else {
        ++other;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(created.load(), 3);  // 3 * 3.00 <= 10.00 < 4 * 3.00
  EXPECT_EQ(refused.load(), 13);
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(Ada().credit_balance_minor, 100);
  EXPECT_EQ(CreditLedger(customer_id).size(), 4u);
}

TEST_F(SqliteCreditTest, CreditPagesNewestFirst) {
  for (int i = 0; i < 5; ++i) {
    Commit(PaidOrder("paid-" + std::to_string(i), "100" + std::to_string(i), 0, 100 + i));
  }
  const int64_t customer_id = Ada().id;
  auto first = storage_->ListCreditEntries(customer_id, 0, 2);
  ASSERT_EQ(first->size(), 2u);
  EXPECT_EQ((*first)[0].amount_minor, 104);
  EXPECT_EQ((*first)[1].amount_minor, 103);
  auto second = storage_->ListCreditEntries(customer_id, (*first)[1].id, 10);
  ASSERT_EQ(second->size(), 3u);
  EXPECT_EQ((*second)[0].amount_minor, 102);
  EXPECT_EQ((*second)[2].amount_minor, 100);
}

}  // namespace
}  // namespace loyaltyd::sqlite_credit_test
