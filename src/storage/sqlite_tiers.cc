// SqliteStorage, VIP tiers: what tiers count (paid orders, memberships, platform tags), each
// customer's standing, and the tier changes — each with its "tier" ledger entry (0 points,
// through PostPoints) and its update_tags outbox job, in the transaction that causes it
// (docs/storage.md, "VIP tiers"). The decision itself is the TierPolicy's (rules/tier_rules.h).
#include <sqlite3.h>

#include <algorithm>

#include "storage/sqlite_statement.h"
#include "storage/sqlite_storage.h"

namespace loyaltyd {

using sqlite_internal::InTransaction;
using sqlite_internal::SqliteError;
using sqlite_internal::StepDone;
using sqlite_internal::Stmt;

namespace {

// Tags are kept one per line: platform tags never hold a newline (Shopify splits on commas).
std::string JoinLines(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : "\n") + item;
  return out;
}

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// Customers re-evaluated per transaction by ReevaluateTiers: short enough that webhooks queued
// behind the write lock wait milliseconds, not the whole run.
constexpr int64_t kReevaluateChunk = 256;

}  // namespace

Result<TierStanding> SqliteStorage::TierStandingOn(sqlite3* db, int64_t customer_id) {
  Stmt s(StatementsFor(db),
         "SELECT c.id, COALESCE(t.level_id, ''), COALESCE(t.reached_at_ms, 0), "
         "COALESCE(t.keep_until_ms, 0) FROM customers c "
         "LEFT JOIN customer_tiers t ON t.customer_id = c.id WHERE c.id = ?1");
  LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
  s.Bind(1, customer_id);
  const int rc = s.Step();
  if (rc == SQLITE_DONE) return NotFound("no customer with id " + std::to_string(customer_id));
  if (rc != SQLITE_ROW) return SqliteError(db, rc, "reading tier");
  return TierStanding{s.Text(1), s.Int(2), s.Int(3)};
}

Result<TierFacts> SqliteStorage::LoadTierFactsOn(sqlite3* db, int64_t customer_id,
                                                 int64_t window_start_ms, int64_t as_of_ms) {
  TierFacts facts;
  {
    // Per paid order in the window: its eligible spend, what its refunds gave back of it (the
    // clawback definition: merchandise without tax), whether it was cancelled or refunded in
    // full, and the points it earned net of clawbacks.
    Stmt s(StatementsFor(db),
           "SELECT o.eligible_minor, "
           "COALESCE((SELECT SUM(MAX(r.merchandise_minor - CASE WHEN o.taxes_included "
           "THEN r.tax_minor ELSE 0 END, 0)) FROM order_refunds r WHERE r.order_id = o.id), 0), "
           "COALESCE((SELECT MAX(r.refunds_rest) FROM order_refunds r WHERE r.order_id = o.id), "
           "0), "
           "COALESCE((SELECT SUM(l.points) FROM ledger_entries l WHERE l.order_id = o.id AND "
           "l.kind IN ('earn', 'clawback')), 0) "
           "FROM tier_orders t JOIN orders o ON o.id = t.order_id "
           "WHERE t.customer_id = ?1 AND t.paid_at_ms >= ?2 AND t.paid_at_ms <= ?3");
    LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
    s.Bind(1, customer_id).Bind(2, window_start_ms).Bind(3, as_of_ms);
    int rc;
    while ((rc = s.Step()) == SQLITE_ROW) {
      const int64_t eligible = s.Int(0);
      const int64_t refunded = s.Int(1);
      const bool rest = s.Int(2) != 0;
      const int64_t points = std::max<int64_t>(s.Int(3), 0);
      const bool whole = rest || (eligible > 0 && refunded >= eligible);
      if (!whole) {
        facts.spend_minor += std::max<int64_t>(eligible - refunded, 0);
        facts.orders += 1;
      }
      facts.points_earned += points;
    }
    if (rc != SQLITE_DONE) return SqliteError(db, rc, "reading tier activity");
  }
  {
    // A membership counts while it runs, unless its order was cancelled or refunded in full.
    Stmt s(StatementsFor(db),
           "SELECT DISTINCT g.level_id FROM tier_grants g WHERE g.customer_id = ?1 AND "
           "g.starts_at_ms <= ?2 AND g.ends_at_ms > ?2 AND NOT EXISTS (SELECT 1 FROM "
           "order_refunds r WHERE r.order_id = g.order_id AND r.refunds_rest = 1) ORDER BY 1");
    LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
    s.Bind(1, customer_id).Bind(2, as_of_ms);
    int rc;
    while ((rc = s.Step()) == SQLITE_ROW) facts.granted_level_ids.push_back(s.Text(0));
    if (rc != SQLITE_DONE) return SqliteError(db, rc, "reading memberships");
  }
  {
    Stmt s(StatementsFor(db), "SELECT platform_tags FROM customer_tiers WHERE customer_id = ?1");
    LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
    s.Bind(1, customer_id);
    const int rc = s.Step();
    if (rc == SQLITE_ROW) facts.platform_tags = SplitLines(s.Text(0));
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return SqliteError(db, rc, "reading tags");
  }
  return facts;
}

Result<std::string> SqliteStorage::RecordTierInputs(const EventOutcome& outcome,
                                                    int64_t customer_id, int64_t order_id,
                                                    int64_t now_ms) {
  if (customer_id == 0) return std::string();
  const int64_t as_of = outcome.received_at_ms;
  // The level before this event, as of its time: the one its earn is multiplied by. Earlier
  // events of this customer in the same batch are already applied in this transaction.
  std::string level_before;
  if (outcome.tiers && !outcome.points_by_tier.empty()) {
    Result<TierStanding> current = TierStandingOn(writer_, customer_id);
    if (!current.ok()) return current.status();
    Result<TierFacts> facts =
        LoadTierFactsOn(writer_, customer_id, outcome.tiers->WindowStartMs(as_of), as_of);
    if (!facts.ok()) return facts.status();
    level_before = outcome.tiers->Evaluate(*facts, *current, as_of).level_id;
  }
  if (outcome.platform_tags) {
    // Shopify sends the customer's tags with every order, nearly always the same: the row is
    // rewritten only when they change. Each rewrite is a page scattered by customer that the
    // WAL and the checkpoint write (customer_tiers pages were in the scale benchmark's WAL;
    // bench/README.md, "Scale").
    Stmt s(*writer_statements_,
           "INSERT INTO customer_tiers (customer_id, platform_tags, updated_at_ms) "
           "VALUES (?1, ?2, ?3) ON CONFLICT(customer_id) DO UPDATE SET "
           "platform_tags = excluded.platform_tags, updated_at_ms = excluded.updated_at_ms "
           "WHERE platform_tags IS NOT excluded.platform_tags");
    LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
    const std::string tags = JoinLines(*outcome.platform_tags);
    s.Bind(1, customer_id).Bind(2, tags).Bind(3, now_ms);
    LOYALTYD_RETURN_IF_ERROR(StepDone(s, writer_, "recording customer tags"));
  }
  // A paid order counts for tiers from the moment of the event that paid it: the first such
  // event keeps the row, so a redelivery or a later payload never moves it.
  if (order_id != 0 && outcome.order && outcome.order->paid && !outcome.order->placeholder) {
    Stmt s(*writer_statements_,
           "INSERT INTO tier_orders (order_id, customer_id, paid_at_ms, source_event_id) "
           "VALUES (?1, ?2, ?3, ?4) ON CONFLICT(order_id) DO NOTHING");
    LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
    s.Bind(1, order_id).Bind(2, customer_id).Bind(3, as_of).Bind(4, outcome.event_id);
    LOYALTYD_RETURN_IF_ERROR(StepDone(s, writer_, "recording paid order for tiers"));
  }
  for (const TierGrant& grant : outcome.tier_grants) {
    if (order_id == 0) break;
    Stmt s(*writer_statements_,
           "INSERT INTO tier_grants (customer_id, level_id, order_id, starts_at_ms, ends_at_ms, "
           "source_event_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
           "ON CONFLICT(order_id, level_id) DO NOTHING");
    LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
    s.Bind(1, customer_id).Bind(2, grant.level_id).Bind(3, order_id).Bind(4, as_of);
    s.Bind(5, as_of + grant.duration_ms).Bind(6, outcome.event_id);
    LOYALTYD_RETURN_IF_ERROR(StepDone(s, writer_, "recording membership"));
  }
  return level_before;
}

Result<bool> SqliteStorage::EvaluateTierOfOutcome(const EventOutcome& outcome, int64_t customer_id,
                                                  int64_t order_id, int64_t now_ms) {
  if (customer_id == 0 && order_id != 0) {
    // A refund on its own names only its order: the tier to look at is the order's customer's.
    Stmt s(*writer_statements_, "SELECT COALESCE(customer_id, 0) FROM orders WHERE id = ?1");
    LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
    s.Bind(1, order_id);
    const int rc = s.Step();
    if (rc == SQLITE_ROW) customer_id = s.Int(0);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return SqliteError(writer_, rc, "reading order");
  }
  if (customer_id == 0) return false;
  return EvaluateTierLocked(*outcome.tiers, customer_id, outcome.received_at_ms, outcome.event_id,
                            now_ms);
}

Result<bool> SqliteStorage::EvaluateTierLocked(const TierPolicy& policy, int64_t customer_id,
                                               int64_t as_of_ms, int64_t source_event_id,
                                               int64_t now_ms) {
  // Shared membership (sqlite_members.cc): an account linked to another member has no tier of
  // its own; the member's is written to its store.
  Result<int64_t> member = LinkedMemberLocked(customer_id);
  if (!member.ok()) return member.status();
  if (*member != customer_id) return false;
  Result<TierStanding> current = TierStandingOn(writer_, customer_id);
  if (!current.ok()) return current.status();
  Result<TierFacts> facts =
      LoadTierFactsOn(writer_, customer_id, policy.WindowStartMs(as_of_ms), as_of_ms);
  if (!facts.ok()) return facts.status();
  const TierStanding next = policy.Evaluate(*facts, *current, as_of_ms);
  if (next == *current) return false;

  Stmt upsert(*writer_statements_,
              "INSERT INTO customer_tiers (customer_id, level_id, reached_at_ms, keep_until_ms, "
              "updated_at_ms) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(customer_id) DO UPDATE SET "
              "level_id = excluded.level_id, reached_at_ms = excluded.reached_at_ms, "
              "keep_until_ms = excluded.keep_until_ms, updated_at_ms = excluded.updated_at_ms");
  LOYALTYD_RETURN_IF_ERROR(upsert.prepare_status());
  upsert.Bind(1, customer_id).Bind(2, next.level_id).Bind(3, next.reached_at_ms);
  upsert.Bind(4, next.keep_until_ms).Bind(5, now_ms);
  LOYALTYD_RETURN_IF_ERROR(StepDone(upsert, writer_, "recording tier"));
  if (next.level_id == current->level_id) return false;  // kept longer, not a change

  // The change is a ledger event: a 0-point "tier" entry in the customer's history. Entries
  // without an order or redemption have no unique key; this one is written once because it is
  // written only in the transaction that changes the standing it compares against.
  Posting posting;
  posting.customer_id = customer_id;
  posting.source_event_id = source_event_id;
  posting.rule_id = next.level_id;
  posting.kind = "tier";
  posting.points = 0;  // PostPoints makes no lot for it, and "tier" is not customer activity
  posting.effective_at_ms = as_of_ms;
  posting.description = policy.DescribeChange(*current, next, *facts);
  Result<bool> posted = PostPoints(posting, now_ms);
  if (!posted.ok()) return posted.status();
  const int64_t entry_id = sqlite3_last_insert_rowid(writer_);
  // Events out: tier.changed, in this transaction (sqlite_events_out.cc).
  if (!events_out_.endpoints.empty()) {
    LOYALTYD_RETURN_IF_ERROR(EmitTierEventLocked(customer_id, current->level_id, next.level_id,
                                                 posting.description, entry_id, now_ms));
  }
  // The change's history row for the tier movement report (sqlite_reports.cc).
  LOYALTYD_RETURN_IF_ERROR(RecordTierChangeLocked(policy, customer_id, current->level_id,
                                                  next.level_id, as_of_ms, entry_id,
                                                  source_event_id, now_ms));

  // The member's tier is written to every store it has an account on (shared membership,
  // sqlite_members.cc): a merchant tags the customer they see in each store. A member of one
  // has just its own account.
  struct TagAccount {
    int64_t id;
    std::string shop_id, platform_customer_id;
  };
  std::vector<TagAccount> accounts;
  {
    Stmt who(*writer_statements_,
             "SELECT id, shop_id, COALESCE(platform_customer_id, '') FROM customers WHERE id = ?1 "
             "UNION ALL SELECT c.id, c.shop_id, COALESCE(c.platform_customer_id, '') "
             "FROM member_links l JOIN customers c ON c.id = l.customer_id "
             "WHERE l.member_id = ?1 AND l.customer_id <> ?1");
    LOYALTYD_RETURN_IF_ERROR(who.prepare_status());
    who.Bind(1, customer_id);
    int rc;
    while ((rc = who.Step()) == SQLITE_ROW)
      accounts.push_back({who.Int(0), who.Text(1), who.Text(2)});
    if (rc != SQLITE_DONE) return SqliteError(writer_, rc, "reading member accounts");
  }
  if (accounts.empty()) return Internal("customer vanished during tier evaluation");
  const std::vector<std::string> add = policy.TagsOf(next.level_id);
  std::vector<std::string> remove;
  for (const std::string& tag : policy.AllTierTags()) {
    if (std::find(add.begin(), add.end(), tag) == add.end()) remove.push_back(tag);
  }
  if (add.empty() && remove.empty()) return true;
  const std::string add_text = JoinLines(add);
  const std::string remove_text = JoinLines(remove);
  for (const TagAccount& account : accounts) {
    const std::string& shop_id = account.shop_id;
    // Guests have no customer record in the store to tag.
    if (account.platform_customer_id.empty() || !policy.WritesTagsTo(shop_id)) continue;
    Stmt job(*writer_statements_,
             "INSERT INTO outbox_jobs (shop_id, kind, idempotency_key, next_attempt_at_ms, "
             "created_at_ms, updated_at_ms) VALUES (?1, 'update_tags', ?2, ?3, ?3, ?3)");
    LOYALTYD_RETURN_IF_ERROR(job.prepare_status());
    const std::string key = shop_id + ":tags:" + std::to_string(entry_id);
    job.Bind(1, shop_id).Bind(2, key).Bind(3, now_ms);
    LOYALTYD_RETURN_IF_ERROR(StepDone(job, writer_, "queueing tag job"));
    const int64_t job_id = sqlite3_last_insert_rowid(writer_);
    Stmt tags(*writer_statements_,
              "INSERT INTO tag_updates (job_id, customer_id, add_tags, remove_tags) "
              "VALUES (?1, ?2, ?3, ?4)");
    LOYALTYD_RETURN_IF_ERROR(tags.prepare_status());
    tags.Bind(1, job_id).Bind(2, account.id).Bind(3, add_text).Bind(4, remove_text);
    LOYALTYD_RETURN_IF_ERROR(StepDone(tags, writer_, "recording tag job"));
  }
  return true;
}

Result<TierStanding> SqliteStorage::GetCustomerTier(int64_t customer_id) {
  ReadLease lease(*this);
  return TierStandingOn(lease.db(), customer_id);
}

Result<TierFacts> SqliteStorage::LoadTierFacts(int64_t customer_id, int64_t window_start_ms,
                                               int64_t as_of_ms) {
  ReadLease lease(*this);
  return LoadTierFactsOn(lease.db(), customer_id, window_start_ms, as_of_ms);
}

Result<int64_t> SqliteStorage::ReevaluateTiers(const TierPolicy& policy, int64_t now_ms) {
  const int64_t window_start = policy.WindowStartMs(now_ms);
  int64_t changes = 0;
  int64_t after_id = 0;
  for (;;) {
    std::lock_guard<std::mutex> lock(write_mu_);
    bool more = false;
    Status st = InTransaction(writer_, [&]() -> Status {
      // Everyone whose tier time can change: holders (downgrades), customers with activity in
      // the window or a running membership (a changed config), and tagged customers.
      Stmt ids(*writer_statements_,
               "SELECT customer_id FROM customer_tiers WHERE customer_id > ?1 AND "
               "(level_id != '' OR platform_tags != '') "
               "UNION SELECT customer_id FROM tier_orders WHERE customer_id > ?1 AND "
               "paid_at_ms >= ?2 AND paid_at_ms <= ?3 "
               "UNION SELECT customer_id FROM tier_grants WHERE customer_id > ?1 AND "
               "ends_at_ms > ?3 ORDER BY 1 LIMIT ?4");
      LOYALTYD_RETURN_IF_ERROR(ids.prepare_status());
      ids.Bind(1, after_id).Bind(2, window_start).Bind(3, now_ms).Bind(4, kReevaluateChunk);
      std::vector<int64_t> batch;
      int rc;
      while ((rc = ids.Step()) == SQLITE_ROW) batch.push_back(ids.Int(0));
      if (rc != SQLITE_DONE) return SqliteError(writer_, rc, "listing customers with tiers");
      ids.Reset();
      for (int64_t id : batch) {
        Result<bool> changed = EvaluateTierLocked(policy, id, now_ms, 0, now_ms);
        if (!changed.ok()) return changed.status();
        if (*changed) ++changes;
      }
      more = static_cast<int64_t>(batch.size()) == kReevaluateChunk;
      if (!batch.empty()) after_id = batch.back();
      return Status::Ok();
    });
    if (!st.ok()) return st;
    if (!more) return changes;
  }
}

Result<std::optional<TagUpdate>> SqliteStorage::GetTagUpdate(int64_t job_id) {
  ReadLease lease(*this);
  Stmt s(lease.statements(),
         "SELECT j.shop_id, u.customer_id, COALESCE(c.platform_customer_id, ''), n.add_tags, "
         "n.remove_tags FROM tag_updates u JOIN outbox_jobs j ON j.id = u.job_id "
         "JOIN customers c ON c.id = u.customer_id "
         "JOIN tag_updates n ON n.job_id = (SELECT MAX(job_id) FROM tag_updates "
         "WHERE customer_id = u.customer_id) WHERE u.job_id = ?1");
  LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
  s.Bind(1, job_id);
  const int rc = s.Step();
  if (rc == SQLITE_DONE) return std::optional<TagUpdate>();
  if (rc != SQLITE_ROW) return SqliteError(lease.db(), rc, "reading tag job");
  TagUpdate update;
  update.job_id = job_id;
  update.shop_id = s.Text(0);
  update.customer_id = s.Int(1);
  update.platform_customer_id = s.Text(2);
  update.add = SplitLines(s.Text(3));
  update.remove = SplitLines(s.Text(4));
  return std::optional<TagUpdate>(std::move(update));
}

Status SqliteStorage::CompleteTagJob(int64_t job_id, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(write_mu_);
  return InTransaction(writer_, [&]() -> Status {
    Stmt s(*writer_statements_,
           "UPDATE outbox_jobs SET status = 'done', last_error = '', updated_at_ms = ?2 "
           "WHERE id = ?1 AND status != 'done'");
    LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
    s.Bind(1, job_id).Bind(2, now_ms);
    return StepDone(s, writer_, "completing tag job");
  });
}

}  // namespace loyaltyd
