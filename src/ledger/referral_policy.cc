#include "ledger/referral_policy.h"

namespace loyaltyd {
namespace {

constexpr int64_t kDayMs = 86'400'000;

ReferralRewardTerms TermsOf(const ReferralRewardConfig& reward, const ProgramConfig& program) {
  ReferralRewardTerms terms;
  terms.name = reward.name;
  terms.currency = program.currency;
  if (reward.is_points) {
    terms.points = reward.points;
    return terms;
  }
  terms.reward_kind = std::string(RewardKindName(reward.kind));
  terms.value_minor = reward.amount_minor;
  terms.percentage = reward.percentage;
  terms.minimum_order_minor = reward.minimum_order_minor;
  terms.expires_after_ms = int64_t{reward.expires_after_days} * kDayMs;
  terms.code_prefix = reward.code_prefix;
  return terms;
}

}  // namespace

std::shared_ptr<const ReferralPolicy> MakeReferralPolicy(const Config& config) {
  const ReferralsConfig& referrals = config.program.referrals;
  if (!referrals.enabled) return nullptr;
  auto policy = std::make_shared<ReferralPolicy>();
  policy->currency = config.program.currency;
  policy->currency_exponent = config.program.currency_exponent;
  for (const ShopConfig& shop : config.shops) {
    policy->shop_platforms[shop.id] = std::string(PlatformName(shop.platform));
  }
  policy->window_ms = int64_t{referrals.attribution_window_days} * kDayMs;
  policy->minimum_order_minor = referrals.minimum_order_minor;
  policy->hold_ms = int64_t{referrals.hold_days} * kDayMs;
  if (referrals.friend_reward)
    policy->friend_reward = TermsOf(*referrals.friend_reward, config.program);
  policy->advocate_reward = TermsOf(referrals.advocate_reward, config.program);
  for (const ReferralMilestone& milestone : referrals.milestones) {
    policy->milestones.emplace_back(milestone.referrals, TermsOf(milestone.reward, config.program));
  }
  const ReferralGuardsConfig& guards = referrals.guards;
  policy->guard_same_email = guards.same_email;
  policy->guard_same_address = guards.same_address;
  policy->guard_same_phone = guards.same_phone;
  policy->guard_new_friend_only = guards.new_friend_only;
  policy->max_referrals_per_day = guards.max_referrals_per_day;
  policy->max_advocate_rewards = guards.max_advocate_rewards;
  policy->advocate_rewards_period = guards.advocate_rewards_period;
  return policy;
}

}  // namespace loyaltyd
