// Turns a stored Shopify webhook body into the platform-neutral model (core/model.h).
//
// Payloads are the REST Admin API resources Shopify sends for the orders/* and customers/*
// topics (https://shopify.dev/docs/api/webhooks, "orders/paid"; resource fields in
// https://shopify.dev/docs/api/admin-rest/latest/resources/order). Rules that matter:
//   - ids are 64-bit integers, often above 2^53: read as integers and kept as decimal text,
//     never through double;
//   - money is decimal strings; the shop-currency amounts (`*_set.shop_money`) are preferred
//     over the plain fields, which older payloads carry alone;
//   - refund line `subtotal` / `total_tax` are JSON numbers, not strings;
//   - the referral facts (discount_codes, landing_site, note_attributes, phone,
//     shipping_address) are optional: a malformed one is skipped, never a refused order.
// Runs in the event processor, never on the request path.
// Thread-safety: stateless; Normalise may be called concurrently.
#pragma once

#include "connector/connector.h"

namespace loyaltyd {

class ShopifyNormaliser final : public Normaliser {
 public:
  // orders/create, orders/paid, orders/updated, orders/cancelled -> OrderEvent;
  // orders/fulfilled -> OrderEvent of kind kUpdated with Order::fulfilled (as is any order
  // whose fulfillment_status is "fulfilled"; the award point under program.award.on);
  // refunds/create -> OrderEvent of kind kRefunded (the order id and the one refund);
  // customers/create, customers/update -> CustomerEvent; the privacy topics
  // customers/data_request, customers/redact, shop/redact and app/uninstalled -> PrivacyEvent
  // (shopify_normaliser.cc cites their payloads); any other topic -> IgnoredEvent
  // (its body is not read). InvalidArgument, naming the field, for a body that is not JSON
  // or lacks what the model needs. Shopify says what happened by topic: `shop` is not needed.
  Result<NormalisedEvent> Normalise(const ShopConfig& shop, std::string_view topic,
                                    std::string_view body) const override;
};

}  // namespace loyaltyd
