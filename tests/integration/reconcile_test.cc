// Reconciliation end to end: the real loyaltyd binary, and fake stores that are real HTTP
// servers holding orders whose webhooks were "missed" (seeded in the store only). `loyaltyd
// reconcile` and the daemon's periodic job list them, page by page, and feed them through the
// inbox; the balances come out right, a second run feeds nothing, and a webhook that arrives
// after all does not award twice.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "connectors/shopify/shopify_samples.h"
#include "connectors/woocommerce/woocommerce_samples.h"
#include "fakes/fake_shopify_admin.h"
#include "fakes/fake_woocommerce_rest.h"
#include "integration/daemon_harness.h"

namespace loyaltyd::testing::reconcile_test {
namespace {

using fakes::FakeShopifyAdmin;
using fakes::FakeShopifyOrder;
using fakes::FakeWooCommerceRest;
using nlohmann::json;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The JSON report `loyaltyd reconcile` prints on stdout (the output also holds its log lines).
json ReportIn(const std::string& output) {
  const size_t start = output.find("{\n  \"already_seen\"");
  if (start == std::string::npos) return nullptr;
  const size_t end = output.find("\n}", start);
  if (end == std::string::npos) return nullptr;
  return json::parse(output.substr(start, end + 2 - start), nullptr, false);
}

class ReconcileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(shopify_.Start());
    ASSERT_TRUE(woo_.Start());
    json& config = daemon_.config();
    config["shops"][0]["api"] = {{"base_url", shopify_.base_url()},
                                 {"access_token", shopify_.options().access_token},
                                 {"api_version", "2025-07"},
                                 {"timeout_seconds", 2}};
    config["shops"][1]["api"] = {{"base_url", woo_.base_url()},
                                 {"consumer_key", woo_.options().consumer_key},
                                 {"consumer_secret", woo_.options().consumer_secret},
                                 {"timeout_seconds", 2}};
  }

  // A paid Shopify order of `amount` for customer `customer`, updated a minute ago.
  static FakeShopifyOrder ShopifyOrder(uint64_t id, uint64_t customer, const std::string& email,
                                       const std::string& amount) {
    FakeShopifyOrder o;
    o.id = id;
    o.customer_id = customer;
    o.email = email;
    o.subtotal = amount;
    o.updated_at_ms = NowMs() - 60'000;
    return o;
  }

  // `loyaltyd reconcile` against the daemon's own config; the report, and the exit code.
  json Reconcile(const std::string& shop, int* exit_code, std::string* output = nullptr) {
    std::string out;
    const std::string since = "2020-01-01T00:00:00Z";
    *exit_code = DaemonHarness::RunCli(
        "reconcile --config " + daemon_.dir() + "/config.json --shop " + shop + " --since " + since,
        out);
    if (output != nullptr) *output = out;
    json report = ReportIn(out);
    EXPECT_TRUE(report.is_object()) << out;
    return report;
  }

  DaemonHarness daemon_;
  FakeShopifyAdmin shopify_;
  FakeWooCommerceRest woo_;
};

TEST_F(ReconcileTest, ShopifyMissedOrdersAreFedOnceOverSeveralPages) {
  daemon_.Start();
  // 60 orders (two pages of 50) whose webhooks never came: 1.00 each for one customer, and one
  // larger order, above 2^53, for another.
  for (uint64_t i = 0; i < 60; ++i) {
    shopify_.AddOrder(
        ShopifyOrder(4'000'000'000'000'000'000ULL + i, 9001, "ann@example.com", "1.00"));
  }
  const FakeShopifyOrder big = ShopifyOrder(
      5'123'456'789'012'345'679ULL, 7'001'234'567'890'123'457ULL, "bo@example.com", "49.00");
  shopify_.AddOrder(big);

  int code = -1;
  json report = Reconcile("it", &code);
  EXPECT_EQ(code, 0) << report.dump();
  EXPECT_EQ(report["complete"], true);
  EXPECT_EQ(report["pages"], 2);
  EXPECT_EQ(report["orders_listed"], 61);
  EXPECT_EQ(report["fed"], 61);
  EXPECT_EQ(report["already_seen"], 0);
  ASSERT_TRUE(daemon_.WaitUntilProcessed(std::chrono::seconds(30)));
  EXPECT_EQ(daemon_.BalanceOf("ann@example.com"), 60);
  EXPECT_EQ(daemon_.BalanceOf("bo@example.com"), 49);

  // Running it again changes nothing.
  json again = Reconcile("it", &code);
  EXPECT_EQ(code, 0);
  EXPECT_EQ(again["fed"], 0);
  EXPECT_EQ(again["already_seen"], 61);
  ASSERT_TRUE(daemon_.WaitUntilProcessed());
  EXPECT_EQ(daemon_.BalanceOf("ann@example.com"), 60);

  // Shopify's own retry of the big order's orders/paid gets through at last: no second award.
  ShopifySampleOptions options;
  options.order_id = big.id;
  options.customer_id = big.customer_id;
  options.email = big.email;
  options.subtotal = big.subtotal;
  Result<std::string> body = ShopifySampleBody("orders/paid", options);
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(daemon_.PostShopifyWebhook("orders/paid", *body, "evt-late").status, 200);
  ASSERT_TRUE(daemon_.WaitUntilProcessed());
  EXPECT_EQ(daemon_.BalanceOf("bo@example.com"), 49);
  HttpAnswer customers = daemon_.Get("/api/v1/customers?email=bo@example.com");
  const int64_t id = customers.Json()["customers"][0]["id"];
  HttpAnswer ledger = daemon_.Get("/api/v1/customers/" + std::to_string(id) + "/ledger");
  EXPECT_EQ(ledger.Json()["entries"].size(), 1u) << ledger.body;
}

TEST_F(ReconcileTest, WooCommerceMissedOrdersAreFedOnceOverSeveralPages) {
  daemon_.Start();
  // 55 orders, two pages of 50 and 5: processing, so they earn (earn_on_status default).
  for (uint64_t id = 1; id <= 55; ++id) {
    WooCommerceSampleOptions options;
    options.order_id = id;
    options.customer_id = 12;
    options.email = "cleo@example.com";
    options.subtotal = "2.00";
    options.status = "processing";
    options.date_modified_gmt = "2026-01-01T10:00:05";
    Result<std::string> body = WooCommerceSampleBody("order.updated", options);
    ASSERT_TRUE(body.ok());
    woo_.AddOrder(json::parse(*body));
  }
  int code = -1;
  json report = Reconcile("it-woo", &code);
  EXPECT_EQ(code, 0) << report.dump();
  EXPECT_EQ(report["pages"], 2);
  EXPECT_EQ(report["orders_listed"], 55);
  EXPECT_EQ(report["fed"], 55);
  ASSERT_TRUE(daemon_.WaitUntilProcessed(std::chrono::seconds(30)));
  EXPECT_EQ(daemon_.BalanceOf("cleo@example.com"), 110);

  json again = Reconcile("it-woo", &code);
  EXPECT_EQ(again["fed"], 0);
  EXPECT_EQ(again["already_seen"], 55);

  // The webhook of order 7's same state arrives late: nothing more.
  WooCommerceSampleOptions options;
  options.order_id = 7;
  options.customer_id = 12;
  options.email = "cleo@example.com";
  options.subtotal = "2.00";
  options.status = "processing";
  options.date_modified_gmt = "2026-01-01T10:00:05";
  Result<std::string> body = WooCommerceSampleBody("order.updated", options);
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(daemon_.PostWooCommerceWebhook("order.updated", *body).status, 200);
  ASSERT_TRUE(daemon_.WaitUntilProcessed());
  EXPECT_EQ(daemon_.BalanceOf("cleo@example.com"), 110);
}

TEST_F(ReconcileTest, ThePeriodicJobFeedsMissedOrdersAndResumesFromItsMarkAfterARestart) {
  daemon_.config()["reconcile"] = {
      {"enabled", true}, {"interval_minutes", 60}, {"lookback_hours", 2}};
  shopify_.AddOrder(ShopifyOrder(31, 9031, "dee@example.com", "15.00"));
  // Updated before the lookback window: the first pass does not look that far back.
  FakeShopifyOrder old = ShopifyOrder(32, 9032, "old@example.com", "99.00");
  old.updated_at_ms = NowMs() - 3 * 3'600'000;
  shopify_.AddOrder(old);
  daemon_.Start();
  ASSERT_TRUE(daemon_.WaitForLog("reconcile shop it (shopify)", 1, std::chrono::seconds(20)))
      << daemon_.ReadLog();
  ASSERT_TRUE(
      daemon_.WaitForLog("reconcile shop it-woo (woocommerce)", 1, std::chrono::seconds(20)))
      << daemon_.ReadLog();
  EXPECT_NE(daemon_.ReadLog().find("1 order(s) listed in 1 page(s), 1 new state(s) fed"),
            std::string::npos)
      << daemon_.ReadLog();
  ASSERT_TRUE(daemon_.WaitUntilProcessed());
  EXPECT_EQ(daemon_.BalanceOf("dee@example.com"), 15);
  EXPECT_EQ(daemon_.BalanceOf("old@example.com"), -1);

  // A restart runs a pass at once, from the stored mark: the order is seen, nothing is fed.
  EXPECT_EQ(daemon_.Stop(), 0);
  daemon_.Start();
  ASSERT_TRUE(daemon_.WaitForLog("reconcile shop it (shopify)", 2, std::chrono::seconds(20)))
      << daemon_.ReadLog();
  const std::string log = daemon_.ReadLog();
  const size_t second = log.rfind("reconcile shop it (shopify)");
  EXPECT_NE(log.find("1 order(s) listed in 1 page(s), 0 new state(s) fed, 1 already seen", second),
            std::string::npos)
      << log.substr(second);
  EXPECT_EQ(daemon_.BalanceOf("dee@example.com"), 15);
}

TEST_F(ReconcileTest, CommandLineErrorsSayWhatToDo) {
  std::string out;
  const std::string config = daemon_.dir() + "/config.json";
  daemon_.WriteConfig();
  EXPECT_EQ(DaemonHarness::RunCli(
                "reconcile --config " + config + " --shop nope --since 2026-01-01", out),
            2);
  EXPECT_NE(out.find("no shop 'nope'"), std::string::npos) << out;
  EXPECT_NE(out.find("it, it-woo"), std::string::npos) << out;
  EXPECT_EQ(
      DaemonHarness::RunCli("reconcile --config " + config + " --shop it --since yesterday", out),
      2);
  EXPECT_NE(out.find("not a UTC time"), std::string::npos) << out;
  EXPECT_EQ(DaemonHarness::RunCli("reconcile --help", out), 0);
  EXPECT_NE(out.find("Usage: loyaltyd reconcile"), std::string::npos);

  // Credentials refused: stopped, with Shopify's own error and what to fix.
  daemon_.config()["shops"][0]["api"]["access_token"] = "shpat_wrong";
  daemon_.WriteConfig();
  int code = -1;
  json report = Reconcile("it", &code, &out);
  EXPECT_EQ(code, 1);
  EXPECT_EQ(report["complete"], false);
  EXPECT_NE(out.find("Invalid API key or access token"), std::string::npos) << out;
  EXPECT_NE(out.find("fix the credentials in shops[].api"), std::string::npos) << out;
}

}  // namespace
}  // namespace loyaltyd::testing::reconcile_test
