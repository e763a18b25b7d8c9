// VIP tiers end to end: signed orders push a customer into a tier in the real loyaltyd binary,
// the tier's multiplier applies to the next order, the change is in the customer's ledger and
// admin API, and the outbox writes the tier's tag into a fake Shopify store.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "connectors/shopify/shopify_samples.h"
#include "fakes/fake_shopify_admin.h"
#include "integration/daemon_harness.h"

namespace loyaltyd::testing::tiers_test {
namespace {

using fakes::FakeShopifyAdmin;
using nlohmann::json;

constexpr uint64_t kCustomer = 7001;

class TiersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(store_.Start());
    store_.AddCustomer(std::to_string(kCustomer), "ada@example.com");
    json& config = daemon_.config();
    config["shops"][0]["api"] = {{"base_url", store_.base_url()},
                                 {"access_token", store_.options().access_token},
                                 {"api_version", "2025-07"},
                                 {"timeout_seconds", 1}};
    config["program"]["tiers"] = json::parse(R"({
      "metric": "spend",
      "window": {"kind": "rolling", "days": 365},
      "keep_for": {"kind": "until_end_of_next_year"},
      "levels": [
        {"id": "silver", "name": "Silver", "threshold": "500.00", "multiplier": "1.25",
         "tags": ["vip-silver"]},
        {"id": "gold", "name": "Gold", "threshold": "1500.00", "multiplier": "1.5",
         "tags": ["vip-gold"]}
      ]
    })");
    config["outbox"] = {
        {"initial_backoff_ms", 50}, {"max_backoff_ms", 200}, {"poll_interval_ms", 20}};
    daemon_.Start();
  }

  void Order(const std::string& subtotal) {
    ShopifySampleOptions options;
    options.order_id = 6'000'000'000'000'000 + ++orders_;
    options.customer_id = kCustomer;
    options.email = "ada@example.com";
    options.subtotal = subtotal;
    Result<std::string> body = ShopifySampleBody("orders/paid", options);
    ASSERT_TRUE(body.ok());
    HttpAnswer ack =
        daemon_.PostShopifyWebhook("orders/paid", *body, "evt-tier-" + std::to_string(orders_));
    ASSERT_EQ(ack.status, 200) << ack.body;
    ASSERT_TRUE(daemon_.WaitUntilProcessed());
  }

  // Polls the fake store until the customer's tags are `expected` (the outbox works on its
  // own thread); returns the tags seen last.
  std::vector<std::string> WaitForTags(const std::vector<std::string>& expected) {
    std::vector<std::string> tags;
    for (int i = 0; i < 500; ++i) {
      tags = store_.customer_tags(std::to_string(kCustomer));
      if (tags == expected) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return tags;
  }

  FakeShopifyAdmin store_;
  DaemonHarness daemon_;
  int orders_ = 0;
};

TEST_F(TiersTest, OrdersPushACustomerIntoATierAndItsTagIntoTheStore) {
  Order("300.00");
  Order("300.00");                                       // 600.00 within the window: Silver
  EXPECT_EQ(daemon_.BalanceOf("ada@example.com"), 600);  // both earned before the change
  EXPECT_EQ(WaitForTags({"vip-silver"}), std::vector<std::string>{"vip-silver"});

  HttpAnswer found = daemon_.Get("/api/v1/customers?email=ada@example.com");
  ASSERT_EQ(found.status, 200);
  const int64_t id = found.Json()["customers"][0]["id"];
  HttpAnswer customer = daemon_.Get("/api/v1/customers/" + std::to_string(id));
  ASSERT_EQ(customer.status, 200) << customer.body;
  const json tier = customer.Json()["tier"];
  EXPECT_EQ(tier["level"], "silver");
  EXPECT_EQ(tier["name"], "Silver");
  EXPECT_EQ(tier["multiplier"], "1.25");
  EXPECT_TRUE(tier["reached_at"].is_string());
  EXPECT_TRUE(tier["keep_until"].is_string());
  EXPECT_EQ(tier["progress"]["metric"], "spend");
  EXPECT_EQ(tier["progress"]["value"], "600.00");
  EXPECT_EQ(tier["progress"]["next_level"], "gold");
  EXPECT_EQ(tier["progress"]["next_threshold"], "1500.00");
  EXPECT_EQ(tier["progress"]["remaining"], "900.00");

  // Silver earns x1.25 from the next order on.
  Order("100.00");
  EXPECT_EQ(daemon_.BalanceOf("ada@example.com"), 725);
  HttpAnswer ledger = daemon_.Get("/api/v1/customers/" + std::to_string(id) + "/ledger");
  ASSERT_EQ(ledger.status, 200);
  int tier_entries = 0;
  bool multiplied = false;
  const json entries = ledger.Json()["entries"];
  for (const json& entry : entries) {
    if (entry["kind"] == "tier") {
      ++tier_entries;
      EXPECT_EQ(entry["points"], 0);
      EXPECT_NE(entry["description"].get<std::string>().find("tier Silver reached"),
                std::string::npos);
    }
    if (entry["kind"] == "earn" && entry["points"] == 125) {
      multiplied =
          entry["description"].get<std::string>().find("x1.25 Silver") != std::string::npos;
    }
  }
  EXPECT_EQ(tier_entries, 1);
  EXPECT_TRUE(multiplied) << ledger.body;

  // A re-evaluation run now changes nothing (the daemon ran one at start, too).
  std::string output;
  EXPECT_EQ(
      DaemonHarness::RunCli("tiers reevaluate --config " + daemon_.dir() + "/config.json", output),
      0)
      << output;
  EXPECT_NE(output.find("0 tier change(s)"), std::string::npos) << output;
}

}  // namespace
}  // namespace loyaltyd::testing::tiers_test
