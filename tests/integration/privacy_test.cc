// Privacy end to end (issue 7): Shopify's signed compliance webhooks (customers/data_request,
// customers/redact, shop/redact) and app/uninstalled, and WooCommerce's customer.deleted, into
// the real daemon through the same verify -> dedupe -> inbox -> processing path as orders;
// exports, redactions and shop state read back through the admin API; the database file
// checked for what must be gone.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iterator>
#include <thread>
#include <vector>

#include "connectors/woocommerce/woocommerce_samples.h"
#include "fakes/fake_shopify_admin.h"
#include "integration/daemon_harness.h"

namespace loyaltyd::testing::privacy_test {
namespace {

using nlohmann::json;

constexpr uint64_t kCustomerId = 191167;
constexpr const char* kEmail = "Wilhelmina.Privacy@example.org";
constexpr const char* kFirst = "Wilhelmina";
constexpr const char* kLast = "Zwieback";
constexpr const char* kPhone = "+1 555-625-1199";

json Money(const std::string& amount) {
  json m = {{"amount", amount}, {"currency_code", "USD"}};
  return {{"shop_money", m}, {"presentment_money", m}};
}

// An orders/paid body shaped like Shopify's, carrying the customer's personal data.
std::string OrderBody(uint64_t order_id, uint64_t customer_id, const std::string& email,
                      const std::string& first, const std::string& last, const std::string& price) {
  json order = {
      {"id", order_id},
      {"name", "#" + std::to_string(1000 + order_id % 1000)},
      {"email", email},
      {"phone", kPhone},
      {"currency", "USD"},
      {"taxes_included", false},
      {"financial_status", "paid"},
      {"created_at", "2026-11-24T10:00:00-05:00"},
      {"updated_at", "2026-11-24T10:00:05-05:00"},
      {"subtotal_price_set", Money(price)},
      {"total_price_set", Money(price)},
      {"total_tax_set", Money("0.00")},
      {"total_discounts_set", Money("0.00")},
      {"total_shipping_price_set", Money("0.00")},
      {"shipping_address",
       {{"first_name", first},
        {"last_name", last},
        {"address1", "17 Quietude Lane"},
        {"city", "Springfield"},
        {"zip", "49007"},
        {"country_code", "US"}}},
      {"line_items",
       {{{"id", order_id + 1},
         {"product_id", 632910392},
         {"title", "Notebook"},
         {"quantity", 1},
         {"price_set", Money(price)},
         {"gift_card", false},
         {"requires_shipping", true},
         {"discount_allocations", json::array()},
         {"tax_lines", json::array()}}}},
      {"refunds", json::array()},
      {"customer",
       {{"id", customer_id}, {"email", email}, {"first_name", first}, {"last_name", last}}}};
  return order.dump();
}

// The compliance bodies, as https://shopify.dev/docs/apps/build/compliance/privacy-law-compliance
// documents them.
std::string DataRequestBody(uint64_t customer_id, const std::string& email) {
  return json{{"shop_id", 954889},
              {"shop_domain", kShopDomain},
              {"orders_requested", {299938}},
              {"customer", {{"id", customer_id}, {"email", email}, {"phone", kPhone}}},
              {"data_request", {{"id", 9999}}}}
      .dump();
}

std::string RedactBody(uint64_t customer_id, const std::string& email) {
  return json{{"shop_id", 954889},
              {"shop_domain", kShopDomain},
              {"customer", {{"id", customer_id}, {"email", email}, {"phone", kPhone}}},
              {"orders_to_redact", {299938}}}
      .dump();
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

class PrivacyTest : public ::testing::Test {
 protected:
  void SetUp() override { daemon_.Start(); }

  // The privacy request of `kind` once it has completed (pending work done), or null.
  json WaitForRequest(const std::string& kind, size_t nth = 0,
                      std::chrono::seconds timeout = std::chrono::seconds(20)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      json list = daemon_.Get("/api/v1/privacy/requests").Json();
      std::vector<json> found;
      for (const json& r : list["requests"]) {
        if (r["kind"] == kind) found.insert(found.begin(), r);  // oldest first
      }
      if (found.size() > nth && found[nth]["status"] == "completed") {
        return daemon_
            .Get("/api/v1/privacy/requests/" + std::to_string(found[nth]["id"].get<int64_t>()))
            .Json();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return nullptr;
  }

  json CustomersByEmail(const std::string& email) {
    return daemon_.Get("/api/v1/customers?email=" + email).Json()["customers"];
  }

  std::string DatabaseBytes() {
    std::string bytes;
    for (const char* suffix : {"", "-wal"}) {
      std::ifstream in(daemon_.dir() + "/loyaltyd.db" + suffix, std::ios::binary);
      bytes += std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    return bytes;
  }

  DaemonHarness daemon_;
};

TEST_F(PrivacyTest, DataRequestThenRedactionThroughSignedComplianceWebhooks) {
  ASSERT_EQ(daemon_
                .PostShopifyWebhook("orders/paid",
                                    OrderBody(299938, kCustomerId, kEmail, kFirst, kLast, "49.00"),
                                    "evt-order-1")
                .status,
            200);
  ASSERT_TRUE(daemon_.WaitUntilProcessed());
  json customers = CustomersByEmail(kEmail);
  ASSERT_EQ(customers.size(), 1u);
  const int64_t id = customers[0]["id"];
  EXPECT_EQ(customers[0]["points_balance"], 49);

  // A wrong signature on a compliance topic is a 401 (Shopify's requirement), and nothing is
  // stored.
  EXPECT_EQ(daemon_
                .PostShopifyWebhook("customers/redact", RedactBody(kCustomerId, kEmail),
                                    "evt-forged", "not-the-secret")
                .status,
            401);

  // customers/data_request: answered once stored; the export is kept for the merchant.
  ASSERT_EQ(daemon_
                .PostShopifyWebhook("customers/data_request", DataRequestBody(kCustomerId, kEmail),
                                    "evt-data-1")
                .status,
            200);
  const json request = WaitForRequest("data_request");
  ASSERT_TRUE(request.is_object());
  EXPECT_EQ(request["source"], "webhook");
  EXPECT_EQ(request["platform_request_id"], "9999");
  EXPECT_EQ(request["customer_ids"], json::array({id}));
  const json& exported = request["export"]["customers"][0];
  EXPECT_EQ(exported["customer"]["email"], kEmail);
  EXPECT_EQ(exported["customer"]["last_name"], kLast);
  EXPECT_EQ(exported["ledger_entries"].size(), 1u);
  EXPECT_EQ(exported["orders"][0]["platform_order_id"], "299938");
  EXPECT_EQ(exported["inbox_events"][0]["body_json"]["customer"]["first_name"], kFirst);
  // The same on demand.
  HttpAnswer now = daemon_.Get("/api/v1/customers/" + std::to_string(id) + "/export");
  ASSERT_EQ(now.status, 200);
  EXPECT_EQ(now.Json()["customers"][0]["customer"]["email"], kEmail);

  // customers/redact: the person is gone, the books are not.
  ASSERT_EQ(
      daemon_
          .PostShopifyWebhook("customers/redact", RedactBody(kCustomerId, kEmail), "evt-redact-1")
          .status,
      200);
  const json redaction = WaitForRequest("customer_redact");
  ASSERT_TRUE(redaction.is_object());
  EXPECT_EQ(redaction["customer_ids"], json::array({id}));
  const json after = daemon_.Get("/api/v1/customers/" + std::to_string(id)).Json();
  EXPECT_EQ(after["email"], "");
  EXPECT_EQ(after["first_name"], "");
  EXPECT_TRUE(after["platform_customer_id"].is_null());
  EXPECT_EQ(after["points_balance"], 49);
  EXPECT_TRUE(CustomersByEmail(kEmail).empty());
  // The earlier export went with her.
  EXPECT_TRUE(
      daemon_.Get("/api/v1/privacy/requests/" + std::to_string(request["id"].get<int64_t>()))
          .Json()["export"]
          .is_null());

  // Redelivery: the same event id is a duplicate (200, nothing new); a new request for the
  // same person finds nobody left and changes nothing.
  EXPECT_EQ(
      daemon_
          .PostShopifyWebhook("customers/redact", RedactBody(kCustomerId, kEmail), "evt-redact-1")
          .status,
      200);
  ASSERT_EQ(
      daemon_
          .PostShopifyWebhook("customers/redact", RedactBody(kCustomerId, kEmail), "evt-redact-2")
          .status,
      200);
  const json second = WaitForRequest("customer_redact", 1);
  ASSERT_TRUE(second.is_object());
  EXPECT_TRUE(second["customer_ids"].empty());
  EXPECT_EQ(daemon_.Get("/api/v1/customers/" + std::to_string(id)).Json()["points_balance"], 49);
  const json requests = daemon_.Get("/api/v1/privacy/requests").Json();
  EXPECT_EQ(requests["requests"].size(), 3u);
  EXPECT_TRUE(requests.contains("next_before") && requests["next_before"].is_null())
      << requests.dump();  // the last page, as every list says it
  const json first_page = daemon_.Get("/api/v1/privacy/requests?limit=2").Json();
  ASSERT_EQ(first_page["requests"].size(), 2u);
  EXPECT_EQ(first_page["next_before"], first_page["requests"][1]["id"]);

  // Nothing of hers is left in the database's bytes (file and WAL), the daemon running. The
  // WAL is truncated right after the request completes: poll for that moment.
  const std::vector<std::string> values = {kEmail, kFirst, kLast, kPhone, "quietude"};
  std::string left;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  do {
    left.clear();
    const std::string bytes = Lower(DatabaseBytes());
    for (const std::string& value : values) {
      if (bytes.find(Lower(value)) != std::string::npos) left += value + " ";
    }
    if (!left.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  } while (!left.empty() && std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(left, "") << "still in the database files";

  // She orders again: a new customer.
  ASSERT_EQ(daemon_
                .PostShopifyWebhook("orders/paid",
                                    OrderBody(299939, kCustomerId, kEmail, kFirst, kLast, "10.00"),
                                    "evt-order-2")
                .status,
            200);
  ASSERT_TRUE(daemon_.WaitUntilProcessed());
  customers = CustomersByEmail(kEmail);
  ASSERT_EQ(customers.size(), 1u);
  EXPECT_NE(customers[0]["id"], id);
  EXPECT_EQ(customers[0]["points_balance"], 10);
}

TEST_F(PrivacyTest, ShopRedactRemovesThatShopsDataAndNothingOfTheOtherShop) {
  ASSERT_EQ(daemon_
                .PostShopifyWebhook("orders/paid",
                                    OrderBody(4001, kCustomerId, kEmail, kFirst, kLast, "20.00"),
                                    "evt-shop-order")
                .status,
            200);
  WooCommerceSampleOptions options;
  options.order_id = 88;
  options.customer_id = 12;
  options.email = "cleo.keeps@example.net";
  options.status = "processing";
  options.date_modified_gmt = "2026-11-24T10:00:00";
  options.subtotal = "30.00";
  Result<std::string> woo = WooCommerceSampleBody("order.updated", options);
  ASSERT_TRUE(woo.ok());
  ASSERT_EQ(daemon_.PostWooCommerceWebhook("order.updated", *woo).status, 200);
  ASSERT_TRUE(daemon_.WaitUntilProcessed());
  ASSERT_EQ(CustomersByEmail(kEmail).size(), 1u);

  ASSERT_EQ(daemon_
                .PostShopifyWebhook("shop/redact",
                                    json{{"shop_id", 954889}, {"shop_domain", kShopDomain}}.dump(),
                                    "evt-shop-redact")
                .status,
            200);
  const json done = WaitForRequest("shop_redact");
  ASSERT_TRUE(done.is_object());
  EXPECT_EQ(done["shop_id"], "it");
  EXPECT_TRUE(CustomersByEmail(kEmail).empty());
  const json kept = CustomersByEmail("cleo.keeps@example.net");
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0]["points_balance"], 30);
  // Only the shop/redact webhook itself is left of the shop's inbox.
  const json events = daemon_.Get("/api/v1/events?limit=100").Json()["events"];
  size_t of_shop = 0;
  for (const json& e : events) of_shop += e["shop_id"] == "it" ? 1 : 0;
  EXPECT_EQ(of_shop, 1u);
  const json shops = daemon_.Get("/api/v1/shops").Json()["shops"];
  ASSERT_EQ(shops.size(), 2u);
  EXPECT_EQ(shops[0]["id"], "it");
  EXPECT_EQ(shops[0]["active"], false);
  EXPECT_TRUE(shops[0]["redacted_at"].is_string());
  EXPECT_EQ(shops[1]["active"], true);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::string bytes = Lower(DatabaseBytes());
  while (bytes.find(Lower(kEmail)) != std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    bytes = Lower(DatabaseBytes());
  }
  EXPECT_EQ(bytes.find(Lower(kEmail)), std::string::npos);
  EXPECT_NE(bytes.find("cleo.keeps@example.net"), std::string::npos);
}

TEST_F(PrivacyTest, WooCommerceCustomerDeletedRedactsAndTheAdminRoutesWorkByHand) {
  WooCommerceSampleOptions options;
  options.order_id = 91;
  options.customer_id = 12;
  options.email = "dora.deleted@example.net";
  options.status = "processing";
  options.date_modified_gmt = "2026-11-24T10:00:00";
  options.subtotal = "25.00";
  Result<std::string> woo = WooCommerceSampleBody("order.updated", options);
  ASSERT_TRUE(woo.ok());
  ASSERT_EQ(daemon_.PostWooCommerceWebhook("order.updated", *woo).status, 200);
  ASSERT_TRUE(daemon_.WaitUntilProcessed());
  const json found = CustomersByEmail("dora.deleted@example.net");
  ASSERT_EQ(found.size(), 1u);
  const int64_t id = found[0]["id"];

  // customer.deleted carries only the id (WC_Webhook::build_payload).
  ASSERT_EQ(
      daemon_.PostWooCommerceWebhook("customer.deleted", R"({"id":12})", "delivery-del-1").status,
      200);
  const json redaction = WaitForRequest("customer_redact");
  ASSERT_TRUE(redaction.is_object());
  EXPECT_EQ(redaction["shop_id"], "it-woo");
  EXPECT_EQ(redaction["customer_ids"], json::array({id}));
  EXPECT_TRUE(CustomersByEmail("dora.deleted@example.net").empty());
  EXPECT_EQ(daemon_.Get("/api/v1/customers/" + std::to_string(id)).Json()["points_balance"], 25);

  // By hand: the admin redact of the same customer answers that redaction; an unknown
  // customer is a 404; shop state can be toggled, for configured shops only.
  const HttpAnswer again = daemon_.Post("/api/v1/customers/" + std::to_string(id) + "/redact", "");
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.Json()["id"], redaction["id"]);
  EXPECT_EQ(daemon_.Post("/api/v1/customers/424242/redact", "").status, 404);
  EXPECT_EQ(daemon_.Post("/api/v1/shops/nope/deactivate", "").status, 404);
  EXPECT_EQ(daemon_.Post("/api/v1/shops/it-woo/deactivate", "").status, 200);
  EXPECT_EQ(daemon_.Get("/api/v1/shops").Json()["shops"][1]["active"], false);
  EXPECT_EQ(daemon_.Post("/api/v1/shops/it-woo/activate", "").status, 200);
  EXPECT_EQ(daemon_.Get("/api/v1/shops").Json()["shops"][1]["active"], true);
  EXPECT_EQ(daemon_.Get("/api/v1/privacy/requests", "wrong-token").status, 401);
}

// app/uninstalled: the shop's rewards are no longer written to the store; reinstalling
// (activate) sends them.
class PrivacyWriteBackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(store_.Start());
    store_.AddCustomer(std::to_string(kCustomerId), kEmail);
    json& config = daemon_.config();
    config["shops"][0]["api"] = {{"base_url", store_.base_url()},
                                 {"access_token", store_.options().access_token},
                                 {"api_version", "2025-07"},
                                 {"timeout_seconds", 1}};
    config["program"]["rewards"] =
        json::array({{{"id", "free-ship"}, {"points", 20}, {"kind", "free_shipping"}}});
    config["outbox"] = {
        {"initial_backoff_ms", 50}, {"max_backoff_ms", 200}, {"poll_interval_ms", 20}};
    daemon_.Start();
  }

  fakes::FakeShopifyAdmin store_;
  DaemonHarness daemon_;
};

TEST_F(PrivacyWriteBackTest, AppUninstalledStopsWriteBackUntilTheShopIsActivated) {
  ASSERT_EQ(daemon_
                .PostShopifyWebhook("orders/paid",
                                    OrderBody(5001, kCustomerId, kEmail, kFirst, kLast, "50.00"),
                                    "evt-wb-order")
                .status,
            200);
  ASSERT_TRUE(daemon_.WaitUntilProcessed());
  const int64_t id =
      daemon_.Get(std::string("/api/v1/customers?email=") + kEmail).Json()["customers"][0]["id"];

  ASSERT_EQ(daemon_
                .PostShopifyWebhook("app/uninstalled",
                                    json{{"id", 954889}, {"domain", kShopDomain}}.dump(),
                                    "evt-uninstalled")
                .status,
            200);
  ASSERT_TRUE(daemon_.WaitUntilProcessed());
  json shops = daemon_.Get("/api/v1/shops").Json()["shops"];
  ASSERT_EQ(shops[0]["active"], false);
  EXPECT_EQ(shops[0]["reason"], "app uninstalled");

  // Webhooks of an inactive shop are still stored and processed (the books stay right for a
  // reinstall; compliance topics arrive after uninstalling): this one earns.
  ASSERT_EQ(daemon_
                .PostShopifyWebhook("orders/paid",
                                    OrderBody(5002, kCustomerId, kEmail, kFirst, kLast, "5.00"),
                                    "evt-wb-order-late")
                .status,
            200);
  ASSERT_TRUE(daemon_.WaitUntilProcessed());
  EXPECT_EQ(daemon_.Get("/api/v1/customers/" + std::to_string(id)).Json()["points_balance"], 55);

  const HttpAnswer redeemed =
      daemon_.Post("/api/v1/customers/" + std::to_string(id) + "/redemptions",
                   json{{"reward", "free-ship"}}.dump(), {{"Idempotency-Key", "wb-1"}});
  ASSERT_EQ(redeemed.status, 201) << redeemed.body;
  const int64_t redemption = redeemed.Json()["id"];
  // The worker polls every 20 ms; a second is fifty polls in which it must not call.
  std::this_thread::sleep_for(std::chrono::seconds(1));
  json r = daemon_.Get("/api/v1/redemptions/" + std::to_string(redemption)).Json();
  EXPECT_EQ(r["status"], "pending");
  json jobs = daemon_.Get("/api/v1/jobs").Json()["jobs"];
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0]["attempts"], 0);

  ASSERT_EQ(daemon_.Post("/api/v1/shops/it/activate", "").status, 200);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < deadline && r["status"] == "pending") {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    r = daemon_.Get("/api/v1/redemptions/" + std::to_string(redemption)).Json();
  }
  EXPECT_EQ(r["status"], "issued") << r.dump();
}

}  // namespace
}  // namespace loyaltyd::testing::privacy_test
