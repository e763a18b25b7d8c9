// The seam between loyaltyd and one e-commerce platform.
//
// A connector is three small parts (connectors/<platform>/), wired by one <platform>_connector:
//   WebhookVerifier  authenticates a raw delivery and says which shop, topic and event it is.
//                    Runs on the request path: it parses no more of the body than its
//                    platform's idempotency needs (Shopify: nothing; WooCommerce, whose headers
//                    name no stable event: the resource id and modified date).
//   Normaliser       turns a stored delivery body into the platform-neutral model. Runs in the
//                    event processor, off the request path.
//   RewardClient     creates rewards in the store through the platform's admin API
//                    (src/connector/reward_client.h); used by the outbox worker only.
// Thread-safety: implementations are immutable after construction and called concurrently.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "config/config.h"
#include "core/model.h"
#include "core/status.h"

namespace loyaltyd {

// A webhook delivery as received: header lookup (case-insensitive) and the raw body bytes.
struct WebhookRequest {
  std::function<std::string(std::string_view name)> header;  // "" when absent
  std::string_view body;
};

// What a verified delivery is, as its headers say.
struct VerifiedWebhook {
  const ShopConfig* shop = nullptr;  // points into `config`
  // The config snapshot the delivery was verified with; keeps `shop` valid whatever reloads
  // happen while the request is handled.
  std::shared_ptr<const Config> config;
  std::string topic;  // e.g. "orders/paid"
  // Identity for deduplication. Shopify: X-Shopify-Event-Id, else X-Shopify-Webhook-Id.
  // WooCommerce: resource id, modified date and body digest (woocommerce_verifier.h says why).
  // Combined with shop and topic by the inbox (one store event fans out to several topics).
  std::string event_id;
  std::string delivery_id;  // the platform's per-delivery id, for logs
  std::string api_version;
  // A platform handshake that carries no event (WooCommerce's ping when a webhook is created):
  // the ingest answers 200 and stores nothing. `shop` is null and the other fields are empty.
  bool handshake = false;
};

class WebhookVerifier {
 public:
  virtual ~WebhookVerifier() = default;
  // Unauthenticated for an unknown shop or a missing / wrong signature; InvalidArgument when
  // required headers are missing. A body the verifier cannot read (malformed JSON) is not an
  // error here: it was signed by the shop, so it is stored and failed by the processor.
  virtual Result<VerifiedWebhook> Verify(const WebhookRequest& request) const = 0;
};

class Normaliser {
 public:
  virtual ~Normaliser() = default;
  // `shop` is the (validated) config of the shop the event was stored for: per-shop rules such
  // as WooCommerce's earn_on_status decide what an event means.
  // InvalidArgument for a malformed body or one missing required fields (the message says
  // which); IgnoredEvent for a topic that has no effect on the ledger.
  virtual Result<NormalisedEvent> Normalise(const ShopConfig& shop, std::string_view topic,
                                            std::string_view body) const = 0;
};

}  // namespace loyaltyd
