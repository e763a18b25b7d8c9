// Sample Shopify webhook bodies, shaped like the ones Shopify sends (REST Admin API order and
// customer resources, API version 2025-10), for `loyaltyd trigger` and the tests.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace loyaltyd {

struct ShopifySampleOptions {
  uint64_t order_id = 0;
  uint64_t customer_id = 0;  // 0: a guest order (no customer)
  std::string email;
  std::string subtotal = "49.00";  // decimal string in `currency`; one line of this price
  std::string currency = "USD";
};

// InvalidArgument for a topic without a sample or a subtotal that is not an amount in currency.
Result<std::string> ShopifySampleBody(std::string_view topic, const ShopifySampleOptions& options);

// The topics ShopifySampleBody has samples for.
std::vector<std::string> ShopifySampleTopics();

}  // namespace loyaltyd
