// Lists a Shopify store's orders for reconciliation (connector/order_source.h) through the
// Admin GraphQL API, in two steps that keep each query's cost low:
//   1. `orders(first: 50, after:, query: "updated_at:>='<since>'", sortKey: UPDATED_AT)`
//      (https://shopify.dev/docs/api/admin-graphql/latest/queries/orders), cursor pagination
//      through pageInfo {hasNextPage, endCursor}, selecting only what tells the order's state:
//      id, updatedAt, cancelledAt, displayFinancialStatus, displayFulfillmentStatus and the
//      refunds' ids. The reconciler compares that with the ledger.
//   2. for an order whose state the ledger lacks, `order(id:)` with the fields the
//      ShopifyNormaliser reads (https://shopify.dev/docs/api/admin-graphql/latest/objects/Order),
//      mapped into the REST Order resource a webhook carries (FetchOrderBody).
// The mapping keeps ids exact (gid://shopify/Order/N becomes the integer N, never a double)
// and copies money as the decimal strings of each MoneyBag's shopMoney {amount, currencyCode}
// (REST *_set.shop_money {amount, currency_code}). discountCodes become discount_codes[].code,
// customAttributes note_attributes[] {name, value}, customerJourneySummary.firstVisit.landingPage
// landing_site, displayFinancialStatus financial_status (lower case), displayFulfillmentStatus
// FULFILLED fulfillment_status "fulfilled". An order with more than 100 line items or 20
// refunds (20 lines each) cannot be read in one query and is reported, not fed.
// Errors: see order_source.h; THROTTLED answers carry retry_after_ms from extensions.cost.
// Thread-safety: one call at a time (the reconciler's thread).
#pragma once

#include <memory>
#include <string>

#include "config/config.h"
#include "connector/order_source.h"

namespace httplib {
class Client;
}  // namespace httplib

namespace loyaltyd {

class ShopifyOrderSource final : public OrderSource {
 public:
  // `shop.api` must be configured.
  explicit ShopifyOrderSource(const ShopConfig& shop);
  ~ShopifyOrderSource() override;

  ShopifyOrderSource(const ShopifyOrderSource&) = delete;
  ShopifyOrderSource& operator=(const ShopifyOrderSource&) = delete;

  OrderPage ListOrders(int64_t since_ms, const std::string& cursor) override;
  OrderBody FetchOrderBody(const PlatformOrder& order) override;

  static constexpr int kPageSize = 50;

 private:
  const std::string endpoint_path_;
  const std::string access_token_;
  std::unique_ptr<httplib::Client> http_;
};

}  // namespace loyaltyd
