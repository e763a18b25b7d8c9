// ConfigTierPolicy: the program's VIP tiers (program.tiers) as the TierPolicy storage applies.
//
// Storage evaluates tiers inside the transaction that changes their inputs but knows nothing of
// the config; this class hands it the tier rules (rules/tier_rules.h) bound to one config.
// Thread-safety: immutable after construction; keeps its own copy of what it needs, so that it
// may outlive the Config it was made from (outcomes hold it by shared_ptr across a reload).
#pragma once

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "config/config.h"
#include "storage/storage.h"

namespace loyaltyd {

class ConfigTierPolicy final : public TierPolicy {
 public:
  explicit ConfigTierPolicy(const Config& config);

  // Null when the program has no tiers.
  static std::shared_ptr<const TierPolicy> FromConfig(const Config& config);

  int64_t WindowStartMs(int64_t as_of_ms) const override;
  TierStanding Evaluate(const TierFacts& facts, const TierStanding& current,
                        int64_t as_of_ms) const override;
  std::string DescribeChange(const TierStanding& from, const TierStanding& to,
                             const TierFacts& facts) const override;
  std::vector<std::string> TagsOf(const std::string& level_id) const override;
  std::vector<std::string> AllTierTags() const override;
  bool WritesTagsTo(const std::string& shop_id) const override;
  int LevelRank(const std::string& level_id) const override;

 private:
  ProgramConfig program_;
  std::set<std::string> shops_with_api_;
};

}  // namespace loyaltyd
