// Secrets never reach the log: a full run at log level trace (webhooks from both platforms,
// admin calls with right and wrong tokens, redemptions written back to the fake stores, a
// config reload that rotates every secret), then the log is searched for each secret the
// config ever held and for the credentials as they travel in headers.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "connectors/shopify/shopify_samples.h"
#include "connectors/woocommerce/woocommerce_samples.h"
#include "core/crypto.h"
#include "fakes/fake_shopify_admin.h"
#include "fakes/fake_woocommerce_rest.h"
#include "integration/daemon_harness.h"

namespace loyaltyd::testing::log_secrets_test {
namespace {

using nlohmann::json;

constexpr const char* kPreviousShopifySecret = "prev-shopify-secret-5d41402abc4b2a76";
constexpr const char* kPreviousWooSecret = "prev-woo-secret-7d793037a0760186";
constexpr const char* kRotatedShopifySecret = "rotated-shopify-secret-9e107d9d372bb682";
constexpr const char* kRotatedWooSecret = "rotated-woo-secret-e4d909c290d0fb1c";
constexpr const char* kRotatedAdminToken = "rotated-admin-token-a87ff679a2f3e71d9181";

class LogSecretsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(shopify_.Start());
    shopify_.AddCustomer("7001", "ada@example.com");
    ASSERT_TRUE(woo_.Start());
    woo_.AddCustomer(12, "cleo@example.com");
    json& config = daemon_.config();
    config["logging"]["level"] = "trace";
    config["shops"][0]["previous_webhook_secret"] = kPreviousShopifySecret;
    config["shops"][1]["previous_webhook_secret"] = kPreviousWooSecret;
    config["shops"][0]["api"] = {{"base_url", shopify_.base_url()},
                                 {"access_token", shopify_.options().access_token},
                                 {"api_version", "2025-07"},
                                 {"timeout_seconds", 1}};
    config["shops"][1]["api"] = {{"base_url", woo_.base_url()},
                                 {"consumer_key", woo_.options().consumer_key},
                                 {"consumer_secret", woo_.options().consumer_secret},
                                 {"timeout_seconds", 1}};
    config["program"]["rewards"] = json::array(
        {{{"id", "five-off"}, {"points", 500}, {"kind", "fixed_discount"}, {"amount", "5.00"}}});
    config["outbox"] = {{"max_attempts", 5},
                        {"initial_backoff_ms", 50},
                        {"max_backoff_ms", 200},
                        {"poll_interval_ms", 20}};
    daemon_.Start();
  }

  int64_t CustomerId(const std::string& email, const std::string& token) {
    const json found = daemon_.Get("/api/v1/customers?email=" + email, token).Json();
    return found["customers"].size() == 1 ? found["customers"][0]["id"].get<int64_t>() : -1;
  }

  // Redeems and waits until the outbox has written the reward to the store.
  void RedeemAndWait(int64_t customer, const std::string& key, const std::string& token) {
    const HttpAnswer created =
        daemon_.Post("/api/v1/customers/" + std::to_string(customer) + "/redemptions",
                     json{{"reward", "five-off"}}.dump(), {{"Idempotency-Key", key}}, token);
    ASSERT_EQ(created.status, 201) << created.body;
    const std::string path =
        "/api/v1/redemptions/" + std::to_string(created.Json()["id"].get<int64_t>());
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    json r;
    while (std::chrono::steady_clock::now() < deadline) {
      r = daemon_.Get(path, token).Json();
      if (r.is_object() && r["status"] != "pending") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_EQ(r["status"], "issued") << r.dump();
  }

  fakes::FakeShopifyAdmin shopify_;
  fakes::FakeWooCommerceRest woo_;
  DaemonHarness daemon_;
};

std::string ShopifyOrder(uint64_t order_id, const std::string& total) {
  ShopifySampleOptions options;
  options.order_id = order_id;
  options.customer_id = 7001;
  options.email = "ada@example.com";
  options.subtotal = total;
  Result<std::string> body = ShopifySampleBody("orders/paid", options);
  EXPECT_TRUE(body.ok());
  return body.ok() ? *body : "";
}

std::string WooOrder(uint64_t order_id, const std::string& total) {
  WooCommerceSampleOptions options;
  options.order_id = order_id;
  options.customer_id = 12;
  options.email = "cleo@example.com";
  options.subtotal = total;
  options.status = "processing";
  Result<std::string> body = WooCommerceSampleBody("order.updated", options);
  EXPECT_TRUE(body.ok());
  return body.ok() ? *body : "";
}

TEST_F(LogSecretsTest, AFullRunAtTraceLevelLogsNoSecret) {
  // Webhooks from both platforms, signed with the current and the previous secrets, and one
  // with a wrong signature.
  ASSERT_EQ(
      daemon_.PostShopifyWebhook("orders/paid", ShopifyOrder(1001, "1200.00"), "evt-1").status,
      200);
  ASSERT_EQ(daemon_
                .PostShopifyWebhook("orders/paid", ShopifyOrder(1002, "1.00"), "evt-2",
                                    kPreviousShopifySecret)
                .status,
            200);
  EXPECT_EQ(
      daemon_.PostShopifyWebhook("orders/paid", ShopifyOrder(1003, "1.00"), "evt-3", "nope").status,
      401);
  ASSERT_EQ(daemon_.PostWooCommerceWebhook("order.updated", WooOrder(2001, "600.00"), "d-1").status,
            200);
  ASSERT_EQ(daemon_
                .PostWooCommerceWebhook("order.updated", WooOrder(2002, "1.00"), "d-2",
                                        kPreviousWooSecret)
                .status,
            200);
  ASSERT_TRUE(daemon_.WaitUntilProcessed());

  // Admin calls, with the token, without it and with one that differs in its last byte.
  std::string near_miss = kAdminToken;
  near_miss.back() = static_cast<char>(near_miss.back() ^ 0x01);
  EXPECT_EQ(daemon_.Get("/api/v1/stats", near_miss).status, 401);
  EXPECT_EQ(daemon_.Get("/api/v1/stats", "").status, 401);
  const int64_t ada = CustomerId("ada@example.com", kAdminToken);
  const int64_t cleo = CustomerId("cleo@example.com", kAdminToken);
  ASSERT_GT(ada, 0);
  ASSERT_GT(cleo, 0);
  EXPECT_EQ(daemon_.Get("/api/v1/customers/" + std::to_string(ada) + "/ledger").status, 200);

  // Redemptions written back to both stores (Shopify's access token, WooCommerce's key and
  // secret in basic auth).
  RedeemAndWait(ada, "r-ada-1", kAdminToken);
  RedeemAndWait(cleo, "r-cleo-1", kAdminToken);
  EXPECT_EQ(shopify_.discounts().size(), 1u);
  EXPECT_EQ(woo_.coupons().size(), 1u);

  // A reload that rotates every secret the daemon may reload: webhook secrets and the admin
  // token (the old secrets become the previous ones).
  json& config = daemon_.config();
  config["shops"][0]["previous_webhook_secret"] = kWebhookSecret;
  config["shops"][0]["webhook_secret"] = kRotatedShopifySecret;
  config["shops"][1]["previous_webhook_secret"] = kWooSecret;
  config["shops"][1]["webhook_secret"] = kRotatedWooSecret;
  config["admin"]["token"] = kRotatedAdminToken;
  daemon_.WriteConfig();
  daemon_.Reload();
  ASSERT_TRUE(daemon_.WaitForLog("config reloaded")) << daemon_.ReadLog();
  EXPECT_EQ(daemon_.Get("/api/v1/stats", kAdminToken).status, 401);
  ASSERT_EQ(daemon_.Get("/api/v1/stats", kRotatedAdminToken).status, 200);
  ASSERT_EQ(daemon_
                .PostShopifyWebhook("orders/paid", ShopifyOrder(1004, "1.00"), "evt-4",
                                    kRotatedShopifySecret)
                .status,
            200);
  ASSERT_EQ(
      daemon_
          .PostWooCommerceWebhook("order.updated", WooOrder(2003, "1.00"), "d-3", kRotatedWooSecret)
          .status,
      200);
  // A reload that is refused (a restart-only key changed) logs what it refused.
  config["server"]["max_body_bytes"] = 12345;
  config["admin"]["token"] = "refused-admin-token-0123456789abcdef";
  daemon_.WriteConfig();
  daemon_.Reload();
  ASSERT_TRUE(daemon_.WaitForLog("need a restart")) << daemon_.ReadLog();
  RedeemAndWait(ada, "r-ada-2", kRotatedAdminToken);
  ASSERT_EQ(daemon_.Stop(), 0);

  const std::string log = daemon_.ReadLog();
  EXPECT_NE(log.find("config reloaded"), std::string::npos);
  EXPECT_NE(log.find(" debug "), std::string::npos) << "not a debug-level run";
  const std::string shopify_token = shopify_.options().access_token;
  const std::string key = woo_.options().consumer_key;
  const std::string secret = woo_.options().consumer_secret;
  const std::vector<std::string> secrets = {
      kWebhookSecret,
      kWooSecret,
      kPreviousShopifySecret,
      kPreviousWooSecret,
      kRotatedShopifySecret,
      kRotatedWooSecret,
      kAdminToken,
      kRotatedAdminToken,
      "refused-admin-token-0123456789abcdef",
      near_miss,
      shopify_token,
      key,
      secret,
      // As they travel: the Authorization headers' values.
      "Bearer " + std::string(kAdminToken),
      "Basic " + Base64Encode(key + ":" + secret),
      Base64Encode(key + ":" + secret),
  };
  for (const std::string& s : secrets) {
    EXPECT_EQ(log.find(s), std::string::npos) << "the log contains '" << s << "'";
  }
}

}  // namespace
}  // namespace loyaltyd::testing::log_secrets_test
