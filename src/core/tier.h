// VIP tier values shared by the tier rules (src/rules/tier_rules.h), which decide a customer's
// tier, and storage, which gathers what they decide from and keeps the result.
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace loyaltyd {

// What storage knows about one customer for a tier evaluation as of one moment: the activity
// inside the program's window, the memberships active then, and the customer's platform tags.
struct TierFacts {
  int64_t spend_minor = 0;    // net eligible spend of the paid orders in the window
  int64_t points_earned = 0;  // what those orders earned, net of their clawbacks
  int64_t orders = 0;         // those orders, less the cancelled or fully refunded ones
  std::vector<std::string> granted_level_ids;  // levels of memberships active at that moment
  std::vector<std::string> platform_tags;      // the customer's tags as the platform last sent
};

// The tier a customer holds. An empty level_id is no tier.
struct TierStanding {
  std::string level_id;
  int64_t reached_at_ms = 0;  // when the customer entered this level
  int64_t keep_until_ms = 0;  // no downgrade before this moment

  friend bool operator==(const TierStanding&, const TierStanding&) = default;
};

// A membership an order buys: the level, held for duration_ms from the payment.
struct TierGrant {
  std::string level_id;
  int64_t duration_ms = 0;
};

}  // namespace loyaltyd
