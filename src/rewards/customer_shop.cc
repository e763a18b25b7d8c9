#include "rewards/customer_shop.h"

namespace loyaltyd {

Result<CustomerShop> FindCustomerShop(Storage& storage, const Config& config, int64_t customer_id) {
  Result<std::optional<CustomerRecord>> customer = storage.GetCustomer(customer_id);
  if (!customer.ok()) return customer.status();
  if (!customer->has_value()) return NotFound("no customer with id " + std::to_string(customer_id));
  const ShopConfig* shop = config.FindShopById((*customer)->shop_id);
  if (shop == nullptr) {
    return FailedPrecondition("customer " + std::to_string(customer_id) + " belongs to shop '" +
                              (*customer)->shop_id + "', which is no longer in the config");
  }
  return CustomerShop{std::move(**customer), shop};
}

}  // namespace loyaltyd
