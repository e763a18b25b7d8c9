// Action rules: points for non-purchase actions (program.earn[] with "type": "action"), such as
// a signup, a birthday, a review or a merchant-defined action reported through
// POST /api/v1/customers/{id}/actions.
//
// The limit is kept by the ledger, not in memory: each award carries a per-customer once key
// that is unique in storage (ledger_entries_once), so retries, restarts and concurrent requests
// can never pay more than the limit allows.
//   "once":       one key, "action:<name>" — once ever per customer.
//   "per_period": max_per_period keys per period, "action:<name>:<period>:<n>" for n = 1..max,
//                 where <period> labels the UTC period of the action's occurred_at
//                 ("2026-11-25", "2026-W48", "2026-11", "2026"). Storage posts the first key
//                 that is free; when all are taken the limit is reached.
// PlanAction lists those keys (with the ledger description each would carry); storage picks.
// Thread-safety: pure functions over immutable inputs.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace loyaltyd {

// One way the action can be paid: the ledger once key and the entry's description.
struct ActionSlot {
  std::string once_key;
  std::string description;  // "review: 50 points (1 of 2 this day, 2026-11-25)"
};

struct ActionPlan {
  std::string period_label;              // "" for "once"
  int64_t next_period_starts_at_ms = 0;  // 0 for "once": there is no next period
  std::vector<ActionSlot> slots;         // in order; the first free one is the award
};

// The slots of an action under its rule, for an action that occurred at occurred_at_ms (UTC).
// `reference` (the caller's own id for the action, e.g. the review's) is added to the
// descriptions when not empty.
ActionPlan PlanAction(const EarnRule& rule, int64_t occurred_at_ms, std::string_view reference);

// Why an action earns nothing once every slot is taken, for the API's answer:
// "limit reached: review earns points at most 2 times per day (2026-11-25); the next day starts
// at 2026-11-26T00:00:00.000Z".
std::string LimitReachedMessage(const EarnRule& rule, const ActionPlan& plan);

}  // namespace loyaltyd
