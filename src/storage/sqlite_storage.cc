#include "storage/sqlite_storage.h"

#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <limits>
#include <mutex>
#include <optional>
#include <system_error>
#include <unordered_map>

#include "core/money.h"
#include "storage/sqlite_statement.h"

namespace loyaltyd {

using sqlite_internal::Exec;
using sqlite_internal::ExecCached;
using sqlite_internal::InTransaction;
using sqlite_internal::OpenConnection;
using sqlite_internal::SqliteError;
using sqlite_internal::StepDone;
using sqlite_internal::Stmt;

extern const char* const kCustomerToolsSchema;  // sqlite_customers.cc

namespace {

// Schema version 1. Each table is described in docs/storage.md.
constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS inbox_events (
  id              INTEGER PRIMARY KEY,
  shop_id         TEXT NOT NULL,
  platform        TEXT NOT NULL,
  topic           TEXT NOT NULL,
  dedupe_key      TEXT NOT NULL UNIQUE,
  delivery_id     TEXT NOT NULL,
  received_at_ms  INTEGER NOT NULL,
  status          TEXT NOT NULL DEFAULT 'pending',
  status_reason   TEXT NOT NULL DEFAULT '',
  processed_at_ms INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS inbox_events_status ON inbox_events(status, id);
-- Bodies apart: SQLite rewrites a whole row on UPDATE, and a status change must not rewrite
-- kilobytes of body (nor read them through overflow pages to find the status).
CREATE TABLE IF NOT EXISTS inbox_bodies (
  event_id INTEGER PRIMARY KEY REFERENCES inbox_events(id),
  body     BLOB NOT NULL
);

CREATE TABLE IF NOT EXISTS customers (
  id                   INTEGER PRIMARY KEY,
  shop_id              TEXT NOT NULL,
  platform_customer_id TEXT,
  email                TEXT NOT NULL DEFAULT '',
  email_normalised     TEXT NOT NULL DEFAULT '',
  first_name           TEXT NOT NULL DEFAULT '',
  last_name            TEXT NOT NULL DEFAULT '',
  points_balance       INTEGER NOT NULL DEFAULT 0,
  created_at_ms        INTEGER NOT NULL,
  updated_at_ms        INTEGER NOT NULL,
  -- Store credit (cashback), minor units of the program currency; the sum of credit_entries.
  credit_balance_minor INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX IF NOT EXISTS customers_platform_id
  ON customers(shop_id, platform_customer_id);
CREATE UNIQUE INDEX IF NOT EXISTS customers_guest_email
  ON customers(shop_id, email_normalised) WHERE platform_customer_id IS NULL;
CREATE INDEX IF NOT EXISTS customers_email ON customers(email_normalised);

CREATE TABLE IF NOT EXISTS orders (
  id                INTEGER PRIMARY KEY,
  shop_id           TEXT NOT NULL,
  platform_order_id TEXT NOT NULL,
  customer_id       INTEGER REFERENCES customers(id),
  name              TEXT NOT NULL DEFAULT '',
  currency          TEXT NOT NULL,
  total_minor       INTEGER NOT NULL,
  eligible_minor    INTEGER NOT NULL,
  paid              INTEGER NOT NULL DEFAULT 0,
  created_at        TEXT NOT NULL DEFAULT '',
  taxes_included    INTEGER NOT NULL DEFAULT 0,
  updated_at_ms     INTEGER NOT NULL,
  UNIQUE (shop_id, platform_order_id)
);

-- Each refund (and one "full" row for a cancellation or full refund) of an order, recorded once
-- whatever the redeliveries and whether or not the order has earned yet; `applied` once its
-- clawback is decided, `clawback_points` its share (before any shortfall).
CREATE TABLE IF NOT EXISTS order_refunds (
  id                INTEGER PRIMARY KEY,
  order_id          INTEGER NOT NULL REFERENCES orders(id),
  refund_key        TEXT NOT NULL,
  merchandise_minor INTEGER NOT NULL,
  tax_minor         INTEGER NOT NULL,
  refunds_rest      INTEGER NOT NULL DEFAULT 0,
  applied           INTEGER NOT NULL DEFAULT 0,
  clawback_points   INTEGER NOT NULL DEFAULT 0,
  source_event_id   INTEGER REFERENCES inbox_events(id),
  created_at_ms     INTEGER NOT NULL,
  -- The same for store credit (cashback): applied once the order's credit earn is there.
  credit_applied        INTEGER NOT NULL DEFAULT 0,
  clawback_credit_minor INTEGER NOT NULL DEFAULT 0,
  UNIQUE (order_id, refund_key)
);

CREATE TABLE IF NOT EXISTS ledger_entries (
  id              INTEGER PRIMARY KEY,
  customer_id     INTEGER NOT NULL REFERENCES customers(id),
  order_id        INTEGER REFERENCES orders(id),
  rule_id         TEXT NOT NULL,
  kind            TEXT NOT NULL,
  -- "clawback" entries: the refund (order_refunds.refund_key) whose share they take back.
  refund_key      TEXT NOT NULL DEFAULT '',
  points          INTEGER NOT NULL,
  balance_after   INTEGER NOT NULL,
  description     TEXT NOT NULL,
  -- What caused the entry: a webhook (earn, clawback) or a redemption (redeem, refund).
  source_event_id INTEGER REFERENCES inbox_events(id),
  redemption_id   INTEGER REFERENCES redemptions(id),
  created_at_ms   INTEGER NOT NULL,
  -- Set for an award a customer gets once ever (the first-order bonus), NULL otherwise.
  once_key        TEXT,
  UNIQUE (order_id, rule_id, kind, refund_key),
  UNIQUE (redemption_id, kind)
);
CREATE INDEX IF NOT EXISTS ledger_entries_customer ON ledger_entries(customer_id, id);
CREATE UNIQUE INDEX IF NOT EXISTS ledger_entries_once
  ON ledger_entries(customer_id, once_key) WHERE once_key IS NOT NULL;

-- A customer's spend of points on a catalogue reward, with the reward's terms as they were.
CREATE TABLE IF NOT EXISTS redemptions (
  id                   INTEGER PRIMARY KEY,
  customer_id          INTEGER NOT NULL REFERENCES customers(id),
  shop_id              TEXT NOT NULL,
  idempotency_key      TEXT NOT NULL,
  reward_id            TEXT NOT NULL,
  reward_kind          TEXT NOT NULL,
  reward_name          TEXT NOT NULL,
  points               INTEGER NOT NULL,
  code                 TEXT NOT NULL DEFAULT '',
  value_minor          INTEGER NOT NULL DEFAULT 0,
  currency             TEXT NOT NULL,
  percentage           INTEGER NOT NULL DEFAULT 0,
  minimum_order_minor  INTEGER NOT NULL DEFAULT 0,
  expires_at_ms        INTEGER NOT NULL DEFAULT 0,
  restrict_to_customer INTEGER NOT NULL DEFAULT 1,
  status               TEXT NOT NULL DEFAULT 'pending',
  platform_reward_id   TEXT NOT NULL DEFAULT '',
  failure_reason       TEXT NOT NULL DEFAULT '',
  created_at_ms        INTEGER NOT NULL,
  updated_at_ms        INTEGER NOT NULL,
  -- 'points' (a catalogue reward) or 'credit' (a payout of store credit, points 0).
  paid_with            TEXT NOT NULL DEFAULT 'points',
  UNIQUE (customer_id, idempotency_key)
);

-- Platform calls to make; each written with the ledger change that causes it.
CREATE TABLE IF NOT EXISTS outbox_jobs (
  id                 INTEGER PRIMARY KEY,
  shop_id            TEXT NOT NULL,
  kind               TEXT NOT NULL,
  redemption_id      INTEGER REFERENCES redemptions(id),
  idempotency_key    TEXT NOT NULL UNIQUE,
  status             TEXT NOT NULL DEFAULT 'pending',
  attempts           INTEGER NOT NULL DEFAULT 0,
  next_attempt_at_ms INTEGER NOT NULL,
  last_error         TEXT NOT NULL DEFAULT '',
  created_at_ms      INTEGER NOT NULL,
  updated_at_ms      INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_jobs_due ON outbox_jobs(status, next_attempt_at_ms);

-- VIP tiers (docs/storage.md, "VIP tiers"): each customer's standing and platform tags, the
-- paid orders and memberships tiers count, and the tags each update_tags job writes.
CREATE TABLE IF NOT EXISTS customer_tiers (
  customer_id   INTEGER PRIMARY KEY REFERENCES customers(id),
  level_id      TEXT NOT NULL DEFAULT '',
  reached_at_ms INTEGER NOT NULL DEFAULT 0,
  keep_until_ms INTEGER NOT NULL DEFAULT 0,
  platform_tags TEXT NOT NULL DEFAULT '',
  updated_at_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS tier_orders (
  order_id        INTEGER PRIMARY KEY REFERENCES orders(id),
  customer_id     INTEGER NOT NULL REFERENCES customers(id),
  paid_at_ms      INTEGER NOT NULL,
  source_event_id INTEGER REFERENCES inbox_events(id)
);
CREATE INDEX IF NOT EXISTS tier_orders_customer ON tier_orders(customer_id, paid_at_ms);
CREATE INDEX IF NOT EXISTS tier_orders_paid ON tier_orders(paid_at_ms);
CREATE TABLE IF NOT EXISTS tier_grants (
  id              INTEGER PRIMARY KEY,
  customer_id     INTEGER NOT NULL REFERENCES customers(id),
  level_id        TEXT NOT NULL,
  order_id        INTEGER NOT NULL REFERENCES orders(id),
  starts_at_ms    INTEGER NOT NULL,
  ends_at_ms      INTEGER NOT NULL,
  source_event_id INTEGER REFERENCES inbox_events(id),
  UNIQUE (order_id, level_id)
);
CREATE INDEX IF NOT EXISTS tier_grants_customer ON tier_grants(customer_id, ends_at_ms);
CREATE INDEX IF NOT EXISTS tier_grants_ends ON tier_grants(ends_at_ms);
CREATE TABLE IF NOT EXISTS tag_updates (
  job_id      INTEGER PRIMARY KEY REFERENCES outbox_jobs(id),
  customer_id INTEGER NOT NULL REFERENCES customers(id),
  add_tags    TEXT NOT NULL,
  remove_tags TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS tag_updates_customer ON tag_updates(customer_id, job_id);

-- Point lots: one per positive ledger entry, with what is left of it; negative entries take
-- from them oldest expiry first. The open lots of a customer sum to max(points_balance, 0).
CREATE TABLE IF NOT EXISTS point_lots (
  id              INTEGER PRIMARY KEY,
  customer_id     INTEGER NOT NULL REFERENCES customers(id),
  ledger_entry_id INTEGER NOT NULL UNIQUE REFERENCES ledger_entries(id),
  order_id        INTEGER REFERENCES orders(id),
  points          INTEGER NOT NULL,
  remaining       INTEGER NOT NULL,
  earned_at_ms    INTEGER NOT NULL,
  expires_at_ms   INTEGER NOT NULL DEFAULT 0,
  expired_reason  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS point_lots_open ON point_lots(customer_id, expires_at_ms, id)
  WHERE remaining > 0;
-- Open lots by expiry: the expiry run (ORDER BY expires_at_ms, id), the expiring-soon events and
-- the liability report (covering: remaining is in the key). Keyed so that a new lot goes at the
-- end of its expiry's range, next to the last one made: a lot expires a fixed time after it is
-- earned (or never, 0), so new entries land on the index's last leaves, which every batch
-- writes anyway. It replaces point_lots_expiring (expires_at_ms) and point_lots_open_remaining
-- (expires_at_ms, remaining): the second put a lot by its size among the lots of its expiry, a
-- page scattered over the index per order, and with 10^7 ledger entries the two cost a fifth of
-- ingest (bench/README.md, "Scale").
DROP INDEX IF EXISTS point_lots_expiring;
DROP INDEX IF EXISTS point_lots_open_remaining;
CREATE INDEX IF NOT EXISTS point_lots_expiry ON point_lots(expires_at_ms, id, remaining)
  WHERE remaining > 0;
-- A customer's lots, newest first (the lots API, the privacy export). Also what the foreign key
-- point_lots.customer_id needs: deleting a customer (privacy) checks its lots through it, a scan
-- of every lot without it. (Dropped for a day on 2026-11-26 to save its scattered leaf per
-- order; the scale runs could not show a difference in rate, and erasure became a full scan.)
CREATE INDEX IF NOT EXISTS point_lots_customer ON point_lots(customer_id, id);
-- The lots of an order, for privacy (a shop's redaction unlinks each order's lots; a customer's
-- deletes them): without it each order's step scanned every lot of the store. Order ids grow,
-- so a new entry lands on the index's last leaf.
CREATE INDEX IF NOT EXISTS point_lots_order ON point_lots(order_id) WHERE order_id IS NOT NULL;
-- Last points activity (earn, redeem, action) per customer, for expiry by inactivity.
CREATE TABLE IF NOT EXISTS customer_activity (
  customer_id      INTEGER PRIMARY KEY REFERENCES customers(id),
  last_activity_ms INTEGER NOT NULL
);

-- Points an order earned, held until release_at_ms (program.award.hold_days).
CREATE TABLE IF NOT EXISTS pending_awards (
  id                     INTEGER PRIMARY KEY,
  order_id               INTEGER NOT NULL REFERENCES orders(id),
  customer_id            INTEGER NOT NULL REFERENCES customers(id),
  rule_id                TEXT NOT NULL,
  points                 INTEGER NOT NULL,
  description            TEXT NOT NULL,
  once_key               TEXT,
  source_event_id        INTEGER REFERENCES inbox_events(id),
  awarded_at_ms          INTEGER NOT NULL,
  release_at_ms          INTEGER NOT NULL,
  allow_negative_balance INTEGER NOT NULL DEFAULT 0,
  status                 TEXT NOT NULL DEFAULT 'pending',
  status_reason          TEXT NOT NULL DEFAULT '',
  settled_at_ms          INTEGER NOT NULL DEFAULT 0,
  UNIQUE (order_id, rule_id)
);
CREATE INDEX IF NOT EXISTS pending_awards_due ON pending_awards(status, release_at_ms);
CREATE INDEX IF NOT EXISTS pending_awards_customer ON pending_awards(customer_id, id);
-- Each POST /api/v1/customers/{id}/actions, once per (customer, Idempotency-Key), with the
-- answer it got: a retry gets the same answer. The limit itself lives in the ledger's once keys.
CREATE TABLE IF NOT EXISTS action_requests (
  id                       INTEGER PRIMARY KEY,
  customer_id              INTEGER NOT NULL REFERENCES customers(id),
  idempotency_key          TEXT NOT NULL,
  action                   TEXT NOT NULL,
  rule_id                  TEXT NOT NULL,
  reference                TEXT NOT NULL DEFAULT '',
  occurred_at_ms           INTEGER NOT NULL,
  outcome                  TEXT NOT NULL,
  slot                     INTEGER NOT NULL DEFAULT 0,
  max_slots                INTEGER NOT NULL,
  period_label             TEXT NOT NULL DEFAULT '',
  next_period_starts_at_ms INTEGER NOT NULL DEFAULT 0,
  ledger_entry_id          INTEGER REFERENCES ledger_entries(id),
  points                   INTEGER NOT NULL DEFAULT 0,
  balance_after            INTEGER NOT NULL,
  description              TEXT NOT NULL,
  created_at_ms            INTEGER NOT NULL,
  UNIQUE (customer_id, idempotency_key)
);
-- The append-only store-credit ledger (cashback), keyed like ledger_entries.
CREATE TABLE IF NOT EXISTS credit_entries (
  id                  INTEGER PRIMARY KEY,
  customer_id         INTEGER NOT NULL REFERENCES customers(id),
  order_id            INTEGER REFERENCES orders(id),
  -- payout, payout_refund: the redemption that issues the credit in the store.
  redemption_id       INTEGER REFERENCES redemptions(id),
  rule_id             TEXT NOT NULL,
  kind                TEXT NOT NULL,
  refund_key          TEXT NOT NULL DEFAULT '',
  amount_minor        INTEGER NOT NULL,
  balance_after_minor INTEGER NOT NULL,
  currency            TEXT NOT NULL,
  description         TEXT NOT NULL,
  source_event_id     INTEGER REFERENCES inbox_events(id),
  created_at_ms       INTEGER NOT NULL,
  UNIQUE (order_id, rule_id, kind, refund_key),
  UNIQUE (redemption_id, kind)
);
CREATE INDEX IF NOT EXISTS credit_entries_customer ON credit_entries(customer_id, id);

-- Referrals (docs/storage.md, "Referrals"; sqlite_referrals.cc).
CREATE TABLE IF NOT EXISTS referral_codes (
  customer_id   INTEGER PRIMARY KEY REFERENCES customers(id),
  code          TEXT NOT NULL UNIQUE,  -- upper case; matched case-insensitively
  created_at_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS referral_clicks (
  customer_id INTEGER NOT NULL REFERENCES customers(id),
  day         TEXT NOT NULL,  -- YYYY-MM-DD, UTC
  clicks      INTEGER NOT NULL,
  PRIMARY KEY (customer_id, day)
);
-- Every canonical email, phone and shipping address seen for a customer (core/identity.h):
-- what the self-referral guards compare a friend with.
CREATE TABLE IF NOT EXISTS customer_identity_keys (
  kind        TEXT NOT NULL,  -- email, phone, address
  key         TEXT NOT NULL,
  customer_id INTEGER NOT NULL REFERENCES customers(id),
  PRIMARY KEY (kind, key, customer_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS customer_identity_keys_customer
  ON customer_identity_keys(customer_id, kind);
CREATE TABLE IF NOT EXISTS referrals (
  id                     INTEGER PRIMARY KEY,
  referrer_customer_id   INTEGER NOT NULL REFERENCES customers(id),
  shop_id                TEXT NOT NULL,
  friend_email           TEXT NOT NULL,
  friend_key             TEXT NOT NULL,
  friend_customer_id     INTEGER REFERENCES customers(id),
  source                 TEXT NOT NULL,
  status                 TEXT NOT NULL,
  reason                 TEXT NOT NULL DEFAULT '',
  identified_at_ms       INTEGER NOT NULL,
  window_ends_at_ms      INTEGER NOT NULL,
  -- The friend's order this referral was judged on: at most one referral per order.
  order_id               INTEGER UNIQUE REFERENCES orders(id),
  order_total_minor      INTEGER NOT NULL DEFAULT 0,
  attributed_at_ms       INTEGER NOT NULL DEFAULT 0,
  release_at_ms          INTEGER NOT NULL DEFAULT 0,
  converted_at_ms        INTEGER NOT NULL DEFAULT 0,
  welcome_redemption_id  INTEGER REFERENCES redemptions(id),
  advocate_points        INTEGER NOT NULL DEFAULT 0,
  advocate_redemption_id INTEGER REFERENCES redemptions(id),
  advocate_reward_name   TEXT NOT NULL DEFAULT '',
  source_event_id        INTEGER REFERENCES inbox_events(id),
  created_at_ms          INTEGER NOT NULL,
  updated_at_ms          INTEGER NOT NULL
);
-- The first valid attribution wins: one live referral per friend, whatever the races.
CREATE UNIQUE INDEX IF NOT EXISTS referrals_live_friend
  ON referrals(friend_key) WHERE status IN ('pending', 'converted');
CREATE INDEX IF NOT EXISTS referrals_friend ON referrals(friend_key, status);
CREATE INDEX IF NOT EXISTS referrals_referrer ON referrals(referrer_customer_id, id);
-- For the foreign key friend_customer_id: deleting a customer (privacy) checks it, a scan of
-- every referral without it (SqliteStorageTest.EveryForeignKeyHasAnIndex).
CREATE INDEX IF NOT EXISTS referrals_friend_customer ON referrals(friend_customer_id);
CREATE INDEX IF NOT EXISTS referrals_due ON referrals(status, release_at_ms);

-- Reconciliation (docs/storage.md, "Reconciliation"; sqlite_reconcile.cc): per shop, the order
-- updated_at up to which the periodic job has listed the platform's orders and fed what was
-- missing, so that a restart resumes there.
CREATE TABLE IF NOT EXISTS reconcile_marks (
  shop_id        TEXT PRIMARY KEY,
  high_water_ms  INTEGER NOT NULL,
  last_run_at_ms INTEGER NOT NULL
);

-- Events out (docs/storage.md, "Events out"; sqlite_events_out.cc): each event once per cause,
-- written in the transaction of the change that causes it, with the exact body every delivery
-- sends; and per endpoint its delivery, an "event_out" outbox job.
CREATE TABLE IF NOT EXISTS out_events (
  id            INTEGER PRIMARY KEY,
  event_id      TEXT NOT NULL UNIQUE,  -- X-Loyaltyd-Event-Id
  cause_key     TEXT NOT NULL UNIQUE,  -- ledger:<entry>, tier:<entry>, referral:<id>, expiring:...
  topic         TEXT NOT NULL,
  customer_id   INTEGER REFERENCES customers(id),
  body          TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS out_deliveries (
  job_id           INTEGER PRIMARY KEY REFERENCES outbox_jobs(id),
  out_event_id     INTEGER NOT NULL REFERENCES out_events(id),
  endpoint_id      TEXT NOT NULL,
  last_http_status INTEGER NOT NULL DEFAULT 0,
  delivered_at_ms  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS out_deliveries_endpoint ON out_deliveries(endpoint_id, job_id);
-- For the foreign key customer_id, as referrals_friend_customer above.
CREATE INDEX IF NOT EXISTS out_events_customer ON out_events(customer_id);
-- Reports (docs/storage.md, "Reports"; sqlite_reports.cc). Every tier change, written in the
-- transaction that changes customer_tiers (with its "tier" ledger entry), so that movement
-- between levels can be reported per month. Recorded from the version that added it on: tier
-- changes made before are in the ledger ("tier" entries) but not here.
CREATE TABLE IF NOT EXISTS tier_changes (
  id              INTEGER PRIMARY KEY,
  customer_id     INTEGER NOT NULL REFERENCES customers(id),
  from_level_id   TEXT NOT NULL,  -- '' : no tier
  to_level_id     TEXT NOT NULL,
  direction       TEXT NOT NULL,  -- 'up', 'down', '' when the levels' order was unknown
  changed_at_ms   INTEGER NOT NULL,  -- the evaluation's as-of time
  ledger_entry_id INTEGER REFERENCES ledger_entries(id),
  source_event_id INTEGER REFERENCES inbox_events(id),
  created_at_ms   INTEGER NOT NULL
);
-- Covering: a month's movement is one range scan of this index, never of the table.
CREATE INDEX IF NOT EXISTS tier_changes_time
  ON tier_changes(changed_at_ms, to_level_id, from_level_id, direction, customer_id);
CREATE INDEX IF NOT EXISTS tier_changes_customer ON tier_changes(customer_id, id);
-- The liability report: points per month and kind are a range scan of this covering index (one
-- more index entry per ledger entry written).
CREATE INDEX IF NOT EXISTS ledger_entries_time ON ledger_entries(created_at_ms, kind, points);
-- The open points and what expires when: point_lots_expiry (above) covers it.
-- The customer report's paid orders of a customer (orders had no index by customer).
CREATE INDEX IF NOT EXISTS orders_customer ON orders(customer_id, paid);
-- Customers per tier level: customer_tiers_level (sqlite_customers.cc) serves it.

-- Foreign keys: every foreign key column leads an index. Deleting a parent row (a customer's
-- erasure deletes its redemptions and ledger entries; a shop's redaction deletes its orders and
-- inbox events) makes SQLite look up the rows of every child table that point at it, a scan
-- of the whole child table where no index leads with the column: one shop redaction step over
-- a store with 10^7 ledger entries scanned them all for each inbox event it deleted.
-- Nullable columns get partial indexes (IS NOT NULL): the lookup's `column = ?` implies it, so
-- SQLite uses them, and rows without a parent are not indexed. Ids grow, so most of these
-- take each new entry on their last leaf. SqliteStorageTest.EveryForeignKeyHasAnIndex checks.
CREATE INDEX IF NOT EXISTS ledger_entries_source_event
  ON ledger_entries(source_event_id) WHERE source_event_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS credit_entries_source_event
  ON credit_entries(source_event_id) WHERE source_event_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS order_refunds_source_event
  ON order_refunds(source_event_id) WHERE source_event_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS pending_awards_source_event
  ON pending_awards(source_event_id) WHERE source_event_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS referrals_source_event
  ON referrals(source_event_id) WHERE source_event_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS tier_changes_source_event
  ON tier_changes(source_event_id) WHERE source_event_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS tier_grants_source_event
  ON tier_grants(source_event_id) WHERE source_event_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS tier_orders_source_event
  ON tier_orders(source_event_id) WHERE source_event_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS action_requests_ledger_entry
  ON action_requests(ledger_entry_id) WHERE ledger_entry_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS tier_changes_ledger_entry
  ON tier_changes(ledger_entry_id) WHERE ledger_entry_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS outbox_jobs_redemption
  ON outbox_jobs(redemption_id) WHERE redemption_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS referrals_welcome_redemption
  ON referrals(welcome_redemption_id) WHERE welcome_redemption_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS referrals_advocate_redemption
  ON referrals(advocate_redemption_id) WHERE advocate_redemption_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS out_deliveries_out_event ON out_deliveries(out_event_id);
-- Also adjustments (sqlite_customers.cc), privacy_scrub_terms (sqlite_privacy.cc) and
-- member_links (sqlite_members.cc).
)sql";

constexpr int kSchemaVersion = 1;

}  // namespace

std::string_view EventStatusName(EventStatus status) {
  switch (status) {
    case EventStatus::kPending:
      return "pending";
    case EventStatus::kProcessed:
      return "processed";
    case EventStatus::kIgnored:
      return "ignored";
    case EventStatus::kFailed:
      return "failed";
  }
  return "unknown";
}

std::optional<EventStatus> ParseEventStatus(std::string_view name) {
  for (EventStatus s : {EventStatus::kPending, EventStatus::kProcessed, EventStatus::kIgnored,
                        EventStatus::kFailed}) {
    if (EventStatusName(s) == name) return s;
  }
  return std::nullopt;
}

namespace {
// PRAGMA cache_size for `mb` MiB (a negative size is in KiB).
Status SetConnectionCacheMb(sqlite3* db, int mb) {
  const std::string pragma = "PRAGMA cache_size=-" + std::to_string(int64_t{mb} * 1024);
  return Exec(db, pragma.c_str());
}

// Statement journals stay in memory up to this size. Each processed event runs in a savepoint,
// and its statements (upserts, foreign keys) in statement transactions; SQLite keeps what they
// would roll back in a sub-journal, a temporary file ("etilqs_*" in /var/tmp) once it passes
// SQLite's default of 64 KiB, which a batch of events always did: 57 pwrite calls per
// processed event went to such files (strace of loyaltyd_bench_ledger), against 7.5 to the
// WAL, and their pages were written back to the disk the inbox fsyncs on. An event's
// sub-journal is far smaller than this; the rare statement that changes more (a privacy
// erasure deleting a regular's whole ledger, a member merge) still spills to a file rather
// than holding its pages in memory, as temp_store=MEMORY would.
constexpr int kStatementJournalSpillBytes = 8 << 20;

void ConfigureSqliteOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    // Only before SQLite initialises, which the first connection does; a program that used
    // SQLite before opening loyaltyd's storage keeps the default (slower, same results).
    (void)sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, kStatementJournalSpillBytes);
  });
}
}  // namespace

Result<std::unique_ptr<SqliteStorage>> SqliteStorage::Open(const std::string& path,
                                                           int read_connections, int cache_mb) {
  ConfigureSqliteOnce();
  std::error_code ec;
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec) {
    return Unavailable("cannot create directory '" + parent.string() + "': " + ec.message());
  }

  // A database that cannot be written is refused here, with the reason, rather than opened:
  // SQLite would quietly open it read-only (or fail with "unable to open database file" when
  // it cannot create the -wal and -shm files beside it), and every webhook would then get a
  // 503 from a daemon that looks up. Whoever fixes the permissions or the mount restarts it.
  const std::string dir = parent.empty() ? std::string(".") : parent.string();
  for (const std::string& needed : {dir, path}) {
    if (faccessat(AT_FDCWD, needed.c_str(), W_OK, AT_EACCESS) != 0 && errno != ENOENT) {
      return Unavailable("database '" + path + "' is not writable: '" + needed +
                         "': " + std::system_category().message(errno) +
                         "; loyaltyd writes the file and creates its -wal and -shm files in "
                         "its directory");
    }
  }

  std::unique_ptr<SqliteStorage> storage(new SqliteStorage());
  storage->path_ = path;
  Result<sqlite3*> writer = OpenConnection(path, /*read_only=*/false);
  if (!writer.ok()) return writer.status();
  storage->writer_ = *writer;
  sqlite3* db = storage->writer_;
  // WAL + synchronous=FULL: a COMMIT returns only after the WAL is fsynced.
  // 4 KiB pages (SQLite's default; for a new database, an existing one keeps its size). 16 KiB
  // pages took a webhook body in fewer WAL frames, but every event of a large store dirties
  // index leaves scattered by customer, and each costs a whole page in the WAL and again in the
  // checkpoint. With 4 KiB pages ingest measured 6507 requests/s on an empty database (16 KiB:
  // 4802) and 4138 with 10^5 customers and 10^7 ledger entries (16 KiB: 2962; bench/README.md,
  // "Scale").
  LOYALTYD_RETURN_IF_ERROR(Exec(db, "PRAGMA page_size=4096"));
  LOYALTYD_RETURN_IF_ERROR(Exec(db, "PRAGMA journal_mode=WAL"));
  LOYALTYD_RETURN_IF_ERROR(Exec(db, "PRAGMA synchronous=FULL"));
  // A burst can grow the WAL to hundreds of MB before a checkpoint catches up; once it has,
  // the file is cut back to this size instead of keeping its peak forever. Twice the
  // checkpointer's threshold (kCheckpointWalBytes), which every cycle passes a little: at the
  // threshold itself the file would be cut back and grown again on every cycle.
  LOYALTYD_RETURN_IF_ERROR(
      Exec(db, ("PRAGMA journal_size_limit=" + std::to_string(2 * kCheckpointWalBytes)).c_str()));
  LOYALTYD_RETURN_IF_ERROR(Exec(db, "PRAGMA foreign_keys=ON"));
  // SQLite's default cache (2 MiB: 500 pages of 4 KiB) cannot hold a large store's index
  // pages: with 10^7 ledger entries the processor spilled dirty pages to the WAL in the middle
  // of its transactions and re-read index pages for every event, 10 pwrite and 5 pread calls
  // per event, half its time (perf trace; bench/README.md "Scale").
  LOYALTYD_RETURN_IF_ERROR(SetConnectionCacheMb(db, cache_mb));

  {
    Stmt version(db, "PRAGMA user_version");
    LOYALTYD_RETURN_IF_ERROR(version.prepare_status());
    const int64_t current = version.Step() == SQLITE_ROW ? version.Int(0) : 0;
    if (current > kSchemaVersion) {
      return FailedPrecondition("database '" + path + "' has schema version " +
                                std::to_string(current) + ", newer than this loyaltyd (" +
                                std::to_string(kSchemaVersion) + "); upgrade loyaltyd");
    }
  }
  // Privacy (docs/storage.md, "Privacy"): deleted and overwritten content is zeroed in the
  // file, so an erased email does not linger in free space or freed pages. loyaltyd rarely
  // deletes, so this costs little; the WAL is truncated after each erasure (sqlite_privacy.cc).
  LOYALTYD_RETURN_IF_ERROR(Exec(db, "PRAGMA secure_delete=ON"));
  LOYALTYD_RETURN_IF_ERROR(sqlite_internal::InTransaction(db, [&] {
    LOYALTYD_RETURN_IF_ERROR(Exec(db, kSchema));
    LOYALTYD_RETURN_IF_ERROR(Exec(db, kCustomerToolsSchema));  // sqlite_customers.cc
    LOYALTYD_RETURN_IF_ERROR(Exec(db, PrivacySchema()));       // sqlite_privacy.cc
    LOYALTYD_RETURN_IF_ERROR(Exec(db, MembersSchema()));       // sqlite_members.cc
    return Exec(db, ("PRAGMA user_version=" + std::to_string(kSchemaVersion)).c_str());
  }));

  storage->writer_statements_ = std::make_unique<StatementCache>(db);
  LOYALTYD_RETURN_IF_ERROR(storage->LoadMembersLinkedLocked());  // shared membership
  {
    Stmt page_size(db, "PRAGMA page_size");  // the file's own, which an old database keeps
    LOYALTYD_RETURN_IF_ERROR(page_size.prepare_status());
    const int64_t bytes = page_size.Step() == SQLITE_ROW ? page_size.Int(0) : 4096;
    storage->checkpoint_pages_ =
        static_cast<int>(std::max<int64_t>(1, kCheckpointWalBytes / bytes));
  }

  // Checkpoints move to their own thread (see the header).
  sqlite3_wal_autocheckpoint(db, 0);
  sqlite3_wal_hook(db, &SqliteStorage::OnWalCommit, storage.get());
  Result<sqlite3*> checkpointer = OpenConnection(path, /*read_only=*/false);
  if (!checkpointer.ok()) return checkpointer.status();
  storage->checkpointer_ = *checkpointer;
  // A connection learns that the database is in WAL mode only when it first reads it; until
  // then a checkpoint on it is a silent no-op (pnLog -1) and the WAL grows without bound.
  LOYALTYD_RETURN_IF_ERROR(Exec(storage->checkpointer_, "PRAGMA journal_mode=WAL"));
  SqliteStorage* self = storage.get();
  storage->checkpoint_thread_ = std::thread([self] {
    pthread_setname_np(pthread_self(), "ld-checkpoint");
    self->CheckpointLoop();
  });

  for (int i = 0; i < read_connections; ++i) {
    Result<sqlite3*> reader = OpenConnection(path, /*read_only=*/true);
    if (!reader.ok()) return reader.status();
    LOYALTYD_RETURN_IF_ERROR(SetConnectionCacheMb(*reader, std::max(1, cache_mb / 4)));
    storage->all_readers_.push_back(*reader);
    storage->idle_readers_.push_back(*reader);
    storage->reader_statements_.push_back(std::make_unique<StatementCache>(*reader));
  }
  return storage;
}

SqliteStorage::~SqliteStorage() {
  {
    std::lock_guard<std::mutex> lock(checkpoint_mu_);
    checkpoint_stopping_ = true;
  }
  checkpoint_cv_.notify_all();
  if (checkpoint_thread_.joinable()) checkpoint_thread_.join();
  sqlite3_close_v2(checkpointer_);
  reader_statements_.clear();  // finalised before their connections close
  for (sqlite3* db : all_readers_) sqlite3_close_v2(db);
  writer_statements_.reset();  // finalised before their connection closes
  sqlite3_close_v2(writer_);
}

int SqliteStorage::OnWalCommit(void* self, sqlite3*, const char*, int pages) {
  auto* storage = static_cast<SqliteStorage*>(self);
  // The writer's commit reached the WAL: the database takes writes (again).
  if (storage->write_failing_.load()) {
    std::lock_guard<std::mutex> lock(storage->health_mu_);
    storage->write_failing_.store(false);
    storage->write_error_.clear();
  }
  if (pages >= storage->checkpoint_pages_) {
    {
      std::lock_guard<std::mutex> lock(storage->checkpoint_mu_);
      storage->checkpoint_wanted_ = true;
    }
    storage->checkpoint_cv_.notify_one();
  }
  return SQLITE_OK;
}

void SqliteStorage::CheckpointLoop() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(checkpoint_mu_);
      checkpoint_cv_.wait(lock, [&] { return checkpoint_stopping_ || checkpoint_wanted_; });
      if (checkpoint_stopping_) return;
      checkpoint_wanted_ = false;
    }
    // PASSIVE never waits for the writer or readers; what it cannot copy now it copies next
    // time. Once readers have moved on, the writer restarts the WAL from the beginning.
    std::lock_guard<std::mutex> running(checkpoint_run_mu_);
    sqlite3_wal_checkpoint_v2(checkpointer_, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  }
}

void SqliteStorage::NoteWriteOutcome(const Status& status) {
  // Other codes (a constraint, a customer not found) are the request's, not the database's.
  // Success is not noted here: a transaction that changed nothing commits without writing,
  // which proves nothing; OnWalCommit notes the commits that wrote.
  if (status.code() != StatusCode::kUnavailable) return;
  std::lock_guard<std::mutex> lock(health_mu_);
  write_failing_.store(true);
  write_error_ = status.message();
}

StorageWriteHealth SqliteStorage::CheckWritable() {
  if (!write_failing_.load()) return {};
  {
    std::lock_guard<std::mutex> lock(health_mu_);
    const auto now = std::chrono::steady_clock::now();
    // At most one probe a second, however often /healthz is asked (it needs no token).
    if (now - last_probe_ < std::chrono::seconds(1)) return {false, write_error_};
    last_probe_ = now;
  }
  {
    std::lock_guard<std::mutex> lock(write_mu_);
    // A write that changes nothing but must reach the disk: setting the schema version to its
    // own value dirties the database's first page, so the COMMIT appends a WAL frame and
    // fsyncs, which is what a full disk or a read-only file system refuses. Its outcome
    // updates the health like any writer transaction's.
    const std::string probe = "PRAGMA user_version=" + std::to_string(kSchemaVersion);
    (void)InTransaction(writer_, [&] { return Exec(writer_, probe.c_str()); });
  }
  std::lock_guard<std::mutex> lock(health_mu_);
  return {!write_failing_.load(), write_error_};
}

namespace {

// The reader this thread has pinned (PinReadSnapshot), and whose pool it came from. One pin per
// thread: a thread that pins while it holds one (this storage's or another's) reads unpinned.
struct PinnedReader {
  const SqliteStorage* owner = nullptr;
  sqlite3* db = nullptr;
};
thread_local PinnedReader pinned_reader;

}  // namespace

class SqliteStorage::PinnedSnapshot final : public ReadSnapshot {
 public:
  PinnedSnapshot(SqliteStorage& storage, sqlite3* db)
      : storage_(storage), db_(db), transaction_(std::in_place, storage.StatementsFor(db)) {}
  ~PinnedSnapshot() override {
    if (pinned_reader.owner == &storage_ && pinned_reader.db == db_) pinned_reader = {};
    transaction_.reset();  // ends the read transaction before the reader goes back
    storage_.ReleaseReader(db_);
  }
  PinnedSnapshot(const PinnedSnapshot&) = delete;
  PinnedSnapshot& operator=(const PinnedSnapshot&) = delete;
  sqlite3* db() const { return db_; }
  const Status& status() const { return transaction_->status(); }

 private:
  SqliteStorage& storage_;
  sqlite3* db_;
  std::optional<sqlite_internal::ReadTransaction> transaction_;
};

Result<std::unique_ptr<ReadSnapshot>> SqliteStorage::PinReadSnapshot() {
  // Nested: the outer pin holds the snapshot, and releases it.
  if (pinned_reader.owner != nullptr) return std::make_unique<ReadSnapshot>();
  auto pin = std::make_unique<PinnedSnapshot>(*this, AcquireReader());
  LOYALTYD_RETURN_IF_ERROR(pin->status());  // the reader goes back with `pin`
  pinned_reader = {this, pin->db()};
  return std::unique_ptr<ReadSnapshot>(std::move(pin));
}

sqlite3* SqliteStorage::AcquireReader() {
  if (pinned_reader.owner == this) return pinned_reader.db;
  std::unique_lock<std::mutex> lock(read_mu_);
  read_cv_.wait(lock, [&] { return !idle_readers_.empty(); });
  sqlite3* db = idle_readers_.back();
  idle_readers_.pop_back();
  return db;
}

SqliteStorage::StatementCache& SqliteStorage::StatementsFor(sqlite3* db) {
  if (db == writer_) return *writer_statements_;
  for (size_t i = 0; i < all_readers_.size(); ++i) {
    if (all_readers_[i] == db) return *reader_statements_[i];
  }
  // Every connection SqliteStorage hands out is the writer or one of all_readers_.
  std::abort();
}

void SqliteStorage::ReleaseReader(sqlite3* db) {
  if (pinned_reader.owner == this && pinned_reader.db == db) return;  // the pin releases it
  {
    std::lock_guard<std::mutex> lock(read_mu_);
    idle_readers_.push_back(db);
  }
  read_cv_.notify_one();
}

Result<std::vector<InboxAppendOutcome>> SqliteStorage::AppendToInbox(
    const std::vector<NewInboxEvent>& batch) {
  std::vector<InboxAppendOutcome> outcomes;
  outcomes.reserve(batch.size());
  std::lock_guard<std::mutex> lock(write_mu_);
  // Acknowledged webhooks must survive a crash: this commit waits for fsync, whatever mode a
  // processing commit left behind.
  LOYALTYD_RETURN_IF_ERROR(ExecCached(*writer_statements_, "PRAGMA synchronous=FULL"));
  Status st = InTransaction(writer_, [&]() -> Status {
    Stmt insert(*writer_statements_,
                "INSERT INTO inbox_events (shop_id, platform, topic, dedupe_key, delivery_id, "
                "received_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
                "ON CONFLICT(dedupe_key) DO NOTHING");
    LOYALTYD_RETURN_IF_ERROR(insert.prepare_status());
    Stmt insert_body(*writer_statements_,
                     "INSERT INTO inbox_bodies (event_id, body) VALUES (?1, ?2)");
    LOYALTYD_RETURN_IF_ERROR(insert_body.prepare_status());
    for (const NewInboxEvent& e : batch) {
      insert.Bind(1, e.shop_id).Bind(2, e.platform).Bind(3, e.topic).Bind(4, e.dedupe_key);
      insert.Bind(5, e.delivery_id).Bind(6, e.received_at_ms);
      const int rc = insert.Step();
      if (rc != SQLITE_DONE) return SqliteError(writer_, rc, "storing webhook in inbox");
      const bool stored = sqlite3_changes(writer_) == 1;
      insert.Reset();
      outcomes.push_back(stored ? InboxAppendOutcome::kStored : InboxAppendOutcome::kDuplicate);
      if (!stored) continue;
      insert_body.Bind(1, sqlite3_last_insert_rowid(writer_)).BindBlob(2, e.body);
      const int body_rc = insert_body.Step();
      if (body_rc != SQLITE_DONE) return SqliteError(writer_, body_rc, "storing webhook body");
      insert_body.Reset();
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return outcomes;
}

Result<std::vector<InboxEvent>> SqliteStorage::LoadPendingEvents(int64_t after_id, size_t limit) {
  ReadLease lease(*this);
  Stmt s(lease.statements(),
         "SELECT e.id, e.shop_id, e.platform, e.topic, e.dedupe_key, e.delivery_id, b.body, "
         "e.received_at_ms FROM inbox_events e JOIN inbox_bodies b ON b.event_id = e.id "
         "WHERE e.status = 'pending' AND e.id > ?1 ORDER BY e.id LIMIT ?2");
  LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
  s.Bind(1, after_id).Bind(2, static_cast<int64_t>(limit));
  std::vector<InboxEvent> events;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    InboxEvent e;
    e.id = s.Int(0);
    e.shop_id = s.Text(1);
    e.platform = s.Text(2);
    e.topic = s.Text(3);
    e.dedupe_key = s.Text(4);
    e.delivery_id = s.Text(5);
    e.body = s.Text(6);
    e.received_at_ms = s.Int(7);
    events.push_back(std::move(e));
  }
  if (rc != SQLITE_DONE) return SqliteError(lease.db(), rc, "loading pending events");
  return events;
}

Status SqliteStorage::CommitEventOutcomes(const std::vector<EventOutcome>& outcomes,
                                          int64_t now_ms) {
  std::lock_guard<std::mutex> lock(write_mu_);
  // This commit need not wait for fsync: its input stays durable in the inbox, and should a
  // crash lose it, the events are still pending and are processed again, atomically as here.
  // WAL frames are appended in order, so the next inbox commit's fsync (synchronous=FULL)
  // makes this one durable too, and recovery never keeps a later commit without it. Not
  // waiting keeps the write lock short for the webhooks queued behind it.
  LOYALTYD_RETURN_IF_ERROR(ExecCached(*writer_statements_, "PRAGMA synchronous=NORMAL"));
  Status committed = InTransaction(writer_, [&]() -> Status {
    for (const EventOutcome& outcome : outcomes) {
      Stmt pending(*writer_statements_, "SELECT status FROM inbox_events WHERE id = ?1");
      LOYALTYD_RETURN_IF_ERROR(pending.prepare_status());
      pending.Bind(1, outcome.event_id);
      if (pending.Step() != SQLITE_ROW || pending.Text(0) != "pending") continue;

      LOYALTYD_RETURN_IF_ERROR(ExecCached(*writer_statements_, "SAVEPOINT event_outcome"));
      Status applied = ApplyOutcome(outcome, now_ms);
      if (applied.ok()) {
        LOYALTYD_RETURN_IF_ERROR(ExecCached(*writer_statements_, "RELEASE event_outcome"));
        continue;
      }
      // A transient failure aborts the batch (it stays pending and is retried); anything else
      // is this event's own problem: record it as failed and go on with the rest.
      LOYALTYD_RETURN_IF_ERROR(ExecCached(*writer_statements_, "ROLLBACK TO event_outcome"));
      LOYALTYD_RETURN_IF_ERROR(ExecCached(*writer_statements_, "RELEASE event_outcome"));
      if (applied.code() == StatusCode::kUnavailable) return applied;
      LOYALTYD_RETURN_IF_ERROR(
          MarkEvent(outcome.event_id, EventStatus::kFailed, applied.ToString(), now_ms));
    }
    return Status::Ok();
  });
  Status restored = ExecCached(*writer_statements_, "PRAGMA synchronous=FULL");
  return committed.ok() ? restored : committed;
}

Status SqliteStorage::ApplyOutcome(const EventOutcome& outcome, int64_t now_ms) {
  if (outcome.privacy) {  // a privacy topic (sqlite_privacy.cc): nothing else in the outcome
    Result<PrivacyRequestRecord> applied =
        ApplyPrivacyLocked(*outcome.privacy, outcome.event_id, now_ms);
    if (!applied.ok()) return applied.status();
    return MarkEvent(outcome.event_id, outcome.status, applied->summary, now_ms);
  }
  int64_t customer_id = 0;
  if (outcome.customer) {
    const CustomerIdentity& c = *outcome.customer;
    // Known customers are keyed by platform id, guests by normalised email. A later update
    // fills in fields but never blanks one the platform omitted (redacted PII arrives empty).
    // The upsert assigns no indexed column: SQLite rewrites an index entry whenever its column
    // is assigned, equal or not, and on a large store each such entry is a page of its own
    // that the WAL and the checkpoint write (customers_email was 288 of the 13,355 pages one
    // WAL held under the scale benchmark's ingest, bench/README.md "Scale"). A changed
    // email_normalised is set by the UPDATE below, which matches only then.
    const char* sql =
        c.platform_customer_id.empty()
            ? "INSERT INTO customers (shop_id, platform_customer_id, email, email_normalised, "
              "first_name, last_name, created_at_ms, updated_at_ms) "
              "VALUES (?1, NULL, ?3, ?4, ?5, ?6, ?7, ?7) "
              "ON CONFLICT(shop_id, email_normalised) WHERE platform_customer_id IS NULL "
              "DO UPDATE SET first_name = COALESCE(NULLIF(excluded.first_name, ''), first_name), "
              "last_name = COALESCE(NULLIF(excluded.last_name, ''), last_name), "
              "updated_at_ms = excluded.updated_at_ms RETURNING id"
            : "INSERT INTO customers (shop_id, platform_customer_id, email, email_normalised, "
              "first_name, last_name, created_at_ms, updated_at_ms) "
              "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7) "
              "ON CONFLICT(shop_id, platform_customer_id) "
              "DO UPDATE SET email = COALESCE(NULLIF(excluded.email, ''), email), "
              "first_name = COALESCE(NULLIF(excluded.first_name, ''), first_name), "
              "last_name = COALESCE(NULLIF(excluded.last_name, ''), last_name), "
              "updated_at_ms = excluded.updated_at_ms RETURNING id";
    Stmt upsert(*writer_statements_, sql);
    LOYALTYD_RETURN_IF_ERROR(upsert.prepare_status());
    upsert.Bind(1, c.shop_id).Bind(3, c.email).Bind(4, c.email_normalised);
    if (!c.platform_customer_id.empty()) upsert.Bind(2, c.platform_customer_id);
    upsert.Bind(5, c.first_name).Bind(6, c.last_name).Bind(7, now_ms);
    const int rc = upsert.Step();
    if (rc != SQLITE_ROW) return SqliteError(writer_, rc, "recording customer");
    customer_id = upsert.Int(0);
    upsert.Reset();
    if (!c.platform_customer_id.empty() && !c.email_normalised.empty()) {
      Stmt email(*writer_statements_,
                 "UPDATE customers SET email_normalised = ?2 "
                 "WHERE id = ?1 AND email_normalised IS NOT ?2");
      email.Bind(1, customer_id).Bind(2, c.email_normalised);
      LOYALTYD_RETURN_IF_ERROR(StepDone(email, writer_, "recording customer email"));
    }
    // Shared membership (sqlite_members.cc): the books are the member's, which the account
    // may join now by its verified email.
    Result<int64_t> member = ResolveMemberLocked(c, customer_id, outcome.event_id, now_ms);
    if (!member.ok()) return member.status();
    customer_id = *member;
  }

  int64_t order_id = 0;
  if (outcome.order && outcome.order->placeholder) {
    const OrderRecord& o = *outcome.order;
    // The no-op update makes RETURNING give the id of an existing row too.
    Stmt upsert(*writer_statements_,
                "INSERT INTO orders (shop_id, platform_order_id, currency, total_minor, "
                "eligible_minor, updated_at_ms) VALUES (?1, ?2, '', 0, 0, ?3) "
                "ON CONFLICT(shop_id, platform_order_id) DO UPDATE SET id = id RETURNING id");
    LOYALTYD_RETURN_IF_ERROR(upsert.prepare_status());
    upsert.Bind(1, o.shop_id).Bind(2, o.platform_order_id).Bind(3, now_ms);
    const int rc = upsert.Step();
    if (rc != SQLITE_ROW) return SqliteError(writer_, rc, "recording refunded order");
    order_id = upsert.Int(0);
  } else if (outcome.order) {
    const OrderRecord& o = *outcome.order;
    // As for the customer: the columns of orders_customer (customer_id, paid) are set by the
    // UPDATE below, which matches only when one of them changes; a redelivered or updated
    // order otherwise rewrote that index entry each time.
    Stmt upsert(*writer_statements_,
                "INSERT INTO orders (shop_id, platform_order_id, customer_id, name, currency, "
                "total_minor, eligible_minor, paid, created_at, updated_at_ms, taxes_included) "
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) "
                "ON CONFLICT(shop_id, platform_order_id) DO UPDATE SET "
                "name = excluded.name, currency = excluded.currency, "
                "total_minor = excluded.total_minor, eligible_minor = excluded.eligible_minor, "
                "updated_at_ms = excluded.updated_at_ms, "
                "taxes_included = excluded.taxes_included RETURNING id");
    LOYALTYD_RETURN_IF_ERROR(upsert.prepare_status());
    upsert.Bind(1, o.shop_id).Bind(2, o.platform_order_id);
    if (customer_id != 0) upsert.Bind(3, customer_id);
    upsert.Bind(4, o.name).Bind(5, o.currency).Bind(6, o.total_minor).Bind(7, o.eligible_minor);
    upsert.Bind(8, int64_t{o.paid ? 1 : 0}).Bind(9, o.created_at).Bind(10, now_ms);
    upsert.Bind(11, int64_t{o.taxes_included ? 1 : 0});
    const int rc = upsert.Step();
    if (rc != SQLITE_ROW) return SqliteError(writer_, rc, "recording order");
    order_id = upsert.Int(0);
    upsert.Reset();
    Stmt owner(*writer_statements_,
               "UPDATE orders SET customer_id = COALESCE(?2, customer_id), paid = MAX(paid, ?3) "
               "WHERE id = ?1 AND (customer_id IS NOT COALESCE(?2, customer_id) OR paid < ?3)");
    owner.Bind(1, order_id).Bind(3, int64_t{o.paid ? 1 : 0});
    if (customer_id != 0) owner.Bind(2, customer_id);
    LOYALTYD_RETURN_IF_ERROR(StepDone(owner, writer_, "recording order's customer"));
  }

  // Referrals (sqlite_referrals.cc): what the self-referral guards compare a friend with.
  if (outcome.referrals && outcome.identity_keys && customer_id != 0) {
    LOYALTYD_RETURN_IF_ERROR(RecordIdentityKeys(*outcome.identity_keys, customer_id));
  }

  // VIP tiers (sqlite_tiers.cc): record what tiers count, and pick the earn changes for the
  // tier the customer held before this event. The chosen changes are what the event earns,
  // posted now or held below.
  Result<std::string> tier_before = RecordTierInputs(outcome, customer_id, order_id, now_ms);
  if (!tier_before.ok()) return tier_before.status();
  const std::vector<PointsChange>* points = &outcome.points;
  if (auto it = outcome.points_by_tier.find(*tier_before);
      !tier_before->empty() && it != outcome.points_by_tier.end()) {
    points = &it->second;
  }
  if (!points->empty() && (customer_id == 0 || order_id == 0)) {
    return Internal("points change without a customer and an order");
  }
  if (outcome.hold_until_ms != 0 && !points->empty()) {
    // Held (program.award.hold_days): recorded as pending awards, credited at release.
    LOYALTYD_RETURN_IF_ERROR(RecordPendingAwards(outcome, *points, customer_id, order_id));
  }
  // Held points were recorded above and are posted at release instead.
  const std::vector<PointsChange> no_points;
  for (const PointsChange& change : outcome.hold_until_ms != 0 ? no_points : *points) {
    Posting posting;
    posting.customer_id = customer_id;
    posting.order_id = order_id;
    posting.source_event_id = outcome.event_id;
    posting.rule_id = change.rule_id;
    posting.kind = change.kind;
    posting.once_key = change.once_per_customer_key;
    posting.points = change.points;
    posting.description = change.description;
    posting.effective_at_ms = outcome.received_at_ms;
    // False: this (order, rule) already earned, or the customer has this once-only award.
    Result<bool> posted = PostPoints(posting, now_ms);
    if (!posted.ok()) return posted.status();
  }

  if (!outcome.credits.empty() && (customer_id == 0 || order_id == 0)) {
    return Internal("credit change without a customer and an order");
  }
  for (const CreditChange& change : outcome.credits) {
    CreditPosting posting;
    posting.customer_id = customer_id;
    posting.order_id = order_id;
    posting.source_event_id = outcome.event_id;
    posting.rule_id = change.rule_id;
    posting.kind = change.kind;
    posting.amount_minor = change.amount_minor;
    posting.currency = change.currency;
    posting.description = change.description;
    Result<bool> posted = PostCredit(posting, now_ms);  // false: this (order, rule) earned before
    if (!posted.ok()) return posted.status();
  }

  if (!outcome.refunds.empty() && order_id == 0) return Internal("refund without an order");
  for (const RefundRecord& refund : outcome.refunds) {
    // Once per (order, refund): a redelivered refund, or the same refund inside a later order
    // payload, changes nothing.
    Stmt insert(*writer_statements_,
                "INSERT INTO order_refunds (order_id, refund_key, merchandise_minor, tax_minor, "
                "refunds_rest, source_event_id, created_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
                "ON CONFLICT(order_id, refund_key) DO NOTHING");
    LOYALTYD_RETURN_IF_ERROR(insert.prepare_status());
    insert.Bind(1, order_id).Bind(2, refund.refund_key).Bind(3, refund.merchandise_minor);
    insert.Bind(4, refund.tax_minor).Bind(5, int64_t{refund.refunds_rest ? 1 : 0});
    insert.Bind(6, outcome.event_id).Bind(7, now_ms);
    const int rc = insert.Step();
    if (rc != SQLITE_DONE) return SqliteError(writer_, rc, "recording refund");
  }
  // A cancellation or full refund before release voids the order's pending awards.
  if (std::any_of(outcome.refunds.begin(), outcome.refunds.end(),
                  [](const RefundRecord& r) { return r.refunds_rest; })) {
    LOYALTYD_RETURN_IF_ERROR(VoidPendingAwards(order_id, outcome.event_id, now_ms));
    // And its referral, while the advocate's reward is held.
    LOYALTYD_RETURN_IF_ERROR(VoidReferralOfOrder(order_id, now_ms));
  }
  // A paid order may be a referred friend's first (sqlite_referrals.cc).
  if (outcome.referrals && outcome.referral_order) {
    LOYALTYD_RETURN_IF_ERROR(ApplyReferralOrder(outcome, customer_id, order_id, now_ms));
  }
  // New refunds claw back now; refunds recorded before the order earned claw back when it does.
  if (order_id != 0 && (!outcome.refunds.empty() || !points->empty() || !outcome.credits.empty())) {
    LOYALTYD_RETURN_IF_ERROR(ApplyClawbacks(order_id, outcome.event_id,
                                            outcome.allow_negative_balance, outcome.received_at_ms,
                                            now_ms));
  }
  if (outcome.tiers) {
    Result<bool> changed = EvaluateTierOfOutcome(outcome, customer_id, order_id, now_ms);
    if (!changed.ok()) return changed.status();
  }
  return MarkEvent(outcome.event_id, outcome.status, outcome.reason, now_ms);
}

Status SqliteStorage::ApplyClawbacks(int64_t order_id, int64_t event_id,
                                     bool allow_negative_balance, int64_t effective_at_ms,
                                     int64_t now_ms) {
  LOYALTYD_RETURN_IF_ERROR(ApplyBookClawbacks(Book::kPoints, order_id, event_id,
                                              allow_negative_balance, effective_at_ms, now_ms));
  return ApplyBookClawbacks(Book::kCredit, order_id, event_id, allow_negative_balance,
                            effective_at_ms, now_ms);
}

namespace {

// What differs between the points and the store-credit book: where the earn is summed, where
// each refund's share is recorded, and how an amount reads. The formula and the shortfall rule
// (ApplyBookClawbacks) are the same for both.
struct BookSql {
  const char* waiting;  // ?1 = order: a row whose share in this book is not decided yet
  const char* earned;   // ?1 = order: earned, customer, eligible_minor, taxes_included, currency
  const char* rows;     // ?1 = order: id, refund_key, merchandise, tax, rest, applied, share
  const char* mark;     // ?1 = row, ?2 = share
};

constexpr BookSql kPointsSql = {
    "SELECT 1 FROM order_refunds WHERE order_id = ?1 AND applied = 0 LIMIT 1",
    "SELECT COALESCE(SUM(l.points), 0), COALESCE(MAX(l.customer_id), 0), "
    "o.eligible_minor, o.taxes_included, '' FROM orders o "
    "LEFT JOIN ledger_entries l ON l.order_id = o.id AND l.kind = 'earn' "
    "WHERE o.id = ?1 GROUP BY o.id",
    "SELECT id, refund_key, merchandise_minor, tax_minor, refunds_rest, applied, "
    "clawback_points FROM order_refunds WHERE order_id = ?1 ORDER BY id",
    "UPDATE order_refunds SET applied = 1, clawback_points = ?2 WHERE id = ?1",
};

constexpr BookSql kCreditSql = {
    "SELECT 1 FROM order_refunds WHERE order_id = ?1 AND credit_applied = 0 LIMIT 1",
    "SELECT COALESCE(SUM(c.amount_minor), 0), COALESCE(MAX(c.customer_id), 0), "
    "o.eligible_minor, o.taxes_included, COALESCE(MAX(c.currency), '') FROM orders o "
    "LEFT JOIN credit_entries c ON c.order_id = o.id AND c.kind = 'earn' "
    "WHERE o.id = ?1 GROUP BY o.id",
    "SELECT id, refund_key, merchandise_minor, tax_minor, refunds_rest, credit_applied, "
    "clawback_credit_minor FROM order_refunds WHERE order_id = ?1 ORDER BY id",
    "UPDATE order_refunds SET credit_applied = 1, clawback_credit_minor = ?2 WHERE id = ?1",
};

}  // namespace

// The clawback formula. With E what the order earned in the book (points, or store credit in
// minor units), S its eligible spend and C_k the eligible amount refunded by its first k
// refunds (in the order they were recorded), the k-th refund's clawback is
//     target(k) - target(k-1),  target(k) = floor(E * min(C_k, S) / S),
// and target(k) = E from the first "full" row (cancellation or full refund) on. target never
// decreases and never exceeds E, so the clawbacks add up to at most what the order earned, and
// to exactly E once everything is refunded; the final net depends only on the set of refunds,
// not on the order they arrived in. Amounts are integers; the product is taken in 128 bits.
// Each book records its own shares in order_refunds, so an order that earns credit but no
// points (or the other way round) claws back from the book that has something.
int64_t SqliteStorage::ClawbackTarget(int64_t earned, int64_t eligible, int64_t refunded,
                                      bool rest) {
  if (rest || refunded >= eligible) return earned;
  return MulDivFloor(earned, refunded, eligible);  // refunded < eligible: <= earned
}

Status SqliteStorage::ApplyBookClawbacks(Book book, int64_t order_id, int64_t event_id,
                                         bool allow_negative_balance, int64_t effective_at_ms,
                                         int64_t now_ms) {
  const BookSql& sql = book == Book::kPoints ? kPointsSql : kCreditSql;
  // Every paid order comes through here; almost none has a refund waiting. One indexed probe
  // keeps that path from summing the order's ledger entries for nothing.
  {
    Stmt waiting(*writer_statements_, sql.waiting);
    LOYALTYD_RETURN_IF_ERROR(waiting.prepare_status());
    waiting.Bind(1, order_id);
    const int rc = waiting.Step();
    if (rc == SQLITE_DONE) return Status::Ok();
    if (rc != SQLITE_ROW) return SqliteError(writer_, rc, "looking for refunds");
  }
  Stmt earned_stmt(*writer_statements_, sql.earned);
  LOYALTYD_RETURN_IF_ERROR(earned_stmt.prepare_status());
  earned_stmt.Bind(1, order_id);
  if (earned_stmt.Step() != SQLITE_ROW) return Internal("order vanished during processing");
  const int64_t earned = earned_stmt.Int(0);
  const int64_t earned_by = earned_stmt.Int(1);
  const int64_t eligible = earned_stmt.Int(2);
  const bool taxes_included = earned_stmt.Int(3) != 0;
  const std::string currency = earned_stmt.Text(4);  // credit only
  earned_stmt.Reset();
  if (earned <= 0 || earned_by == 0) return Status::Ok();  // refunds wait for the earn
  // Shared membership (sqlite_members.cc): an order an account earned before it joined a
  // member is taken back from the member's books, which hold its points now.
  Result<int64_t> member = LinkedMemberLocked(earned_by);
  if (!member.ok()) return member.status();
  const int64_t customer_id = *member;

  // How an amount of this book reads in a description.
  Result<int> currency_exponent = CurrencyExponent(currency);
  const int exponent = currency_exponent.ok() ? *currency_exponent : 2;
  auto amount_text = [&](int64_t amount, const char* points_unit) {
    return book == Book::kPoints ? std::to_string(amount) + points_unit
                                 : FormatMinor(amount, exponent) + " " + currency;
  };
  const std::string earned_text =
      book == Book::kPoints
          ? std::to_string(earned) + " point(s) the order earned"
          : FormatMinor(earned, exponent) + " " + currency + " of store credit the order earned";

  struct Row {
    int64_t id;
    std::string refund_key;
    int64_t eligible_refunded;
    bool rest;
    bool applied;
    int64_t clawback;
  };
  std::vector<Row> rows;
  {
    Stmt s(*writer_statements_, sql.rows);
    LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
    s.Bind(1, order_id);
    int rc;
    while ((rc = s.Step()) == SQLITE_ROW) {
      // The same definition as earning: merchandise after discounts, without tax.
      const int64_t eligible_refunded =
          std::max<int64_t>(s.Int(2) - (taxes_included ? s.Int(3) : 0), 0);
      rows.push_back(
          Row{s.Int(0), s.Text(1), eligible_refunded, s.Int(4) != 0, s.Int(5) != 0, s.Int(6)});
    }
    if (rc != SQLITE_DONE) return SqliteError(writer_, rc, "reading refunds");
  }

  int64_t refunded = 0;  // C_k, saturating: an absurd sum must not wrap to a small one
  bool rest = false;
  int64_t clawed = 0;  // target(k-1): the shares already decided
  for (const Row& row : rows) {
    if (__builtin_add_overflow(refunded, row.eligible_refunded, &refunded)) {
      refunded = std::numeric_limits<int64_t>::max();
    }
    rest = rest || row.rest;
    if (row.applied) {
      clawed += row.clawback;
      continue;
    }
    const int64_t target = ClawbackTarget(earned, eligible, refunded, rest);
    const int64_t share = std::max<int64_t>(target - clawed, 0);
    clawed += share;

    Stmt mark(*writer_statements_, sql.mark);
    LOYALTYD_RETURN_IF_ERROR(mark.prepare_status());
    mark.Bind(1, row.id).Bind(2, share);
    const int mrc = mark.Step();
    if (mrc != SQLITE_DONE) return SqliteError(writer_, mrc, "applying refund");
    if (share == 0) continue;  // a gift card or shipping refund: nothing to take back

    Result<int64_t> balance =
        book == Book::kPoints ? PointsBalanceLocked(customer_id) : CreditBalanceLocked(customer_id);
    if (!balance.ok()) return balance.status();
    const int64_t before = *balance;
    // Points or credit already spent cannot be taken back: unless the program allows a
    // negative balance, take what is there and record what could not be taken.
    const int64_t available = std::max<int64_t>(before, 0);
    const int64_t taken = allow_negative_balance ? share : std::min(share, available);
    std::string description =
        (row.refund_key == "full" ? std::string("order cancelled or fully refunded")
                                  : "refund " + row.refund_key) +
        ": " + (book == Book::kPoints ? std::to_string(share) : FormatMinor(share, exponent)) +
        " of the " + earned_text + " taken back";
    if (taken < share) {
      description += "; shortfall of " + amount_text(share - taken, " point(s)") +
                     " already spent: the balance held " + amount_text(available, "");
    }

    Result<bool> posted = false;  // false: this refund clawed back before
    if (book == Book::kPoints) {
      Posting posting;
      posting.customer_id = customer_id;
      posting.order_id = order_id;
      posting.source_event_id = event_id;
      posting.kind = "clawback";
      posting.refund_key = row.refund_key;
      posting.points = -taken;
      posting.description = std::move(description);
      posting.effective_at_ms = effective_at_ms;
      posted = PostPoints(posting, now_ms);
    } else {
      CreditPosting posting;
      posting.customer_id = customer_id;
      posting.order_id = order_id;
      posting.source_event_id = event_id;
      posting.kind = "clawback";
      posting.refund_key = row.refund_key;
      posting.amount_minor = -taken;
      posting.currency = currency;
      posting.description = std::move(description);
      posted = PostCredit(posting, now_ms);
    }
    if (!posted.ok()) return posted.status();
  }
  return Status::Ok();
}

Status SqliteStorage::MarkEvent(int64_t event_id, EventStatus status, const std::string& reason,
                                int64_t now_ms) {
  Stmt s(*writer_statements_,
         "UPDATE inbox_events SET status = ?2, status_reason = ?3, processed_at_ms = ?4 "
         "WHERE id = ?1");
  LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
  s.Bind(1, event_id).BindCopy(2, EventStatusName(status)).Bind(3, reason);
  s.Bind(4, now_ms);
  const int rc = s.Step();
  return rc == SQLITE_DONE ? Status::Ok() : SqliteError(writer_, rc, "marking event");
}

Result<std::vector<CustomerRecord>> SqliteStorage::FindCustomersByEmail(
    const std::string& email_normalised) {
  ReadLease lease(*this);
  Stmt s(lease.statements(), (std::string("SELECT ") + sqlite_internal::kCustomerRowColumns +
                              " FROM customers WHERE email_normalised = ?1 ORDER BY id LIMIT 100")
                                 .c_str());
  LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
  s.Bind(1, email_normalised);
  std::vector<CustomerRecord> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) out.push_back(sqlite_internal::ReadCustomerRow(s));
  if (rc != SQLITE_DONE) return SqliteError(lease.db(), rc, "finding customers");
  return out;
}

Result<std::optional<CustomerRecord>> SqliteStorage::GetCustomer(int64_t id) {
  ReadLease lease(*this);
  Stmt s(lease.statements(), (std::string("SELECT ") + sqlite_internal::kCustomerRowColumns +
                              " FROM customers WHERE id = ?1")
                                 .c_str());
  LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
  s.Bind(1, id);
  const int rc = s.Step();
  if (rc == SQLITE_ROW) return std::optional<CustomerRecord>(sqlite_internal::ReadCustomerRow(s));
  if (rc == SQLITE_DONE) return std::optional<CustomerRecord>();
  return SqliteError(lease.db(), rc, "reading customer");
}

Result<std::vector<LedgerEntryRecord>> SqliteStorage::ListLedger(int64_t customer_id,
                                                                 int64_t before_id, size_t limit) {
  ReadLease lease(*this);
  Stmt s(lease.statements(),
         "SELECT l.id, l.customer_id, l.points, l.balance_after, l.kind, l.rule_id, "
         "l.description, COALESCE(l.source_event_id, 0), COALESCE(e.topic, ''), "
         "o.platform_order_id, o.name, l.created_at_ms, COALESCE(l.redemption_id, 0), "
         "l.refund_key FROM ledger_entries l "
         "LEFT JOIN inbox_events e ON e.id = l.source_event_id "
         "LEFT JOIN orders o ON o.id = l.order_id "
         "WHERE l.customer_id = ?1 AND (?2 <= 0 OR l.id < ?2) ORDER BY l.id DESC LIMIT ?3");
  LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
  s.Bind(1, customer_id).Bind(2, before_id).Bind(3, static_cast<int64_t>(limit));
  std::vector<LedgerEntryRecord> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    LedgerEntryRecord r;
    r.id = s.Int(0);
    r.customer_id = s.Int(1);
    r.points = s.Int(2);
    r.balance_after = s.Int(3);
    r.kind = s.Text(4);
    r.rule_id = s.Text(5);
    r.description = s.Text(6);
    r.source_event_id = s.Int(7);
    r.source_topic = s.Text(8);
    r.order_platform_id = s.Text(9);
    r.order_name = s.Text(10);
    r.created_at_ms = s.Int(11);
    r.redemption_id = s.Int(12);
    r.refund_key = s.Text(13);
    out.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) return SqliteError(lease.db(), rc, "reading ledger");
  return out;
}

Result<std::vector<InboxEvent>> SqliteStorage::ListEvents(std::optional<EventStatus> status,
                                                          int64_t before_id, size_t limit) {
  ReadLease lease(*this);
  Stmt s(lease.statements(),
         "SELECT id, shop_id, platform, topic, dedupe_key, delivery_id, received_at_ms, status, "
         "status_reason, processed_at_ms FROM inbox_events "
         "WHERE (?1 = '' OR status = ?1) AND (?2 <= 0 OR id < ?2) ORDER BY id DESC LIMIT ?3");
  LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
  const std::string status_name = status ? std::string(EventStatusName(*status)) : "";
  s.Bind(1, status_name).Bind(2, before_id).Bind(3, static_cast<int64_t>(limit));
  std::vector<InboxEvent> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    InboxEvent e;
    e.id = s.Int(0);
    e.shop_id = s.Text(1);
    e.platform = s.Text(2);
    e.topic = s.Text(3);
    e.dedupe_key = s.Text(4);
    e.delivery_id = s.Text(5);
    e.received_at_ms = s.Int(6);
    e.status = ParseEventStatus(s.Text(7)).value_or(EventStatus::kPending);
    e.status_reason = s.Text(8);
    e.processed_at_ms = s.Int(9);
    out.push_back(std::move(e));
  }
  if (rc != SQLITE_DONE) return SqliteError(lease.db(), rc, "listing events");
  return out;
}

Result<InboxCounts> SqliteStorage::CountInbox() {
  ReadLease lease(*this);
  Stmt s(lease.statements(), "SELECT status, COUNT(*) FROM inbox_events GROUP BY status");
  LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
  InboxCounts counts;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    const std::optional<EventStatus> status = ParseEventStatus(s.Text(0));
    const int64_t n = s.Int(1);
    if (!status) continue;
    switch (*status) {
      case EventStatus::kPending:
        counts.pending = n;
        break;
      case EventStatus::kProcessed:
        counts.processed = n;
        break;
      case EventStatus::kIgnored:
        counts.ignored = n;
        break;
      case EventStatus::kFailed:
        counts.failed = n;
        break;
    }
  }
  if (rc != SQLITE_DONE) return SqliteError(lease.db(), rc, "counting inbox");
  return counts;
}

}  // namespace loyaltyd
