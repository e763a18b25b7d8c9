#include "actions/action_service.h"

#include <gtest/gtest.h>

#include <tuple>

#include "core/calendar.h"
#include "storage/sqlite_storage.h"
#include "support/temp_dir.h"

namespace loyaltyd::action_service_test {
namespace {

class FixedClock final : public Clock {
 public:
  int64_t NowMillis() const override { return now_ms; }
  int64_t now_ms = *ParseIso8601Millis("2026-11-25T10:00:00Z");
};

Config ActionsConfig() {
  ConfigLoadResult loaded = ParseConfig(R"({
    "admin": {"token": "0123456789abcdef0123"},
    "shops": [{"id": "main", "platform": "shopify", "domain": "main.myshopify.com",
               "webhook_secret": "secret-main-123"}],
    "program": {"currency": "USD", "earn": [
      {"type": "spend", "points": 1, "per": "1.00"},
      {"id": "reviews", "type": "action", "action": "review", "points": 50,
       "limit": "per_period", "period": "day"},
      {"type": "action", "action": "birthday", "points": 200, "limit": "per_period",
       "period": "year"}]}
  })");
  EXPECT_TRUE(loaded.ok()) << (loaded.problems.empty() ? "" : loaded.problems[0].ToString());
  return loaded.config;
}

class ActionServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = SqliteStorage::Open(dir_.File("loyaltyd.db"));
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    storage_ = std::move(opened).value();
    ASSERT_TRUE(
        storage_->AppendToInbox({{"main", "shopify", "customers/create", "c", "c", "{}", 1}}).ok());
    EventOutcome o;
    o.event_id = storage_->LoadPendingEvents(0, 1)->at(0).id;
    o.reason = "customer recorded";
    o.customer = CustomerIdentity{"main", "7001", "ada@example.com", "ada@example.com", "", ""};
    ASSERT_TRUE(storage_->CommitEventOutcomes({o}, 1).ok());
    customer_ = storage_->FindCustomersByEmail("ada@example.com")->at(0).id;
    service_ = std::make_unique<ActionService>(config_, *storage_, clock_);
  }

  Result<ActionResult> Record(const std::string& action, const std::string& key,
                              std::optional<std::string> occurred_at = std::nullopt,
                              const std::string& reference = "") {
    return service_->Record(ActionRequest{customer_, action, occurred_at, reference, key});
  }

  testing::TempDir dir_;
  Config config_ = ActionsConfig();
  FixedClock clock_;
  std::unique_ptr<SqliteStorage> storage_;
  std::unique_ptr<ActionService> service_;
  int64_t customer_ = 0;
};

TEST_F(ActionServiceTest, OccurredAtDefaultsToNowAndDecidesThePeriod) {
  auto now = Record("review", "k1");
  ASSERT_TRUE(now.ok()) << now.status().ToString();
  EXPECT_EQ(now->record.outcome, ActionOutcome::kAwarded);
  EXPECT_EQ(now->record.occurred_at_ms, clock_.now_ms);
  EXPECT_EQ(now->record.period_label, "2026-11-25");
  EXPECT_EQ(now->record.rule_id, "reviews");

  // Retried a day later without occurred_at: the recorded answer, not a new day's award.
  clock_.now_ms += 86'400'000;
  auto retry = Record("review", "k1");
  ASSERT_TRUE(retry.ok());
  EXPECT_TRUE(retry->replayed);
  EXPECT_EQ(retry->record.id, now->record.id);
  EXPECT_EQ(retry->record.period_label, "2026-11-25");

  auto yesterday = Record("review", "k2", "2026-11-25T23:00:00Z");
  ASSERT_TRUE(yesterday.ok());
  EXPECT_EQ(yesterday->record.outcome, ActionOutcome::kLimitReached);
  auto today = Record("review", "k3");
  ASSERT_TRUE(today.ok());
  EXPECT_EQ(today->record.outcome, ActionOutcome::kAwarded);
  EXPECT_EQ(today->record.period_label, "2026-11-26");
}

TEST_F(ActionServiceTest, RefusesWhatCannotBeRightAndChangesNothing) {
  struct Case {
    std::string name;
    std::string action;
    std::string key;
    std::optional<std::string> occurred_at;
    std::string reference;
    StatusCode code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"unknown action lists the configured ones", "tweet", "k", std::nullopt, "",
       StatusCode::kInvalidArgument,
       "no action rule for 'tweet' in program.earn; configured actions: review, birthday"},
      {"empty key", "review", "", std::nullopt, "", StatusCode::kInvalidArgument,
       "the Idempotency-Key header must be 1-255 printable ASCII characters"},
      {"key with a space", "review", "a b", std::nullopt, "", StatusCode::kInvalidArgument,
       "the Idempotency-Key header must be"},
      {"occurred_at without a zone", "review", "k", "2026-11-25T10:00:00", "",
       StatusCode::kInvalidArgument, "occurred_at: '2026-11-25T10:00:00' is not an ISO-8601"},
      {"occurred_at in the future", "birthday", "k", "2027-03-14T00:00:00Z", "",
       StatusCode::kInvalidArgument, "occurred_at 2027-03-14T00:00:00Z is in the future"},
      {"reference with a control character", "review", "k", std::nullopt, "a\nb",
       StatusCode::kInvalidArgument, "reference must be at most 255 characters"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = Record(c.action, c.key, c.occurred_at, c.reference);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), c.code);
    EXPECT_EQ(r.status().message().rfind(c.message, 0), 0u) << r.status().message();
  }
  // A little clock skew is allowed.
  EXPECT_TRUE(Record("review", "skew", "2026-11-25T10:04:00Z").ok());
  auto stranger = service_->Record(ActionRequest{999, "review", std::nullopt, "", "k"});
  ASSERT_FALSE(stranger.ok());
  EXPECT_EQ(stranger.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(storage_->GetCustomer(customer_)->value().points_balance, 50);
}

TEST_F(ActionServiceTest, AKeyReusedForAnotherRequestIsAnError) {
  ASSERT_TRUE(Record("review", "k", "2026-11-25T09:00:00Z", "r-1").ok());
  for (const auto& [action, occurred_at, reference] :
       std::vector<std::tuple<std::string, std::optional<std::string>, std::string>>{
           {"birthday", std::nullopt, "r-1"},
           {"review", "2026-11-24T09:00:00Z", "r-1"},
           {"review", std::nullopt, "r-2"}}) {
    auto r = Record(action, "k", occurred_at, reference);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("was already used for another request (action "
                                        "'review', occurred_at 2026-11-25T09:00:00.000Z, "
                                        "reference 'r-1')"),
              std::string::npos)
        << r.status().message();
  }
  // The same request without occurred_at (it defaulted, or the client left it out) replays.
  auto same = Record("review", "k", std::nullopt, "r-1");
  ASSERT_TRUE(same.ok());
  EXPECT_TRUE(same->replayed);
}

}  // namespace
}  // namespace loyaltyd::action_service_test
