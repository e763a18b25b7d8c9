// Pending points and expiry end to end: the real daemon holds an order's points (program.award
// .hold_days), shows them as pending through the admin API, and the `release-pending` and
// `expire` commands — run against the same database while the daemon serves, with --now in
// the future instead of a clock that waits — release and expire them, once.
#include <gtest/gtest.h>

#include "connectors/shopify/shopify_samples.h"
#include "integration/daemon_harness.h"

namespace loyaltyd::testing::points_timing_test {
namespace {

using nlohmann::json;

class PointsTimingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    json& config = daemon_.config();
    config["program"]["award"] = {{"on", "paid"}, {"hold_days", 14}};
    config["program"]["expiry"] = {{"lot_age_days", 365}};
    daemon_.Start();
  }
  int Cli(const std::string& command, const std::string& now, std::string& output) {
    return DaemonHarness::RunCli(
        command + " --config " + daemon_.dir() + "/config.json --now " + now, output);
  }

  DaemonHarness daemon_;
};

TEST_F(PointsTimingTest, HeldPointsArePendingThenReleasedOnceThenExpire) {
  ShopifySampleOptions options;
  options.order_id = 6001;
  options.customer_id = 7001;
  options.email = "ada@example.com";
  options.subtotal = "49.00";
  Result<std::string> body = ShopifySampleBody("orders/paid", options);
  ASSERT_TRUE(body.ok());
  ASSERT_EQ(daemon_.PostShopifyWebhook("orders/paid", *body, "evt-paid").status, 200);
  ASSERT_TRUE(daemon_.WaitUntilProcessed());

  json found = daemon_.Get("/api/v1/customers?email=ada@example.com").Json();
  ASSERT_EQ(found["customers"].size(), 1u);
  const std::string customer = "/api/v1/customers/" + found["customers"][0]["id"].dump();
  json detail = daemon_.Get(customer).Json();
  EXPECT_EQ(detail["points_balance"], 0);
  EXPECT_EQ(detail["pending_points"], 49);
  json ledger = daemon_.Get(customer + "/ledger").Json();
  EXPECT_TRUE(ledger["entries"].empty());
  ASSERT_EQ(ledger["pending_awards"].size(), 1u);
  EXPECT_EQ(ledger["pending_awards"][0]["status"], "pending");
  EXPECT_EQ(ledger["pending_awards"][0]["points"], 49);

  // Not due yet (the hold counts from when the webhook was received, today).
  std::string out;
  ASSERT_EQ(Cli("release-pending", "2000-01-01", out), 0) << out;
  EXPECT_NE(out.find("0 award(s) released"), std::string::npos) << out;
  EXPECT_EQ(daemon_.Get(customer).Json()["points_balance"], 0);

  // Far enough ahead for any hold, twice: released once.
  ASSERT_EQ(Cli("release-pending", "2100-01-01T00:00:00Z", out), 0) << out;
  EXPECT_NE(out.find("1 award(s) released, 49 point(s)"), std::string::npos) << out;
  ASSERT_EQ(Cli("release-pending", "2100-01-01T00:00:00Z", out), 0) << out;
  EXPECT_NE(out.find("0 award(s) released"), std::string::npos) << out;
  detail = daemon_.Get(customer).Json();
  EXPECT_EQ(detail["points_balance"], 49);
  EXPECT_EQ(detail["pending_points"], 0);
  ledger = daemon_.Get(customer + "/ledger").Json();
  ASSERT_EQ(ledger["entries"].size(), 1u);
  EXPECT_EQ(ledger["entries"][0]["kind"], "earn");
  EXPECT_EQ(ledger["pending_awards"][0]["status"], "released");

  json lots = daemon_.Get(customer + "/lots").Json();
  ASSERT_EQ(lots["lots"].size(), 1u);
  EXPECT_EQ(lots["lots"][0]["remaining"], 49);
  EXPECT_EQ(lots["lots"][0]["source"]["kind"], "earn");
  EXPECT_EQ(lots["lots"][0]["source"]["order"]["platform_order_id"], "6001");
  EXPECT_FALSE(lots["lots"][0]["expires_at"].is_null());

  // The lot counts its year from the end of the hold: long gone by 2101, and expired once.
  ASSERT_EQ(Cli("expire", "2101-01-03", out), 0) << out;
  EXPECT_NE(out.find("1 lot(s) expired, 49 point(s)"), std::string::npos) << out;
  ASSERT_EQ(Cli("expire", "2101-01-03", out), 0) << out;
  EXPECT_NE(out.find("0 lot(s) expired"), std::string::npos) << out;
  detail = daemon_.Get(customer).Json();
  EXPECT_EQ(detail["points_balance"], 0);
  ledger = daemon_.Get(customer + "/ledger").Json();
  ASSERT_EQ(ledger["entries"].size(), 2u);
  EXPECT_EQ(ledger["entries"][0]["kind"], "expire");
  EXPECT_EQ(ledger["entries"][0]["points"], -49);

  EXPECT_EQ(Cli("expire", "yesterday", out), 2);
  EXPECT_NE(out.find("--now must be a UTC time"), std::string::npos) << out;
  EXPECT_EQ(daemon_.Stop(), 0);
}

TEST_F(PointsTimingTest, HelpDescribesTheCommands) {
  std::string out;
  EXPECT_EQ(DaemonHarness::RunCli("expire --help", out), 0);
  EXPECT_NE(out.find("Usage: loyaltyd expire --config FILE [--now ISO]"), std::string::npos);
  EXPECT_EQ(DaemonHarness::RunCli("help release-pending", out), 0);
  EXPECT_NE(out.find("Usage: loyaltyd release-pending"), std::string::npos);
}

}  // namespace
}  // namespace loyaltyd::testing::points_timing_test
