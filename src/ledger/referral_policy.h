// program.referrals as storage applies it (storage.h, ReferralPolicy): the config's rewards,
// window, hold and guards in the units storage works in (milliseconds, minor units, reward
// kind names), built once per config snapshot.
// Thread-safety: the result is immutable.
#pragma once

#include <memory>

#include "config/config.h"
#include "storage/storage.h"

namespace loyaltyd {

// Null when the program has no referrals.
std::shared_ptr<const ReferralPolicy> MakeReferralPolicy(const Config& config);

}  // namespace loyaltyd
