#include "ledger/config_tier_policy.h"

#include "rules/tier_rules.h"

namespace loyaltyd {

ConfigTierPolicy::ConfigTierPolicy(const Config& config) : program_(config.program) {
  for (const ShopConfig& shop : config.shops) {
    if (shop.api.configured) shops_with_api_.insert(shop.id);
  }
}

std::shared_ptr<const TierPolicy> ConfigTierPolicy::FromConfig(const Config& config) {
  if (!config.program.tiers.enabled) return nullptr;
  return std::make_shared<const ConfigTierPolicy>(config);
}

int64_t ConfigTierPolicy::WindowStartMs(int64_t as_of_ms) const {
  return TierWindowStartMs(program_.tiers, as_of_ms);
}

TierStanding ConfigTierPolicy::Evaluate(const TierFacts& facts, const TierStanding& current,
                                        int64_t as_of_ms) const {
  return EvaluateTier(program_.tiers, facts, current, as_of_ms);
}

std::string ConfigTierPolicy::DescribeChange(const TierStanding& from, const TierStanding& to,
                                             const TierFacts& facts) const {
  return DescribeTierChange(program_, from, to, facts);
}

std::vector<std::string> ConfigTierPolicy::TagsOf(const std::string& level_id) const {
  const TierLevel* level = program_.tiers.FindLevel(level_id);
  return level == nullptr ? std::vector<std::string>{} : level->tags;
}

std::vector<std::string> ConfigTierPolicy::AllTierTags() const {
  std::vector<std::string> tags;
  for (const TierLevel& level : program_.tiers.levels) {
    tags.insert(tags.end(), level.tags.begin(), level.tags.end());
  }
  return tags;
}

bool ConfigTierPolicy::WritesTagsTo(const std::string& shop_id) const {
  return shops_with_api_.count(shop_id) != 0;
}

int ConfigTierPolicy::LevelRank(const std::string& level_id) const {
  if (level_id.empty()) return 0;
  const int index = program_.tiers.IndexOf(level_id);
  return index < 0 ? -1 : index + 1;
}

}  // namespace loyaltyd
