#include "rewards/redemption_service.h"

#include <algorithm>

#include "core/crypto.h"
#include "core/idempotency_key.h"
#include "core/money.h"
#include "rewards/member_shop.h"

namespace loyaltyd {
namespace {

constexpr int64_t kMillisPerDay = 86'400'000;
}  // namespace

std::string RedemptionService::GenerateCode(std::string_view prefix) {
  return RandomCode(prefix, 10);
}

Result<RedeemResult> RedemptionService::Redeem(int64_t customer_id, std::string_view reward_id,
                                               std::string_view idempotency_key) {
  const std::shared_ptr<const Config> config = config_->Current();
  return Redeem(*config, customer_id, reward_id, idempotency_key);
}

Result<RedeemResult> RedemptionService::Redeem(const Config& config, int64_t customer_id,
                                               std::string_view reward_id,
                                               std::string_view idempotency_key,
                                               std::string_view shop_id) {
  LOYALTYD_RETURN_IF_ERROR(CheckIdempotencyKey(idempotency_key, "redemption"));
  const RewardConfig* reward = config.program.FindReward(reward_id);
  if (reward == nullptr) {
    std::string known;
    for (const RewardConfig& r : config.program.rewards)
      known += (known.empty() ? "" : ", ") + r.id;
    return InvalidArgument("no reward '" + std::string(reward_id) + "' in program.rewards" +
                           (known.empty() ? " (the catalogue is empty)" : "; rewards: " + known));
  }
  // Shared membership: the member's points pay; the reward is for its account on the shop.
  Result<MemberShop> found = FindMemberShop(storage_, config, customer_id, shop_id);
  if (!found.ok()) return found.status();
  const CustomerRecord& who = found->member;
  const ShopConfig* shop = found->shop;
  if (!shop_can_issue_(*shop)) {
    return FailedPrecondition("shop '" + shop->id +
                              "' cannot issue rewards: add its admin API credentials under "
                              "shops[].api in the config");
  }
  // A guest has no account to hold store credit or to restrict a Shopify code to.
  const bool is_guest = found->account.platform_customer_id.empty();
  if (is_guest && (reward->kind == RewardKind::kStoreCredit ||
                   (reward->restrict_to_customer && shop->platform == Platform::kShopify))) {
    return FailedPrecondition("customer " + std::to_string(customer_id) +
                              " is a guest (no account in the store); reward '" + reward->id +
                              "' needs a customer account");
  }

  NewRedemption redemption;
  redemption.customer_id = who.id;
  redemption.shop_id = shop->id;
  redemption.idempotency_key = std::string(idempotency_key);
  redemption.reward_id = reward->id;
  redemption.reward_kind = std::string(RewardKindName(reward->kind));
  redemption.reward_name = reward->name;
  redemption.points = reward->points;
  if (reward->kind != RewardKind::kStoreCredit) redemption.code = GenerateCode(reward->code_prefix);
  redemption.value_minor = reward->amount_minor;
  redemption.currency = config.program.currency;
  redemption.percentage = reward->percentage;
  redemption.minimum_order_minor = reward->minimum_order_minor;
  const int64_t now = clock_.NowMillis();
  redemption.expires_at_ms =
      reward->expires_after_days > 0 ? now + reward->expires_after_days * kMillisPerDay : 0;
  redemption.restrict_to_customer = reward->restrict_to_customer;

  Result<CreateRedemptionResult> created = storage_.CreateRedemption(redemption, now);
  if (!created.ok()) return created.status();
  switch (created->outcome) {
    case CreateRedemptionResult::Outcome::kInsufficientPoints:
      return FailedPrecondition("not enough points: reward '" + reward->id + "' costs " +
                                std::to_string(reward->points) + " points and the balance is " +
                                std::to_string(created->balance));
    case CreateRedemptionResult::Outcome::kExisting:
      if (created->redemption.reward_id != reward->id) {
        return InvalidArgument("Idempotency-Key '" + std::string(idempotency_key) +
                               "' was already used for reward '" + created->redemption.reward_id +
                               "'; use a new key for a new redemption");
      }
      return RedeemResult{true, std::move(created->redemption), who.points_balance};
    case CreateRedemptionResult::Outcome::kCreated:
      break;
  }
  on_queued_();
  return RedeemResult{false, std::move(created->redemption), created->balance};
}

// --- Store credit payouts ---

Result<PayoutResult> RedemptionService::PayOutCredit(int64_t customer_id, std::string_view amount,
                                                     std::string_view idempotency_key) {
  const std::shared_ptr<const Config> config = config_->Current();
  return PayOutCredit(*config, customer_id, amount, idempotency_key);
}

Result<PayoutResult> RedemptionService::PayOutCredit(const Config& config, int64_t customer_id,
                                                     std::string_view amount,
                                                     std::string_view idempotency_key,
                                                     std::string_view shop_id) {
  LOYALTYD_RETURN_IF_ERROR(CheckIdempotencyKey(idempotency_key, "payout"));
  const std::string& currency = config.program.currency;
  const int exponent = config.program.currency_exponent;
  Result<int64_t> amount_minor = ParseDecimalToMinor(amount, exponent);
  if (!amount_minor.ok() || *amount_minor <= 0) {
    return InvalidArgument("'amount' must be a positive decimal string in " + currency +
                           " with at most " + std::to_string(exponent) +
                           " decimals, such as \"12.50\"");
  }
  Result<MemberShop> found = FindMemberShop(storage_, config, customer_id, shop_id);
  if (!found.ok()) return found.status();
  const CustomerRecord& who = found->member;
  const ShopConfig* shop = found->shop;
  if (!shop_can_issue_(*shop)) {
    return FailedPrecondition("shop '" + shop->id +
                              "' cannot issue store credit: add its admin API credentials under "
                              "shops[].api in the config");
  }
  if (found->account.platform_customer_id.empty()) {
    return FailedPrecondition("customer " + std::to_string(customer_id) +
                              " is a guest (no account in the store to hold store credit)");
  }

  NewCreditPayout payout;
  payout.customer_id = who.id;
  payout.shop_id = shop->id;
  payout.idempotency_key = std::string(idempotency_key);
  payout.amount_minor = *amount_minor;
  payout.currency = currency;
  payout.description =
      "Store credit payout of " + FormatMinor(*amount_minor, exponent) + " " + currency;
  Result<CreditPayoutResult> created = storage_.CreateCreditPayout(payout, clock_.NowMillis());
  if (!created.ok()) return created.status();
  PayoutResult result;
  result.credit_balance_minor = created->balance_minor;
  switch (created->outcome) {
    case CreditPayoutResult::Outcome::kInsufficientCredit:
      result.outcome = PayoutResult::Outcome::kInsufficientCredit;
      return result;
    case CreditPayoutResult::Outcome::kExisting:
      if (created->payout.paid_with != "credit" || created->payout.value_minor != *amount_minor) {
        return InvalidArgument(
            "Idempotency-Key '" + std::string(idempotency_key) + "' was already used for " +
            (created->payout.paid_with != "credit"
                 ? "reward '" + created->payout.reward_id + "'"
                 : "a payout of " + FormatMinor(created->payout.value_minor, exponent) + " " +
                       created->payout.currency) +
            "; use a new key for a new payout");
      }
      result.outcome = PayoutResult::Outcome::kReplayed;
      result.payout = std::move(created->payout);
      return result;
    case CreditPayoutResult::Outcome::kCreated:
      break;
  }
  on_queued_();
  result.outcome = PayoutResult::Outcome::kCreated;
  result.payout = std::move(created->payout);
  return result;
}

}  // namespace loyaltyd
