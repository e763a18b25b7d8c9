// OrderReconciler with a real SQLite inbox and ledger, the real event processor and the real
// ShopifyOrderSource against the fake Admin GraphQL server: what is fed, what is already seen,
// that nothing is awarded twice, and how rate limits and a store gone mid-run are handled.
#include "webhooks/order_reconciler.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "connectors/shopify/shopify_normaliser.h"
#include "connectors/shopify/shopify_order_source.h"
#include "connectors/shopify/shopify_samples.h"
#include "fakes/fake_shopify_admin.h"
#include "ledger/ledger.h"
#include "storage/sqlite_storage.h"
#include "support/temp_dir.h"
#include "webhooks/event_processor.h"

namespace loyaltyd::order_reconciler_test {
namespace {

using fakes::FakeFault;
using fakes::FakeShopifyAdmin;
using fakes::FakeShopifyOrder;

constexpr int64_t kNow = 1'767'261'600'000;  // 2026-01-01T10:00:00Z
constexpr int64_t kSince = kNow - 3'600'000;

class FixedClock final : public Clock {
 public:
  int64_t NowMillis() const override { return kNow; }
};

// Passes every call to the real source; before the listing numbered `fail_at` (1-based) it
// stops the fake store, as a store that goes away in the middle of a run.
class StoreGoesAway final : public OrderSource {
 public:
  StoreGoesAway(OrderSource& inner, FakeShopifyAdmin& store, int fail_at)
      : inner_(inner), store_(store), fail_at_(fail_at) {}
  OrderPage ListOrders(int64_t since_ms, const std::string& cursor) override {
    if (++listings_ == fail_at_) store_.Stop();
    return inner_.ListOrders(since_ms, cursor);
  }
  OrderBody FetchOrderBody(const PlatformOrder& order) override {
    return inner_.FetchOrderBody(order);
  }

 private:
  OrderSource& inner_;
  FakeShopifyAdmin& store_;
  const int fail_at_;
  int listings_ = 0;
};

class OrderReconcilerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = SqliteStorage::Open(dir_.File("loyaltyd.db"));
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    storage_ = std::move(opened).value();
    StartStore(0);
    config_.program.currency = "USD";
    config_.program.earn.push_back(EarnRule{"spend", EarnRuleType::kSpend, 1, 100});
    ledger_ = std::make_unique<Ledger>(config_, *storage_, clock_);
    processor_ = std::make_unique<EventProcessor>(
        config_, *storage_, *ledger_,
        std::map<std::string, const Normaliser*>{{"shopify", &normaliser_}});
  }

  void StartStore(int port) {
    store_ = std::make_unique<FakeShopifyAdmin>();
    ASSERT_TRUE(store_->Start(port));
    config_.shops.clear();
    ShopConfig shop;
    shop.id = "main";
    shop.domain = "main.myshopify.com";
    shop.webhook_secret = "secret-main";
    shop.api.configured = true;
    shop.api.base_url = store_->base_url();
    shop.api.access_token = store_->options().access_token;
    shop.api.timeout_seconds = 2;
    config_.shops.push_back(shop);
    source_ = std::make_unique<ShopifyOrderSource>(config_.shops[0]);
  }

  ReconcileReport Run(OrderSource* source = nullptr) {
    OrderReconciler reconciler(
        *storage_, clock_,
        [this](NewInboxEvent event) -> Result<InboxAppendOutcome> {
          Result<std::vector<InboxAppendOutcome>> stored = storage_->AppendToInbox({event});
          if (!stored.ok()) return stored.status();
          return stored->at(0);
        },
        [this](int64_t ms) {
          waits_.push_back(ms);  // recorded; slept only where the store's bucket must refill
          if (sleep_for_real_) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
          return true;
        });
    return reconciler.Run(config_, config_.shops[0], source ? *source : *source_, kSince);
  }

  size_t Process() {
    Result<size_t> n = processor_->ProcessPending();
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    return n.ok() ? *n : 0;
  }

  int64_t Balance(const std::string& email) {
    auto found = storage_->FindCustomersByEmail(email);
    EXPECT_TRUE(found.ok());
    return found->size() == 1 ? (*found)[0].points_balance : -1;
  }

  static FakeShopifyOrder Paid(uint64_t id, const std::string& email, const std::string& amount) {
    FakeShopifyOrder o;
    o.id = id;
    o.customer_id = 7000 + id % 1000;
    o.email = email;
    o.subtotal = amount;
    o.updated_at_ms = kSince + 60'000 + static_cast<int64_t>(id % 1000) * 1000;
    return o;
  }

  // Stores and processes the orders/paid webhook of `o` as a delivery would.
  void DeliverWebhook(const FakeShopifyOrder& o, const std::string& event_id) {
    ShopifySampleOptions options;
    options.order_id = o.id;
    options.customer_id = o.customer_id;
    options.email = o.email;
    options.subtotal = o.subtotal;
    Result<std::string> body = ShopifySampleBody("orders/paid", options);
    ASSERT_TRUE(body.ok());
    const std::string key = "shopify|main|orders/paid|" + event_id;
    ASSERT_TRUE(storage_
                    ->AppendToInbox({NewInboxEvent{"main", "shopify", "orders/paid", key, event_id,
                                                   *body, kNow}})
                    .ok());
    Process();
  }

  testing::TempDir dir_;
  FixedClock clock_;
  std::unique_ptr<SqliteStorage> storage_;
  std::unique_ptr<FakeShopifyAdmin> store_;
  Config config_;
  ShopifyNormaliser normaliser_;
  std::unique_ptr<Ledger> ledger_;
  std::unique_ptr<EventProcessor> processor_;
  std::unique_ptr<ShopifyOrderSource> source_;
  std::vector<int64_t> waits_;
  bool sleep_for_real_ = false;
};

TEST_F(OrderReconcilerTest, FeedsMissedOrdersOnceAndASecondRunChangesNothing) {
  store_->AddOrder(Paid(1, "ann@example.com", "30.00"));
  store_->AddOrder(Paid(2, "bob@example.com", "12.00"));
  ReconcileReport first = Run();
  EXPECT_TRUE(first.complete) << first.status.ToString();
  EXPECT_EQ(first.orders_listed, 2);
  EXPECT_EQ(first.fed, 2);
  EXPECT_EQ(first.already_seen, 0);
  // Before processing, a second run finds the states in the inbox already: nothing fed.
  ReconcileReport again = Run();
  EXPECT_EQ(again.fed, 0);
  EXPECT_EQ(again.already_seen, 2);
  EXPECT_EQ(Process(), 2u);
  EXPECT_EQ(Balance("ann@example.com"), 30);
  EXPECT_EQ(Balance("bob@example.com"), 12);
  // After processing, the ledger itself reflects them: not even fetched.
  const int requests = store_->graphql_requests();
  ReconcileReport third = Run();
  EXPECT_EQ(third.fed, 0);
  EXPECT_EQ(third.already_seen, 2);
  EXPECT_EQ(store_->graphql_requests(), requests + 1);  // the listing alone
  EXPECT_EQ(Process(), 0u);
  auto counts = storage_->CountInbox();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->processed, 2);
}

TEST_F(OrderReconcilerTest, AnOrderWhoseWebhookArrivedIsAlreadySeen) {
  const FakeShopifyOrder o = Paid(3, "cy@example.com", "25.00");
  store_->AddOrder(o);
  DeliverWebhook(o, "evt-3");
  ReconcileReport report = Run();
  EXPECT_EQ(report.fed, 0);
  EXPECT_EQ(report.already_seen, 1);
  EXPECT_EQ(Balance("cy@example.com"), 25);
}

TEST_F(OrderReconcilerTest, AReconciledOrderAndItsLateWebhookAwardOnce) {
  const FakeShopifyOrder o = Paid(4, "di@example.com", "40.00");
  store_->AddOrder(o);
  EXPECT_EQ(Run().fed, 1);
  EXPECT_EQ(Process(), 1u);
  EXPECT_EQ(Balance("di@example.com"), 40);
  // Shopify's retry of the original delivery finally gets through: processed, earns nothing.
  DeliverWebhook(o, "evt-4");
  EXPECT_EQ(Balance("di@example.com"), 40);
  auto ledger =
      storage_->ListLedger(storage_->FindCustomersByEmail("di@example.com")->at(0).id, 0, 10);
  ASSERT_TRUE(ledger.ok());
  EXPECT_EQ(ledger->size(), 1u);
}

TEST_F(OrderReconcilerTest, ANewStateOfAKnownOrderIsFedAgainAndTakesBackItsRefund) {
  FakeShopifyOrder o = Paid(5, "eve@example.com", "50.00");
  store_->AddOrder(o);
  DeliverWebhook(o, "evt-5");
  EXPECT_EQ(Balance("eve@example.com"), 50);
  // A refund of 20.00 whose refunds/create webhook was missed.
  o.financial_status = "PARTIALLY_REFUNDED";
  o.refunds = {{9001, "20.00"}};
  o.updated_at_ms += 60'000;
  store_->AddOrder(o);
  ReconcileReport report = Run();
  EXPECT_EQ(report.fed, 1);
  EXPECT_EQ(Process(), 1u);
  EXPECT_EQ(Balance("eve@example.com"), 30);
  EXPECT_EQ(Run().fed, 0);
  // Then cancelled, its orders/cancelled missed too: the rest goes back.
  o.cancelled = true;
  o.financial_status = "REFUNDED";
  o.updated_at_ms += 60'000;
  store_->AddOrder(o);
  ReconcileReport cancelled = Run();
  EXPECT_EQ(cancelled.fed, 1);
  EXPECT_EQ(Process(), 1u);
  EXPECT_EQ(Balance("eve@example.com"), 0);
  EXPECT_EQ(Run().fed, 0);
}

TEST_F(OrderReconcilerTest, ThrottlingAndRateLimitsAreWaitedOutAsThePlatformSays) {
  store_->AddOrder(Paid(6, "fay@example.com", "10.00"));
  // An empty cost bucket: THROTTLED until it refills (about a second at 50 points/s).
  store_->SetCurrentlyAvailable(0);
  sleep_for_real_ = true;
  ReconcileReport throttled = Run();
  EXPECT_TRUE(throttled.complete) << throttled.status.ToString();
  EXPECT_EQ(throttled.fed, 1);
  ASSERT_FALSE(waits_.empty());
  EXPECT_GT(waits_[0], 0);  // from extensions.cost, not a guess
  EXPECT_LE(waits_[0], 1100);

  // A 429 with Retry-After: 2 is waited out for 2 s (recorded here, not slept).
  sleep_for_real_ = false;
  waits_.clear();
  store_->SetCurrentlyAvailable(1000);  // a full bucket: only the 429 is in the way
  store_->AddOrder(Paid(16, "fay@example.com", "5.00"));
  store_->InjectFault(FakeFault::kHttp429, 1, 2);
  ReconcileReport limited = Run();
  EXPECT_TRUE(limited.complete) << limited.status.ToString();
  EXPECT_EQ(limited.fed, 1);
  EXPECT_EQ(waits_, std::vector<int64_t>{2000});
}

TEST_F(OrderReconcilerTest, AStoreGoneMidRunReportsHowFarItGotAndTheNextRunResumes) {
  auto seed = [this] {
    for (uint64_t id = 100; id < 160; ++id) {
      FakeShopifyOrder o = Paid(id, "g@example.com", "1.00");
      o.customer_id = 7777;  // one customer
      store_->AddOrder(o);
    }
  };
  seed();
  const int port = store_->port();
  StoreGoesAway flaky(*source_, *store_, /*fail_at=*/2);
  ReconcileReport report = Run(&flaky);
  EXPECT_FALSE(report.complete);
  EXPECT_EQ(report.status.code(), StatusCode::kUnavailable);
  EXPECT_EQ(report.pages, 1);
  EXPECT_EQ(report.fed, 50);  // the first page, kept
  EXPECT_EQ(waits_.size(), static_cast<size_t>(OrderReconciler::kMaxAttempts - 1));

  // The store is back (same address): the next run feeds the rest, the first 50 are seen.
  StartStore(port);
  seed();
  ReconcileReport resumed = Run();
  EXPECT_TRUE(resumed.complete) << resumed.status.ToString();
  EXPECT_EQ(resumed.fed, 10);
  EXPECT_EQ(resumed.already_seen, 50);
  EXPECT_EQ(Process(), 60u);
  EXPECT_EQ(Balance("g@example.com"), 60);
}

TEST_F(OrderReconcilerTest, AWrongTokenStopsTheRunAtOnceWithShopifysError) {
  store_->AddOrder(Paid(7, "hal@example.com", "10.00"));
  config_.shops[0].api.access_token = "shpat_wrong";
  source_ = std::make_unique<ShopifyOrderSource>(config_.shops[0]);
  ReconcileReport report = Run();
  EXPECT_FALSE(report.complete);
  EXPECT_EQ(report.status.code(), StatusCode::kUnauthenticated);
  EXPECT_NE(report.error_detail.find("Invalid API key"), std::string::npos);
  EXPECT_TRUE(waits_.empty());
  EXPECT_EQ(report.fed, 0);
}

TEST_F(OrderReconcilerTest, AnOrderTooBigIsReportedAndTheOthersAreFed) {
  FakeShopifyOrder big = Paid(8, "ida@example.com", "10.00");
  big.more_line_items = true;
  store_->AddOrder(big);
  store_->AddOrder(Paid(9, "jo@example.com", "10.00"));
  ReconcileReport report = Run();
  EXPECT_TRUE(report.complete);
  EXPECT_EQ(report.fed, 1);
  EXPECT_EQ(report.skipped, 1);
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_NE(report.problems[0].find("order 8"), std::string::npos);
}

TEST(OrderReconcilerStateTest, TheLedgerReflectsAStateOnlyWithEverythingItImplies) {
  OrderLedgerFacts ledger;
  OrderState state;
  state.paid = true;
  EXPECT_FALSE(OrderReconciler::LedgerReflects(ledger, state, AwardOn::kPaid));  // unknown
  ledger.known = true;
  EXPECT_FALSE(OrderReconciler::LedgerReflects(ledger, state, AwardOn::kPaid));  // not paid
  ledger.paid = true;
  EXPECT_TRUE(OrderReconciler::LedgerReflects(ledger, state, AwardOn::kPaid));
  state.refund_ids = {"r1"};
  EXPECT_FALSE(OrderReconciler::LedgerReflects(ledger, state, AwardOn::kPaid));
  ledger.refund_keys.insert("r1");
  EXPECT_TRUE(OrderReconciler::LedgerReflects(ledger, state, AwardOn::kPaid));
  state.cancelled = true;
  EXPECT_FALSE(OrderReconciler::LedgerReflects(ledger, state, AwardOn::kPaid));
  ledger.refund_keys.insert("full");
  EXPECT_TRUE(OrderReconciler::LedgerReflects(ledger, state, AwardOn::kPaid));
  // Under award.on "fulfilled" a fulfilled order must have earned.
  OrderState fulfilled;
  fulfilled.paid = fulfilled.fulfilled = true;
  OrderLedgerFacts paid_only{true, true, false, {}};
  EXPECT_FALSE(OrderReconciler::LedgerReflects(paid_only, fulfilled, AwardOn::kFulfilled));
  paid_only.earned = true;
  EXPECT_TRUE(OrderReconciler::LedgerReflects(paid_only, fulfilled, AwardOn::kFulfilled));
}

}  // namespace
}  // namespace loyaltyd::order_reconciler_test
