// The Shopify connector: what loyaltyd needs to take webhooks from Shopify shops.
// (The Admin GraphQL write-back client joins it with redemption.)
// Thread-safety: immutable after construction; its parts are used from many threads.
#pragma once

#include <memory>

#include "config/config.h"
#include "config/config_source.h"
#include "connector/connector.h"
#include "connectors/shopify/shopify_normaliser.h"
#include "connectors/shopify/shopify_verifier.h"

namespace loyaltyd {

class ShopifyConnector {
 public:
  // The verifier takes a snapshot of `config` per delivery (reloads apply to the next one).
  explicit ShopifyConnector(std::shared_ptr<const ConfigSource> config)
      : verifier_(std::move(config)) {}
  // A config that never changes; it must outlive the connector.
  explicit ShopifyConnector(const Config& config) : verifier_(config) {}

  const WebhookVerifier& verifier() const { return verifier_; }
  const Normaliser& normaliser() const { return normaliser_; }

 private:
  ShopifyVerifier verifier_;
  ShopifyNormaliser normaliser_;
};

}  // namespace loyaltyd
