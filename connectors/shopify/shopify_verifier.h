// Authenticates a Shopify webhook delivery from its headers and raw body.
//
// Shopify signs each delivery with the app's client secret: X-Shopify-Hmac-Sha256 is the
// base64 HMAC-SHA256 of the raw body
// (https://shopify.dev/docs/apps/build/webhooks/verify-deliveries). The shop is named by
// X-Shopify-Shop-Domain. Verification runs on the request path, so it never parses the body:
// the HMAC is the whole cost (a few µs per KB).
// Each Verify takes its own snapshot of the config (ConfigSource), so a reload that rotates a
// secret or adds a shop applies from the next delivery on.
// Thread-safety: immutable after construction; Verify is called from every server thread.
#pragma once

#include <memory>

#include "config/config.h"
#include "config/config_source.h"
#include "connector/connector.h"

namespace loyaltyd {

class ShopifyVerifier final : public WebhookVerifier {
 public:
  // VerifiedWebhook::shop points into the snapshot VerifiedWebhook::config holds.
  explicit ShopifyVerifier(std::shared_ptr<const ConfigSource> config)
      : config_(std::move(config)) {}
  // A config that never changes; it must outlive the verifier.
  explicit ShopifyVerifier(const Config& config) : ShopifyVerifier(ConfigSource::Unowned(config)) {}

  // Unauthenticated: unknown shop, missing or wrong signature (checked first, so that an
  // unauthenticated caller learns nothing else). InvalidArgument: a signed delivery without a
  // topic or without any event id.
  Result<VerifiedWebhook> Verify(const WebhookRequest& request) const override;

 private:
  const std::shared_ptr<const ConfigSource> config_;
};

}  // namespace loyaltyd
