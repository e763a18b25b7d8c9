// SqliteStorage, customer tools (issue 7; docs/storage.md "adjustments", "Customer search"):
// customer search, manual adjustments and opening-balance imports. Every points change goes
// through PostPoints under write_mu_, inside the writer's transaction, like earning and
// redeeming, so balances, lots and the ledger never disagree.
#include <sqlite3.h>

#include <algorithm>

#include "storage/sqlite_statement.h"
#include "storage/sqlite_storage.h"

namespace loyaltyd {

using sqlite_internal::SqliteError;
using sqlite_internal::StepDone;
using sqlite_internal::Stmt;

// The tables and indexes of this file, run by Open after the main schema (CREATE ... IF NOT
// EXISTS: an older database gains them on its next start).
extern const char* const kCustomerToolsSchema;
const char* const kCustomerToolsSchema = R"sql(
-- Customer search by tier (GET /api/v1/customers?tier=): the level's customers in id order
-- without reading every customer.
CREATE INDEX IF NOT EXISTS customer_tiers_level ON customer_tiers(level_id, customer_id);
-- Manual adjustments, one per (customer, Idempotency key): who and why, and the entry posted.
CREATE TABLE IF NOT EXISTS adjustments (
  id              INTEGER PRIMARY KEY,
  customer_id     INTEGER NOT NULL REFERENCES customers(id),
  idempotency_key TEXT NOT NULL,
  points          INTEGER NOT NULL,
  reason          TEXT NOT NULL,
  actor           TEXT NOT NULL,
  ledger_entry_id INTEGER NOT NULL REFERENCES ledger_entries(id),
  balance_after   INTEGER NOT NULL,
  created_at_ms   INTEGER NOT NULL,
  UNIQUE (customer_id, idempotency_key)
);
-- For the foreign key (see "Foreign keys" in sqlite_storage.cc's schema).
CREATE INDEX IF NOT EXISTS adjustments_ledger_entry ON adjustments(ledger_entry_id);
)sql";

namespace {

// Rows of an import committed per transaction: the writer is free for webhooks in between.
constexpr size_t kImportBatchRows = 500;
// The once-ever ledger key of a customer's imported opening balance.
constexpr const char* kOpeningBalanceKey = "opening_balance";

// `text` as a LIKE pattern matching it anywhere, with LIKE's own wildcards escaped.
std::string ContainsPattern(const std::string& text) {
  std::string out = "%";
  for (char c : text) {
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += c;
  }
  return out + "%";
}

}  // namespace

std::string SqliteStorage::CustomerSearchSql(const CustomerSearch& q) {
  // The filters narrow in this order of cost: the email is an index lookup (customers_email,
  // whose entries end in the rowid, so the id order and cursor come from the index too); the
  // tier walks customer_tiers_level from the cursor; the text has no index. A text search
  // walks the customers (or the email's or tier's rows) in id order from the cursor and stops
  // at limit + 1 matches: a common term costs a few pages, a term that matches no one reads
  // every row, about a second on 10^6 customers (LIKE cannot use a B-tree for a substring; an
  // FTS5 trigram index would, at the cost of a second copy of every name and email).
  const bool by_tier = !q.tier_level.empty();
  const std::string id = by_tier ? "t.customer_id" : "c.id";
  std::string sql = std::string("SELECT ") + sqlite_internal::kCustomerRowColumnsOfC +
                    ", COALESCE(t.level_id, '') FROM " +
                    (by_tier ? "customer_tiers t JOIN customers c ON c.id = t.customer_id"
                             : "customers c LEFT JOIN customer_tiers t ON t.customer_id = c.id") +
                    " WHERE 1";
  if (!q.email_normalised.empty()) sql += " AND c.email_normalised = ?1";
  if (!q.text.empty()) {
    // LIKE folds ASCII case; email_normalised is lower-case already.
    sql +=
        " AND (c.email_normalised LIKE ?2 ESCAPE '\\' OR "
        "(c.first_name || ' ' || c.last_name) LIKE ?2 ESCAPE '\\')";
  }
  if (by_tier) sql += " AND t.level_id = ?3";
  if (q.before_id > 0) {
    sql += " AND " + id + " < ?4 ORDER BY " + id + " DESC LIMIT ?5";
  } else {
    sql += " AND " + id + " > ?4 ORDER BY " + id + " LIMIT ?5";
  }
  return sql;
}

Result<CustomerSearchPage> SqliteStorage::SearchCustomers(const CustomerSearch& q) {
  ReadLease lease(*this);
  const std::string sql = CustomerSearchSql(q);
  Stmt s(lease.db(), sql.c_str());
  LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
  const std::string pattern = ContainsPattern(q.text);
  if (!q.email_normalised.empty()) s.Bind(1, q.email_normalised);
  if (!q.text.empty()) s.Bind(2, pattern);
  if (!q.tier_level.empty()) s.Bind(3, q.tier_level);
  s.Bind(4, q.before_id > 0 ? q.before_id : q.after_id);
  s.Bind(5, static_cast<int64_t>(q.limit) + 1);  // one more: tells whether there are more
  CustomerSearchPage page;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    page.rows.push_back({sqlite_internal::ReadCustomerRow(s), s.Text(10)});
  }
  if (rc != SQLITE_DONE) return SqliteError(lease.db(), rc, "searching customers");
  const bool more = page.rows.size() > q.limit;
  if (more) page.rows.pop_back();
  if (q.before_id > 0) {
    std::reverse(page.rows.begin(), page.rows.end());
    page.more_before = more;
    // Where the caller came from; whether anything still matches there is not checked (that
    // would be a second walk for a text search).
    page.more_after = !page.rows.empty();
  } else {
    page.more_after = more;
    page.more_before = q.after_id > 0 && !page.rows.empty();
  }
  return page;
}

Result<std::optional<std::string>> SqliteStorage::FindReferralCode(int64_t customer_id) {
  ReadLease lease(*this);
  Stmt s(lease.statements(), "SELECT code FROM referral_codes WHERE customer_id = ?1");
  LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
  s.Bind(1, customer_id);
  const int rc = s.Step();
  if (rc == SQLITE_ROW) return std::optional<std::string>(s.Text(0));
  if (rc == SQLITE_DONE) return std::optional<std::string>();
  return SqliteError(lease.db(), rc, "reading referral code");
}

Result<AdjustmentResult> SqliteStorage::CreateAdjustment(const NewAdjustment& a, int64_t now_ms) {
  AdjustmentResult result;
  std::lock_guard<std::mutex> lock(write_mu_);
  Status st = InTransaction(writer_, [&]() -> Status {
    Result<int64_t> balance = PointsBalanceLocked(a.customer_id);  // NotFound for a stranger
    if (!balance.ok()) return balance.status();
    result.balance = *balance;
    {
      Stmt existing(*writer_statements_,
                    "SELECT id, points, reason, actor, ledger_entry_id, balance_after, "
                    "created_at_ms FROM adjustments WHERE customer_id = ?1 AND "
                    "idempotency_key = ?2");
      LOYALTYD_RETURN_IF_ERROR(existing.prepare_status());
      existing.Bind(1, a.customer_id).Bind(2, a.idempotency_key);
      const int rc = existing.Step();
      if (rc == SQLITE_ROW) {
        AdjustmentRecord& r = result.adjustment;
        r.id = existing.Int(0);
        r.customer_id = a.customer_id;
        r.idempotency_key = a.idempotency_key;
        r.points = existing.Int(1);
        r.reason = existing.Text(2);
        r.actor = existing.Text(3);
        r.ledger_entry_id = existing.Int(4);
        r.balance_after = existing.Int(5);
        r.created_at_ms = existing.Int(6);
        const bool same = r.points == a.points && r.reason == a.reason && r.actor == a.actor;
        result.outcome =
            same ? AdjustmentResult::Outcome::kReplayed : AdjustmentResult::Outcome::kKeyConflict;
        return Status::Ok();
      }
      if (rc != SQLITE_DONE) return SqliteError(writer_, rc, "reading adjustment");
    }
    int64_t after = 0;
    if (__builtin_add_overflow(*balance, a.points, &after)) {
      return InvalidArgument("the adjustment would overflow the balance");
    }
    // Like a redemption, a debit never takes the balance below zero unless the program lets
    // refunds do so (program.refunds.allow_negative_balance): the same rule for every debit
    // the merchant causes.
    if (a.points < 0 && after < 0 && !a.allow_negative_balance) {
      result.outcome = AdjustmentResult::Outcome::kInsufficientPoints;
      return Status::Ok();
    }
    Posting posting;
    posting.customer_id = a.customer_id;
    posting.kind = "adjustment";
    // Unique per customer in the ledger as well: an adjustment can never post twice.
    posting.once_key = "adjustment:" + a.idempotency_key;
    posting.points = a.points;
    posting.description = "adjustment by " + a.actor + ": " + a.reason;
    Result<bool> posted = PostPoints(posting, now_ms);
    if (!posted.ok()) return posted.status();
    if (!*posted) return FailedPrecondition("adjustment already posted");
    Stmt entry(*writer_statements_,
               "SELECT id, balance_after FROM ledger_entries WHERE customer_id = ?1 AND "
               "once_key = ?2");
    LOYALTYD_RETURN_IF_ERROR(entry.prepare_status());
    entry.Bind(1, a.customer_id).Bind(2, posting.once_key);
    const int rc = entry.Step();
    if (rc != SQLITE_ROW) return SqliteError(writer_, rc, "reading adjustment entry");
    AdjustmentRecord& r = result.adjustment;
    r.customer_id = a.customer_id;
    r.idempotency_key = a.idempotency_key;
    r.points = a.points;
    r.reason = a.reason;
    r.actor = a.actor;
    r.ledger_entry_id = entry.Int(0);
    r.balance_after = entry.Int(1);
    r.created_at_ms = now_ms;
    result.balance = r.balance_after;
    Stmt insert(*writer_statements_,
                "INSERT INTO adjustments (customer_id, idempotency_key, points, reason, actor, "
                "ledger_entry_id, balance_after, created_at_ms) "
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    insert.Bind(1, r.customer_id).Bind(2, r.idempotency_key).Bind(3, r.points);
    insert.Bind(4, r.reason).Bind(5, r.actor).Bind(6, r.ledger_entry_id);
    insert.Bind(7, r.balance_after).Bind(8, now_ms);
    LOYALTYD_RETURN_IF_ERROR(StepDone(insert, writer_, "recording adjustment"));
    r.id = sqlite3_last_insert_rowid(writer_);
    result.outcome = AdjustmentResult::Outcome::kCreated;
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return result;
}

Result<OpeningBalanceOutcome> SqliteStorage::ImportOpeningBalanceLocked(
    const OpeningBalanceRow& row, int64_t now_ms) {
  OpeningBalanceOutcome out;
  out.line = row.line;
  out.kind = OpeningBalanceOutcome::Kind::kApplied;
  // The customer: by platform id when the file gives one (the identity webhooks use, so that
  // the customer's later orders earn on this record), else the shop's one customer with that
  // email, else a new guest record (which is what a guest order would make).
  if (!row.platform_customer_id.empty()) {
    Stmt find(*writer_statements_,
              "SELECT id FROM customers WHERE shop_id = ?1 AND platform_customer_id = ?2");
    LOYALTYD_RETURN_IF_ERROR(find.prepare_status());
    find.Bind(1, row.shop_id).Bind(2, row.platform_customer_id);
    const int rc = find.Step();
    if (rc == SQLITE_ROW) out.customer_id = find.Int(0);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return SqliteError(writer_, rc, "finding customer");
  } else {
    Stmt find(*writer_statements_,
              "SELECT id FROM customers WHERE shop_id = ?1 AND email_normalised = ?2 "
              "ORDER BY id LIMIT 2");
    LOYALTYD_RETURN_IF_ERROR(find.prepare_status());
    find.Bind(1, row.shop_id).Bind(2, row.email_normalised);
    int rc;
    int found = 0;
    while ((rc = find.Step()) == SQLITE_ROW) {
      out.customer_id = find.Int(0);
      ++found;
    }
    if (rc != SQLITE_DONE) return SqliteError(writer_, rc, "finding customer");
    if (found > 1) {
      out.kind = OpeningBalanceOutcome::Kind::kRejected;
      out.customer_id = 0;
      out.reason = "several customers of shop '" + row.shop_id +
                   "' have this email; add their platform_customer_id";
      return out;
    }
  }
  if (out.customer_id == 0) {
    Stmt insert(*writer_statements_,
                "INSERT INTO customers (shop_id, platform_customer_id, email, email_normalised, "
                "first_name, last_name, created_at_ms, updated_at_ms) "
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7) RETURNING id");
    LOYALTYD_RETURN_IF_ERROR(insert.prepare_status());
    insert.Bind(1, row.shop_id).BindNullIfEmpty(2, row.platform_customer_id);
    insert.Bind(3, row.email).Bind(4, row.email_normalised).Bind(5, row.first_name);
    insert.Bind(6, row.last_name).Bind(7, now_ms);
    const int rc = insert.Step();
    if (rc != SQLITE_ROW) return SqliteError(writer_, rc, "creating customer");
    out.customer_id = insert.Int(0);
    out.customer_created = true;
  }
  // Once per customer ever: a re-posted file finds the entry and changes nothing.
  Stmt previous(*writer_statements_,
                "SELECT points FROM ledger_entries WHERE customer_id = ?1 AND once_key = ?2");
  LOYALTYD_RETURN_IF_ERROR(previous.prepare_status());
  const std::string key = kOpeningBalanceKey;
  previous.Bind(1, out.customer_id).Bind(2, key);
  const int rc = previous.Step();
  if (rc == SQLITE_ROW) {
    const int64_t imported = previous.Int(0);
    if (imported == row.points) {
      out.kind = OpeningBalanceOutcome::Kind::kUnchanged;
    } else {
      // Posting the difference would be wrong once the customer has earned or spent since;
      // an adjustment says who corrected it and why.
      out.kind = OpeningBalanceOutcome::Kind::kRejected;
      out.reason = "customer " + std::to_string(out.customer_id) +
                   " already has an imported opening balance of " + std::to_string(imported) +
                   " points; correct it with POST /api/v1/customers/" +
                   std::to_string(out.customer_id) + "/adjustments";
    }
    return out;
  }
  if (rc != SQLITE_DONE) return SqliteError(writer_, rc, "reading opening balance");
  if (row.points == 0) {
    // Nothing to post: a new customer is the row's whole effect; for a known one, the row
    // changes nothing (and says so, so that a re-posted file reads as unchanged).
    if (!out.customer_created) out.kind = OpeningBalanceOutcome::Kind::kUnchanged;
    return out;
  }
  Posting posting;
  posting.customer_id = out.customer_id;
  posting.kind = "opening_balance";
  posting.once_key = key;
  posting.points = row.points;
  posting.description = "opening balance imported (line " + std::to_string(row.line) + ")";
  Result<bool> posted = PostPoints(posting, now_ms);
  if (!posted.ok()) return posted.status();
  if (!*posted) out.kind = OpeningBalanceOutcome::Kind::kUnchanged;
  return out;
}

Result<std::vector<OpeningBalanceOutcome>> SqliteStorage::ImportOpeningBalances(
    const std::vector<OpeningBalanceRow>& rows, int64_t now_ms) {
  std::vector<OpeningBalanceOutcome> outcomes;
  outcomes.reserve(rows.size());
  for (size_t start = 0; start < rows.size(); start += kImportBatchRows) {
    const size_t end = std::min(rows.size(), start + kImportBatchRows);
    std::vector<OpeningBalanceOutcome> batch;
    std::lock_guard<std::mutex> lock(write_mu_);
    Status st = InTransaction(writer_, [&]() -> Status {
      for (size_t i = start; i < end; ++i) {
        Result<OpeningBalanceOutcome> one = ImportOpeningBalanceLocked(rows[i], now_ms);
        if (!one.ok()) return one.status();
        batch.push_back(std::move(*one));
      }
      return Status::Ok();
    });
    // Earlier batches are committed; each row is once-only, so the caller may simply retry.
    if (!st.ok()) return st;
    for (OpeningBalanceOutcome& o : batch) outcomes.push_back(std::move(o));
  }
  return outcomes;
}

}  // namespace loyaltyd
