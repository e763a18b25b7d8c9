// Earn rules: how many points an order is worth under the merchant's program.
//
// Eligible spend is merchandise after discounts, without shipping, without tax (also when the
// shop's prices include tax) and without gift-card lines: buying a gift card is not spending,
// the spend happens when the card is redeemed. A `spend` rule then gives
// floor(eligible / per) * points.
// Thread-safety: pure functions over immutable inputs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/model.h"
#include "core/status.h"

namespace loyaltyd {

struct EarnAward {
  std::string rule_id;
  int64_t points = 0;
  std::string description;  // for the ledger: how the points were computed
};

// Eligible spend of an order in minor units of the order's currency. Never negative.
int64_t EligibleSpendMinor(const Order& order);

// Awards for a paid order. FailedPrecondition when the order's currency is not the program's
// (loyaltyd does not convert currencies: the points would be wrong). Rules that give 0 points
// are omitted.
Result<std::vector<EarnAward>> ComputeEarnAwards(const ProgramConfig& program, const Order& order);

}  // namespace loyaltyd
