// Lists a WooCommerce store's orders for reconciliation (connector/order_source.h) through the
// REST API: GET /wp-json/wc/v3/orders?modified_after=<since>&dates_are_gmt=true&per_page=50
// &page=N&orderby=id&order=asc, following X-WP-TotalPages (WooCommerce REST API docs, "List all
// orders", https://woocommerce.github.io/woocommerce-rest-api-docs/#list-all-orders;
// modified_after and dates_are_gmt since WooCommerce 5.8, class-wc-rest-orders-v2-controller.php
// get_collection_params). Ordered by id rather than by modification date: a page-numbered
// listing ordered by a date that changes while it runs would shift an order from a later page
// onto an earlier one and skip it; by id, a change during the run can only repeat an order
// (harmless) or come after the run's start, where the next run looks.
// Each listed order is the REST order resource, which is what an order.* webhook carries
// (WC_Webhook::build_payload builds it with the same controller), so it is fed as is, as
// order.updated: the normaliser decides by its status. Its state for the reconciler: paid when
// the status is one of the shop's earn_on_status, fulfilled when "completed", cancelled when
// cancelled, refunded, failed or trash (woocommerce_normaliser.h); refund ids from refunds[].id.
// Auth and errors as WooCommerceRestClient: basic auth with the consumer key and secret; 401/403
// Unauthenticated, 429/5xx/transport Unavailable (Retry-After honoured), other 4xx
// FailedPrecondition, each with WooCommerce's {code, message}.
// Thread-safety: one call at a time (the reconciler's thread).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "connector/order_source.h"

namespace httplib {
class Client;
}  // namespace httplib

namespace loyaltyd {

class WooCommerceOrderSource final : public OrderSource {
 public:
  // `shop.api` must be configured.
  explicit WooCommerceOrderSource(const ShopConfig& shop);
  ~WooCommerceOrderSource() override;

  WooCommerceOrderSource(const WooCommerceOrderSource&) = delete;
  WooCommerceOrderSource& operator=(const WooCommerceOrderSource&) = delete;

  OrderPage ListOrders(int64_t since_ms, const std::string& cursor) override;
  OrderBody FetchOrderBody(const PlatformOrder& order) override;

  static constexpr int kPageSize = 50;

 private:
  const std::vector<std::string> earn_on_status_;
  std::unique_ptr<httplib::Client> http_;
};

}  // namespace loyaltyd
