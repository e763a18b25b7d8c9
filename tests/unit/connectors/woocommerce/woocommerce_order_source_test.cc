// The real WooCommerceOrderSource against the fake WooCommerce REST API over loopback:
// page-numbered listing with modified_after and X-WP-TotalPages, the state it reads, and auth.
#include "connectors/woocommerce/woocommerce_order_source.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <set>
#include <string>

#define CPPHTTPLIB_OPENSSL_SUPPORT 1
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "connectors/woocommerce/woocommerce_samples.h"
#include "fakes/fake_woocommerce_rest.h"

namespace loyaltyd::woocommerce_order_source_test {
namespace {

using fakes::FakeWooCommerceRest;
using fakes::FakeWooFault;
using nlohmann::json;

constexpr int64_t kSince = 1767225600000;  // 2026-01-01T00:00:00Z

// A REST order as WooCommerce lists it, modified `seconds` after 2026-01-01T00:00:00.
json WooOrder(uint64_t id, int seconds, const std::string& status) {
  WooCommerceSampleOptions options;
  options.order_id = id;
  options.customer_id = 12;
  options.email = "cleo@example.com";
  options.status = status;
  char modified[32];
  std::snprintf(modified, sizeof modified, "2026-01-01T%02d:%02d:%02d", seconds / 3600,
                seconds / 60 % 60, seconds % 60);
  options.date_modified_gmt = modified;
  Result<std::string> body = WooCommerceSampleBody("order.updated", options);
  EXPECT_TRUE(body.ok());
  return json::parse(*body);
}

class WooCommerceOrderSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fake_.Start());
    shop_.id = "woo";
    shop_.platform = Platform::kWooCommerce;
    shop_.domain = "shop.example.com";
    shop_.api.configured = true;
    shop_.api.base_url = fake_.base_url();
    shop_.api.consumer_key = fake_.options().consumer_key;
    shop_.api.consumer_secret = fake_.options().consumer_secret;
    shop_.api.timeout_seconds = 2;
    source_ = std::make_unique<WooCommerceOrderSource>(shop_);
  }

  std::vector<PlatformOrder> ListAll(int* pages) {
    std::vector<PlatformOrder> all;
    std::string cursor;
    *pages = 0;
    for (;;) {
      OrderPage page = source_->ListOrders(kSince, cursor);
      EXPECT_TRUE(page.status.ok()) << page.status.ToString() << " " << page.error_detail;
      if (!page.status.ok()) return all;
      ++*pages;
      all.insert(all.end(), page.orders.begin(), page.orders.end());
      if (page.next_cursor.empty()) return all;
      cursor = page.next_cursor;
    }
  }

  FakeWooCommerceRest fake_;
  ShopConfig shop_;
  std::unique_ptr<WooCommerceOrderSource> source_;
};

TEST_F(WooCommerceOrderSourceTest, FollowsTotalPagesThroughEveryOrderModifiedSince) {
  for (uint64_t id = 1; id <= 120; ++id) {
    fake_.AddOrder(WooOrder(id, static_cast<int>(id), "processing"));
  }
  // Modified a second before `since` (2025-12-31T23:59:59): not listed.
  json old = WooOrder(500, 0, "processing");
  old["date_modified_gmt"] = "2025-12-31T23:59:59";
  fake_.AddOrder(old);
  json at_since = WooOrder(501, 0, "processing");  // exactly at `since`: listed
  fake_.AddOrder(at_since);
  int pages = 0;
  const std::vector<PlatformOrder> orders = ListAll(&pages);
  EXPECT_EQ(pages, 3);  // 121 orders, 50 per page
  EXPECT_EQ(fake_.order_listings(), 3);
  ASSERT_EQ(orders.size(), 121u);
  std::set<std::string> ids;
  for (const PlatformOrder& o : orders) ids.insert(o.platform_order_id);
  EXPECT_EQ(ids.size(), 121u);
  EXPECT_EQ(ids.count("500"), 0u);
  EXPECT_EQ(ids.count("501"), 1u);
  EXPECT_EQ(orders.front().platform_order_id, "1");  // by id, ascending
  EXPECT_EQ(orders.front().updated_at, "2026-01-01T00:00:01Z");
  EXPECT_EQ(orders.front().topic, "order.updated");
  // The body is the REST order itself, as a webhook carries it.
  EXPECT_EQ(json::parse(orders.front().body)["id"], 1);
  OrderBody body = source_->FetchOrderBody(orders.front());
  EXPECT_TRUE(body.status.ok());
  EXPECT_EQ(body.body, orders.front().body);
}

TEST_F(WooCommerceOrderSourceTest, TheStatusDecidesTheState) {
  shop_.earn_on_status = {"completed"};
  source_ = std::make_unique<WooCommerceOrderSource>(shop_);
  json refunded = WooOrder(3, 3, "processing");
  refunded["refunds"] = json::array({{{"id", 77}, {"reason", ""}, {"total", "-5.00"}}});
  fake_.AddOrder(WooOrder(1, 1, "processing"));
  fake_.AddOrder(WooOrder(2, 2, "completed"));
  fake_.AddOrder(refunded);
  fake_.AddOrder(WooOrder(4, 4, "cancelled"));
  int pages = 0;
  const std::vector<PlatformOrder> orders = ListAll(&pages);
  ASSERT_EQ(orders.size(), 4u);
  EXPECT_FALSE(orders[0].state.paid);  // processing is not in this shop's earn_on_status
  EXPECT_TRUE(orders[1].state.paid);
  EXPECT_TRUE(orders[1].state.fulfilled);
  EXPECT_EQ(orders[2].state.refund_ids, std::vector<std::string>{"77"});
  EXPECT_TRUE(orders[3].state.cancelled);
}

TEST_F(WooCommerceOrderSourceTest, RateLimitsAndServerErrorsAreTransient) {
  fake_.AddOrder(WooOrder(1, 1, "processing"));
  fake_.InjectFault(FakeWooFault::kHttp429, 1, 7);
  OrderPage limited = source_->ListOrders(kSince, "");
  EXPECT_EQ(limited.status.code(), StatusCode::kUnavailable);
  EXPECT_EQ(limited.retry_after_ms, 7000);
  EXPECT_NE(limited.error_detail.find("too_many_requests"), std::string::npos);
  fake_.InjectFault(FakeWooFault::kHttp500, 1);
  EXPECT_EQ(source_->ListOrders(kSince, "").status.code(), StatusCode::kUnavailable);
  EXPECT_TRUE(source_->ListOrders(kSince, "").status.ok());
}

TEST_F(WooCommerceOrderSourceTest, WrongKeysAreUnauthenticatedWithWooCommercesError) {
  shop_.api.consumer_secret = "cs_wrong";
  WooCommerceOrderSource wrong(shop_);
  OrderPage page = wrong.ListOrders(kSince, "");
  EXPECT_EQ(page.status.code(), StatusCode::kUnauthenticated);
  EXPECT_NE(page.error_detail.find("woocommerce_rest_authentication_error"), std::string::npos);
  EXPECT_EQ(page.status.message().find("cs_wrong"), std::string::npos);
}

TEST(FakeWooCommerceOrdersTest, RejectsOutOfRangePaginationLikeWordPress) {
  FakeWooCommerceRest fake;
  ASSERT_TRUE(fake.Start());
  httplib::Client client(fake.base_url());
  client.set_basic_auth(fake.options().consumer_key, fake.options().consumer_secret);
  auto res = client.Get("/wp-json/wc/v3/orders?per_page=101");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_EQ(json::parse(res->body)["code"], "rest_invalid_param");
  res = client.Get("/wp-json/wc/v3/orders");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("X-WP-Total"), "0");
  EXPECT_EQ(res->get_header_value("X-WP-TotalPages"), "0");
}

}  // namespace
}  // namespace loyaltyd::woocommerce_order_source_test
