// Events out end to end (docs/events.md): the real loyaltyd binary sends signed event webhooks
// to a real receiver on loopback (tests/fakes/fake_event_receiver.h), which checks every
// signature the way a merchant's tool would. Covered: an order's points.earned with its body
// and signature; a receiver that is down, then answers 500, then comes back gets each event
// exactly once per event id; a redemption's points.redeemed; a tier change and a referral
// conversion; points.expiring not sent twice across daemon restarts; a reload that adds an
// endpoint; a bad config refused with the key named; and no secret in a trace-level log.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>

#include "connectors/shopify/shopify_samples.h"
#include "core/clock.h"
#include "fakes/fake_event_receiver.h"
#include "fakes/fake_shopify_admin.h"
#include "integration/daemon_harness.h"

namespace loyaltyd::testing::events_out_test {
namespace {

using fakes::FakeEventReceiver;
using fakes::FakeShopifyAdmin;
using fakes::ReceivedEvent;
using nlohmann::json;

constexpr const char* kEventSecret = "events-secret-1f3870be274f6c49b3e3";
constexpr const char* kRotatedEventSecret = "events-secret-rotated-8277e0910d75";
constexpr const char* kSecondSecret = "events-secret-second-4a8a08f09d37";
constexpr const char* kAllTopics[] = {"points.earned", "points.redeemed", "tier.changed",
                                      "referral.converted", "points.expiring"};

class EventsOutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(receiver_.Start());
    ASSERT_TRUE(store_.Start());
    store_.AddCustomer("7001", "ada@example.com");
    json& config = daemon_.config();
    config["logging"]["level"] = "trace";
    config["shops"][0]["api"] = {{"base_url", store_.base_url()},
                                 {"access_token", store_.options().access_token},
                                 {"api_version", "2025-07"},
                                 {"timeout_seconds", 1}};
    config["program"]["rewards"] = json::array(
        {{{"id", "five-off"}, {"points", 500}, {"kind", "fixed_discount"}, {"amount", "5.00"}}});
    config["outbox"] = {{"max_attempts", 100},
                        {"initial_backoff_ms", 50},
                        {"max_backoff_ms", 200},
                        {"poll_interval_ms", 20}};
    config["events_out"] = json::array({Endpoint("tool", receiver_, kEventSecret)});
  }

  static json Endpoint(const std::string& id, const FakeEventReceiver& receiver,
                       const std::string& secret) {
    return json{{"id", id},
                {"url", receiver.url()},
                {"secret", secret},
                {"topics", kAllTopics},
                {"timeout_seconds", 2}};
  }

  // A signed orders/paid of `subtotal` for a Shopify customer; waits until processed.
  void Order(uint64_t customer, const std::string& email, const std::string& subtotal,
             const std::string& landing_site = "") {
    ShopifySampleOptions options;
    options.order_id = 6'000'000'000'000'000 + ++orders_;
    options.customer_id = customer;
    options.email = email;
    options.subtotal = subtotal;
    Result<std::string> sample = ShopifySampleBody("orders/paid", options);
    ASSERT_TRUE(sample.ok());
    json order = json::parse(*sample);
    if (!landing_site.empty()) order["landing_site"] = landing_site;
    HttpAnswer ack = daemon_.PostShopifyWebhook("orders/paid", order.dump(),
                                                "evt-out-" + std::to_string(orders_));
    ASSERT_EQ(ack.status, 200) << ack.body;
    ASSERT_TRUE(daemon_.WaitUntilProcessed());
  }
  int64_t CustomerId(const std::string& email) {
    const json found = daemon_.Get("/api/v1/customers?email=" + email).Json();
    EXPECT_EQ(found["customers"].size(), 1u) << found.dump();
    return found["customers"].empty() ? 0 : found["customers"][0]["id"].get<int64_t>();
  }
  // The deliveries the receiver took (2xx, valid signature) with this topic.
  static std::vector<ReceivedEvent> OfTopic(const FakeEventReceiver& receiver,
                                            const std::string& topic) {
    std::vector<ReceivedEvent> out;
    for (const ReceivedEvent& e : receiver.delivered()) {
      if (e.topic == topic) out.push_back(e);
    }
    return out;
  }
  // Polls until the receiver took `n` deliveries of `topic`.
  bool WaitForTopic(const FakeEventReceiver& receiver, const std::string& topic, size_t n,
                    std::chrono::seconds timeout = std::chrono::seconds(20)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (OfTopic(receiver, topic).size() >= n) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return OfTopic(receiver, topic).size() >= n;
  }
  // GET /api/v1/events-out with a query.
  json Deliveries(const std::string& query = "") {
    HttpAnswer answer = daemon_.Get("/api/v1/events-out" + query);
    EXPECT_EQ(answer.status, 200) << answer.body;
    return answer.Json()["deliveries"];
  }

  // The deliveries `query` lists once there are at least `count` (or after 20 s, whatever they
  // are then): a receiver has an event before the worker records its answer.
  json WaitForDeliveries(const std::string& query, size_t count) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    json list = Deliveries(query);
    while (list.size() < count && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      list = Deliveries(query);
    }
    return list;
  }

  FakeEventReceiver receiver_{kEventSecret};
  FakeShopifyAdmin store_;
  DaemonHarness daemon_;
  int orders_ = 0;
};

TEST_F(EventsOutTest, AnOrdersPointsArriveAsASignedPointsEarnedEvent) {
  daemon_.Start();
  const int64_t before_s = SystemClock().NowMillis() / 1000;
  Order(7001, "ada@example.com", "49.00");
  ASSERT_TRUE(WaitForTopic(receiver_, "points.earned", 1));
  const ReceivedEvent got = OfTopic(receiver_, "points.earned")[0];
  EXPECT_TRUE(got.signature_valid);  // checked by the receiver with OpenSSL's HMAC
  EXPECT_EQ(got.content_type, "application/json");
  EXPECT_EQ(got.attempt, "1");
  EXPECT_GE(std::stoll(got.timestamp), before_s);
  EXPECT_LE(std::stoll(got.timestamp), SystemClock().NowMillis() / 1000);

  const json body = got.Json();
  const int64_t ada = CustomerId("ada@example.com");
  EXPECT_EQ(body["id"], got.event_id);
  EXPECT_EQ(got.event_id.rfind("evt_", 0), 0u);
  EXPECT_EQ(body["topic"], "points.earned");
  EXPECT_EQ(body["shop"], (json{{"id", "it"}, {"platform", "shopify"}, {"domain", kShopDomain}}));
  EXPECT_EQ(body["customer"]["id"], ada);
  EXPECT_EQ(body["customer"]["email"], "ada@example.com");
  EXPECT_EQ(body["customer"]["platform_customer_id"], "7001");
  EXPECT_EQ(body["data"]["points"], 49);
  EXPECT_EQ(body["data"]["balance_after"], 49);
  EXPECT_EQ(body["data"]["kind"], "earn");
  EXPECT_EQ(body["data"]["order"]["platform_order_id"], std::to_string(6'000'000'000'000'001));
  EXPECT_FALSE(body["data"]["reason"].get<std::string>().empty());

  // The admin API lists the delivery as done, with the event as sent.
  json list = WaitForDeliveries("?status=done&endpoint=tool", 1);
  ASSERT_EQ(list.size(), 1u) << list.dump();
  EXPECT_EQ(list[0]["event_id"], got.event_id);
  EXPECT_EQ(list[0]["topic"], "points.earned");
  EXPECT_EQ(list[0]["last_http_status"], 200);
  EXPECT_EQ(list[0]["attempts"], 1);
  EXPECT_EQ(list[0]["event"], body);
  EXPECT_FALSE(list[0]["delivered_at"].is_null());
  EXPECT_EQ(daemon_.Get("/api/v1/events-out?status=bogus").status, 400);
  EXPECT_EQ(daemon_.Get("/api/v1/events-out", "wrong-token-0123456789abcdef").status, 401);
  // The jobs list shows it too, as an event_out job.
  const json jobs = daemon_.Get("/api/v1/jobs").Json()["jobs"];
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0]["kind"], "event_out");
  EXPECT_EQ(daemon_.Stop(), 0);
}

TEST_F(EventsOutTest, AReceiverThatIsDownThenFailsThenRecoversGetsEachEventOnce) {
  daemon_.Start();
  const int port = receiver_.port();
  receiver_.Stop();  // connections refused
  for (int i = 0; i < 3; ++i) Order(7001, "ada@example.com", "10.00");
  // Every delivery has been tried (and refused) at least twice before the receiver returns.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  json pending;
  for (;;) {
    pending = Deliveries("?status=pending");
    bool all_retried = pending.size() == 3;
    for (const json& d : pending) all_retried = all_retried && d["attempts"].get<int>() >= 2;
    if (all_retried || std::chrono::steady_clock::now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(pending.size(), 3u) << pending.dump();
  for (const json& d : pending) {
    EXPECT_GE(d["attempts"].get<int>(), 2) << d.dump();
    EXPECT_TRUE(d["last_http_status"].is_null()) << d.dump();
    EXPECT_NE(d["last_error"].get<std::string>().find("no answer"), std::string::npos);
  }
  // Back, but the first two requests fail with 500 (retried with the same event id).
  receiver_.FailNext(2, 500);
  ASSERT_TRUE(receiver_.Start(port));
  ASSERT_TRUE(receiver_.WaitForDelivered(3));
  // Settled: every job done, so nothing more is sent.
  ASSERT_EQ(WaitForDeliveries("?status=done", 3).size(), 3u);
  const std::vector<ReceivedEvent> delivered = receiver_.delivered();
  std::set<std::string> ids;
  for (const ReceivedEvent& e : delivered) ids.insert(e.event_id);
  EXPECT_EQ(delivered.size(), 3u);  // exactly once each
  EXPECT_EQ(ids.size(), 3u);        // three distinct events
  // The 500s were for events later delivered under the same id and body.
  size_t failed = 0;
  for (const ReceivedEvent& e : receiver_.requests()) {
    if (e.answered != 500) continue;
    ++failed;
    EXPECT_TRUE(e.signature_valid);
    EXPECT_EQ(ids.count(e.event_id), 1u);
    for (const ReceivedEvent& d : delivered) {
      if (d.event_id == e.event_id) {
        EXPECT_EQ(d.body, e.body);
      }
    }
  }
  EXPECT_EQ(failed, 2u);
  EXPECT_EQ(daemon_.Stop(), 0);
}

TEST_F(EventsOutTest, ARedemptionSendsPointsRedeemed) {
  daemon_.Start();
  Order(7001, "ada@example.com", "600.00");
  const int64_t ada = CustomerId("ada@example.com");
  HttpAnswer redeemed =
      daemon_.Post("/api/v1/customers/" + std::to_string(ada) + "/redemptions",
                   json{{"reward", "five-off"}}.dump(), {{"Idempotency-Key", "redeem-1"}});
  ASSERT_EQ(redeemed.status, 201) << redeemed.body;
  ASSERT_TRUE(WaitForTopic(receiver_, "points.redeemed", 1));
  const json body = OfTopic(receiver_, "points.redeemed")[0].Json();
  EXPECT_EQ(body["customer"]["id"], ada);
  EXPECT_EQ(body["data"]["points"], 500);
  EXPECT_EQ(body["data"]["balance_after"], 100);
  EXPECT_EQ(body["data"]["reward_id"], "five-off");
  EXPECT_EQ(body["data"]["redemption_id"], redeemed.Json()["id"]);
  // The same request again changes nothing and sends nothing.
  ASSERT_EQ(daemon_
                .Post("/api/v1/customers/" + std::to_string(ada) + "/redemptions",
                      json{{"reward", "five-off"}}.dump(), {{"Idempotency-Key", "redeem-1"}})
                .status,
            200);
  ASSERT_TRUE(WaitForTopic(receiver_, "points.earned", 1));
  EXPECT_EQ(Deliveries("?endpoint=tool").size(), 2u);  // earned, redeemed
  EXPECT_EQ(daemon_.Stop(), 0);
}

TEST_F(EventsOutTest, ATierChangeAndAReferralConversionAreSent) {
  json& config = daemon_.config();
  config["program"]["tiers"] = json::parse(R"({
    "metric": "spend",
    "window": {"kind": "rolling", "days": 365},
    "keep_for": {"kind": "until_end_of_next_year"},
    "levels": [{"id": "silver", "name": "Silver", "threshold": "500.00"}]
  })");
  // The sample orders share one address and phone: only the email guard stays on.
  config["program"]["referrals"] = {{"advocate_reward", {{"kind", "points"}, {"points", 250}}},
                                    {"guards", {{"same_address", false}, {"same_phone", false}}}};
  daemon_.Start();

  Order(7001, "ada@example.com", "600.00");  // Silver
  ASSERT_TRUE(WaitForTopic(receiver_, "tier.changed", 1));
  const int64_t ada = CustomerId("ada@example.com");
  json tier = OfTopic(receiver_, "tier.changed")[0].Json();
  EXPECT_EQ(tier["customer"]["id"], ada);
  EXPECT_TRUE(tier["data"]["from"].is_null()) << tier.dump();
  EXPECT_EQ(tier["data"]["to"], "silver");
  EXPECT_FALSE(tier["data"]["reason"].get<std::string>().empty());

  // Bob follows Ada's share link and orders: the referral converts and Ada gets 250 points.
  const HttpAnswer link = daemon_.Get("/api/v1/customers/" + std::to_string(ada) + "/referral");
  ASSERT_EQ(link.status, 200) << link.body;
  const std::string code = link.Json()["code"];
  Order(8001, "bob@example.com", "60.00", "/?ref=" + code);
  ASSERT_TRUE(WaitForTopic(receiver_, "referral.converted", 1));
  const json referral = OfTopic(receiver_, "referral.converted")[0].Json();
  const int64_t bob = CustomerId("bob@example.com");
  EXPECT_EQ(referral["customer"]["id"], ada);  // the advocate: who the message is for
  EXPECT_EQ(referral["data"]["friend_customer_id"], bob);
  EXPECT_EQ(referral["data"]["reward"]["points"], 250);
  EXPECT_TRUE(referral["data"]["referral_id"].is_number());
  // The advocate's points come as their own points.earned, of kind "referral".
  ASSERT_TRUE(WaitForTopic(receiver_, "points.earned", 3));  // Ada's order, Bob's, Ada's reward
  bool referral_points = false;
  for (const ReceivedEvent& e : OfTopic(receiver_, "points.earned")) {
    const json b = e.Json();
    if (b["data"]["kind"] == "referral") {
      referral_points = true;
      EXPECT_EQ(b["customer"]["id"], ada);
      EXPECT_EQ(b["data"]["points"], 250);
      EXPECT_EQ(b["data"]["balance_after"], 850);
    }
  }
  EXPECT_TRUE(referral_points);
  EXPECT_EQ(daemon_.Stop(), 0);
}

TEST_F(EventsOutTest, PointsExpiringSoonIsSentOnceAcrossRestarts) {
  // Lots live 3 days and the warning comes 7 days ahead: a lot is "expiring soon" as soon as
  // it exists, and the points run at each start finds it.
  daemon_.config()["program"]["expiry"] = {{"lot_age_days", 3}, {"warn_days", 7}};
  daemon_.Start();
  Order(7001, "ada@example.com", "49.00");
  ASSERT_EQ(daemon_.Stop(), 0);
  daemon_.Start();  // the points run at start queues the warning
  ASSERT_TRUE(WaitForTopic(receiver_, "points.expiring", 1));
  const json warning = OfTopic(receiver_, "points.expiring")[0].Json();
  EXPECT_EQ(warning["customer"]["email"], "ada@example.com");
  EXPECT_EQ(warning["data"]["points"], 49);
  EXPECT_EQ(warning["data"]["balance"], 49);
  EXPECT_EQ(warning["data"]["expires_on"].get<std::string>().size(), 10u);
  ASSERT_EQ(daemon_.Stop(), 0);

  daemon_.Start();  // and again: the warning is remembered in the database
  std::string out;
  const std::string config = daemon_.dir() + "/config.json";
  ASSERT_EQ(DaemonHarness::RunCli("expire --config " + config, out), 0) << out;
  EXPECT_NE(out.find("0 points.expiring event(s) queued"), std::string::npos) << out;
  // Another event goes through the same outbox after whatever the start run queued.
  Order(7001, "ada@example.com", "10.00");
  ASSERT_TRUE(WaitForTopic(receiver_, "points.earned", 2));
  EXPECT_EQ(OfTopic(receiver_, "points.expiring").size(), 1u);
  EXPECT_EQ(Deliveries("?endpoint=tool").size(), 3u);  // 2 earned + 1 expiring
  EXPECT_EQ(daemon_.Stop(), 0);
}

TEST_F(EventsOutTest, AReloadAddsAnEndpointAndRotatesASecretWithoutLoggingThem) {
  daemon_.Start();
  Order(7001, "ada@example.com", "10.00");
  ASSERT_TRUE(WaitForTopic(receiver_, "points.earned", 1));

  FakeEventReceiver second{kSecondSecret};
  ASSERT_TRUE(second.Start());
  FakeEventReceiver rotated{kRotatedEventSecret, "/hooks/loyalty"};
  json& config = daemon_.config();
  config["events_out"][0]["secret"] = kRotatedEventSecret;
  config["events_out"].push_back(Endpoint("second", second, kSecondSecret));
  config["events_out"][1]["topics"] = {"points.earned"};
  daemon_.WriteConfig();
  daemon_.Reload();
  ASSERT_TRUE(daemon_.WaitForLog("events_out changed"));

  // The first receiver now expects the rotated secret.
  const int port = receiver_.port();
  receiver_.Stop();
  ASSERT_TRUE(rotated.Start(port));
  Order(7001, "ada@example.com", "20.00");
  ASSERT_TRUE(WaitForTopic(second, "points.earned", 1));
  ASSERT_TRUE(WaitForTopic(rotated, "points.earned", 1));
  const ReceivedEvent a = OfTopic(rotated, "points.earned")[0];
  const ReceivedEvent b = OfTopic(second, "points.earned")[0];
  EXPECT_EQ(a.event_id, b.event_id);  // one event, two deliveries
  EXPECT_EQ(a.body, b.body);
  EXPECT_EQ(a.Json()["data"]["points"], 20);
  EXPECT_EQ(daemon_.Stop(), 0);

  const std::string log = daemon_.ReadLog();
  for (const char* secret : {kEventSecret, kRotatedEventSecret, kSecondSecret}) {
    EXPECT_EQ(log.find(secret), std::string::npos) << "secret in the log: " << secret;
  }
  // Nor a signature: the log says which event went where, not what proved it.
  EXPECT_EQ(log.find(a.signature), std::string::npos);
}

TEST_F(EventsOutTest, ABadEndpointIsRefusedWithItsKeyNamed) {
  json bad = daemon_.config();
  bad["events_out"][0]["url"] = "ftp://hooks.example.com/x";
  bad["events_out"][0]["secret"] = "short-secret";
  bad["events_out"][0]["topics"] = {"points.earned", "points.spent"};
  bad["events_out"].push_back(Endpoint("tool", receiver_, kEventSecret));
  const std::string path = daemon_.dir() + "/bad.json";
  std::ofstream(path) << bad.dump(2);
  std::string out;
  EXPECT_EQ(DaemonHarness::RunCli("check-config " + path, out), 2) << out;
  EXPECT_NE(out.find("events_out[0].url"), std::string::npos) << out;
  EXPECT_NE(out.find("events_out[0].secret: must be at least 16 characters"), std::string::npos)
      << out;
  EXPECT_NE(out.find("events_out[0].topics[1]: unknown topic 'points.spent'"), std::string::npos)
      << out;
  EXPECT_NE(out.find("events_out[1].id: duplicate events_out id 'tool'"), std::string::npos) << out;
  EXPECT_EQ(out.find("short-secret"), std::string::npos) << out;

  // A running daemon refuses the same file on reload and keeps its endpoints.
  daemon_.Start();
  bad["server"]["listen"] = daemon_.config()["server"]["listen"];
  daemon_.config() = bad;
  daemon_.WriteConfig();
  daemon_.Reload();
  ASSERT_TRUE(daemon_.WaitForLog("events_out[0].url"));
  Order(7001, "ada@example.com", "10.00");
  ASSERT_TRUE(WaitForTopic(receiver_, "points.earned", 1));
  EXPECT_EQ(daemon_.Stop(), 0);
}

}  // namespace
}  // namespace loyaltyd::testing::events_out_test
