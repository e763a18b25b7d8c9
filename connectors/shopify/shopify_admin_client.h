// Creates loyalty rewards in a Shopify store through the Admin GraphQL API (the write-back half
// of the Shopify connector; see connector/reward_client.h for the contract).
//
// Every call is one POST to {base_url}/admin/api/{api_version}/graphql.json with the
// X-Shopify-Access-Token header (https://shopify.dev/docs/api/admin-graphql). Inputs always travel
// as GraphQL variables, never as literals spliced into the document, so a customer-controlled
// string (a title, a tag) can never change the operation.
//
//   fixed / percentage discount  discountCodeBasicCreate        (one use, one customer)
//   free shipping                discountCodeFreeShippingCreate (one use, one customer)
//   store credit                 storeCreditAccountCredit + a marker metafield, one document
//   customer tags                tagsAdd / tagsRemove
//
// Store credit is the one reward Shopify cannot create idempotently (a retried
// storeCreditAccountCredit pays twice), so CreateReward writes a marker metafield on the customer
// in the same document, and FindReward accepts an earlier credit only when both the marker and a
// matching credit transaction exist. The residual risk is spelled out in the .cc, above
// FindStoreCredit.
//
// Outcomes follow reward_client.h: transport errors, timeouts, 5xx, 429 and THROTTLED are
// Unavailable (retry_after_ms from Retry-After or from the cost bucket); 401/403 and
// ACCESS_DENIED are Unauthenticated; userErrors and other GraphQL errors are FailedPrecondition.
// The access token is sent only as a header and never appears in error_detail.
//
// Thread-safety: one call at a time per client (the outbox worker's thread), as the interface
// says; the client keeps only its HTTP connection between calls.
#pragma once

#include <memory>
#include <string>

#include "config/config.h"
#include "connector/reward_client.h"
#include "core/clock.h"

namespace httplib {
class Client;
}  // namespace httplib

namespace loyaltyd {

class ShopifyAdminClient final : public RewardClient {
 public:
  // `shop.api` must be configured (base_url, access_token, api_version). `clock` supplies
  // startsAt when a request leaves starts_at_ms at 0; it must outlive the client.
  ShopifyAdminClient(const ShopConfig& shop, const Clock& clock);
  ~ShopifyAdminClient() override;

  ShopifyAdminClient(const ShopifyAdminClient&) = delete;
  ShopifyAdminClient& operator=(const ShopifyAdminClient&) = delete;

  PlatformResponse CreateReward(const RewardRequest& request) override;
  PlatformResponse FindReward(const RewardRequest& request) override;
  PlatformResponse UpdateCustomerTags(const CustomerTagsRequest& request) override;

  // The customer metafield that marks a store credit as issued: namespace "loyaltyd", key
  // "sc-" + 40 hex digits of a hash of the idempotency key (keys are limited to 64 characters
  // of [A-Za-z0-9_-], idempotency keys are not). Public so tests and operators can find it.
  static std::string StoreCreditMarkerKey(const std::string& idempotency_key);
  static constexpr const char* kMarkerNamespace = "loyaltyd";

 private:
  const std::string endpoint_path_;  // /admin/api/{version}/graphql.json
  const std::string access_token_;
  const Clock& clock_;
  // The connection pool (one keep-alive connection). Used only by the calling thread.
  std::unique_ptr<httplib::Client> http_;
};

}  // namespace loyaltyd
