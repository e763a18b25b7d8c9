// Authenticates a Shopify webhook delivery from its headers and raw body.
//
// Shopify signs each delivery with the app's client secret: X-Shopify-Hmac-Sha256 is the
// base64 HMAC-SHA256 of the raw body
// (https://shopify.dev/docs/apps/build/webhooks/verify-deliveries). The shop is named by
// X-Shopify-Shop-Domain. Verification runs on the request path, so it never parses the body:
// the HMAC is the whole cost (a few µs per KB).
// Thread-safety: immutable after construction; Verify is called from every server thread.
#pragma once

#include "config/config.h"
#include "connector/connector.h"

namespace loyaltyd {

class ShopifyVerifier final : public WebhookVerifier {
 public:
  // `config` must outlive the verifier; VerifiedWebhook::shop points into it.
  explicit ShopifyVerifier(const Config& config) : config_(config) {}

  // Unauthenticated: unknown shop, missing or wrong signature (checked first, so that an
  // unauthenticated caller learns nothing else). InvalidArgument: a signed delivery without a
  // topic or without any event id.
  Result<VerifiedWebhook> Verify(const WebhookRequest& request) const override;

 private:
  const Config& config_;
};

}  // namespace loyaltyd
