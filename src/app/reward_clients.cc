#include "app/reward_clients.h"

#include "connectors/shopify/shopify_admin_client.h"
#include "connectors/woocommerce/woocommerce_rest_client.h"

namespace loyaltyd {

std::map<std::string, std::unique_ptr<RewardClient>> MakeRewardClients(const Config& config,
                                                                       const Clock& clock) {
  std::map<std::string, std::unique_ptr<RewardClient>> clients;
  for (const ShopConfig& shop : config.shops) {
    if (!shop.api.configured) continue;
    switch (shop.platform) {
      case Platform::kShopify:
        clients.emplace(shop.id, std::make_unique<ShopifyAdminClient>(shop, clock));
        break;
      case Platform::kWooCommerce:
        clients.emplace(shop.id, std::make_unique<WooCommerceRestClient>(shop));
        break;
    }
  }
  return clients;
}

}  // namespace loyaltyd
