#include "rewards/member_shop.h"

#include <string>

namespace loyaltyd {

Result<MemberShop> FindMemberShop(Storage& storage, const Config& config, int64_t customer_id,
                                  std::string_view shop_id) {
  Result<std::optional<MembershipRecord>> membership = storage.GetMembership(customer_id);
  if (!membership.ok()) return membership.status();
  if (!membership->has_value()) {
    return NotFound("no customer with id " + std::to_string(customer_id));
  }
  MembershipRecord& m = **membership;
  MemberShop found;
  const CustomerRecord* account = nullptr;
  for (const CustomerRecord& a : m.accounts) {
    if (a.id == m.member_id) found.member = a;
    if (shop_id.empty() ? a.id == customer_id : a.shop_id == shop_id) account = &a;
  }
  if (found.member.id == 0) return Internal("member " + std::to_string(m.member_id) + " vanished");
  if (account == nullptr && shop_id.empty()) {
    return Internal("customer " + std::to_string(customer_id) + " is not among its own accounts");
  }
  if (account == nullptr) {
    if (config.FindShopById(shop_id) == nullptr) {
      std::string known;
      for (const ShopConfig& shop : config.shops) known += (known.empty() ? "" : ", ") + shop.id;
      return InvalidArgument("'shop_id': no shop '" + std::string(shop_id) +
                             "' in the config; shops: " + known);
    }
    std::string has;
    for (const CustomerRecord& a : m.accounts) has += (has.empty() ? "" : ", ") + a.shop_id;
    return InvalidArgument("customer " + std::to_string(customer_id) + " has no account on shop '" +
                           std::string(shop_id) + "' (accounts on: " + has +
                           "); a reward is issued in a store the customer has an account on");
  }
  found.account = *account;
  found.shop = config.FindShopById(found.account.shop_id);
  if (found.shop == nullptr) {
    return FailedPrecondition("customer " + std::to_string(found.account.id) +
                              " belongs to shop '" + found.account.shop_id +
                              "', which is no longer in the config");
  }
  found.accounts = std::move(m.accounts);
  return found;
}

}  // namespace loyaltyd
