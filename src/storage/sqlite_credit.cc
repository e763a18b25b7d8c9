// SqliteStorage, store credit (cashback): every change to a credit balance goes through
// PostCredit, so that an entry's balance_after_minor, the customer's credit balance and the
// credit ledger's once-only keys can never disagree (docs/storage.md, credit_entries). Payouts
// ride on the redemptions path: a payout is a store_credit redemption paid with credit, so the
// outbox worker issues it exactly like a store-credit reward.
#include <sqlite3.h>

#include "core/money.h"
#include "storage/sqlite_statement.h"
#include "storage/sqlite_storage.h"

namespace loyaltyd {

using sqlite_internal::InTransaction;
using sqlite_internal::SqliteError;
using sqlite_internal::StepDone;
using sqlite_internal::Stmt;

namespace {

// A payout's reward id: ':' is not allowed in a catalogue reward id, so a payout can never be
// mistaken for a reward (RedemptionService refuses an Idempotency-Key reused across the two).
constexpr const char* kPayoutRewardId = "credit:payout";

}  // namespace

Result<int64_t> SqliteStorage::CreditBalanceLocked(int64_t customer_id) {
  Stmt balance(*writer_statements_, "SELECT credit_balance_minor FROM customers WHERE id = ?1");
  LOYALTYD_RETURN_IF_ERROR(balance.prepare_status());
  balance.Bind(1, customer_id);
  const int rc = balance.Step();
  if (rc == SQLITE_ROW) return balance.Int(0);
  if (rc == SQLITE_DONE) return NotFound("no customer with id " + std::to_string(customer_id));
  return SqliteError(writer_, rc, "reading credit balance");
}

Result<bool> SqliteStorage::PostCredit(const CreditPosting& p, int64_t now_ms) {
  // Shared membership: to the member's books, as PostPoints (sqlite_members.cc).
  if (!p.exact_customer) {
    Result<int64_t> member = LinkedMemberLocked(p.customer_id);
    if (!member.ok()) return member.status();
    if (*member != p.customer_id) {
      CreditPosting to_member = p;
      to_member.customer_id = *member;
      to_member.exact_customer = true;
      return PostCredit(to_member, now_ms);
    }
  }
  Result<int64_t> before = CreditBalanceLocked(p.customer_id);
  if (!before.ok()) return before.status();
  int64_t after = 0;
  if (__builtin_add_overflow(*before, p.amount_minor, &after)) {
    return FailedPrecondition("store credit of customer " + std::to_string(p.customer_id) +
                              " would overflow a 64-bit amount");
  }

  Stmt insert(*writer_statements_,
              "INSERT INTO credit_entries (customer_id, order_id, redemption_id, source_event_id, "
              "rule_id, kind, refund_key, amount_minor, balance_after_minor, currency, "
              "description, created_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
              "?12) "
              // No conflict target: either unique key ((order, rule, kind, refund), (payout,
              // kind)) makes a repeat a no-op.
              "ON CONFLICT DO NOTHING");
  LOYALTYD_RETURN_IF_ERROR(insert.prepare_status());
  insert.Bind(1, p.customer_id);
  if (p.order_id != 0) insert.Bind(2, p.order_id);
  if (p.payout_id != 0) insert.Bind(3, p.payout_id);
  if (p.source_event_id != 0) insert.Bind(4, p.source_event_id);
  insert.Bind(5, p.rule_id).Bind(6, p.kind).Bind(7, p.refund_key).Bind(8, p.amount_minor);
  insert.Bind(9, after).Bind(10, p.currency).Bind(11, p.description).Bind(12, now_ms);
  LOYALTYD_RETURN_IF_ERROR(StepDone(insert, writer_, "writing credit entry"));
  if (sqlite3_changes(writer_) == 0) return false;

  Stmt update(*writer_statements_,
              "UPDATE customers SET credit_balance_minor = ?2, updated_at_ms = ?3 WHERE id = ?1");
  update.Bind(1, p.customer_id).Bind(2, after).Bind(3, now_ms);
  LOYALTYD_RETURN_IF_ERROR(StepDone(update, writer_, "updating credit balance"));
  return true;
}

Result<CreditPayoutResult> SqliteStorage::CreateCreditPayout(const NewCreditPayout& p,
                                                             int64_t now_ms) {
  if (p.amount_minor <= 0) return InvalidArgument("a payout must be a positive amount");
  CreditPayoutResult result;
  std::lock_guard<std::mutex> lock(write_mu_);
  Status st = InTransaction(writer_, [&]() -> Status {
    Result<std::optional<RedemptionRecord>> existing =
        RedemptionByKeyLocked(p.customer_id, p.idempotency_key);
    if (!existing.ok()) return existing.status();
    Result<int64_t> balance = CreditBalanceLocked(p.customer_id);
    if (!balance.ok()) return balance.status();
    result.balance_minor = *balance;
    if (existing->has_value()) {
      result.outcome = CreditPayoutResult::Outcome::kExisting;
      result.payout = std::move(**existing);
      return Status::Ok();
    }
    // The writer is serialised (write_mu_), so two payouts can never both see the same
    // balance: the second sees what the first left.
    if (*balance < p.amount_minor) {
      result.outcome = CreditPayoutResult::Outcome::kInsufficientCredit;
      return Status::Ok();
    }

    Stmt insert(*writer_statements_,
                "INSERT INTO redemptions (customer_id, shop_id, idempotency_key, reward_id, "
                "reward_kind, reward_name, points, value_minor, currency, restrict_to_customer, "
                "paid_with, created_at_ms, updated_at_ms) "
                "VALUES (?1, ?2, ?3, ?4, 'store_credit', ?5, 0, ?6, ?7, 1, 'credit', ?8, ?8)");
    LOYALTYD_RETURN_IF_ERROR(insert.prepare_status());
    insert.Bind(1, p.customer_id).Bind(2, p.shop_id).Bind(3, p.idempotency_key);
    insert.BindCopy(4, kPayoutRewardId).Bind(5, p.description).Bind(6, p.amount_minor);
    insert.Bind(7, p.currency).Bind(8, now_ms);
    LOYALTYD_RETURN_IF_ERROR(StepDone(insert, writer_, "recording payout"));
    const int64_t payout_id = sqlite3_last_insert_rowid(writer_);

    CreditPosting posting;
    posting.customer_id = p.customer_id;
    posting.payout_id = payout_id;
    posting.kind = "payout";
    posting.amount_minor = -p.amount_minor;
    posting.currency = p.currency;
    posting.description =
        "paid out as store credit in the store (payout " + std::to_string(payout_id) + ")";
    Result<bool> posted = PostCredit(posting, now_ms);
    if (!posted.ok()) return posted.status();
    if (!*posted) return Internal("a new payout's credit entry existed already");

    // The same job as a store-credit reward, keyed on the redemption, so the outbox worker
    // issues it (and looks for it before issuing again) exactly as it does rewards.
    Stmt job(*writer_statements_,
             "INSERT INTO outbox_jobs (shop_id, kind, redemption_id, idempotency_key, "
             "next_attempt_at_ms, created_at_ms, updated_at_ms) "
             "VALUES (?1, 'issue_reward', ?2, ?3, ?4, ?4, ?4)");
    LOYALTYD_RETURN_IF_ERROR(job.prepare_status());
    job.Bind(1, p.shop_id).Bind(2, payout_id);
    const std::string job_key = p.shop_id + ":credit:" + std::to_string(payout_id);
    job.Bind(3, job_key).Bind(4, now_ms);
    LOYALTYD_RETURN_IF_ERROR(StepDone(job, writer_, "queueing payout job"));

    Result<std::optional<RedemptionRecord>> created = RedemptionByIdLocked(payout_id);
    if (!created.ok()) return created.status();
    if (!created->has_value()) return Internal("payout vanished inside its transaction");
    result.outcome = CreditPayoutResult::Outcome::kCreated;
    result.payout = std::move(**created);
    result.balance_minor = *balance - p.amount_minor;
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return result;
}

Status SqliteStorage::RefundCreditPayoutLocked(int64_t payout_id, const std::string& reason,
                                               int64_t now_ms) {
  // What the payout took, from its own entry: the credit goes back exactly.
  Stmt payout(*writer_statements_,
              "SELECT customer_id, amount_minor, currency FROM credit_entries "
              "WHERE redemption_id = ?1 AND kind = 'payout'");
  LOYALTYD_RETURN_IF_ERROR(payout.prepare_status());
  payout.Bind(1, payout_id);
  const int rc = payout.Step();
  if (rc == SQLITE_DONE) return Internal("payout " + std::to_string(payout_id) + " has no entry");
  if (rc != SQLITE_ROW) return SqliteError(writer_, rc, "reading payout entry");
  CreditPosting posting;
  posting.customer_id = payout.Int(0);
  posting.payout_id = payout_id;
  posting.kind = "payout_refund";
  posting.amount_minor = -payout.Int(1);
  posting.currency = payout.Text(2);
  posting.description = "refund of payout " + std::to_string(payout_id) +
                        ": the store rejected the store credit (" + reason + ")";
  payout.Reset();
  Result<bool> posted = PostCredit(posting, now_ms);  // false: refunded before
  return posted.ok() ? Status::Ok() : posted.status();
}

Result<std::vector<CreditEntryRecord>> SqliteStorage::ListCreditEntries(int64_t customer_id,
                                                                        int64_t before_id,
                                                                        size_t limit) {
  ReadLease lease(*this);
  Stmt s(lease.statements(),
         "SELECT c.id, c.customer_id, c.kind, c.amount_minor, c.balance_after_minor, c.currency, "
         "c.rule_id, c.refund_key, c.description, COALESCE(c.source_event_id, 0), "
         "COALESCE(e.topic, ''), COALESCE(o.platform_order_id, ''), COALESCE(o.name, ''), "
         "COALESCE(c.redemption_id, 0), c.created_at_ms FROM credit_entries c "
         "LEFT JOIN inbox_events e ON e.id = c.source_event_id "
         "LEFT JOIN orders o ON o.id = c.order_id "
         "WHERE c.customer_id = ?1 AND (?2 <= 0 OR c.id < ?2) ORDER BY c.id DESC LIMIT ?3");
  LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
  s.Bind(1, customer_id).Bind(2, before_id).Bind(3, static_cast<int64_t>(limit));
  std::vector<CreditEntryRecord> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    CreditEntryRecord r;
    r.id = s.Int(0);
    r.customer_id = s.Int(1);
    r.kind = s.Text(2);
    r.amount_minor = s.Int(3);
    r.balance_after_minor = s.Int(4);
    r.currency = s.Text(5);
    r.rule_id = s.Text(6);
    r.refund_key = s.Text(7);
    r.description = s.Text(8);
    r.source_event_id = s.Int(9);
    r.source_topic = s.Text(10);
    r.order_platform_id = s.Text(11);
    r.order_name = s.Text(12);
    r.payout_id = s.Int(13);
    r.created_at_ms = s.Int(14);
    out.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) return SqliteError(lease.db(), rc, "reading credit ledger");
  return out;
}

}  // namespace loyaltyd
