// Action rules and campaigns end to end: the real loyaltyd binary pays non-purchase actions
// through POST /api/v1/customers/{id}/actions within their limits, exactly once per
// Idempotency-Key, and applies campaigns to signed order webhooks.
#include <gtest/gtest.h>

#include <thread>

#include "connectors/shopify/shopify_samples.h"
#include "integration/daemon_harness.h"

namespace loyaltyd::testing::actions_test {
namespace {

using nlohmann::json;

class ActionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    json& program = daemon_.config()["program"];
    program["earn"].push_back(
        {{"type", "action"}, {"action", "signup"}, {"points", 100}, {"limit", "once"}});
    program["earn"].push_back({{"type", "action"},
                               {"action", "review"},
                               {"points", 50},
                               {"limit", "per_period"},
                               {"period", "day"},
                               {"max_per_period", 2}});
    // The sample orders are created at 2026-01-01T10:00:00-05:00.
    program["campaigns"] = json::array({{{"id", "new-year"},
                                         {"name", "New Year"},
                                         {"starts_at", "2026-01-01T00:00:00Z"},
                                         {"ends_at", "2026-01-02T00:00:00Z"},
                                         {"multiplier", "2"}},
                                        {{"id", "new-year-bonus"},
                                         {"name", "New Year bonus"},
                                         {"starts_at", "2026-01-01T00:00:00Z"},
                                         {"ends_at", "2026-01-02T00:00:00Z"},
                                         {"bonus_points", 10}}});
    daemon_.Start();
    ShopifySampleOptions options;
    options.order_id = 4'000'000'000'000'001;
    options.customer_id = 7001;
    options.email = "ada@example.com";
    options.subtotal = "49.00";
    Result<std::string> body = ShopifySampleBody("orders/paid", options);
    ASSERT_TRUE(body.ok());
    ASSERT_EQ(daemon_.PostShopifyWebhook("orders/paid", *body, "evt-1").status, 200);
    ASSERT_TRUE(daemon_.WaitUntilProcessed());
    customer_ = daemon_.Get("/api/v1/customers?email=ada@example.com").Json()["customers"][0]["id"];
  }

  HttpAnswer Act(const json& body, const std::string& key) {
    httplib::Headers headers;
    if (!key.empty()) headers.emplace("Idempotency-Key", key);
    return daemon_.Post("/api/v1/customers/" + std::to_string(customer_) + "/actions", body.dump(),
                        headers);
  }
  int64_t Balance() {
    return daemon_.Get("/api/v1/customers/" + std::to_string(customer_)).Json()["points_balance"];
  }

  DaemonHarness daemon_;
  int64_t customer_ = 0;
};

TEST_F(ActionsTest, CampaignsApplyToTheOrderInTheirWindow) {
  // 49 points doubled, plus the bonus as an entry of its own.
  EXPECT_EQ(Balance(), 108);
  const json ledger =
      daemon_.Get("/api/v1/customers/" + std::to_string(customer_) + "/ledger").Json();
  ASSERT_EQ(ledger["entries"].size(), 2u) << ledger.dump();
  EXPECT_EQ(ledger["entries"][1]["rule_id"], "spend");
  EXPECT_EQ(ledger["entries"][1]["points"], 98);
  EXPECT_EQ(ledger["entries"][1]["description"],
            "1 point per 1.00 USD on eligible spend of 49.00 USD; 2x New Year: 98 points");
  EXPECT_EQ(ledger["entries"][0]["rule_id"], "campaign:new-year-bonus");
  EXPECT_EQ(ledger["entries"][0]["points"], 10);
  EXPECT_EQ(ledger["entries"][0]["description"], "New Year bonus: bonus of 10 points");
}

TEST_F(ActionsTest, AnActionEarnsOnceWithinItsLimitAndARetryGetsTheSameAnswer) {
  HttpAnswer first = Act(
      {{"action", "review"}, {"occurred_at", "2026-01-05T10:00:00Z"}, {"reference", "review-123"}},
      "review-key-1");
  ASSERT_EQ(first.status, 201) << first.body;
  const json awarded = first.Json();
  EXPECT_EQ(awarded["outcome"], "awarded");
  EXPECT_EQ(awarded["points"], 50);
  EXPECT_EQ(awarded["points_balance"], 158);
  EXPECT_EQ(awarded["period"], "2026-01-05");
  EXPECT_EQ(awarded["awards_in_period"], 1);
  EXPECT_EQ(awarded["max_per_period"], 2);
  EXPECT_EQ(awarded["next_period_starts_at"], "2026-01-06T00:00:00.000Z");
  EXPECT_EQ(awarded["ledger_entry"]["kind"], "action");
  EXPECT_EQ(awarded["ledger_entry"]["rule_id"], "review");
  EXPECT_EQ(awarded["ledger_entry"]["description"],
            "review: 50 points (1 of 2 this day, 2026-01-05), reference review-123");

  // A retry (same key, same request): the same answer, flagged, and no points twice.
  HttpAnswer retry = Act(
      {{"action", "review"}, {"occurred_at", "2026-01-05T10:00:00Z"}, {"reference", "review-123"}},
      "review-key-1");
  ASSERT_EQ(retry.status, 200) << retry.body;
  EXPECT_EQ(retry.Json(), awarded);
  EXPECT_EQ(Balance(), 158);

  // The same key for another request is a client bug, said so.
  HttpAnswer reused = Act({{"action", "signup"}}, "review-key-1");
  EXPECT_EQ(reused.status, 422) << reused.body;
  EXPECT_NE(reused.Json()["error"].get<std::string>().find("already used"), std::string::npos);

  ASSERT_EQ(Act({{"action", "review"}, {"occurred_at", "2026-01-05T11:00:00Z"}}, "k2").status, 201);
  HttpAnswer limited = Act({{"action", "review"}, {"occurred_at", "2026-01-05T23:00:00Z"}}, "k3");
  ASSERT_EQ(limited.status, 409) << limited.body;
  EXPECT_EQ(limited.Json()["outcome"], "limit_reached");
  EXPECT_EQ(limited.Json()["error"],
            "limit reached: review earns points at most 2 times per day (2026-01-05, UTC); the "
            "next day starts at 2026-01-06T00:00:00.000Z");
  EXPECT_EQ(limited.Json()["next_period_starts_at"], "2026-01-06T00:00:00.000Z");
  HttpAnswer limited_again =
      Act({{"action", "review"}, {"occurred_at", "2026-01-05T23:00:00Z"}}, "k3");
  EXPECT_EQ(limited_again.status, 409);
  EXPECT_EQ(limited_again.Json(), limited.Json());
  EXPECT_EQ(Act({{"action", "review"}, {"occurred_at", "2026-01-06T00:00:00Z"}}, "k4").status, 201);
  EXPECT_EQ(Balance(), 258);

  // Once ever, with occurred_at defaulting to now.
  EXPECT_EQ(Act({{"action", "signup"}}, "signup-1").status, 201);
  HttpAnswer again = Act({{"action", "signup"}}, "signup-2");
  EXPECT_EQ(again.status, 409);
  EXPECT_TRUE(again.Json()["next_period_starts_at"].is_null());
  EXPECT_EQ(Balance(), 358);

  const json ledger =
      daemon_.Get("/api/v1/customers/" + std::to_string(customer_) + "/ledger").Json();
  int actions = 0;
  for (const json& e : ledger["entries"]) actions += e["kind"] == "action" ? 1 : 0;
  EXPECT_EQ(actions, 4);
}

TEST_F(ActionsTest, ConcurrentRequestsNeverExceedTheLimit) {
  constexpr int kRequests = 12;
  std::vector<int> statuses(kRequests, 0);
  std::vector<std::thread> threads;
  for (int i = 0; i < kRequests; ++i) {
    threads.emplace_back([&, i] {
      // Each thread its own connection (the harness's client is not for concurrent use).
      httplib::Client client("127.0.0.1", daemon_.port());
      httplib::Headers headers{{"Authorization", std::string("Bearer ") + kAdminToken},
                               {"Idempotency-Key", "race-" + std::to_string(i)}};
      auto res = client.Post("/api/v1/customers/" + std::to_string(customer_) + "/actions", headers,
                             R"({"action":"review","occurred_at":"2026-02-01T12:00:00Z"})",
                             "application/json");
      statuses[i] = res ? res->status : 0;
    });
  }
  for (std::thread& t : threads) t.join();
  int created = 0, limited = 0;
  for (int s : statuses) {
    created += s == 201;
    limited += s == 409;
  }
  EXPECT_EQ(created, 2);
  EXPECT_EQ(limited, kRequests - 2);
  EXPECT_EQ(Balance(), 108 + 2 * 50);
}

TEST_F(ActionsTest, BadRequestsSayWhatToSend) {
  HttpAnswer no_key = Act({{"action", "review"}}, "");
  EXPECT_EQ(no_key.status, 400);
  EXPECT_NE(no_key.Json()["error"].get<std::string>().find("Idempotency-Key header is required"),
            std::string::npos);
  HttpAnswer unknown = Act({{"action", "tweet"}}, "u1");
  EXPECT_EQ(unknown.status, 422);
  EXPECT_EQ(unknown.Json()["error"],
            "no action rule for 'tweet' in program.earn; configured actions: signup, review");
  EXPECT_EQ(Act({{"action", "review"}, {"points", 5}}, "u2").status, 400);
  EXPECT_EQ(Act({{"action", 5}}, "u3").status, 400);
  EXPECT_EQ(Act(json::object(), "u4").status, 400);
  EXPECT_EQ(Act({{"action", "review"}, {"occurred_at", "yesterday"}}, "u5").status, 422);
  EXPECT_EQ(Act({{"action", "review"}, {"occurred_at", "2999-01-01T00:00:00Z"}}, "u6").status, 422);
  EXPECT_EQ(daemon_
                .Post("/api/v1/customers/999999/actions", R"({"action":"review"})",
                      {{"Idempotency-Key", "u7"}})
                .status,
            404);
  EXPECT_EQ(Balance(), 108);
}

}  // namespace
}  // namespace loyaltyd::testing::actions_test
