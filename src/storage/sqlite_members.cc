// SqliteStorage, shared membership (issue 7, "One customer across stores"; docs/storage.md,
// member_links): several shops share one program (program.shared_by), and an account on one of
// them whose email the platform vouches for is the same member as the account with that email
// on another. The member is one customers row, the first account seen, that keeps the books
// (balance, lots, ledger, store credit, tier); member_links maps every account of a sharing
// shop with a vouched-for email to it (the member's own account to itself).
//
// Why a link table rather than re-keying customers: every table that holds books already
// names a customers row, and an account keeps its own row (its shop, its platform id, its
// email for privacy requests); only the question "whose books?" changes, answered here, once
// per event (ResolveMemberLocked) and once per posting (LinkedMemberLocked, for postings that
// name an account from before its link: a clawback of an order it earned, a held award, a
// referral reward).
//
// An account that joins a member after it already has books (sharing configured on an existing
// database, an email verified later) is merged in the same transaction as the link, so both
// happen once or not at all: its points move by a "merge_out" entry on the account and a
// "merge_in" entry on the member, its open lots move with their expiry, its store credit
// likewise, and what its tier counts (paid orders, memberships) and its held awards move to the
// member. The account's ledger keeps its history up to the merge.
#include <sqlite3.h>

#include <vector>

#include "storage/sqlite_statement.h"
#include "storage/sqlite_storage.h"

namespace loyaltyd {

using sqlite_internal::SqliteError;
using sqlite_internal::StepDone;
using sqlite_internal::Stmt;

const char* SqliteStorage::MembersSchema() {
  return R"sql(
-- Shared membership (docs/storage.md, member_links; sqlite_members.cc): each account of a
-- sharing shop with a verified email, and the member (customers row) whose books it uses.
CREATE TABLE IF NOT EXISTS member_links (
  customer_id      INTEGER PRIMARY KEY REFERENCES customers(id),
  member_id        INTEGER NOT NULL REFERENCES customers(id),
  email_normalised TEXT NOT NULL,  -- the verified email the account was linked by
  linked_at_ms     INTEGER NOT NULL,
  source_event_id  INTEGER REFERENCES inbox_events(id)
);
CREATE INDEX IF NOT EXISTS member_links_member ON member_links(member_id, customer_id);
CREATE INDEX IF NOT EXISTS member_links_email ON member_links(email_normalised, member_id);
-- For the foreign key (see "Foreign keys" in sqlite_storage.cc's schema).
CREATE INDEX IF NOT EXISTS member_links_source_event
  ON member_links(source_event_id) WHERE source_event_id IS NOT NULL;
)sql";
}

Status SqliteStorage::LoadMembersLinkedLocked() {
  Stmt any(*writer_statements_,
           "SELECT EXISTS (SELECT 1 FROM member_links WHERE member_id <> customer_id)");
  LOYALTYD_RETURN_IF_ERROR(any.prepare_status());
  if (any.Step() != SQLITE_ROW) return SqliteError(writer_, SQLITE_ERROR, "reading member links");
  members_linked_.store(any.Int(0) != 0);
  return Status::Ok();
}

Result<int64_t> SqliteStorage::LinkedMemberLocked(int64_t customer_id) {
  if (!members_linked_.load(std::memory_order_relaxed)) return customer_id;
  Stmt link(*writer_statements_, "SELECT member_id FROM member_links WHERE customer_id = ?1");
  LOYALTYD_RETURN_IF_ERROR(link.prepare_status());
  link.Bind(1, customer_id);
  const int rc = link.Step();
  if (rc == SQLITE_ROW) return link.Int(0);
  if (rc == SQLITE_DONE) return customer_id;
  return SqliteError(writer_, rc, "reading member link");
}

Result<int64_t> SqliteStorage::ResolveMemberLocked(const CustomerIdentity& who, int64_t account_id,
                                                   int64_t source_event_id, int64_t now_ms) {
  // Without sharing (no shop in program.shared_by) nothing links, and while no account is
  // linked to another member each account is its own: no lookup on the ingest path.
  if (!who.link_by_email && !members_linked_.load(std::memory_order_relaxed)) return account_id;
  {
    // Linked once, linked for good: the account's books are the member's from then on, even
    // if its email later changes (the platform id, not the email, is the account).
    Stmt link(*writer_statements_, "SELECT member_id FROM member_links WHERE customer_id = ?1");
    LOYALTYD_RETURN_IF_ERROR(link.prepare_status());
    link.Bind(1, account_id);
    const int rc = link.Step();
    if (rc == SQLITE_ROW) return link.Int(0);
    if (rc != SQLITE_DONE) return SqliteError(writer_, rc, "reading member link");
  }
  if (!who.link_by_email || who.platform_customer_id.empty() || who.email_normalised.empty()) {
    return account_id;  // guests and unverified emails never join anyone
  }
  // The member with this verified email on another shop, the oldest if (by a history of email
  // changes) there are several; one that already has an account on this shop is another
  // person to this shop, never joined (the platforms keep account emails unique per store).
  int64_t member_id = 0;
  {
    Stmt find(*writer_statements_,
              "SELECT l.member_id FROM member_links l JOIN customers c ON c.id = l.customer_id "
              "WHERE l.email_normalised = ?1 AND c.shop_id <> ?2 AND NOT EXISTS ("
              "  SELECT 1 FROM member_links m JOIN customers a ON a.id = m.customer_id "
              "  WHERE m.member_id = l.member_id AND a.shop_id = ?2) "
              "ORDER BY l.member_id LIMIT 1");
    LOYALTYD_RETURN_IF_ERROR(find.prepare_status());
    find.Bind(1, who.email_normalised).Bind(2, who.shop_id);
    const int rc = find.Step();
    if (rc == SQLITE_ROW) member_id = find.Int(0);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return SqliteError(writer_, rc, "finding member");
  }
  const int64_t target = member_id != 0 ? member_id : account_id;
  Stmt insert(*writer_statements_,
              "INSERT INTO member_links (customer_id, member_id, email_normalised, linked_at_ms, "
              "source_event_id) VALUES (?1, ?2, ?3, ?4, ?5)");
  LOYALTYD_RETURN_IF_ERROR(insert.prepare_status());
  insert.Bind(1, account_id).Bind(2, target).Bind(3, who.email_normalised).Bind(4, now_ms);
  if (source_event_id != 0) insert.Bind(5, source_event_id);
  LOYALTYD_RETURN_IF_ERROR(StepDone(insert, writer_, "linking account to member"));
  if (member_id == 0) return account_id;  // the first account with this email: its own member
  LOYALTYD_RETURN_IF_ERROR(MergeAccountLocked(account_id, member_id, source_event_id, now_ms));
  // Set inside the transaction: should it roll back, the flag only costs a lookup.
  members_linked_.store(true);
  return member_id;
}

namespace {

// Runs one statement binding ?1 = account and ?2 = member (the merge's moves).
Status RunMemberMove(SqliteStorage::StatementCache& statements, sqlite3* db, const char* sql,
                     int64_t account_id, int64_t member_id, std::string_view what) {
  Stmt s(statements, sql);
  LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
  s.Bind(1, account_id).Bind(2, member_id);
  return StepDone(s, db, what);
}

}  // namespace

Status SqliteStorage::MergeAccountLocked(int64_t account_id, int64_t member_id,
                                         int64_t source_event_id, int64_t now_ms) {
  const std::string why = "account " + std::to_string(account_id) + " joined member " +
                          std::to_string(member_id) + " (same verified email)";
  // Once per (account, member): an account leaves for a member once (an heir that later
  // hands the books on again leaves for another).
  const std::string merge_out_key = "member:merge_out:" + std::to_string(member_id);
  Result<int64_t> points = PointsBalanceLocked(account_id);
  if (!points.ok()) return points.status();
  Result<int64_t> member_points = PointsBalanceLocked(member_id);
  if (!member_points.ok()) return member_points.status();
  if (*points > 0 && *member_points >= 0) {
    // The account's open lots sum to its balance (sqlite_lots.cc). Each moves as it is: a
    // "merge_in" entry on the member per lot makes the member's own lot of what was left, with
    // the lot's earn time, expiry and order, so the member's lots stay its own entries' (a
    // privacy deletion of the account never strands them); one "merge_out" entry empties the
    // account and its lots.
    struct OpenLot {
      int64_t id, order_id, remaining, earned_at_ms, expires_at_ms;
    };
    std::vector<OpenLot> lots;
    {
      Stmt open(*writer_statements_,
                "SELECT id, COALESCE(order_id, 0), remaining, earned_at_ms, expires_at_ms "
                "FROM point_lots WHERE customer_id = ?1 AND remaining > 0 "
                "ORDER BY expires_at_ms, id");
      LOYALTYD_RETURN_IF_ERROR(open.prepare_status());
      open.Bind(1, account_id);
      int rc;
      while ((rc = open.Step()) == SQLITE_ROW) {
        lots.push_back({open.Int(0), open.Int(1), open.Int(2), open.Int(3), open.Int(4)});
      }
      if (rc != SQLITE_DONE) return SqliteError(writer_, rc, "reading the account's lots");
    }
    int64_t in_lots = 0;
    for (const OpenLot& lot : lots) in_lots += lot.remaining;
    if (in_lots != *points) {
      return Internal("account " + std::to_string(account_id) + " has " + std::to_string(in_lots) +
                      " points in open lots and a balance of " + std::to_string(*points) +
                      "; not merging");
    }
    Stmt entry(*writer_statements_,
               "INSERT INTO ledger_entries (customer_id, source_event_id, rule_id, kind, once_key, "
               "points, balance_after, description, created_at_ms) "
               "VALUES (?1, ?2, 'member', ?3, ?4, ?5, ?6, ?7, ?8)");
    LOYALTYD_RETURN_IF_ERROR(entry.prepare_status());
    const auto write_entry = [&](int64_t customer, const char* kind, const std::string& once,
                                 int64_t delta, int64_t after) -> Status {
      entry.Bind(1, customer);
      if (source_event_id != 0) entry.Bind(2, source_event_id);
      entry.BindCopy(3, kind).Bind(4, once).Bind(5, delta).Bind(6, after);
      entry.Bind(7, why).Bind(8, now_ms);
      LOYALTYD_RETURN_IF_ERROR(StepDone(entry, writer_, "writing merge entry"));
      entry.Reset();
      Stmt balance(*writer_statements_,
                   "UPDATE customers SET points_balance = ?2, updated_at_ms = ?3 WHERE id = ?1");
      LOYALTYD_RETURN_IF_ERROR(balance.prepare_status());
      balance.Bind(1, customer).Bind(2, after).Bind(3, now_ms);
      return StepDone(balance, writer_, "moving balance");
    };
    LOYALTYD_RETURN_IF_ERROR(write_entry(account_id, "merge_out", merge_out_key, -*points, 0));
    LOYALTYD_RETURN_IF_ERROR(RunMemberMove(
        *writer_statements_, writer_,
        "UPDATE point_lots SET remaining = 0 WHERE customer_id = ?1 AND remaining > 0 AND ?2 = ?2",
        account_id, member_id, "emptying the account's lots"));
    int64_t member_balance = *member_points;
    for (const OpenLot& lot : lots) {
      member_balance += lot.remaining;
      LOYALTYD_RETURN_IF_ERROR(write_entry(member_id, "merge_in",
                                           "member:merge_in:lot:" + std::to_string(lot.id),
                                           lot.remaining, member_balance));
      const int64_t entry_id = sqlite3_last_insert_rowid(writer_);
      Stmt insert(*writer_statements_,
                  "INSERT INTO point_lots (customer_id, ledger_entry_id, order_id, points, "
                  "remaining, earned_at_ms, expires_at_ms) VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6)");
      LOYALTYD_RETURN_IF_ERROR(insert.prepare_status());
      insert.Bind(1, member_id).Bind(2, entry_id);
      if (lot.order_id != 0) insert.Bind(3, lot.order_id);
      insert.Bind(4, lot.remaining).Bind(5, lot.earned_at_ms).Bind(6, lot.expires_at_ms);
      LOYALTYD_RETURN_IF_ERROR(StepDone(insert, writer_, "moving a lot"));
    }
  } else if (*points != 0) {
    // A debt on either side: through PostPoints, whose lots pay a debt first, so that the
    // member's open lots still sum to max(balance, 0); the moved points start a new lot.
    Posting out;
    out.customer_id = account_id;
    out.exact_customer = true;
    out.source_event_id = source_event_id;
    out.rule_id = "member";
    out.kind = "merge_out";
    out.once_key = merge_out_key;
    out.points = -*points;
    out.description = why;
    Result<bool> posted = PostPoints(out, now_ms);
    if (!posted.ok()) return posted.status();
    Posting in = out;
    in.customer_id = member_id;
    in.kind = "merge_in";
    in.once_key = "member:merge_in:" + std::to_string(account_id);
    in.points = *points;
    posted = PostPoints(in, now_ms);
    if (!posted.ok()) return posted.status();
  }

  Result<int64_t> credit = CreditBalanceLocked(account_id);
  if (!credit.ok()) return credit.status();
  if (*credit != 0) {
    std::string currency;
    {
      Stmt last(*writer_statements_,
                "SELECT currency FROM credit_entries WHERE customer_id = ?1 ORDER BY id DESC "
                "LIMIT 1");
      LOYALTYD_RETURN_IF_ERROR(last.prepare_status());
      last.Bind(1, account_id);
      if (last.Step() == SQLITE_ROW) currency = last.Text(0);
    }
    CreditPosting out;
    out.customer_id = account_id;
    out.exact_customer = true;
    out.source_event_id = source_event_id;
    out.rule_id = "member";
    out.kind = "merge_out";
    out.amount_minor = -*credit;
    out.currency = currency;
    out.description = why;
    Result<bool> posted = PostCredit(out, now_ms);
    if (!posted.ok()) return posted.status();
    CreditPosting in = out;
    in.customer_id = member_id;
    in.kind = "merge_in";
    in.amount_minor = *credit;
    posted = PostCredit(in, now_ms);
    if (!posted.ok()) return posted.status();
  }

  // What the member's tier counts across the stores, its held awards and its orders (the
  // customer report's paid orders); redemptions and the ledger stay where they were made.
  const char* moves[] = {
      "UPDATE tier_orders SET customer_id = ?2 WHERE customer_id = ?1",
      "UPDATE tier_grants SET customer_id = ?2 WHERE customer_id = ?1",
      "UPDATE pending_awards SET customer_id = ?2 WHERE customer_id = ?1 AND status = 'pending'",
      "UPDATE orders SET customer_id = ?2 WHERE customer_id = ?1",
      // The account's standing is the member's from now on (evaluated after the event).
      "DELETE FROM customer_tiers WHERE customer_id = ?1 AND ?2 = ?2",
      "INSERT INTO customer_activity (customer_id, last_activity_ms) "
      "SELECT ?2, last_activity_ms FROM customer_activity WHERE customer_id = ?1 "
      "ON CONFLICT(customer_id) DO UPDATE SET "
      "last_activity_ms = MAX(last_activity_ms, excluded.last_activity_ms)",
  };
  for (const char* sql : moves) {
    LOYALTYD_RETURN_IF_ERROR(
        RunMemberMove(*writer_statements_, writer_, sql, account_id, member_id, "merging account"));
  }
  return Status::Ok();
}

Status SqliteStorage::RedactMemberLinkLocked(int64_t customer_id) {
  Stmt s(*writer_statements_,
         "UPDATE member_links SET email_normalised = '' WHERE customer_id = ?1");
  LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
  s.Bind(1, customer_id);
  return StepDone(s, writer_, "redacting member link");
}

Status SqliteStorage::UnlinkMemberForDeletionLocked(int64_t customer_id, int64_t now_ms) {
  Result<int64_t> member = LinkedMemberLocked(customer_id);
  if (!member.ok()) return member.status();
  if (*member == customer_id) {
    // A member: its books go on with its oldest other account, if it has one.
    int64_t heir = 0;
    {
      Stmt next(*writer_statements_,
                "SELECT customer_id FROM member_links WHERE member_id = ?1 AND customer_id <> ?1 "
                "ORDER BY linked_at_ms, customer_id LIMIT 1");
      LOYALTYD_RETURN_IF_ERROR(next.prepare_status());
      next.Bind(1, customer_id);
      const int rc = next.Step();
      if (rc == SQLITE_ROW) heir = next.Int(0);
      if (rc != SQLITE_ROW && rc != SQLITE_DONE) return SqliteError(writer_, rc, "finding heir");
    }
    if (heir != 0) {
      LOYALTYD_RETURN_IF_ERROR(MergeAccountLocked(customer_id, heir, 0, now_ms));
      LOYALTYD_RETURN_IF_ERROR(
          RunMemberMove(*writer_statements_, writer_,
                        "UPDATE member_links SET member_id = ?2 WHERE member_id = ?1", customer_id,
                        heir, "handing the membership on"));
    }
  }
  Stmt s(*writer_statements_, "DELETE FROM member_links WHERE customer_id = ?1");
  LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
  s.Bind(1, customer_id);
  return StepDone(s, writer_, "removing member link");
}

Result<std::optional<MembershipRecord>> SqliteStorage::GetMembership(int64_t customer_id) {
  ReadLease lease(*this);
  MembershipRecord membership;
  {
    Stmt member(lease.statements(),
                "SELECT COALESCE((SELECT member_id FROM member_links WHERE customer_id = ?1), id) "
                "FROM customers WHERE id = ?1");
    LOYALTYD_RETURN_IF_ERROR(member.prepare_status());
    member.Bind(1, customer_id);
    const int rc = member.Step();
    if (rc == SQLITE_DONE) return std::optional<MembershipRecord>();
    if (rc != SQLITE_ROW) return SqliteError(lease.db(), rc, "reading member");
    membership.member_id = member.Int(0);
  }
  // The member's own account first, then the others in the order they joined. Two lookups, not
  // one join with "c.id = ?1 OR l.member_id = ?1": that OR across a LEFT JOIN made SQLite scan
  // every customer, and a customer's detail took 177 ms with 10^5 customers and 1.4 s with 10^6
  // (bench/run_scale.sh). INDEXED BY makes a plan without the index an error, not a scan.
  // Built once: the customer detail asks for it on every read.
  static const std::string kAccountsSql =
      std::string("SELECT ") + sqlite_internal::kCustomerRowColumnsOfC +
      ", 0 AS joined_rank, 0 AS joined_at FROM customers c WHERE c.id = ?1 "
      "UNION ALL SELECT " +
      sqlite_internal::kCustomerRowColumnsOfC +
      ", 1, l.linked_at_ms FROM member_links l INDEXED BY member_links_member "
      "JOIN customers c ON c.id = l.customer_id "
      "WHERE l.member_id = ?1 AND l.customer_id <> ?1 "
      "ORDER BY joined_rank, joined_at, 1";
  Stmt accounts(lease.statements(), kAccountsSql.c_str());
  LOYALTYD_RETURN_IF_ERROR(accounts.prepare_status());
  accounts.Bind(1, membership.member_id);
  int rc;
  while ((rc = accounts.Step()) == SQLITE_ROW) {
    membership.accounts.push_back(sqlite_internal::ReadCustomerRow(accounts));
  }
  if (rc != SQLITE_DONE) return SqliteError(lease.db(), rc, "reading member accounts");
  return std::optional<MembershipRecord>(std::move(membership));
}

}  // namespace loyaltyd
