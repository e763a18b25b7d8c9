#include "app/events_out_policy.h"

namespace loyaltyd {

EventsOutPolicy EventsOutPolicyFrom(const Config& config) {
  constexpr int64_t kDayMs = 86'400'000;
  EventsOutPolicy policy;
  for (const EventsOutEndpoint& endpoint : config.events_out) {
    if (!endpoint.enabled) continue;
    policy.endpoints.push_back({endpoint.id, endpoint.topics});
  }
  for (const ShopConfig& shop : config.shops) {
    policy.shops[shop.id] = {std::string(PlatformName(shop.platform)), shop.domain};
  }
  if (config.program.expiry.lot_age_days > 0) {
    policy.warn_ms = int64_t{config.program.expiry.warn_days} * kDayMs;
  }
  return policy;
}

}  // namespace loyaltyd
