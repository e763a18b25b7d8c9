// SqliteStorage, reports (docs/api.md, "Reports"; docs/storage.md, "Reports"): the customer
// manager report, the program's points liability and the tier distribution and movement, and
// the tier_changes history that the movement is read from.
//
// Every report reads on a reader connection (ReadLease) inside one deferred read transaction, so
// that its figures come from one snapshot; in WAL mode that never blocks the writer (it only
// keeps a checkpoint from passing the snapshot until the report is done). Each query below says
// what it costs on a large store (10^6 customers, 10^7 ledger entries).
#include <sqlite3.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>

#include "core/calendar.h"
#include "storage/sqlite_statement.h"
#include "storage/sqlite_storage.h"

namespace loyaltyd {

using sqlite_internal::ReadTransaction;
using sqlite_internal::SqliteError;
using sqlite_internal::StepDone;
using sqlite_internal::Stmt;

namespace {

constexpr int64_t kReportDayMs = 86'400'000;

std::string ReportMonthLabel(int64_t year, int month) {
  char text[16];
  std::snprintf(text, sizeof(text), "%04lld-%02d", static_cast<long long>(year), month);
  return text;
}

}  // namespace

std::vector<ReportMonth> ReportMonths(int64_t from_year, int from_month, int64_t to_year,
                                      int to_month) {
  std::vector<ReportMonth> months;
  int64_t year = from_year;
  int month = from_month;
  while (year < to_year || (year == to_year && month <= to_month)) {
    ReportMonth m;
    m.label = ReportMonthLabel(year, month);
    m.starts_at_ms = DaysFromCivil(year, month, 1) * kReportDayMs;
    const int64_t next_year = month == 12 ? year + 1 : year;
    const int next_month = month == 12 ? 1 : month + 1;
    m.next_starts_at_ms = DaysFromCivil(next_year, next_month, 1) * kReportDayMs;
    months.push_back(std::move(m));
    year = next_year;
    month = next_month;
  }
  return months;
}

LedgerCategory LedgerKindCategory(std::string_view kind) {
  if (kind == "earn" || kind == "action" || kind == "referral") return LedgerCategory::kEarned;
  if (kind == "redeem" || kind == "refund") return LedgerCategory::kRedeemed;
  if (kind == "expire") return LedgerCategory::kExpired;
  if (kind == "clawback") return LedgerCategory::kClawedBack;
  if (kind == "tier") return LedgerCategory::kNone;
  // Shared membership: a merge moves points between customers, and its pair nets to zero.
  if (kind == "merge_in" || kind == "merge_out") return LedgerCategory::kNone;
  return LedgerCategory::kAdjusted;
}

Status SqliteStorage::RecordTierChangeLocked(const TierPolicy& policy, int64_t customer_id,
                                             const std::string& from_level_id,
                                             const std::string& to_level_id, int64_t changed_at_ms,
                                             int64_t ledger_entry_id, int64_t source_event_id,
                                             int64_t now_ms) {
  // The direction is decided now, by the level order of the config that made the change: a
  // later reordering of the levels does not rewrite history.
  const int from_rank = policy.LevelRank(from_level_id);
  const int to_rank = policy.LevelRank(to_level_id);
  std::string direction;
  if (from_rank >= 0 && to_rank >= 0 && from_rank != to_rank) {
    direction = to_rank > from_rank ? "up" : "down";
  }
  Stmt s(*writer_statements_,
         "INSERT INTO tier_changes (customer_id, from_level_id, to_level_id, direction, "
         "changed_at_ms, ledger_entry_id, source_event_id, created_at_ms) "
         "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
  LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
  s.Bind(1, customer_id).Bind(2, from_level_id).Bind(3, to_level_id).Bind(4, direction);
  s.Bind(5, changed_at_ms);
  if (ledger_entry_id != 0) s.Bind(6, ledger_entry_id);
  if (source_event_id != 0) s.Bind(7, source_event_id);
  s.Bind(8, now_ms);
  return StepDone(s, writer_, "recording tier change");
}

Result<std::vector<CustomerReportRow>> SqliteStorage::CustomerReport(
    const CustomerReportQuery& query) {
  ReadLease lease(*this);
  sqlite3* db = lease.db();
  // One statement per page. Cost: O(limit) customers read backwards along the rowid from
  // before_id (a keyset seek: page 1000 costs what page 1 does); per customer a primary-key
  // lookup in customer_tiers, a range of orders_customer (their paid orders, a row read each)
  // and a range of referrals_referrer (their referrals, a row read each for the status), then a
  // sort of the page. Nothing scans a whole table and nothing is asked per customer from C++:
  // the cost grows with the page, not with the store. INDEXED BY makes a plan without those
  // indexes an error (caught by every test) rather than a silent scan of the table.
  Stmt s(db,
         "WITH page AS (SELECT id FROM customers WHERE id < ?1 ORDER BY id DESC LIMIT ?2) "
         "SELECT c.id, c.shop_id, COALESCE(c.platform_customer_id, ''), c.email, c.first_name, "
         "c.last_name, COALESCE(t.level_id, ''), COALESCE(t.reached_at_ms, 0), c.points_balance, "
         "c.credit_balance_minor, "
         "(SELECT COUNT(*) FROM referrals r INDEXED BY referrals_referrer "
         "WHERE r.referrer_customer_id = c.id AND r.status = 'converted'), "
         "COUNT(o.id), COALESCE(SUM(CASE WHEN o.currency = ?3 THEN o.total_minor END), 0), "
         // created_at is the platform's ISO-8601 text, often with an offset: compared as
         // instants, never as text. Unparsable (or empty) values are NULL and skipped.
         "COALESCE(MAX(unixepoch(NULLIF(o.created_at, ''))), 0), c.created_at_ms "
         "FROM page JOIN customers c ON c.id = page.id "
         "LEFT JOIN customer_tiers t ON t.customer_id = c.id "
         "LEFT JOIN orders o INDEXED BY orders_customer ON o.customer_id = c.id AND o.paid = 1 "
         "GROUP BY c.id ORDER BY c.id DESC");
  LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
  // No cursor yet: from the newest customer on.
  const int64_t before = query.before_id > 0 ? query.before_id : INT64_MAX;
  s.Bind(1, before).Bind(2, static_cast<int64_t>(query.limit)).Bind(3, query.currency);
  std::vector<CustomerReportRow> rows;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    CustomerReportRow r;
    r.customer_id = s.Int(0);
    r.shop_id = s.Text(1);
    r.platform_customer_id = s.Text(2);
    r.email = s.Text(3);
    r.first_name = s.Text(4);
    r.last_name = s.Text(5);
    r.tier_level_id = s.Text(6);
    r.tier_reached_at_ms = r.tier_level_id.empty() ? 0 : s.Int(7);
    r.points_balance = s.Int(8);
    r.credit_balance_minor = s.Int(9);
    r.referrals_converted = s.Int(10);
    r.paid_orders = s.Int(11);
    r.paid_total_minor = s.Int(12);
    r.last_order_at_ms = s.Int(13) * 1000;
    r.created_at_ms = s.Int(14);
    rows.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) return SqliteError(db, rc, "reporting customers");
  return rows;
}

Result<PointsLiability> SqliteStorage::LiabilityReport(const LiabilityQuery& query) {
  ReadLease lease(*this);
  sqlite3* db = lease.db();
  ReadTransaction snapshot(lease.statements());
  LOYALTYD_RETURN_IF_ERROR(snapshot.status());
  PointsLiability out;
  out.expiring_points.assign(query.expiring_within_ms.size(), 0);
  {
    // Cost: one pass over point_lots_expiry, which holds the open lots only and covers
    // (expires_at_ms, id, remaining): O(open lots) index entries, no table rows, one result row.
    // The open lots sum to the positive balances (storage keeps them so): what the program
    // owes. One SUM per expiring bucket (?1 + i is the bucket's bound).
    std::string sql =
        "SELECT COALESCE(SUM(remaining), 0), COUNT(*), "
        "COALESCE(SUM(CASE WHEN expires_at_ms = 0 THEN remaining END), 0)";
    for (size_t i = 0; i < query.expiring_within_ms.size(); ++i) {
      sql += ", COALESCE(SUM(CASE WHEN expires_at_ms > 0 AND expires_at_ms <= ?" +
             std::to_string(i + 1) + " THEN remaining END), 0)";
    }
    sql += " FROM point_lots INDEXED BY point_lots_expiry WHERE remaining > 0";
    Stmt s(db, sql.c_str());
    LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
    for (size_t i = 0; i < query.expiring_within_ms.size(); ++i) {
      s.Bind(static_cast<int>(i + 1), query.now_ms + query.expiring_within_ms[i]);
    }
    const int rc = s.Step();
    if (rc != SQLITE_ROW) return SqliteError(db, rc, "reporting open points");
    out.outstanding_points = s.Int(0);
    out.open_lots = s.Int(1);
    out.never_expiring_points = s.Int(2);
    for (size_t i = 0; i < query.expiring_within_ms.size(); ++i) {
      out.expiring_points[i] = s.Int(static_cast<int>(i + 3));
    }
  }
  {
    // Cost: the pending range of pending_awards_due, a row read per held award (awards wait
    // program.award.hold_days, so these are the last days' orders, not the history).
    Stmt s(db, "SELECT COALESCE(SUM(points), 0) FROM pending_awards WHERE status = 'pending'");
    LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
    const int rc = s.Step();
    if (rc != SQLITE_ROW) return SqliteError(db, rc, "reporting pending points");
    out.pending_points = s.Int(0);
  }
  {
    // Cost per month: a range scan of the covering ledger_entries_time index over that month's
    // entries only, O(entries in the month) index entries, grouped by kind (a handful of
    // groups). A year of a 10^7-entry ledger is one pass over the year's index entries.
    Stmt s(db,
           "SELECT kind, SUM(points), COUNT(*) FROM ledger_entries INDEXED BY ledger_entries_time "
           "WHERE created_at_ms >= ?1 AND created_at_ms < ?2 GROUP BY kind");
    LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
    for (const ReportMonth& month : query.months) {
      LedgerMonthRow row;
      row.month = month;
      s.Bind(1, month.starts_at_ms).Bind(2, month.next_starts_at_ms);
      int rc;
      while ((rc = s.Step()) == SQLITE_ROW) {
        const std::string kind = s.Text(0);
        const int64_t points = s.Int(1);
        row.points_by_kind[kind] = points;
        row.entries += s.Int(2);
        switch (LedgerKindCategory(kind)) {
          case LedgerCategory::kEarned:
            row.earned += points;
            break;
          case LedgerCategory::kRedeemed:
            row.redeemed -= points;
            break;
          case LedgerCategory::kExpired:
            row.expired -= points;
            break;
          case LedgerCategory::kClawedBack:
            row.clawed_back -= points;
            break;
          case LedgerCategory::kAdjusted:
            row.adjusted += points;
            break;
          case LedgerCategory::kNone:
            break;
        }
      }
      if (rc != SQLITE_DONE) return SqliteError(db, rc, "reporting the ledger by month");
      s.Reset();
      out.months.push_back(std::move(row));
    }
  }
  return out;
}

Result<TierFigures> SqliteStorage::TierReport(const std::vector<ReportMonth>& months) {
  ReadLease lease(*this);
  sqlite3* db = lease.db();
  ReadTransaction snapshot(lease.statements());
  LOYALTYD_RETURN_IF_ERROR(snapshot.status());
  TierFigures out;
  {
    // Cost: COUNT(*) of customers is a scan of its smallest index, O(customers) index entries
    // (SQLite keeps no row count); done once per report.
    Stmt s(db, "SELECT COUNT(*) FROM customers");
    LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
    const int rc = s.Step();
    if (rc != SQLITE_ROW) return SqliteError(db, rc, "counting customers");
    out.customers = s.Int(0);
  }
  int64_t with_tier = 0;
  {
    // Cost: a scan of customer_tiers_level (covering), O(customers with a tier row).
    Stmt s(db,
           "SELECT level_id, COUNT(*) FROM customer_tiers INDEXED BY customer_tiers_level "
           "WHERE level_id != '' GROUP BY level_id ORDER BY level_id");
    LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
    int rc;
    while ((rc = s.Step()) == SQLITE_ROW) {
      out.levels.push_back(TierLevelCount{s.Text(0), s.Int(1)});
      with_tier += s.Int(1);
    }
    if (rc != SQLITE_DONE) return SqliteError(db, rc, "counting customers per tier");
  }
  out.levels.insert(out.levels.begin(), TierLevelCount{"", out.customers - with_tier});
  {
    // Cost per month: a range scan of the covering tier_changes_time index over the month's
    // changes, O(changes in the month); the DISTINCTs sort within one level's group.
    // side 0: entered to_level_id, side 1: left from_level_id; direction '*' is the total.
    Stmt s(db,
           "SELECT 0, to_level_id, direction, COUNT(DISTINCT customer_id) FROM tier_changes "
           "INDEXED BY tier_changes_time WHERE changed_at_ms >= ?1 AND changed_at_ms < ?2 "
           "GROUP BY to_level_id, direction "
           "UNION ALL SELECT 0, to_level_id, '*', COUNT(DISTINCT customer_id) FROM tier_changes "
           "INDEXED BY tier_changes_time WHERE changed_at_ms >= ?1 AND changed_at_ms < ?2 "
           "GROUP BY to_level_id "
           "UNION ALL SELECT 1, from_level_id, direction, COUNT(DISTINCT customer_id) FROM "
           "tier_changes INDEXED BY tier_changes_time WHERE changed_at_ms >= ?1 AND "
           "changed_at_ms < ?2 GROUP BY from_level_id, direction "
           "UNION ALL SELECT 1, from_level_id, '*', COUNT(DISTINCT customer_id) FROM "
           "tier_changes INDEXED BY tier_changes_time WHERE changed_at_ms >= ?1 AND "
           "changed_at_ms < ?2 GROUP BY from_level_id");
    LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
    for (const ReportMonth& month : months) {
      std::map<std::string, TierMovementRow> by_level;
      s.Bind(1, month.starts_at_ms).Bind(2, month.next_starts_at_ms);
      int rc;
      while ((rc = s.Step()) == SQLITE_ROW) {
        const bool entered = s.Int(0) == 0;
        const std::string level = s.Text(1);
        const std::string direction = s.Text(2);
        const int64_t count = s.Int(3);
        TierMovementRow& row = by_level[level];
        row.month = month.label;
        row.level_id = level;
        if (direction == "*") {
          (entered ? row.entered : row.left) = count;
        } else if (direction == "up") {
          (entered ? row.upgraded_in : row.upgraded_out) = count;
        } else if (direction == "down") {
          (entered ? row.downgraded_in : row.downgraded_out) = count;
        }
      }
      if (rc != SQLITE_DONE) return SqliteError(db, rc, "reporting tier movement");
      s.Reset();
      for (auto& [level, row] : by_level) out.movement.push_back(std::move(row));
    }
  }
  return out;
}

Result<std::vector<TierChangeRecord>> SqliteStorage::ListTierChanges(int64_t customer_id,
                                                                     size_t limit) {
  ReadLease lease(*this);
  sqlite3* db = lease.db();
  // Cost: a range of tier_changes_customer, O(limit).
  Stmt s(db,
         "SELECT id, customer_id, from_level_id, to_level_id, direction, changed_at_ms, "
         "COALESCE(ledger_entry_id, 0), COALESCE(source_event_id, 0) FROM tier_changes "
         "WHERE customer_id = ?1 ORDER BY id DESC LIMIT ?2");
  LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
  s.Bind(1, customer_id).Bind(2, static_cast<int64_t>(limit));
  std::vector<TierChangeRecord> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    TierChangeRecord r;
    r.id = s.Int(0);
    r.customer_id = s.Int(1);
    r.from_level_id = s.Text(2);
    r.to_level_id = s.Text(3);
    r.direction = s.Text(4);
    r.changed_at_ms = s.Int(5);
    r.ledger_entry_id = s.Int(6);
    r.source_event_id = s.Int(7);
    out.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) return SqliteError(db, rc, "listing tier changes");
  return out;
}

}  // namespace loyaltyd
