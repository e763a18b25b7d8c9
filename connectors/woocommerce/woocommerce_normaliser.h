// Turns a stored WooCommerce webhook body into the platform-neutral model (core/model.h).
//
// Payloads are the REST API v3 resources WooCommerce builds when the delivery runs
// (WC_Webhook::build_payload -> /wc/v3/orders/<id>, /wc/v3/customers/<id>; order fields from
// plugins/woocommerce/includes/rest-api/Controllers/Version2/class-wc-rest-orders-v2-controller.php,
// get_formatted_item_data and get_order_item_data). Rules that matter:
//   - money is decimal strings with the store's decimals (wc_format_decimal), parsed exactly
//     with the currency's ISO exponent; line_items[].price is a float and is never read;
//   - line amounts are tax-exclusive: subtotal (before coupons), total (after), *_tax beside
//     them. Coupons are thereby already allocated to the lines (subtotal - total), which is what
//     the earn rules need; coupon_lines repeat the same money per code and are not read again.
//     With prices_include_tax the lines are reported tax-inclusive, as the model expects;
//   - refunds[] carry only {id, reason, total} with total negative ("-5.00");
//   - customer_id 0 is a guest, identified by billing.email;
//   - the referral facts come from coupon_lines[].code, the order's own meta_data (never the
//     lines'), billing.phone / shipping.phone and the shipping address; they are optional: a
//     malformed one is skipped, never a refused order. There is no landing page (landing_site
//     is ""), and an order's Customer has no phone (like its email, the account's arrives
//     with customer.* topics, from the account's billing.phone);
//   - the topic says little (order.updated fires on every save): what an order event means is
//     decided by its status. A status in the shop's earn_on_status gives kPaid (the ledger
//     awards once per order and rule, so processing then completed earns once);
//     cancelled / refunded / failed / trash give kCancelled; anything else kCreated for
//     order.created and kUpdated for order.updated and order.restored.
//   - order.deleted bodies are {"id":N} (the order went to the trash or was deleted): there is
//     nothing to record, so it is an IgnoredEvent that names the order. Treating it as
//     kCancelled would need an Order, and one built from an id alone would overwrite the
//     recorded totals with zeros; a trashed order that matters arrives again (order.restored,
//     or order.updated with status "trash", which is kCancelled).
// Known gaps: negative fee_lines (a discount some plugins add as a fee) are not subtracted from
// the lines; custom order statuses added by plugins are kUpdated, never kPaid. Status
// "completed" also sets Order::fulfilled (the award point under program.award.on).
// Runs in the event processor, never on the request path.
// Thread-safety: stateless; Normalise may be called concurrently.
#pragma once

#include "connector/connector.h"

namespace loyaltyd {

class WooCommerceNormaliser final : public Normaliser {
 public:
  // order.created, order.updated, order.restored -> OrderEvent (kind by status, see above);
  // customer.created, customer.updated -> CustomerEvent; customer.deleted -> PrivacyEvent
  // kCustomerRedact (its body is {"id": N}); order.deleted and any other topic ->
  // IgnoredEvent. InvalidArgument, naming the field, for a body that is not JSON or lacks what
  // the model needs.
  Result<NormalisedEvent> Normalise(const ShopConfig& shop, std::string_view topic,
                                    std::string_view body) const override;
};

}  // namespace loyaltyd
