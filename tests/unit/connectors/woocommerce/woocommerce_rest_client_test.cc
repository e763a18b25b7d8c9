#include "connectors/woocommerce/woocommerce_rest_client.h"

#include <gtest/gtest.h>

#define CPPHTTPLIB_OPENSSL_SUPPORT 1
#include <httplib.h>

#include "fakes/fake_woocommerce_rest.h"

namespace loyaltyd::woocommerce_rest_client_test {
namespace {

using fakes::FakeWooCommerceRest;
using fakes::FakeWooFault;
using nlohmann::json;

class WooCommerceRestClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fake_.Start());
    fake_.AddCustomer(42, "ada@example.com");
    shop_.id = "woo";
    shop_.platform = Platform::kWooCommerce;
    shop_.domain = "shop.example.com";
    shop_.api.configured = true;
    shop_.api.base_url = fake_.base_url();
    shop_.api.consumer_key = fake_.options().consumer_key;
    shop_.api.consumer_secret = fake_.options().consumer_secret;
    shop_.api.timeout_seconds = 2;
    client_ = std::make_unique<WooCommerceRestClient>(shop_);
  }

  static RewardRequest FixedFive() {
    RewardRequest r;
    r.kind = RewardKind::kFixedDiscount;
    r.code = "LOYAL-ABCDEFGH23";
    r.idempotency_key = "woo:code:LOYAL-ABCDEFGH23";
    r.title = "$5 off (loyalty redemption 7)";
    r.currency = "USD";
    r.currency_exponent = 2;
    r.amount_minor = 500;
    r.minimum_order_minor = 2500;
    r.ends_at_ms = 1'798'761'600'000;  // 2027-01-01T00:00:00Z
    r.customer_platform_id = "42";
    r.customer_email = "ada@example.com";
    return r;
  }

  FakeWooCommerceRest fake_;
  ShopConfig shop_;
  std::unique_ptr<WooCommerceRestClient> client_;
};

TEST_F(WooCommerceRestClientTest, CreatesAFixedCartCouponWithTheExactFields) {
  PlatformResponse r = client_->CreateReward(FixedFive());
  ASSERT_TRUE(r.status.ok()) << r.status.ToString() << " " << r.error_detail;
  EXPECT_EQ(r.code, "loyal-abcdefgh23") << "WooCommerce keeps codes lower-cased";
  const json c = fake_.coupon("LOYAL-ABCDEFGH23");
  ASSERT_TRUE(c.is_object());
  EXPECT_EQ(r.platform_reward_id, c["id"].dump());
  EXPECT_EQ(c["discount_type"], "fixed_cart");
  EXPECT_EQ(c["amount"], "5.00");
  EXPECT_EQ(c["minimum_amount"], "25.00");
  EXPECT_EQ(c["usage_limit"], 1);
  EXPECT_EQ(c["usage_limit_per_user"], 1);
  EXPECT_EQ(c["email_restrictions"], json::array({"ada@example.com"}));
  EXPECT_EQ(c["date_expires_gmt"], "2027-01-01T00:00:00");
  EXPECT_EQ(c["free_shipping"], false);
  EXPECT_EQ(c["description"], "$5 off (loyalty redemption 7)");
  ASSERT_EQ(c["meta_data"].size(), 1u);
  EXPECT_EQ(c["meta_data"][0]["key"], "_loyaltyd_idempotency_key");
  EXPECT_EQ(c["meta_data"][0]["value"], "woo:code:LOYAL-ABCDEFGH23");
  EXPECT_TRUE(fake_.ignored_fields().empty()) << "the client sent a field WooCommerce ignores";
}

TEST_F(WooCommerceRestClientTest, PercentageAndFreeShippingCoupons) {
  RewardRequest pct = FixedFive();
  pct.kind = RewardKind::kPercentageDiscount;
  pct.code = "VIP-PCT2345678";
  pct.percentage = 15;
  pct.restrict_to_customer = false;
  pct.minimum_order_minor = 0;
  pct.ends_at_ms = 0;
  ASSERT_TRUE(client_->CreateReward(pct).status.ok());
  const json p = fake_.coupon("vip-pct2345678");
  EXPECT_EQ(p["discount_type"], "percent");
  EXPECT_EQ(p["amount"], "15");
  EXPECT_EQ(p["email_restrictions"], json::array());
  EXPECT_TRUE(p["date_expires_gmt"].is_null());

  RewardRequest ship = FixedFive();
  ship.kind = RewardKind::kFreeShipping;
  ship.code = "SHIP-2345678ABC";
  ASSERT_TRUE(client_->CreateReward(ship).status.ok());
  const json s = fake_.coupon("ship-2345678abc");
  EXPECT_EQ(s["free_shipping"], true);
  EXPECT_EQ(s["amount"], "0");
}

TEST_F(WooCommerceRestClientTest, StoreCreditIsASingleUseCouponWithADerivedCode) {
  RewardRequest credit = FixedFive();
  credit.kind = RewardKind::kStoreCredit;
  credit.code = "";
  credit.idempotency_key = "woo:credit:9";
  credit.amount_minor = 1000;
  credit.minimum_order_minor = 0;
  credit.restrict_to_customer = false;  // store credit is the customer's whatever the setting
  const std::string code = client_->CouponCode(credit);
  EXPECT_EQ(code.rfind("credit-", 0), 0u);
  EXPECT_EQ(code.size(), 19u);
  EXPECT_EQ(client_->CouponCode(credit), code) << "a retry must ask for the same code";
  RewardRequest other = credit;
  other.idempotency_key = "woo:credit:10";
  EXPECT_NE(client_->CouponCode(other), code);

  PlatformResponse r = client_->CreateReward(credit);
  ASSERT_TRUE(r.status.ok()) << r.error_detail;
  EXPECT_EQ(r.code, code);
  const json c = fake_.coupon(code);
  EXPECT_EQ(c["amount"], "10.00");
  EXPECT_EQ(c["usage_limit"], 1);
  EXPECT_EQ(c["email_restrictions"], json::array({"ada@example.com"}));
}

TEST_F(WooCommerceRestClientTest, ADuplicateCodeIsPermanentWithWooCommercesError) {
  ASSERT_TRUE(client_->CreateReward(FixedFive()).status.ok());
  PlatformResponse again = client_->CreateReward(FixedFive());
  EXPECT_EQ(again.status.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(again.error_detail,
            "HTTP 400 woocommerce_rest_coupon_code_already_exists: The coupon code already exists");
  EXPECT_EQ(fake_.coupons().size(), 1u);
}

TEST_F(WooCommerceRestClientTest, ServerErrorsAndRateLimitsAreTransient) {
  fake_.InjectFault(FakeWooFault::kHttp500, 1);
  PlatformResponse failed = client_->CreateReward(FixedFive());
  EXPECT_EQ(failed.status.code(), StatusCode::kUnavailable);
  EXPECT_NE(failed.error_detail.find("HTTP 500"), std::string::npos);

  fake_.InjectFault(FakeWooFault::kHttp429, 1, /*retry_after_seconds=*/3);
  PlatformResponse limited = client_->CreateReward(FixedFive());
  EXPECT_EQ(limited.status.code(), StatusCode::kUnavailable);
  EXPECT_EQ(limited.retry_after_ms, 3000);
  EXPECT_TRUE(fake_.coupons().empty());

  EXPECT_TRUE(client_->CreateReward(FixedFive()).status.ok());
  EXPECT_EQ(fake_.coupons().size(), 1u);
}

TEST_F(WooCommerceRestClientTest, WrongKeysAreUnauthenticatedAndTheSecretIsNeverEchoed) {
  ShopConfig wrong = shop_;
  wrong.api.consumer_secret = "cs_wrong_secret_value_1234567890";
  WooCommerceRestClient client(wrong);
  PlatformResponse r = client.CreateReward(FixedFive());
  EXPECT_EQ(r.status.code(), StatusCode::kUnauthenticated);
  EXPECT_NE(r.error_detail.find("woocommerce_rest_authentication_error"), std::string::npos);
  EXPECT_EQ(r.error_detail.find("cs_wrong"), std::string::npos);
  EXPECT_EQ(r.status.message().find("cs_wrong"), std::string::npos);
  EXPECT_TRUE(fake_.coupons().empty());
}

TEST_F(WooCommerceRestClientTest, ALostAnswerIsTransientAndFindSeesTheCoupon) {
  fake_.InjectFault(FakeWooFault::kDropAfterApply, 1);
  PlatformResponse lost = client_->CreateReward(FixedFive());
  EXPECT_EQ(lost.status.code(), StatusCode::kUnavailable);
  EXPECT_EQ(fake_.coupons().size(), 1u) << "the coupon was created before the drop";

  PlatformResponse found = client_->FindReward(FixedFive());
  ASSERT_TRUE(found.status.ok()) << found.error_detail;
  EXPECT_EQ(found.platform_reward_id, fake_.coupons()[0]["id"].dump());
  EXPECT_EQ(found.code, "loyal-abcdefgh23");
}

TEST_F(WooCommerceRestClientTest, ADropBeforeApplyLeavesNothingToFind) {
  fake_.InjectFault(FakeWooFault::kDropBeforeApply, 1);
  EXPECT_EQ(client_->CreateReward(FixedFive()).status.code(), StatusCode::kUnavailable);
  PlatformResponse found = client_->FindReward(FixedFive());
  ASSERT_TRUE(found.status.ok());
  EXPECT_TRUE(found.platform_reward_id.empty());
}

TEST_F(WooCommerceRestClientTest, TagsLiveInCustomerMetaData) {
  CustomerTagsRequest add{"k1", "42", {"vip-gold", "loyalty"}, {}};
  ASSERT_TRUE(client_->UpdateCustomerTags(add).status.ok());
  CustomerTagsRequest swap{"k2", "42", {"vip-platinum"}, {"vip-gold"}};
  ASSERT_TRUE(client_->UpdateCustomerTags(swap).status.ok());
  const json customer = fake_.customer(42);
  ASSERT_EQ(customer["meta_data"].size(), 1u);
  EXPECT_EQ(customer["meta_data"][0]["key"], "loyaltyd_tags");
  EXPECT_EQ(customer["meta_data"][0]["value"], "loyalty,vip-platinum");

  CustomerTagsRequest unknown{"k3", "999", {"x"}, {}};
  EXPECT_EQ(client_->UpdateCustomerTags(unknown).status.code(), StatusCode::kFailedPrecondition);
}

// The fake rejects what WordPress's argument validation rejects, so a client that sent the
// wrong shapes would fail here rather than in a merchant's store.
TEST(FakeWooCommerceRestStrictnessTest, RejectsWrongTypesAndEnumsLikeWordPress) {
  FakeWooCommerceRest fake;
  ASSERT_TRUE(fake.Start());
  httplib::Client http(fake.base_url());
  http.set_basic_auth(fake.options().consumer_key, fake.options().consumer_secret);
  auto res = http.Post("/wp-json/wc/v3/coupons",
                       R"({"code":"X1","amount":5,"discount_type":"fixed"})", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  const json body = json::parse(res->body);
  EXPECT_EQ(body["code"], "rest_invalid_param");
  EXPECT_EQ(body["data"]["params"]["amount"], "amount is not of type string.");
  EXPECT_EQ(body["data"]["params"]["discount_type"],
            "discount_type is not one of percent, fixed_cart, and fixed_product.");
  EXPECT_TRUE(fake.coupons().empty());

  auto missing = http.Post("/wp-json/wc/v3/coupons", R"({"amount":"5"})", "application/json");
  ASSERT_TRUE(missing);
  EXPECT_EQ(json::parse(missing->body)["code"], "rest_missing_callback_param");

  httplib::Client anonymous(fake.base_url());
  auto unauthenticated =
      anonymous.Post("/wp-json/wc/v3/coupons", R"({"code":"X2"})", "application/json");
  ASSERT_TRUE(unauthenticated);
  EXPECT_EQ(unauthenticated->status, 401);
  EXPECT_EQ(json::parse(unauthenticated->body)["code"], "woocommerce_rest_cannot_create");
}

}  // namespace
}  // namespace loyaltyd::woocommerce_rest_client_test
