#include "core/model.h"

#include <cctype>

namespace loyaltyd {

std::string_view PlatformName(Platform platform) {
  switch (platform) {
    case Platform::kShopify:
      return "shopify";
    case Platform::kWooCommerce:
      return "woocommerce";
  }
  return "unknown";
}

std::string_view RewardKindName(RewardKind kind) {
  switch (kind) {
    case RewardKind::kFixedDiscount:
      return "fixed_discount";
    case RewardKind::kPercentageDiscount:
      return "percentage_discount";
    case RewardKind::kFreeShipping:
      return "free_shipping";
    case RewardKind::kStoreCredit:
      return "store_credit";
  }
  return "unknown";
}

std::optional<RewardKind> ParseRewardKind(std::string_view name) {
  for (RewardKind kind : {RewardKind::kFixedDiscount, RewardKind::kPercentageDiscount,
                          RewardKind::kFreeShipping, RewardKind::kStoreCredit}) {
    if (RewardKindName(kind) == name) return kind;
  }
  return std::nullopt;
}

std::string NormaliseEmail(std::string_view email) {
  size_t begin = 0;
  size_t end = email.size();
  while (begin < end && std::isspace(static_cast<unsigned char>(email[begin]))) ++begin;
  while (end > begin && std::isspace(static_cast<unsigned char>(email[end - 1]))) --end;
  std::string out;
  out.reserve(end - begin);
  for (size_t i = begin; i < end; ++i) {
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(email[i]))));
  }
  const size_t at = out.find('@');
  if (at == std::string::npos || at == 0 || at + 1 == out.size()) return "";
  return out;
}

}  // namespace loyaltyd
