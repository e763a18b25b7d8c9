// Events out in storage (src/storage/sqlite_events_out.cc) against a real SQLite file: events
// are queued with the change that causes them, once per cause, one delivery per subscribed
// endpoint, and nothing when no endpoint wants the topic.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "storage/sqlite_storage.h"
#include "support/sqlite_file.h"
#include "support/temp_dir.h"

namespace loyaltyd::sqlite_events_out_test {
namespace {

using nlohmann::json;

constexpr int64_t kDay = 86'400'000;
constexpr int64_t kT0 = 1'767'225'600'000;  // 2026-01-01T00:00:00Z

EventsOutPolicy Policy(std::vector<std::string> a_topics, std::vector<std::string> b_topics = {}) {
  EventsOutPolicy p;
  p.endpoints.push_back({"a", std::move(a_topics)});
  if (!b_topics.empty()) p.endpoints.push_back({"b", std::move(b_topics)});
  p.shops["demo"] = {"shopify", "demo.myshopify.com"};
  p.warn_ms = 7 * kDay;
  return p;
}

class SqliteEventsOutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = SqliteStorage::Open(dir_.File("loyaltyd.db"));
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    storage_ = std::move(opened).value();
    storage_->SetPointsPolicy(PointsPolicy{30 * kDay, 0});
  }

  // A paid order of customer 7001 earning `points`, delivered under `key`.
  Status Paid(const std::string& key, const std::string& order_id, int64_t points, int64_t at) {
    NewInboxEvent e{"demo", "shopify", "orders/paid", key, "d-" + key, "{}", at};
    auto stored = storage_->AppendToInbox({e});
    if (!stored.ok()) return stored.status();
    auto pending = storage_->LoadPendingEvents(0, 1000);
    int64_t event_id = 0;
    for (const auto& p : *pending) {
      if (p.dedupe_key == key) event_id = p.id;
    }
    EventOutcome o;
    o.event_id = event_id;
    o.reason = "paid";
    o.customer =
        CustomerIdentity{"demo", "7001", "ada@example.com", "ada@example.com", "Ada", "Lovelace"};
    o.order = OrderRecord{"demo", order_id, "#" + order_id, "USD", 4900, 4900, true, ""};
    o.points.push_back(PointsChange{"spend", "earn", points, "1 point per 1.00 USD"});
    o.received_at_ms = at;
    return storage_->CommitEventOutcomes({o}, at);
  }
  int64_t CustomerId() {
    auto found = storage_->FindCustomersByEmail("ada@example.com");
    return found.ok() && found->size() == 1 ? (*found)[0].id : 0;
  }
  std::vector<EventDeliveryRecord> Deliveries(const std::string& endpoint = "") {
    auto list = storage_->ListEventDeliveries(std::nullopt, endpoint, 0, 100);
    EXPECT_TRUE(list.ok());
    return list.ok() ? *list : std::vector<EventDeliveryRecord>{};
  }

  testing::TempDir dir_;
  std::unique_ptr<SqliteStorage> storage_;
};

TEST_F(SqliteEventsOutTest, AnEarnQueuesOneEventPerSubscribedEndpointOnce) {
  storage_->SetEventsOutPolicy(Policy({"points.earned"}, {"points.earned", "tier.changed"}));
  ASSERT_TRUE(Paid("evt-1", "6001", 49, kT0).ok());
  ASSERT_TRUE(Paid("evt-1-again", "6001", 49, kT0 + 1).ok());  // the same order again: no entry

  std::vector<EventDeliveryRecord> all = Deliveries();
  ASSERT_EQ(all.size(), 2u);
  std::set<std::string> endpoints;
  for (const EventDeliveryRecord& d : all) {
    endpoints.insert(d.endpoint_id);
    EXPECT_EQ(d.topic, "points.earned");
    EXPECT_EQ(d.status, JobStatus::kPending);
    EXPECT_EQ(d.customer_id, CustomerId());
  }
  EXPECT_EQ(endpoints, (std::set<std::string>{"a", "b"}));
  // One event: the same id and the very same body for both endpoints.
  EXPECT_EQ(all[0].event_id, all[1].event_id);
  EXPECT_EQ(all[0].body, all[1].body);

  const json body = json::parse(all[0].body);
  EXPECT_EQ(body["id"], all[0].event_id);
  EXPECT_EQ(body["topic"], "points.earned");
  EXPECT_EQ(body["created_at"], "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(body["shop"],
            (json{{"id", "demo"}, {"platform", "shopify"}, {"domain", "demo.myshopify.com"}}));
  EXPECT_EQ(body["customer"]["id"], CustomerId());
  EXPECT_EQ(body["customer"]["email"], "ada@example.com");
  EXPECT_EQ(body["customer"]["platform_customer_id"], "7001");
  EXPECT_EQ(body["data"]["points"], 49);
  EXPECT_EQ(body["data"]["balance_after"], 49);
  EXPECT_EQ(body["data"]["kind"], "earn");
  EXPECT_EQ(body["data"]["reason"], "1 point per 1.00 USD");
  EXPECT_EQ(body["data"]["order"], (json{{"platform_order_id", "6001"}, {"name", "#6001"}}));

  // The job rows are ordinary outbox jobs of kind event_out.
  auto jobs = storage_->ListJobs(std::nullopt, 0, 10);
  ASSERT_EQ(jobs->size(), 2u);
  EXPECT_EQ((*jobs)[0].kind, "event_out");
  EXPECT_EQ((*jobs)[0].shop_id, "demo");
}

// The event is written in the ledger change's transaction: when queueing it fails, the points
// are not credited either (the outcome is recorded as failed), and nothing is sent for a change
// that did not happen.
TEST_F(SqliteEventsOutTest, TheEventAndItsLedgerChangeCommitOrRollBackTogether) {
  storage_->SetEventsOutPolicy(Policy({"points.earned"}));
  ASSERT_TRUE(testing::ExecSql(dir_.File("loyaltyd.db"),
                               "CREATE TRIGGER fail_delivery BEFORE INSERT ON out_deliveries "
                               "BEGIN SELECT RAISE(ABORT, 'injected failure'); END;"));
  ASSERT_TRUE(Paid("evt-1", "6001", 49, kT0).ok());
  auto failed = storage_->ListEvents(EventStatus::kFailed, 0, 10);
  ASSERT_EQ(failed->size(), 1u);
  EXPECT_NE((*failed)[0].status_reason.find("injected failure"), std::string::npos)
      << (*failed)[0].status_reason;
  // No points, no event, no job: the whole outcome rolled back.
  auto found = storage_->FindCustomersByEmail("ada@example.com");
  if (!found->empty()) {
    EXPECT_EQ((*found)[0].points_balance, 0);
    EXPECT_TRUE(storage_->ListLedger((*found)[0].id, 0, 10)->empty());
  }
  EXPECT_TRUE(Deliveries().empty());
  EXPECT_TRUE(storage_->ListJobs(std::nullopt, 0, 10)->empty());
}

TEST_F(SqliteEventsOutTest, NothingIsQueuedWithoutASubscribedEndpoint) {
  ASSERT_TRUE(Paid("evt-1", "6001", 49, kT0).ok());  // no policy at all
  storage_->SetEventsOutPolicy(Policy({"points.redeemed"}));
  ASSERT_TRUE(Paid("evt-2", "6002", 10, kT0).ok());  // nobody wants points.earned
  EXPECT_TRUE(Deliveries().empty());
  auto jobs = storage_->ListJobs(std::nullopt, 0, 10);
  EXPECT_TRUE(jobs->empty());
}

TEST_F(SqliteEventsOutTest, ARedemptionQueuesPointsRedeemedInItsTransaction) {
  storage_->SetEventsOutPolicy(Policy({"points.redeemed"}));
  ASSERT_TRUE(Paid("evt-1", "6001", 600, kT0).ok());
  NewRedemption r;
  r.customer_id = CustomerId();
  r.shop_id = "demo";
  r.idempotency_key = "k1";
  r.reward_id = "five-off";
  r.reward_kind = "fixed_discount";
  r.reward_name = "5 off";
  r.points = 500;
  r.code = "LOY-ABC";
  r.currency = "USD";
  auto created = storage_->CreateRedemption(r, kT0 + 1000);
  ASSERT_TRUE(created.ok());
  // Refused for want of points: no ledger change, no event.
  r.idempotency_key = "k2";
  auto refused = storage_->CreateRedemption(r, kT0 + 2000);
  ASSERT_TRUE(refused.ok());
  ASSERT_EQ(refused->outcome, CreateRedemptionResult::Outcome::kInsufficientPoints);

  std::vector<EventDeliveryRecord> all = Deliveries();
  ASSERT_EQ(all.size(), 1u);
  const json body = json::parse(all[0].body);
  EXPECT_EQ(body["topic"], "points.redeemed");
  EXPECT_EQ(body["data"]["points"], 500);
  EXPECT_EQ(body["data"]["balance_after"], 100);
  EXPECT_EQ(body["data"]["reward_id"], "five-off");
  EXPECT_EQ(body["data"]["redemption_id"], created->redemption.id);
  EXPECT_EQ(body["data"]["reason"], "redeemed for 5 off");
}

TEST_F(SqliteEventsOutTest, SettlingADeliveryRecordsItsAnswer) {
  storage_->SetEventsOutPolicy(Policy({"points.earned"}));
  ASSERT_TRUE(Paid("evt-1", "6001", 49, kT0).ok());
  ASSERT_TRUE(Paid("evt-2", "6002", 10, kT0).ok());
  std::vector<EventDeliveryRecord> all = Deliveries();
  ASSERT_EQ(all.size(), 2u);
  ASSERT_TRUE(storage_->BeginJobAttempt(all[0].job_id, kT0 + 6000, kT0).ok());
  ASSERT_TRUE(storage_->CompleteEventJob(all[0].job_id, 204, kT0 + 10).ok());
  ASSERT_TRUE(storage_->CompleteEventJob(all[0].job_id, 200, kT0 + 20).ok());  // idempotent
  ASSERT_TRUE(storage_->FailEventJob(all[1].job_id, 410, "HTTP 410", kT0 + 30).ok());

  auto done = storage_->GetEventDelivery(all[0].job_id);
  ASSERT_TRUE(done.ok() && done->has_value());
  EXPECT_EQ((*done)->status, JobStatus::kDone);
  EXPECT_EQ((*done)->last_http_status, 204);
  EXPECT_EQ((*done)->delivered_at_ms, kT0 + 10);
  EXPECT_EQ((*done)->attempts, 1);
  auto failed = storage_->ListEventDeliveries(JobStatus::kFailed, "a", 0, 10);
  ASSERT_EQ(failed->size(), 1u);
  EXPECT_EQ((*failed)[0].last_http_status, 410);
  EXPECT_EQ((*failed)[0].last_error, "HTTP 410");
  // A failed delivery can be sent again by hand, like any failed job.
  ASSERT_TRUE(storage_->RetryJob(all[1].job_id, kT0 + 40).ok());
  EXPECT_EQ((*storage_->GetEventDelivery(all[1].job_id))->status, JobStatus::kPending);
  EXPECT_TRUE(storage_->ListEventDeliveries(std::nullopt, "b", 0, 10)->empty());
}

TEST_F(SqliteEventsOutTest, ExpiryWarningsAreQueuedOncePerCustomerAndDay) {
  storage_->SetEventsOutPolicy(Policy({"points.expiring"}));
  // Lots live 30 days: two expire on day 30, one on day 31.
  ASSERT_TRUE(Paid("evt-1", "6001", 40, kT0).ok());
  ASSERT_TRUE(Paid("evt-2", "6002", 9, kT0 + 1000).ok());
  ASSERT_TRUE(Paid("evt-3", "6003", 5, kT0 + kDay).ok());

  // Day 22: nothing within 7 days yet.
  EXPECT_EQ(storage_->QueueExpiryWarnings(kT0 + 22 * kDay)->warnings, 0);
  // Day 23.5: day 30's lots are within 7 days, day 31's not yet.
  EXPECT_EQ(storage_->QueueExpiryWarnings(kT0 + 23 * kDay + kDay / 2)->warnings, 1);
  EXPECT_EQ(storage_->QueueExpiryWarnings(kT0 + 23 * kDay + kDay / 2)->warnings, 0);
  // Day 24.5: day 31's lot now; day 30's not again.
  EXPECT_EQ(storage_->QueueExpiryWarnings(kT0 + 24 * kDay + kDay / 2)->warnings, 1);
  EXPECT_EQ(storage_->QueueExpiryWarnings(kT0 + 25 * kDay)->warnings, 0);

  std::vector<EventDeliveryRecord> all = Deliveries();
  ASSERT_EQ(all.size(), 2u);
  const json first = json::parse(all[1].body);  // newest first
  EXPECT_EQ(first["topic"], "points.expiring");
  EXPECT_EQ(first["data"]["points"], 49);
  EXPECT_EQ(first["data"]["expires_on"], "2026-01-31");
  EXPECT_EQ(first["data"]["expires_at"], "2026-01-31T00:00:00.000Z");
  EXPECT_EQ(first["data"]["balance"], 54);
  const json second = json::parse(all[0].body);
  EXPECT_EQ(second["data"]["points"], 5);
  EXPECT_EQ(second["data"]["expires_on"], "2026-02-01");
}

TEST_F(SqliteEventsOutTest, ExpiryWarningsSurviveReopeningTheDatabase) {
  storage_->SetEventsOutPolicy(Policy({"points.expiring"}));
  ASSERT_TRUE(Paid("evt-1", "6001", 40, kT0).ok());
  EXPECT_EQ(storage_->QueueExpiryWarnings(kT0 + 25 * kDay)->warnings, 1);
  storage_.reset();
  auto reopened = SqliteStorage::Open(dir_.File("loyaltyd.db"));
  ASSERT_TRUE(reopened.ok());
  storage_ = std::move(reopened).value();
  storage_->SetPointsPolicy(PointsPolicy{30 * kDay, 0});
  storage_->SetEventsOutPolicy(Policy({"points.expiring"}));
  EXPECT_EQ(storage_->QueueExpiryWarnings(kT0 + 26 * kDay)->warnings, 0);
  EXPECT_EQ(Deliveries().size(), 1u);
}

}  // namespace
}  // namespace loyaltyd::sqlite_events_out_test
