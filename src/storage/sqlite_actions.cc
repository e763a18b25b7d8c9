// SqliteStorage, action rules: a customer's non-purchase action and its points, once per
// Idempotency-Key, within the rule's limit (docs/storage.md: action_requests, ledger_entries).
#include <sqlite3.h>

#include "storage/sqlite_statement.h"
#include "storage/sqlite_storage.h"

namespace loyaltyd {

using sqlite_internal::InTransaction;
using sqlite_internal::SqliteError;
using sqlite_internal::StepDone;
using sqlite_internal::Stmt;

std::string_view ActionOutcomeName(ActionOutcome outcome) {
  switch (outcome) {
    case ActionOutcome::kAwarded:
      return "awarded";
    case ActionOutcome::kLimitReached:
      return "limit_reached";
  }
  return "unknown";
}

Result<std::optional<ActionRequestRecord>> SqliteStorage::FindActionRequestLocked(
    int64_t customer_id, const std::string& idempotency_key) {
  Stmt s(*writer_statements_,
         "SELECT id, customer_id, idempotency_key, action, rule_id, reference, occurred_at_ms, "
         "outcome, slot, max_slots, period_label, next_period_starts_at_ms, "
         "COALESCE(ledger_entry_id, 0), points, balance_after, description, created_at_ms "
         "FROM action_requests WHERE customer_id = ?1 AND idempotency_key = ?2");
  LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
  s.Bind(1, customer_id).Bind(2, idempotency_key);
  const int rc = s.Step();
  if (rc == SQLITE_DONE) return std::optional<ActionRequestRecord>();
  if (rc != SQLITE_ROW) return SqliteError(writer_, rc, "reading action request");
  ActionRequestRecord r;
  r.id = s.Int(0);
  r.customer_id = s.Int(1);
  r.idempotency_key = s.Text(2);
  r.action = s.Text(3);
  r.rule_id = s.Text(4);
  r.reference = s.Text(5);
  r.occurred_at_ms = s.Int(6);
  r.outcome = s.Text(7) == "awarded" ? ActionOutcome::kAwarded : ActionOutcome::kLimitReached;
  r.slot = static_cast<int>(s.Int(8));
  r.max_slots = static_cast<int>(s.Int(9));
  r.period_label = s.Text(10);
  r.next_period_starts_at_ms = s.Int(11);
  r.ledger_entry_id = s.Int(12);
  r.points = s.Int(13);
  r.balance_after = s.Int(14);
  r.description = s.Text(15);
  r.created_at_ms = s.Int(16);
  return std::optional<ActionRequestRecord>(std::move(r));
}

Result<RecordActionResult> SqliteStorage::RecordAction(const NewActionRequest& a, int64_t now_ms) {
  RecordActionResult result;
  std::lock_guard<std::mutex> lock(write_mu_);
  Status st = InTransaction(writer_, [&]() -> Status {
    Result<std::optional<ActionRequestRecord>> existing =
        FindActionRequestLocked(a.customer_id, a.idempotency_key);
    if (!existing.ok()) return existing.status();
    if (existing->has_value()) {
      result.replayed = true;
      result.request = std::move(**existing);
      return Status::Ok();
    }
    Result<int64_t> balance = PointsBalanceLocked(a.customer_id);  // NotFound for a stranger
    if (!balance.ok()) return balance.status();

    ActionRequestRecord& r = result.request;
    r.customer_id = a.customer_id;
    r.idempotency_key = a.idempotency_key;
    r.action = a.action;
    r.rule_id = a.rule_id;
    r.reference = a.reference;
    r.occurred_at_ms = a.occurred_at_ms;
    r.max_slots = static_cast<int>(a.slots.size());
    r.period_label = a.period_label;
    r.next_period_starts_at_ms = a.next_period_starts_at_ms;
    r.outcome = ActionOutcome::kLimitReached;
    r.balance_after = *balance;
    r.description = a.limit_reached_message;
    r.created_at_ms = now_ms;

    // The first slot whose once key is free. Writers are serialised (write_mu_, BEGIN
    // IMMEDIATE) and the key is unique in the ledger besides, so two requests can never both
    // take one slot, and the limit holds whatever the concurrency.
    for (size_t i = 0; i < a.slots.size(); ++i) {
      Posting posting;
      posting.customer_id = a.customer_id;
      posting.rule_id = a.rule_id;
      posting.kind = "action";
      posting.once_key = a.slots[i].once_key;
      posting.points = a.points;
      posting.description = a.slots[i].description;
      Result<bool> posted = PostPoints(posting, now_ms);
      if (!posted.ok()) return posted.status();
      if (!*posted) continue;  // taken by an earlier action
      Stmt entry(*writer_statements_,
                 "SELECT id, balance_after FROM ledger_entries WHERE customer_id = ?1 AND "
                 "once_key = ?2");
      LOYALTYD_RETURN_IF_ERROR(entry.prepare_status());
      entry.Bind(1, a.customer_id).Bind(2, a.slots[i].once_key);
      const int rc = entry.Step();
      if (rc != SQLITE_ROW) return SqliteError(writer_, rc, "reading action ledger entry");
      r.outcome = ActionOutcome::kAwarded;
      r.slot = static_cast<int>(i + 1);
      r.ledger_entry_id = entry.Int(0);
      r.balance_after = entry.Int(1);
      r.points = a.points;
      r.description = a.slots[i].description;
      break;
    }

    Stmt insert(*writer_statements_,
                "INSERT INTO action_requests (customer_id, idempotency_key, action, rule_id, "
                "reference, occurred_at_ms, outcome, slot, max_slots, period_label, "
                "next_period_starts_at_ms, ledger_entry_id, points, balance_after, description, "
                "created_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
                "?14, ?15, ?16)");
    const std::string outcome(ActionOutcomeName(r.outcome));
    insert.Bind(1, r.customer_id).Bind(2, r.idempotency_key).Bind(3, r.action);
    insert.Bind(4, r.rule_id).Bind(5, r.reference).Bind(6, r.occurred_at_ms).Bind(7, outcome);
    insert.Bind(8, int64_t{r.slot}).Bind(9, int64_t{r.max_slots}).Bind(10, r.period_label);
    insert.Bind(11, r.next_period_starts_at_ms);
    if (r.ledger_entry_id != 0) insert.Bind(12, r.ledger_entry_id);
    insert.Bind(13, r.points).Bind(14, r.balance_after).Bind(15, r.description);
    insert.Bind(16, now_ms);
    LOYALTYD_RETURN_IF_ERROR(StepDone(insert, writer_, "recording action request"));
    r.id = sqlite3_last_insert_rowid(writer_);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return result;
}

}  // namespace loyaltyd
