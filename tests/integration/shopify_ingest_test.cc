// End-to-end: signed Shopify webhooks into the real daemon, balances out of its admin API.
#include <signal.h>

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "core/crypto.h"
#include "integration/daemon_harness.h"

namespace loyaltyd::testing::shopify_ingest_test {
namespace {

using nlohmann::json;

json Money(const std::string& amount) {
  json m = {{"amount", amount}, {"currency_code", "USD"}};
  return {{"shop_money", m}, {"presentment_money", m}};
}

// An orders/* webhook body shaped like Shopify's (REST order resource, *_set money).
std::string OrderBody(uint64_t order_id, uint64_t customer_id, const std::string& email,
                      const std::string& price, int quantity = 1) {
  json order = {{"id", order_id},
                {"admin_graphql_api_id", "gid://shopify/Order/" + std::to_string(order_id)},
                {"name", "#" + std::to_string(1000 + order_id % 1000)},
                {"email", email},
                {"currency", "USD"},
                {"presentment_currency", "USD"},
                {"taxes_included", false},
                {"financial_status", "paid"},
                {"cancelled_at", nullptr},
                {"test", false},
                {"created_at", "2026-11-24T10:00:00-05:00"},
                {"updated_at", "2026-11-24T10:00:05-05:00"},
                {"subtotal_price", price},
                {"subtotal_price_set", Money(price)},
                {"total_price", price},
                {"total_price_set", Money(price)},
                {"total_tax", "0.00"},
                {"total_tax_set", Money("0.00")},
                {"total_discounts", "0.00"},
                {"total_discounts_set", Money("0.00")},
                {"total_shipping_price_set", Money("0.00")},
                {"line_items",
                 {{{"id", order_id + 1},
                   {"product_id", 632910392},
                   {"variant_id", 808950810},
                   {"sku", "IPOD2008PINK"},
                   {"title", "IPod Nano - 8GB"},
                   {"vendor", "Apple"},
                   {"quantity", quantity},
                   {"price", price},
                   {"price_set", Money(price)},
                   {"gift_card", false},
                   {"requires_shipping", true},
                   {"taxable", true},
                   {"discount_allocations", json::array()},
                   {"tax_lines", json::array()}}}},
                {"shipping_lines", json::array()},
                {"refunds", json::array()}};
  if (customer_id != 0) {
    order["customer"] = {{"id", customer_id},
                         {"email", email},
                         {"first_name", "Ada"},
                         {"last_name", "Lovelace"},
                         {"tags", ""}};
  }
  return order.dump();
}

class ShopifyIngestTest : public ::testing::Test {
 protected:
  void SetUp() override { daemon_.Start(); }
  DaemonHarness daemon_;
};

TEST_F(ShopifyIngestTest, PaidOrderEarnsPointsVisibleThroughTheApi) {
  const uint64_t order_id = 9007199254740993ULL;  // 2^53 + 1: must not pass through a double
  HttpAnswer ack = daemon_.PostShopifyWebhook(
      "orders/paid", OrderBody(order_id, 7001, "Ada@Example.com", "49.99"), "evt-1");
  ASSERT_EQ(ack.status, 200) << ack.body;
  EXPECT_EQ(ack.Json()["status"], "stored");
  ASSERT_TRUE(daemon_.WaitUntilProcessed());

  HttpAnswer found = daemon_.Get("/api/v1/customers?email=ADA@example.com");
  ASSERT_EQ(found.status, 200);
  const json customers = found.Json()["customers"];
  ASSERT_EQ(customers.size(), 1u);
  EXPECT_EQ(customers[0]["points_balance"], 49);
  EXPECT_EQ(customers[0]["email"], "Ada@Example.com");
  const int64_t id = customers[0]["id"];

  HttpAnswer one = daemon_.Get("/api/v1/customers/" + std::to_string(id));
  ASSERT_EQ(one.status, 200);
  EXPECT_EQ(one.Json()["points_balance"], 49);
  EXPECT_EQ(one.Json()["platform_customer_id"], "7001");

  HttpAnswer ledger = daemon_.Get("/api/v1/customers/" + std::to_string(id) + "/ledger");
  ASSERT_EQ(ledger.status, 200);
  const json entries = ledger.Json()["entries"];
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0]["points"], 49);
  EXPECT_EQ(entries[0]["kind"], "earn");
  EXPECT_EQ(entries[0]["source_event"]["topic"], "orders/paid");
  EXPECT_EQ(entries[0]["order"]["platform_order_id"], "9007199254740993");
}

TEST_F(ShopifyIngestTest, RedeliveryAnswers200AndChangesNothing) {
  const std::string body = OrderBody(5001, 7002, "bob@example.com", "20.00");
  ASSERT_EQ(daemon_.PostShopifyWebhook("orders/paid", body, "evt-dup").status, 200);
  HttpAnswer again = daemon_.PostShopifyWebhook("orders/paid", body, "evt-dup");
  ASSERT_EQ(again.status, 200);
  EXPECT_EQ(again.Json()["status"], "duplicate");
  // The same order paid again under a new event id (a replayed store event) earns nothing more.
  ASSERT_EQ(daemon_.PostShopifyWebhook("orders/paid", body, "evt-other").status, 200);
  ASSERT_TRUE(daemon_.WaitUntilProcessed());
  EXPECT_EQ(daemon_.BalanceOf("bob@example.com"), 20);
  const json stats = daemon_.Get("/api/v1/stats").Json();
  EXPECT_EQ(stats["inbox"]["processed"], 2);  // the duplicate was never stored
}

TEST_F(ShopifyIngestTest, SameEventIdOnAnotherTopicIsNotADuplicate) {
  // Shopify fans one store event out to orders/create and orders/paid with one event id.
  const std::string body = OrderBody(5002, 7003, "cy@example.com", "15.00");
  EXPECT_EQ(daemon_.PostShopifyWebhook("orders/create", body, "evt-fan").Json()["status"],
            "stored");
  EXPECT_EQ(daemon_.PostShopifyWebhook("orders/paid", body, "evt-fan").Json()["status"], "stored");
  ASSERT_TRUE(daemon_.WaitUntilProcessed());
  EXPECT_EQ(daemon_.BalanceOf("cy@example.com"), 15);
}

TEST_F(ShopifyIngestTest, CreatedOrderEarnsNothingUntilPaid) {
  const std::string body = OrderBody(5003, 7004, "dee@example.com", "30.00");
  ASSERT_EQ(daemon_.PostShopifyWebhook("orders/create", body, "evt-c").status, 200);
  ASSERT_TRUE(daemon_.WaitUntilProcessed());
  EXPECT_EQ(daemon_.BalanceOf("dee@example.com"), 0);
  ASSERT_EQ(daemon_.PostShopifyWebhook("orders/paid", body, "evt-p").status, 200);
  ASSERT_TRUE(daemon_.WaitUntilProcessed());
  EXPECT_EQ(daemon_.BalanceOf("dee@example.com"), 30);
}

TEST_F(ShopifyIngestTest, GuestOrderIsCreditedByEmail) {
  ASSERT_EQ(daemon_
                .PostShopifyWebhook("orders/paid", OrderBody(5004, 0, "Guest@Example.com", "12.00"),
                                    "evt-g1")
                .status,
            200);
  ASSERT_EQ(daemon_
                .PostShopifyWebhook("orders/paid", OrderBody(5005, 0, "guest@example.com", "8.00"),
                                    "evt-g2")
                .status,
            200);
  ASSERT_TRUE(daemon_.WaitUntilProcessed());
  EXPECT_EQ(daemon_.BalanceOf("guest@example.com"), 20);
}

TEST_F(ShopifyIngestTest, WrongOrMissingSignatureIs401AndStoresNothing) {
  const std::string body = OrderBody(5006, 7005, "eve@example.com", "99.00");
  EXPECT_EQ(daemon_.PostShopifyWebhook("orders/paid", body, "evt-x", "wrong-secret").status, 401);
  // A valid signature of another body (a replayed signature on a changed body).
  HttpAnswer tampered =
      daemon_.PostShopifyWebhook("orders/paid", body + " ", "evt-y", "wrong-secret");
  EXPECT_EQ(tampered.status, 401);
  httplib::Client raw("127.0.0.1", daemon_.port());
  auto unsigned_post = raw.Post("/webhooks/shopify",
                                {{"X-Shopify-Topic", "orders/paid"},
                                 {"X-Shopify-Shop-Domain", kShopDomain},
                                 {"X-Shopify-Event-Id", "evt-z"}},
                                body, "application/json");
  ASSERT_TRUE(unsigned_post);
  EXPECT_EQ(unsigned_post->status, 401);
  const json stats = daemon_.Get("/api/v1/stats").Json();
  EXPECT_EQ(stats["inbox"]["pending"], 0);
  EXPECT_EQ(stats["inbox"]["processed"], 0);
  EXPECT_EQ(stats["inbox"]["failed"], 0);
}

TEST_F(ShopifyIngestTest, UnknownShopIs401) {
  const std::string body = OrderBody(5007, 7006, "fay@example.com", "10.00");
  HttpAnswer answer = daemon_.PostShopifyWebhook("orders/paid", body, "evt-u", kWebhookSecret,
                                                 "someone-else.myshopify.com");
  EXPECT_EQ(answer.status, 401);
  EXPECT_EQ(daemon_.Get("/api/v1/stats").Json()["inbox"]["pending"], 0);
}

TEST_F(ShopifyIngestTest, OversizedBodyIs413) {
  std::string body = OrderBody(5008, 7007, "gus@example.com", "10.00");
  body.append(70000, ' ');  // max_body_bytes is 65536 in the harness config
  EXPECT_EQ(daemon_.PostShopifyWebhook("orders/paid", body, "evt-big").status, 413);
  EXPECT_EQ(daemon_.Get("/api/v1/stats").Json()["inbox"]["pending"], 0);
}

TEST_F(ShopifyIngestTest, MalformedJsonIsAcknowledgedAndVisibleAsFailed) {
  HttpAnswer ack =
      daemon_.PostShopifyWebhook("orders/paid", "{\"id\": 1, \"line_items\": [", "evt-bad");
  EXPECT_EQ(ack.status, 200);  // signed by the shop: the platform must not retry it forever
  ASSERT_TRUE(daemon_.WaitUntilProcessed());
  HttpAnswer failed = daemon_.Get("/api/v1/events?status=failed");
  ASSERT_EQ(failed.status, 200);
  const json events = failed.Json()["events"];
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["topic"], "orders/paid");
  EXPECT_EQ(events[0]["status"], "failed");
  EXPECT_NE(events[0]["reason"].get<std::string>().find("JSON"), std::string::npos)
      << events[0]["reason"];
}

TEST_F(ShopifyIngestTest, OtherTopicsAreStoredAndAcknowledged) {
  HttpAnswer ack = daemon_.PostShopifyWebhook("products/update", "{\"id\": 632910392}", "evt-prod");
  EXPECT_EQ(ack.status, 200);
  ASSERT_TRUE(daemon_.WaitUntilProcessed());
  EXPECT_EQ(daemon_.Get("/api/v1/events?status=ignored").Json()["events"].size(), 1u);
}

TEST_F(ShopifyIngestTest, CustomerTopicsRecordIdentity) {
  json customer = {{"id", 706405506930370084ULL}, {"email", "Hal@Example.com"},
                   {"first_name", "Hal"},         {"last_name", "Jordan"},
                   {"tags", "vip, wholesale"},    {"created_at", "2026-11-24T10:00:00-05:00"}};
  ASSERT_EQ(daemon_.PostShopifyWebhook("customers/create", customer.dump(), "evt-cc").status, 200);
  customer["last_name"] = "Jordan-Smith";
  ASSERT_EQ(daemon_.PostShopifyWebhook("customers/update", customer.dump(), "evt-cu").status, 200);
  ASSERT_TRUE(daemon_.WaitUntilProcessed());
  const json found = daemon_.Get("/api/v1/customers?email=hal@example.com").Json()["customers"];
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0]["platform_customer_id"], "706405506930370084");
  EXPECT_EQ(found[0]["last_name"], "Jordan-Smith");
  EXPECT_EQ(found[0]["points_balance"], 0);
}

TEST_F(ShopifyIngestTest, AdminApiRequiresTheToken) {
  EXPECT_EQ(daemon_.Get("/api/v1/stats", "").status, 401);
  EXPECT_EQ(daemon_.Get("/api/v1/stats", "wrong-token").status, 401);
  EXPECT_EQ(daemon_.Get("/api/v1/customers?email=a@b.c", std::string(kAdminToken) + "x").status,
            401);
  EXPECT_EQ(daemon_.Get("/api/v1/stats").status, 200);
  EXPECT_EQ(daemon_.Get("/api/v1/customers/999999").status, 404);
  EXPECT_EQ(daemon_.Get("/api/v1/customers").status, 400);
  EXPECT_EQ(daemon_.Get("/api/v1/events?status=bogus").status, 400);
}

TEST_F(ShopifyIngestTest, Kill9AfterAcksLosesNothing) {
  // Acknowledged deliveries are committed; kill -9 right after the acks, before processing has
  // necessarily happened, then restart: every one of them must be in the ledger exactly once.
  constexpr int kOrders = 40;
  for (int i = 0; i < kOrders; ++i) {
    HttpAnswer ack = daemon_.PostShopifyWebhook(
        "orders/paid", OrderBody(8000 + i, 7100, "ivy@example.com", "2.00"),
        "evt-k" + std::to_string(i));
    ASSERT_EQ(ack.status, 200) << ack.body;
  }
  daemon_.Kill9();
  daemon_.Start();
  ASSERT_TRUE(daemon_.WaitUntilProcessed());
  EXPECT_EQ(daemon_.BalanceOf("ivy@example.com"), 2 * kOrders);
  // The platform, never having seen some acks, may resend: still counted once.
  for (int i = 0; i < kOrders; i += 7) {
    HttpAnswer again = daemon_.PostShopifyWebhook(
        "orders/paid", OrderBody(8000 + i, 7100, "ivy@example.com", "2.00"),
        "evt-k" + std::to_string(i));
    EXPECT_EQ(again.Json()["status"], "duplicate");
  }
  ASSERT_TRUE(daemon_.WaitUntilProcessed());
  EXPECT_EQ(daemon_.BalanceOf("ivy@example.com"), 2 * kOrders);
}

TEST_F(ShopifyIngestTest, SigtermDrainsAndExitsCleanly) {
  std::vector<std::thread> senders;
  std::atomic<int> acked{0};
  for (int t = 0; t < 4; ++t) {
    senders.emplace_back([&, t] {
      httplib::Client c("127.0.0.1", daemon_.port());
      for (int i = 0; i < 10; ++i) {
        const std::string body = OrderBody(9000 + t * 100 + i, 7200, "jo@example.com", "1.00");
        auto res = c.Post("/webhooks/shopify",
                          {{"X-Shopify-Topic", "orders/paid"},
                           {"X-Shopify-Shop-Domain", kShopDomain},
                           {"X-Shopify-Hmac-Sha256", HmacSha256Base64(kWebhookSecret, body)},
                           {"X-Shopify-Event-Id", "evt-s" + std::to_string(t * 100 + i)}},
                          body, "application/json");
        if (res && res->status == 200) acked++;
      }
    });
  }
  for (auto& s : senders) s.join();
  EXPECT_EQ(daemon_.Stop(), 0);
  EXPECT_NE(daemon_.ReadLog().find("loyaltyd stopped"), std::string::npos);
  daemon_.Start();
  ASSERT_TRUE(daemon_.WaitUntilProcessed());
  EXPECT_EQ(daemon_.BalanceOf("jo@example.com"), acked.load());
}

TEST_F(ShopifyIngestTest, LogsNeverContainSecretsOrBodies) {
  ASSERT_EQ(daemon_
                .PostShopifyWebhook("orders/paid", OrderBody(5010, 7300, "kim@example.com", "5.00"),
                                    "evt-log")
                .status,
            200);
  (void)daemon_.PostShopifyWebhook("orders/paid", "{bad", "evt-log-bad");
  (void)daemon_.PostShopifyWebhook("orders/paid", "{}", "evt-log-sig", "wrong-secret");
  (void)daemon_.Get("/api/v1/stats", "wrong-token");
  ASSERT_TRUE(daemon_.WaitUntilProcessed());
  ASSERT_EQ(daemon_.Stop(), 0);
  const std::string log = daemon_.ReadLog();
  EXPECT_NE(log.find("listening on"), std::string::npos);
  EXPECT_EQ(log.find(kWebhookSecret), std::string::npos);
  EXPECT_EQ(log.find(kAdminToken), std::string::npos);
  EXPECT_EQ(log.find("wrong-token"), std::string::npos);
  EXPECT_EQ(log.find("IPod Nano"), std::string::npos);  // no payload content
  EXPECT_EQ(log.find("kim@example.com"), std::string::npos);
}

TEST(LoyaltydCliTest, HelpAnswersAndExitsZero) {
  std::string out;
  EXPECT_EQ(DaemonHarness::RunCli("--help", out), 0);
  EXPECT_NE(out.find("loyaltyd serve --config FILE"), std::string::npos);
  EXPECT_NE(out.find("check-config"), std::string::npos);
  EXPECT_NE(out.find("trigger"), std::string::npos);
  EXPECT_EQ(DaemonHarness::RunCli("serve --help", out), 0);
  EXPECT_EQ(DaemonHarness::RunCli("no-such-command", out), 2);
  EXPECT_NE(out.find("unknown command 'no-such-command'"), std::string::npos);
}

TEST(LoyaltydCliTest, CheckConfigAcceptsTheExampleAndRejectsABadOne) {
  std::string out;
  EXPECT_EQ(DaemonHarness::RunCli(
                std::string("check-config ") + LOYALTYD_SOURCE_DIR + "/config/example.json", out),
            0)
      << out;
  TempDir dir;
  const std::string bad = dir.File("bad.json");
  std::ofstream(bad) << R"({"server": {"listen": "127.0.0.1:8080"}, "admin": {"token": "short"},
    "shops": [], "program": {"currency": "USD", "earn": [{"type": "spend", "point": 1, "per": "-1"}]}})";
  EXPECT_EQ(DaemonHarness::RunCli("check-config " + bad, out), 2);
  EXPECT_NE(out.find("admin.token"), std::string::npos) << out;
  EXPECT_NE(out.find("program.earn[0].per"), std::string::npos) << out;
  EXPECT_NE(out.find("did you mean 'points'?"), std::string::npos) << out;
}

TEST(LoyaltydCliTest, ServeRefusesAnInvalidConfigWithExitCode2) {
  TempDir dir;
  const std::string bad = dir.File("bad.json");
  std::ofstream(bad) << "{ not json";
  std::string out;
  EXPECT_EQ(DaemonHarness::RunCli("serve --config " + bad, out), 2);
  EXPECT_NE(out.find("malformed JSON"), std::string::npos) << out;
}

// A refunds/create body shaped like Shopify's (REST Refund resource): one line of `quantity`.
std::string RefundBody(uint64_t refund_id, uint64_t order_id, uint64_t line_id, int quantity,
                       const std::string& subtotal) {
  json line = {{"id", refund_id + 1},
               {"quantity", quantity},
               {"line_item_id", line_id},
               {"restock_type", "return"},
               {"subtotal", std::stod(subtotal)},
               {"total_tax", 0.0},
               {"subtotal_set", Money(subtotal)},
               {"total_tax_set", Money("0.00")},
               {"line_item", {{"id", line_id}, {"gift_card", false}, {"quantity", 3}}}};
  return json{{"id", refund_id},
              {"order_id", order_id},
              {"created_at", "2026-11-24T12:00:00-05:00"},
              {"refund_line_items", json::array({line})},
              {"transactions", json::array()}}
      .dump();
}

TEST_F(ShopifyIngestTest, RefundClawsBackItsShareOnceThroughTheApi) {
  // Three items at 30.00: 90 points. Refunding one takes back its 30, once, whatever the
  // redeliveries; the ledger shows the clawback with its refund id.
  ASSERT_EQ(
      daemon_
          .PostShopifyWebhook("orders/paid",
                              OrderBody(6001, 7010, "refund@example.com", "30.00", 3), "evt-paid")
          .status,
      200);
  ASSERT_TRUE(daemon_.WaitUntilProcessed());
  EXPECT_EQ(daemon_.BalanceOf("refund@example.com"), 90);
  const std::string refund = RefundBody(8801, 6001, 6002, 1, "30.00");
  ASSERT_EQ(daemon_.PostShopifyWebhook("refunds/create", refund, "evt-refund").status, 200);
  ASSERT_EQ(daemon_.PostShopifyWebhook("refunds/create", refund, "evt-refund-again").status, 200);
  ASSERT_TRUE(daemon_.WaitUntilProcessed());
  EXPECT_EQ(daemon_.BalanceOf("refund@example.com"), 60);

  HttpAnswer found = daemon_.Get("/api/v1/customers?email=refund@example.com");
  ASSERT_EQ(found.status, 200);
  const int64_t id = found.Json()["customers"][0]["id"];
  HttpAnswer ledger = daemon_.Get("/api/v1/customers/" + std::to_string(id) + "/ledger");
  ASSERT_EQ(ledger.status, 200);
  const json entries = ledger.Json()["entries"];
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0]["kind"], "clawback");
  EXPECT_EQ(entries[0]["points"], -30);
  EXPECT_EQ(entries[0]["balance_after"], 60);
  EXPECT_EQ(entries[0]["refund_key"], "8801");
  EXPECT_EQ(entries[0]["source_event"]["topic"], "refunds/create");
  EXPECT_EQ(entries[0]["order"]["platform_order_id"], "6001");
  EXPECT_EQ(entries[1]["kind"], "earn");
  EXPECT_EQ(entries[1]["refund_key"], nullptr);
}

TEST_F(ShopifyIngestTest, RefundThatOvertakesThePaidOrderIsAppliedWhenItEarns) {
  ASSERT_EQ(daemon_
                .PostShopifyWebhook("refunds/create", RefundBody(8802, 6101, 6102, 2, "60.00"),
                                    "evt-early-refund")
                .status,
            200);
  ASSERT_TRUE(daemon_.WaitUntilProcessed());
  EXPECT_EQ(daemon_.BalanceOf("early@example.com"), -1);  // nobody to take from yet
  ASSERT_EQ(
      daemon_
          .PostShopifyWebhook("orders/paid", OrderBody(6101, 7011, "early@example.com", "30.00", 3),
                              "evt-late-paid")
          .status,
      200);
  ASSERT_TRUE(daemon_.WaitUntilProcessed());
  EXPECT_EQ(daemon_.BalanceOf("early@example.com"), 30);
}

}  // namespace
}  // namespace loyaltyd::testing::shopify_ingest_test
