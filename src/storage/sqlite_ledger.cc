// SqliteStorage, the points ledger: every change to a balance goes through PostPoints, so that
// an entry's balance_after, the customer's balance and the ledger's once-only keys can never
// disagree (docs/storage.md, ledger_entries).
#include <sqlite3.h>

#include "storage/sqlite_statement.h"
#include "storage/sqlite_storage.h"

namespace loyaltyd {

using sqlite_internal::SqliteError;
using sqlite_internal::StepDone;
using sqlite_internal::Stmt;

Result<int64_t> SqliteStorage::PointsBalanceLocked(int64_t customer_id) {
  Stmt balance(*writer_statements_, "SELECT points_balance FROM customers WHERE id = ?1");
  LOYALTYD_RETURN_IF_ERROR(balance.prepare_status());
  balance.Bind(1, customer_id);
  const int rc = balance.Step();
  if (rc == SQLITE_ROW) return balance.Int(0);
  if (rc == SQLITE_DONE) return NotFound("no customer with id " + std::to_string(customer_id));
  return SqliteError(writer_, rc, "reading balance");
}

Result<bool> SqliteStorage::PostPoints(const Posting& p, int64_t now_ms) {
  // Shared membership (sqlite_members.cc): a posting that names an account linked to another
  // member (a clawback of an order it earned before, a held award, a referral reward) goes to
  // the member's books.
  if (!p.exact_customer) {
    Result<int64_t> member = LinkedMemberLocked(p.customer_id);
    if (!member.ok()) return member.status();
    if (*member != p.customer_id) {
      Posting to_member = p;
      to_member.customer_id = *member;
      to_member.exact_customer = true;
      return PostPoints(to_member, now_ms);
    }
  }
  Result<int64_t> before = PointsBalanceLocked(p.customer_id);
  if (!before.ok()) return before.status();
  const int64_t after = *before + p.points;

  Stmt insert(*writer_statements_,
              "INSERT INTO ledger_entries (customer_id, order_id, redemption_id, source_event_id, "
              "rule_id, kind, refund_key, once_key, points, balance_after, description, "
              "created_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) "
              // No conflict target: any of the ledger's unique keys ((order, rule, kind,
              // refund), (redemption, kind), (customer, once key)) makes a repeat a no-op.
              "ON CONFLICT DO NOTHING");
  LOYALTYD_RETURN_IF_ERROR(insert.prepare_status());
  insert.Bind(1, p.customer_id);
  if (p.order_id != 0) insert.Bind(2, p.order_id);
  if (p.redemption_id != 0) insert.Bind(3, p.redemption_id);
  if (p.source_event_id != 0) insert.Bind(4, p.source_event_id);
  insert.Bind(5, p.rule_id).Bind(6, p.kind).Bind(7, p.refund_key).BindNullIfEmpty(8, p.once_key);
  insert.Bind(9, p.points).Bind(10, after).Bind(11, p.description).Bind(12, now_ms);
  LOYALTYD_RETURN_IF_ERROR(StepDone(insert, writer_, "writing ledger entry"));
  if (sqlite3_changes(writer_) == 0) return false;

  const int64_t entry_id = sqlite3_last_insert_rowid(writer_);

  Stmt update(*writer_statements_,
              "UPDATE customers SET points_balance = ?2, updated_at_ms = ?3 WHERE id = ?1");
  update.Bind(1, p.customer_id).Bind(2, after).Bind(3, now_ms);
  LOYALTYD_RETURN_IF_ERROR(StepDone(update, writer_, "updating balance"));

  // The lots follow the balance in the same transaction (sqlite_lots.cc).
  if (p.points > 0) LOYALTYD_RETURN_IF_ERROR(CreditLot(p, entry_id, *before, now_ms));
  if (p.points < 0) LOYALTYD_RETURN_IF_ERROR(DebitLots(p, now_ms));
  // What the customer does (not what is done to them: clawbacks, expiry, redemption refunds)
  // keeps their points alive under program.expiry.inactivity_days.
  if (p.kind == "earn" || p.kind == "redeem" || p.kind == "action") {
    Stmt activity(*writer_statements_,
                  "INSERT INTO customer_activity (customer_id, last_activity_ms) VALUES (?1, ?2) "
                  "ON CONFLICT(customer_id) DO UPDATE SET "
                  "last_activity_ms = MAX(last_activity_ms, excluded.last_activity_ms)");
    activity.Bind(1, p.customer_id).Bind(2, p.effective_at_ms != 0 ? p.effective_at_ms : now_ms);
    LOYALTYD_RETURN_IF_ERROR(StepDone(activity, writer_, "recording activity"));
  }
  // Events out: points.earned / points.redeemed, queued in this transaction
  // (sqlite_events_out.cc). Nothing to do without an endpoint.
  if (!events_out_.endpoints.empty()) {
    LOYALTYD_RETURN_IF_ERROR(EmitLedgerEventLocked(p, entry_id, after, now_ms));
  }
  return true;
}

}  // namespace loyaltyd
