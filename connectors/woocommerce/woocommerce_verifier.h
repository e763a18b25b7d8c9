// Authenticates a WooCommerce webhook delivery from its headers and raw body, and gives it an
// idempotency key.
//
// WooCommerce (plugins/woocommerce/includes/class-wc-webhook.php, WC_Webhook::deliver) sends
//   X-WC-Webhook-Source       home_url('/'), e.g. "https://shop.example.com/": names the shop;
//                             its host is matched case-insensitively with shops[].domain
//   X-WC-Webhook-Signature    base64(HMAC-SHA256(secret, raw body)) (generate_signature)
//   X-WC-Webhook-Topic        e.g. "order.updated"
//   X-WC-Webhook-Delivery-ID  wp_hash(webhook id . current second) (get_new_delivery_id)
// and, when a webhook is created, a ping (deliver_ping): the form body "webhook_id=N" with no
// X-WC-* header and no signature, which must get exactly 200. It is answered as a handshake and
// nothing is stored; anything else unsigned is refused.
//
// Idempotency. WooCommerce never retries a failed delivery, but the same state does arrive
// twice (the delivery job run twice, a proxy resending the POST), and its headers name no
// stable event: the delivery id is only a hash of the webhook id and the current second, so a
// resend in another second gets a new one, while two different orders changed in the same
// second share one. Keying on it would both keep duplicates and drop real changes. The key is
// therefore taken from the body (a snapshot of the resource when the delivery ran):
//   "<id>@<date_modified_gmt>#<digest>"          when the body has a modified date
//   "<id>~<delivery id>#<digest>"                otherwise (*.deleted bodies are {"id":N};
//                                                action.* topics have no id)
// with the topic and shop added by the inbox. The digest is the body's HMAC under the shop's
// current secret (computed for the signature check anyway). Id and modified date make the key
// readable; the digest is what keeps distinct states apart: date_modified has one-second
// resolution and is not guaranteed to move with everything the payload shows (refunds are
// separate objects; deleting one re-sends the order as order.updated), and a state that differs
// in any byte must not be collapsed. Byte-identical snapshots of the same resource are
// the same state, so collapsing them loses nothing, whenever they arrive. Bodies without a
// modified date add the delivery id so that trashing, restoring and trashing an order again
// ({"id":N} each time) stay three events, while a resend within the same second collapses.
// A body that is not JSON still gets a key (the digest) and is stored: it was signed by the
// shop, and the normaliser marks it failed where the merchant can see it.
//
// Reading the body: unlike Shopify's, this verifier parses the body, with nlohmann's filtering
// parser that keeps only the top-level "id", "date_modified_gmt" and "date_modified" (a nested
// line_items[].id must not be mistaken for the order's, and JSON escapes must be honoured, so a
// hand-written scan would have to be a JSON tokenizer anyway). It costs tens of µs per order
// body; WooCommerce shops send a few webhooks a minute, far from the request path's budget.
// Each Verify takes its own snapshot of the config (ConfigSource), so a reload that rotates a
// secret or adds a shop applies from the next delivery on. (A resend of the same state that
// straddles a rotation gets another digest, so it is stored again; it changes nothing.)
// Thread-safety: immutable after construction; Verify is called from every server thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "config/config.h"
#include "config/config_source.h"
#include "connector/connector.h"

namespace loyaltyd {

class WooCommerceVerifier final : public WebhookVerifier {
 public:
  // VerifiedWebhook::shop points into the snapshot VerifiedWebhook::config holds.
  explicit WooCommerceVerifier(std::shared_ptr<const ConfigSource> config)
      : config_(std::move(config)) {}
  // A config that never changes; it must outlive the verifier.
  explicit WooCommerceVerifier(const Config& config)
      : WooCommerceVerifier(ConfigSource::Unowned(config)) {}

  // A handshake for WooCommerce's ping. Unauthenticated: missing or unknown source, missing or
  // wrong signature (checked before the topic, so that an unauthenticated caller learns nothing
  // else). InvalidArgument: a signed delivery without a topic, or with absurdly long headers.
  Result<VerifiedWebhook> Verify(const WebhookRequest& request) const override;

 private:
  const std::shared_ptr<const ConfigSource> config_;
};

// The host of X-WC-Webhook-Source ("https://Shop.Example.com:8443/store/" -> "Shop.Example.com"),
// or "" when the value is not an absolute http(s) URL. Exposed for tests.
std::string WooCommerceSourceHost(std::string_view source);

}  // namespace loyaltyd
