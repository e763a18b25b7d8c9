// End-to-end: SIGHUP reloads the real daemon's config file, all or nothing, while it serves.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "connectors/shopify/shopify_samples.h"
#include "integration/daemon_harness.h"

namespace loyaltyd::testing::config_reload_test {
namespace {

using nlohmann::json;

constexpr const char* kReloaded = "config reloaded from";
constexpr const char* kRefused = "refused";

// The log line that contains `text`, or "" when none does.
std::string LineWith(const std::string& log, const std::string& text) {
  const size_t at = log.find(text);
  if (at == std::string::npos) return "";
  const size_t start = log.rfind('\n', at);
  const size_t end = log.find('\n', at);
  return log.substr(start == std::string::npos ? 0 : start + 1,
                    end == std::string::npos ? std::string::npos : end - start - 1);
}

// A signed-shape orders/paid body of one line at `total` for customer 7001 (ada@example.com).
std::string PaidOrder(uint64_t order_id, const std::string& total) {
  ShopifySampleOptions options;
  options.order_id = order_id;
  options.customer_id = 7001;
  options.email = "ada@example.com";
  options.subtotal = total;
  Result<std::string> body = ShopifySampleBody("orders/paid", options);
  EXPECT_TRUE(body.ok()) << body.status().ToString();
  return body.ok() ? *body : "";
}

class ConfigReloadTest : public ::testing::Test {
 protected:
  void SetUp() override { daemon_.Start(); }

  // Posts a paid order and waits until it is processed; returns the customer's balance.
  int64_t PayAndBalance(uint64_t order_id, const std::string& total) {
    const std::string event = "evt-" + std::to_string(order_id);
    HttpAnswer ack = daemon_.PostShopifyWebhook("orders/paid", PaidOrder(order_id, total), event);
    EXPECT_EQ(ack.status, 200) << ack.body;
    EXPECT_TRUE(daemon_.WaitUntilProcessed());
    return daemon_.BalanceOf("ada@example.com");
  }

  DaemonHarness daemon_;
};

TEST_F(ConfigReloadTest, NewEarnRateAppliesToTheNextOrder) {
  EXPECT_EQ(PayAndBalance(1001, "20.00"), 20);  // 1 point per 1.00

  daemon_.config()["program"]["earn"][0]["points"] = 3;
  daemon_.WriteConfig();
  daemon_.Reload();
  ASSERT_TRUE(daemon_.WaitForLog(kReloaded)) << daemon_.ReadLog();
  EXPECT_NE(daemon_.ReadLog().find("program changed"), std::string::npos) << daemon_.ReadLog();

  EXPECT_EQ(PayAndBalance(1002, "10.00"), 50);  // 20 + 3 * 10
  // The order paid before the reload keeps what it earned.
  const json customers = daemon_.Get("/api/v1/customers?email=ada@example.com").Json();
  const std::string ledger_path = "/api/v1/customers/" +
                                  std::to_string(customers["customers"][0]["id"].get<int64_t>()) +
                                  "/ledger";
  const json entries = daemon_.Get(ledger_path).Json()["entries"];
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0]["points"], 30);
  EXPECT_NE(entries[0]["description"].get<std::string>().find("3 points per 1.00 USD"),
            std::string::npos);
  EXPECT_EQ(entries[1]["points"], 20);
}

// program.expiry lives in storage (SetPointsPolicy), outside the ConfigSource: a reload must
// hand it over, or lots credited after the reload would keep the boot config's (no) expiry.
TEST_F(ConfigReloadTest, ReloadedExpiryDatesTheLotsCreditedAfterIt) {
  EXPECT_EQ(PayAndBalance(1101, "20.00"), 20);

  daemon_.config()["program"]["expiry"] = json{{"lot_age_days", 365}};
  daemon_.WriteConfig();
  daemon_.Reload();
  ASSERT_TRUE(daemon_.WaitForLog(kReloaded)) << daemon_.ReadLog();

  EXPECT_EQ(PayAndBalance(1102, "10.00"), 30);
  const json customers = daemon_.Get("/api/v1/customers?email=ada@example.com").Json();
  const std::string lots_path = "/api/v1/customers/" +
                                std::to_string(customers["customers"][0]["id"].get<int64_t>()) +
                                "/lots";
  const json lots = daemon_.Get(lots_path).Json()["lots"];  // newest first
  ASSERT_EQ(lots.size(), 2u) << lots.dump();
  EXPECT_EQ(lots[0]["source"]["order"]["platform_order_id"], "1102");
  EXPECT_FALSE(lots[0]["expires_at"].is_null()) << lots.dump();
  // The lot credited before the reload keeps the expiry it was given: none.
  EXPECT_EQ(lots[1]["source"]["order"]["platform_order_id"], "1101");
  EXPECT_TRUE(lots[1]["expires_at"].is_null()) << lots.dump();
}

TEST_F(ConfigReloadTest, InvalidFileIsRefusedWithEveryProblemAndTheOldConfigKeepsServing) {
  json& rule = daemon_.config()["program"]["earn"][0];
  rule["points"] = 5;
  rule["per"] = "-1.00";
  rule["point"] = 1;
  daemon_.WriteConfig();
  daemon_.Reload();
  ASSERT_TRUE(daemon_.WaitForLog(kRefused)) << daemon_.ReadLog();
  const std::string log = daemon_.ReadLog();
  EXPECT_NE(log.find("config reload from " + daemon_.dir() + "/config.json refused: 2 problem(s)"),
            std::string::npos)
      << log;
  // Each problem on its own line, at error level, with its JSON path.
  for (const std::string problem :
       {"program.earn[0].per: must be a positive amount in USD",
        "program.earn[0]: unknown key 'point', did you mean 'points'?"}) {
    const std::string line = LineWith(log, problem);
    EXPECT_NE(line.find(" error "), std::string::npos) << "'" << problem << "' in:\n" << log;
  }
  EXPECT_EQ(log.find(kReloaded), std::string::npos) << log;

  // Still serving, at the old rate of 1 point per 1.00.
  EXPECT_EQ(daemon_.Get("/healthz", "").status, 200);
  EXPECT_EQ(PayAndBalance(2001, "20.00"), 20);

  // Once the file is fixed, the next SIGHUP applies it.
  rule.erase("point");
  rule["per"] = "1.00";
  daemon_.WriteConfig();
  daemon_.Reload();
  ASSERT_TRUE(daemon_.WaitForLog(kReloaded)) << daemon_.ReadLog();
  EXPECT_EQ(PayAndBalance(2002, "10.00"), 70);  // 20 + 5 * 10
}

TEST_F(ConfigReloadTest, RestartOnlyChangeRefusesTheWholeFile) {
  daemon_.config()["server"]["threads"] = 64;  // the harness starts with 32
  daemon_.config()["program"]["earn"][0]["points"] = 9;
  daemon_.WriteConfig();
  daemon_.Reload();
  ASSERT_TRUE(daemon_.WaitForLog(kRefused)) << daemon_.ReadLog();
  const std::string log = daemon_.ReadLog();
  EXPECT_NE(log.find("server.threads: changes need a restart; kept 32, the file has 64"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("1 setting(s) need a restart; nothing changed"), std::string::npos) << log;
  // The program change in the same file is not applied either.
  EXPECT_EQ(PayAndBalance(3001, "20.00"), 20);
}

TEST_F(ConfigReloadTest, WebhookSecretRotationThroughReloads) {
  const std::string old_secret = kWebhookSecret;
  const std::string new_secret = "it-rotated-secret-fedcba9876543210";
  const std::string body = PaidOrder(4001, "20.00");
  EXPECT_EQ(daemon_.PostShopifyWebhook("orders/paid", body, "rot-1", new_secret).status, 401);

  // Step 1: the new secret, with the old one still accepted while Shopify switches over.
  json& shop = daemon_.config()["shops"][0];
  shop["webhook_secret"] = new_secret;
  shop["previous_webhook_secret"] = old_secret;
  daemon_.WriteConfig();
  daemon_.Reload();
  ASSERT_TRUE(daemon_.WaitForLog(kReloaded)) << daemon_.ReadLog();
  EXPECT_NE(daemon_.ReadLog().find("changed: it [webhook secret]"), std::string::npos);
  EXPECT_EQ(daemon_.PostShopifyWebhook("orders/paid", body, "rot-2", new_secret).status, 200);
  EXPECT_EQ(daemon_.PostShopifyWebhook("orders/paid", PaidOrder(4002, "5.00"), "rot-3", old_secret)
                .status,
            200);

  // Step 2: the rotation is over; the old secret is refused.
  shop.erase("previous_webhook_secret");
  daemon_.WriteConfig();
  daemon_.Reload();
  ASSERT_TRUE(daemon_.WaitForLog(kReloaded, 2)) << daemon_.ReadLog();
  EXPECT_EQ(daemon_.PostShopifyWebhook("orders/paid", PaidOrder(4003, "7.00"), "rot-4", old_secret)
                .status,
            401);
  EXPECT_EQ(daemon_.PostShopifyWebhook("orders/paid", PaidOrder(4004, "1.00"), "rot-5", new_secret)
                .status,
            200);
  ASSERT_TRUE(daemon_.WaitUntilProcessed());
  EXPECT_EQ(daemon_.BalanceOf("ada@example.com"), 26);  // 20 + 5 + 1

  const std::string log = daemon_.ReadLog();
  EXPECT_EQ(log.find(new_secret), std::string::npos) << "a secret reached the log";
  EXPECT_EQ(log.find(old_secret), std::string::npos) << "a secret reached the log";
}

TEST_F(ConfigReloadTest, ShopAndAdminTokenChangesApplyToTheNextRequest) {
  const std::string domain = "it-second.myshopify.com";
  const std::string secret = "it-second-secret-0123456789abcdef";
  const std::string body = PaidOrder(5001, "12.00");
  EXPECT_EQ(daemon_.PostShopifyWebhook("orders/paid", body, "add-1", secret, domain).status, 401);

  const std::string new_token = "it-rotated-admin-token-00112233445566";
  daemon_.config()["shops"].push_back({{"id", "it-second"},
                                       {"platform", "shopify"},
                                       {"domain", domain},
                                       {"webhook_secret", secret}});
  daemon_.config()["admin"]["token"] = new_token;
  daemon_.WriteConfig();
  daemon_.Reload();
  ASSERT_TRUE(daemon_.WaitForLog(kReloaded)) << daemon_.ReadLog();
  const std::string log = daemon_.ReadLog();
  EXPECT_NE(log.find("admin.token changed"), std::string::npos) << log;
  EXPECT_NE(log.find("3 shops (added: it-second)"), std::string::npos) << log;

  EXPECT_EQ(daemon_.PostShopifyWebhook("orders/paid", body, "add-2", secret, domain).status, 200);
  EXPECT_EQ(daemon_.Get("/api/v1/stats").status, 401);  // the old token is revoked
  ASSERT_EQ(daemon_.Get("/api/v1/stats", new_token).status, 200);
  // WaitUntilProcessed and BalanceOf use the harness's token; poll with the new one.
  json customers;
  for (int i = 0; i < 500; ++i) {
    customers = daemon_.Get("/api/v1/customers?email=ada@example.com", new_token).Json();
    if (customers["customers"].size() == 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(customers["customers"].size(), 1u) << customers.dump();
  EXPECT_EQ(customers["customers"][0]["shop_id"], "it-second");
  EXPECT_EQ(customers["customers"][0]["points_balance"], 12);
  EXPECT_EQ(log.find(new_token), std::string::npos) << "the admin token reached the log";
}

}  // namespace
}  // namespace loyaltyd::testing::config_reload_test
