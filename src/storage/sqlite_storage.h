// SqliteStorage: the embedded default implementation of Storage, on one SQLite file.
//
// Durability: WAL journal with synchronous=FULL, so a committed transaction survives power loss;
// callers acknowledge a webhook only after AppendToInbox returned. Throughput comes from
// batching (the group committer hands over many deliveries per transaction), not from relaxing
// synchronous.
//
// Connections: one write connection, guarded by write_mu_, shared by every writer so writers
// queue on a mutex instead of spinning in SQLite's busy handler; and a small pool of read
// connections for the admin API, which WAL lets run alongside the writer. Each read leases a
// reader for its call (ReadLease), except on a thread holding a pinned snapshot
// (PinReadSnapshot): that thread's reads all use the reader it pinned, in one read transaction,
// recorded in a thread_local of sqlite_storage.cc that only its own thread touches.
//
// Checkpoints: SQLite's automatic WAL checkpoint would run inside a writer's COMMIT, copying the
// WAL into the database file and fsyncing it while every webhook of that batch waits. Instead a
// checkpointer thread, woken when the WAL passes kCheckpointPages, runs PASSIVE checkpoints on
// its own connection; they never block the writer.
// Thread-safety: all public methods are thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "storage/storage.h"

struct sqlite3;

namespace loyaltyd {

class SqliteStorage final : public Storage {
 public:
  // Opens (creating if needed, with parent directories) and migrates the database.
  // `cache_mb`: SQLite's page cache of the writer, MiB (storage.sqlite.cache_mb); each reader
  // gets a quarter of it.
  static constexpr int kDefaultCacheMb = 64;
  // WAL size that wakes the checkpointer thread, in bytes (so that a database with larger pages
  // is checkpointed as often). 64 MiB (the WAL's journal_size_limit is twice that) rather than
  // SQLite's 1000 pages (4 MB): each checkpoint writes the pages the WAL holds into the database
  // file and fsyncs it, and on a large store those are index leaves scattered over gigabytes; with
  // 16 times fewer checkpoints a leaf that several batches dirtied is written back once, not once
  // each. Ingest, alternating runs of one build (2026-11-26): 10^5 customers and 10^7 ledger
  // entries 3,346 and 3,553 requests/s at 4 MB, 4,269 and 3,828 at 64 MiB; 10^6 customers
  // 3,881 and 3,951 against 4,480 and 3,749; empty 5,179 against 5,450 (bench/README.md,
  // "Scale"). The cost: up to 64 MiB more WAL on disk, replayed at start after a crash.
  static constexpr int64_t kCheckpointWalBytes = int64_t{64} << 20;
  static Result<std::unique_ptr<SqliteStorage>> Open(const std::string& path,
                                                     int read_connections = 4,
                                                     int cache_mb = kDefaultCacheMb);
  ~SqliteStorage() override;

  StorageWriteHealth CheckWritable() override;
  // Leases one reader for the pin's life and opens a read transaction on it (BEGIN; the
  // snapshot is taken by the first read): this thread's reads use that reader instead of taking
  // one from the pool per call.
  Result<std::unique_ptr<ReadSnapshot>> PinReadSnapshot() override;

  SqliteStorage(const SqliteStorage&) = delete;
  SqliteStorage& operator=(const SqliteStorage&) = delete;

  Result<std::vector<InboxAppendOutcome>> AppendToInbox(
      const std::vector<NewInboxEvent>& batch) override;
  Result<std::vector<InboxEvent>> LoadPendingEvents(int64_t after_id, size_t limit) override;
  Status CommitEventOutcomes(const std::vector<EventOutcome>& outcomes, int64_t now_ms) override;

  Result<std::vector<CustomerRecord>> FindCustomersByEmail(
      const std::string& email_normalised) override;
  Result<std::optional<CustomerRecord>> GetCustomer(int64_t id) override;
  Result<std::vector<LedgerEntryRecord>> ListLedger(int64_t customer_id, int64_t before_id,
                                                    size_t limit) override;
  Result<std::vector<InboxEvent>> ListEvents(std::optional<EventStatus> status, int64_t before_id,
                                             size_t limit) override;
  Result<InboxCounts> CountInbox() override;

  Result<CreateRedemptionResult> CreateRedemption(const NewRedemption& redemption,
                                                  int64_t now_ms) override;
  Result<std::optional<RedemptionRecord>> GetRedemption(int64_t id) override;
  Result<std::vector<RedemptionRecord>> ListRedemptions(int64_t customer_id, int64_t before_id,
                                                        size_t limit) override;
  Result<std::vector<OutboxJob>> LoadDueJobs(int64_t now_ms, size_t limit) override;
  Result<int> BeginJobAttempt(int64_t job_id, int64_t lease_until_ms, int64_t now_ms) override;
  Status RescheduleJob(int64_t job_id, int64_t next_attempt_at_ms, const std::string& error,
                       int64_t now_ms) override;
  Status AbandonJob(int64_t job_id, const std::string& error, int64_t now_ms) override;
  Status CompleteRewardJob(int64_t job_id, const std::string& platform_reward_id,
                           const std::string& code, int64_t now_ms) override;
  Status FailRewardJob(int64_t job_id, const std::string& reason, int64_t now_ms) override;
  Status RetryJob(int64_t job_id, int64_t now_ms) override;
  Result<std::optional<OutboxJob>> GetJob(int64_t id) override;
  Result<std::vector<OutboxJob>> ListJobs(std::optional<JobStatus> status, int64_t before_id,
                                          size_t limit) override;

  // Reconciliation (sqlite_reconcile.cc).
  Result<OrderLedgerFacts> GetOrderLedgerFacts(const std::string& shop_id,
                                               const std::string& platform_order_id) override;
  Result<std::optional<int64_t>> GetReconcileMark(const std::string& shop_id) override;
  Status SetReconcileMark(const std::string& shop_id, int64_t high_water_ms,
                          int64_t now_ms) override;

  // Privacy (sqlite_privacy.cc).
  Result<PrivacyRequestRecord> ApplyPrivacyAction(const PrivacyAction& action,
                                                  int64_t now_ms) override;
  Result<std::optional<std::string>> ExportCustomer(int64_t customer_id, int64_t now_ms) override;
  Result<std::vector<PrivacyRequestRecord>> ListPrivacyRequests(int64_t before_id,
                                                                size_t limit) override;
  Result<std::optional<PrivacyRequestRecord>> GetPrivacyRequest(int64_t id) override;
  Result<bool> RunPrivacyWork(int64_t now_ms) override;
  Result<std::vector<ShopStateRecord>> ListShopStates() override;
  // The tables the privacy code knows how to export, redact and delete, and those it leaves
  // alone on purpose; a test compares them with the schema so that a new table is classified.
  static std::vector<std::string> PrivacyKnownTables();

  // VIP tiers (sqlite_tiers.cc).
  Result<TierStanding> GetCustomerTier(int64_t customer_id) override;
  Result<TierFacts> LoadTierFacts(int64_t customer_id, int64_t window_start_ms,
                                  int64_t as_of_ms) override;
  Result<int64_t> ReevaluateTiers(const TierPolicy& policy, int64_t now_ms) override;
  Result<std::optional<TagUpdate>> GetTagUpdate(int64_t job_id) override;
  Status CompleteTagJob(int64_t job_id, int64_t now_ms) override;
  // Point lots, expiry, pending awards (sqlite_lots.cc).
  void SetPointsPolicy(const PointsPolicy& policy) override;
  Result<ExpiryRunResult> ExpirePoints(int64_t now_ms) override;
  Result<ReleaseRunResult> ReleasePendingPoints(int64_t now_ms) override;
  Result<std::vector<PointLotRecord>> ListLots(int64_t customer_id, bool open_only,
                                               int64_t before_id, size_t limit) override;
  Result<std::vector<PendingAwardRecord>> ListPendingAwards(int64_t customer_id,
                                                            size_t limit) override;
  Result<PointsOutlook> GetPointsOutlook(int64_t customer_id, int64_t horizon_ms) override;
  // sqlite_actions.cc
  Result<RecordActionResult> RecordAction(const NewActionRequest& request, int64_t now_ms) override;
  Result<CreditPayoutResult> CreateCreditPayout(const NewCreditPayout& payout,
                                                int64_t now_ms) override;
  Result<std::vector<CreditEntryRecord>> ListCreditEntries(int64_t customer_id, int64_t before_id,
                                                           size_t limit) override;
  // Referrals (sqlite_referrals.cc).
  Result<std::string> GetOrCreateReferralCode(int64_t customer_id, int64_t now_ms) override;
  Result<std::optional<int64_t>> FindReferrerByCode(const std::string& code) override;
  Status RecordReferralClick(int64_t referrer_customer_id, int64_t now_ms) override;
  Result<CreateReferralResult> CreateReferral(const NewReferral& referral,
                                              const ReferralPolicy& policy,
                                              int64_t now_ms) override;
  Result<std::vector<ReferralRecord>> ListReferrals(int64_t referrer_customer_id, int64_t before_id,
                                                    size_t limit) override;
  Result<std::optional<ReferralRecord>> GetReferral(int64_t id) override;
  Result<std::vector<ReferralReportRow>> ReferralReport() override;
  Result<ReferralRunResult> ReleaseReferralRewards(const ReferralPolicy& policy,
                                                   int64_t now_ms) override;
  // Customer tools (sqlite_customers.cc).
  Result<CustomerSearchPage> SearchCustomers(const CustomerSearch& search) override;
  Result<std::optional<std::string>> FindReferralCode(int64_t customer_id) override;
  Result<AdjustmentResult> CreateAdjustment(const NewAdjustment& adjustment,
                                            int64_t now_ms) override;
  Result<std::vector<OpeningBalanceOutcome>> ImportOpeningBalances(
      const std::vector<OpeningBalanceRow>& rows, int64_t now_ms) override;
  // The SQL SearchCustomers runs, for tests that check its query plan uses an index.
  static std::string CustomerSearchSql(const CustomerSearch& search);
  // Events out (sqlite_events_out.cc).
  void SetEventsOutPolicy(const EventsOutPolicy& policy) override;
  Result<ExpiryWarningRunResult> QueueExpiryWarnings(int64_t now_ms) override;
  Result<std::optional<EventDeliveryRecord>> GetEventDelivery(int64_t job_id) override;
  Status CompleteEventJob(int64_t job_id, int http_status, int64_t now_ms) override;
  Status FailEventJob(int64_t job_id, int http_status, const std::string& error,
                      int64_t now_ms) override;
  Status NoteEventResponse(int64_t job_id, int http_status, int64_t now_ms) override;
  Result<std::vector<EventDeliveryRecord>> ListEventDeliveries(std::optional<JobStatus> status,
                                                               const std::string& endpoint_id,
                                                               int64_t before_id,
                                                               size_t limit) override;
  // Reports (sqlite_reports.cc).
  Result<std::vector<CustomerReportRow>> CustomerReport(const CustomerReportQuery& query) override;
  Result<PointsLiability> LiabilityReport(const LiabilityQuery& query) override;
  Result<TierFigures> TierReport(const std::vector<ReportMonth>& months) override;
  Result<std::vector<TierChangeRecord>> ListTierChanges(int64_t customer_id, size_t limit) override;
  // Shared membership (sqlite_members.cc).
  Result<std::optional<MembershipRecord>> GetMembership(int64_t customer_id) override;

 private:
  class ReadLease;
  class PinnedSnapshot;
  SqliteStorage() = default;

 public:
  class StatementCache;  // defined in the .cc; public so that its helpers there can name it

 private:
  // One change to a customer's points, for PostPoints. Zero ids are written as NULL.
  struct Posting {
    int64_t customer_id = 0;
    int64_t order_id = 0;
    int64_t redemption_id = 0;
    int64_t source_event_id = 0;
    std::string rule_id;
    std::string kind;        // earn, redeem, refund, clawback, ...
    std::string refund_key;  // clawback: the refund it belongs to
    std::string once_key;    // non-empty: at most one entry with this key per customer ever
    int64_t points = 0;      // signed
    std::string description;
    // When the points count from (a lot's age; the customer's last activity): the event's
    // received_at_ms for webhook-caused postings, so that a replay makes the same lots.
    // 0: now_ms.
    int64_t effective_at_ms = 0;
    // Negative postings: take the points from this lot only (an "expire" entry); 0: from the
    // customer's lots, oldest expiry first (a clawback first from its own order's lots).
    int64_t from_lot_id = 0;
    // Shared membership: post to customer_id itself even when it is an account linked to
    // another member (a merge's "merge_out" entry); false: to its member (sqlite_members.cc).
    bool exact_customer = false;
  };
  // Under write_mu_, inside the caller's transaction: the one place a balance changes. Writes
  // the ledger entry with the balance after it and updates the customer's balance; does
  // nothing and returns false when one of the ledger's unique keys says it was posted before
  // (a redelivery, a second first-order bonus). sqlite_ledger.cc.
  // Every positive posting also makes a point lot (paying any debt first) and every negative
  // one takes from the lots (point_lots), so the open lots always sum to max(balance, 0).
  Result<bool> PostPoints(const Posting& posting, int64_t now_ms);
  // Under write_mu_, inside PostPoints (sqlite_lots.cc): the lot side of a posting.
  Status CreditLot(const Posting& posting, int64_t entry_id, int64_t balance_before,
                   int64_t now_ms);
  Status DebitLots(const Posting& posting, int64_t now_ms);
  // Under write_mu_, inside ApplyOutcome's savepoint (sqlite_lots.cc): records the outcome's
  // points as pending awards; voids the order's pending awards when it is cancelled or fully
  // refunded.
  // `points`: the outcome's earn changes for the customer's tier (ApplyOutcome picks them).
  Status RecordPendingAwards(const EventOutcome& outcome, const std::vector<PointsChange>& points,
                             int64_t customer_id, int64_t order_id);
  Status VoidPendingAwards(int64_t order_id, int64_t event_id, int64_t now_ms);
  // One batch of ExpirePoints; the number of lots expired.
  Result<int64_t> ExpireBatch(int64_t now_ms, ExpiryRunResult& result);
  // Under write_mu_: the customer's points balance; NotFound for an unknown customer.
  Result<int64_t> PointsBalanceLocked(int64_t customer_id);
  Status ApplyOutcome(const EventOutcome& outcome, int64_t now_ms);
  // The balances an order's refunds take back from, each with its own ledger and its own
  // record of what each refund took (order_refunds).
  enum class Book { kPoints, kCredit };
  // Under write_mu_, inside ApplyOutcome's savepoint: writes the clawbacks that the order's
  // recorded refunds owe and have not taken yet (docs/storage.md, order_refunds), from points
  // and from store credit. effective_at_ms: the causing event's received_at_ms
  // (Posting::effective_at_ms).
  Status ApplyClawbacks(int64_t order_id, int64_t event_id, bool allow_negative_balance,
                        int64_t effective_at_ms, int64_t now_ms);
  // The same for one book: one formula, one shortfall rule, whichever balance it is.
  Status ApplyBookClawbacks(Book book, int64_t order_id, int64_t event_id,
                            bool allow_negative_balance, int64_t effective_at_ms, int64_t now_ms);
  // VIP tiers, under write_mu_ inside ApplyOutcome's savepoint (sqlite_tiers.cc): records the
  // tier inputs the outcome carries (paid order, memberships, platform tags) and returns the
  // customer's level as of outcome.received_at_ms before them, for points_by_tier.
  Result<std::string> RecordTierInputs(const EventOutcome& outcome, int64_t customer_id,
                                       int64_t order_id, int64_t now_ms);
  // Evaluates the outcome's customer (or its order's) after the outcome's changes.
  Result<bool> EvaluateTierOfOutcome(const EventOutcome& outcome, int64_t customer_id,
                                     int64_t order_id, int64_t now_ms);
  // Evaluates the customer as of as_of_ms and writes a change: standing, "tier" ledger entry,
  // update_tags job. Returns whether the tier changed.
  Result<bool> EvaluateTierLocked(const TierPolicy& policy, int64_t customer_id, int64_t as_of_ms,
                                  int64_t source_event_id, int64_t now_ms);
  Result<TierFacts> LoadTierFactsOn(sqlite3* db, int64_t customer_id, int64_t window_start_ms,
                                    int64_t as_of_ms);
  Result<TierStanding> TierStandingOn(sqlite3* db, int64_t customer_id);
  // The clawback formula's target (docs/storage.md, order_refunds): what an order that earned
  // `earned` on `eligible` spend has given back once `refunded` of it was refunded (`rest`: a
  // cancellation or full refund was recorded). Pure; shared by ApplyBookClawbacks and the
  // pending-award outlook so that both say the same net.
  static int64_t ClawbackTarget(int64_t earned, int64_t eligible, int64_t refunded, bool rest);

  // --- Store credit (sqlite_credit.cc) ---
  // One change to a customer's store credit, for PostCredit. Zero ids are written as NULL.
  struct CreditPosting {
    int64_t customer_id = 0;
    int64_t order_id = 0;
    int64_t payout_id = 0;  // the redemption that pays the credit out
    int64_t source_event_id = 0;
    std::string rule_id;
    std::string kind;          // earn, clawback, payout, payout_refund
    std::string refund_key;    // clawback: the refund it belongs to
    int64_t amount_minor = 0;  // signed
    std::string currency;
    std::string description;
    bool exact_customer = false;  // as Posting::exact_customer
  };
  // Under write_mu_, inside the caller's transaction: the one place a credit balance changes.
  // Writes the credit entry with the balance after it and updates the customer's credit
  // balance; does nothing and returns false when one of the credit ledger's unique keys says
  // it was posted before.
  Result<bool> PostCredit(const CreditPosting& posting, int64_t now_ms);
  // Under write_mu_: the customer's credit balance; NotFound for an unknown customer.
  Result<int64_t> CreditBalanceLocked(int64_t customer_id);
  // Under write_mu_, inside FailRewardJob's transaction: returns a failed payout's credit.
  Status RefundCreditPayoutLocked(int64_t payout_id, const std::string& reason, int64_t now_ms);
  // Under write_mu_: the redemption the query finds (?1 = a, ?2 = *b when b is given).
  Result<std::optional<RedemptionRecord>> FindRedemptionLocked(const char* sql, int64_t a,
                                                               const std::string* b);
  Result<std::optional<RedemptionRecord>> RedemptionByKeyLocked(int64_t customer_id,
                                                                const std::string& key);
  Result<std::optional<RedemptionRecord>> RedemptionByIdLocked(int64_t id);

  // --- Referrals, under write_mu_ inside the caller's transaction (sqlite_referrals.cc) ---
  // Remembers the outcome's identity keys for the customer.
  Status RecordIdentityKeys(const IdentityKeys& keys, int64_t customer_id);
  // Attributes a paid order to a referrer (once per order) and judges the referral.
  Status ApplyReferralOrder(const EventOutcome& outcome, int64_t customer_id, int64_t order_id,
                            int64_t now_ms);
  // A cancellation or full refund voids the order's referral while it is pending (held).
  Status VoidReferralOfOrder(int64_t order_id, int64_t now_ms);
  // Marks the referral converted and grants the advocate's reward and any milestone reached.
  Status ConvertReferralLocked(const ReferralPolicy& policy, int64_t referral_id,
                               int64_t effective_at_ms, int64_t now_ms);
  // Grants one referral reward: points (once per customer by `key`) or a store reward (a
  // redemption keyed by `key` and its issue_reward job). Returns the redemption id (0: points).
  Result<int64_t> GrantReferralRewardLocked(const ReferralRewardTerms& terms, int64_t customer_id,
                                            const std::string& shop_id, const std::string& key,
                                            const std::string& description, bool restrict,
                                            int64_t source_event_id, int64_t effective_at_ms,
                                            int64_t now_ms);
  // The reasons the guards give against referring `friend_key` to `referrer_id`; empty: none.
  Result<std::vector<std::string>> ReferralGuardReasons(
      const ReferralPolicy& policy, int64_t referral_id, int64_t referrer_id,
      int64_t friend_customer_id, const std::string& friend_email, const IdentityKeys& friend_keys,
      int64_t order_id, int64_t order_created_ms, bool check_daily_cap, int64_t now_ms);
  Result<std::optional<ReferralRecord>> ReferralByIdLocked(int64_t id);
  // Customer tools, under write_mu_ inside ImportOpeningBalances' transaction.
  Result<OpeningBalanceOutcome> ImportOpeningBalanceLocked(const OpeningBalanceRow& row,
                                                           int64_t now_ms);
  // --- Reports, under write_mu_ inside EvaluateTierLocked's transaction (sqlite_reports.cc) ---
  // Records a tier change in tier_changes, its direction from the policy's level order.
  Status RecordTierChangeLocked(const TierPolicy& policy, int64_t customer_id,
                                const std::string& from_level_id, const std::string& to_level_id,
                                int64_t changed_at_ms, int64_t ledger_entry_id,
                                int64_t source_event_id, int64_t now_ms);
  Status MarkEvent(int64_t event_id, EventStatus status, const std::string& reason, int64_t now_ms);

  // --- Shared membership, under write_mu_ (sqlite_members.cc; docs/storage.md, member_links) ---
  // The member_links table; run by Open after the main schema.
  static const char* MembersSchema();
  // Sets members_linked_ from the database (Open).
  Status LoadMembersLinkedLocked();
  // Inside ApplyOutcome's savepoint, after the account's row is upserted: the customers row
  // whose books the event changes. The account's own id unless it is (or now becomes, by its
  // verified email: who.link_by_email) an account of another member; becoming one moves its
  // books to the member in this transaction ("merge_out"/"merge_in" entries), once.
  Result<int64_t> ResolveMemberLocked(const CustomerIdentity& who, int64_t account_id,
                                      int64_t source_event_id, int64_t now_ms);
  // The member an account is linked to; the account's own id when it is linked to no other.
  Result<int64_t> LinkedMemberLocked(int64_t customer_id);
  Status MergeAccountLocked(int64_t account_id, int64_t member_id, int64_t source_event_id,
                            int64_t now_ms);
  // Privacy (sqlite_privacy.cc calls these): a redacted account's link keeps its member but
  // forgets the email; an account about to be deleted (shop redaction) leaves its member, and
  // a member about to be deleted first hands its books to its oldest other account, which
  // becomes the member of the rest.
  Status RedactMemberLinkLocked(int64_t customer_id);
  Status UnlinkMemberForDeletionLocked(int64_t customer_id, int64_t now_ms);
  // Whether any account is linked to a member other than itself: until then PostPoints and
  // PostCredit skip the lookup (single-store configs pay nothing).
  std::atomic<bool> members_linked_{false};

  // --- Privacy, under write_mu_ (sqlite_privacy.cc) ---
  // The privacy tables; run by Open after the main schema.
  static const char* PrivacySchema();
  // Applies the action inside the caller's transaction (an event's savepoint, or the admin
  // API's own transaction); source_event_id 0 for the API.
  Result<PrivacyRequestRecord> ApplyPrivacyLocked(const PrivacyAction& action,
                                                  int64_t source_event_id, int64_t now_ms);
  Result<std::vector<int64_t>> FindPrivacyCustomersLocked(const PrivacyAction& action);
  Status RedactCustomerLocked(int64_t customer_id, int64_t request_id, int64_t now_ms);
  // Removes every row that depends on the customer, then the customer (shop redaction).
  Status DeleteCustomerLocked(int64_t customer_id);
  // One step of a pending request; true when the request has more to do.
  Result<bool> ScrubBodiesStep(int64_t request_id, const std::string& shop_id, int64_t cursor,
                               int64_t now_ms);
  Result<bool> ShopRedactStep(int64_t request_id, const std::string& shop_id,
                              const std::string& phase, int64_t source_event_id, int64_t now_ms);
  // PRAGMA wal_checkpoint(TRUNCATE) after erasing: the WAL still holds the pages as they were
  // before; false when readers kept it from completing (retried by the next RunPrivacyWork).
  bool TruncateWalLocked();
  bool wal_scrub_wanted_ = false;  // GUARDED_BY(write_mu_)
  // --- Events out, under write_mu_ inside the caller's transaction (sqlite_events_out.cc) ---
  // Queues one event (once per cause_key) and a delivery job per endpoint that wants `topic`;
  // `data_json` is the topic's data object. Does nothing when no endpoint wants the topic.
  Status QueueEventLocked(const std::string& topic, const std::string& cause_key,
                          int64_t customer_id, const std::string& data_json, int64_t now_ms);
  // From PostPoints: points.earned (earn, action, referral) or points.redeemed (redeem).
  Status EmitLedgerEventLocked(const Posting& posting, int64_t entry_id, int64_t balance_after,
                               int64_t now_ms);
  // From EvaluateTierLocked: tier.changed.
  Status EmitTierEventLocked(int64_t customer_id, const std::string& from_level,
                             const std::string& to_level, const std::string& reason,
                             int64_t entry_id, int64_t now_ms);
  // From ConvertReferralLocked, once the advocate's reward is granted: referral.converted.
  Status EmitReferralEventLocked(int64_t referral_id, int64_t now_ms);
  // Under write_mu_: the action request recorded under (customer, idempotency key), if any.
  Result<std::optional<ActionRequestRecord>> FindActionRequestLocked(
      int64_t customer_id, const std::string& idempotency_key);
  // BEGIN IMMEDIATE ... COMMIT (sqlite_internal::InTransaction) that also records, for the
  // writer, a failure for want of the database (CheckWritable). Being a member, it hides the
  // namespace-level InTransaction inside SqliteStorage's member functions, so that every
  // writer transaction of the sqlite_*.cc files is counted without naming it. Defined in
  // sqlite_statement.h. Under write_mu_ when db is writer_.
  template <typename Fn>
  Status InTransaction(sqlite3* db, Fn&& body);
  void NoteWriteOutcome(const Status& status);
  // A reader from the pool, or the one this thread has pinned (PinReadSnapshot), which
  // ReleaseReader then keeps.
  sqlite3* AcquireReader();
  void ReleaseReader(sqlite3* db);
  // The prepared-statement cache of a connection the caller holds: the writer's (under
  // write_mu_) or a leased reader's. Functions that run on either take the cache this way.
  StatementCache& StatementsFor(sqlite3* db);
  void CheckpointLoop();
  static int OnWalCommit(void* self, sqlite3* db, const char* name, int pages);

  std::string path_;

  std::mutex write_mu_;
  sqlite3* writer_ = nullptr;                          // GUARDED_BY(write_mu_)
  std::unique_ptr<StatementCache> writer_statements_;  // GUARDED_BY(write_mu_)
  PointsPolicy points_policy_;                         // GUARDED_BY(write_mu_)
  EventsOutPolicy events_out_;                         // GUARDED_BY(write_mu_)

  // Write health (CheckWritable): set by a writer transaction failing Unavailable, cleared by
  // a commit of the writer that wrote to the WAL (OnWalCommit).
  std::atomic<bool> write_failing_{false};
  std::mutex health_mu_;
  std::string write_error_;                           // GUARDED_BY(health_mu_)
  std::chrono::steady_clock::time_point last_probe_;  // GUARDED_BY(health_mu_)

  std::mutex read_mu_;
  std::condition_variable read_cv_;
  std::vector<sqlite3*> idle_readers_;  // GUARDED_BY(read_mu_)
  std::vector<sqlite3*> all_readers_;   // fixed after Open
  // Parallel to all_readers_, fixed after Open; each used only by its reader's lease holder.
  std::vector<std::unique_ptr<StatementCache>> reader_statements_;

  std::mutex checkpoint_mu_;
  std::condition_variable checkpoint_cv_;
  bool checkpoint_wanted_ = false;    // GUARDED_BY(checkpoint_mu_)
  bool checkpoint_stopping_ = false;  // GUARDED_BY(checkpoint_mu_)
  sqlite3* checkpointer_ = nullptr;   // used only by checkpoint_thread_
  // Held while a checkpoint runs: the checkpoint thread's, or TruncateWalLocked's, which would
  // otherwise fail SQLITE_BUSY whenever the thread happened to be checkpointing (a privacy
  // test caught the WAL keeping erased pages that way). Taken after write_mu_, never before.
  std::mutex checkpoint_run_mu_;
  int checkpoint_pages_ = 1000;  // WAL frames that wake it; fixed after Open
  std::thread checkpoint_thread_;
};

}  // namespace loyaltyd
