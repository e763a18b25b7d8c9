// The merchant's configuration, loaded from JSON and validated in full before anything uses it.
//
// Validation follows one table of keys, types, defaults and ranges (config.cc). Every problem
// is reported with its JSON path and the reason ("program.earn[0].per: must be a positive
// amount", "shops[0]: unknown key 'secret', did you mean 'webhook_secret'?"); unknown keys and
// out-of-range values are rejected, never clamped. Components receive a Config that is already
// valid and need not re-check it.
// Thread-safety: a loaded Config is an immutable value; the running daemon shares it through a
// ConfigSource (config_source.h), whose snapshots a reload replaces as a whole.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/calendar.h"
#include "core/model.h"
#include "core/status.h"

namespace loyaltyd {

struct ServerConfig {
  std::string host = "127.0.0.1";
  int port = 8080;
  int64_t max_body_bytes = 1048576;
  // Worker threads serving connections, started as connections need them. cpp-httplib holds one
  // thread per keep-alive connection, so this is also the number of connections served at once.
  int threads = 1024;
  int keep_alive_max_requests = 10000;
  int keep_alive_timeout_seconds = 5;
  int read_timeout_seconds = 5;
  // A request (line, headers, body) must arrive whole within this long of its first byte.
  int request_timeout_seconds = 30;
  int listen_backlog = 1024;

  bool operator==(const ServerConfig&) const = default;
};

struct StorageConfig {
  std::string sqlite_path = "var/loyaltyd.db";
  // SQLite's page cache for the writer connection, MiB; each read connection gets a quarter.
  int sqlite_cache_mb = 64;
  // Largest number of webhooks committed in one transaction by the group committer.
  int group_commit_max_batch = 512;

  bool operator==(const StorageConfig&) const = default;
};

struct LoggingConfig {
  std::string level = "info";   // trace, debug, info, warn, error
  std::string format = "text";  // text | json

  bool operator==(const LoggingConfig&) const = default;
};

struct AdminConfig {
  std::string token;

  bool operator==(const AdminConfig&) const = default;
};

// Credentials and address of the platform's admin API, for writing rewards back.
//   Shopify:     access_token (X-Shopify-Access-Token), api_version ("2025-07").
//   WooCommerce: consumer_key and consumer_secret (HTTP basic auth over HTTPS).
// base_url defaults to https://<domain>; tests and the demo point it at a fake store.
struct ShopApiConfig {
  bool configured = false;  // false: the shop takes webhooks but rewards cannot be issued
  std::string base_url;     // scheme://host[:port], no trailing slash
  std::string access_token;
  std::string api_version = "2025-07";
  std::string consumer_key;
  std::string consumer_secret;
  int timeout_seconds = 10;

  bool operator==(const ShopApiConfig&) const = default;
};

struct ShopConfig {
  std::string id;
  Platform platform = Platform::kShopify;
  std::string domain;  // e.g. demo.myshopify.com
  // The storefront's public address, scheme://host[/path] without a trailing slash, for
  // referral share links (https://STORE/?ref=CODE). Default https://<domain>; merchants with
  // their own domain set it (a Shopify shop's domain is its *.myshopify.com name).
  std::string store_url;
  // Accepts both while a secret rotation is under way (Shopify may sign with the old secret
  // for up to an hour). previous_webhook_secret is optional.
  std::string webhook_secret;
  std::string previous_webhook_secret;
  ShopApiConfig api;
  // WooCommerce: the order statuses at which an order earns points ("processing",
  // "completed"). An order earns once, at the first of these statuses it reaches.
  std::vector<std::string> earn_on_status = {"processing", "completed"};

  bool operator==(const ShopConfig&) const = default;
};

// kSpend: points per amount of eligible spend. kFirstOrder: a fixed bonus on the customer's
// first paid order loyaltyd processes (once ever per customer, enforced by storage). kAction:
// points for a non-purchase action reported through POST /api/v1/customers/{id}/actions.
// kCashback: a percentage of eligible spend paid in store credit (money in program.currency,
// its own balance and ledger), not in points.
enum class EarnRuleType { kSpend, kFirstOrder, kAction, kCashback };

// How often an action rule pays a customer: once ever, or up to max_per_period times in each
// calendar period (UTC) of the action's occurred_at.
enum class ActionLimit { kOnce, kPerPeriod };

// How a spend rule turns eligible spend into whole `per` units.
enum class EarnRounding {
  kFloor,    // down: 49.99 per 1.00 is 49 units
  kNearest,  // half up: 49.50 per 1.00 is 50 units, 49.49 is 49
};

struct EarnRule {
  std::string id;  // stable identifier, part of the ledger's once-only key; default the type
  EarnRuleType type = EarnRuleType::kSpend;
  int64_t points = 0;     // spend: points per `per`; first_order: the bonus
  int64_t per_minor = 0;  // spend: amount of eligible spend, in minor units of program.currency
  // Spend only. Lines matching any exclusion are not eligible spend for this rule. The lists
  // hold what order webhooks carry: product ids and SKUs match exactly, vendors without regard
  // to case (WooCommerce has no vendors). Product tags and collections are not in order
  // payloads, so the loader rejects exclusions by them rather than pretend to apply them.
  EarnRounding rounding = EarnRounding::kFloor;
  std::vector<std::string> exclude_product_ids = {};
  std::vector<std::string> exclude_skus = {};
  std::vector<std::string> exclude_vendors = {};
  int64_t minimum_order_minor = 0;   // 0: none; below it (after exclusions) the rule earns 0
  int64_t max_points_per_order = 0;  // 0: no cap
  // Cashback only (it also takes the exclusions and minimum_order above). The percentage in
  // basis points ("10" is 1000, "2.5" is 250; exact, at most 2 decimals, 1..10000), and a cap
  // on one order's credit in minor units of program.currency (0: none).
  int64_t percent_basis_points = 0;
  int64_t max_credit_per_order_minor = 0;
  // Action only. `action` is the action's name ("review", or a merchant's own name); at most
  // one rule per action. The limit is kept in storage with per-customer once keys
  // (rules/action_rules.h), so it holds across retries, restarts and concurrent requests.
  std::string action = {};
  ActionLimit limit = ActionLimit::kOnce;
  CalendarPeriod period = CalendarPeriod::kDay;  // kPerPeriod only
  int max_per_period = 1;                        // kPerPeriod only

  bool operator==(const EarnRule&) const = default;
};

// program.campaigns[]: extra points within a time window, either a multiplier on spend rules'
// points or a fixed bonus per order (rules/earn_rules.h says exactly how they apply).
struct CampaignConfig {
  std::string id;    // stable; a bonus campaign's ledger entries carry rule id "campaign:<id>"
  std::string name;  // shown in ledger descriptions; default the id
  // [starts_at, ends_at), tested against the order's created_at, so a replay decides the same.
  int64_t starts_at_ms = 0;
  int64_t ends_at_ms = 0;
  // Exactly one of the two is non-zero. 20000 basis points is "2x".
  int64_t multiplier_basis_points = 0;
  int64_t bonus_points = 0;
  // Empty: every customer. Otherwise only customers whose tier (EarnContext::tier_id) is listed.
  std::vector<std::string> tiers = {};
  // Empty (both): the whole order. Otherwise the multiplier applies to the spend on lines with
  // one of these product ids or SKUs only, and a bonus needs such a line in the order.
  std::vector<std::string> product_ids = {};
  std::vector<std::string> skus = {};

  bool operator==(const CampaignConfig&) const = default;
};

// One entry of the rewards catalogue (program.rewards): what a customer can spend points on.
struct RewardConfig {
  std::string id;    // stable; the redemption API names it
  std::string name;  // shown to the customer, e.g. "$5 off your next order"
  int64_t points = 0;
  RewardKind kind = RewardKind::kFixedDiscount;
  int64_t amount_minor = 0;         // fixed_discount, store_credit (program currency)
  int percentage = 0;               // percentage_discount, 1..100
  int64_t minimum_order_minor = 0;  // 0: none
  int expires_after_days = 0;       // 0: the code never expires
  std::string code_prefix = "LOYAL-";
  bool restrict_to_customer = true;

  bool operator==(const RewardConfig&) const = default;
};

// program.refunds: how refunds and cancellations take back points (docs/configuration.md).
struct RefundsConfig {
  // When a clawback exceeds the balance (the points were already spent): false takes what is
  // there and records the shortfall in the ledger entry; true lets the balance go negative.
  bool allow_negative_balance = false;

  bool operator==(const RefundsConfig&) const = default;
};

// --- VIP tiers (program.tiers; docs/configuration.md, "VIP tiers") ---

// What a tier threshold counts within the window.
enum class TierMetric {
  kSpend,         // net eligible spend of paid orders, minor units of program.currency
  kPointsEarned,  // points those orders earned, net of clawbacks
  kOrders,        // paid orders not cancelled or fully refunded
};
enum class TierWindowKind { kRolling, kCalendarYear };
enum class TierKeepKind { kDays, kUntilEndOfNextYear };

// Buying one of these products (or SKUs) grants the level for `days` from the order's payment.
struct TierMembership {
  std::vector<std::string> product_ids;
  std::vector<std::string> skus;
  int days = 0;

  bool operator==(const TierMembership&) const = default;
};

struct TierLevel {
  std::string id;    // stable: stored as the customer's tier
  std::string name;  // for ledger descriptions; default the id
  // Reached when the metric, within the window, is at least this: spend in minor units of
  // program.currency, points or orders as a count. Strictly increasing along `levels`.
  int64_t threshold = 0;
  int64_t multiplier_bp = 10000;  // earn multiplier in basis points: "1.25" is 12500
  std::vector<std::string> tags;  // customer tags written to the platform while in this level
  std::optional<TierMembership> membership;
  std::vector<std::string> customer_tags;  // a platform customer tag that grants this level

  bool operator==(const TierLevel&) const = default;
};

struct TiersConfig {
  bool enabled = false;  // program.tiers present
  TierMetric metric = TierMetric::kSpend;
  TierWindowKind window_kind = TierWindowKind::kRolling;
  int window_days = 365;  // rolling windows
  TierKeepKind keep_kind = TierKeepKind::kDays;
  int keep_days = 0;              // kDays: 0 lets a tier go at the first evaluation that misses
  std::vector<TierLevel> levels;  // lowest threshold first

  const TierLevel* FindLevel(std::string_view id) const;
  // Position in `levels`, or -1.
  int IndexOf(std::string_view id) const;

  bool operator==(const TiersConfig&) const = default;
};

// program.expiry: when points expire (docs/configuration.md). Absent: never.
struct ExpiryConfig {
  int lot_age_days = 0;     // 0: lots do not expire by age
  int inactivity_days = 0;  // 0: no expiry by inactivity
  // Events out: a points.expiring event this many days before a lot expires (docs/events.md).
  int warn_days = 7;

  bool operator==(const ExpiryConfig&) const = default;
};

// program.award: when an order's points are credited (docs/configuration.md).
enum class AwardOn { kPaid, kFulfilled };
struct AwardConfig {
  AwardOn on = AwardOn::kPaid;
  int hold_days = 0;  // points stay pending this long after the award point

  bool operator==(const AwardConfig&) const = default;
};

// --- Referrals (program.referrals; docs/configuration.md, "Referrals") ---

// What a referral reward gives: points in the ledger, or a reward created in the store through
// the outbox (a discount code or platform store credit), like a catalogue reward.
struct ReferralRewardConfig {
  std::string name;        // shown in the ledger and the API; default describes the reward
  bool is_points = false;  // kind "points"
  int64_t points = 0;
  RewardKind kind = RewardKind::kFixedDiscount;  // when !is_points
  int64_t amount_minor = 0;                      // fixed_discount, store_credit
  int percentage = 0;                            // percentage_discount
  int64_t minimum_order_minor = 0;               // codes: 0 none
  int expires_after_days = 0;                    // codes: 0 never
  std::string code_prefix = "REF-";

  bool operator==(const ReferralRewardConfig&) const = default;
};

// An extra reward for the advocate when their Nth referral converts.
struct ReferralMilestone {
  int referrals = 0;
  ReferralRewardConfig reward;

  bool operator==(const ReferralMilestone&) const = default;
};

// Fraud guards. Each failing guard is recorded as a reason on the rejected referral.
struct ReferralGuardsConfig {
  // Self-referral: a referrer can never refer their own customer record; these also compare
  // the friend with every email, shipping address and phone seen on the referrer's orders
  // (core/identity.h says how each is normalised).
  bool same_email = true;
  bool same_address = true;
  bool same_phone = true;
  // The friend has an earlier order in any connected store.
  bool new_friend_only = true;
  int max_referrals_per_day = 0;  // per referrer, UTC day; 0: no cap
  int max_advocate_rewards = 0;   // per referrer per period; 0: no cap
  CalendarPeriod advocate_rewards_period = CalendarPeriod::kMonth;

  bool operator==(const ReferralGuardsConfig&) const = default;
};

struct ReferralsConfig {
  bool enabled = false;  // program.referrals present
  // A self-identification (or a friend code's issue) attributes orders created within this
  // many days of it.
  int attribution_window_days = 30;
  // The query parameter of share links (?ref=CODE), also the note attribute (Shopify) and order
  // meta key (WooCommerce) a storefront sets to carry the code to the order.
  std::string parameter = "ref";
  int64_t minimum_order_minor = 0;  // the friend's first order total must be at least this
  int hold_days = 0;                // advocate rewards wait this long after the order is paid
  std::optional<ReferralRewardConfig> friend_reward;  // a discount kind only
  ReferralRewardConfig advocate_reward;
  std::vector<ReferralMilestone> milestones;  // ascending referrals
  ReferralGuardsConfig guards;

  bool operator==(const ReferralsConfig&) const = default;
};

// --- Shared membership (issue 7, "One customer across stores"; docs/configuration.md,
// "Several stores, one program") ---
// The shops whose customers share one membership: one balance, one ledger, one tier. A
// customer with the same VERIFIED email on two of these shops is one member (docs/storage.md,
// member_links). Shops not listed keep their own customers, as without the key.
struct SharingConfig {
  std::vector<std::string> shop_ids;  // program.shared_by; empty: nothing is shared
  // program.shared_trust_woocommerce_email: whether a WooCommerce registered account's email
  // counts as verified. WooCommerce verifies no email (its customer resource has no such
  // field), so by default its accounts never join a member; a merchant whose store proves
  // ownership (a password-setup link sent to the address, or a verification plugin) may say so.
  bool trust_woocommerce_email = false;

  bool Shares(std::string_view shop_id) const {
    for (const std::string& id : shop_ids) {
      if (id == shop_id) return true;
    }
    return false;
  }
  bool operator==(const SharingConfig&) const = default;
};
// --- end shared membership ---

struct ProgramConfig {
  std::string currency = "USD";
  int currency_exponent = 2;
  std::vector<EarnRule> earn;
  std::vector<RewardConfig> rewards;
  RefundsConfig refunds;
  TiersConfig tiers;
  ExpiryConfig expiry;
  AwardConfig award;
  std::vector<CampaignConfig> campaigns;
  ReferralsConfig referrals;
  // --- Shared membership (issue 7, "One customer across stores") ---
  SharingConfig sharing;
  // --- end shared membership ---

  const RewardConfig* FindReward(std::string_view id) const;
  // The action rule for an action name, or nullptr when no rule configures it.
  const EarnRule* FindActionRule(std::string_view action) const;

  bool operator==(const ProgramConfig&) const = default;
};

// The outbox worker: how platform calls are retried.
struct OutboxConfig {
  // Transient failures (timeouts, 5xx, 429) before the job is given up and shown as failed, its
  // points kept until POST /api/v1/jobs/{id}/retry. 300 at the default back-off (1 s doubling
  // to 5 min) is about 24 hours: a store's outage of a day loses no reward.
  int max_attempts = 300;
  int64_t initial_backoff_ms = 1000;
  int64_t max_backoff_ms = 300'000;
  int poll_interval_ms = 200;  // how often the worker looks for due jobs when idle

  bool operator==(const OutboxConfig&) const = default;
};

// reconcile: the periodic reconciliation of missed webhooks (webhooks/order_reconciler.h,
// docs/operations.md). Every shop with `api` credentials is reconciled.
struct ReconcileConfig {
  bool enabled = false;
  int interval_minutes = 60;  // between runs; the first run is at start
  // The first run (no high-water mark in storage yet) lists orders changed this far back;
  // later runs resume from the last complete run's start.
  int lookback_hours = 24;

  bool operator==(const ReconcileConfig&) const = default;
};

// --- Storefront (issue 7; docs/configuration.md, "storefront") ---
// Read-only customer tokens for a storefront widget (GET /api/v1/me...): HMAC-SHA256 over the
// customer id and expiry with token_secret. Absent block: no tokens are issued or accepted.
struct StorefrontConfig {
  bool enabled = false;  // the block is present
  std::string token_secret;
  int64_t token_ttl_seconds = 86400;
  // Origins a browser widget may call /api/v1/me from (CORS); "*" any; empty: none.
  std::vector<std::string> allowed_origins;

  bool operator==(const StorefrontConfig&) const = default;
};
// --- Events out (events_out[]; docs/events.md) ---
// The event topics an endpoint can subscribe to, in the order docs/events.md lists them.
inline constexpr const char* kEventTopics[] = {"points.earned", "points.redeemed", "tier.changed",
                                               "referral.converted", "points.expiring"};

// One merchant-configured receiver of signed event webhooks.
struct EventsOutEndpoint {
  std::string id;      // [a-z0-9_-]{1,64}: names its deliveries (GET /api/v1/events-out)
  std::string url;     // http(s)://host[:port][/path][?query]
  std::string secret;  // HMAC-SHA256 key, >= 16 characters; never logged
  std::vector<std::string> topics;
  bool enabled = true;  // false: no new events are queued for it
  int timeout_seconds = 5;

  bool Subscribes(std::string_view topic) const;
  bool operator==(const EventsOutEndpoint&) const = default;
};
// --- end events out ---

struct Config {
  ServerConfig server;
  StorageConfig storage;
  LoggingConfig logging;
  AdminConfig admin;
  std::vector<ShopConfig> shops;
  ProgramConfig program;
  OutboxConfig outbox;
  ReconcileConfig reconcile;
  StorefrontConfig storefront;                // issue 7
  std::vector<EventsOutEndpoint> events_out;  // events out (docs/events.md)
  const EventsOutEndpoint* FindEventsOutEndpoint(std::string_view id) const;

  // The shop whose domain matches (case-insensitively), or nullptr.
  const ShopConfig* FindShopByDomain(std::string_view platform_domain, Platform platform) const;
  const ShopConfig* FindShopById(std::string_view id) const;

  // Member-wise, so that a reload (SIGHUP) can tell what changed: every struct in a Config
  // defaults its operator== too (a new one must, or this one is deleted and the build says so).
  bool operator==(const Config&) const = default;
};

// One problem found in a configuration: where, and why.
struct ConfigProblem {
  std::string path;     // JSON path, e.g. "program.earn[0].per"
  std::string message;  // e.g. "must be a positive amount"
  std::string ToString() const { return path.empty() ? message : path + ": " + message; }
};

struct ConfigLoadResult {
  Config config;
  std::vector<ConfigProblem> problems;  // empty when config is valid
  bool ok() const { return problems.empty(); }
};

// Parses and validates JSON text. Collects every problem rather than stopping at the first.
ConfigLoadResult ParseConfig(std::string_view json_text);

// Reads the file and parses it. A missing or unreadable file is one problem with an empty path.
ConfigLoadResult LoadConfigFile(const std::string& path);

}  // namespace loyaltyd
