// The WooCommerce connector: what loyaltyd needs to take webhooks from WooCommerce shops.
// (The REST API write-back client joins it with redemption.)
// Thread-safety: immutable after construction; its parts are used from many threads.
#pragma once

#include <memory>

#include "config/config.h"
#include "config/config_source.h"
#include "connector/connector.h"
#include "connectors/woocommerce/woocommerce_normaliser.h"
#include "connectors/woocommerce/woocommerce_verifier.h"

namespace loyaltyd {

class WooCommerceConnector {
 public:
  // The verifier takes a snapshot of `config` per delivery (reloads apply to the next one).
  explicit WooCommerceConnector(std::shared_ptr<const ConfigSource> config)
      : verifier_(std::move(config)) {}
  // A config that never changes; it must outlive the connector.
  explicit WooCommerceConnector(const Config& config) : verifier_(config) {}

  const WebhookVerifier& verifier() const { return verifier_; }
  const Normaliser& normaliser() const { return normaliser_; }

 private:
  WooCommerceVerifier verifier_;
  WooCommerceNormaliser normaliser_;
};

}  // namespace loyaltyd
