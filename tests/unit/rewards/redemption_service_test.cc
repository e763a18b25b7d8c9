#include "rewards/redemption_service.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "storage/sqlite_storage.h"
#include "support/temp_dir.h"

namespace loyaltyd::redemption_service_test {
namespace {

class SteppedClock final : public Clock {
 public:
  int64_t NowMillis() const override { return now_ms.load(); }
  std::atomic<int64_t> now_ms{1'790'000'000'000};
};

Config ProgramConfig() {
  ConfigLoadResult loaded = ParseConfig(R"({
    "admin": {"token": "0123456789abcdef0123"},
    "shops": [
      {"id": "main", "platform": "shopify", "domain": "main.myshopify.com",
       "webhook_secret": "secret-main-123", "api": {"access_token": "shpat_x"}},
      {"id": "noapi", "platform": "shopify", "domain": "noapi.myshopify.com",
       "webhook_secret": "secret-noapi-123"}],
    "program": {"currency": "USD", "earn": [{"type": "spend", "points": 1, "per": "1.00"}],
      "rewards": [
        {"id": "five-off", "name": "$5 off", "points": 500, "kind": "fixed_discount",
         "amount": "5.00", "minimum_order": "25.00", "expires_after_days": 30},
        {"id": "ten-pct", "points": 300, "kind": "percentage_discount", "percentage": 10,
         "code_prefix": "VIP-"},
        {"id": "credit", "points": 1000, "kind": "store_credit", "amount": "10.00"}]}
  })");
  EXPECT_TRUE(loaded.ok()) << (loaded.problems.empty() ? "" : loaded.problems[0].ToString());
  return loaded.config;
}

class RedemptionServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = SqliteStorage::Open(dir_.File("loyaltyd.db"));
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    storage_ = std::move(opened).value();
    service_ = std::make_unique<RedemptionService>(
        config_, *storage_, clock_, [](const std::string& shop) { return shop == "main"; },
        [this] { ++queued_; });
  }

  // A customer of `shop` with `points`, earned through the ordinary event path.
  int64_t CustomerWith(int64_t points, const std::string& platform_id = "7001",
                       const std::string& shop = "main") {
    const std::string key = "evt-" + shop + "-" + platform_id + "-" + std::to_string(points);
    EXPECT_TRUE(
        storage_->AppendToInbox({{shop, "shopify", "orders/paid", key, key, "{}", 1}}).ok());
    auto pending = storage_->LoadPendingEvents(0, 100);
    EXPECT_TRUE(pending.ok());
    EventOutcome o;
    o.event_id = pending->back().id;
    o.reason = "paid";
    o.customer = CustomerIdentity{shop,  platform_id, "ada@example.com", "ada@example.com",
                                  "Ada", "Lovelace"};
    o.order = OrderRecord{shop, "order-" + key, "#1", "USD", points * 100, points * 100, true, ""};
    o.points.push_back(PointsChange{"spend", "earn", points, "earned"});
    EXPECT_TRUE(storage_->CommitEventOutcomes({o}, clock_.NowMillis()).ok());
    auto found = storage_->FindCustomersByEmail("ada@example.com");
    EXPECT_TRUE(found.ok());
    for (const CustomerRecord& c : *found) {
      if (c.platform_customer_id == platform_id && c.shop_id == shop) return c.id;
    }
    ADD_FAILURE() << "customer not created";
    return 0;
  }
  int64_t Balance(int64_t customer_id) {
    auto c = storage_->GetCustomer(customer_id);
    EXPECT_TRUE(c.ok() && c->has_value());
    return (*c)->points_balance;
  }

  testing::TempDir dir_;
  Config config_ = ProgramConfig();
  SteppedClock clock_;
  std::unique_ptr<SqliteStorage> storage_;
  std::unique_ptr<RedemptionService> service_;
  int queued_ = 0;
};

TEST_F(RedemptionServiceTest, RedeemDeductsPointsWritesTheLedgerAndQueuesOneJob) {
  const int64_t customer = CustomerWith(1200);
  Result<RedeemResult> r = service_->Redeem(customer, "five-off", "key-1");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->replayed);
  EXPECT_EQ(r->balance_after, 700);
  EXPECT_EQ(Balance(customer), 700);
  EXPECT_EQ(queued_, 1);

  const RedemptionRecord& red = r->redemption;
  EXPECT_EQ(red.status, RedemptionStatus::kPending);
  EXPECT_EQ(red.reward_kind, "fixed_discount");
  EXPECT_EQ(red.points, 500);
  EXPECT_EQ(red.value_minor, 500);
  EXPECT_EQ(red.minimum_order_minor, 2500);
  EXPECT_EQ(red.currency, "USD");
  EXPECT_EQ(red.expires_at_ms, clock_.NowMillis() + 30 * 86'400'000LL);
  EXPECT_EQ(red.code.rfind("LOYAL-", 0), 0u) << red.code;

  auto ledger = storage_->ListLedger(customer, 0, 10);
  ASSERT_TRUE(ledger.ok());
  ASSERT_EQ(ledger->size(), 2u);
  EXPECT_EQ((*ledger)[0].kind, "redeem");
  EXPECT_EQ((*ledger)[0].points, -500);
  EXPECT_EQ((*ledger)[0].balance_after, 700);
  EXPECT_EQ((*ledger)[0].redemption_id, red.id);
  EXPECT_EQ((*ledger)[0].description, "redeemed for $5 off");

  auto jobs = storage_->ListJobs(std::nullopt, 0, 10);
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_EQ((*jobs)[0].kind, "issue_reward");
  EXPECT_EQ((*jobs)[0].redemption_id, red.id);
  EXPECT_EQ((*jobs)[0].idempotency_key, "main:code:" + red.code);
  EXPECT_EQ((*jobs)[0].status, JobStatus::kPending);
  EXPECT_EQ((*jobs)[0].attempts, 0);
}

TEST_F(RedemptionServiceTest, TheSameKeyReturnsTheSameRedemptionAndChangesNothing) {
  const int64_t customer = CustomerWith(1200);
  Result<RedeemResult> first = service_->Redeem(customer, "ten-pct", "same-key");
  ASSERT_TRUE(first.ok());
  Result<RedeemResult> again = service_->Redeem(customer, "ten-pct", "same-key");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->replayed);
  EXPECT_EQ(again->redemption.id, first->redemption.id);
  EXPECT_EQ(again->redemption.code, first->redemption.code);
  EXPECT_EQ(again->redemption.code.rfind("VIP-", 0), 0u);
  EXPECT_EQ(Balance(customer), 900);
  EXPECT_EQ(queued_, 1);
  auto jobs = storage_->ListJobs(std::nullopt, 0, 10);
  ASSERT_TRUE(jobs.ok());
  EXPECT_EQ(jobs->size(), 1u);
}

TEST_F(RedemptionServiceTest, TheSameKeyForAnotherRewardIsRejected) {
  const int64_t customer = CustomerWith(1200);
  ASSERT_TRUE(service_->Redeem(customer, "ten-pct", "k").ok());
  Result<RedeemResult> other = service_->Redeem(customer, "five-off", "k");
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(other.status().message().find("already used for reward 'ten-pct'"), std::string::npos);
  EXPECT_EQ(Balance(customer), 900);
}

TEST_F(RedemptionServiceTest, InsufficientPointsChangeNothingAndSayWhatIsMissing) {
  const int64_t customer = CustomerWith(400);
  Result<RedeemResult> r = service_->Redeem(customer, "five-off", "k");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(r.status().message(),
            "not enough points: reward 'five-off' costs 500 points and the balance is 400");
  EXPECT_EQ(Balance(customer), 400);
  auto redemptions = storage_->ListRedemptions(customer, 0, 10);
  ASSERT_TRUE(redemptions.ok());
  EXPECT_TRUE(redemptions->empty());
  EXPECT_EQ(queued_, 0);
  // The key was not consumed: once the customer has the points, it works.
  const int64_t more = CustomerWith(100);  // same customer, another order
  ASSERT_EQ(more, customer);
  EXPECT_TRUE(service_->Redeem(customer, "five-off", "k").ok());
  EXPECT_EQ(Balance(customer), 0);
}

TEST_F(RedemptionServiceTest, ConcurrentRedemptionsNeverTakeTheBalanceBelowZero) {
  const int64_t customer = CustomerWith(1000);
  std::atomic<int> created{0}, refused{0}, other{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&, i] {
      Result<RedeemResult> r = service_->Redeem(customer, "ten-pct", "k-" + std::to_string(i));
      if (r.ok()) {
        ++created;
      } else if (r.status().code() == StatusCode::kFailedPrecondition) {
        ++refused;
      } else {
        ++other;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(created.load(), 3);  // 3 * 300 <= 1000 < 4 * 300
  EXPECT_EQ(refused.load(), 13);
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(Balance(customer), 100);
  auto ledger = storage_->ListLedger(customer, 0, 100);
  ASSERT_TRUE(ledger.ok());
  int64_t sum = 0;
  for (const LedgerEntryRecord& e : *ledger) sum += e.points;
  EXPECT_EQ(sum, 100);  // the ledger adds up to the balance
}

TEST_F(RedemptionServiceTest, RefusalsSayWhatToDo) {
  const int64_t customer = CustomerWith(5000);
  Result<RedeemResult> unknown = service_->Redeem(customer, "nope", "k1");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.status().message().find("rewards: five-off, ten-pct, credit"),
            std::string::npos);

  Result<RedeemResult> no_customer = service_->Redeem(999, "five-off", "k2");
  EXPECT_EQ(no_customer.status().code(), StatusCode::kNotFound);

  Result<RedeemResult> bad_key = service_->Redeem(customer, "five-off", "has space");
  EXPECT_EQ(bad_key.status().code(), StatusCode::kInvalidArgument);

  const int64_t elsewhere = CustomerWith(5000, "8001", "noapi");
  Result<RedeemResult> no_api = service_->Redeem(elsewhere, "five-off", "k3");
  ASSERT_FALSE(no_api.ok());
  EXPECT_EQ(no_api.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(no_api.status().message().find("shops[].api"), std::string::npos);
  EXPECT_EQ(Balance(customer), 5000);
  EXPECT_EQ(Balance(elsewhere), 5000);
}

TEST_F(RedemptionServiceTest, GeneratedCodesArePrefixedUnambiguousAndDistinct) {
  std::set<std::string> codes;
  for (int i = 0; i < 2000; ++i) {
    const std::string code = RedemptionService::GenerateCode("LOYAL-");
    ASSERT_EQ(code.size(), 16u);
    ASSERT_EQ(code.rfind("LOYAL-", 0), 0u);
    for (char c : code.substr(6)) {
      ASSERT_NE(std::string_view("ABCDEFGHJKMNPQRSTUVWXYZ23456789").find(c), std::string::npos)
          << code;
    }
    codes.insert(code);
  }
  EXPECT_EQ(codes.size(), 2000u);
}

// --- Payouts of store credit (cashback) ---

class CreditPayoutTest : public RedemptionServiceTest {
 protected:
  // A customer of `shop` with `credit_minor` of store credit, earned through the event path.
  int64_t CustomerWithCredit(int64_t credit_minor, const std::string& platform_id = "7001",
                             const std::string& shop = "main") {
    const std::string key = "credit-" + shop + "-" + platform_id + "-" + std::to_string(++orders_);
    EXPECT_TRUE(
        storage_->AppendToInbox({{shop, "shopify", "orders/paid", key, key, "{}", 1}}).ok());
    auto pending = storage_->LoadPendingEvents(0, 100);
    EXPECT_TRUE(pending.ok());
    EventOutcome o;
    o.event_id = pending->back().id;
    o.reason = "paid";
    o.customer = CustomerIdentity{shop,  platform_id, "ada@example.com", "ada@example.com",
                                  "Ada", "Lovelace"};
    o.order = OrderRecord{shop, "order-" + key, "#1", "USD", 10000, 10000, true, ""};
    o.credits.push_back(CreditChange{"cashback", "earn", credit_minor, "USD", "cashback"});
    EXPECT_TRUE(storage_->CommitEventOutcomes({o}, clock_.NowMillis()).ok());
    auto found = storage_->FindCustomersByEmail("ada@example.com");
    for (const CustomerRecord& c : *found) {
      if (c.platform_customer_id == platform_id && c.shop_id == shop) return c.id;
    }
    ADD_FAILURE() << "customer not created";
    return 0;
  }
  int64_t Credit(int64_t customer_id) {
    auto c = storage_->GetCustomer(customer_id);
    EXPECT_TRUE(c.ok() && c->has_value());
    return (*c)->credit_balance_minor;
  }
  int orders_ = 0;
};

TEST_F(CreditPayoutTest, PayoutDebitsTheCreditAndQueuesAStoreCreditJob) {
  const int64_t customer = CustomerWithCredit(2000);
  Result<PayoutResult> r = service_->PayOutCredit(customer, "12.50", "payout-1");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->outcome, PayoutResult::Outcome::kCreated);
  EXPECT_EQ(r->credit_balance_minor, 750);
  EXPECT_EQ(Credit(customer), 750);
  EXPECT_EQ(queued_, 1);
  EXPECT_EQ(r->payout.reward_kind, "store_credit");
  EXPECT_EQ(r->payout.reward_name, "Store credit payout of 12.50 USD");
  EXPECT_EQ(r->payout.value_minor, 1250);
  EXPECT_EQ(r->payout.points, 0);
  EXPECT_EQ(r->payout.paid_with, "credit");
  EXPECT_EQ(Balance(customer), 0);  // points untouched (there were none)

  // The same request again replays it; the key for another amount or a reward is refused.
  Result<PayoutResult> again = service_->PayOutCredit(customer, "12.50", "payout-1");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->outcome, PayoutResult::Outcome::kReplayed);
  EXPECT_EQ(again->payout.id, r->payout.id);
  Result<PayoutResult> other_amount = service_->PayOutCredit(customer, "1.00", "payout-1");
  ASSERT_FALSE(other_amount.ok());
  EXPECT_EQ(other_amount.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(other_amount.status().message().find("already used for a payout of 12.50 USD"),
            std::string::npos)
      << other_amount.status().message();
  Result<RedeemResult> as_reward = service_->Redeem(customer, "ten-pct", "payout-1");
  ASSERT_FALSE(as_reward.ok());
  EXPECT_EQ(as_reward.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Credit(customer), 750);
  EXPECT_EQ(queued_, 1);
  EXPECT_EQ(storage_->ListJobs(std::nullopt, 0, 10)->size(), 1u);
}

TEST_F(CreditPayoutTest, AKeyUsedForARewardIsNotAPayout) {
  const int64_t customer = CustomerWith(1000);
  ASSERT_TRUE(service_->Redeem(customer, "ten-pct", "k").ok());
  CustomerWithCredit(500);  // the same customer (platform id 7001) earns credit
  Result<PayoutResult> r = service_->PayOutCredit(customer, "1.00", "k");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("already used for reward 'ten-pct'"), std::string::npos);
  EXPECT_EQ(Credit(customer), 500);
}

TEST_F(CreditPayoutTest, RefusalsChangeNothingAndSayWhy) {
  const int64_t customer = CustomerWithCredit(1000);
  Result<PayoutResult> too_much = service_->PayOutCredit(customer, "10.01", "k1");
  ASSERT_TRUE(too_much.ok());
  EXPECT_EQ(too_much->outcome, PayoutResult::Outcome::kInsufficientCredit);
  EXPECT_EQ(too_much->credit_balance_minor, 1000);

  for (const char* amount : {"0", "0.00", "-1.00", "1.005", "abc", "", "1e3"}) {
    Result<PayoutResult> bad = service_->PayOutCredit(customer, amount, "k2");
    ASSERT_FALSE(bad.ok()) << amount;
    EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument) << amount;
  }
  EXPECT_EQ(service_->PayOutCredit(customer, "1.00", "has space").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(service_->PayOutCredit(999, "1.00", "k3").status().code(), StatusCode::kNotFound);

  const int64_t guest = CustomerWithCredit(1000, "");
  Result<PayoutResult> guest_payout = service_->PayOutCredit(guest, "1.00", "k4");
  ASSERT_FALSE(guest_payout.ok());
  EXPECT_EQ(guest_payout.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(guest_payout.status().message().find("guest"), std::string::npos);

  const int64_t elsewhere = CustomerWithCredit(1000, "8001", "noapi");
  Result<PayoutResult> no_api = service_->PayOutCredit(elsewhere, "1.00", "k5");
  ASSERT_FALSE(no_api.ok());
  EXPECT_EQ(no_api.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(no_api.status().message().find("shops[].api"), std::string::npos);

  EXPECT_EQ(Credit(customer), 1000);
  EXPECT_EQ(Credit(guest), 1000);
  EXPECT_EQ(Credit(elsewhere), 1000);
  EXPECT_EQ(queued_, 0);
}

}  // namespace
}  // namespace loyaltyd::redemption_service_test
