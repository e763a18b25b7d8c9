// End-to-end: WooCommerce webhooks (ping, signed order and customer topics) into the real daemon,
// balances out of its admin API.
#include <gtest/gtest.h>

#include <string>

#include "connectors/woocommerce/woocommerce_samples.h"
#include "integration/daemon_harness.h"

namespace loyaltyd::testing::woocommerce_ingest_test {
namespace {

using nlohmann::json;

class WooCommerceIngestTest : public ::testing::Test {
 protected:
  void SetUp() override { daemon_.Start(); }

  // An order body as WooCommerce sends it (woocommerce_samples: REST v3 shape, "\/" escaping).
  static std::string OrderBody(const std::string& topic, uint64_t order_id, uint64_t customer_id,
                               const std::string& email, const std::string& status,
                               const std::string& modified, const std::string& total = "25.00") {
    WooCommerceSampleOptions options;
    options.order_id = order_id;
    options.customer_id = customer_id;
    options.email = email;
    options.status = status;
    options.date_modified_gmt = modified;
    options.subtotal = total;
    Result<std::string> body = WooCommerceSampleBody(topic, options);
    EXPECT_TRUE(body.ok()) << body.status().message();
    return body.ok() ? *body : std::string();
  }

  json Stats() { return daemon_.Get("/api/v1/stats").Json(); }

  DaemonHarness daemon_;
};

TEST_F(WooCommerceIngestTest, PingIsAnswered200AndStoresNothing) {
  // WC_Webhook::deliver_ping: form-encoded, unsigned, without X-WC-* headers.
  httplib::Client raw("127.0.0.1", daemon_.port());
  auto ping =
      raw.Post("/webhooks/woocommerce", "webhook_id=7", "application/x-www-form-urlencoded");
  ASSERT_TRUE(ping);
  EXPECT_EQ(ping->status, 200) << ping->body;
  // Something else unsigned is not a ping.
  auto other = raw.Post("/webhooks/woocommerce", "webhook_id=7&status=active",
                        "application/x-www-form-urlencoded");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 401);
  const json stats = Stats();
  EXPECT_EQ(stats["inbox"]["pending"], 0);
  EXPECT_EQ(stats["inbox"]["processed"], 0);
  EXPECT_EQ(stats["inbox"]["ignored"], 0);
  EXPECT_EQ(stats["inbox"]["failed"], 0);
}

TEST_F(WooCommerceIngestTest, OrderEarnsOnceWhenItsStatusReachesEarnOnStatus) {
  const std::string email = "ada@example.com";
  // order.created while pending: recorded, no points.
  HttpAnswer created = daemon_.PostWooCommerceWebhook(
      "order.created", OrderBody("order.created", 501, 12, email, "pending", "2026-01-01T10:00:00"),
      "d-created");
  ASSERT_EQ(created.status, 200) << created.body;
  EXPECT_EQ(created.Json()["status"], "stored");
  ASSERT_TRUE(daemon_.WaitUntilProcessed());
  EXPECT_EQ(daemon_.BalanceOf(email), 0);

  // order.updated to processing: paid, 25 points.
  const std::string processing =
      OrderBody("order.updated", 501, 12, email, "processing", "2026-01-01T10:00:05");
  ASSERT_EQ(daemon_.PostWooCommerceWebhook("order.updated", processing, "d-processing").status,
            200);
  ASSERT_TRUE(daemon_.WaitUntilProcessed());
  EXPECT_EQ(daemon_.BalanceOf(email), 25);

  // The same snapshot again, in another second (so with another delivery id): a duplicate.
  HttpAnswer again = daemon_.PostWooCommerceWebhook("order.updated", processing, "d-resent");
  ASSERT_EQ(again.status, 200);
  EXPECT_EQ(again.Json()["status"], "duplicate");

  // Completed afterwards: a new state, stored, and still no second award.
  HttpAnswer completed = daemon_.PostWooCommerceWebhook(
      "order.updated",
      OrderBody("order.updated", 501, 12, email, "completed", "2026-01-01T11:00:00"),
      "d-completed");
  ASSERT_EQ(completed.status, 200);
  EXPECT_EQ(completed.Json()["status"], "stored");
  ASSERT_TRUE(daemon_.WaitUntilProcessed());
  EXPECT_EQ(daemon_.BalanceOf(email), 25);

  const json customers = daemon_.Get("/api/v1/customers?email=" + email).Json()["customers"];
  ASSERT_EQ(customers.size(), 1u);
  EXPECT_EQ(customers[0]["platform_customer_id"], "12");
  const int64_t id = customers[0]["id"];
  const json entries =
      daemon_.Get("/api/v1/customers/" + std::to_string(id) + "/ledger").Json()["entries"];
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0]["points"], 25);
  EXPECT_EQ(entries[0]["source_event"]["topic"], "order.updated");
  EXPECT_EQ(entries[0]["order"]["platform_order_id"], "501");
  EXPECT_EQ(Stats()["inbox"]["failed"], 0);
}

TEST_F(WooCommerceIngestTest, GuestOrderIsCreditedByBillingEmail) {
  ASSERT_EQ(daemon_
                .PostWooCommerceWebhook("order.created",
                                        OrderBody("order.created", 601, 0, "Guest@Example.com",
                                                  "processing", "2026-01-02T09:00:00", "12.00"))
                .status,
            200);
  ASSERT_EQ(daemon_
                .PostWooCommerceWebhook("order.updated",
                                        OrderBody("order.updated", 602, 0, "guest@example.com",
                                                  "completed", "2026-01-02T09:00:00", "8.00"))
                .status,
            200);
  ASSERT_TRUE(daemon_.WaitUntilProcessed());
  EXPECT_EQ(daemon_.BalanceOf("guest@example.com"), 20);
}

TEST_F(WooCommerceIngestTest, WrongSignatureOrUnknownShopIs401AndStoresNothing) {
  const std::string body =
      OrderBody("order.updated", 701, 13, "eve@example.com", "processing", "2026-01-03T08:00:00");
  EXPECT_EQ(daemon_.PostWooCommerceWebhook("order.updated", body, "d1", "wrong-secret").status,
            401);
  EXPECT_EQ(daemon_
                .PostWooCommerceWebhook("order.updated", body, "d2", kWooSecret,
                                        "someone-else.example.com")
                .status,
            401);
  // The Shopify shop's secret and domain do not make a WooCommerce delivery.
  EXPECT_EQ(daemon_.PostWooCommerceWebhook("order.updated", body, "d3", kWebhookSecret, kShopDomain)
                .status,
            401);
  httplib::Client raw("127.0.0.1", daemon_.port());
  auto unsigned_post =
      raw.Post("/webhooks/woocommerce",
               {{"X-WC-Webhook-Source", std::string("https://") + kWooDomain + "/"},
                {"X-WC-Webhook-Topic", "order.updated"}},
               body, "application/json");
  ASSERT_TRUE(unsigned_post);
  EXPECT_EQ(unsigned_post->status, 401);
  const json stats = Stats();
  EXPECT_EQ(stats["inbox"]["pending"], 0);
  EXPECT_EQ(stats["inbox"]["processed"], 0);
  EXPECT_EQ(stats["inbox"]["failed"], 0);
}

TEST_F(WooCommerceIngestTest, OversizedBodyIs413) {
  std::string body =
      OrderBody("order.updated", 801, 14, "gus@example.com", "processing", "2026-01-04T08:00:00");
  body.append(70000, ' ');  // max_body_bytes is 65536 in the harness config
  EXPECT_EQ(daemon_.PostWooCommerceWebhook("order.updated", body).status, 413);
  EXPECT_EQ(Stats()["inbox"]["pending"], 0);
}

TEST_F(WooCommerceIngestTest, MalformedJsonIsAcknowledgedAndVisibleAsFailed) {
  HttpAnswer ack = daemon_.PostWooCommerceWebhook("order.updated", "{\"id\": 1, \"line_items\": [");
  EXPECT_EQ(ack.status, 200);
  ASSERT_TRUE(daemon_.WaitUntilProcessed());
  const json events = daemon_.Get("/api/v1/events?status=failed").Json()["events"];
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["topic"], "order.updated");
  EXPECT_NE(events[0]["reason"].get<std::string>().find("JSON"), std::string::npos)
      << events[0]["reason"];
}

TEST_F(WooCommerceIngestTest, DeletedAndOtherTopicsAreStoredAndIgnored) {
  EXPECT_EQ(daemon_.PostWooCommerceWebhook("order.deleted", R"({"id":901})").status, 200);
  EXPECT_EQ(daemon_.PostWooCommerceWebhook("product.updated", R"({"id":93,"name":"Tee"})").status,
            200);
  ASSERT_TRUE(daemon_.WaitUntilProcessed());
  const json events = daemon_.Get("/api/v1/events?status=ignored").Json()["events"];
  ASSERT_EQ(events.size(), 2u);
}

TEST_F(WooCommerceIngestTest, CustomerTopicsRecordIdentity) {
  WooCommerceSampleOptions options;
  options.customer_id = 31;
  options.email = "Hal@Example.com";
  ASSERT_EQ(daemon_
                .PostWooCommerceWebhook("customer.created",
                                        WooCommerceSampleBody("customer.created", options).value())
                .status,
            200);
  ASSERT_TRUE(daemon_.WaitUntilProcessed());
  const json found = daemon_.Get("/api/v1/customers?email=hal@example.com").Json()["customers"];
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0]["platform_customer_id"], "31");
  EXPECT_EQ(found[0]["points_balance"], 0);
}

}  // namespace
}  // namespace loyaltyd::testing::woocommerce_ingest_test
