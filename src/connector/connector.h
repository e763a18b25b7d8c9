// The seam between loyaltyd and one e-commerce platform.
//
// A connector is three small parts (connectors/<platform>/), wired by one <platform>_connector:
//   WebhookVerifier  authenticates a raw delivery and says which shop, topic and event it is.
//                    Runs on the request path: it must not parse the body.
//   Normaliser       turns a stored delivery body into the platform-neutral model. Runs in the
//                    event processor, off the request path.
//   (write-back API client: arrives with redemption, issue 3)
// Thread-safety: implementations are immutable after construction and called concurrently.
#pragma once

#include <functional>
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
  const ShopConfig* shop = nullptr;  // points into the Config the verifier was built with
  std::string topic;                 // e.g. "orders/paid"
  // Identity for deduplication. Shopify: X-Shopify-Event-Id, else X-Shopify-Webhook-Id.
  // Combined with shop and topic by the inbox (one store event fans out to several topics).
  std::string event_id;
  std::string delivery_id;  // the platform's per-delivery id, for logs
  std::string api_version;
};

class WebhookVerifier {
 public:
  virtual ~WebhookVerifier() = default;
  // Unauthenticated for an unknown shop or a missing / wrong signature; InvalidArgument when
  // required headers are missing. Never reads the body beyond computing its HMAC.
  virtual Result<VerifiedWebhook> Verify(const WebhookRequest& request) const = 0;
};

class Normaliser {
 public:
  virtual ~Normaliser() = default;
  // InvalidArgument for a malformed body or one missing required fields (the message says
  // which); IgnoredEvent for a topic that has no effect on the ledger.
  virtual Result<NormalisedEvent> Normalise(std::string_view topic,
                                            std::string_view body) const = 0;
};

}  // namespace loyaltyd
