// Sample WooCommerce webhook bodies, shaped like the ones WooCommerce sends (REST API v3 order
// and customer resources, encoded by wp_json_encode: "/" escaped as "\/", non-ASCII as
// \uXXXX), for `loyaltyd trigger --platform woocommerce` and the tests.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace loyaltyd {

struct WooCommerceSampleOptions {
  uint64_t order_id = 0;
  uint64_t customer_id = 0;        // 0: a guest order (customer_id 0, identified by billing.email)
  std::string email;               // billing.email (and the customer's email for customer.* topics)
  std::string subtotal = "49.00";  // decimal string in `currency`; one line of this price
  std::string currency = "USD";
  // The order's status; "" takes the topic's usual one: "pending" for order.created,
  // "processing" for order.updated and order.restored.
  std::string status;
  // date_modified_gmt ("2026-01-01T10:00:05"); successive changes of an order need new ones.
  std::string date_modified_gmt = "2026-01-01T10:00:05";
};

// The JSON body, escaped as WooCommerce escapes it. InvalidArgument for a topic without a sample,
// a subtotal that is not an amount in currency, or a customer topic without a customer id.
Result<std::string> WooCommerceSampleBody(std::string_view topic,
                                          const WooCommerceSampleOptions& options);

// The topics WooCommerceSampleBody has samples for.
std::vector<std::string> WooCommerceSampleTopics();

// wp_json_encode's escaping of an already-serialised JSON text: "/" becomes "\/" (json_encode
// without JSON_UNESCAPED_SLASHES). Only strings can hold "/", so this is safe on any JSON.
std::string WooCommerceEscapeSlashes(std::string_view json_text);

}  // namespace loyaltyd
