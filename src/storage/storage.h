// Storage: the one interface to loyaltyd's durable state (docs/storage.md describes each table).
//
// Three groups of operations:
//   * the webhook inbox: AppendToInbox stores a batch of verified deliveries in one transaction
//     (the group committer's unit of durability) and reports which were duplicates;
//   * event outcomes: CommitEventOutcomes applies what processing decided for a batch of inbox
//     events — customer identity, order record, ledger entries, balances and the event's new
//     status — atomically per event, so a crash either applies an event whole or not at all.
//   * redemptions and the outbox: CreateRedemption deducts points, records the redemption and
//     queues the platform call that issues the reward, in one durable transaction; the outbox
//     worker then claims each due job (BeginJobAttempt, durable before the call goes out) and
//     settles it (CompleteRewardJob, FailRewardJob — which returns the points — or
//     RescheduleJob). A job is never lost between those steps: until settled it stays pending.
// Reads serve the admin API.
//
// Thread-safety: every method may be called from any thread. Writes are serialised inside the
// implementation; reads run concurrently with writes (SQLite WAL). The one per-thread state is
// a pinned read snapshot (PinReadSnapshot): it changes the pinning thread's reads until it is
// destroyed, on that thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/calendar.h"
#include "core/status.h"
#include "core/tier.h"

namespace loyaltyd {

class TierPolicy;  // below, with the VIP tier operations

// --- Referrals (docs/storage.md, "Referrals"; docs/configuration.md, "Referrals") ---

// What a referral reward gives, as storage applies it: points (a "referral" ledger entry) or a
// reward created in the store through the outbox (a redemption paid with "referral", 0 points).
struct ReferralRewardTerms {
  std::string name;         // "500 points", "10% off"
  int64_t points = 0;       // > 0: a points reward; 0: reward_kind
  std::string reward_kind;  // RewardKindName: fixed_discount, percentage_discount, ...
  int64_t value_minor = 0;
  int percentage = 0;
  int64_t minimum_order_minor = 0;
  int64_t expires_after_ms = 0;  // codes: 0 never
  std::string code_prefix;
  std::string currency;  // the program currency, for value_minor
};

// program.referrals as storage applies it inside the transactions that attribute, convert and
// void referrals. Built above storage from the config (ledger/referral_policy.h). Immutable.
struct ReferralPolicy {
  std::string currency;
  int currency_exponent = 2;
  // shop id -> "shopify" | "woocommerce": how a code can be restricted to its customer there.
  std::map<std::string, std::string> shop_platforms;
  int64_t window_ms = 0;
  int64_t minimum_order_minor = 0;
  int64_t hold_ms = 0;
  std::optional<ReferralRewardTerms> friend_reward;
  ReferralRewardTerms advocate_reward;
  std::vector<std::pair<int, ReferralRewardTerms>> milestones;  // (referrals, reward) ascending
  bool guard_same_email = true;
  bool guard_same_address = true;
  bool guard_same_phone = true;
  bool guard_new_friend_only = true;
  int max_referrals_per_day = 0;  // 0: no cap
  int max_advocate_rewards = 0;   // 0: no cap
  CalendarPeriod advocate_rewards_period = CalendarPeriod::kMonth;
};

// How a customer can be recognised across records: canonical email, phone and shipping
// address keys (core/identity.h). Empty keys are not recorded.
struct IdentityKeys {
  std::string email_key;
  std::string phone_key;
  std::string address_key;
};

// A code on a paid order that may attribute it to a referrer, in precedence order.
struct ReferralCandidate {
  std::string code;
  std::string source;  // discount_code, landing_site, note_attribute, order_meta
};

// What a paid order offers for referral attribution (EventOutcome::referral_order).
struct ReferralOrderFacts {
  std::vector<ReferralCandidate> candidates;  // discount codes first, then ref codes
  std::string friend_email;                   // as sent
  IdentityKeys friend_keys;
  int64_t total_minor = 0;
  int64_t created_at_ms = 0;  // the order's created_at; 0 when unknown (received_at is used)
};

enum class ReferralStatus { kIdentified, kPending, kConverted, kRejected, kVoided, kExpired };
std::string_view ReferralStatusName(ReferralStatus status);
std::optional<ReferralStatus> ParseReferralStatus(std::string_view name);

struct ReferralRecord {
  int64_t id = 0;
  int64_t referrer_customer_id = 0;
  std::string shop_id;  // where the friend was identified or ordered
  std::string friend_email;
  std::string friend_key;
  int64_t friend_customer_id = 0;  // once an order is attributed (or a welcome reward issued)
  std::string source;  // self_identified, discount_code, landing_site, note_attribute, order_meta
  ReferralStatus status = ReferralStatus::kIdentified;
  // Rejected, voided, expired: why, as "code: detail" items joined by "; " (codes:
  // self_referral, friend_not_new, already_referred, referrer_daily_cap, advocate_reward_cap,
  // below_minimum, window_expired, order_refunded).
  std::string reason;
  int64_t identified_at_ms = 0;
  int64_t window_ends_at_ms = 0;
  std::string order_shop_id;
  std::string order_platform_id;
  std::string order_name;
  int64_t order_total_minor = 0;
  int64_t attributed_at_ms = 0;
  int64_t release_at_ms = 0;  // pending: when the advocate reward is due (hold)
  int64_t converted_at_ms = 0;
  int64_t welcome_redemption_id = 0;
  std::string welcome_code;
  std::string advocate_reward_name;
  int64_t advocate_points = 0;         // a points reward, once converted
  int64_t advocate_redemption_id = 0;  // a store reward, once converted
  std::string advocate_reward_status;  // that redemption's status
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
};

// A self-identification (POST /api/v1/referrals): the friend names the referrer.
struct NewReferral {
  std::string shop_id;
  std::string platform;  // "shopify", "woocommerce": how a welcome code can be restricted
  int64_t referrer_customer_id = 0;
  std::string friend_email;
  std::string friend_email_normalised;  // NormaliseEmail
  std::string friend_key;               // CanonicalEmail
  bool welcome_reward = false;          // issue policy.friend_reward to the friend
};

struct CreateReferralResult {
  enum class Outcome {
    kCreated,   // recorded as identified (and the welcome reward queued)
    kExisting,  // this referrer already identified this friend: that referral
    kRejected,  // recorded as rejected; `referral.reason` says why
  };
  Outcome outcome = Outcome::kCreated;
  ReferralRecord referral;
};

// Per referrer, for GET /api/v1/reports/referrals.
struct ReferralReportRow {
  int64_t referrer_customer_id = 0;
  std::string email;
  std::string code;
  int64_t clicks = 0;
  int64_t identifications = 0;  // self-identified referrals (any status)
  int64_t attributed = 0;       // referrals with an order (pending, converted, voided)
  int64_t conversions = 0;
  int64_t pending = 0;
  int64_t voided = 0;
  int64_t rejected = 0;
  int64_t points_awarded = 0;  // referral and milestone points
  int64_t rewards_issued = 0;  // store rewards (codes, store credit) created for the referrer
  std::map<std::string, int64_t> rejected_reasons;  // reason code -> count
};

struct ReferralRunResult {
  int64_t converted = 0;
  int64_t voided = 0;
};

// --- Reports (docs/api.md, "Reports"; sqlite_reports.cc) ---

// One customer in the customer manager report (GET /api/v1/reports/customers).
struct CustomerReportRow {
  int64_t customer_id = 0;
  std::string shop_id;
  std::string platform_customer_id;  // empty for a guest
  std::string email;
  std::string first_name;
  std::string last_name;
  std::string tier_level_id;  // empty: no tier
  int64_t tier_reached_at_ms = 0;
  int64_t points_balance = 0;
  int64_t credit_balance_minor = 0;  // program currency
  int64_t referrals_converted = 0;   // as referrer
  int64_t paid_orders = 0;
  // Sum of the paid orders' totals (as last received) in the report's currency; orders in
  // another currency are counted in paid_orders but not here.
  int64_t paid_total_minor = 0;
  int64_t last_order_at_ms = 0;  // the newest paid order's created_at; 0: none (or unparsable)
  int64_t created_at_ms = 0;
};

struct CustomerReportQuery {
  int64_t before_id = 0;  // customers with id < before_id when > 0; newest (highest id) first
  size_t limit = 50;
  std::string currency;  // the program currency, for paid_total_minor
};

// A calendar month in UTC, [starts_at_ms, next_starts_at_ms): "2026-11".
struct ReportMonth {
  std::string label;
  int64_t starts_at_ms = 0;
  int64_t next_starts_at_ms = 0;
};
// The months from (from_year, from_month) to (to_year, to_month), both included, oldest first.
std::vector<ReportMonth> ReportMonths(int64_t from_year, int from_month, int64_t to_year,
                                      int to_month);

// How the liability report counts a points ledger kind: earned (earn, action, referral),
// redeemed (redeem, and refund: a redemption's points given back), expired, clawed_back
// (clawback), none (tier: 0 points) or adjusted (every other kind: manual adjustments and any
// kind added later, so that the categories always sum to the ledger's net change).
enum class LedgerCategory { kEarned, kRedeemed, kExpired, kClawedBack, kAdjusted, kNone };
LedgerCategory LedgerKindCategory(std::string_view kind);

// Points moved in one month, by category: positive numbers for what went out (redeemed,
// expired, clawed back are the negated sums of their entries), signed for adjusted.
struct LedgerMonthRow {
  ReportMonth month;
  int64_t earned = 0;
  int64_t redeemed = 0;  // net of redemption refunds
  int64_t expired = 0;
  int64_t clawed_back = 0;
  int64_t adjusted = 0;                           // signed net
  int64_t entries = 0;                            // ledger entries in the month (all kinds)
  std::map<std::string, int64_t> points_by_kind;  // signed sums, as in the ledger
};

struct LiabilityQuery {
  int64_t now_ms = 0;
  std::vector<int64_t> expiring_within_ms;  // cumulative buckets, e.g. 30, 60 and 90 days
  std::vector<ReportMonth> months;
};

struct PointsLiability {
  int64_t outstanding_points = 0;  // open lots' remaining = sum of positive balances
  int64_t open_lots = 0;
  int64_t never_expiring_points = 0;  // open lots without an expiry date
  // Per bucket of LiabilityQuery::expiring_within_ms: open points whose lot expires by
  // now + within (lots already due and not yet expired by the expiry run included).
  std::vector<int64_t> expiring_points;
  int64_t pending_points = 0;          // held awards not yet credited (pending_awards)
  std::vector<LedgerMonthRow> months;  // one per LiabilityQuery::months, in order
};

struct TierLevelCount {
  std::string level_id;  // empty: customers without a tier
  int64_t customers = 0;
};

// Tier movement of one level in one month, from tier_changes (recorded since the version that
// introduced the table). Counts are of distinct customers.
struct TierMovementRow {
  std::string month;
  std::string level_id;  // empty: "no tier"
  int64_t entered = 0;
  int64_t upgraded_in = 0;    // entered from a lower level (or from no tier)
  int64_t downgraded_in = 0;  // entered from a higher level
  int64_t left = 0;
  int64_t upgraded_out = 0;    // left for a higher level
  int64_t downgraded_out = 0;  // left for a lower level (or no tier)
};

struct TierFigures {
  int64_t customers = 0;                  // every customer
  std::vector<TierLevelCount> levels;     // customers per stored level, level id order
  std::vector<TierMovementRow> movement;  // by month, then level id; rows with changes only
};

// One change of a customer's tier (tier_changes; written with the "tier" ledger entry).
struct TierChangeRecord {
  int64_t id = 0;
  int64_t customer_id = 0;
  std::string from_level_id;  // empty: no tier
  std::string to_level_id;
  std::string direction;      // "up", "down", or "" when the levels' order was unknown
  int64_t changed_at_ms = 0;  // the evaluation's as-of time (the event's received_at_ms)
  int64_t ledger_entry_id = 0;
  int64_t source_event_id = 0;  // 0: the daily re-evaluation
};

enum class EventStatus { kPending, kProcessed, kIgnored, kFailed };
std::string_view EventStatusName(EventStatus status);
std::optional<EventStatus> ParseEventStatus(std::string_view name);

// A verified delivery about to be stored.
struct NewInboxEvent {
  std::string shop_id;
  std::string platform;  // "shopify", "woocommerce"
  std::string topic;
  // Unique per (shop, topic, platform event): a second delivery with the same key is a duplicate.
  std::string dedupe_key;
  std::string delivery_id;
  std::string body;
  int64_t received_at_ms = 0;
};

enum class InboxAppendOutcome { kStored, kDuplicate };

struct InboxEvent {
  int64_t id = 0;
  std::string shop_id;
  std::string platform;
  std::string topic;
  std::string dedupe_key;
  std::string delivery_id;
  std::string body;  // empty in listings (ListEvents), present for processing
  int64_t received_at_ms = 0;
  EventStatus status = EventStatus::kPending;
  std::string status_reason;
  int64_t processed_at_ms = 0;
};

// Who an event concerns. Identified by (shop, platform customer id) when the platform has one,
// otherwise by (shop, normalised email) — a guest.
struct CustomerIdentity {
  std::string shop_id;
  std::string platform_customer_id;  // empty for a guest
  std::string email;                 // as sent
  std::string email_normalised;      // key for guests; may be empty for a known customer
  std::string first_name;
  std::string last_name;
  // Shared membership (issue 7; docs/storage.md, member_links): the shop shares its membership
  // (program.shared_by) and the platform vouches for the account's email, so that an account
  // with the same email on another sharing shop is the same member. Never for a guest.
  bool link_by_email{};
};

struct OrderRecord {
  std::string shop_id;
  std::string platform_order_id;
  std::string name;
  std::string currency;
  int64_t total_minor = 0;
  int64_t eligible_minor = 0;
  bool paid = false;  // once true, stays true (a late orders/create never un-pays an order)
  std::string created_at;
  bool taxes_included = false;  // refund line subtotals then carry tax, taken out for clawbacks
  // Only shop and order id are known (a refund sent on its own): creates the row when absent so
  // that the refund is kept until the order arrives; never changes an existing row.
  bool placeholder = false;
};

// A refund or cancellation of an order, recorded once per (order, refund_key) whether or not
// the order has earned yet. Storage turns recorded refunds into "clawback" ledger entries as
// soon as the order has earned (docs/storage.md, order_refunds).
struct RefundRecord {
  std::string refund_key;  // the platform refund id; "full" for a cancellation or full refund
  // Refunded merchandise after discounts on eligible (non-gift-card) lines, and the tax refunded
  // on them, which is taken out when the order's prices include tax.
  int64_t merchandise_minor = 0;
  int64_t tax_minor = 0;
  bool refunds_rest = false;  // a cancellation or full refund: takes back all the order earned
};

// A points change caused by an event. Unique per (order, rule_id, kind): applying the same
// credit twice changes nothing, whatever the redeliveries. (Clawbacks are not decided here but
// by storage from RefundRecords: they depend on what the order earned and was already taken.)
struct PointsChange {
  std::string rule_id;
  std::string kind;  // "earn"
  int64_t points = 0;
  std::string description;  // why, for the merchant: "1 point per 1.00 USD on 49.00 USD"
  // Non-empty (e.g. "first_order"): besides the per-order key, the customer gets at most one
  // entry with this key ever, over all orders; a later change with the same key is skipped.
  std::string once_per_customer_key = {};
};

// Store credit earned by an event (a cashback rule), in minor units of `currency`. Unique per
// (order, rule_id, kind) in the credit ledger, like PointsChange in the points ledger.
struct CreditChange {
  std::string rule_id;
  std::string kind;  // "earn"
  int64_t amount_minor = 0;
  std::string currency;
  std::string description;  // "10.00% cashback on eligible spend of 49.00 USD: 4.90 USD ..."
};

// --- Privacy (issue 7; sqlite_privacy.cc; docs/storage.md, "Privacy") ---
// What a privacy request or shop lifecycle notice asks of storage: from a webhook
// (EventOutcome::privacy, applied in the event's transaction) or from the admin API.
struct PrivacyAction {
  enum class Kind {
    kDataRequest,     // export everything held on the customer, kept for the merchant
    kCustomerRedact,  // erase the customer's personal data, keep the books
    kShopRedact,      // remove all of the shop's data (in bounded transactions, afterwards)
    kShopDeactivate,  // app uninstalled: no more platform calls for the shop; data kept
    kShopActivate,    // reinstalled: platform calls resume
  };
  Kind kind = Kind::kCustomerRedact;
  std::string shop_id;
  // The customer: loyaltyd's id (the admin API), else found by the platform's id, the email
  // (a guest, or the same person before they had an account) and the owners of `platform
  // order ids` who are guests.
  int64_t customer_id = 0;
  std::string platform_customer_id;
  std::string email;
  std::string phone;
  std::vector<std::string> platform_order_ids;
  std::string platform_request_id;  // Shopify's data_request.id
  std::string source;               // "webhook" or "api"
};

// What processing decided for one inbox event.
struct EventOutcome {
  int64_t event_id = 0;
  EventStatus status = EventStatus::kProcessed;
  std::string reason;  // required for kFailed and kIgnored; a summary otherwise
  std::optional<CustomerIdentity> customer;
  std::optional<OrderRecord> order;   // linked to `customer` when both are present
  std::vector<PointsChange> points;   // requires `customer` and `order`
  std::vector<RefundRecord> refunds;  // requires `order`
  // program.refunds.allow_negative_balance, for the clawbacks this outcome triggers.
  bool allow_negative_balance = false;
  std::vector<CreditChange> credits;  // store credit (cashback); requires `customer` and `order`
  // The inbox event's received_at_ms: the effective time of the points it posts (their lots'
  // age counts from it), so that a replay of the inbox makes the same lots. 0: the commit time.
  int64_t received_at_ms = 0;
  // Non-zero (program.award.hold_days): the earn changes (`points`, or the customer's tier's in
  // points_by_tier) are not credited now but recorded as pending
  // awards released by ReleasePendingPoints at this time (docs/storage.md, pending_awards).
  int64_t hold_until_ms = 0;

  // --- VIP tiers (docs/configuration.md, "VIP tiers"); `tiers` is null without a program. ---
  // Storage evaluates the tier of the event's customer (the order's, for a refund) as of
  // received_at_ms (deterministic on replay), inside the event's transaction and after its
  // changes, and records a change with its ledger entry and update_tags job there too.
  std::shared_ptr<const TierPolicy> tiers;
  // The earn changes per tier: when the customer's level as of received_at_ms, before this
  // event, is a key here, its changes are used instead of `points` (which are for no tier):
  // posted now, or recorded as pending awards when hold_until_ms is set.
  // Deciding for every level up front keeps Decide pure and lets storage pick with the tier
  // that all earlier events of the same customer left, even within one batch.
  std::map<std::string, std::vector<PointsChange>> points_by_tier;
  std::vector<TierGrant> tier_grants;  // memberships this paid order buys
  // The customer's tags on the platform, when the payload carries them (Shopify).
  std::optional<std::vector<std::string>> platform_tags;

  // --- Referrals; `referrals` is null without program.referrals. ---
  std::shared_ptr<const ReferralPolicy> referrals;
  // Remembered for the customer (self-referral guards compare a friend with them).
  std::optional<IdentityKeys> identity_keys;
  // A paid order: storage attributes it to a referrer (at most once per order) in the event's
  // transaction, with the guards, and converts or holds the referral.
  std::optional<ReferralOrderFacts> referral_order;

  // --- Privacy (issue 7): a compliance topic or shop notice, applied in the event's
  // transaction (Storage::ApplyPrivacyAction). Nothing else of the outcome is set with it.
  std::optional<PrivacyAction> privacy;
};

// --- Point lots, expiry and pending awards (docs/storage.md: point_lots, pending_awards) ---

// What storage needs of program.expiry. Lots take their expiry when they are made, so a change
// of lot_age_ms applies to new lots only; inactivity is judged at each expiry run.
struct PointsPolicy {
  int64_t lot_age_ms = 0;     // 0: lots never expire by age
  int64_t inactivity_ms = 0;  // 0: no expiry by inactivity
};

// One credit of points (a positive ledger entry) and what is left of it.
struct PointLotRecord {
  int64_t id = 0;
  int64_t customer_id = 0;
  int64_t ledger_entry_id = 0;  // the entry that credited it
  std::string kind;             // that entry's kind: earn, refund, ...
  std::string rule_id;
  std::string order_platform_id;  // empty when not from an order
  std::string order_name;
  int64_t points = 0;
  int64_t remaining = 0;
  int64_t earned_at_ms = 0;    // effective time of the credit
  int64_t expires_at_ms = 0;   // 0: never
  std::string expired_reason;  // set once the lot was expired: "lot age", "inactivity"
};

enum class PendingAwardStatus { kPending, kReleased, kVoided };
std::string_view PendingAwardStatusName(PendingAwardStatus status);

// Points an order earned but that are held until release_at_ms (program.award.hold_days).
struct PendingAwardRecord {
  int64_t id = 0;
  int64_t customer_id = 0;
  std::string order_platform_id;
  std::string order_name;
  std::string rule_id;
  int64_t points = 0;  // what the rule earned
  // What release would credit net of the refunds recorded so far (the clawback formula of
  // SqliteStorage::ApplyClawbacks); equal to points without refunds, 0 once voided.
  int64_t net_points = 0;
  std::string description;
  int64_t source_event_id = 0;
  int64_t awarded_at_ms = 0;
  int64_t release_at_ms = 0;
  PendingAwardStatus status = PendingAwardStatus::kPending;
  std::string status_reason;  // why it was voided
  int64_t settled_at_ms = 0;
};

// Points figures for the customer detail.
struct PointsOutlook {
  int64_t pending_points = 0;     // net points of pending awards
  int64_t expiring_points = 0;    // remaining points of lots expiring before the horizon
  int64_t next_expiry_at_ms = 0;  // the earliest expiry of an open lot; 0: none
};

struct ExpiryRunResult {
  int64_t lots_expired = 0;
  int64_t points_expired = 0;
};

struct ReleaseRunResult {
  int64_t released = 0;  // awards credited
  int64_t voided = 0;    // awards voided at release (the order was cancelled or fully refunded)
  int64_t points_released = 0;
};

struct CustomerRecord {
  int64_t id = 0;
  std::string shop_id;
  std::string platform_customer_id;
  std::string email;
  std::string first_name;
  std::string last_name;
  int64_t points_balance = 0;
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
  int64_t credit_balance_minor = 0;  // store credit (cashback), program currency
};

// --- Shared membership (issue 7; docs/storage.md, member_links; sqlite_members.cc) ---
// A member: the customers row that holds the books (balance, lots, ledger, credit, tier) and
// every account, one per shop, that is that member. An account that shares with no one is a
// member of one: member_id is its own id and accounts holds just it.
struct MembershipRecord {
  int64_t member_id = 0;
  std::vector<CustomerRecord> accounts;  // the member's own account first, then by link order
};
// --- end shared membership ---

struct LedgerEntryRecord {
  int64_t id = 0;
  int64_t redemption_id = 0;  // for "redeem" and "refund" entries
  int64_t customer_id = 0;
  int64_t points = 0;
  int64_t balance_after = 0;
  std::string kind;
  std::string rule_id;
  std::string refund_key;  // for "clawback" entries: the platform refund id, or "full"
  std::string description;
  int64_t source_event_id = 0;
  std::string source_topic;
  std::string order_platform_id;
  std::string order_name;
  int64_t created_at_ms = 0;
};

// One entry of the store-credit ledger (docs/storage.md, credit_entries).
struct CreditEntryRecord {
  int64_t id = 0;
  int64_t customer_id = 0;
  std::string kind;          // earn, clawback, payout, payout_refund
  int64_t amount_minor = 0;  // signed
  int64_t balance_after_minor = 0;
  std::string currency;
  std::string rule_id;
  std::string refund_key;  // clawback: the platform refund id, or "full"
  std::string description;
  int64_t source_event_id = 0;
  std::string source_topic;
  std::string order_platform_id;
  std::string order_name;
  int64_t payout_id = 0;  // payout, payout_refund: the redemption that issues it in the store
  int64_t created_at_ms = 0;
};

enum class RedemptionStatus { kPending, kIssued, kFailed };
std::string_view RedemptionStatusName(RedemptionStatus status);

// A redemption about to be made: the reward's terms are copied in, so that a later change to
// the catalogue never changes what a customer already paid for.
struct NewRedemption {
  int64_t customer_id = 0;
  std::string shop_id;
  std::string idempotency_key;  // from the client (Idempotency-Key header); unique per customer
  std::string reward_id;
  std::string reward_kind;  // RewardKindName
  std::string reward_name;
  int64_t points = 0;
  std::string code;  // generated discount code; "" for store credit
  int64_t value_minor = 0;
  std::string currency;
  int percentage = 0;
  int64_t minimum_order_minor = 0;
  int64_t expires_at_ms = 0;  // 0: never
  bool restrict_to_customer = true;
};

struct RedemptionRecord {
  int64_t id = 0;
  int64_t customer_id = 0;
  std::string shop_id;
  std::string idempotency_key;
  std::string reward_id;
  std::string reward_kind;
  std::string reward_name;
  int64_t points = 0;
  std::string code;
  int64_t value_minor = 0;
  std::string currency;
  int percentage = 0;
  int64_t minimum_order_minor = 0;
  int64_t expires_at_ms = 0;
  bool restrict_to_customer = true;
  RedemptionStatus status = RedemptionStatus::kPending;
  std::string platform_reward_id;
  std::string failure_reason;
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
  // "points" for a catalogue reward; "credit" for a payout of store credit (points 0, the
  // credit paid is value_minor).
  std::string paid_with = "points";
};

struct CreateRedemptionResult {
  enum class Outcome {
    kCreated,             // points deducted, job queued
    kExisting,            // the idempotency key was used before: `redemption` is that one
    kInsufficientPoints,  // nothing changed; `balance` is what the customer has
  };
  Outcome outcome = Outcome::kCreated;
  RedemptionRecord redemption;
  int64_t balance = 0;
};

// A payout of a customer's store credit (cashback) into the store as platform store credit.
struct NewCreditPayout {
  int64_t customer_id = 0;
  std::string shop_id;
  std::string idempotency_key;  // from the client; shares the redemptions' keys per customer
  int64_t amount_minor = 0;     // > 0, program currency
  std::string currency;
  std::string description;  // the redemption's reward_name, e.g. "store credit payout 12.50 USD"
};

struct CreditPayoutResult {
  enum class Outcome {
    kCreated,             // credit debited, payout recorded, job queued
    kExisting,            // the idempotency key was used before: `payout` is that redemption
    kInsufficientCredit,  // nothing changed; `balance_minor` is what the customer has
  };
  Outcome outcome = Outcome::kCreated;
  RedemptionRecord payout;
  int64_t balance_minor = 0;  // the credit balance after the payout (or as it is)
};

enum class JobStatus { kPending, kDone, kFailed };
std::string_view JobStatusName(JobStatus status);
std::optional<JobStatus> ParseJobStatus(std::string_view name);

// One platform call to make, written in the same transaction as the change that causes it.
struct OutboxJob {
  int64_t id = 0;
  std::string shop_id;
  std::string kind;             // "issue_reward"
  int64_t redemption_id = 0;    // for issue_reward
  std::string idempotency_key;  // what the platform call is keyed on (the code itself, ...)
  JobStatus status = JobStatus::kPending;
  int attempts = 0;  // calls started, counted before each call goes out
  int64_t next_attempt_at_ms = 0;
  std::string last_error;
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
};

// The VIP tier program as storage applies it. Implemented above storage from the config
// (ledger/config_tier_policy.h), so that storage can evaluate a customer's tier inside the very
// transaction that changes what the tier depends on, without knowing the config. Thread-safe:
// immutable after construction.
class TierPolicy {
 public:
  virtual ~TierPolicy() = default;
  // Activity at times in [WindowStartMs(as_of), as_of] counts for an evaluation as of as_of.
  virtual int64_t WindowStartMs(int64_t as_of_ms) const = 0;
  // The customer's standing as of as_of_ms (rules/tier_rules.h, EvaluateTier).
  virtual TierStanding Evaluate(const TierFacts& facts, const TierStanding& current,
                                int64_t as_of_ms) const = 0;
  // The ledger entry's text for a change.
  virtual std::string DescribeChange(const TierStanding& from, const TierStanding& to,
                                     const TierFacts& facts) const = 0;
  // The tags a customer at level_id carries in the store ("" : none), and the tags of every
  // level: a change adds the first and removes the rest of the second.
  virtual std::vector<std::string> TagsOf(const std::string& level_id) const = 0;
  virtual std::vector<std::string> AllTierTags() const = 0;
  // Whether tier tags are written to this shop (it has an admin API to write them with).
  virtual bool WritesTagsTo(const std::string& shop_id) const = 0;
  // Reports (tier_changes.direction): the level's rank, 0 for no tier ("") and 1.. along the
  // levels from the lowest; -1 for a level the policy does not know.
  virtual int LevelRank(const std::string& level_id) const { return level_id.empty() ? 0 : -1; }
};

// An update_tags outbox job, as the worker sends it.
struct TagUpdate {
  int64_t job_id = 0;
  int64_t customer_id = 0;
  std::string shop_id;
  std::string platform_customer_id;
  std::vector<std::string> add;
  std::vector<std::string> remove;
};

// --- Action rules (POST /api/v1/customers/{id}/actions) ---

// An action to pay under its rule. The slots come from rules/action_rules.h: storage posts the
// first whose once key the customer has not used, or none when all are used (limit reached).
struct NewActionRequest {
  int64_t customer_id = 0;
  std::string idempotency_key;  // from the client; unique per customer
  std::string action;
  std::string rule_id;
  std::string reference;  // the caller's id for the action; may be empty
  int64_t occurred_at_ms = 0;
  int64_t points = 0;
  struct Slot {
    std::string once_key;
    std::string description;
  };
  std::vector<Slot> slots;
  std::string period_label;  // "" for a once-ever limit
  int64_t next_period_starts_at_ms = 0;
  std::string limit_reached_message;  // kept as the answer when no slot is free
};

enum class ActionOutcome { kAwarded, kLimitReached };
std::string_view ActionOutcomeName(ActionOutcome outcome);

// A recorded action request and the answer it got, kept so that a retry gets the same answer.
struct ActionRequestRecord {
  int64_t id = 0;
  int64_t customer_id = 0;
  std::string idempotency_key;
  std::string action;
  std::string rule_id;
  std::string reference;
  int64_t occurred_at_ms = 0;
  ActionOutcome outcome = ActionOutcome::kAwarded;
  int slot = 0;       // kAwarded: which of max_slots this was (1-based)
  int max_slots = 0;  // the rule's max_per_period (1 for "once")
  std::string period_label;
  int64_t next_period_starts_at_ms = 0;
  int64_t ledger_entry_id = 0;  // kAwarded
  int64_t points = 0;           // kAwarded: the points credited; 0 otherwise
  int64_t balance_after = 0;    // the customer's balance right after the request
  std::string description;      // kAwarded: the ledger entry's; else why nothing was paid
  int64_t created_at_ms = 0;
};

struct RecordActionResult {
  bool replayed = false;  // the idempotency key was used before: `request` is that answer
  ActionRequestRecord request;
};

// --- Reconciliation (docs/storage.md, "Reconciliation") ---

// What the ledger already reflects of one order: the facts a reconciliation compares with the
// platform's state of the order to tell whether a webhook was missed.
struct OrderLedgerFacts {
  bool known = false;   // recorded from an order payload (not only a refund's placeholder)
  bool paid = false;    // a paid event was applied (orders.paid)
  bool earned = false;  // the order has "earn" entries or pending awards
  std::set<std::string> refund_keys;  // recorded refunds, "full" for a cancellation
};

struct InboxCounts {
  int64_t pending = 0;
  int64_t processed = 0;
  int64_t ignored = 0;
  int64_t failed = 0;
};

// Whether the database takes writes (Storage::CheckWritable).
struct StorageWriteHealth {
  bool writable = true;
  std::string error;  // why not: the last failed write's error
};

// --- Customer tools (issue 7; sqlite_customers.cc, docs/api.md "Customers") ---

// GET /api/v1/customers: every given filter must match (AND). Results are in ascending id;
// after_id > 0: ids above it; before_id > 0: the last `limit` ids below it (still ascending).
struct CustomerSearch {
  std::string email_normalised;  // exact (NormaliseEmail); "" : any
  std::string text;              // lower-case substring of the email or "first last"; "" : any
  std::string tier_level;        // customer_tiers.level_id as stored; "" : any
  int64_t after_id = 0;
  int64_t before_id = 0;
  size_t limit = 50;
};

struct CustomerSearchRow {
  CustomerRecord customer;
  std::string tier_level;  // "" : no tier
};

struct CustomerSearchPage {
  std::vector<CustomerSearchRow> rows;
  bool more_after = false;   // customers matching beyond the last row
  bool more_before = false;  // customers matching before the first row
};

// A manual points adjustment (POST /api/v1/customers/{id}/adjustments), once per
// (customer, idempotency key).
struct NewAdjustment {
  int64_t customer_id = 0;
  std::string idempotency_key;
  int64_t points = 0;  // non-zero, signed
  std::string reason;
  std::string actor;
  // program.refunds.allow_negative_balance: whether a debit may leave the balance below zero.
  bool allow_negative_balance = false;
};

struct AdjustmentRecord {
  int64_t id = 0;
  int64_t customer_id = 0;
  std::string idempotency_key;
  int64_t points = 0;
  std::string reason;
  std::string actor;
  int64_t ledger_entry_id = 0;
  int64_t balance_after = 0;
  int64_t created_at_ms = 0;
};

struct AdjustmentResult {
  enum class Outcome {
    kCreated,             // posted
    kReplayed,            // the key was used before with the same body: `adjustment` is that one
    kKeyConflict,         // the key was used before with another body: `adjustment` is that one
    kInsufficientPoints,  // nothing changed; `balance` is what the customer has
  };
  Outcome outcome = Outcome::kCreated;
  AdjustmentRecord adjustment;
  int64_t balance = 0;
};

// One good row of an opening-balance import (balance_import.h has already checked it).
struct OpeningBalanceRow {
  int line = 0;  // in the file, for the report
  std::string shop_id;
  std::string email;
  std::string email_normalised;
  std::string platform_customer_id;  // "" : matched by email
  std::string first_name;
  std::string last_name;
  int64_t points = 0;  // >= 0
};

struct OpeningBalanceOutcome {
  enum class Kind {
    kApplied,    // the customer's opening balance was posted now
    kUnchanged,  // the same opening balance was imported before: nothing to do
    kRejected,   // nothing changed; `reason` says why
  };
  int line = 0;
  Kind kind = Kind::kApplied;
  int64_t customer_id = 0;
  bool customer_created = false;
  std::string reason;
};

// --- Privacy (issue 7; sqlite_privacy.cc; docs/storage.md, "Privacy") ---

// One privacy request as kept for the merchant (GET /api/v1/privacy/requests).
struct PrivacyRequestRecord {
  int64_t id = 0;
  std::string shop_id;
  std::string kind;    // data_request, customer_redact, shop_redact
  std::string status;  // pending (work left: body scrub, shop deletion), completed
  std::string source;  // webhook, api
  int64_t source_event_id = 0;
  std::string platform_request_id;
  std::vector<int64_t> customer_ids;  // the customers it concerned (none when nobody was held)
  std::string summary;                // what was done, in words
  std::string export_json;            // data_request: the export; "" in listings
  std::string last_error;
  int64_t created_at_ms = 0;
  int64_t completed_at_ms = 0;
};

// Whether loyaltyd may call the shop's platform (app/uninstalled, or the admin API).
struct ShopStateRecord {
  std::string shop_id;
  bool active = true;
  int64_t deactivated_at_ms = 0;
  int64_t redacted_at_ms = 0;  // the shop's data was removed (shop/redact)
  std::string reason;
  int64_t updated_at_ms = 0;
};

// --- Events out (docs/events.md; sqlite_events_out.cc) ---

// events_out[] as storage applies it: which topics to queue, for which endpoints. Built above
// storage from the config (app/events_out_policy.h) and set again by every reload.
struct EventsOutPolicy {
  struct Endpoint {
    std::string id;
    std::vector<std::string> topics;
  };
  std::vector<Endpoint> endpoints;  // enabled endpoints only
  struct Shop {
    std::string platform;
    std::string domain;
  };
  std::map<std::string, Shop> shops;  // shop id -> what the payload's "shop" says
  int64_t warn_ms = 0;                // points.expiring: this long before a lot expires
  bool Wants(std::string_view topic) const;
};

// One delivery of an event to an endpoint: an "event_out" outbox job and what it sends.
struct EventDeliveryRecord {
  int64_t job_id = 0;
  std::string endpoint_id;
  std::string event_id;  // X-Loyaltyd-Event-Id: the same for every attempt and endpoint
  std::string topic;
  int64_t customer_id = 0;
  std::string body;  // the exact bytes sent
  JobStatus status = JobStatus::kPending;
  int attempts = 0;
  std::string last_error;
  int last_http_status = 0;  // 0: no HTTP answer yet
  int64_t next_attempt_at_ms = 0;
  int64_t created_at_ms = 0;
  int64_t delivered_at_ms = 0;  // 0 until a 2xx
};

struct ExpiryWarningRunResult {
  int64_t warnings = 0;  // points.expiring events queued now (one per customer and expiry day)
};

// --- end events out ---

// Held while a thread makes several reads that must agree with each other (Storage::
// PinReadSnapshot). Releasing it (destruction) ends the snapshot.
class ReadSnapshot {
 public:
  virtual ~ReadSnapshot() = default;
};

class Storage {
 public:
  virtual ~Storage() = default;

  // Until the returned object is destroyed, every read this thread makes through this storage
  // sees the database as of the first of them: one snapshot, so that a page assembled from
  // several reads (a customer's balance beside their ledger and open lots) cannot mix states
  // from before and after an event committed in between. For reads only: a write this thread
  // makes meanwhile is not visible to them. One pin per thread: a pin taken while the thread
  // holds one (nested, or another storage's) changes nothing, and the outer one ends the
  // snapshot. Destroy it on the thread that pinned it. The default reads as without a pin
  // (each read its own snapshot).
  virtual Result<std::unique_ptr<ReadSnapshot>> PinReadSnapshot() {
    return std::make_unique<ReadSnapshot>();
  }

  // Whether writes succeed: false, with the error, from a write that failed for want of the
  // database (disk full, read-only, I/O error: Unavailable) until a write succeeds again. While
  // false, a call tries a write of its own (at most one a second), so the answer turns back
  // once the cause is gone even when nothing else writes. For /healthz; cheap while writable.
  virtual StorageWriteHealth CheckWritable() { return {}; }

  // Stores the batch in one durable transaction. On success the result has one outcome per
  // input, in order. Unavailable when the database cannot be written (disk full, read-only,
  // locked): then nothing in the batch is stored.
  virtual Result<std::vector<InboxAppendOutcome>> AppendToInbox(
      const std::vector<NewInboxEvent>& batch) = 0;

  // Pending events with id > after_id, oldest first, bodies included.
  virtual Result<std::vector<InboxEvent>> LoadPendingEvents(int64_t after_id, size_t limit) = 0;

  // Applies the outcomes in one durable transaction, each event atomically (an outcome that
  // cannot be applied is recorded as kFailed with the reason instead). Outcomes for events no
  // longer pending are skipped, so re-processing after a crash changes nothing.
  virtual Status CommitEventOutcomes(const std::vector<EventOutcome>& outcomes, int64_t now_ms) = 0;

  // Admin reads.
  virtual Result<std::vector<CustomerRecord>> FindCustomersByEmail(
      const std::string& email_normalised) = 0;
  virtual Result<std::optional<CustomerRecord>> GetCustomer(int64_t id) = 0;
  // Newest first; entries with id < before_id when before_id > 0.
  virtual Result<std::vector<LedgerEntryRecord>> ListLedger(int64_t customer_id, int64_t before_id,
                                                            size_t limit) = 0;
  // Newest first, without bodies; status filter optional; ids < before_id when before_id > 0.
  virtual Result<std::vector<InboxEvent>> ListEvents(std::optional<EventStatus> status,
                                                     int64_t before_id, size_t limit) = 0;
  virtual Result<InboxCounts> CountInbox() = 0;

  // --- Redemptions and the outbox ---

  // In one durable transaction: when (customer, idempotency key) exists, returns it
  // (kExisting); when the balance is below the cost, changes nothing (kInsufficientPoints);
  // otherwise records the redemption, a "redeem" ledger entry of -points, the new balance and
  // an "issue_reward" outbox job due now. The writer is serialised, so concurrent redemptions
  // on one balance never take it below zero. NotFound for an unknown customer.
  virtual Result<CreateRedemptionResult> CreateRedemption(const NewRedemption& redemption,
                                                          int64_t now_ms) = 0;
  virtual Result<std::optional<RedemptionRecord>> GetRedemption(int64_t id) = 0;
  // Newest first.
  virtual Result<std::vector<RedemptionRecord>> ListRedemptions(int64_t customer_id,
                                                                int64_t before_id,
                                                                size_t limit) = 0;

  // Pending jobs with next_attempt_at_ms <= now_ms, oldest due first.
  virtual Result<std::vector<OutboxJob>> LoadDueJobs(int64_t now_ms, size_t limit) = 0;
  // Counts an attempt and pushes next_attempt_at_ms to lease_until_ms, durably, before the
  // call goes out: after a crash mid-call the job comes back due with attempts > 0, which tells
  // the worker to look for the reward before creating it again. Returns the new attempt count.
  virtual Result<int> BeginJobAttempt(int64_t job_id, int64_t lease_until_ms, int64_t now_ms) = 0;
  // A transient failure: due again at next_attempt_at_ms, with the error kept.
  virtual Status RescheduleJob(int64_t job_id, int64_t next_attempt_at_ms, const std::string& error,
                               int64_t now_ms) = 0;
  // Gives up on a job whose outcome is unknown (transient failures until the attempt limit):
  // the job is failed, its redemption stays pending and keeps its points, because the reward
  // may exist; RetryJob puts it back.
  virtual Status AbandonJob(int64_t job_id, const std::string& error, int64_t now_ms) = 0;
  // Success: the job is done and its redemption issued, in one transaction. Idempotent.
  virtual Status CompleteRewardJob(int64_t job_id, const std::string& platform_reward_id,
                                   const std::string& code, int64_t now_ms) = 0;
  // The platform rejected the reward for good: the job and its redemption are failed and the
  // points go back with a "refund" ledger entry that says why, in one transaction. Idempotent.
  virtual Status FailRewardJob(int64_t job_id, const std::string& reason, int64_t now_ms) = 0;
  // A failed job is due again now with a fresh attempt budget (the merchant fixed the cause).
  // FailedPrecondition when the job is not failed or its redemption was already refunded.
  virtual Status RetryJob(int64_t job_id, int64_t now_ms) = 0;
  virtual Result<std::optional<OutboxJob>> GetJob(int64_t id) = 0;
  // Newest first; status filter optional.
  virtual Result<std::vector<OutboxJob>> ListJobs(std::optional<JobStatus> status,
                                                  int64_t before_id, size_t limit) = 0;

  // --- VIP tiers ---

  // The customer's stored standing (level_id empty: no tier). NotFound for an unknown customer.
  virtual Result<TierStanding> GetCustomerTier(int64_t customer_id) = 0;
  // The customer's tier facts for activity in [window_start_ms, as_of_ms].
  virtual Result<TierFacts> LoadTierFacts(int64_t customer_id, int64_t window_start_ms,
                                          int64_t as_of_ms) = 0;
  // The daily re-evaluation: every customer with a tier or with activity in the window is
  // evaluated as of now_ms; each change writes its ledger entry and update_tags job. In
  // transactions of a few hundred customers. Idempotent: a second run as of the same moment
  // changes nothing. Returns the number of changes.
  virtual Result<int64_t> ReevaluateTiers(const TierPolicy& policy, int64_t now_ms) = 0;
  // An update_tags job's tags: those of the customer's newest tag job, so that jobs sent out of
  // order still leave the store with the current tier's tags. nullopt when the job has none.
  virtual Result<std::optional<TagUpdate>> GetTagUpdate(int64_t job_id) = 0;
  // The tags were written: the job is done. Idempotent.
  virtual Status CompleteTagJob(int64_t job_id, int64_t now_ms) = 0;

  // --- Point lots, expiry and pending awards ---

  // The expiry terms for lots made from now on and for ExpirePoints. Set before serving, and
  // again when a reload (SIGHUP) brings a new program.expiry; may be called from any thread.
  virtual void SetPointsPolicy(const PointsPolicy& policy) = 0;
  // Expires every open lot whose expires_at_ms <= now_ms, and every open lot of a customer with
  // no points activity (earn, redeem, action) for the policy's inactivity period: one "expire"
  // ledger entry per lot, keyed by the lot, so that repeated or concurrent runs expire each
  // lot once. Commits in batches; safe to run while the daemon serves.
  virtual Result<ExpiryRunResult> ExpirePoints(int64_t now_ms) = 0;
  // Credits every pending award with release_at_ms <= now_ms ("earn" entries, then the
  // clawbacks the order's refunds owe), or voids it when its order was cancelled or fully
  // refunded. Once per award whatever the repeats.
  virtual Result<ReleaseRunResult> ReleasePendingPoints(int64_t now_ms) = 0;
  // The customer's lots, newest first; open_only: those with points remaining.
  virtual Result<std::vector<PointLotRecord>> ListLots(int64_t customer_id, bool open_only,
                                                       int64_t before_id, size_t limit) = 0;
  // The customer's pending awards (pending, released and voided), newest first.
  virtual Result<std::vector<PendingAwardRecord>> ListPendingAwards(int64_t customer_id,
                                                                    size_t limit) = 0;
  virtual Result<PointsOutlook> GetPointsOutlook(int64_t customer_id, int64_t horizon_ms) = 0;
  // --- Action rules ---

  // In one durable transaction: when (customer, idempotency key) exists, returns its recorded
  // answer (replayed); otherwise posts an "action" ledger entry on the first free slot (its once
  // key unique per customer in the ledger, so concurrent requests never exceed the limit) or,
  // when every slot is taken, posts nothing; and records the request with its answer.
  // NotFound for an unknown customer.
  virtual Result<RecordActionResult> RecordAction(const NewActionRequest& request,
                                                  int64_t now_ms) = 0;
  // --- Store credit (cashback) ---

  // In one durable transaction: when (customer, idempotency key) exists, returns that
  // redemption (kExisting, whatever it paid with); when the credit balance is below the amount,
  // changes nothing (kInsufficientCredit); otherwise records a redemption of kind store_credit
  // paid with credit, a "payout" credit entry of -amount and an "issue_reward" outbox job. If
  // the store rejects it for good, FailRewardJob returns the credit ("payout_refund").
  // NotFound for an unknown customer.
  virtual Result<CreditPayoutResult> CreateCreditPayout(const NewCreditPayout& payout,
                                                        int64_t now_ms) = 0;
  // Newest first; entries with id < before_id when before_id > 0.
  virtual Result<std::vector<CreditEntryRecord>> ListCreditEntries(int64_t customer_id,
                                                                   int64_t before_id,
                                                                   size_t limit) = 0;

  // --- Referrals (sqlite_referrals.cc) ---

  // The customer's referral code, made (random, unguessable, unique) on first use and the same
  // ever after. NotFound for an unknown customer.
  virtual Result<std::string> GetOrCreateReferralCode(int64_t customer_id, int64_t now_ms) = 0;
  // The customer whose referral code this is (case-insensitive), if any.
  virtual Result<std::optional<int64_t>> FindReferrerByCode(const std::string& code) = 0;
  // Counts a click on the customer's share link (per UTC day).
  virtual Status RecordReferralClick(int64_t referrer_customer_id, int64_t now_ms) = 0;
  // A self-identification, in one durable transaction with its guards (self-referral by email,
  // friend not new, already referred, referrer's daily cap) and, when asked, the friend's
  // welcome reward (redemption + issue_reward job). NotFound for an unknown referrer.
  virtual Result<CreateReferralResult> CreateReferral(const NewReferral& referral,
                                                      const ReferralPolicy& policy,
                                                      int64_t now_ms) = 0;
  // The customer's referrals as referrer, newest first.
  virtual Result<std::vector<ReferralRecord>> ListReferrals(int64_t referrer_customer_id,
                                                            int64_t before_id, size_t limit) = 0;
  virtual Result<std::optional<ReferralRecord>> GetReferral(int64_t id) = 0;
  // One row per referrer with a code, clicks or referrals, by referrer id.
  virtual Result<std::vector<ReferralReportRow>> ReferralReport() = 0;
  // Converts every pending referral whose hold ended by now_ms (advocate reward, milestones),
  // or voids it when its order was cancelled or fully refunded. Once per referral.
  virtual Result<ReferralRunResult> ReleaseReferralRewards(const ReferralPolicy& policy,
                                                           int64_t now_ms) = 0;

  // --- Reconciliation (sqlite_reconcile.cc) ---

  // What the ledger holds of (shop, platform order id); known false when nothing.
  virtual Result<OrderLedgerFacts> GetOrderLedgerFacts(const std::string& shop_id,
                                                       const std::string& platform_order_id) = 0;
  // The periodic reconciliation's high-water mark for the shop (epoch ms of the newest order
  // updated_at it has listed completely), or nullopt before its first complete run.
  virtual Result<std::optional<int64_t>> GetReconcileMark(const std::string& shop_id) = 0;
  // Moves the mark; never backwards (a smaller value keeps the stored one).
  virtual Status SetReconcileMark(const std::string& shop_id, int64_t high_water_ms,
                                  int64_t now_ms) = 0;

  // --- Customer tools (issue 7; sqlite_customers.cc). Defaults keep test doubles compiling. ---

  virtual Result<CustomerSearchPage> SearchCustomers(const CustomerSearch& search) {
    (void)search;
    return Internal("SearchCustomers is not implemented");
  }
  // The customer's referral code if one was made; never makes one (GET must not write).
  virtual Result<std::optional<std::string>> FindReferralCode(int64_t customer_id) {
    (void)customer_id;
    return Internal("FindReferralCode is not implemented");
  }
  // In one durable transaction, through PostPoints: an "adjustment" ledger entry (its lots like
  // any credit or debit) and the adjustment record. NotFound for an unknown customer.
  virtual Result<AdjustmentResult> CreateAdjustment(const NewAdjustment& adjustment,
                                                    int64_t now_ms) {
    (void)adjustment, (void)now_ms;
    return Internal("CreateAdjustment is not implemented");
  }
  // Applies each row: finds or creates its customer and posts its "opening_balance" entry,
  // once per customer ever. Rows commit in batches (a large file never holds the writer for
  // long); one outcome per row, in order.
  virtual Result<std::vector<OpeningBalanceOutcome>> ImportOpeningBalances(
      const std::vector<OpeningBalanceRow>& rows, int64_t now_ms) {
    (void)rows, (void)now_ms;
    return Internal("ImportOpeningBalances is not implemented");
  }

  // --- Privacy (sqlite_privacy.cc; docs/storage.md, "Privacy") ---
  // Not pure: a storage without privacy support (a test double) answers FailedPrecondition.

  // Applies `action` in one durable transaction and records it as a privacy request (a data
  // request with its export; a redaction with the customers it anonymised; a shop redaction as
  // pending work for RunPrivacyWork). Deactivate/activate change the shop's state and return a
  // record with id 0. NotFound when action.customer_id names no customer.
  virtual Result<PrivacyRequestRecord> ApplyPrivacyAction(const PrivacyAction& action,
                                                          int64_t now_ms) {
    (void)action, (void)now_ms;
    return FailedPrecondition("this storage keeps no privacy requests");
  }
  // Everything held on one customer, as a JSON document; nullopt for an unknown customer.
  virtual Result<std::optional<std::string>> ExportCustomer(int64_t customer_id, int64_t now_ms) {
    (void)customer_id, (void)now_ms;
    return FailedPrecondition("this storage cannot export customers");
  }
  // Newest first, without exports; ids < before_id when before_id > 0.
  virtual Result<std::vector<PrivacyRequestRecord>> ListPrivacyRequests(int64_t before_id,
                                                                        size_t limit) {
    (void)before_id, (void)limit;
    return std::vector<PrivacyRequestRecord>{};
  }
  // One request, with its export.
  virtual Result<std::optional<PrivacyRequestRecord>> GetPrivacyRequest(int64_t id) {
    (void)id;
    return std::optional<PrivacyRequestRecord>{};
  }
  // One bounded step of pending privacy work (scrubbing inbox bodies after a redaction,
  // deleting a redacted shop's rows), each its own short transaction so that the writer is
  // never held for long. Returns true while work remains.
  virtual Result<bool> RunPrivacyWork(int64_t now_ms) {
    (void)now_ms;
    return false;
  }
  // Every shop with a recorded state (a shop never deactivated has none and is active).
  virtual Result<std::vector<ShopStateRecord>> ListShopStates() {
    return std::vector<ShopStateRecord>{};
  }
  // --- Events out (docs/events.md; sqlite_events_out.cc) ---

  // Which events to queue from now on: every ledger change, tier change and referral
  // conversion queues, in its own transaction, one event and one "event_out" outbox job per
  // enabled endpoint subscribed to its topic. Set before serving and again by every reload.
  virtual void SetEventsOutPolicy(const EventsOutPolicy& policy) { (void)policy; }
  // Queues a points.expiring event for every customer with open lots expiring within the
  // policy's warn_ms of now_ms: one per (customer, UTC day of expiry), ever, whatever the
  // repeats, restarts or concurrent runs. Idempotent.
  virtual Result<ExpiryWarningRunResult> QueueExpiryWarnings(int64_t now_ms) {
    (void)now_ms;
    return ExpiryWarningRunResult{};
  }
  virtual Result<std::optional<EventDeliveryRecord>> GetEventDelivery(int64_t job_id) {
    (void)job_id;
    return std::optional<EventDeliveryRecord>();
  }
  // A 2xx: the job is done and the delivery records the status. Idempotent.
  virtual Status CompleteEventJob(int64_t job_id, int http_status, int64_t now_ms) {
    (void)job_id, (void)http_status, (void)now_ms;
    return Internal("events out are not supported by this storage");
  }
  // A permanent refusal (4xx other than 408 and 429, 3xx): the job fails with the reason;
  // POST /api/v1/jobs/{id}/retry sends it again. http_status 0 when there was no answer.
  virtual Status FailEventJob(int64_t job_id, int http_status, const std::string& error,
                              int64_t now_ms) {
    (void)job_id, (void)http_status, (void)error, (void)now_ms;
    return Internal("events out are not supported by this storage");
  }
  // Records the HTTP status of an attempt that will be retried (RescheduleJob keeps the error).
  virtual Status NoteEventResponse(int64_t job_id, int http_status, int64_t now_ms) {
    (void)job_id, (void)http_status, (void)now_ms;
    return Status::Ok();
  }
  // Newest first; filters optional (status; endpoint id empty: all); ids < before_id.
  virtual Result<std::vector<EventDeliveryRecord>> ListEventDeliveries(
      std::optional<JobStatus> status, const std::string& endpoint_id, int64_t before_id,
      size_t limit) {
    (void)status, (void)endpoint_id, (void)before_id, (void)limit;
    return std::vector<EventDeliveryRecord>();
  }
  // --- end events out ---

  // --- Shared membership (sqlite_members.cc; docs/storage.md, member_links) ---
  // Not pure: a storage without shared membership (a test double) answers that every customer
  // is a member of one.

  // The member `customer_id` belongs to (customer_id may name any of its accounts) with every
  // account; nullopt for an unknown customer.
  virtual Result<std::optional<MembershipRecord>> GetMembership(int64_t customer_id) {
    Result<std::optional<CustomerRecord>> customer = GetCustomer(customer_id);
    if (!customer.ok()) return customer.status();
    if (!customer->has_value()) return std::optional<MembershipRecord>();
    return std::optional<MembershipRecord>(MembershipRecord{customer_id, {std::move(**customer)}});
  }
  // --- end shared membership ---

  // --- Reports (sqlite_reports.cc; docs/api.md, "Reports") ---
  // Each read runs on a reader connection in one short read transaction.

  // One page of the customer manager report, newest customer first.
  virtual Result<std::vector<CustomerReportRow>> CustomerReport(
      const CustomerReportQuery& query) = 0;
  // Outstanding points, expiring buckets and the points ledger per month.
  virtual Result<PointsLiability> LiabilityReport(const LiabilityQuery& query) = 0;
  // Customers per tier level now, and tier movement per month of `months`.
  virtual Result<TierFigures> TierReport(const std::vector<ReportMonth>& months) = 0;
  // The customer's tier changes, newest first (tier_changes).
  virtual Result<std::vector<TierChangeRecord>> ListTierChanges(int64_t customer_id,
                                                                size_t limit) = 0;
};

}  // namespace loyaltyd
