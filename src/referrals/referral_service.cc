#include "referrals/referral_service.h"

#include "core/identity.h"
#include "core/model.h"
#include "ledger/referral_policy.h"
#include "rewards/customer_shop.h"

namespace loyaltyd {
namespace {

Status NoProgram() {
  return FailedPrecondition(
      "the referral program is not configured: add program.referrals to the config "
      "(docs/configuration.md, \"Referrals\") and reload");
}

}  // namespace

Result<ShareLink> ReferralService::GetShareLink(const Config& config, int64_t customer_id) {
  if (!config.program.referrals.enabled) return NoProgram();
  Result<CustomerShop> found = FindCustomerShop(storage_, config, customer_id);
  if (!found.ok()) return found.status();
  const ShopConfig* shop = found->shop;
  Result<std::string> code = storage_.GetOrCreateReferralCode(customer_id, clock_.NowMillis());
  if (!code.ok()) return code.status();
  ShareLink link;
  link.customer_id = customer_id;
  link.shop_id = shop->id;
  link.code = *code;
  link.url = shop->store_url + "/?" + config.program.referrals.parameter + "=" + *code;
  return link;
}

Result<CreateReferralResult> ReferralService::Identify(const Config& config,
                                                       const IdentifyRequest& request) {
  if (!config.program.referrals.enabled) return NoProgram();
  const std::string friend_normalised = NormaliseEmail(request.friend_email);
  if (friend_normalised.empty()) {
    return InvalidArgument("friend_email must be an email address, got '" +
                           request.friend_email.substr(0, 80) + "'");
  }
  if (request.referrer_code.empty() == request.referrer_email.empty()) {
    return InvalidArgument("send exactly one of referrer_code and referrer_email");
  }
  if (!request.shop_id.empty() && config.FindShopById(request.shop_id) == nullptr) {
    return InvalidArgument("shop_id '" + request.shop_id + "' is not a shop in the config");
  }
  int64_t referrer_id = 0;
  std::string referrer_shop_id;  // the referrer's record's shop: the default for shop_id
  if (!request.referrer_code.empty()) {
    Result<std::optional<int64_t>> found = storage_.FindReferrerByCode(request.referrer_code);
    if (!found.ok()) return found.status();
    if (!found->has_value())
      return NotFound("no customer has referral code '" + request.referrer_code.substr(0, 40) +
                      "'");
    referrer_id = **found;
    Result<std::optional<CustomerRecord>> referrer = storage_.GetCustomer(referrer_id);
    if (!referrer.ok()) return referrer.status();
    if (!referrer->has_value()) {
      return NotFound("no customer with id " + std::to_string(referrer_id));
    }
    referrer_shop_id = (*referrer)->shop_id;
  } else {
    const std::string referrer_normalised = NormaliseEmail(request.referrer_email);
    if (referrer_normalised.empty()) {
      return InvalidArgument("referrer_email must be an email address");
    }
    Result<std::vector<CustomerRecord>> found = storage_.FindCustomersByEmail(referrer_normalised);
    if (!found.ok()) return found.status();
    // The referrer may be a customer of any connected store: shop_id is where the friend signs
    // up, and only tells apart several customers with this email (the one in that shop).
    std::vector<const CustomerRecord*> matches;
    for (const CustomerRecord& c : *found) matches.push_back(&c);
    if (matches.size() > 1 && !request.shop_id.empty()) {
      std::vector<const CustomerRecord*> in_shop;
      for (const CustomerRecord* c : matches) {
        if (c->shop_id == request.shop_id) in_shop.push_back(c);
      }
      if (!in_shop.empty()) matches = std::move(in_shop);
    }
    if (matches.empty()) return NotFound("no customer with email '" + request.referrer_email + "'");
    if (matches.size() > 1) {
      return InvalidArgument("several customers have email '" + request.referrer_email +
                             "'; send shop_id or the referrer's referral_code");
    }
    referrer_id = matches[0]->id;
    referrer_shop_id = matches[0]->shop_id;
  }

  NewReferral referral;
  referral.shop_id = request.shop_id.empty() ? referrer_shop_id : request.shop_id;
  const ShopConfig* shop = config.FindShopById(referral.shop_id);
  if (shop == nullptr) {
    return FailedPrecondition("the referrer's shop '" + referral.shop_id +
                              "' is no longer in the config; send shop_id");
  }
  const bool has_friend_reward = config.program.referrals.friend_reward.has_value();
  if (request.welcome_reward.value_or(false) && !has_friend_reward) {
    return InvalidArgument(
        "welcome_reward: program.referrals.friend_reward is not configured, so there is no "
        "welcome reward to issue");
  }
  if (request.welcome_reward.value_or(has_friend_reward) && !shop->api.configured) {
    return FailedPrecondition("shop '" + shop->id +
                              "' has no admin API (shops[].api) to create the welcome reward "
                              "with; configure it, or send \"welcome_reward\": false");
  }
  referral.platform = std::string(PlatformName(shop->platform));
  referral.referrer_customer_id = referrer_id;
  referral.friend_email = request.friend_email;
  referral.friend_email_normalised = friend_normalised;
  referral.friend_key = CanonicalEmail(request.friend_email);
  referral.welcome_reward = request.welcome_reward.value_or(has_friend_reward);
  std::shared_ptr<const ReferralPolicy> policy = MakeReferralPolicy(config);
  return storage_.CreateReferral(referral, *policy, clock_.NowMillis());
}

Status ReferralService::RecordClick(const Config& config, const std::string& code) {
  if (!config.program.referrals.enabled) return NoProgram();
  Result<std::optional<int64_t>> found = storage_.FindReferrerByCode(code);
  if (!found.ok()) return found.status();
  if (!found->has_value())
    return NotFound("no customer has referral code '" + code.substr(0, 40) + "'");
  return storage_.RecordReferralClick(**found, clock_.NowMillis());
}

Result<ReferralRunResult> ReferralService::ReleaseDue(int64_t now_ms) {
  std::shared_ptr<const ReferralPolicy> policy = MakeReferralPolicy(*config_->Current());
  if (!policy) return ReferralRunResult{};
  return storage_.ReleaseReferralRewards(*policy, now_ms);
}

}  // namespace loyaltyd
