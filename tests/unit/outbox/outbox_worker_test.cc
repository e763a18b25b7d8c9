#include "outbox/outbox_worker.h"

#include <gtest/gtest.h>

#include <atomic>
#include <deque>

#include "connectors/shopify/shopify_admin_client.h"
#include "fakes/fake_shopify_admin.h"
#include "ledger/config_tier_policy.h"
#include "rewards/redemption_service.h"
#include "storage/sqlite_storage.h"
#include "support/temp_dir.h"

namespace loyaltyd::outbox_worker_test {
namespace {

class SteppedClock final : public Clock {
 public:
  int64_t NowMillis() const override { return now_ms.load(); }
  std::atomic<int64_t> now_ms{1'790'000'000'000};
};

// A RewardClient that answers from a script and records what it was asked. The HTTP side of
// each platform is tested against the fake stores (tests/fakes); this tests the worker's
// decisions, which depend only on the outcome classes.
class ScriptedClient final : public RewardClient {
 public:
  PlatformResponse CreateReward(const RewardRequest& request) override {
    created.push_back(request);
    return Next(create_script);
  }
  PlatformResponse FindReward(const RewardRequest& request) override {
    found.push_back(request);
    return Next(find_script);
  }
  PlatformResponse UpdateCustomerTags(const CustomerTagsRequest&) override {
    return {Internal("not used"), 0, "", "", ""};
  }

  std::deque<PlatformResponse> create_script;
  std::deque<PlatformResponse> find_script;
  std::vector<RewardRequest> created;
  std::vector<RewardRequest> found;

 private:
  static PlatformResponse Next(std::deque<PlatformResponse>& script) {
    if (script.empty()) return {Internal("script exhausted"), 0, "", "", ""};
    PlatformResponse r = script.front();
    script.pop_front();
    return r;
  }
};

PlatformResponse Ok(const std::string& id) { return {Status::Ok(), 0, id, "", ""}; }
PlatformResponse NotThere() { return {Status::Ok(), 0, "", "", ""}; }
PlatformResponse Transient(int64_t retry_after_ms = 0) {
  return {Unavailable("HTTP 503"), retry_after_ms, "", "", "503 Service Unavailable"};
}
PlatformResponse Rejected(const std::string& why) {
  return {FailedPrecondition("userErrors"), 0, "", "", why};
}

Config TestConfig() {
  ConfigLoadResult loaded = ParseConfig(R"({
    "admin": {"token": "0123456789abcdef0123"},
    "shops": [{"id": "main", "platform": "shopify", "domain": "main.myshopify.com",
               "webhook_secret": "secret-main-123",
               "api": {"access_token": "shpat_x", "timeout_seconds": 2}}],
    "program": {"currency": "USD", "earn": [{"type": "spend", "points": 1, "per": "1.00"}],
      "rewards": [{"id": "five-off", "name": "$5 off", "points": 500, "kind": "fixed_discount",
                   "amount": "5.00"},
                  {"id": "credit", "name": "$10 credit", "points": 1000, "kind": "store_credit",
                   "amount": "10.00"}]},
    "outbox": {"max_attempts": 3, "initial_backoff_ms": 1000, "max_backoff_ms": 60000}
  })");
  EXPECT_TRUE(loaded.ok()) << (loaded.problems.empty() ? "" : loaded.problems[0].ToString());
  return loaded.config;
}

class OutboxWorkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = SqliteStorage::Open(dir_.File("loyaltyd.db"));
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    storage_ = std::move(opened).value();
    worker_ = std::make_unique<OutboxWorker>(
        config_, *storage_, clock_, std::map<std::string, RewardClient*>{{"main", &client_}});
    service_ = std::make_unique<RedemptionService>(
        config_, *storage_, clock_, [](const std::string&) { return true; }, [] {});
    // A customer with 1500 points.
    ASSERT_TRUE(
        storage_->AppendToInbox({{"main", "shopify", "orders/paid", "e1", "d1", "{}", 1}}).ok());
    auto pending = storage_->LoadPendingEvents(0, 10);
    ASSERT_TRUE(pending.ok());
    EventOutcome o;
    o.event_id = pending->front().id;
    o.reason = "paid";
    o.customer = CustomerIdentity{"main", "7001", "ada@example.com", "ada@example.com", "Ada", ""};
    o.order = OrderRecord{"main", "o1", "#1", "USD", 150000, 150000, true, ""};
    o.points.push_back(PointsChange{"spend", "earn", 1500, "earned"});
    ASSERT_TRUE(storage_->CommitEventOutcomes({o}, clock_.NowMillis()).ok());
    customer_ = (*storage_->FindCustomersByEmail("ada@example.com"))[0].id;
  }

  RedemptionRecord Redeem(const std::string& reward = "five-off") {
    Result<RedeemResult> r = service_->Redeem(customer_, reward, "key-" + reward);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r->redemption;
  }
  RedemptionRecord Reload(int64_t id) { return **storage_->GetRedemption(id); }
  OutboxJob OnlyJob() {
    auto jobs = storage_->ListJobs(std::nullopt, 0, 10);
    EXPECT_TRUE(jobs.ok());
    EXPECT_EQ(jobs->size(), 1u);
    return jobs->front();
  }
  int64_t Balance() { return (**storage_->GetCustomer(customer_)).points_balance; }
  int RunOnce() {
    Result<int> n = worker_->RunOnce();
    EXPECT_TRUE(n.ok());
    return n.ok() ? *n : -1;
  }

  testing::TempDir dir_;
  Config config_ = TestConfig();
  SteppedClock clock_;
  ScriptedClient client_;
  std::unique_ptr<SqliteStorage> storage_;
  std::unique_ptr<OutboxWorker> worker_;
  std::unique_ptr<RedemptionService> service_;
  int64_t customer_ = 0;
};

TEST_F(OutboxWorkerTest, SuccessIssuesTheRedemptionWithTheRequestedTerms) {
  const RedemptionRecord r = Redeem();
  client_.create_script.push_back(Ok("gid://shopify/DiscountCodeNode/42"));
  EXPECT_EQ(RunOnce(), 1);

  ASSERT_EQ(client_.created.size(), 1u);
  const RewardRequest& sent = client_.created[0];
  EXPECT_EQ(sent.kind, RewardKind::kFixedDiscount);
  EXPECT_EQ(sent.code, r.code);
  EXPECT_EQ(sent.idempotency_key, "main:code:" + r.code);
  EXPECT_EQ(sent.amount_minor, 500);
  EXPECT_EQ(sent.currency, "USD");
  EXPECT_EQ(sent.customer_platform_id, "7001");
  EXPECT_EQ(sent.customer_email, "ada@example.com");
  EXPECT_TRUE(sent.restrict_to_customer);
  EXPECT_TRUE(client_.found.empty()) << "a first attempt has nothing to look for";

  const RedemptionRecord issued = Reload(r.id);
  EXPECT_EQ(issued.status, RedemptionStatus::kIssued);
  EXPECT_EQ(issued.platform_reward_id, "gid://shopify/DiscountCodeNode/42");
  EXPECT_EQ(issued.code, r.code);
  EXPECT_EQ(OnlyJob().status, JobStatus::kDone);
  EXPECT_EQ(OnlyJob().attempts, 1);
  EXPECT_EQ(Balance(), 1000);
  EXPECT_EQ(RunOnce(), 0) << "a done job is not sent again";
}

TEST_F(OutboxWorkerTest, PermanentRejectionReturnsThePointsWithTheReason) {
  const RedemptionRecord r = Redeem();
  client_.create_script.push_back(Rejected("Code must be unique. Please try a different code."));
  EXPECT_EQ(RunOnce(), 1);

  const RedemptionRecord failed = Reload(r.id);
  EXPECT_EQ(failed.status, RedemptionStatus::kFailed);
  EXPECT_EQ(failed.failure_reason, "Code must be unique. Please try a different code.");
  EXPECT_EQ(OnlyJob().status, JobStatus::kFailed);
  EXPECT_EQ(Balance(), 1500);
  auto ledger = storage_->ListLedger(customer_, 0, 10);
  ASSERT_TRUE(ledger.ok());
  ASSERT_EQ(ledger->size(), 3u);
  EXPECT_EQ((*ledger)[0].kind, "refund");
  EXPECT_EQ((*ledger)[0].points, 500);
  EXPECT_EQ((*ledger)[0].balance_after, 1500);
  EXPECT_EQ((*ledger)[0].redemption_id, r.id);
  EXPECT_NE((*ledger)[0].description.find("Code must be unique"), std::string::npos);

  // Settling twice (a crash after the commit, say) refunds once.
  EXPECT_TRUE(storage_->FailRewardJob(OnlyJob().id, "again", clock_.NowMillis()).ok());
  EXPECT_EQ(Balance(), 1500);
  // And a refunded job cannot be retried into a second reward.
  Status retry = storage_->RetryJob(OnlyJob().id, clock_.NowMillis());
  EXPECT_EQ(retry.code(), StatusCode::kFailedPrecondition);
}

TEST_F(OutboxWorkerTest, TransientFailuresBackOffThenLookBeforeCreatingAgain) {
  const RedemptionRecord r = Redeem();
  client_.create_script.push_back(Transient(/*retry_after_ms=*/7000));
  EXPECT_EQ(RunOnce(), 1);
  OutboxJob job = OnlyJob();
  EXPECT_EQ(job.status, JobStatus::kPending);
  EXPECT_EQ(job.attempts, 1);
  EXPECT_GE(job.next_attempt_at_ms, clock_.NowMillis() + 7000) << "Retry-After is honoured";
  EXPECT_NE(job.last_error.find("503"), std::string::npos);
  EXPECT_EQ(RunOnce(), 0) << "not due yet";

  clock_.now_ms += 7001;
  // The first attempt may have created the code before failing: the worker asks first.
  client_.find_script.push_back(NotThere());
  client_.create_script.push_back(Ok("gid://shopify/DiscountCodeNode/43"));
  EXPECT_EQ(RunOnce(), 1);
  EXPECT_EQ(client_.found.size(), 1u);
  EXPECT_EQ(client_.found[0].code, r.code);
  EXPECT_EQ(client_.created.size(), 2u);
  EXPECT_EQ(Reload(r.id).status, RedemptionStatus::kIssued);
  EXPECT_EQ(OnlyJob().attempts, 2);
}

TEST_F(OutboxWorkerTest, ARewardFoundAfterAnUnknownOutcomeIsNotCreatedTwice) {
  const RedemptionRecord r = Redeem("credit");
  // A crash after the call went out and before its outcome was recorded: the attempt was
  // counted (durably, before the call), nothing else.
  const OutboxJob job = OnlyJob();
  Result<int> attempt =
      storage_->BeginJobAttempt(job.id, clock_.NowMillis() + 9000, clock_.NowMillis());
  ASSERT_TRUE(attempt.ok());
  EXPECT_EQ(RunOnce(), 0) << "leased";
  clock_.now_ms += 9000;

  client_.find_script.push_back(Ok("gid://shopify/StoreCreditAccountCreditTransaction/9"));
  EXPECT_EQ(RunOnce(), 1);
  EXPECT_TRUE(client_.created.empty()) << "store credit must not be paid twice";
  ASSERT_EQ(client_.found.size(), 1u);
  EXPECT_EQ(client_.found[0].kind, RewardKind::kStoreCredit);
  EXPECT_EQ(client_.found[0].idempotency_key, "main:credit:" + std::to_string(r.id));
  EXPECT_EQ(client_.found[0].amount_minor, 1000);
  const RedemptionRecord issued = Reload(r.id);
  EXPECT_EQ(issued.status, RedemptionStatus::kIssued);
  EXPECT_EQ(issued.platform_reward_id, "gid://shopify/StoreCreditAccountCreditTransaction/9");
  EXPECT_EQ(Balance(), 500);
}

TEST_F(OutboxWorkerTest, GivingUpKeepsThePointsAndARetryStartsAgain) {
  const RedemptionRecord r = Redeem();
  client_.create_script.push_back(Transient());
  client_.find_script = {Transient(), Transient()};  // cannot even tell whether it exists
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(RunOnce(), 1) << "attempt " << i + 1;
    clock_.now_ms += 120'000;  // past any back-off (max 60 s)
  }
  OutboxJob job = OnlyJob();
  EXPECT_EQ(job.status, JobStatus::kFailed);
  EXPECT_EQ(job.attempts, 3);
  EXPECT_EQ(Reload(r.id).status, RedemptionStatus::kPending) << "the reward may exist";
  EXPECT_EQ(Balance(), 1000) << "no refund while the outcome is unknown";
  auto failed = storage_->ListJobs(JobStatus::kFailed, 0, 10);
  ASSERT_TRUE(failed.ok());
  EXPECT_EQ(failed->size(), 1u);

  ASSERT_TRUE(storage_->RetryJob(job.id, clock_.NowMillis()).ok());
  client_.find_script.push_back(Ok("gid://shopify/DiscountCodeNode/44"));
  EXPECT_EQ(RunOnce(), 1);
  EXPECT_EQ(Reload(r.id).status, RedemptionStatus::kIssued);
  EXPECT_EQ(client_.created.size(), 1u) << "found, so not created again";
}

TEST_F(OutboxWorkerTest, AFindThatCannotAnswerIsNeverARefund) {
  const RedemptionRecord r = Redeem();
  client_.create_script.push_back(Transient());
  EXPECT_EQ(RunOnce(), 1);
  clock_.now_ms += 120'000;
  client_.find_script.push_back(Rejected("query failed"));
  EXPECT_EQ(RunOnce(), 1);
  EXPECT_EQ(Reload(r.id).status, RedemptionStatus::kPending);
  EXPECT_EQ(OnlyJob().status, JobStatus::kPending);
  EXPECT_EQ(Balance(), 1000);
}

// --- Reload (SIGHUP): each job uses the config current when it starts. ---

// Hands every call to the fixture's scripted client; the factory below builds one per config.
class ForwardingClient final : public RewardClient {
 public:
  explicit ForwardingClient(RewardClient& to) : to_(to) {}
  PlatformResponse CreateReward(const RewardRequest& r) override { return to_.CreateReward(r); }
  PlatformResponse FindReward(const RewardRequest& r) override { return to_.FindReward(r); }
  PlatformResponse UpdateCustomerTags(const CustomerTagsRequest& r) override {
    return to_.UpdateCustomerTags(r);
  }

 private:
  RewardClient& to_;
};

TEST_F(OutboxWorkerTest, AReloadRebuildsTheClientsAndAppliesItsRetrySettingsFromTheNextJob) {
  auto source = std::make_shared<ConfigSource>(config_);
  std::vector<std::string> built_with;  // the access token of each config clients were built for
  OutboxWorker worker(source, *storage_, clock_, [&](const Config& config) {
    built_with.push_back(config.shops[0].api.access_token);
    std::map<std::string, std::unique_ptr<RewardClient>> clients;
    clients.emplace("main", std::make_unique<ForwardingClient>(client_));
    return clients;
  });
  EXPECT_TRUE(worker.HasClientFor("main"));
  const RedemptionRecord r = Redeem();
  client_.create_script.push_back(Transient());
  Result<int> first = worker.RunOnce();
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first, 1);
  EXPECT_EQ(built_with, std::vector<std::string>{"shpat_x"}) << "one build per config";
  EXPECT_EQ(OnlyJob().status, JobStatus::kPending) << "attempt 1 of 3";

  Config rotated = config_;
  rotated.shops[0].api.access_token = "shpat_rotated";
  rotated.outbox.max_attempts = 2;
  source->Replace(std::make_shared<const Config>(rotated));
  clock_.now_ms += 3'600'000;
  client_.find_script.push_back(Transient());
  Result<int> second = worker.RunOnce();
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, 1);
  EXPECT_EQ((std::vector<std::string>{"shpat_x", "shpat_rotated"}), built_with);
  // Attempt 2 failed too: under the reloaded max_attempts of 2 the job is given up (it had 3).
  EXPECT_EQ(OnlyJob().status, JobStatus::kFailed);
  EXPECT_EQ(Reload(r.id).status, RedemptionStatus::kPending) << "the points stay";
}

TEST(OutboxBackoffTest, DoublesWithinBoundsAndHonoursRetryAfter) {
  // Equal jitter: between half and all of initial * 2^(attempts-1), capped.
  EXPECT_EQ(OutboxWorker::BackoffMs(1, 1000, 60000, 0, 0.0), 500);
  EXPECT_EQ(OutboxWorker::BackoffMs(1, 1000, 60000, 0, 0.999999), 999);
  EXPECT_EQ(OutboxWorker::BackoffMs(3, 1000, 60000, 0, 0.0), 2000);
  EXPECT_EQ(OutboxWorker::BackoffMs(40, 1000, 60000, 0, 0.0), 30000);
  EXPECT_LE(OutboxWorker::BackoffMs(40, 1000, 60000, 0, 0.999999), 60000);
  EXPECT_EQ(OutboxWorker::BackoffMs(1, 1000, 60000, 45000, 0.5), 45000);
}

// --- update_tags jobs (VIP tiers) against the fake Shopify Admin API ---

class TierTagJobTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fake_.Start());
    fake_.AddCustomer("7001", "ada@example.com");
    ConfigLoadResult loaded = ParseConfig(R"({
      "admin": {"token": "0123456789abcdef0123"},
      "shops": [{"id": "main", "platform": "shopify", "domain": "main.myshopify.com",
                 "webhook_secret": "secret-main-123",
                 "api": {"access_token": "shpat_fake_0123456789abcdef", "timeout_seconds": 2,
                         "base_url": ")" + fake_.base_url() +
                                          R"("}}],
      "program": {"currency": "USD", "earn": [{"type": "spend", "points": 1, "per": "1.00"}],
        "tiers": {"metric": "spend", "window": {"kind": "rolling", "days": 365},
                  "levels": [{"id": "silver", "threshold": "500.00", "tags": ["vip-silver"]},
                             {"id": "gold", "threshold": "1500.00", "tags": ["vip-gold"]}]}},
      "outbox": {"max_attempts": 3, "initial_backoff_ms": 1000, "max_backoff_ms": 60000}
    })");
    ASSERT_TRUE(loaded.ok()) << loaded.problems[0].ToString();
    config_ = std::move(loaded.config);
    policy_ = ConfigTierPolicy::FromConfig(config_);
    auto opened = SqliteStorage::Open(dir_.File("loyaltyd.db"));
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    storage_ = std::move(opened).value();
    client_ = std::make_unique<ShopifyAdminClient>(config_.shops[0], clock_);
    worker_ = std::make_unique<OutboxWorker>(
        config_, *storage_, clock_, std::map<std::string, RewardClient*>{{"main", client_.get()}});
  }

  void Paid(const std::string& order_id, int64_t eligible, int64_t at_ms, bool refund = false) {
    const std::string key = "e" + std::to_string(++events_);
    ASSERT_TRUE(
        storage_->AppendToInbox({{"main", "shopify", "orders/paid", key, key, "{}", 1}}).ok());
    EventOutcome o;
    o.event_id = storage_->LoadPendingEvents(0, 10)->back().id;
    o.reason = "paid";
    o.customer = CustomerIdentity{"main", "7001", "ada@example.com", "ada@example.com", "Ada", ""};
    o.order = OrderRecord{"main", order_id, "#" + order_id, "USD", eligible, eligible, !refund, ""};
    if (refund) {
      o.refunds.push_back(RefundRecord{"full", 0, 0, true});
    } else {
      o.points.push_back(PointsChange{"spend", "earn", eligible / 100, "earned"});
    }
    o.tiers = policy_;
    o.received_at_ms = at_ms;
    ASSERT_TRUE(storage_->CommitEventOutcomes({o}, clock_.NowMillis()).ok());
  }

  testing::TempDir dir_;
  fakes::FakeShopifyAdmin fake_;
  SteppedClock clock_;
  Config config_;
  std::shared_ptr<const TierPolicy> policy_;
  std::unique_ptr<SqliteStorage> storage_;
  std::unique_ptr<ShopifyAdminClient> client_;
  std::unique_ptr<OutboxWorker> worker_;
  int events_ = 0;
};

TEST_F(TierTagJobTest, TierChangesAddAndRemoveTagsInTheStore) {
  const int64_t t0 = clock_.NowMillis();
  Paid("1", 60000, t0);  // 600.00: Silver
  auto handled = worker_->RunOnce();
  ASSERT_TRUE(handled.ok());
  EXPECT_EQ(*handled, 1);
  {
    auto jobs = storage_->ListJobs(std::nullopt, 0, 10);
    ASSERT_TRUE(jobs.ok() && jobs->size() == 1u);
    EXPECT_EQ((*jobs)[0].status, JobStatus::kDone) << (*jobs)[0].last_error;
  }
  EXPECT_EQ(fake_.customer_tags("7001"), std::vector<std::string>{"vip-silver"});

  Paid("2", 100000, t0 + 1);  // 1600.00 in the window: Gold; Silver's tag goes
  ASSERT_TRUE(worker_->RunOnce().ok());
  EXPECT_EQ(fake_.customer_tags("7001"), std::vector<std::string>{"vip-gold"});

  // Both orders refunded; keep_for is 0, so the next evaluation ends the tier.
  Paid("1", 60000, t0 + 2, /*refund=*/true);
  Paid("2", 100000, t0 + 3, /*refund=*/true);
  ASSERT_TRUE(worker_->RunOnce().ok());
  EXPECT_TRUE(fake_.customer_tags("7001").empty());

  auto jobs = storage_->ListJobs(std::nullopt, 0, 10);
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ(jobs->size(), 4u);  // Silver, Gold, back to Silver, none
  for (const OutboxJob& job : *jobs) {
    EXPECT_EQ(job.kind, "update_tags");
    EXPECT_EQ(job.status, JobStatus::kDone) << job.last_error;
  }
}

TEST_F(TierTagJobTest, TransientTagFailureIsRetriedLater) {
  fake_.InjectFault(fakes::FakeFault::kHttp500, 10);
  Paid("1", 60000, clock_.NowMillis());
  ASSERT_TRUE(worker_->RunOnce().ok());
  auto job = storage_->ListJobs(std::nullopt, 0, 10);
  ASSERT_TRUE(job.ok() && job->size() == 1u);
  EXPECT_EQ((*job)[0].status, JobStatus::kPending);  // transient: retried after a back-off
  EXPECT_EQ((*job)[0].attempts, 1);
  EXPECT_FALSE((*job)[0].last_error.empty());
}

}  // namespace
}  // namespace loyaltyd::outbox_worker_test
