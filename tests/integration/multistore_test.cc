// One customer across stores (issue 7), end to end: the real loyaltyd binary with a Shopify shop
// and a WooCommerce shop sharing one membership (program.shared_by), each with its fake store
// (tests/fakes). Orders on both earn into one balance; a reward is created in the store it is
// redeemed on, for the member's account there; an unverified same-email customer stays apart.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <thread>

#include "connectors/shopify/shopify_samples.h"
#include "connectors/woocommerce/woocommerce_samples.h"
#include "fakes/fake_shopify_admin.h"
#include "fakes/fake_woocommerce_rest.h"
#include "integration/daemon_harness.h"

namespace loyaltyd::testing::multistore_test {
namespace {

using fakes::FakeShopifyAdmin;
using nlohmann::json;

constexpr uint64_t kShopifyCustomer = 7001;
constexpr uint64_t kWooCustomer = 12;

class MultistoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(store_.Start());
    store_.AddCustomer(std::to_string(kShopifyCustomer), "ada@example.com");
    ASSERT_TRUE(woo_.Start());
    woo_.AddCustomer(kWooCustomer, "ada@example.com");
    json& config = daemon_.config();
    config["shops"][0]["api"] = {{"base_url", store_.base_url()},
                                 {"access_token", store_.options().access_token},
                                 {"api_version", "2025-07"},
                                 {"timeout_seconds", 1}};
    config["shops"][1]["api"] = {{"base_url", woo_.base_url()},
                                 {"consumer_key", woo_.options().consumer_key},
                                 {"consumer_secret", woo_.options().consumer_secret},
                                 {"timeout_seconds", 1}};
    // A third shop that shares nothing: its customers keep their own balances.
    config["shops"].push_back({{"id", "it-other"},
                               {"platform", "shopify"},
                               {"domain", "it-other.myshopify.com"},
                               {"webhook_secret", kWebhookSecret}});
    config["program"]["shared_by"] = {"it", "it-woo"};
    config["program"]["shared_trust_woocommerce_email"] = true;
    config["program"]["rewards"] = json::array(
        {{{"id", "five-off"}, {"points", 500}, {"kind", "fixed_discount"}, {"amount", "5.00"}},
         {{"id", "free-ship"}, {"points", 200}, {"kind", "free_shipping"}}});
    config["storefront"] = {{"token_secret", "multistore-token-secret-0123456789abcdef"}};
    config["outbox"] = {{"max_attempts", 5},
                        {"initial_backoff_ms", 50},
                        {"max_backoff_ms", 200},
                        {"poll_interval_ms", 20}};
    daemon_.Start();
  }

  void ShopifyPaid(uint64_t order_id, const std::string& subtotal, const std::string& event_id) {
    ShopifySampleOptions options;
    options.order_id = order_id;
    options.customer_id = kShopifyCustomer;  // the sample's customer has verified_email true
    options.email = "ada@example.com";
    options.subtotal = subtotal;
    Result<std::string> body = ShopifySampleBody("orders/paid", options);
    ASSERT_TRUE(body.ok());
    ASSERT_EQ(daemon_.PostShopifyWebhook("orders/paid", *body, event_id).status, 200);
  }

  void Woo(const std::string& topic, uint64_t customer_id, uint64_t order_id,
           const std::string& subtotal, const std::string& delivery) {
    WooCommerceSampleOptions options;
    options.order_id = order_id;
    options.customer_id = customer_id;
    options.email = "ada@example.com";
    options.subtotal = subtotal;
    Result<std::string> body = WooCommerceSampleBody(topic, options);
    ASSERT_TRUE(body.ok()) << body.status().ToString();
    ASSERT_EQ(daemon_.PostWooCommerceWebhook(topic, *body, delivery).status, 200);
  }

  // Every customer row with Ada's email, by shop id.
  std::map<std::string, json> Customers() {
    std::map<std::string, json> out;
    const json found = daemon_.Get("/api/v1/customers?email=ada@example.com").Json();
    for (const json& c : found["customers"]) out[c["shop_id"].get<std::string>()] = c;
    return out;
  }

  json Detail(int64_t id) { return daemon_.Get("/api/v1/customers/" + std::to_string(id)).Json(); }

  HttpAnswer Redeem(int64_t customer, json body, const std::string& key) {
    return daemon_.Post("/api/v1/customers/" + std::to_string(customer) + "/redemptions",
                        body.dump(), {{"Idempotency-Key", key}});
  }

  json WaitSettled(int64_t redemption) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    json r;
    while (std::chrono::steady_clock::now() < deadline) {
      r = daemon_.Get("/api/v1/redemptions/" + std::to_string(redemption)).Json();
      if (r.is_object() && r["status"] != "pending") return r;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return r;
  }

  FakeShopifyAdmin store_;
  fakes::FakeWooCommerceRest woo_;
  DaemonHarness daemon_;
};

TEST_F(MultistoreTest, OrdersOnBothStoresEarnIntoOneBalanceAndRewardsIssueWhereRedeemed) {
  ShopifyPaid(5'000'000'000'000'001, "400.00", "evt-s-1");
  ASSERT_TRUE(daemon_.WaitUntilProcessed());
  // The WooCommerce account (its registered email, trusted by the config) joins the member.
  Woo("customer.created", kWooCustomer, 0, "0.00", "d-c-1");
  ASSERT_TRUE(daemon_.WaitUntilProcessed());
  Woo("order.updated", kWooCustomer, 901, "300.00", "d-o-1");
  ASSERT_TRUE(daemon_.WaitUntilProcessed());
  // Redeliveries of both orders change nothing.
  ShopifyPaid(5'000'000'000'000'001, "400.00", "evt-s-1");
  Woo("order.updated", kWooCustomer, 901, "300.00", "d-o-2");
  ASSERT_TRUE(daemon_.WaitUntilProcessed());

  std::map<std::string, json> rows = Customers();
  ASSERT_EQ(rows.size(), 2u);
  const int64_t shopify_id = rows["it"]["id"];
  const int64_t woo_id = rows["it-woo"]["id"];
  const json member = Detail(shopify_id);
  EXPECT_EQ(member["points_balance"], 700) << member.dump();
  EXPECT_EQ(member["member"]["member_id"], shopify_id);
  ASSERT_EQ(member["member"]["accounts"].size(), 2u) << member.dump();
  EXPECT_EQ(member["member"]["accounts"][1]["shop_id"], "it-woo");
  EXPECT_EQ(member["member"]["accounts"][1]["platform_customer_id"], "12");
  EXPECT_EQ(Detail(woo_id)["member"]["member_id"], shopify_id);
  // A storefront token of the WooCommerce account shows the member's balance.
  const HttpAnswer token =
      daemon_.Post("/api/v1/customers/" + std::to_string(woo_id) + "/token", "");
  ASSERT_EQ(token.status, 201) << token.body;
  const HttpAnswer me = daemon_.Get("/api/v1/me", token.Json()["token"].get<std::string>());
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(me.Json()["points_balance"], 700) << me.body;

  // Redeemed through the WooCommerce account: the coupon is created in the WooCommerce store.
  HttpAnswer on_woo = Redeem(woo_id, {{"reward", "five-off"}}, "woo-1");
  ASSERT_EQ(on_woo.status, 201) << on_woo.body;
  EXPECT_EQ(on_woo.Json()["points_balance"], 200);
  EXPECT_EQ(on_woo.Json()["shop_id"], "it-woo");
  const json woo_issued = WaitSettled(on_woo.Json()["id"]);
  ASSERT_EQ(woo_issued["status"], "issued") << woo_issued.dump();
  ASSERT_EQ(woo_.coupons().size(), 1u);
  EXPECT_EQ(woo_.coupon(woo_issued["code"])["email_restrictions"],
            json::array({"ada@example.com"}));
  EXPECT_TRUE(store_.discounts().empty()) << "nothing is created in the Shopify store";

  // The same member names the Shopify store: the code is for its Shopify account.
  HttpAnswer on_shopify = Redeem(woo_id, {{"reward", "free-ship"}, {"shop_id", "it"}}, "shopify-1");
  ASSERT_EQ(on_shopify.status, 201) << on_shopify.body;
  EXPECT_EQ(on_shopify.Json()["points_balance"], 0);
  const json shopify_issued = WaitSettled(on_shopify.Json()["id"]);
  ASSERT_EQ(shopify_issued["status"], "issued") << shopify_issued.dump();
  fakes::FakeDiscount discount;
  ASSERT_TRUE(store_.discount(shopify_issued["code"], &discount));
  EXPECT_EQ(discount.input["context"]["customers"]["add"],
            json::array({"gid://shopify/Customer/7001"}));
  EXPECT_EQ(woo_.coupons().size(), 1u);

  // A store the member has no account on, and a store that does not exist: 422, nothing spent.
  HttpAnswer elsewhere =
      Redeem(shopify_id, {{"reward", "free-ship"}, {"shop_id", "it-other"}}, "other-1");
  EXPECT_EQ(elsewhere.status, 422) << elsewhere.body;
  EXPECT_NE(elsewhere.body.find("no account on shop 'it-other'"), std::string::npos)
      << elsewhere.body;
  EXPECT_EQ(Redeem(shopify_id, {{"reward", "free-ship"}, {"shop_id", "nope"}}, "nope-1").status,
            422);
  EXPECT_EQ(Redeem(shopify_id, {{"reward", "free-ship"}, {"shop_id", 7}}, "bad-1").status, 400);
  EXPECT_EQ(Detail(shopify_id)["points_balance"], 0);
}

TEST_F(MultistoreTest, UnverifiedAndGuestCustomersWithTheSameEmailStayApart) {
  ShopifyPaid(5'000'000'000'000'002, "100.00", "evt-s-2");
  // A WooCommerce order of a registered customer carries only the billing email, which
  // WooCommerce never verifies: no customer.* event has vouched for the account.
  Woo("order.updated", kWooCustomer, 902, "50.00", "d-o-3");
  // A guest order on WooCommerce with the same email.
  Woo("order.updated", 0, 903, "30.00", "d-o-4");
  // And an order on the shop that shares nothing.
  ShopifySampleOptions other;
  other.order_id = 5'000'000'000'000'003;
  other.customer_id = kShopifyCustomer;
  other.email = "ada@example.com";
  other.subtotal = "20.00";
  Result<std::string> body = ShopifySampleBody("orders/paid", other);
  ASSERT_TRUE(body.ok());
  ASSERT_EQ(daemon_
                .PostShopifyWebhook("orders/paid", *body, "evt-o-1", kWebhookSecret,
                                    "it-other.myshopify.com")
                .status,
            200);
  ASSERT_TRUE(daemon_.WaitUntilProcessed());

  const json found = daemon_.Get("/api/v1/customers?email=ada@example.com").Json();
  ASSERT_EQ(found["customers"].size(), 4u) << found.dump();
  int64_t total = 0;
  for (const json& c : found["customers"]) {
    const json detail = Detail(c["id"]);
    EXPECT_EQ(detail["member"]["member_id"], c["id"]) << detail.dump();
    EXPECT_EQ(detail["member"]["accounts"].size(), 1u) << detail.dump();
    total += detail["points_balance"].get<int64_t>();
  }
  EXPECT_EQ(total, 200);  // 100 + 50 + 30 + 20, each on its own balance
}

// Two Shopify stores sharing one membership: tier progress counts the spend on both, and the
// tier's tag is written to the member's account in each store.
class MultistoreTiersTest : public ::testing::Test {
 protected:
  static constexpr const char* kSecondDomain = "it-second.myshopify.com";
  static constexpr uint64_t kSecondCustomer = 8001;  // Ada's account in the second store

  void SetUp() override {
    ASSERT_TRUE(first_.Start());
    first_.AddCustomer(std::to_string(kShopifyCustomer), "ada@example.com");
    ASSERT_TRUE(second_.Start());
    second_.AddCustomer(std::to_string(kSecondCustomer), "ada@example.com");
    json& config = daemon_.config();
    config["shops"][0]["api"] = {{"base_url", first_.base_url()},
                                 {"access_token", first_.options().access_token},
                                 {"api_version", "2025-07"},
                                 {"timeout_seconds", 1}};
    config["shops"].push_back({{"id", "it-second"},
                               {"platform", "shopify"},
                               {"domain", kSecondDomain},
                               {"webhook_secret", kWebhookSecret},
                               {"api",
                                {{"base_url", second_.base_url()},
                                 {"access_token", second_.options().access_token},
                                 {"api_version", "2025-07"},
                                 {"timeout_seconds", 1}}}});
    config["program"]["shared_by"] = {"it", "it-second"};
    config["program"]["tiers"] = json::parse(R"({
      "metric": "spend",
      "window": {"kind": "rolling", "days": 365},
      "levels": [{"id": "silver", "name": "Silver", "threshold": "500.00",
                  "tags": ["vip-silver"]}]
    })");
    config["outbox"] = {
        {"initial_backoff_ms", 50}, {"max_backoff_ms", 200}, {"poll_interval_ms", 20}};
    daemon_.Start();
  }

  void Order(const char* domain, uint64_t customer, uint64_t order_id, const std::string& total) {
    ShopifySampleOptions options;
    options.order_id = order_id;
    options.customer_id = customer;
    options.email = "ada@example.com";
    options.subtotal = total;
    Result<std::string> body = ShopifySampleBody("orders/paid", options);
    ASSERT_TRUE(body.ok());
    ASSERT_EQ(daemon_
                  .PostShopifyWebhook("orders/paid", *body, "evt-" + std::to_string(order_id),
                                      kWebhookSecret, domain)
                  .status,
              200);
    ASSERT_TRUE(daemon_.WaitUntilProcessed());
  }

  static std::vector<std::string> WaitForTags(const FakeShopifyAdmin& store, uint64_t customer) {
    std::vector<std::string> tags;
    for (int i = 0; i < 500; ++i) {
      tags = store.customer_tags(std::to_string(customer));
      if (!tags.empty()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return tags;
  }

  FakeShopifyAdmin first_;
  FakeShopifyAdmin second_;
  DaemonHarness daemon_;
};

TEST_F(MultistoreTiersTest, SpendOnBothStoresReachesATierTaggedInEachStore) {
  Order(kShopDomain, kShopifyCustomer, 6'000'000'000'000'001, "300.00");
  Order(kSecondDomain, kSecondCustomer, 6'000'000'000'000'002, "300.00");  // 600.00 together

  const json found = daemon_.Get("/api/v1/customers?email=ada@example.com").Json();
  ASSERT_EQ(found["customers"].size(), 2u) << found.dump();
  int64_t member_id = 0;
  for (const json& c : found["customers"]) {
    if (c["shop_id"] == "it") member_id = c["id"];
  }
  const json member = daemon_.Get("/api/v1/customers/" + std::to_string(member_id)).Json();
  EXPECT_EQ(member["points_balance"], 600) << member.dump();
  EXPECT_EQ(member["tier"]["level"], "silver") << member.dump();
  EXPECT_EQ(WaitForTags(first_, kShopifyCustomer), std::vector<std::string>{"vip-silver"});
  EXPECT_EQ(WaitForTags(second_, kSecondCustomer), std::vector<std::string>{"vip-silver"});
}

}  // namespace
}  // namespace loyaltyd::testing::multistore_test
