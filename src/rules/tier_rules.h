// Tier rules: which VIP tier a customer holds, decided from facts (pure).
//
// A customer's tier is the highest level that the program's metric reaches within its window,
// or that an active membership or one of the customer's platform tags grants. A level, once
// held, is kept until keep_until: keep_for after the last evaluation that confirmed it (that
// reached it, or found the customer qualifying for it again); before then an evaluation never
// moves the customer down, after it the customer drops to the highest level they qualify for
// (or no tier). Moving up is immediate. Evaluating twice as of the same moment changes nothing.
//
// Windows are in UTC: a rolling window of N days counts activity in (as_of - N days, as_of]; a
// calendar year counts from 1 January 00:00 UTC of as_of's year. keep_for
// "until_end_of_next_year" keeps a tier confirmed in 2026 until 1 January 2028 00:00 UTC.
// Thread-safety: pure functions over immutable inputs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/model.h"
#include "core/tier.h"

namespace loyaltyd {

inline constexpr int64_t kMillisPerDay = 86'400'000;

// The first moment (inclusive) whose activity counts for an evaluation as of as_of_ms.
int64_t TierWindowStartMs(const TiersConfig& tiers, int64_t as_of_ms);

// Until when a level confirmed at confirmed_at_ms is kept (exclusive).
int64_t TierKeepUntilMs(const TiersConfig& tiers, int64_t confirmed_at_ms);

// The configured metric's value in the facts: minor units for spend, else a count.
int64_t TierMetricValue(const TiersConfig& tiers, const TierFacts& facts);

// The customer's standing as of as_of_ms, from the facts as of then and the stored standing
// (`current`; level_id empty for none). A level of `current` that the config no longer has is
// dropped.
TierStanding EvaluateTier(const TiersConfig& tiers, const TierFacts& facts,
                          const TierStanding& current, int64_t as_of_ms);

// For the ledger: why the tier changed from `from` to `to`, e.g. "tier Silver reached: spend of
// 512.00 USD in the last 365 days (Silver from 500.00 USD); earn x1.25".
std::string DescribeTierChange(const ProgramConfig& program, const TierStanding& from,
                               const TierStanding& to, const TierFacts& facts);

// The memberships a paid order buys: every level whose membership names one of the order's
// (non gift card) lines by product id or SKU.
std::vector<TierGrant> MembershipGrants(const TiersConfig& tiers, const Order& order);

// "1.25" for 12500 basis points, "2" for 20000.
std::string FormatMultiplier(int64_t basis_points);

// The metric's value as text: "512.00 USD", "3 orders", "1200 points".
std::string FormatTierMetric(const ProgramConfig& program, int64_t value);

}  // namespace loyaltyd
