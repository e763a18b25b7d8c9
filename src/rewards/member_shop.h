// Shared membership (issue 7, "One customer across stores"): where a reward for a customer is
// issued. The books (points, store credit) are the member's; the reward is created in the
// store it is redeemed on, for the member's account on that store. Every service that issues
// something into a store for a customer (redemptions, payouts) looks it up here.
// Thread-safety: as thread-safe as Storage.
#pragma once

#include <cstdint>
#include <string_view>

#include "config/config.h"
#include "storage/storage.h"

namespace loyaltyd {

struct MemberShop {
  CustomerRecord member;   // whose books pay (balance, credit)
  CustomerRecord account;  // the member's account on `shop`: whom the store's reward is for
  const ShopConfig* shop = nullptr;      // points into the Config passed in
  std::vector<CustomerRecord> accounts;  // every account of the member
};

// `customer_id` may name the member or any of its accounts. `shop_id` names the store the
// reward is issued in; empty: the store of the account `customer_id` names (a member of one
// store works as before). Errors: NotFound (unknown customer), InvalidArgument (shop_id names
// no shop of the config, or a shop the member has no account on: the message lists the shops
// it has), FailedPrecondition (the account's shop is no longer in the config), storage errors.
Result<MemberShop> FindMemberShop(Storage& storage, const Config& config, int64_t customer_id,
                                  std::string_view shop_id);

}  // namespace loyaltyd
