// The customer a request names and the configured shop they belong to: what every service that
// issues something in a customer's store (redemptions, payouts, referral links) looks up first,
// with the same answers when either is missing.
// Thread-safety: as thread-safe as Storage.
#pragma once

#include <cstdint>

#include "config/config.h"
#include "storage/storage.h"

namespace loyaltyd {

struct CustomerShop {
  CustomerRecord customer;
  const ShopConfig* shop = nullptr;  // points into the Config passed in
};

// NotFound for an unknown customer; FailedPrecondition when their shop is no longer in
// `config` (the merchant removed it); a storage error as it came.
Result<CustomerShop> FindCustomerShop(Storage& storage, const Config& config, int64_t customer_id);

}  // namespace loyaltyd
