// Earn rules: how many points an order is worth under the merchant's program.
//
// Eligible spend is merchandise after discounts, without shipping, without tax (also when the
// shop's prices include tax) and without gift-card lines: buying a gift card is not spending,
// the spend happens when the card is redeemed. A `spend` rule then drops the lines it excludes
// (by product id, SKU or vendor: what order webhooks carry), rounds eligible / per to whole
// units (down, or half up), and gives units * points, capped per order if the rule says so.
// An order whose eligible spend is below the rule's minimum_order earns 0 under it, and the
// award says why. A `first_order` rule offers a fixed bonus on every paid order with eligible
// spend, keyed once per customer: storage grants it to the first such order it applies and
// refuses it to every later one (see PointsChange::once_per_customer_key).
//
// Campaigns (program.campaigns) apply to orders whose created_at lies in [starts_at, ends_at)
// (the order's own time, so a replay decides the same) and, when they list tiers, to customers
// in one of them (EarnContext::tier_id). A multiplier campaign multiplies each spend rule's
// points after the rule's cap, exactly (basis points, rounded as the rule rounds); one limited
// to some products multiplies only the points their lines earn under the rule; of several, the
// one that gives the most points applies, and the award's description names it ("2x Black
// Friday: 98 points"). A bonus campaign is an award of its own, rule id "campaign:<id>", so the
// ledger's (order, rule, kind) key pays it once per order.
//
// A `cashback` rule pays a percentage of its eligible spend (with the spend rule's exclusions
// and minimum order) in store credit, a money balance of its own (ComputeCashbackAwards).
// Thread-safety: pure functions over immutable inputs.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "core/model.h"
#include "core/status.h"

namespace loyaltyd {

// The once-per-customer key of the first-order bonus. Not the rule id: renaming the rule must
// not pay the bonus a second time.
inline constexpr std::string_view kFirstOrderOnceKey = "first_order";

// A bonus campaign's awards carry rule id kCampaignRulePrefix + the campaign's id. Rule ids
// cannot contain ':', so it never collides with an earn rule's.
inline constexpr std::string_view kCampaignRulePrefix = "campaign:";

struct EarnAward {
  std::string rule_id;
  int64_t points = 0;       // 0 only for an order below a rule's minimum_order
  std::string description;  // for the ledger: how the points were computed
  // Non-empty: the customer earns this award at most once ever, whatever the order.
  std::string once_per_customer_key = {};
};

// Store credit a cashback rule gives an order, in minor units of the program currency.
struct CreditAward {
  std::string rule_id;
  int64_t amount_minor = 0;  // 0 only for an order below the rule's minimum_order
  std::string description;   // for the credit ledger: how the credit was computed
};

// Eligible spend of an order in minor units of the order's currency, before any rule's
// exclusions. Never negative.
int64_t EligibleSpendMinor(const Order& order);

// What the earn rules need to know about the customer besides the order. Filled by the ledger
// from storage; an empty tier_id means no tier (or no tiers configured).
struct EarnContext {
  std::string tier_id;
};

// Awards for a paid order. FailedPrecondition when the order's currency is not the program's
// (loyaltyd does not convert currencies: the points would be wrong). Rules that give 0 points
// are omitted, except a spend rule whose minimum_order the order misses: its 0-point award
// tells the ledger why the order earned nothing under it.
Result<std::vector<EarnAward>> ComputeEarnAwards(const ProgramConfig& program, const Order& order,
                                                 const EarnContext& context = {});

// Store credit for a paid order from the cashback rules: floor(eligible spend after the rule's
// exclusions * percent / 100), capped by max_per_order, exact in minor units. Same currency
// check as ComputeEarnAwards; a rule that gives nothing is omitted, except below its
// minimum_order, whose 0 award says why.
Result<std::vector<CreditAward>> ComputeCashbackAwards(const ProgramConfig& program,
                                                       const Order& order);

}  // namespace loyaltyd
