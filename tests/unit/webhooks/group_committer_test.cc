#include "webhooks/group_committer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "storage/sqlite_storage.h"
#include "support/temp_dir.h"

namespace loyaltyd::group_committer_test {
namespace {

// Wraps real storage: can hold the first commit until released, or fail every commit.
class GatedStorage final : public Storage {
 public:
  explicit GatedStorage(Storage& inner) : inner_(inner) {}

  Result<std::vector<InboxAppendOutcome>> AppendToInbox(
      const std::vector<NewInboxEvent>& batch) override {
    {
      std::unique_lock<std::mutex> lock(mu_);
      entered_++;
      entered_cv_.notify_all();
      cv_.wait(lock, [&] { return open_; });
      batch_sizes_.push_back(batch.size());
    }
    if (fail_) return Unavailable("disk full");
    return inner_.AppendToInbox(batch);
  }
  Result<std::vector<InboxEvent>> LoadPendingEvents(int64_t a, size_t l) override {
    return inner_.LoadPendingEvents(a, l);
  }
  Status CommitEventOutcomes(const std::vector<EventOutcome>& o, int64_t n) override {
    return inner_.CommitEventOutcomes(o, n);
  }
  Result<std::vector<CustomerRecord>> FindCustomersByEmail(const std::string& e) override {
    return inner_.FindCustomersByEmail(e);
  }
  Result<std::optional<CustomerRecord>> GetCustomer(int64_t id) override {
    return inner_.GetCustomer(id);
  }
  Result<std::vector<LedgerEntryRecord>> ListLedger(int64_t c, int64_t b, size_t l) override {
    return inner_.ListLedger(c, b, l);
  }
  Result<std::vector<InboxEvent>> ListEvents(std::optional<EventStatus> s, int64_t b,
                                             size_t l) override {
    return inner_.ListEvents(s, b, l);
  }
  Result<InboxCounts> CountInbox() override { return inner_.CountInbox(); }
  Result<CreateRedemptionResult> CreateRedemption(const NewRedemption& r, int64_t n) override {
    return inner_.CreateRedemption(r, n);
  }
  Result<std::optional<RedemptionRecord>> GetRedemption(int64_t id) override {
    return inner_.GetRedemption(id);
  }
  Result<std::vector<RedemptionRecord>> ListRedemptions(int64_t c, int64_t b, size_t l) override {
    return inner_.ListRedemptions(c, b, l);
  }
  Result<std::vector<OutboxJob>> LoadDueJobs(int64_t n, size_t l) override {
    return inner_.LoadDueJobs(n, l);
  }
  Result<int> BeginJobAttempt(int64_t j, int64_t u, int64_t n) override {
    return inner_.BeginJobAttempt(j, u, n);
  }
  Status RescheduleJob(int64_t j, int64_t a, const std::string& e, int64_t n) override {
    return inner_.RescheduleJob(j, a, e, n);
  }
  Status AbandonJob(int64_t j, const std::string& e, int64_t n) override {
    return inner_.AbandonJob(j, e, n);
  }
  Status CompleteRewardJob(int64_t j, const std::string& p, const std::string& c,
                           int64_t n) override {
    return inner_.CompleteRewardJob(j, p, c, n);
  }
  Status FailRewardJob(int64_t j, const std::string& r, int64_t n) override {
    return inner_.FailRewardJob(j, r, n);
  }
  Status RetryJob(int64_t j, int64_t n) override { return inner_.RetryJob(j, n); }
  Result<std::optional<OutboxJob>> GetJob(int64_t id) override { return inner_.GetJob(id); }
  Result<TierStanding> GetCustomerTier(int64_t c) override { return inner_.GetCustomerTier(c); }
  Result<TierFacts> LoadTierFacts(int64_t c, int64_t s, int64_t a) override {
    return inner_.LoadTierFacts(c, s, a);
  }
  Result<int64_t> ReevaluateTiers(const TierPolicy& p, int64_t n) override {
    return inner_.ReevaluateTiers(p, n);
  }
  Result<std::optional<TagUpdate>> GetTagUpdate(int64_t j) override {
    return inner_.GetTagUpdate(j);
  }
  Status CompleteTagJob(int64_t j, int64_t n) override { return inner_.CompleteTagJob(j, n); }
  Result<RecordActionResult> RecordAction(const NewActionRequest& a, int64_t n) override {
    return inner_.RecordAction(a, n);
  }
  Result<std::vector<OutboxJob>> ListJobs(std::optional<JobStatus> s, int64_t b,
                                          size_t l) override {
    return inner_.ListJobs(s, b, l);
  }
  // Point lots and pending awards: forwarded.
  void SetPointsPolicy(const PointsPolicy& p) override { inner_.SetPointsPolicy(p); }
  Result<ExpiryRunResult> ExpirePoints(int64_t n) override { return inner_.ExpirePoints(n); }
  Result<ReleaseRunResult> ReleasePendingPoints(int64_t n) override {
    return inner_.ReleasePendingPoints(n);
  }
  Result<std::vector<PointLotRecord>> ListLots(int64_t c, bool o, int64_t b, size_t l) override {
    return inner_.ListLots(c, o, b, l);
  }
  Result<std::vector<PendingAwardRecord>> ListPendingAwards(int64_t c, size_t l) override {
    return inner_.ListPendingAwards(c, l);
  }
  Result<PointsOutlook> GetPointsOutlook(int64_t c, int64_t h) override {
    return inner_.GetPointsOutlook(c, h);
  }
  Result<CreditPayoutResult> CreateCreditPayout(const NewCreditPayout& p, int64_t n) override {
    return inner_.CreateCreditPayout(p, n);
  }
  Result<std::vector<CreditEntryRecord>> ListCreditEntries(int64_t c, int64_t b,
                                                           size_t l) override {
    return inner_.ListCreditEntries(c, b, l);
  }
  Result<std::string> GetOrCreateReferralCode(int64_t c, int64_t n) override {
    return inner_.GetOrCreateReferralCode(c, n);
  }
  Result<std::optional<int64_t>> FindReferrerByCode(const std::string& code) override {
    return inner_.FindReferrerByCode(code);
  }
  Status RecordReferralClick(int64_t c, int64_t n) override {
    return inner_.RecordReferralClick(c, n);
  }
  Result<CreateReferralResult> CreateReferral(const NewReferral& r, const ReferralPolicy& p,
                                              int64_t n) override {
    return inner_.CreateReferral(r, p, n);
  }
  Result<std::vector<ReferralRecord>> ListReferrals(int64_t c, int64_t b, size_t l) override {
    return inner_.ListReferrals(c, b, l);
  }
  Result<std::optional<ReferralRecord>> GetReferral(int64_t id) override {
    return inner_.GetReferral(id);
  }
  Result<std::vector<ReferralReportRow>> ReferralReport() override {
    return inner_.ReferralReport();
  }
  Result<ReferralRunResult> ReleaseReferralRewards(const ReferralPolicy& p, int64_t n) override {
    return inner_.ReleaseReferralRewards(p, n);
  }
  Result<OrderLedgerFacts> GetOrderLedgerFacts(const std::string& s,
                                               const std::string& o) override {
    return inner_.GetOrderLedgerFacts(s, o);
  }
  Result<std::optional<int64_t>> GetReconcileMark(const std::string& s) override {
    return inner_.GetReconcileMark(s);
  }
  Status SetReconcileMark(const std::string& s, int64_t h, int64_t n) override {
    return inner_.SetReconcileMark(s, h, n);
  }
  // Reports (issue 7).
  Result<std::vector<CustomerReportRow>> CustomerReport(const CustomerReportQuery& q) override {
    return inner_.CustomerReport(q);
  }
  Result<PointsLiability> LiabilityReport(const LiabilityQuery& q) override {
    return inner_.LiabilityReport(q);
  }
  Result<TierFigures> TierReport(const std::vector<ReportMonth>& m) override {
    return inner_.TierReport(m);
  }
  Result<std::vector<TierChangeRecord>> ListTierChanges(int64_t c, size_t l) override {
    return inner_.ListTierChanges(c, l);
  }

  void Open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  void WaitEntered(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    entered_cv_.wait(lock, [&] { return entered_ >= n; });
  }
  std::vector<size_t> batch_sizes() {
    std::lock_guard<std::mutex> lock(mu_);
    return batch_sizes_;
  }
  bool fail_ = false;

 private:
  Storage& inner_;
  std::mutex mu_;
  std::condition_variable cv_, entered_cv_;
  bool open_ = false;
  int entered_ = 0;
  std::vector<size_t> batch_sizes_;
};

NewInboxEvent Delivery(const std::string& key) {
  return NewInboxEvent{"demo", "shopify", "orders/paid", key, key, "{}", 1};
}

class GroupCommitterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = SqliteStorage::Open(dir_.File("inbox.db"));
    ASSERT_TRUE(opened.ok());
    storage_ = std::move(opened).value();
    gated_ = std::make_unique<GatedStorage>(*storage_);
  }
  testing::TempDir dir_;
  std::unique_ptr<SqliteStorage> storage_;
  std::unique_ptr<GatedStorage> gated_;
};

TEST_F(GroupCommitterTest, RequestsArrivingDuringACommitShareTheNextOne) {
  std::atomic<int> commits_seen{0};
  GroupCommitter committer(*gated_, 512, [&] { commits_seen++; });
  committer.Start();

  std::thread first([&] { EXPECT_TRUE(committer.Append(Delivery("first")).ok()); });
  gated_->WaitEntered(1);  // the writer is inside the first commit, holding one event

  constexpr int kWaiting = 40;
  std::vector<std::thread> others;
  std::atomic<int> stored{0};
  for (int i = 0; i < kWaiting; ++i) {
    others.emplace_back([&, i] {
      auto r = committer.Append(Delivery("k" + std::to_string(i)));
      if (r.ok() && *r == InboxAppendOutcome::kStored) stored++;
    });
  }
  // Give every thread time to queue behind the gate; the assertion below does not depend on
  // timing (late arrivals only make a third batch), only the batch count would.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  gated_->Open();
  first.join();
  for (auto& t : others) t.join();
  committer.Stop();

  EXPECT_EQ(stored.load(), kWaiting);
  const std::vector<size_t> sizes = gated_->batch_sizes();
  ASSERT_GE(sizes.size(), 2u);
  EXPECT_EQ(sizes[0], 1u);
  EXPECT_GT(sizes[1], 1u) << "requests queued during a commit must be committed together";
  EXPECT_EQ(committer.stats().events, static_cast<uint64_t>(kWaiting + 1));
  EXPECT_EQ(commits_seen.load(), static_cast<int>(sizes.size()));
  EXPECT_EQ(storage_->CountInbox()->pending, kWaiting + 1);
}

TEST_F(GroupCommitterTest, DuplicateIsReportedToItsCaller) {
  gated_->Open();
  GroupCommitter committer(*gated_, 512, nullptr);
  committer.Start();
  auto a = committer.Append(Delivery("same"));
  auto b = committer.Append(Delivery("same"));
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*a, InboxAppendOutcome::kStored);
  EXPECT_EQ(*b, InboxAppendOutcome::kDuplicate);
}

TEST_F(GroupCommitterTest, StorageFailureIsReportedToEveryWaiterAndNothingIsStored) {
  gated_->fail_ = true;
  gated_->Open();
  GroupCommitter committer(*gated_, 512, nullptr);
  committer.Start();
  auto r = committer.Append(Delivery("x"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(storage_->CountInbox()->pending, 0);
}

TEST_F(GroupCommitterTest, AppendAfterStopIsUnavailable) {
  gated_->Open();
  GroupCommitter committer(*gated_, 512, nullptr);
  committer.Start();
  committer.Stop();
  auto r = committer.Append(Delivery("late"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
}

TEST_F(GroupCommitterTest, BatchesNeverExceedTheConfiguredMaximum) {
  GroupCommitter committer(*gated_, 4, nullptr);
  committer.Start();
  std::thread first([&] { (void)committer.Append(Delivery("first")); });
  gated_->WaitEntered(1);
  std::vector<std::thread> others;
  for (int i = 0; i < 10; ++i) {
    others.emplace_back([&, i] { (void)committer.Append(Delivery("m" + std::to_string(i))); });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  gated_->Open();
  first.join();
  for (auto& t : others) t.join();
  for (size_t size : gated_->batch_sizes()) EXPECT_LE(size, 4u);
  EXPECT_EQ(storage_->CountInbox()->pending, 11);
}

}  // namespace
}  // namespace loyaltyd::group_committer_test
