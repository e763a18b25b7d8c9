#include "connectors/woocommerce/woocommerce_verifier.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "connectors/woocommerce/woocommerce_samples.h"
#include "core/crypto.h"

namespace loyaltyd::woocommerce_verifier_test {
namespace {

constexpr const char* kSecret = "wc_secret_0123456789";
// As wp_json_encode writes it: "\/" and "\u00e9" are in the signed bytes.
constexpr const char* kBody =
    R"({"id":1234,"status":"processing","date_modified_gmt":"2026-01-01T10:00:05","name":"Caf\u00e9","_links":{"self":[{"href":"https:\/\/shop.example.com\/wp-json\/wc\/v3\/orders\/1234"}]}})";
// base64(HMAC-SHA256(kSecret, kBody)), computed independently with Python's hmac module.
constexpr const char* kSignature = "j3VEZ4tF+rCZA3qaPmef9jiuaKWlDEpyTy/6goPnB9s=";

class WooCommerceVerifierTest : public ::testing::Test {
 protected:
  WooCommerceVerifierTest() {
    ShopConfig shop;
    shop.id = "woo";
    shop.platform = Platform::kWooCommerce;
    shop.domain = "shop.example.com";
    shop.webhook_secret = kSecret;
    config_.shops.push_back(shop);
    // A Shopify shop of the same domain must never be matched by a WooCommerce delivery.
    ShopConfig shopify;
    shopify.id = "shopify";
    shopify.platform = Platform::kShopify;
    shopify.domain = "other.example.com";
    shopify.webhook_secret = kSecret;
    config_.shops.push_back(shopify);
    headers_ = {{"x-wc-webhook-source", "https://shop.example.com/"},
                {"x-wc-webhook-topic", "order.updated"},
                {"x-wc-webhook-resource", "order"},
                {"x-wc-webhook-event", "updated"},
                {"x-wc-webhook-signature", kSignature},
                {"x-wc-webhook-id", "7"},
                {"x-wc-webhook-delivery-id", "4a1b2c3d4e5f60718293a4b5c6d7e8f9"}};
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
    WooCommerceVerifier verifier(config_);
    return verifier.Verify(request);
  }

  // Signs `body` with the shop's secret and verifies it; returns the event id ("" on failure).
  std::string EventIdOf(const std::string& body) {
    headers_["x-wc-webhook-signature"] = HmacSha256Base64(kSecret, body);
    Result<VerifiedWebhook> v = Verify(body);
    EXPECT_TRUE(v.ok()) << v.status().message();
    return v.ok() ? v->event_id : "";
  }

  Config config_;
  std::map<std::string, std::string> headers_;  // lower-case names
};

TEST_F(WooCommerceVerifierTest, AcceptsTheSignatureOfTheRawEscapedBody) {
  Result<VerifiedWebhook> v = Verify();
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(v->shop, &config_.shops[0]);
  EXPECT_FALSE(v->handshake);
  EXPECT_EQ(v->topic, "order.updated");
  EXPECT_EQ(v->delivery_id, "4a1b2c3d4e5f60718293a4b5c6d7e8f9");
  EXPECT_EQ(v->event_id.rfind("1234@2026-01-01T10:00:05#", 0), 0u) << v->event_id;
}

TEST_F(WooCommerceVerifierTest, RejectsAWrongSignatureOrAChangedBody) {
  headers_["x-wc-webhook-signature"] = HmacSha256Base64("another-secret", kBody);
  Result<VerifiedWebhook> v = Verify();
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(v.status().message().find("signature does not match"), std::string::npos);
  headers_["x-wc-webhook-signature"] = kSignature;
  // The same JSON re-serialised without WooCommerce's "\/" escaping is a different body.
  const std::string unescaped = nlohmann::json::parse(kBody).dump();
  EXPECT_EQ(Verify(unescaped).status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(Verify(std::string(kBody) + " ").status().code(), StatusCode::kUnauthenticated);
}

TEST_F(WooCommerceVerifierTest, RejectsAMissingOrTruncatedSignature) {
  headers_["x-wc-webhook-signature"] = std::string(kSignature).substr(0, 43);
  EXPECT_EQ(Verify().status().code(), StatusCode::kUnauthenticated);
  headers_.erase("x-wc-webhook-signature");
  Result<VerifiedWebhook> v = Verify();
  EXPECT_EQ(v.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(v.status().message().find("missing X-WC-Webhook-Signature"), std::string::npos);
}

TEST_F(WooCommerceVerifierTest, AcceptsThePreviousSecretDuringRotation) {
  config_.shops[0].webhook_secret = "wc_secret_new_0123456789";
  EXPECT_EQ(Verify().status().code(), StatusCode::kUnauthenticated);
  config_.shops[0].previous_webhook_secret = kSecret;
  EXPECT_TRUE(Verify().ok());
}

TEST_F(WooCommerceVerifierTest, FindsTheShopByTheSourceHost) {
  for (const char* source :
       {"https://SHOP.Example.com/", "http://shop.example.com", "https://shop.example.com:8443/",
        "https://shop.example.com/store/", "HTTPS://shop.example.com/?x=1"}) {
    headers_["x-wc-webhook-source"] = source;
    Result<VerifiedWebhook> v = Verify();
    ASSERT_TRUE(v.ok()) << source << ": " << v.status().message();
    EXPECT_EQ(v->shop->id, "woo");
  }
  EXPECT_EQ(WooCommerceSourceHost("https://user@Shop.Example.com:8443/store/"), "Shop.Example.com");
  EXPECT_EQ(WooCommerceSourceHost("shop.example.com"), "");
  EXPECT_EQ(WooCommerceSourceHost("ftp://shop.example.com/"), "");
}

TEST_F(WooCommerceVerifierTest, RejectsAnUnknownMissingOrMalformedSource) {
  headers_["x-wc-webhook-source"] = "https://evil.example.com/";
  Result<VerifiedWebhook> v = Verify();
  EXPECT_EQ(v.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(v.status().message().find("unknown shop domain 'evil.example.com'"), std::string::npos);
  // A Shopify shop's domain is not a WooCommerce shop.
  headers_["x-wc-webhook-source"] = "https://other.example.com/";
  EXPECT_EQ(Verify().status().code(), StatusCode::kUnauthenticated);
  headers_["x-wc-webhook-source"] = "https://" + std::string(5000, 'x') + ".com/";
  EXPECT_LT(Verify().status().message().size(), 300u);  // a long header is not echoed whole
  headers_["x-wc-webhook-source"] = "shop.example.com";
  EXPECT_EQ(Verify().status().code(), StatusCode::kUnauthenticated);
  headers_.erase("x-wc-webhook-source");
  v = Verify();
  EXPECT_EQ(v.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(v.status().message().find("missing X-WC-Webhook-Source"), std::string::npos);
}

TEST_F(WooCommerceVerifierTest, ThePingIsAHandshake) {
  // WC_Webhook::deliver_ping: form-encoded, unsigned, no X-WC-* header.
  headers_.clear();
  headers_["content-type"] = "application/x-www-form-urlencoded";
  Result<VerifiedWebhook> v = Verify("webhook_id=7");
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_TRUE(v->handshake);
  EXPECT_EQ(v->shop, nullptr);
  // Anything else unsigned is refused, ping-like or not.
  EXPECT_EQ(Verify("webhook_id=").status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(Verify("webhook_id=7&x=1").status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(Verify(kBody).status().code(), StatusCode::kUnauthenticated);
  // A ping body with WooCommerce's headers is a delivery, and must be signed.
  headers_["x-wc-webhook-source"] = "https://shop.example.com/";
  EXPECT_EQ(Verify("webhook_id=7").status().code(), StatusCode::kUnauthenticated);
}

TEST_F(WooCommerceVerifierTest, ASignedDeliveryWithoutATopicIsInvalid) {
  headers_.erase("x-wc-webhook-topic");
  Result<VerifiedWebhook> v = Verify();
  EXPECT_EQ(v.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(v.status().message().find("X-WC-Webhook-Topic"), std::string::npos);
  headers_["x-wc-webhook-signature"] = "forged";  // authentication is checked first
  EXPECT_EQ(Verify().status().code(), StatusCode::kUnauthenticated);
}

TEST_F(WooCommerceVerifierTest, RedeliveriesShareAKeyWhateverTheirDeliveryId) {
  const std::string first = EventIdOf(kBody);
  headers_["x-wc-webhook-delivery-id"] = "a-later-second";
  EXPECT_EQ(EventIdOf(kBody), first);
}

TEST_F(WooCommerceVerifierTest, DistinctChangesGetDistinctKeysEvenInOneSecond) {
  const std::string processing =
      R"({"id":1234,"status":"processing","date_modified_gmt":"2026-01-01T10:00:05"})";
  const std::string completed =
      R"({"id":1234,"status":"completed","date_modified_gmt":"2026-01-01T10:00:05"})";
  const std::string later =
      R"({"id":1234,"status":"completed","date_modified_gmt":"2026-01-01T10:00:06"})";
  const std::string other_order =
      R"({"id":1235,"status":"processing","date_modified_gmt":"2026-01-01T10:00:05"})";
  // Same delivery id throughout, as WooCommerce gives within one second.
  const std::string a = EventIdOf(processing);
  const std::string b = EventIdOf(completed);
  const std::string c = EventIdOf(later);
  const std::string d = EventIdOf(other_order);
  EXPECT_NE(a, b);
  EXPECT_NE(b, c);
  EXPECT_NE(a, d);
  EXPECT_EQ(c.rfind("1234@2026-01-01T10:00:06#", 0), 0u) << c;
  // A nested id is not the resource's id.
  EXPECT_EQ(EventIdOf(R"({"line_items":[{"id":9}],"id":77,"date_modified":"2026-01-01T11:00:00"})")
                .rfind("77@2026-01-01T11:00:00#", 0),
            0u);
}

TEST_F(WooCommerceVerifierTest, DeletedBodiesAreKeyedByDeliveryId) {
  headers_["x-wc-webhook-topic"] = "order.deleted";
  const std::string first = EventIdOf(R"({"id":1234})");
  EXPECT_EQ(first.rfind("1234~4a1b2c3d4e5f60718293a4b5c6d7e8f9#", 0), 0u) << first;
  EXPECT_EQ(EventIdOf(R"({"id":1234})"), first);  // a resend within the second
  headers_["x-wc-webhook-delivery-id"] = "trashed-again-later";
  EXPECT_NE(EventIdOf(R"({"id":1234})"), first);  // trashed, restored, trashed again
}

TEST_F(WooCommerceVerifierTest, MalformedSignedBodiesStillGetAKey) {
  // Stored and failed by the normaliser, not refused here.
  const std::string id = EventIdOf(R"({"id": 1234, "line_items": [)");
  EXPECT_EQ(id.rfind("~4a1b2c3d4e5f60718293a4b5c6d7e8f9#", 0), 0u) << id;
}

TEST(WooCommerceSamplesTest, BodiesAreEscapedAsWooCommerceEscapesThem) {
  WooCommerceSampleOptions options;
  options.order_id = 1234;
  options.customer_id = 0;
  options.email = "guest@example.com";
  Result<std::string> body = WooCommerceSampleBody("order.created", options);
  ASSERT_TRUE(body.ok()) << body.status().message();
  EXPECT_NE(body->find(R"(https:\/\/shop.example.com\/wp-json\/wc\/v3\/orders\/1234)"),
            std::string::npos);
  EXPECT_NE(body->find(R"(Caf\u00e9)"), std::string::npos);
  for (size_t i = body->find('/'); i != std::string::npos; i = body->find('/', i + 1)) {
    ASSERT_EQ((*body)[i - 1], '\\') << "unescaped '/' at " << i;
  }
  const nlohmann::json j = nlohmann::json::parse(*body);
  EXPECT_EQ(j["status"], "pending");
  EXPECT_EQ(j["customer_id"], 0);
  EXPECT_EQ(j["billing"]["email"], "guest@example.com");
  EXPECT_EQ(j["total"], "49.00");
  EXPECT_EQ(WooCommerceSampleBody("order.deleted", options).value(), R"({"id":1234})");
  options.currency = "JPY";
  options.subtotal = "4900";
  EXPECT_EQ(
      nlohmann::json::parse(
          WooCommerceSampleBody("order.updated", options).value())["line_items"][0]["subtotal"],
      "4900");
  EXPECT_FALSE(WooCommerceSampleBody("customer.created", options).ok());  // needs a customer id
  EXPECT_FALSE(WooCommerceSampleBody("product.updated", options).ok());
  EXPECT_EQ(WooCommerceSampleTopics().size(), 6u);
}

}  // namespace
}  // namespace loyaltyd::woocommerce_verifier_test
