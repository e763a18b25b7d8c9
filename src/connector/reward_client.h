// The write-back half of a connector: creates rewards in the store through the platform's API.
//
// The outbox worker (src/outbox) is the only caller. Every call carries a deterministic
// idempotency key (for a discount code, the code itself; for store credit, a key derived from
// the redemption), and the worker asks FindReward before it retries a call whose outcome it
// does not know (a timeout, a dropped connection, a crash), so a retry never creates a second
// reward. Platforms whose create call is not idempotent (Shopify's storeCreditAccountCredit)
// must make FindReward able to see an earlier success, e.g. through a transaction note or a
// metafield carrying the key.
//
// Outcome classes, as the worker treats them (PlatformResponse::status):
//   Ok                  done; platform_reward_id / code say what was created.
//   Unavailable         transient: timeout, connection error, 5xx, 429, THROTTLED. Retried
//                       with back-off, no sooner than retry_after_ms when the platform said.
//   Unauthenticated     the credentials were refused (401/403): retried like Unavailable,
//                       because the merchant can fix the token without losing the redemption.
//   FailedPrecondition  permanent: the platform rejected the request (userErrors, 4xx with an
//                       error code). Never retried; the redemption's points are returned.
//   InvalidArgument     permanent: loyaltyd could not build a valid request (a bug or a config
//                       the platform cannot express). Treated like FailedPrecondition.
// Thread-safety: implementations may be called from the outbox worker thread only, one call at
// a time per client; they keep no state between calls except connection pools.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/model.h"
#include "core/status.h"

namespace loyaltyd {

// One reward to create in a store. Money is in minor units of `currency`.
struct RewardRequest {
  std::string idempotency_key;  // deterministic per redemption; equals `code` for codes
  RewardKind kind = RewardKind::kFixedDiscount;
  std::string code;      // the discount code to create (empty for store credit)
  std::string title;     // shown to the merchant in the platform's admin
  std::string currency;  // ISO-4217, the shop's currency
  int currency_exponent = 2;
  int64_t amount_minor = 0;         // fixed discount and store credit
  int percentage = 0;               // percentage discount, 1..100
  int64_t minimum_order_minor = 0;  // 0: no minimum
  int64_t starts_at_ms = 0;         // when the code becomes usable (ms since the epoch)
  int64_t ends_at_ms = 0;           // 0: never expires
  // Who may use it. When restrict_to_customer is set, codes are limited to this customer
  // (Shopify: customer id; WooCommerce: email restriction). Store credit always goes to them.
  bool restrict_to_customer = true;
  std::string customer_platform_id;  // Shopify: numeric id as a decimal string
  std::string customer_email;
};

// Tags to add to / remove from a customer in the store (VIP tier perks).
struct CustomerTagsRequest {
  std::string idempotency_key;
  std::string customer_platform_id;
  std::vector<std::string> add;
  std::vector<std::string> remove;
};

// What one platform call came to.
struct PlatformResponse {
  Status status;
  int64_t retry_after_ms = 0;      // > 0 when the platform said how long to wait
  std::string platform_reward_id;  // e.g. gid://shopify/DiscountCodeNode/123, coupon id
  std::string code;                // the code as the platform stored it (Woo lower-cases)
  // The platform's own error, verbatim enough for the merchant to act on it: Shopify's
  // userErrors messages or GraphQL error codes, WooCommerce's {code, message}, the HTTP status.
  std::string error_detail;
};

class RewardClient {
 public:
  virtual ~RewardClient() = default;

  // Creates the reward. See the outcome classes above.
  virtual PlatformResponse CreateReward(const RewardRequest& request) = 0;

  // Looks for a reward created earlier with request.idempotency_key. Ok with a non-empty
  // platform_reward_id when it exists; Ok with an empty one when it certainly does not;
  // Unavailable (or Unauthenticated) when the platform could not say.
  virtual PlatformResponse FindReward(const RewardRequest& request) = 0;

  // Adds and removes customer tags (Shopify tagsAdd/tagsRemove; WooCommerce customer
  // meta_data). Idempotent on the platform side: adding a present tag changes nothing.
  virtual PlatformResponse UpdateCustomerTags(const CustomerTagsRequest& request) = 0;
};

}  // namespace loyaltyd
