// The outbox worker's event_out jobs (src/outbox/outbox_events.cc) against a real SQLite file
// and a real HTTP receiver on loopback (tests/fakes/fake_event_receiver.h): signed delivery,
// retries on 5xx and refused connections, permanent failure on 410, and the answer classes.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "events_out/event_signature.h"
#include "fakes/fake_event_receiver.h"
#include "outbox/event_sender.h"
#include "outbox/outbox_worker.h"
#include "storage/sqlite_storage.h"
#include "support/temp_dir.h"

namespace loyaltyd::outbox_events_test {
namespace {

using fakes::FakeEventReceiver;
using nlohmann::json;

constexpr const char* kSecret = "evt-secret-0123456789abcdef";

class TestClock final : public Clock {
 public:
  int64_t NowMillis() const override { return now_ms; }
  int64_t now_ms = 1'767'225'600'000;
};

class OutboxEventsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(receiver_.Start());
    auto opened = SqliteStorage::Open(dir_.File("loyaltyd.db"));
    ASSERT_TRUE(opened.ok());
    storage_ = std::move(opened).value();
    EventsOutEndpoint endpoint;
    endpoint.id = "tool";
    endpoint.url = receiver_.url();
    endpoint.secret = kSecret;
    endpoint.topics = {"points.earned"};
    endpoint.timeout_seconds = 1;
    config_.events_out = {endpoint};
    config_.outbox.max_attempts = 3;
    config_.outbox.initial_backoff_ms = 1000;
    EventsOutPolicy policy;
    policy.endpoints.push_back({"tool", {"points.earned"}});
    storage_->SetEventsOutPolicy(policy);
    worker_ = std::make_unique<OutboxWorker>(config_, *storage_, clock_,
                                             std::map<std::string, RewardClient*>{});
  }

  void Earn(const std::string& order_id) {
    const std::string key = "paid-" + order_id;
    NewInboxEvent e{"demo", "shopify", "orders/paid", key, key, "{}", clock_.now_ms};
    ASSERT_TRUE(storage_->AppendToInbox({e}).ok());
    int64_t event_id = 0;
    Result<std::vector<InboxEvent>> pending = storage_->LoadPendingEvents(0, 100);
    ASSERT_TRUE(pending.ok());
    for (const auto& p : *pending) {
      if (p.dedupe_key == key) event_id = p.id;
    }
    EventOutcome o;
    o.event_id = event_id;
    o.reason = "paid";
    o.customer = CustomerIdentity{"demo", "7001", "ada@example.com", "ada@example.com", "", ""};
    o.order = OrderRecord{"demo", order_id, "#" + order_id, "USD", 4900, 4900, true, ""};
    o.points.push_back(PointsChange{"spend", "earn", 49, "spend"});
    o.received_at_ms = clock_.now_ms;
    ASSERT_TRUE(storage_->CommitEventOutcomes({o}, clock_.now_ms).ok());
  }
  EventDeliveryRecord Only() {
    auto list = storage_->ListEventDeliveries(std::nullopt, "", 0, 10);
    EXPECT_EQ(list->size(), 1u);
    return list->empty() ? EventDeliveryRecord{} : (*list)[0];
  }

  FakeEventReceiver receiver_{kSecret};
  testing::TempDir dir_;
  std::unique_ptr<SqliteStorage> storage_;
  Config config_;
  TestClock clock_;
  std::unique_ptr<OutboxWorker> worker_;
};

TEST(EventResponseTest, ClassifiesAnswers) {
  EXPECT_EQ(ClassifyEventResponse(200), EventResponseAction::kDelivered);
  EXPECT_EQ(ClassifyEventResponse(204), EventResponseAction::kDelivered);
  EXPECT_EQ(ClassifyEventResponse(0), EventResponseAction::kRetry);
  EXPECT_EQ(ClassifyEventResponse(408), EventResponseAction::kRetry);
  EXPECT_EQ(ClassifyEventResponse(429), EventResponseAction::kRetry);
  EXPECT_EQ(ClassifyEventResponse(500), EventResponseAction::kRetry);
  EXPECT_EQ(ClassifyEventResponse(503), EventResponseAction::kRetry);
  EXPECT_EQ(ClassifyEventResponse(301), EventResponseAction::kFail);
  EXPECT_EQ(ClassifyEventResponse(400), EventResponseAction::kFail);
  EXPECT_EQ(ClassifyEventResponse(401), EventResponseAction::kFail);
  EXPECT_EQ(ClassifyEventResponse(410), EventResponseAction::kFail);
}

TEST_F(OutboxEventsTest, DeliversTheStoredBodySignedWithItsHeaders) {
  Earn("6001");
  ASSERT_EQ(storage_->ListEventDeliveries(std::nullopt, "", 0, 10)->size(), 1u);
  Result<std::vector<OutboxJob>> due = storage_->LoadDueJobs(clock_.now_ms, 16);
  ASSERT_TRUE(due.ok());
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ((*due)[0].kind, "event_out");
  ASSERT_EQ(*worker_->RunOnce(), 1);
  std::vector<fakes::ReceivedEvent> got = receiver_.delivered();
  ASSERT_EQ(got.size(), 1u);
  const EventDeliveryRecord d = Only();
  EXPECT_EQ(d.status, JobStatus::kDone);
  EXPECT_EQ(d.last_http_status, 200);
  EXPECT_EQ(got[0].body, d.body);
  EXPECT_EQ(got[0].topic, "points.earned");
  EXPECT_EQ(got[0].event_id, d.event_id);
  EXPECT_EQ(got[0].attempt, "1");
  EXPECT_EQ(got[0].timestamp, std::to_string(clock_.now_ms / 1000));
  EXPECT_EQ(got[0].content_type, "application/json");
  EXPECT_TRUE(VerifyEventSignature(kSecret, got[0].timestamp, got[0].body, got[0].signature,
                                   clock_.now_ms / 1000, 300));
  EXPECT_EQ(*worker_->RunOnce(), 0);  // nothing left
}

TEST_F(OutboxEventsTest, A500IsRetriedWithTheSameEventIdAndBody) {
  Earn("6001");
  receiver_.FailNext(1, 500);
  ASSERT_EQ(*worker_->RunOnce(), 1);
  EventDeliveryRecord d = Only();
  EXPECT_EQ(d.status, JobStatus::kPending);
  EXPECT_EQ(d.last_http_status, 500);
  EXPECT_NE(d.last_error.find("HTTP 500"), std::string::npos) << d.last_error;
  EXPECT_EQ(*worker_->RunOnce(), 0);  // backing off
  clock_.now_ms += 60'000;
  ASSERT_EQ(*worker_->RunOnce(), 1);
  d = Only();
  EXPECT_EQ(d.status, JobStatus::kDone);
  std::vector<fakes::ReceivedEvent> all = receiver_.requests();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].event_id, all[1].event_id);
  EXPECT_EQ(all[0].body, all[1].body);
  EXPECT_EQ(all[1].attempt, "2");
  EXPECT_EQ(receiver_.delivered().size(), 1u);
}

TEST_F(OutboxEventsTest, ARefusedConnectionIsRetriedUntilTheAttemptLimit) {
  Earn("6001");
  receiver_.Stop();
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(*worker_->RunOnce(), 1);
    clock_.now_ms += 600'000;
  }
  const EventDeliveryRecord d = Only();
  EXPECT_EQ(d.status, JobStatus::kFailed);  // given up after max_attempts (3)
  EXPECT_EQ(d.attempts, 3);
  EXPECT_EQ(d.last_http_status, 0);
  EXPECT_NE(d.last_error.find("no answer"), std::string::npos) << d.last_error;
  // Back up, retried by hand: delivered once.
  ASSERT_TRUE(receiver_.Start(receiver_.port()));
  ASSERT_TRUE(storage_->RetryJob(d.job_id, clock_.now_ms).ok());
  ASSERT_EQ(*worker_->RunOnce(), 1);
  EXPECT_EQ(Only().status, JobStatus::kDone);
  EXPECT_EQ(receiver_.delivered().size(), 1u);
}

TEST_F(OutboxEventsTest, A429WaitsAtLeastItsRetryAfter) {
  Earn("6001");
  receiver_.FailNext(1, 429, /*retry_after_seconds=*/120);
  ASSERT_EQ(*worker_->RunOnce(), 1);
  EventDeliveryRecord d = Only();
  EXPECT_EQ(d.status, JobStatus::kPending);
  EXPECT_EQ(d.last_http_status, 429);
  EXPECT_GE(d.next_attempt_at_ms, clock_.now_ms + 120'000);
  clock_.now_ms += 119'000;
  EXPECT_EQ(*worker_->RunOnce(), 0);  // the back-off alone (1 s) would have been due
  clock_.now_ms += 1'000;
  ASSERT_EQ(*worker_->RunOnce(), 1);
  EXPECT_EQ(Only().status, JobStatus::kDone);
}

TEST_F(OutboxEventsTest, GoneIsAPermanentFailure) {
  Earn("6001");
  receiver_.FailNext(1, 410);
  ASSERT_EQ(*worker_->RunOnce(), 1);
  const EventDeliveryRecord d = Only();
  EXPECT_EQ(d.status, JobStatus::kFailed);
  EXPECT_EQ(d.attempts, 1);
  EXPECT_EQ(d.last_http_status, 410);
  clock_.now_ms += 3'600'000;
  EXPECT_EQ(*worker_->RunOnce(), 0);
  EXPECT_EQ(receiver_.requests().size(), 1u);
}

TEST_F(OutboxEventsTest, ASlowReceiverTimesOutAndIsRetried) {
  Earn("6001");
  receiver_.DelayNext(1, std::chrono::milliseconds(2500));  // the endpoint's timeout is 1 s
  ASSERT_EQ(*worker_->RunOnce(), 1);
  EventDeliveryRecord d = Only();
  EXPECT_EQ(d.status, JobStatus::kPending);
  EXPECT_EQ(d.last_http_status, 0);
  EXPECT_NE(d.last_error.find("no answer"), std::string::npos) << d.last_error;
  clock_.now_ms += 60'000;
  ASSERT_EQ(*worker_->RunOnce(), 1);
  EXPECT_EQ(Only().status, JobStatus::kDone);
}

TEST_F(OutboxEventsTest, ARemovedEndpointFailsItsDeliveriesForTheMerchant) {
  Earn("6001");
  config_.events_out.clear();
  ASSERT_EQ(*worker_->RunOnce(), 1);
  const EventDeliveryRecord d = Only();
  EXPECT_EQ(d.status, JobStatus::kFailed);
  EXPECT_NE(d.last_error.find("no longer in the config"), std::string::npos) << d.last_error;
  EXPECT_TRUE(receiver_.requests().empty());
}

}  // namespace
}  // namespace loyaltyd::outbox_events_test
