// SqliteStorage::RecordAction: an action's points within its rule's limit, once per
// Idempotency-Key, against a real SQLite file, including from several threads at once.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "core/calendar.h"
#include "rules/action_rules.h"
#include "storage/sqlite_storage.h"
#include "support/temp_dir.h"

namespace loyaltyd::sqlite_actions_test {
namespace {

EarnRule Rule(const std::string& action, int64_t points, ActionLimit limit, int max = 1) {
  EarnRule rule;
  rule.id = action + "-rule";
  rule.type = EarnRuleType::kAction;
  rule.points = points;
  rule.action = action;
  rule.limit = limit;
  rule.period = CalendarPeriod::kDay;
  rule.max_per_period = max;
  return rule;
}

class SqliteActionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = SqliteStorage::Open(dir_.File("loyaltyd.db"));
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    storage_ = std::move(opened).value();
    customer_ = AddCustomer("7001");
  }

  // A customer as a customers/create webhook records them.
  int64_t AddCustomer(const std::string& platform_id) {
    const std::string key = "customer-" + platform_id;
    EXPECT_TRUE(storage_
                    ->AppendToInbox({NewInboxEvent{"demo", "shopify", "customers/create", key, key,
                                                   "{}", 1000}})
                    .ok());
    auto pending = storage_->LoadPendingEvents(0, 100);
    EXPECT_TRUE(pending.ok());
    EventOutcome outcome;
    outcome.event_id = pending->back().id;
    outcome.reason = "customer recorded";
    outcome.customer = CustomerIdentity{
        "demo", platform_id, platform_id + "@example.com", platform_id + "@example.com", "", ""};
    EXPECT_TRUE(storage_->CommitEventOutcomes({outcome}, 2000).ok());
    auto found = storage_->FindCustomersByEmail(platform_id + "@example.com");
    EXPECT_TRUE(found.ok() && found->size() == 1u);
    return found->at(0).id;
  }

  static NewActionRequest Request(int64_t customer, const EarnRule& rule, const std::string& key,
                                  const std::string& occurred_at = "2026-11-25T10:00:00Z") {
    const ActionPlan plan = PlanAction(rule, *ParseIso8601Millis(occurred_at), "");
    NewActionRequest r;
    r.customer_id = customer;
    r.idempotency_key = key;
    r.action = rule.action;
    r.rule_id = rule.id;
    r.occurred_at_ms = *ParseIso8601Millis(occurred_at);
    r.points = rule.points;
    for (const ActionSlot& s : plan.slots) r.slots.push_back({s.once_key, s.description});
    r.period_label = plan.period_label;
    r.next_period_starts_at_ms = plan.next_period_starts_at_ms;
    r.limit_reached_message = LimitReachedMessage(rule, plan);
    return r;
  }

  int64_t Balance(int64_t customer) {
    auto c = storage_->GetCustomer(customer);
    EXPECT_TRUE(c.ok() && c->has_value());
    return (*c)->points_balance;
  }
  int64_t LedgerSum(int64_t customer, size_t& entries) {
    auto ledger = storage_->ListLedger(customer, 0, 500);
    EXPECT_TRUE(ledger.ok());
    int64_t sum = 0;
    for (const LedgerEntryRecord& e : *ledger) sum += e.points;
    entries = ledger->size();
    return sum;
  }

  testing::TempDir dir_;
  std::unique_ptr<SqliteStorage> storage_;
  int64_t customer_ = 0;
};

// A sequence of requests for one customer: what each gets.
struct Step {
  std::string key;
  std::string occurred_at;
  bool replayed;
  ActionOutcome outcome;
  int slot;
  int64_t balance_after;
};

TEST_F(SqliteActionsTest, LimitsAndReplays) {
  struct Case {
    std::string name;
    EarnRule rule;
    std::vector<Step> steps;
  };
  const std::vector<Case> cases = {
      {"once ever",
       Rule("signup", 100, ActionLimit::kOnce),
       {{"a", "2026-11-25T10:00:00Z", false, ActionOutcome::kAwarded, 1, 100},
        {"a", "2026-11-25T10:00:00Z", true, ActionOutcome::kAwarded, 1, 100},
        {"b", "2027-05-01T10:00:00Z", false, ActionOutcome::kLimitReached, 0, 100},
        {"b", "2027-05-01T10:00:00Z", true, ActionOutcome::kLimitReached, 0, 100}}},
      {"twice a day, again the next day",
       Rule("review", 50, ActionLimit::kPerPeriod, 2),
       {{"r1", "2026-11-25T10:00:00Z", false, ActionOutcome::kAwarded, 1, 50},
        {"r2", "2026-11-25T11:00:00Z", false, ActionOutcome::kAwarded, 2, 100},
        {"r3", "2026-11-25T23:59:59Z", false, ActionOutcome::kLimitReached, 0, 100},
        {"r1", "2026-11-25T10:00:00Z", true, ActionOutcome::kAwarded, 1, 50},
        {"r4", "2026-11-26T00:00:00Z", false, ActionOutcome::kAwarded, 1, 150},
        // A late report of an earlier day counts in that day.
        {"r5", "2026-11-24T18:00:00Z", false, ActionOutcome::kAwarded, 1, 200}}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const int64_t customer = AddCustomer("c-" + c.rule.action);
    for (const Step& step : c.steps) {
      SCOPED_TRACE(step.key + " at " + step.occurred_at);
      auto r = storage_->RecordAction(Request(customer, c.rule, step.key, step.occurred_at), 5000);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      EXPECT_EQ(r->replayed, step.replayed);
      EXPECT_EQ(r->request.outcome, step.outcome);
      EXPECT_EQ(r->request.slot, step.slot);
      EXPECT_EQ(r->request.balance_after, step.balance_after);
      if (step.outcome == ActionOutcome::kAwarded) {
        EXPECT_NE(r->request.ledger_entry_id, 0);
        EXPECT_EQ(r->request.points, c.rule.points);
      } else {
        EXPECT_EQ(r->request.points, 0);
        EXPECT_NE(r->request.description.find("limit reached"), std::string::npos);
      }
    }
    EXPECT_EQ(Balance(customer), c.steps.back().balance_after);
  }
}

TEST_F(SqliteActionsTest, AwardIsAnActionLedgerEntry) {
  const EarnRule rule = Rule("review", 50, ActionLimit::kPerPeriod);
  auto r = storage_->RecordAction(Request(customer_, rule, "k1"), 5000);
  ASSERT_TRUE(r.ok());
  auto ledger = storage_->ListLedger(customer_, 0, 10);
  ASSERT_TRUE(ledger.ok());
  ASSERT_EQ(ledger->size(), 1u);
  const LedgerEntryRecord& e = (*ledger)[0];
  EXPECT_EQ(e.id, r->request.ledger_entry_id);
  EXPECT_EQ(e.kind, "action");
  EXPECT_EQ(e.rule_id, "review-rule");
  EXPECT_EQ(e.points, 50);
  EXPECT_EQ(e.balance_after, 50);
  EXPECT_EQ(e.description, "review: 50 points (1 of 1 this day, 2026-11-25)");
  EXPECT_EQ(r->request.description, e.description);
}

TEST_F(SqliteActionsTest, UnknownCustomerIsNotFoundAndRecordsNothing) {
  auto r = storage_->RecordAction(Request(999, Rule("signup", 1, ActionLimit::kOnce), "k"), 5000);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
}

TEST_F(SqliteActionsTest, KeysArePerCustomerAndLimitsArePerCustomer) {
  const int64_t other = AddCustomer("7002");
  const EarnRule rule = Rule("signup", 100, ActionLimit::kOnce);
  auto a = storage_->RecordAction(Request(customer_, rule, "same-key"), 5000);
  auto b = storage_->RecordAction(Request(other, rule, "same-key"), 5000);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_FALSE(b->replayed);
  EXPECT_EQ(b->request.outcome, ActionOutcome::kAwarded);
  EXPECT_EQ(Balance(customer_), 100);
  EXPECT_EQ(Balance(other), 100);
}

// The limit holds under concurrency: threads with distinct keys race for 3 slots a day, and
// threads with one shared key race for one answer. Exactly the limit is paid, every ledger
// entry agrees with the balance, and each key has one answer.
TEST_F(SqliteActionsTest, ConcurrentRequestsNeverExceedTheLimit) {
  const EarnRule rule = Rule("review", 50, ActionLimit::kPerPeriod, 3);
  constexpr int kThreads = 8;
  constexpr int kPerThread = 5;
  std::atomic<int> awarded{0}, limited{0}, failed{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      while (!go.load()) std::this_thread::yield();
      for (int i = 0; i < kPerThread; ++i) {
        auto r = storage_->RecordAction(
            Request(customer_, rule, "key-" + std::to_string(t) + "-" + std::to_string(i)), 5000);
        if (!r.ok()) {
          failed++;
        } else if (r->request.outcome == ActionOutcome::kAwarded) {
          awarded++;
        } else {
          limited++;
        }
      }
    });
  }
  go = true;
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(awarded.load(), 3);
  EXPECT_EQ(limited.load(), kThreads * kPerThread - 3);
  size_t entries = 0;
  EXPECT_EQ(LedgerSum(customer_, entries), 150);
  EXPECT_EQ(entries, 3u);
  EXPECT_EQ(Balance(customer_), 150);

  // One key from every thread: one award, the same answer for all.
  const int64_t other = AddCustomer("7003");
  std::vector<int64_t> ids(kThreads, -1);
  std::vector<std::thread> same;
  go = false;
  for (int t = 0; t < kThreads; ++t) {
    same.emplace_back([&, t] {
      while (!go.load()) std::this_thread::yield();
      auto r = storage_->RecordAction(Request(other, rule, "one-key"), 5000);
      if (r.ok() && r->request.outcome == ActionOutcome::kAwarded) ids[t] = r->request.id;
    });
  }
  go = true;
  for (std::thread& t : same) t.join();
  for (int64_t id : ids) EXPECT_EQ(id, ids[0]);
  EXPECT_GT(ids[0], 0);
  EXPECT_EQ(Balance(other), 50);
}

TEST_F(SqliteActionsTest, AnswersSurviveReopening) {
  const EarnRule rule = Rule("signup", 100, ActionLimit::kOnce);
  auto first = storage_->RecordAction(Request(customer_, rule, "k"), 5000);
  ASSERT_TRUE(first.ok());
  storage_.reset();
  auto opened = SqliteStorage::Open(dir_.File("loyaltyd.db"));
  ASSERT_TRUE(opened.ok());
  storage_ = std::move(opened).value();
  auto again = storage_->RecordAction(Request(customer_, rule, "k"), 9000);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->replayed);
  EXPECT_EQ(again->request.id, first->request.id);
  EXPECT_EQ(again->request.created_at_ms, 5000);
  EXPECT_EQ(Balance(customer_), 100);
}

}  // namespace
}  // namespace loyaltyd::sqlite_actions_test
