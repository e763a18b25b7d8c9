// SqliteStorage, privacy (issue 7; docs/storage.md, "Privacy"; docs/operations.md, "Privacy"):
// data requests (an export of everything held on a customer), customer redaction (personal data
// erased, the books kept under an anonymous key), shop redaction (every row of the shop removed,
// in bounded transactions) and the shop's active state (app/uninstalled).
//
// Erasure is meant literally: the writer runs with PRAGMA secure_delete=ON (sqlite_storage.cc),
// so overwritten and deleted content is zeroed in the database file, and once an erasure has
// completed the WAL, which still holds the pages as they were, is checkpointed and truncated
// (TruncateWalLocked). Backups taken before are the operator's to age out (docs/operations.md).
#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "core/identity.h"
#include "core/json_writer.h"
#include "core/model.h"
#include "storage/sqlite_statement.h"

namespace loyaltyd {

using sqlite_internal::ReadTransaction;
using sqlite_internal::SqliteError;
using sqlite_internal::Stmt;

namespace {

constexpr const char* kPrivacySchemaSql = R"sql(
-- Privacy (docs/storage.md, "Privacy"; sqlite_privacy.cc).
-- One row per data request, customer redaction or shop redaction, from a webhook or the API.
-- source_event_id has no foreign key: a shop redaction removes the shop's events but keeps
-- its own request as the record that it happened.
CREATE TABLE IF NOT EXISTS privacy_requests (
  id                  INTEGER PRIMARY KEY,
  shop_id             TEXT NOT NULL,
  kind                TEXT NOT NULL,  -- data_request, customer_redact, shop_redact
  status              TEXT NOT NULL,  -- pending (work left for RunPrivacyWork), completed
  source              TEXT NOT NULL,  -- webhook, api
  source_event_id     INTEGER UNIQUE,
  platform_request_id TEXT NOT NULL DEFAULT '',
  summary             TEXT NOT NULL DEFAULT '',
  export_json         TEXT NOT NULL DEFAULT '',  -- data_request: the export
  phase               TEXT NOT NULL DEFAULT '',  -- pending work: scrub, or a shop phase
  cursor              INTEGER NOT NULL DEFAULT 0,  -- scrub: the last inbox event id looked at
  scrubbed            INTEGER NOT NULL DEFAULT 0,  -- inbox bodies scrubbed / rows removed
  last_error          TEXT NOT NULL DEFAULT '',
  created_at_ms       INTEGER NOT NULL,
  completed_at_ms     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS privacy_requests_status ON privacy_requests(status, id);
-- The customers a request concerned (no foreign key: a shop redaction removes them).
CREATE TABLE IF NOT EXISTS privacy_request_customers (
  request_id  INTEGER NOT NULL REFERENCES privacy_requests(id),
  customer_id INTEGER NOT NULL,
  PRIMARY KEY (request_id, customer_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS privacy_request_customers_customer
  ON privacy_request_customers(customer_id);
-- What a customer redaction still looks for in inbox bodies; deleted when it completes.
CREATE TABLE IF NOT EXISTS privacy_scrub_terms (
  request_id           INTEGER NOT NULL REFERENCES privacy_requests(id),
  email_lower          TEXT NOT NULL,
  phone                TEXT NOT NULL,
  platform_customer_id TEXT NOT NULL
);
-- For the foreign key (see "Foreign keys" in sqlite_storage.cc's schema), and the deletion of
-- a completed request's terms.
CREATE INDEX IF NOT EXISTS privacy_scrub_terms_request ON privacy_scrub_terms(request_id);
-- Customers whose personal data was erased; their rows stay, anonymous, for the books.
CREATE TABLE IF NOT EXISTS customer_redactions (
  customer_id    INTEGER PRIMARY KEY REFERENCES customers(id),
  request_id     INTEGER NOT NULL,
  redacted_at_ms INTEGER NOT NULL
);
-- A shop's state; a shop without a row is active.
CREATE TABLE IF NOT EXISTS shop_states (
  shop_id           TEXT PRIMARY KEY,
  active            INTEGER NOT NULL DEFAULT 1,
  deactivated_at_ms INTEGER NOT NULL DEFAULT 0,
  redacted_at_ms    INTEGER NOT NULL DEFAULT 0,
  reason            TEXT NOT NULL DEFAULT '',
  updated_at_ms     INTEGER NOT NULL
);
)sql";

// Customer topics whose body is the customer resource itself (its top-level "id").
constexpr const char* kCustomerTopicsSql =
    "('customers/create', 'customers/update', 'customers/enable', 'customers/disable', "
    "'customer.created', 'customer.updated', 'customer.deleted')";

// Rows per transaction of the bounded work: small enough that the writer (and so the webhooks
// queued behind it) never waits more than a few milliseconds for one.
constexpr int kPrivacyEventChunk = 256;
constexpr int kPrivacyCustomerChunk = 32;
constexpr int kPrivacyOrderChunk = 256;

// The rows of `sql` (?1 bound to `a`, ?2 to `b` when given) as a JSON array of objects keyed
// by column name, every column included. A column whose name ends in "_json" holds text that
// SQL checked with json_valid and is embedded as JSON; NULL is null.
Status PrivacyRowsJson(sqlite3* db, const char* sql, int64_t a, const std::string* b,
                       std::string& out, bool single = false) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    Status st = SqliteError(db, rc, std::string("preparing export query: ") + sql);
    sqlite3_finalize(stmt);
    return st;
  }
  sqlite3_bind_int64(stmt, 1, a);
  if (b != nullptr) {
    sqlite3_bind_text(stmt, 2, b->data(), static_cast<int>(b->size()), SQLITE_STATIC);
  }
  if (!single) out += '[';
  bool first_row = true;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    if (!first_row) out += ',';
    first_row = false;
    out += '{';
    const int columns = sqlite3_column_count(stmt);
    for (int i = 0; i < columns; ++i) {
      if (i > 0) out += ',';
      const std::string_view name = sqlite3_column_name(stmt, i);
      AppendJsonString(out, name);
      out += ':';
      switch (sqlite3_column_type(stmt, i)) {
        case SQLITE_NULL:
          out += "null";
          break;
        case SQLITE_INTEGER:
          out += std::to_string(sqlite3_column_int64(stmt, i));
          break;
        case SQLITE_FLOAT:
          out += std::to_string(sqlite3_column_double(stmt, i));
          break;
        default: {
          const auto* p = reinterpret_cast<const char*>(sqlite3_column_blob(stmt, i));
          const std::string_view text(p == nullptr ? "" : p,
                                      static_cast<size_t>(sqlite3_column_bytes(stmt, i)));
          if (name.size() > 5 && name.substr(name.size() - 5) == "_json") {
            out += text;
          } else {
            AppendJsonString(out, text);
          }
        }
      }
    }
    out += '}';
    if (single) break;
  }
  sqlite3_finalize(stmt);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) return SqliteError(db, rc, "reading export rows");
  if (single) {
    if (first_row) out += "null";
  } else {
    out += ']';
  }
  return Status::Ok();
}

// What the export of one customer holds: every table with the customer's rows, by name.
struct PrivacyExportPart {
  const char* name;
  const char* sql;  // ?1 = customer id
  bool single;
};

constexpr PrivacyExportPart kPrivacyExportParts[] = {
    {"customer", "SELECT * FROM customers WHERE id = ?1", true},
    {"redaction", "SELECT * FROM customer_redactions WHERE customer_id = ?1", true},
    {"tier", "SELECT * FROM customer_tiers WHERE customer_id = ?1", true},
    {"activity", "SELECT * FROM customer_activity WHERE customer_id = ?1", true},
    {"referral_code", "SELECT * FROM referral_codes WHERE customer_id = ?1", true},
    {"ledger_entries", "SELECT * FROM ledger_entries WHERE customer_id = ?1 ORDER BY id", false},
    {"point_lots", "SELECT * FROM point_lots WHERE customer_id = ?1 ORDER BY id", false},
    {"pending_awards", "SELECT * FROM pending_awards WHERE customer_id = ?1 ORDER BY id", false},
    {"credit_entries", "SELECT * FROM credit_entries WHERE customer_id = ?1 ORDER BY id", false},
    {"redemptions", "SELECT * FROM redemptions WHERE customer_id = ?1 ORDER BY id", false},
    {"action_requests", "SELECT * FROM action_requests WHERE customer_id = ?1 ORDER BY id", false},
    {"adjustments", "SELECT * FROM adjustments WHERE customer_id = ?1 ORDER BY id", false},
    // Reports (sqlite_reports.cc): their moves between tier levels.
    {"tier_changes", "SELECT * FROM tier_changes WHERE customer_id = ?1 ORDER BY id", false},
    // Events out (sqlite_events_out.cc): what was sent about them to the merchant's tools.
    {"events_out", "SELECT * FROM out_events WHERE customer_id = ?1 ORDER BY id", false},
    // Shared membership (sqlite_members.cc): the account's link and the accounts linked to it.
    {"member_links",
     "SELECT * FROM member_links WHERE customer_id = ?1 OR member_id = ?1 ORDER BY customer_id",
     false},
    {"tier_orders", "SELECT * FROM tier_orders WHERE customer_id = ?1 ORDER BY order_id", false},
    {"tier_grants", "SELECT * FROM tier_grants WHERE customer_id = ?1 ORDER BY id", false},
    {"tag_updates", "SELECT * FROM tag_updates WHERE customer_id = ?1 ORDER BY job_id", false},
    {"referral_clicks", "SELECT * FROM referral_clicks WHERE customer_id = ?1 ORDER BY day", false},
    {"identity_keys",
     "SELECT kind, key FROM customer_identity_keys WHERE customer_id = ?1 ORDER BY kind, key",
     false},
    {"referrals_made", "SELECT * FROM referrals WHERE referrer_customer_id = ?1 ORDER BY id",
     false},
    {"referrals_received", "SELECT * FROM referrals WHERE friend_customer_id = ?1 ORDER BY id",
     false},
    {"orders", "SELECT * FROM orders WHERE customer_id = ?1 ORDER BY id", false},
    {"order_refunds",
     "SELECT * FROM order_refunds WHERE order_id IN "
     "(SELECT id FROM orders WHERE customer_id = ?1) ORDER BY id",
     false},
    {"outbox_jobs",
     "SELECT * FROM outbox_jobs WHERE redemption_id IN "
     "(SELECT id FROM redemptions WHERE customer_id = ?1) "
     "OR id IN (SELECT job_id FROM tag_updates WHERE customer_id = ?1) ORDER BY id",
     false},
    {"privacy_requests",
     "SELECT id, kind, status, source, platform_request_id, created_at_ms, completed_at_ms "
     "FROM privacy_requests WHERE id IN "
     "(SELECT request_id FROM privacy_request_customers WHERE customer_id = ?1) ORDER BY id",
     false},
    // The webhooks that caused any of the rows above, and the customer's own customer-topic
    // webhooks, with their bodies as received (JSON embedded; anything else as a string).
    {"inbox_events",
     "WITH ids(id) AS ("
     " SELECT source_event_id FROM ledger_entries WHERE customer_id = ?1"
     " UNION SELECT source_event_id FROM credit_entries WHERE customer_id = ?1"
     " UNION SELECT source_event_id FROM pending_awards WHERE customer_id = ?1"
     " UNION SELECT source_event_id FROM tier_orders WHERE customer_id = ?1"
     " UNION SELECT source_event_id FROM tier_grants WHERE customer_id = ?1"
     " UNION SELECT source_event_id FROM referrals WHERE friend_customer_id = ?1"
     " UNION SELECT r.source_event_id FROM order_refunds r JOIN orders o ON o.id = r.order_id"
     "   WHERE o.customer_id = ?1"
     " UNION SELECT e.id FROM inbox_events e JOIN customers c ON c.id = ?1"
     "   JOIN inbox_bodies b ON b.event_id = e.id"
     "   WHERE e.shop_id = c.shop_id AND c.platform_customer_id IS NOT NULL"
     "   AND e.topic IN ('customers/create', 'customers/update', 'customer.created',"
     "   'customer.updated') AND json_valid(CAST(b.body AS TEXT))"
     "   AND CAST(json_extract(CAST(b.body AS TEXT), '$.id') AS TEXT) = c.platform_customer_id"
     ") SELECT e.id, e.shop_id, e.platform, e.topic, e.delivery_id, e.received_at_ms, e.status,"
     " e.status_reason,"
     " CASE WHEN json_valid(CAST(b.body AS TEXT)) THEN CAST(b.body AS TEXT) END AS body_json,"
     " CASE WHEN NOT json_valid(CAST(b.body AS TEXT)) THEN CAST(b.body AS TEXT) END AS body_text"
     " FROM inbox_events e LEFT JOIN inbox_bodies b ON b.event_id = e.id"
     " WHERE e.id IN (SELECT id FROM ids) ORDER BY e.id",
     false},
};

Status AppendCustomerExport(sqlite3* db, int64_t customer_id, std::string& out) {
  out += '{';
  bool first = true;
  for (const PrivacyExportPart& part : kPrivacyExportParts) {
    if (!first) out += ',';
    first = false;
    AppendJsonString(out, part.name);
    out += ':';
    LOYALTYD_RETURN_IF_ERROR(PrivacyRowsJson(db, part.sql, customer_id, nullptr, out, part.single));
  }
  out += '}';
  return Status::Ok();
}

// "a***@example.com", as the referral descriptions and reasons mask a friend's email
// (sqlite_referrals.cc): what a redaction looks for there.
std::string PrivacyMaskedEmail(const std::string& email) {
  const size_t at = email.find('@');
  if (at == std::string::npos || at == 0) return "";
  return email.substr(0, 1) + "***" + email.substr(at);
}

std::string PrivacyKindName(PrivacyAction::Kind kind) {
  switch (kind) {
    case PrivacyAction::Kind::kDataRequest:
      return "data_request";
    case PrivacyAction::Kind::kCustomerRedact:
      return "customer_redact";
    case PrivacyAction::Kind::kShopRedact:
      return "shop_redact";
    case PrivacyAction::Kind::kShopDeactivate:
      return "shop_deactivate";
    case PrivacyAction::Kind::kShopActivate:
      return "shop_activate";
  }
  return "unknown";
}

constexpr const char* kPrivacyRequestColumns =
    "id, shop_id, kind, status, source, COALESCE(source_event_id, 0), platform_request_id, "
    "summary, last_error, created_at_ms, completed_at_ms";

PrivacyRequestRecord ReadPrivacyRequest(const Stmt& s) {
  PrivacyRequestRecord r;
  r.id = s.Int(0);
  r.shop_id = s.Text(1);
  r.kind = s.Text(2);
  r.status = s.Text(3);
  r.source = s.Text(4);
  r.source_event_id = s.Int(5);
  r.platform_request_id = s.Text(6);
  r.summary = s.Text(7);
  r.last_error = s.Text(8);
  r.created_at_ms = s.Int(9);
  r.completed_at_ms = s.Int(10);
  return r;
}

// Runs one statement with ?1 = a (and ?2 = b when given) to completion.
Status PrivacyExec(sqlite3* db, const char* sql, int64_t a, const std::string* b = nullptr) {
  Stmt s(db, sql);
  LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
  s.Bind(1, a);
  if (b != nullptr) s.Bind(2, *b);
  const int rc = s.Step();
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) return SqliteError(db, rc, sql);
  return Status::Ok();
}

Result<std::vector<int64_t>> PrivacyIds(sqlite3* db, const char* sql, int64_t a,
                                        const std::string* b = nullptr) {
  Stmt s(db, sql);
  LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
  s.Bind(1, a);
  if (b != nullptr) s.Bind(2, *b);
  std::vector<int64_t> ids;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) ids.push_back(s.Int(0));
  if (rc != SQLITE_DONE) return SqliteError(db, rc, sql);
  return ids;
}

Result<std::vector<int64_t>> RequestCustomerIds(sqlite3* db, int64_t request_id) {
  return PrivacyIds(db,
                    "SELECT customer_id FROM privacy_request_customers WHERE request_id = ?1 "
                    "ORDER BY customer_id",
                    request_id);
}

}  // namespace

const char* SqliteStorage::PrivacySchema() { return kPrivacySchemaSql; }

std::vector<std::string> SqliteStorage::PrivacyKnownTables() {
  // Exported per customer, redacted and deleted with the customer or the shop (this file).
  // reconcile_marks is the shop's (deleted with it); the privacy tables are this file's own.
  return {"action_requests",
          "adjustments",
          "credit_entries",
          "customer_activity",
          "customer_identity_keys",
          "customer_redactions",
          "customer_tiers",
          "customers",
          "inbox_bodies",
          "inbox_events",
          "ledger_entries",
          "member_links",  // shared membership (sqlite_members.cc)
          "order_refunds",
          "orders",
          "out_deliveries",
          "out_events",
          "outbox_jobs",
          "pending_awards",
          "point_lots",
          "privacy_request_customers",
          "privacy_requests",
          "privacy_scrub_terms",
          "reconcile_marks",
          "redemptions",
          "referral_clicks",
          "referral_codes",
          "referrals",
          "shop_states",
          "tag_updates",
          "tier_changes",
          "tier_grants",
          "tier_orders"};
}

Result<std::vector<int64_t>> SqliteStorage::FindPrivacyCustomersLocked(
    const PrivacyAction& action) {
  sqlite3* db = writer_;
  std::vector<int64_t> ids;
  if (action.customer_id != 0) {
    Result<std::vector<int64_t>> found =
        PrivacyIds(db, "SELECT id FROM customers WHERE id = ?1", action.customer_id);
    if (!found.ok()) return found.status();
    if (found->empty()) {
      return NotFound("no customer with id " + std::to_string(action.customer_id));
    }
    return found;
  }
  if (!action.platform_customer_id.empty()) {
    Stmt s(db, "SELECT id FROM customers WHERE shop_id = ?1 AND platform_customer_id = ?2");
    LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
    s.Bind(1, action.shop_id).Bind(2, action.platform_customer_id);
    while (s.Step() == SQLITE_ROW) ids.push_back(s.Int(0));
  }
  // The same person as a guest (orders before they had an account, or a store that never
  // made one): same shop, same normalised email, no platform id.
  const std::string email = NormaliseEmail(action.email);
  if (!email.empty()) {
    Stmt s(db,
           "SELECT id FROM customers WHERE shop_id = ?1 AND platform_customer_id IS NULL "
           "AND email_normalised = ?2");
    LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
    s.Bind(1, action.shop_id).Bind(2, email);
    while (s.Step() == SQLITE_ROW) ids.push_back(s.Int(0));
  }
  // Guest owners of the orders the request names (a registered owner is someone else; a
  // redacted one is anonymous already, and redacting it again would change nothing).
  for (const std::string& order : action.platform_order_ids) {
    Stmt s(db,
           "SELECT c.id FROM orders o JOIN customers c ON c.id = o.customer_id "
           "WHERE o.shop_id = ?1 AND o.platform_order_id = ?2 "
           "AND c.platform_customer_id IS NULL "
           "AND c.id NOT IN (SELECT customer_id FROM customer_redactions)");
    LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
    s.Bind(1, action.shop_id).Bind(2, order);
    while (s.Step() == SQLITE_ROW) ids.push_back(s.Int(0));
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

Status SqliteStorage::RedactCustomerLocked(int64_t customer_id, int64_t request_id,
                                           int64_t now_ms) {
  sqlite3* db = writer_;
  std::string email;
  {
    Stmt s(db, "SELECT email FROM customers WHERE id = ?1");
    LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
    s.Bind(1, customer_id);
    if (s.Step() != SQLITE_ROW)
      return NotFound("no customer with id " + std::to_string(customer_id));
    email = s.Text(0);
  }
  // Shared membership (sqlite_members.cc): the account stays its member's, without the email.
  LOYALTYD_RETURN_IF_ERROR(RedactMemberLinkLocked(customer_id));
  // Names the referral code's owner gave a friend, masked, in the referrers' ledger
  // descriptions and the referrals' reasons.
  const std::string masked = PrivacyMaskedEmail(email);
  const std::string friend_key = CanonicalEmail(email);
  if (!masked.empty()) {
    Stmt s(db,
           "UPDATE ledger_entries SET description = replace(description, ?2, 'a redacted "
           "customer') WHERE customer_id IN (SELECT referrer_customer_id FROM referrals "
           "WHERE friend_customer_id = ?1 OR (friend_key = ?3 AND ?3 <> '')) "
           "AND instr(description, ?2) > 0");
    LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
    s.Bind(1, customer_id).Bind(2, masked).Bind(3, friend_key);
    LOYALTYD_RETURN_IF_ERROR(sqlite_internal::StepDone(s, db, "redacting referral descriptions"));
    Stmt r(db,
           "UPDATE referrals SET reason = replace(reason, ?2, 'a redacted customer') "
           "WHERE (referrer_customer_id = ?1 OR friend_customer_id = ?1 OR "
           "(friend_key = ?3 AND ?3 <> '')) AND instr(reason, ?2) > 0");
    LOYALTYD_RETURN_IF_ERROR(r.prepare_status());
    r.Bind(1, customer_id).Bind(2, masked).Bind(3, friend_key);
    LOYALTYD_RETURN_IF_ERROR(sqlite_internal::StepDone(r, db, "redacting referral reasons"));
  }
  // As a friend: the referral stays (the referrer's reward stands) without who the friend was.
  {
    Stmt s(db,
           "UPDATE referrals SET friend_email = '', friend_key = 'redacted:' || id, "
           "updated_at_ms = ?3 WHERE friend_customer_id = ?1 OR (friend_key = ?2 AND ?2 <> '')");
    LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
    s.Bind(1, customer_id).Bind(2, friend_key).Bind(3, now_ms);
    LOYALTYD_RETURN_IF_ERROR(sqlite_internal::StepDone(s, db, "redacting referrals"));
  }
  // The row stays for the books (balances, ledger, lots), under an anonymous key that no
  // platform id or email can match: a later order from the same person makes a new customer.
  // email_normalised must stay unique among a shop's guests (customers_guest_email).
  LOYALTYD_RETURN_IF_ERROR(PrivacyExec(
      db,
      "UPDATE customers SET platform_customer_id = NULL, email = '', "
      "email_normalised = 'redacted:' || id, first_name = '', last_name = '' WHERE id = ?1",
      customer_id));
  LOYALTYD_RETURN_IF_ERROR(
      PrivacyExec(db, "DELETE FROM customer_identity_keys WHERE customer_id = ?1", customer_id));
  LOYALTYD_RETURN_IF_ERROR(
      PrivacyExec(db, "DELETE FROM referral_codes WHERE customer_id = ?1", customer_id));
  LOYALTYD_RETURN_IF_ERROR(PrivacyExec(
      db, "UPDATE customer_tiers SET platform_tags = '' WHERE customer_id = ?1", customer_id));
  // Platform calls for someone the store has erased would name a customer who is gone.
  {
    const std::string error =
        "not sent: the customer was redacted (privacy request " + std::to_string(request_id) + ")";
    Stmt s(db,
           "UPDATE outbox_jobs SET status = 'failed', last_error = ?2, updated_at_ms = ?3 "
           "WHERE status = 'pending' AND (redemption_id IN "
           "(SELECT id FROM redemptions WHERE customer_id = ?1) OR id IN "
           "(SELECT job_id FROM tag_updates WHERE customer_id = ?1) OR id IN "
           "(SELECT d.job_id FROM out_deliveries d JOIN out_events e ON e.id = d.out_event_id "
           "WHERE e.customer_id = ?1))");
    LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
    s.Bind(1, customer_id).Bind(2, error).Bind(3, now_ms);
    LOYALTYD_RETURN_IF_ERROR(sqlite_internal::StepDone(s, db, "stopping the customer's jobs"));
  }
  // Events out keep the body they were sent with, which names the customer (email, platform
  // ids); the events stay, as the record of what was sent, without it.
  LOYALTYD_RETURN_IF_ERROR(
      PrivacyExec(db, "UPDATE out_events SET body = '{\"redacted\":true}' WHERE customer_id = ?1",
                  customer_id));
  // Exports made for earlier data requests are personal data too.
  {
    const std::string note = "; export erased by privacy request " + std::to_string(request_id);
    Stmt s(db,
           "UPDATE privacy_requests SET export_json = '', summary = summary || ?2 "
           "WHERE kind = 'data_request' AND export_json <> '' AND id IN "
           "(SELECT request_id FROM privacy_request_customers WHERE customer_id = ?1)");
    LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
    s.Bind(1, customer_id).Bind(2, note);
    LOYALTYD_RETURN_IF_ERROR(sqlite_internal::StepDone(s, db, "erasing earlier exports"));
  }
  Stmt mark(db,
            "INSERT INTO customer_redactions (customer_id, request_id, redacted_at_ms) "
            "VALUES (?1, ?2, ?3) ON CONFLICT(customer_id) DO NOTHING");
  LOYALTYD_RETURN_IF_ERROR(mark.prepare_status());
  mark.Bind(1, customer_id).Bind(2, request_id).Bind(3, now_ms);
  return sqlite_internal::StepDone(mark, db, "recording the redaction");
}

Result<PrivacyRequestRecord> SqliteStorage::ApplyPrivacyLocked(const PrivacyAction& action,
                                                               int64_t source_event_id,
                                                               int64_t now_ms) {
  sqlite3* db = writer_;
  PrivacyRequestRecord record;
  record.shop_id = action.shop_id;
  record.kind = PrivacyKindName(action.kind);
  record.source = action.source.empty() ? "api" : action.source;
  record.source_event_id = source_event_id;
  record.platform_request_id = action.platform_request_id;
  record.created_at_ms = now_ms;

  if (action.kind == PrivacyAction::Kind::kShopDeactivate ||
      action.kind == PrivacyAction::Kind::kShopActivate) {
    const bool active = action.kind == PrivacyAction::Kind::kShopActivate;
    const std::string reason =
        active ? "activated" : (record.source == "webhook" ? "app uninstalled" : "deactivated");
    Stmt s(db,
           "INSERT INTO shop_states (shop_id, active, deactivated_at_ms, reason, updated_at_ms) "
           "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(shop_id) DO UPDATE SET "
           "active = excluded.active, deactivated_at_ms = CASE WHEN excluded.active = 1 THEN 0 "
           "WHEN active = 0 THEN deactivated_at_ms ELSE excluded.deactivated_at_ms END, "
           "reason = excluded.reason, updated_at_ms = excluded.updated_at_ms");
    LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
    s.Bind(1, action.shop_id).Bind(2, int64_t{active ? 1 : 0}).Bind(3, active ? 0 : now_ms);
    s.Bind(4, reason).Bind(5, now_ms);
    LOYALTYD_RETURN_IF_ERROR(sqlite_internal::StepDone(s, db, "recording the shop's state"));
    record.status = "completed";
    record.completed_at_ms = now_ms;
    record.summary = active ? "shop " + action.shop_id + " active: platform calls resume"
                            : "shop " + action.shop_id + " inactive (" + reason +
                                  "): no platform calls for it until it is activated; its data "
                                  "is kept and its webhooks are still stored";
    return record;
  }

  if (action.kind == PrivacyAction::Kind::kShopRedact) {
    // One pending shop redaction at a time per shop: a second request (a redelivery under a
    // new event id, the admin API twice) is that one.
    Stmt existing(db, (std::string("SELECT ") + kPrivacyRequestColumns +
                       " FROM privacy_requests WHERE shop_id = ?1 AND kind = 'shop_redact' "
                       "AND status = 'pending' ORDER BY id LIMIT 1")
                          .c_str());
    LOYALTYD_RETURN_IF_ERROR(existing.prepare_status());
    existing.Bind(1, action.shop_id);
    if (existing.Step() == SQLITE_ROW) return ReadPrivacyRequest(existing);
  }
  if (action.kind == PrivacyAction::Kind::kCustomerRedact && action.customer_id != 0) {
    // The admin API on a customer already redacted: that redaction.
    Stmt done(db, "SELECT request_id FROM customer_redactions WHERE customer_id = ?1");
    LOYALTYD_RETURN_IF_ERROR(done.prepare_status());
    done.Bind(1, action.customer_id);
    if (done.Step() == SQLITE_ROW) {
      const int64_t request_id = done.Int(0);
      Stmt s(db, (std::string("SELECT ") + kPrivacyRequestColumns +
                  " FROM privacy_requests WHERE id = ?1")
                     .c_str());
      LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
      s.Bind(1, request_id);
      if (s.Step() == SQLITE_ROW) {
        PrivacyRequestRecord r = ReadPrivacyRequest(s);
        Result<std::vector<int64_t>> ids = RequestCustomerIds(db, r.id);
        if (!ids.ok()) return ids.status();
        r.customer_ids = *ids;
        return r;
      }
    }
  }

  std::vector<int64_t> customers;
  if (action.kind != PrivacyAction::Kind::kShopRedact) {
    Result<std::vector<int64_t>> found = FindPrivacyCustomersLocked(action);
    if (!found.ok()) return found.status();
    customers = std::move(found).value();
  }
  {
    Stmt insert(db,
                "INSERT INTO privacy_requests (shop_id, kind, status, source, source_event_id, "
                "platform_request_id, phase, created_at_ms) VALUES (?1, ?2, 'pending', ?3, ?4, "
                "?5, ?6, ?7) RETURNING id");
    LOYALTYD_RETURN_IF_ERROR(insert.prepare_status());
    insert.Bind(1, action.shop_id).Bind(2, record.kind).Bind(3, record.source);
    if (source_event_id != 0) insert.Bind(4, source_event_id);
    insert.Bind(5, action.platform_request_id);
    insert.BindCopy(6, action.kind == PrivacyAction::Kind::kShopRedact ? "customers" : "scrub");
    insert.Bind(7, now_ms);
    const int rc = insert.Step();
    if (rc != SQLITE_ROW) return SqliteError(db, rc, "recording privacy request");
    record.id = insert.Int(0);
  }
  for (const int64_t id : customers) {
    Stmt link(db,
              "INSERT INTO privacy_request_customers (request_id, customer_id) VALUES (?1, ?2)");
    LOYALTYD_RETURN_IF_ERROR(link.prepare_status());
    link.Bind(1, record.id).Bind(2, id);
    LOYALTYD_RETURN_IF_ERROR(sqlite_internal::StepDone(link, db, "linking privacy request"));
  }
  record.customer_ids = customers;
  const std::string n = std::to_string(customers.size());
  std::string summary;
  std::string status = "completed";

  switch (action.kind) {
    case PrivacyAction::Kind::kDataRequest: {
      std::string doc = "{\"shop_id\":";
      AppendJsonString(doc, action.shop_id);
      doc += ",\"privacy_request_id\":" + std::to_string(record.id);
      doc += ",\"platform_request_id\":";
      AppendJsonString(doc, action.platform_request_id);
      doc += ",\"generated_at_ms\":" + std::to_string(now_ms);
      doc += ",\"orders_requested\":[";
      for (size_t i = 0; i < action.platform_order_ids.size(); ++i) {
        if (i > 0) doc += ',';
        AppendJsonString(doc, action.platform_order_ids[i]);
      }
      doc += "],\"customers\":[";
      for (size_t i = 0; i < customers.size(); ++i) {
        if (i > 0) doc += ',';
        LOYALTYD_RETURN_IF_ERROR(AppendCustomerExport(db, customers[i], doc));
      }
      // Requested orders held without one of those customers (a guest order under another
      // email): the order rows, which hold no personal fields.
      doc += "],\"other_orders\":[";
      bool first = true;
      for (const std::string& order : action.platform_order_ids) {
        std::string rows;
        LOYALTYD_RETURN_IF_ERROR(PrivacyRowsJson(
            db,
            "SELECT * FROM orders WHERE shop_id = (SELECT shop_id FROM privacy_requests "
            "WHERE id = ?1) AND platform_order_id = ?2 AND customer_id IS NOT (SELECT "
            "customer_id FROM privacy_request_customers WHERE request_id = ?1 AND customer_id "
            "= orders.customer_id)",
            record.id, &order, rows, /*single=*/true));
        if (rows == "null") continue;
        if (!first) doc += ',';
        first = false;
        doc += rows;
      }
      doc += "]}";
      Stmt s(db, "UPDATE privacy_requests SET export_json = ?2 WHERE id = ?1");
      LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
      s.Bind(1, record.id).Bind(2, doc);
      LOYALTYD_RETURN_IF_ERROR(sqlite_internal::StepDone(s, db, "storing the export"));
      summary = customers.empty()
                    ? "data request: no data held on this customer (an empty export is kept)"
                    : "data request: export of " + n +
                          " customer record(s) at GET /api/v1/privacy/requests/" +
                          std::to_string(record.id);
      break;
    }
    case PrivacyAction::Kind::kCustomerRedact: {
      // What the inbox bodies are searched for, taken before the rows are anonymised.
      std::vector<std::array<std::string, 3>> terms;
      terms.push_back({NormaliseEmail(action.email), action.phone, action.platform_customer_id});
      for (const int64_t id : customers) {
        Stmt s(db, "SELECT email, COALESCE(platform_customer_id, '') FROM customers WHERE id = ?1");
        LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
        s.Bind(1, id);
        if (s.Step() == SQLITE_ROW) terms.push_back({NormaliseEmail(s.Text(0)), "", s.Text(1)});
        LOYALTYD_RETURN_IF_ERROR(RedactCustomerLocked(id, record.id, now_ms));
      }
      bool any_term = false;
      for (const auto& t : terms) {
        // A phone shorter than 6 characters would match unrelated digits in bodies.
        const std::string phone = t[1].size() >= 6 ? t[1] : "";
        if (t[0].empty() && phone.empty() && t[2].empty()) continue;
        any_term = true;
        Stmt s(db,
               "INSERT INTO privacy_scrub_terms (request_id, email_lower, phone, "
               "platform_customer_id) VALUES (?1, ?2, ?3, ?4)");
        LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
        s.Bind(1, record.id).Bind(2, t[0]).Bind(3, phone).Bind(4, t[2]);
        LOYALTYD_RETURN_IF_ERROR(sqlite_internal::StepDone(s, db, "recording scrub terms"));
      }
      if (any_term) status = "pending";
      summary = (customers.empty() ? std::string("redaction: no customer record held")
                                   : "redaction: " + n +
                                         " customer record(s) anonymised; their ledger, lots "
                                         "and balances are kept under anonymous keys") +
                (any_term ? "; inbox bodies that mention them are being scrubbed" : "");
      break;
    }
    case PrivacyAction::Kind::kShopRedact: {
      status = "pending";
      summary = "shop redaction: removing all of shop " + action.shop_id + "'s data";
      Stmt s(db,
             "INSERT INTO shop_states (shop_id, active, deactivated_at_ms, reason, "
             "updated_at_ms) VALUES (?1, 0, ?2, 'shop redacted', ?2) ON CONFLICT(shop_id) DO "
             "UPDATE SET active = 0, reason = 'shop redacted', updated_at_ms = ?2, "
             "deactivated_at_ms = CASE WHEN deactivated_at_ms = 0 THEN ?2 ELSE "
             "deactivated_at_ms END");
      LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
      s.Bind(1, action.shop_id).Bind(2, now_ms);
      LOYALTYD_RETURN_IF_ERROR(sqlite_internal::StepDone(s, db, "deactivating the shop"));
      break;
    }
    default:
      return Internal("unexpected privacy action");
  }
  Stmt s(db,
         "UPDATE privacy_requests SET status = ?2, summary = ?3, completed_at_ms = ?4 "
         "WHERE id = ?1");
  LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
  s.Bind(1, record.id).Bind(2, status).Bind(3, summary);
  s.Bind(4, status == "completed" ? now_ms : int64_t{0});
  LOYALTYD_RETURN_IF_ERROR(sqlite_internal::StepDone(s, db, "completing privacy request"));
  if (status == "completed") wal_scrub_wanted_ = true;
  record.status = status;
  record.summary = summary;
  record.completed_at_ms = status == "completed" ? now_ms : 0;
  return record;
}

Result<PrivacyRequestRecord> SqliteStorage::ApplyPrivacyAction(const PrivacyAction& action,
                                                               int64_t now_ms) {
  std::lock_guard<std::mutex> lock(write_mu_);
  PrivacyRequestRecord record;
  Status st = InTransaction(writer_, [&]() -> Status {
    Result<PrivacyRequestRecord> applied = ApplyPrivacyLocked(action, 0, now_ms);
    if (!applied.ok()) return applied.status();
    record = std::move(applied).value();
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return record;
}

Result<std::optional<std::string>> SqliteStorage::ExportCustomer(int64_t customer_id,
                                                                 int64_t now_ms) {
  ReadLease lease(*this);
  sqlite3* db = lease.db();
  // One read transaction: every part of the export from the same snapshot.
  ReadTransaction snapshot(lease.statements());
  LOYALTYD_RETURN_IF_ERROR(snapshot.status());
  std::optional<std::string> out;
  Status st = [&]() -> Status {
    Stmt s(db, "SELECT 1 FROM customers WHERE id = ?1");
    LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
    s.Bind(1, customer_id);
    if (s.Step() != SQLITE_ROW) return Status::Ok();
    std::string doc = "{\"generated_at_ms\":" + std::to_string(now_ms) + ",\"customers\":[";
    LOYALTYD_RETURN_IF_ERROR(AppendCustomerExport(db, customer_id, doc));
    doc += "]}";
    out = std::move(doc);
    return Status::Ok();
  }();
  if (!st.ok()) return st;
  return out;
}

Result<std::vector<PrivacyRequestRecord>> SqliteStorage::ListPrivacyRequests(int64_t before_id,
                                                                             size_t limit) {
  ReadLease lease(*this);
  Stmt s(lease.statements(), (std::string("SELECT ") + kPrivacyRequestColumns +
                              " FROM privacy_requests WHERE (?1 <= 0 OR id < ?1) ORDER BY id DESC "
                              "LIMIT ?2")
                                 .c_str());
  LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
  s.Bind(1, before_id).Bind(2, static_cast<int64_t>(limit));
  std::vector<PrivacyRequestRecord> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) out.push_back(ReadPrivacyRequest(s));
  if (rc != SQLITE_DONE) return SqliteError(lease.db(), rc, "listing privacy requests");
  for (PrivacyRequestRecord& r : out) {
    Result<std::vector<int64_t>> ids = RequestCustomerIds(lease.db(), r.id);
    if (!ids.ok()) return ids.status();
    r.customer_ids = *ids;
  }
  return out;
}

Result<std::optional<PrivacyRequestRecord>> SqliteStorage::GetPrivacyRequest(int64_t id) {
  ReadLease lease(*this);
  Stmt s(lease.statements(), (std::string("SELECT ") + kPrivacyRequestColumns +
                              ", export_json FROM privacy_requests WHERE id = ?1")
                                 .c_str());
  LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
  s.Bind(1, id);
  const int rc = s.Step();
  if (rc == SQLITE_DONE) return std::optional<PrivacyRequestRecord>{};
  if (rc != SQLITE_ROW) return SqliteError(lease.db(), rc, "reading privacy request");
  PrivacyRequestRecord r = ReadPrivacyRequest(s);
  r.export_json = s.Text(11);
  s.Reset();
  Result<std::vector<int64_t>> ids = RequestCustomerIds(lease.db(), r.id);
  if (!ids.ok()) return ids.status();
  r.customer_ids = *ids;
  return std::optional<PrivacyRequestRecord>(std::move(r));
}

Result<std::vector<ShopStateRecord>> SqliteStorage::ListShopStates() {
  ReadLease lease(*this);
  Stmt s(lease.statements(),
         "SELECT shop_id, active, deactivated_at_ms, redacted_at_ms, reason, updated_at_ms "
         "FROM shop_states ORDER BY shop_id");
  LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
  std::vector<ShopStateRecord> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    ShopStateRecord r;
    r.shop_id = s.Text(0);
    r.active = s.Int(1) != 0;
    r.deactivated_at_ms = s.Int(2);
    r.redacted_at_ms = s.Int(3);
    r.reason = s.Text(4);
    r.updated_at_ms = s.Int(5);
    out.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) return SqliteError(lease.db(), rc, "listing shop states");
  return out;
}

Result<bool> SqliteStorage::ScrubBodiesStep(int64_t request_id, const std::string& shop_id,
                                            int64_t cursor, int64_t now_ms) {
  sqlite3* db = writer_;
  int64_t high = 0;
  {
    Stmt s(db,
           "SELECT MAX(id) FROM (SELECT id FROM inbox_events WHERE id > ?1 ORDER BY id "
           "LIMIT 256)");
    LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
    s.Bind(1, cursor);
    if (s.Step() == SQLITE_ROW) high = s.Int(0);
  }
  static_assert(kPrivacyEventChunk == 256, "the LIMIT above");
  if (high == 0) {
    // Every event stored up to now has been looked at: done.
    LOYALTYD_RETURN_IF_ERROR(
        PrivacyExec(db, "DELETE FROM privacy_scrub_terms WHERE request_id = ?1", request_id));
    Stmt s(db,
           "UPDATE privacy_requests SET status = 'completed', phase = '', completed_at_ms = ?2, "
           "summary = summary || '; ' || scrubbed || ' inbox body(ies) scrubbed' WHERE id = ?1");
    LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
    s.Bind(1, request_id).Bind(2, now_ms);
    LOYALTYD_RETURN_IF_ERROR(sqlite_internal::StepDone(s, db, "completing the scrub"));
    wal_scrub_wanted_ = true;
    return false;
  }
  // A body matches when it carries one of the redacted customer's emails (any case), phone
  // (as the platform sent it) or platform id where a customer id goes: Shopify's customer.id
  // (orders, compliance topics), WooCommerce's customer_id (orders), or the top-level id of a
  // customer topic's body.
  const std::string replacement =
      "{\"redacted\":\"privacy request " + std::to_string(request_id) + "\"}";
  const std::string sql =
      std::string(
          "UPDATE inbox_bodies SET body = CAST(?5 AS BLOB) WHERE event_id IN ("
          "SELECT e.id FROM inbox_events e JOIN inbox_bodies b ON b.event_id = e.id "
          "JOIN privacy_scrub_terms t ON t.request_id = ?1 "
          "WHERE e.id > ?3 AND e.id <= ?4 AND e.shop_id = ?2 AND CAST(b.body AS TEXT) <> ?5 AND ("
          "(t.email_lower <> '' AND instr(lower(CAST(b.body AS TEXT)), t.email_lower) > 0) "
          "OR (t.phone <> '' AND instr(CAST(b.body AS TEXT), t.phone) > 0) "
          "OR (t.platform_customer_id <> '' AND json_valid(CAST(b.body AS TEXT)) AND ("
          "CAST(json_extract(CAST(b.body AS TEXT), '$.customer.id') AS TEXT) = "
          "t.platform_customer_id "
          "OR CAST(json_extract(CAST(b.body AS TEXT), '$.customer_id') AS TEXT) = "
          "t.platform_customer_id "
          "OR (e.topic IN ") +
      kCustomerTopicsSql +
      " AND CAST(json_extract(CAST(b.body AS TEXT), '$.id') AS TEXT) = "
      "t.platform_customer_id)))))";
  Stmt scrub(db, sql.c_str());
  LOYALTYD_RETURN_IF_ERROR(scrub.prepare_status());
  scrub.Bind(1, request_id).Bind(2, shop_id).Bind(3, cursor).Bind(4, high).Bind(5, replacement);
  LOYALTYD_RETURN_IF_ERROR(sqlite_internal::StepDone(scrub, db, "scrubbing inbox bodies"));
  const int64_t changed = sqlite3_changes64(db);
  Stmt s(db, "UPDATE privacy_requests SET cursor = ?2, scrubbed = scrubbed + ?3 WHERE id = ?1");
  LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
  s.Bind(1, request_id).Bind(2, high).Bind(3, changed);
  LOYALTYD_RETURN_IF_ERROR(sqlite_internal::StepDone(s, db, "moving the scrub cursor"));
  return true;
}

Status SqliteStorage::DeleteCustomerLocked(int64_t customer_id) {
  sqlite3* db = writer_;
  // The customer's outbox jobs: its rewards' and its tag updates'.
  Result<std::vector<int64_t>> jobs = PrivacyIds(
      db,
      "SELECT id FROM outbox_jobs WHERE redemption_id IN (SELECT id FROM redemptions WHERE "
      "customer_id = ?1) UNION SELECT job_id FROM tag_updates WHERE customer_id = ?1 "
      "UNION SELECT d.job_id FROM out_deliveries d JOIN out_events e ON e.id = d.out_event_id "
      "WHERE e.customer_id = ?1",
      customer_id);
  if (!jobs.ok()) return jobs.status();
  // Children before parents: the schema's foreign keys are enforced.
  static constexpr const char* kBefore[] = {
      "DELETE FROM point_lots WHERE customer_id = ?1 OR order_id IN "
      "(SELECT id FROM orders WHERE customer_id = ?1)",
      "DELETE FROM customer_activity WHERE customer_id = ?1",
      "DELETE FROM pending_awards WHERE customer_id = ?1 OR order_id IN "
      "(SELECT id FROM orders WHERE customer_id = ?1)",
      "DELETE FROM action_requests WHERE customer_id = ?1",
      "DELETE FROM tier_orders WHERE customer_id = ?1 OR order_id IN "
      "(SELECT id FROM orders WHERE customer_id = ?1)",
      "DELETE FROM tier_grants WHERE customer_id = ?1 OR order_id IN "
      "(SELECT id FROM orders WHERE customer_id = ?1)",
      "DELETE FROM customer_tiers WHERE customer_id = ?1",
      "DELETE FROM referral_codes WHERE customer_id = ?1",
      "DELETE FROM referral_clicks WHERE customer_id = ?1",
      "DELETE FROM customer_identity_keys WHERE customer_id = ?1",
      "DELETE FROM customer_redactions WHERE customer_id = ?1",
      "DELETE FROM privacy_request_customers WHERE customer_id = ?1",
      // As a friend of a referrer kept elsewhere (another shop): anonymous, unlinked.
      "UPDATE referrals SET friend_customer_id = NULL, friend_email = '', "
      "friend_key = 'redacted:' || id, welcome_redemption_id = NULL WHERE "
      "friend_customer_id = ?1 AND referrer_customer_id <> ?1",
      "UPDATE referrals SET order_id = NULL, source_event_id = NULL WHERE order_id IN "
      "(SELECT id FROM orders WHERE customer_id = ?1) AND referrer_customer_id <> ?1",
      "UPDATE referrals SET welcome_redemption_id = NULL WHERE welcome_redemption_id IN "
      "(SELECT id FROM redemptions WHERE customer_id = ?1) AND referrer_customer_id <> ?1",
      "DELETE FROM referrals WHERE referrer_customer_id = ?1",
      "DELETE FROM tag_updates WHERE customer_id = ?1 OR job_id IN (SELECT id FROM outbox_jobs "
      "WHERE redemption_id IN (SELECT id FROM redemptions WHERE customer_id = ?1))",
      "DELETE FROM adjustments WHERE customer_id = ?1",   // sqlite_customers.cc; before its entry
      "DELETE FROM tier_changes WHERE customer_id = ?1",  // sqlite_reports.cc; before its entry
      // Events out: deliveries before their jobs (below) and their events.
      "DELETE FROM out_deliveries WHERE out_event_id IN "
      "(SELECT id FROM out_events WHERE customer_id = ?1)",
      "DELETE FROM out_events WHERE customer_id = ?1",
      "DELETE FROM ledger_entries WHERE customer_id = ?1",
      "DELETE FROM credit_entries WHERE customer_id = ?1",
  };
  for (const char* sql : kBefore) LOYALTYD_RETURN_IF_ERROR(PrivacyExec(db, sql, customer_id));
  for (const int64_t job : *jobs) {
    LOYALTYD_RETURN_IF_ERROR(PrivacyExec(db, "DELETE FROM outbox_jobs WHERE id = ?1", job));
  }
  static constexpr const char* kAfter[] = {
      "DELETE FROM redemptions WHERE customer_id = ?1",
      "DELETE FROM order_refunds WHERE order_id IN (SELECT id FROM orders WHERE customer_id = "
      "?1)",
      "DELETE FROM orders WHERE customer_id = ?1",
      "DELETE FROM customers WHERE id = ?1",
  };
  for (const char* sql : kAfter) LOYALTYD_RETURN_IF_ERROR(PrivacyExec(db, sql, customer_id));
  return Status::Ok();
}

Result<bool> SqliteStorage::ShopRedactStep(int64_t request_id, const std::string& shop_id,
                                           const std::string& phase, int64_t source_event_id,
                                           int64_t now_ms) {
  sqlite3* db = writer_;
  auto next_phase = [&](const char* next) -> Result<bool> {
    Stmt s(db, "UPDATE privacy_requests SET phase = ?2 WHERE id = ?1");
    LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
    s.Bind(1, request_id).BindCopy(2, next);
    LOYALTYD_RETURN_IF_ERROR(sqlite_internal::StepDone(s, db, "moving to the next phase"));
    return true;
  };
  auto ids_of = [&](const char* sql, int limit) -> Result<std::vector<int64_t>> {
    Stmt s(db, sql);
    LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
    s.Bind(1, shop_id).Bind(2, int64_t{limit}).Bind(3, source_event_id);
    std::vector<int64_t> ids;
    int rc;
    while ((rc = s.Step()) == SQLITE_ROW) ids.push_back(s.Int(0));
    if (rc != SQLITE_DONE) return SqliteError(db, rc, sql);
    return ids;
  };
  auto add_removed = [&](size_t n) -> Status {
    Stmt s(db, "UPDATE privacy_requests SET scrubbed = scrubbed + ?2 WHERE id = ?1");
    LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
    s.Bind(1, request_id).Bind(2, static_cast<int64_t>(n));
    return sqlite_internal::StepDone(s, db, "counting removed rows");
  };

  if (phase == "customers") {
    Result<std::vector<int64_t>> ids =
        ids_of("SELECT id FROM customers WHERE shop_id = ?1 AND ?3 = ?3 ORDER BY id LIMIT ?2",
               kPrivacyCustomerChunk);
    if (!ids.ok()) return ids.status();
    if (ids->empty()) return next_phase("orders");
    for (const int64_t id : *ids) {
      // Shared membership (sqlite_members.cc): a member's books go on in its other stores.
      LOYALTYD_RETURN_IF_ERROR(UnlinkMemberForDeletionLocked(id, now_ms));
      LOYALTYD_RETURN_IF_ERROR(DeleteCustomerLocked(id));
    }
    LOYALTYD_RETURN_IF_ERROR(add_removed(ids->size()));
    return true;
  }
  if (phase == "orders") {  // orders without a customer (guests without email, placeholders)
    Result<std::vector<int64_t>> ids =
        ids_of("SELECT id FROM orders WHERE shop_id = ?1 AND ?3 = ?3 ORDER BY id LIMIT ?2",
               kPrivacyOrderChunk);
    if (!ids.ok()) return ids.status();
    if (ids->empty()) return next_phase("jobs");
    static constexpr const char* kOrderSql[] = {
        "UPDATE referrals SET order_id = NULL WHERE order_id = ?1",
        "UPDATE ledger_entries SET order_id = NULL WHERE order_id = ?1",
        "UPDATE credit_entries SET order_id = NULL WHERE order_id = ?1",
        // INDEXED BY: without point_lots_order this scanned every lot per order; now an error.
        "UPDATE point_lots INDEXED BY point_lots_order SET order_id = NULL WHERE order_id = ?1",
        "DELETE FROM pending_awards WHERE order_id = ?1",
        "DELETE FROM tier_orders WHERE order_id = ?1",
        "DELETE FROM tier_grants WHERE order_id = ?1",
        "DELETE FROM order_refunds WHERE order_id = ?1",
        "DELETE FROM orders WHERE id = ?1",
    };
    for (const int64_t id : *ids) {
      for (const char* sql : kOrderSql) LOYALTYD_RETURN_IF_ERROR(PrivacyExec(db, sql, id));
    }
    LOYALTYD_RETURN_IF_ERROR(add_removed(ids->size()));
    return true;
  }
  if (phase == "jobs") {  // jobs of the shop for customers of other shops
    Result<std::vector<int64_t>> ids =
        ids_of("SELECT id FROM outbox_jobs WHERE shop_id = ?1 AND ?3 = ?3 ORDER BY id LIMIT ?2",
               kPrivacyOrderChunk);
    if (!ids.ok()) return ids.status();
    if (ids->empty()) return next_phase("references");
    for (const int64_t id : *ids) {
      LOYALTYD_RETURN_IF_ERROR(PrivacyExec(db, "DELETE FROM tag_updates WHERE job_id = ?1", id));
      LOYALTYD_RETURN_IF_ERROR(PrivacyExec(db, "DELETE FROM outbox_jobs WHERE id = ?1", id));
    }
    LOYALTYD_RETURN_IF_ERROR(add_removed(ids->size()));
    return true;
  }
  if (phase == "references") {
    // Rows of other shops that name one of this shop's webhooks as their cause (a referral
    // reward for a friend's order here, a member's tier change or account link): the link goes,
    // the row stays. One pass per nullable column with a foreign key to inbox_events, read from
    // the schema: a hand-kept list missed tier_changes and member_links, whose foreign keys then
    // stopped the "events" step for good. (inbox_bodies.event_id is a key: deleted below.)
    std::vector<std::string> updates;
    {
      Stmt refs(db,
                "SELECT m.name, f.\"from\" FROM sqlite_master m, "
                "pragma_foreign_key_list(m.name) f, pragma_table_info(m.name) c "
                "WHERE m.type = 'table' AND f.\"table\" = 'inbox_events' AND c.name = f.\"from\" "
                "AND c.\"notnull\" = 0 AND c.pk = 0 ORDER BY m.name");
      LOYALTYD_RETURN_IF_ERROR(refs.prepare_status());
      int rc;
      while ((rc = refs.Step()) == SQLITE_ROW) {
        const std::string table = refs.Text(0), column = refs.Text(1);  // names from our schema
        updates.push_back("UPDATE " + table + " SET " + column + " = NULL WHERE " + column +
                          " IN (SELECT id FROM inbox_events WHERE shop_id = ?2)");
      }
      if (rc != SQLITE_DONE) return SqliteError(db, rc, "reading the references to inbox events");
    }
    for (const std::string& sql : updates) {
      LOYALTYD_RETURN_IF_ERROR(PrivacyExec(db, sql.c_str(), request_id, &shop_id));
    }
    return next_phase("events");
  }
  if (phase == "events") {  // every webhook of the shop but the shop/redact one itself
    Result<std::vector<int64_t>> ids =
        ids_of("SELECT id FROM inbox_events WHERE shop_id = ?1 AND id <> ?3 ORDER BY id LIMIT ?2",
               kPrivacyEventChunk);
    if (!ids.ok()) return ids.status();
    if (ids->empty()) return next_phase("rest");
    for (const int64_t id : *ids) {
      LOYALTYD_RETURN_IF_ERROR(PrivacyExec(db, "DELETE FROM inbox_bodies WHERE event_id = ?1", id));
      LOYALTYD_RETURN_IF_ERROR(PrivacyExec(db, "DELETE FROM inbox_events WHERE id = ?1", id));
    }
    LOYALTYD_RETURN_IF_ERROR(add_removed(ids->size()));
    return true;
  }
  // "rest": the shop's remaining small rows, then the request is done. The request itself and
  // the shop's state stay as the record that the shop's data was removed.
  static constexpr const char* kRestSql[] = {
      "DELETE FROM reconcile_marks WHERE shop_id = ?2 AND ?1 = ?1",
      "DELETE FROM privacy_scrub_terms WHERE request_id IN (SELECT id FROM privacy_requests "
      "WHERE shop_id = ?2 AND id <> ?1)",
      "DELETE FROM privacy_request_customers WHERE request_id IN (SELECT id FROM "
      "privacy_requests WHERE shop_id = ?2 AND id <> ?1)",
      "DELETE FROM privacy_requests WHERE shop_id = ?2 AND id <> ?1",
  };
  for (const char* sql : kRestSql) {
    LOYALTYD_RETURN_IF_ERROR(PrivacyExec(db, sql, request_id, &shop_id));
  }
  {
    Stmt s(db,
           "UPDATE shop_states SET redacted_at_ms = ?2, active = 0, reason = 'shop redacted', "
           "updated_at_ms = ?2 WHERE shop_id = ?1");
    LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
    s.Bind(1, shop_id).Bind(2, now_ms);
    LOYALTYD_RETURN_IF_ERROR(sqlite_internal::StepDone(s, db, "recording the shop redaction"));
  }
  Stmt s(db,
         "UPDATE privacy_requests SET status = 'completed', phase = '', completed_at_ms = ?2, "
         "summary = 'shop redaction: all of shop ' || shop_id || '''s data removed (' || "
         "scrubbed || ' customers, orders, jobs and webhooks)' WHERE id = ?1");
  LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
  s.Bind(1, request_id).Bind(2, now_ms);
  LOYALTYD_RETURN_IF_ERROR(sqlite_internal::StepDone(s, db, "completing the shop redaction"));
  wal_scrub_wanted_ = true;
  return false;
}

bool SqliteStorage::TruncateWalLocked() {
  int log_frames = 0;
  int checkpointed = 0;
  std::lock_guard<std::mutex> running(checkpoint_run_mu_);  // not beside the checkpoint thread
  const int rc = sqlite3_wal_checkpoint_v2(writer_, nullptr, SQLITE_CHECKPOINT_TRUNCATE,
                                           &log_frames, &checkpointed);
  return rc == SQLITE_OK;
}

Result<bool> SqliteStorage::RunPrivacyWork(int64_t now_ms) {
  std::lock_guard<std::mutex> lock(write_mu_);
  int64_t id = 0;
  std::string kind, shop_id, phase;
  int64_t cursor = 0, source_event_id = 0;
  {
    Stmt s(writer_,
           "SELECT id, kind, shop_id, phase, cursor, COALESCE(source_event_id, 0) FROM "
           "privacy_requests WHERE status = 'pending' ORDER BY id LIMIT 1");
    LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
    const int rc = s.Step();
    if (rc == SQLITE_ROW) {
      id = s.Int(0);
      kind = s.Text(1);
      shop_id = s.Text(2);
      phase = s.Text(3);
      cursor = s.Int(4);
      source_event_id = s.Int(5);
    } else if (rc != SQLITE_DONE) {
      return SqliteError(writer_, rc, "loading privacy work");
    }
  }
  if (id == 0) {
    // Nothing left: the WAL, which still holds the pages as they were before the erasure, is
    // checkpointed into the (zeroed) database and cut to zero bytes.
    if (wal_scrub_wanted_ && TruncateWalLocked()) wal_scrub_wanted_ = false;
    return false;
  }
  bool more = false;
  Status st = InTransaction(writer_, [&]() -> Status {
    Result<bool> step = kind == "shop_redact"
                            ? ShopRedactStep(id, shop_id, phase, source_event_id, now_ms)
                            : ScrubBodiesStep(id, shop_id, cursor, now_ms);
    if (!step.ok()) return step.status();
    more = *step;
    return Status::Ok();
  });
  if (!st.ok()) {
    // Kept for the merchant (GET /api/v1/privacy/requests) and retried at the next run.
    (void)InTransaction(writer_, [&]() -> Status {
      Stmt s(writer_, "UPDATE privacy_requests SET last_error = ?2 WHERE id = ?1");
      LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
      s.Bind(1, id).BindCopy(2, st.ToString());
      return sqlite_internal::StepDone(s, writer_, "recording privacy work error");
    });
    return st;
  }
  // A request just completed: cut the WAL now rather than at the next call, so that once a
  // request reads completed, its erasure has (almost always) reached the disk too.
  if (!more && wal_scrub_wanted_ && TruncateWalLocked()) wal_scrub_wanted_ = false;
  return true;  // this request moved on; the next call finds what is left
}

}  // namespace loyaltyd
