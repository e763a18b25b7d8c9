#include "connectors/shopify/shopify_verifier.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "connectors/shopify/shopify_samples.h"
#include "core/crypto.h"

namespace loyaltyd::shopify_verifier_test {
namespace {

// Shopify's published example: this body signed with this secret.
constexpr const char* kSecret = "test_secret_key";
constexpr const char* kBody = R"({"foo": "bar"})";
constexpr const char* kSignature = "B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7g=";

class ShopifyVerifierTest : public ::testing::Test {
 protected:
  ShopifyVerifierTest() {
    ShopConfig shop;
    shop.id = "demo";
    shop.platform = Platform::kShopify;
    shop.domain = "demo.myshopify.com";
    shop.webhook_secret = kSecret;
    config_.shops.push_back(shop);
    headers_ = {{"x-shopify-shop-domain", "demo.myshopify.com"},
                {"x-shopify-hmac-sha256", kSignature},
                {"x-shopify-topic", "orders/paid"},
                {"x-shopify-event-id", "evt-1"},
                {"x-shopify-webhook-id", "wh-1"},
                {"x-shopify-api-version", "2025-10"}};
  }

  Result<VerifiedWebhook> Verify(std::string_view body = kBody) {
    WebhookRequest request;
    request.header = [this](std::string_view name) {
      std::string key(name);
      std::transform(key.begin(), key.end(), key.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      auto it = headers_.find(key);
      return it == headers_.end() ? std::string() : it->second;
    };
    request.body = body;
    ShopifyVerifier verifier(config_);
    return verifier.Verify(request);
  }

  Config config_;
  std::map<std::string, std::string> headers_;  // lower-case names
};

TEST_F(ShopifyVerifierTest, AcceptsShopifysPublishedSignature) {
  Result<VerifiedWebhook> v = Verify();
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(v->shop, &config_.shops[0]);
  EXPECT_EQ(v->topic, "orders/paid");
  EXPECT_EQ(v->event_id, "evt-1");
  EXPECT_EQ(v->delivery_id, "wh-1");
  EXPECT_EQ(v->api_version, "2025-10");
}

TEST_F(ShopifyVerifierTest, RejectsAWrongSignature) {
  headers_["x-shopify-hmac-sha256"] = HmacSha256Base64("another-secret", kBody);
  Result<VerifiedWebhook> v = Verify();
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(v.status().message().find("signature does not match"), std::string::npos);
}

TEST_F(ShopifyVerifierTest, RejectsTheRightSignatureReplayedOnAChangedBody) {
  EXPECT_EQ(Verify(R"({"foo": "baz"})").status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(Verify(R"({"foo": "bar"} )").status().code(), StatusCode::kUnauthenticated);
}

TEST_F(ShopifyVerifierTest, RejectsAMissingOrTruncatedSignature) {
  headers_["x-shopify-hmac-sha256"] = std::string(kSignature).substr(0, 43);
  EXPECT_EQ(Verify().status().code(), StatusCode::kUnauthenticated);
  headers_.erase("x-shopify-hmac-sha256");
  Result<VerifiedWebhook> v = Verify();
  EXPECT_EQ(v.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(v.status().message().find("missing X-Shopify-Hmac-Sha256"), std::string::npos);
}

TEST_F(ShopifyVerifierTest, RejectsAnUnknownOrMissingShop) {
  headers_["x-shopify-shop-domain"] = "other.myshopify.com";
  Result<VerifiedWebhook> v = Verify();
  EXPECT_EQ(v.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(v.status().message().find("unknown shop domain 'other.myshopify.com'"),
            std::string::npos);
  headers_["x-shopify-shop-domain"] = std::string(5000, 'x');
  EXPECT_LT(Verify().status().message().size(), 300u);  // a long header is not echoed whole
  headers_.erase("x-shopify-shop-domain");
  EXPECT_EQ(Verify().status().code(), StatusCode::kUnauthenticated);
}

TEST_F(ShopifyVerifierTest, MatchesTheShopDomainCaseInsensitively) {
  headers_["x-shopify-shop-domain"] = "Demo.MyShopify.com";
  EXPECT_TRUE(Verify().ok());
}

TEST_F(ShopifyVerifierTest, AcceptsThePreviousSecretDuringRotation) {
  config_.shops[0].webhook_secret = "the-new-secret";
  EXPECT_EQ(Verify().status().code(), StatusCode::kUnauthenticated);
  config_.shops[0].previous_webhook_secret = kSecret;
  EXPECT_TRUE(Verify().ok());
}

TEST_F(ShopifyVerifierTest, FallsBackToTheWebhookIdWithoutAnEventId) {
  headers_.erase("x-shopify-event-id");
  Result<VerifiedWebhook> v = Verify();
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->event_id, "wh-1");
  headers_.erase("x-shopify-webhook-id");
  EXPECT_EQ(Verify().status().code(), StatusCode::kInvalidArgument);
}

TEST_F(ShopifyVerifierTest, ASignedDeliveryWithoutATopicIsInvalid) {
  headers_.erase("x-shopify-topic");
  Result<VerifiedWebhook> v = Verify();
  EXPECT_EQ(v.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(v.status().message().find("X-Shopify-Topic"), std::string::npos);
}

TEST_F(ShopifyVerifierTest, AuthenticationIsCheckedBeforeAnythingElse) {
  headers_.erase("x-shopify-topic");
  headers_["x-shopify-hmac-sha256"] = "forged";
  EXPECT_EQ(Verify().status().code(), StatusCode::kUnauthenticated);
}

TEST(ShopifySamplesTest, IdsAboveTwoToThe53AreWrittenExactly) {
  ShopifySampleOptions options;
  options.order_id = 9007199254740993ULL;  // 2^53 + 1: a double would make it ...992
  options.customer_id = 18446744073709551615ULL;
  options.email = "ada@example.com";
  Result<std::string> body = ShopifySampleBody("orders/paid", options);
  ASSERT_TRUE(body.ok()) << body.status().message();
  EXPECT_NE(body->find(R"("id":9007199254740993)"), std::string::npos);
  EXPECT_NE(body->find(R"("id":18446744073709551615)"), std::string::npos);
  const nlohmann::json j = nlohmann::json::parse(*body);
  EXPECT_EQ(j["financial_status"], "paid");
  EXPECT_EQ(j["subtotal_price_set"]["shop_money"]["amount"], "49.00");
}

TEST(ShopifySamplesTest, GuestOrdersAndBadInput) {
  ShopifySampleOptions options;
  options.order_id = 1;
  options.email = "guest@example.com";
  Result<std::string> guest = ShopifySampleBody("orders/create", options);
  ASSERT_TRUE(guest.ok());
  EXPECT_FALSE(nlohmann::json::parse(*guest).contains("customer"));
  options.subtotal = "4x";
  EXPECT_EQ(ShopifySampleBody("orders/paid", options).status().code(),
            StatusCode::kInvalidArgument);
  options.subtotal = "49.50";
  options.currency = "JPY";
  EXPECT_FALSE(ShopifySampleBody("orders/paid", options).ok());  // JPY has no decimals
  options.subtotal = "4900";
  Result<std::string> yen = ShopifySampleBody("orders/paid", options);
  ASSERT_TRUE(yen.ok());
  EXPECT_EQ(nlohmann::json::parse(*yen)["total_price"], "4900");
  EXPECT_FALSE(ShopifySampleBody("products/update", options).ok());
  EXPECT_EQ(ShopifySampleTopics().size(), 6u);
}

}  // namespace
}  // namespace loyaltyd::shopify_verifier_test
