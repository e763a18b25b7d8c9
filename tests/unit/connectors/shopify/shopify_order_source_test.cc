// The real ShopifyOrderSource against the fake Admin GraphQL server over loopback: cursor
// pagination of `orders`, the state it reads, and the GraphQL Order mapped into the REST order
// the ShopifyNormaliser reads (ids exact above 2^53, money as decimal strings).
#include "connectors/shopify/shopify_order_source.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "connectors/shopify/shopify_normaliser.h"
#include "fakes/fake_shopify_admin.h"

namespace loyaltyd::shopify_order_source_test {
namespace {

using fakes::FakeFault;
using fakes::FakeShopifyAdmin;
using fakes::FakeShopifyOrder;
using json = nlohmann::json;

constexpr int64_t kT0 = 1767225600000;                  // 2026-01-01T00:00:00Z
constexpr uint64_t kBigOrder = 5123456789012345679ULL;  // above 2^53
constexpr uint64_t kBigCustomer = 7001234567890123457ULL;

class ShopifyOrderSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fake_.Start());
    shop_.id = "demo";
    shop_.domain = "demo.myshopify.com";
    shop_.api.configured = true;
    shop_.api.base_url = fake_.base_url();
    shop_.api.access_token = fake_.options().access_token;
    shop_.api.api_version = "2025-07";
    shop_.api.timeout_seconds = 2;
    source_ = std::make_unique<ShopifyOrderSource>(shop_);
  }

  // Every order listed since `since_ms`, following the cursors; the number of pages in *pages.
  std::vector<PlatformOrder> ListAll(int64_t since_ms, int* pages) {
    std::vector<PlatformOrder> all;
    std::string cursor;
    *pages = 0;
    for (;;) {
      OrderPage page = source_->ListOrders(since_ms, cursor);
      EXPECT_TRUE(page.status.ok()) << page.status.ToString() << " " << page.error_detail;
      if (!page.status.ok()) return all;
      ++*pages;
      all.insert(all.end(), page.orders.begin(), page.orders.end());
      if (page.next_cursor.empty()) return all;
      cursor = page.next_cursor;
    }
  }

  FakeShopifyAdmin fake_;
  ShopConfig shop_;
  std::unique_ptr<ShopifyOrderSource> source_;
};

TEST_F(ShopifyOrderSourceTest, PagesThroughEveryOrderUpdatedSinceOldestFirst) {
  // 120 orders: three pages of 50, 50 and 20; 5 more updated before `since` are not listed.
  for (uint64_t i = 0; i < 125; ++i) {
    FakeShopifyOrder o;
    o.id = 4000000000000000000ULL + i;
    o.updated_at_ms = kT0 + static_cast<int64_t>(i) * 1000 - 5000;
    fake_.AddOrder(o);
  }
  int pages = 0;
  const std::vector<PlatformOrder> orders = ListAll(kT0, &pages);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(fake_.order_queries(), 3);
  ASSERT_EQ(orders.size(), 120u);
  std::set<std::string> ids;
  for (size_t i = 0; i < orders.size(); ++i) {
    ids.insert(orders[i].platform_order_id);
    if (i > 0) {
      EXPECT_GE(orders[i].updated_at_ms, orders[i - 1].updated_at_ms);
    }
  }
  EXPECT_EQ(ids.size(), 120u);  // no order twice across page boundaries
  EXPECT_EQ(orders.front().platform_order_id, "4000000000000000005");
  EXPECT_EQ(orders.front().updated_at_ms, kT0);  // inclusive of `since`
}

TEST_F(ShopifyOrderSourceTest, TheStateDecidesTheTopic) {
  FakeShopifyOrder paid;
  paid.id = 11;
  paid.updated_at_ms = kT0;
  paid.refunds = {{901, "5.00"}};
  paid.financial_status = "PARTIALLY_REFUNDED";
  FakeShopifyOrder cancelled = paid;
  cancelled.id = 12;
  cancelled.cancelled = true;
  cancelled.financial_status = "REFUNDED";
  FakeShopifyOrder pending = paid;
  pending.id = 13;
  pending.refunds.clear();
  pending.financial_status = "PENDING";
  for (const auto& o : {paid, cancelled, pending}) fake_.AddOrder(o);
  int pages = 0;
  const std::vector<PlatformOrder> orders = ListAll(kT0, &pages);
  ASSERT_EQ(orders.size(), 3u);
  EXPECT_EQ(orders[0].topic, "orders/paid");
  EXPECT_TRUE(orders[0].state.paid);
  EXPECT_FALSE(orders[0].state.cancelled);
  EXPECT_EQ(orders[0].state.refund_ids, std::vector<std::string>{"901"});
  EXPECT_EQ(orders[1].topic, "orders/cancelled");
  EXPECT_TRUE(orders[1].state.cancelled);
  EXPECT_EQ(orders[2].topic, "orders/updated");
  EXPECT_FALSE(orders[2].state.paid);
}

TEST_F(ShopifyOrderSourceTest, TheBodyIsTheRestOrderTheNormaliserReadsWithExactIdsAndMoney) {
  FakeShopifyOrder o;
  o.id = kBigOrder;
  o.customer_id = kBigCustomer;
  o.email = "ann@example.com";
  o.subtotal = "19.99";
  o.financial_status = "PARTIALLY_REFUNDED";
  o.refunds = {{9007199254740993ULL, "4.99"}};  // 2^53 + 1
  o.updated_at_ms = kT0;
  fake_.AddOrder(o);
  int pages = 0;
  const std::vector<PlatformOrder> orders = ListAll(kT0, &pages);
  ASSERT_EQ(orders.size(), 1u);
  EXPECT_EQ(orders[0].platform_order_id, "5123456789012345679");
  EXPECT_EQ(orders[0].body, "");  // fetched only when the ledger lacks the state
  OrderBody body = source_->FetchOrderBody(orders[0]);
  ASSERT_TRUE(body.status.ok()) << body.status.ToString() << body.error_detail;
  const json rest = json::parse(body.body);
  EXPECT_EQ(rest["id"].get<uint64_t>(), kBigOrder);
  EXPECT_EQ(rest["customer"]["id"].get<uint64_t>(), kBigCustomer);
  EXPECT_EQ(rest["financial_status"], "partially_refunded");
  EXPECT_EQ(rest["total_price_set"]["shop_money"]["amount"], "19.99");
  EXPECT_EQ(rest["refunds"][0]["id"].get<uint64_t>(), 9007199254740993ULL);

  // What the webhook path makes of it.
  ShopifyNormaliser normaliser;
  Result<NormalisedEvent> event = normaliser.Normalise(shop_, orders[0].topic, body.body);
  ASSERT_TRUE(event.ok()) << event.status().ToString();
  const auto& order = std::get<OrderEvent>(*event);
  EXPECT_EQ(order.kind, OrderEventKind::kPaid);
  EXPECT_EQ(order.order.platform_order_id, "5123456789012345679");
  ASSERT_TRUE(order.order.customer.has_value());
  EXPECT_EQ(order.order.customer->platform_customer_id, "7001234567890123457");
  EXPECT_EQ(order.order.total_minor, 1999);
  ASSERT_EQ(order.order.line_items.size(), 1u);
  EXPECT_EQ(order.order.line_items[0].gross_minor, 1999);
  ASSERT_EQ(order.order.refunds.size(), 1u);
  EXPECT_EQ(order.order.refunds[0].platform_refund_id, "9007199254740993");
  ASSERT_EQ(order.order.refunds[0].lines.size(), 1u);
  EXPECT_EQ(order.order.refunds[0].lines[0].subtotal_minor, 499);
}

TEST_F(ShopifyOrderSourceTest, AnOrderTooBigForOneQueryIsAPermanentProblemOfThatOrder) {
  FakeShopifyOrder o;
  o.id = 21;
  o.updated_at_ms = kT0;
  o.more_line_items = true;
  fake_.AddOrder(o);
  int pages = 0;
  const std::vector<PlatformOrder> orders = ListAll(kT0, &pages);
  ASSERT_EQ(orders.size(), 1u);
  OrderBody body = source_->FetchOrderBody(orders[0]);
  EXPECT_EQ(body.status.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(body.status.message().find("more than 100 line items"), std::string::npos);
}

TEST_F(ShopifyOrderSourceTest, ThrottlingAndRateLimitsAreTransientWithTheirWait) {
  FakeShopifyOrder o;
  o.id = 31;
  o.updated_at_ms = kT0;
  fake_.AddOrder(o);
  fake_.SetCurrentlyAvailable(0);  // a listing costs 2 + 50: THROTTLED, nothing answered
  OrderPage throttled = source_->ListOrders(kT0, "");
  EXPECT_EQ(throttled.status.code(), StatusCode::kUnavailable);
  EXPECT_GT(throttled.retry_after_ms, 0);  // from extensions.cost: (52 - 0) / 50 per s
  EXPECT_LE(throttled.retry_after_ms, 1100);
  EXPECT_NE(throttled.error_detail.find("THROTTLED"), std::string::npos);

  fake_.InjectFault(FakeFault::kHttp429, 1, 3);
  OrderPage limited = source_->ListOrders(kT0, "");
  EXPECT_EQ(limited.status.code(), StatusCode::kUnavailable);
  EXPECT_EQ(limited.retry_after_ms, 3000);
}

TEST_F(ShopifyOrderSourceTest, AWrongTokenIsUnauthenticatedWithShopifysError) {
  shop_.api.access_token = "shpat_wrong";
  ShopifyOrderSource wrong(shop_);
  OrderPage page = wrong.ListOrders(kT0, "");
  EXPECT_EQ(page.status.code(), StatusCode::kUnauthenticated);
  EXPECT_NE(page.error_detail.find("Invalid API key or access token"), std::string::npos);
}

TEST_F(ShopifyOrderSourceTest, AnUnreachableStoreIsTransient) {
  fake_.Stop();
  OrderPage page = source_->ListOrders(kT0, "");
  EXPECT_EQ(page.status.code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace loyaltyd::shopify_order_source_test
