// Referrals in SqliteStorage (src/storage/sqlite_referrals.cc): codes, self-identification with
// its guards, attribution of a paid order by precedence, the guards at order time, holds,
// voiding, milestones and the report — each on a real SQLite file.
#include <gtest/gtest.h>

#include "core/identity.h"
#include "storage/sqlite_storage.h"
#include "support/temp_dir.h"

namespace loyaltyd::sqlite_referrals_test {
namespace {

constexpr int64_t kDay = 86'400'000;
constexpr int64_t kT0 = 1'764'000'000'000;  // 2025-11-24T16:00:00Z

class SqliteReferralsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = SqliteStorage::Open(dir_.File("loyaltyd.db"));
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    storage_ = std::move(opened).value();
    policy_.currency = "USD";
    policy_.window_ms = 30 * kDay;
    policy_.shop_platforms = {{"demo", "shopify"}, {"woo", "woocommerce"}};
    policy_.advocate_reward.name = "500 points";
    policy_.advocate_reward.points = 500;
  }

  int64_t StoreEvent(const std::string& key) {
    EXPECT_TRUE(storage_
                    ->AppendToInbox({NewInboxEvent{"demo", "shopify", "orders/paid", key,
                                                   "delivery-" + key, "{}", now_}})
                    .ok());
    auto pending = storage_->LoadPendingEvents(0, 1000);
    EXPECT_TRUE(pending.ok());
    for (const auto& e : *pending) {
      if (e.dedupe_key == key) return e.id;
    }
    ADD_FAILURE() << "event " << key << " not pending";
    return 0;
  }

  // A paid order of `email` (customer `platform_id`) for `total_minor`, with referral facts.
  EventOutcome PaidOrder(const std::string& key, const std::string& platform_id,
                         const std::string& email, const std::string& order_id, int64_t total_minor,
                         std::vector<ReferralCandidate> candidates = {},
                         const std::string& phone = "", const std::string& address = "") {
    EventOutcome o;
    o.event_id = StoreEvent(key);
    o.reason = "paid";
    o.received_at_ms = now_;
    o.customer = CustomerIdentity{"demo", platform_id, email, NormaliseEmail(email), "", ""};
    o.order = OrderRecord{"demo",      order_id,    "#" + order_id, "USD",
                          total_minor, total_minor, true,           "2025-11-24T16:00:00Z"};
    o.referrals = std::make_shared<ReferralPolicy>(policy_);
    IdentityKeys keys{CanonicalEmail(email), phone, address};
    o.identity_keys = keys;
    ReferralOrderFacts facts;
    facts.candidates = std::move(candidates);
    facts.friend_email = email;
    facts.friend_keys = keys;
    facts.total_minor = total_minor;
    facts.created_at_ms = now_;
    o.referral_order = facts;
    return o;
  }

  void Commit(const EventOutcome& o) { ASSERT_TRUE(storage_->CommitEventOutcomes({o}, now_).ok()); }

  int64_t CustomerId(const std::string& email) {
    auto found = storage_->FindCustomersByEmail(NormaliseEmail(email));
    EXPECT_TRUE(found.ok());
    EXPECT_FALSE(found->empty()) << email;
    return found->empty() ? 0 : (*found)[0].id;
  }

  int64_t Balance(int64_t customer_id) {
    auto c = storage_->GetCustomer(customer_id);
    EXPECT_TRUE(c.ok() && c->has_value());
    return c.ok() && c->has_value() ? (*c)->points_balance : -1;
  }

  // Ada is the advocate: a customer with an order (and so identity keys) and a code.
  int64_t MakeAdvocate() {
    Commit(PaidOrder("ada-1", "7001", "ada.lovelace@gmail.com", "1", 5000, {}, "6136120707",
                     "12stjamessq|SW1Y4LB|GB"));
    const int64_t ada = CustomerId("ada.lovelace@gmail.com");
    auto code = storage_->GetOrCreateReferralCode(ada, now_);
    EXPECT_TRUE(code.ok());
    ada_code_ = code.ok() ? *code : "";
    return ada;
  }

  Result<CreateReferralResult> Identify(int64_t referrer, const std::string& friend_email,
                                        bool welcome = false) {
    NewReferral r;
    r.shop_id = "demo";
    r.platform = "shopify";
    r.referrer_customer_id = referrer;
    r.friend_email = friend_email;
    r.friend_email_normalised = NormaliseEmail(friend_email);
    r.friend_key = CanonicalEmail(friend_email);
    r.welcome_reward = welcome;
    return storage_->CreateReferral(r, policy_, now_);
  }

  std::vector<ReferralRecord> ReferralsOf(int64_t referrer) {
    auto list = storage_->ListReferrals(referrer, 0, 100);
    EXPECT_TRUE(list.ok());
    return list.ok() ? *list : std::vector<ReferralRecord>{};
  }

  testing::TempDir dir_;
  std::unique_ptr<SqliteStorage> storage_;
  ReferralPolicy policy_;
  int64_t now_ = kT0;
  std::string ada_code_;
};

TEST_F(SqliteReferralsTest, CodeIsStableUnguessableAndFoundWithoutCase) {
  const int64_t ada = MakeAdvocate();
  ASSERT_EQ(ada_code_.size(), 10u);
  auto again = storage_->GetOrCreateReferralCode(ada, now_ + 1);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, ada_code_);
  std::string lower = ada_code_;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto found = storage_->FindReferrerByCode(lower);
  ASSERT_TRUE(found.ok());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ(**found, ada);
  EXPECT_EQ(storage_->GetOrCreateReferralCode(999, now_).status().code(), StatusCode::kNotFound);
}

TEST_F(SqliteReferralsTest, RefCodeOnPaidOrderConvertsOnceAndPaysTheAdvocate) {
  const int64_t ada = MakeAdvocate();
  const EventOutcome order =
      PaidOrder("bob-1", "7002", "bob@example.com", "2", 6000, {{ada_code_, "landing_site"}});
  Commit(order);
  // A redelivery of the same order (another event) judges nothing again.
  EventOutcome again = order;
  again.event_id = StoreEvent("bob-1-again");
  Commit(again);
  std::vector<ReferralRecord> referrals = ReferralsOf(ada);
  ASSERT_EQ(referrals.size(), 1u);
  EXPECT_EQ(referrals[0].status, ReferralStatus::kConverted) << referrals[0].reason;
  EXPECT_EQ(referrals[0].source, "landing_site");
  EXPECT_EQ(referrals[0].order_platform_id, "2");
  EXPECT_EQ(referrals[0].advocate_points, 500);
  EXPECT_EQ(Balance(ada), 500);
}

TEST_F(SqliteReferralsTest, SelfReferralByCanonicalEmailAddressAndPhoneIsRejectedWithReasons) {
  const int64_t ada = MakeAdvocate();
  // Another account of Ada's: Gmail dots and a +tag, her phone and her door.
  Commit(PaidOrder("ada-2", "7003", "Ada.Love.Lace+promo@GMAIL.com", "3", 6000,
                   {{ada_code_, "note_attribute"}}, "6136120707", "12stjamessq|SW1Y4LB|GB"));
  std::vector<ReferralRecord> referrals = ReferralsOf(ada);
  ASSERT_EQ(referrals.size(), 1u);
  EXPECT_EQ(referrals[0].status, ReferralStatus::kRejected);
  EXPECT_NE(referrals[0].reason.find("self_referral: the friend's email"), std::string::npos)
      << referrals[0].reason;
  EXPECT_NE(referrals[0].reason.find("same shipping address"), std::string::npos);
  EXPECT_NE(referrals[0].reason.find("same phone number"), std::string::npos);
  EXPECT_EQ(Balance(ada), 0);
}

TEST_F(SqliteReferralsTest, GuardsCanBeSwitchedOff) {
  policy_.guard_same_address = false;
  policy_.guard_same_phone = false;
  const int64_t ada = MakeAdvocate();
  // A flatmate: same door and landline, their own email.
  Commit(PaidOrder("cy-1", "7004", "cy@example.com", "4", 6000, {{ada_code_, "landing_site"}},
                   "6136120707", "12stjamessq|SW1Y4LB|GB"));
  std::vector<ReferralRecord> referrals = ReferralsOf(ada);
  ASSERT_EQ(referrals.size(), 1u);
  EXPECT_EQ(referrals[0].status, ReferralStatus::kConverted) << referrals[0].reason;
}

TEST_F(SqliteReferralsTest, FriendWithAnEarlierOrderIsNotNew) {
  const int64_t ada = MakeAdvocate();
  Commit(PaidOrder("dee-1", "7005", "dee@example.com", "5", 3000));  // before any referral
  now_ += kDay;
  EventOutcome second =
      PaidOrder("dee-2", "7005", "dee@example.com", "6", 6000, {{ada_code_, "landing_site"}});
  second.order->created_at = "2025-11-25T16:00:00Z";
  second.referral_order->created_at_ms = kT0 + kDay;
  Commit(second);
  std::vector<ReferralRecord> referrals = ReferralsOf(ada);
  ASSERT_EQ(referrals.size(), 1u);
  EXPECT_EQ(referrals[0].status, ReferralStatus::kRejected);
  EXPECT_NE(referrals[0].reason.find("friend_not_new"), std::string::npos) << referrals[0].reason;
  EXPECT_EQ(Balance(ada), 0);
}

TEST_F(SqliteReferralsTest, BelowMinimumIsRejected) {
  policy_.minimum_order_minor = 5000;
  const int64_t ada = MakeAdvocate();
  Commit(PaidOrder("eve-1", "7006", "eve@example.com", "7", 4999, {{ada_code_, "landing_site"}}));
  std::vector<ReferralRecord> referrals = ReferralsOf(ada);
  ASSERT_EQ(referrals.size(), 1u);
  EXPECT_EQ(referrals[0].status, ReferralStatus::kRejected);
  EXPECT_NE(referrals[0].reason.find("below_minimum: the first order's total 49.99 is below the "
                                     "minimum 50.00 USD"),
            std::string::npos)
      << referrals[0].reason;
}

TEST_F(SqliteReferralsTest, SelfIdentificationAttributesTheFriendsFirstOrderWithinTheWindow) {
  const int64_t ada = MakeAdvocate();
  auto identified = Identify(ada, "fay@example.com");
  ASSERT_TRUE(identified.ok()) << identified.status().ToString();
  EXPECT_EQ(identified->outcome, CreateReferralResult::Outcome::kCreated);
  EXPECT_EQ(identified->referral.status, ReferralStatus::kIdentified);
  // The same referrer again: the same referral.
  auto repeat = Identify(ada, "FAY@example.com");
  ASSERT_TRUE(repeat.ok());
  EXPECT_EQ(repeat->outcome, CreateReferralResult::Outcome::kExisting);
  EXPECT_EQ(repeat->referral.id, identified->referral.id);

  now_ += 10 * kDay;
  Commit(PaidOrder("fay-1", "7007", "fay@example.com", "8", 6000));
  std::vector<ReferralRecord> referrals = ReferralsOf(ada);
  ASSERT_EQ(referrals.size(), 1u);
  EXPECT_EQ(referrals[0].status, ReferralStatus::kConverted) << referrals[0].reason;
  EXPECT_EQ(referrals[0].source, "self_identified");
  EXPECT_EQ(Balance(ada), 500);
}

TEST_F(SqliteReferralsTest, IdentificationOutsideTheWindowExpires) {
  const int64_t ada = MakeAdvocate();
  ASSERT_TRUE(Identify(ada, "gus@example.com").ok());
  now_ += 31 * kDay;
  Commit(PaidOrder("gus-1", "7008", "gus@example.com", "9", 6000));
  std::vector<ReferralRecord> referrals = ReferralsOf(ada);
  ASSERT_EQ(referrals.size(), 1u);
  EXPECT_EQ(referrals[0].status, ReferralStatus::kExpired);
  EXPECT_NE(referrals[0].reason.find("window_expired"), std::string::npos);
  EXPECT_EQ(Balance(ada), 0);
}

TEST_F(SqliteReferralsTest, FirstValidAttributionWins) {
  const int64_t ada = MakeAdvocate();
  Commit(PaidOrder("hal-0", "7009", "hal@example.com", "10", 5000));
  const int64_t hal = CustomerId("hal@example.com");
  auto hal_code = storage_->GetOrCreateReferralCode(hal, now_);
  ASSERT_TRUE(hal_code.ok());
  // Ada names the friend first; Hal's identification of the same friend is refused.
  ASSERT_TRUE(Identify(ada, "ivy@example.com").ok());
  auto second = Identify(hal, "ivy@example.com");
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->outcome, CreateReferralResult::Outcome::kRejected);
  EXPECT_NE(second->referral.reason.find("already_referred"), std::string::npos);

  // The friend's order carries Hal's link: the link's precedence is higher, Hal wins the order
  // and Ada's identification is superseded.
  Commit(PaidOrder("ivy-1", "7010", "ivy@example.com", "11", 6000, {{*hal_code, "landing_site"}}));
  EXPECT_EQ(Balance(hal), 500);
  EXPECT_EQ(Balance(ada), 0);
  std::vector<ReferralRecord> adas = ReferralsOf(ada);
  ASSERT_EQ(adas.size(), 1u);
  EXPECT_EQ(adas[0].status, ReferralStatus::kRejected);
  EXPECT_NE(adas[0].reason.find("already_referred"), std::string::npos);
}

TEST_F(SqliteReferralsTest, DailyCapOnReferralsPerReferrer) {
  policy_.max_referrals_per_day = 2;
  const int64_t ada = MakeAdvocate();
  ASSERT_EQ(Identify(ada, "j1@example.com")->outcome, CreateReferralResult::Outcome::kCreated);
  ASSERT_EQ(Identify(ada, "j2@example.com")->outcome, CreateReferralResult::Outcome::kCreated);
  auto third = Identify(ada, "j3@example.com");
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->outcome, CreateReferralResult::Outcome::kRejected);
  EXPECT_NE(third->referral.reason.find("referrer_daily_cap"), std::string::npos);
  now_ += kDay;  // a new UTC day
  EXPECT_EQ(Identify(ada, "j3@example.com")->outcome, CreateReferralResult::Outcome::kCreated);
}

TEST_F(SqliteReferralsTest, AdvocateRewardCapPerPeriod) {
  policy_.max_advocate_rewards = 1;
  policy_.advocate_rewards_period = CalendarPeriod::kMonth;
  const int64_t ada = MakeAdvocate();
  Commit(PaidOrder("k1", "7011", "k1@example.com", "12", 6000, {{ada_code_, "landing_site"}}));
  Commit(PaidOrder("k2", "7012", "k2@example.com", "13", 6000, {{ada_code_, "landing_site"}}));
  std::vector<ReferralRecord> referrals = ReferralsOf(ada);
  ASSERT_EQ(referrals.size(), 2u);
  EXPECT_EQ(referrals[1].status, ReferralStatus::kConverted);  // newest first
  EXPECT_EQ(referrals[0].status, ReferralStatus::kRejected);
  EXPECT_NE(referrals[0].reason.find("advocate_reward_cap"), std::string::npos);
  EXPECT_EQ(Balance(ada), 500);
}

TEST_F(SqliteReferralsTest, HoldReleasesOnceOrVoidsOnFullRefund) {
  policy_.hold_ms = 14 * kDay;
  const int64_t ada = MakeAdvocate();
  Commit(PaidOrder("l1", "7013", "l1@example.com", "14", 6000, {{ada_code_, "landing_site"}}));
  Commit(PaidOrder("l2", "7014", "l2@example.com", "15", 6000, {{ada_code_, "landing_site"}}));
  EXPECT_EQ(Balance(ada), 0);
  // Order 15 is cancelled within the hold.
  EventOutcome cancel;
  cancel.event_id = StoreEvent("l2-cancel");
  cancel.reason = "cancelled";
  cancel.order = OrderRecord{"demo", "15", "", "", 0, 0, false, ""};
  cancel.order->placeholder = true;
  cancel.refunds.push_back(RefundRecord{"full", 0, 0, true});
  Commit(cancel);

  auto early = storage_->ReleaseReferralRewards(policy_, now_ + 13 * kDay);
  ASSERT_TRUE(early.ok());
  EXPECT_EQ(early->converted, 0);
  auto due = storage_->ReleaseReferralRewards(policy_, now_ + 14 * kDay);
  ASSERT_TRUE(due.ok());
  EXPECT_EQ(due->converted, 1);
  auto repeat = storage_->ReleaseReferralRewards(policy_, now_ + 15 * kDay);
  ASSERT_TRUE(repeat.ok());
  EXPECT_EQ(repeat->converted, 0);
  EXPECT_EQ(Balance(ada), 500);
  std::vector<ReferralRecord> referrals = ReferralsOf(ada);
  ASSERT_EQ(referrals.size(), 2u);
  EXPECT_EQ(referrals[0].status, ReferralStatus::kVoided);
  EXPECT_NE(referrals[0].reason.find("order_refunded"), std::string::npos);
  EXPECT_EQ(referrals[1].status, ReferralStatus::kConverted);
}

TEST_F(SqliteReferralsTest, MilestonesPayOnceEachAndCodeRewardsQueueOneJob) {
  ReferralRewardTerms milestone;
  milestone.name = "20.00 USD off";
  milestone.reward_kind = "fixed_discount";
  milestone.value_minor = 2000;
  milestone.currency = "USD";
  milestone.code_prefix = "MILE-";
  ReferralRewardTerms bonus;
  bonus.name = "1000 points";
  bonus.points = 1000;
  policy_.milestones = {{2, milestone}, {3, bonus}};
  const int64_t ada = MakeAdvocate();
  for (int i = 0; i < 4; ++i) {
    const std::string n = std::to_string(i);
    Commit(PaidOrder("m" + n, "80" + n, "m" + n + "@example.com", "20" + n, 6000,
                     {{ada_code_, "landing_site"}}));
  }
  EXPECT_EQ(Balance(ada), 4 * 500 + 1000);
  auto redemptions = storage_->ListRedemptions(ada, 0, 100);
  ASSERT_TRUE(redemptions.ok());
  ASSERT_EQ(redemptions->size(), 1u);
  EXPECT_EQ((*redemptions)[0].reward_id, "referral_milestone");
  EXPECT_EQ((*redemptions)[0].paid_with, "referral");
  EXPECT_EQ((*redemptions)[0].points, 0);
  EXPECT_EQ((*redemptions)[0].code.rfind("MILE-", 0), 0u);
  auto jobs = storage_->ListJobs(std::nullopt, 0, 100);
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_EQ((*jobs)[0].redemption_id, (*redemptions)[0].id);

  auto report = storage_->ReferralReport();
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->size(), 1u);
  EXPECT_EQ((*report)[0].conversions, 4);
  EXPECT_EQ((*report)[0].points_awarded, 4 * 500 + 1000);
  EXPECT_EQ((*report)[0].rewards_issued, 1);
}

TEST_F(SqliteReferralsTest, WelcomeRewardIsAGuestsCodeAttributingTheOrderThatUsesIt) {
  ReferralRewardTerms welcome;
  welcome.name = "10% off";
  welcome.reward_kind = "percentage_discount";
  welcome.percentage = 10;
  welcome.currency = "USD";
  welcome.code_prefix = "FRIEND-";
  policy_.friend_reward = welcome;
  const int64_t ada = MakeAdvocate();
  auto identified = Identify(ada, "kim@example.com", /*welcome=*/true);
  ASSERT_TRUE(identified.ok()) << identified.status().ToString();
  ASSERT_NE(identified->referral.welcome_redemption_id, 0);
  const std::string code = identified->referral.welcome_code;
  ASSERT_EQ(code.rfind("FRIEND-", 0), 0u) << code;
  auto welcome_redemption = storage_->GetRedemption(identified->referral.welcome_redemption_id);
  ASSERT_TRUE(welcome_redemption.ok() && welcome_redemption->has_value());
  // Shopify cannot restrict a code to someone who is not a customer yet: single-use instead.
  EXPECT_FALSE((*welcome_redemption)->restrict_to_customer);

  // The friend orders under another email, with the code (lower-cased, as WooCommerce sends it).
  std::string lower = code;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  Commit(PaidOrder("kim-1", "7020", "kim.other@example.com", "30", 6000,
                   {{lower, "discount_code"}, {"NOSUCHCODE", "landing_site"}}));
  std::vector<ReferralRecord> referrals = ReferralsOf(ada);
  ASSERT_EQ(referrals.size(), 1u);
  EXPECT_EQ(referrals[0].status, ReferralStatus::kConverted) << referrals[0].reason;
  EXPECT_EQ(referrals[0].source, "self_identified");  // how the referral began
  EXPECT_EQ(Balance(ada), 500);
}

TEST_F(SqliteReferralsTest, ClicksAndRejectionsAreReported) {
  const int64_t ada = MakeAdvocate();
  ASSERT_TRUE(storage_->RecordReferralClick(ada, now_).ok());
  ASSERT_TRUE(storage_->RecordReferralClick(ada, now_ + kDay).ok());
  auto self = Identify(ada, "ada.lovelace@gmail.com");
  ASSERT_TRUE(self.ok());
  EXPECT_EQ(self->outcome, CreateReferralResult::Outcome::kRejected);
  auto report = storage_->ReferralReport();
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->size(), 1u);
  EXPECT_EQ((*report)[0].code, ada_code_);
  EXPECT_EQ((*report)[0].clicks, 2);
  EXPECT_EQ((*report)[0].identifications, 1);
  EXPECT_EQ((*report)[0].rejected, 1);
  EXPECT_EQ((*report)[0].rejected_reasons.at("self_referral"), 1);
}

// A referral reward cost the advocate nothing: when the store rejects it for good, it stays
// failed with the store's reason and nothing is "refunded" into any balance.
TEST_F(SqliteReferralsTest, RejectedStoreRewardStaysFailedAndGivesNothingBack) {
  policy_.advocate_reward = ReferralRewardTerms{};
  policy_.advocate_reward.name = "10.00 USD off";
  policy_.advocate_reward.reward_kind = "fixed_discount";
  policy_.advocate_reward.value_minor = 1000;
  policy_.advocate_reward.currency = "USD";
  policy_.advocate_reward.code_prefix = "REF-";
  const int64_t ada = MakeAdvocate();
  Commit(PaidOrder("n1", "7030", "n1@example.com", "40", 6000, {{ada_code_, "landing_site"}}));
  auto jobs = storage_->ListJobs(std::nullopt, 0, 10);
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ(jobs->size(), 1u);
  ASSERT_TRUE(storage_->FailRewardJob((*jobs)[0].id, "code already exists", now_).ok());

  auto redemption = storage_->GetRedemption((*jobs)[0].redemption_id);
  ASSERT_TRUE(redemption.ok() && redemption->has_value());
  EXPECT_EQ((*redemption)->status, RedemptionStatus::kFailed);
  EXPECT_EQ((*redemption)->failure_reason, "code already exists");
  EXPECT_EQ(Balance(ada), 0);
  auto ledger = storage_->ListLedger(ada, 0, 100);
  ASSERT_TRUE(ledger.ok());
  for (const LedgerEntryRecord& e : *ledger) EXPECT_NE(e.kind, "refund") << e.description;
  auto credit = storage_->ListCreditEntries(ada, 0, 100);
  ASSERT_TRUE(credit.ok());
  EXPECT_TRUE(credit->empty());
  std::vector<ReferralRecord> referrals = ReferralsOf(ada);
  ASSERT_EQ(referrals.size(), 1u);
  EXPECT_EQ(referrals[0].status, ReferralStatus::kConverted);
  EXPECT_EQ(referrals[0].advocate_reward_status, "failed");
}

}  // namespace
}  // namespace loyaltyd::sqlite_referrals_test
