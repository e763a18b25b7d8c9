// Creates loyalty rewards in a WooCommerce store through its REST API (the write-back half of
// the WooCommerce connector; see connector/reward_client.h for the contract).
//
// Every call goes to {base_url}/wp-json/wc/v3/... with the REST API consumer key and secret as
// HTTP basic auth, which WooCommerce accepts over HTTPS (over plain HTTP it wants OAuth 1.0a;
// plain HTTP here is for the loopback fake and the demo only).
//
// Every reward is a coupon (POST /coupons), usable once, by the customer's email when restricted:
//   fixed discount      discount_type fixed_cart, amount
//   percentage          discount_type percent, amount = the percentage
//   free shipping       discount_type fixed_cart, amount 0, free_shipping true
//   store credit        WooCommerce has none: a single-use fixed_cart coupon for the amount,
//                       always restricted to the customer's email. Its code is derived from the
//                       job's idempotency key with an HMAC under the consumer secret, so a retry
//                       asks for the same code and a stranger cannot compute it.
// Each coupon carries the idempotency key in meta_data (_loyaltyd_idempotency_key). WooCommerce
// lower-cases codes; the code it answers with is the one kept.
// FindReward is GET /coupons?code=CODE (wc/v3 filters by code).
// UpdateCustomerTags keeps tier tags in the customer's meta_data under loyaltyd_tags (a comma
// list; WooCommerce customers have no tags) with GET then PUT /customers/{id}.
//
// Errors keep WooCommerce's own body ({"code", "message"}) in error_detail: 401/403 are
// Unauthenticated, 429/5xx/timeouts/connection errors Unavailable (Retry-After honoured), other
// 4xx FailedPrecondition (woocommerce_rest_coupon_code_already_exists, rest_invalid_param).
// Source: plugins/woocommerce/includes/rest-api/Controllers/Version2/
// class-wc-rest-coupons-v2-controller.php and Version3/class-wc-rest-coupons-controller.php
// (github.com/woocommerce/woocommerce).
// Thread-safety: one call at a time (the outbox worker's thread).
#pragma once

#include <memory>
#include <string>

#include "config/config.h"
#include "connector/reward_client.h"

namespace httplib {
class Client;
}  // namespace httplib

namespace loyaltyd {

class WooCommerceRestClient final : public RewardClient {
 public:
  // `shop.api` must be configured (base_url, consumer_key, consumer_secret).
  explicit WooCommerceRestClient(const ShopConfig& shop);
  ~WooCommerceRestClient() override;

  WooCommerceRestClient(const WooCommerceRestClient&) = delete;
  WooCommerceRestClient& operator=(const WooCommerceRestClient&) = delete;

  PlatformResponse CreateReward(const RewardRequest& request) override;
  PlatformResponse FindReward(const RewardRequest& request) override;
  PlatformResponse UpdateCustomerTags(const CustomerTagsRequest& request) override;

  // The coupon code a request becomes: its own code, lower-cased as WooCommerce stores it, or
  // for store credit "credit-" + 12 characters of HMAC-SHA256(consumer_secret, idempotency key).
  std::string CouponCode(const RewardRequest& request) const;

  static constexpr const char* kApiPath = "/wp-json/wc/v3";
  static constexpr const char* kIdempotencyMetaKey = "_loyaltyd_idempotency_key";
  static constexpr const char* kTagsMetaKey = "loyaltyd_tags";

 private:
  const std::string consumer_secret_;
  std::unique_ptr<httplib::Client> http_;
};

}  // namespace loyaltyd
