#include "connectors/shopify/shopify_verifier.h"

#include <string>

#include "core/crypto.h"

namespace loyaltyd {
namespace {

// Header values are echoed into error messages and logs; bound what a caller can make us print.
std::string Shown(const std::string& value) {
  constexpr size_t kMax = 100;
  return value.size() <= kMax ? value : value.substr(0, kMax) + "...";
}

bool SignatureMatches(const std::string& secret, std::string_view body,
                      const std::string& signature) {
  return !secret.empty() && ConstantTimeEquals(HmacSha256Base64(secret, body), signature);
}

}  // namespace

Result<VerifiedWebhook> ShopifyVerifier::Verify(const WebhookRequest& request) const {
  const std::string domain = request.header("X-Shopify-Shop-Domain");
  if (domain.empty()) return Unauthenticated("missing X-Shopify-Shop-Domain");
  std::shared_ptr<const Config> config = config_->Current();
  const ShopConfig* shop = config->FindShopByDomain(domain, Platform::kShopify);
  if (shop == nullptr) {
    return Unauthenticated("unknown shop domain '" + Shown(domain) +
                           "'; add it to `shops` in the config");
  }

  const std::string signature = request.header("X-Shopify-Hmac-Sha256");
  if (signature.empty()) return Unauthenticated("missing X-Shopify-Hmac-Sha256");
  // During a secret rotation Shopify may sign with either secret for a while; accept both.
  if (!SignatureMatches(shop->webhook_secret, request.body, signature) &&
      !SignatureMatches(shop->previous_webhook_secret, request.body, signature)) {
    // The caller is not authenticated: tell it nothing about the shop.
    return Unauthenticated("signature does not match the body");
  }

  VerifiedWebhook verified;
  verified.shop = shop;
  verified.config = std::move(config);
  verified.topic = request.header("X-Shopify-Topic");
  if (verified.topic.empty()) return InvalidArgument("missing X-Shopify-Topic");
  if (verified.topic.size() > 100) return InvalidArgument("X-Shopify-Topic is too long");
  verified.delivery_id = request.header("X-Shopify-Webhook-Id");
  // X-Shopify-Event-Id names the store event and is shared by every delivery (and redelivery)
  // of it; older API versions send only X-Shopify-Webhook-Id, which is stable across retries.
  verified.event_id = request.header("X-Shopify-Event-Id");
  if (verified.event_id.empty()) verified.event_id = verified.delivery_id;
  if (verified.event_id.empty()) {
    return InvalidArgument("missing X-Shopify-Event-Id and X-Shopify-Webhook-Id");
  }
  if (verified.event_id.size() > 200) return InvalidArgument("event id is too long");
  verified.api_version = request.header("X-Shopify-API-Version");
  return verified;
}

}  // namespace loyaltyd
