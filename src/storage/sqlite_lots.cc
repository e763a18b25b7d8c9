// SqliteStorage, point lots, expiry and pending awards (docs/storage.md: point_lots,
// customer_activity, pending_awards).
//
// Lots are kept by PostPoints itself (CreditLot, DebitLots), so every caller that changes a
// balance — earning, redeeming, clawbacks, refunds of redemptions, expiry, and whatever comes
// later — keeps the lots in step without knowing about them. The invariant, in every
// transaction: the open lots of a customer sum to max(points_balance, 0); a negative balance is
// a debt that the next credits pay first.
#include <sqlite3.h>

#include <algorithm>
#include <limits>
#include <map>

#include "core/clock.h"
#include "core/money.h"
#include "storage/sqlite_statement.h"
#include "storage/sqlite_storage.h"

namespace loyaltyd {

using sqlite_internal::ExecCached;
using sqlite_internal::InTransaction;
using sqlite_internal::SqliteError;
using sqlite_internal::StepDone;
using sqlite_internal::Stmt;

namespace {

constexpr int64_t kDayMs = 86'400'000;
// Lots expired (or awards released) per transaction: a run over a large backlog holds the
// write lock for one batch at a time, so webhooks keep flowing between batches.
constexpr int64_t kBatch = 256;

std::string Date(int64_t ms) { return FormatIso8601Millis(ms).substr(0, 10); }

// What is left to release of an order's pending awards once the refunds recorded so far take
// their share (the clawback formula, SqliteStorage::ClawbackTarget). Reads order_refunds like
// ApplyClawbacks does: merchandise after discounts, without tax when prices include it.
struct OrderRefunds {
  int64_t eligible = 0;
  int64_t refunded = 0;
  bool rest = false;
};

Result<OrderRefunds> ReadOrderRefunds(SqliteStorage::StatementCache& statements, int64_t order_id) {
  OrderRefunds out;
  Stmt order(statements, "SELECT eligible_minor, taxes_included FROM orders WHERE id = ?1");
  LOYALTYD_RETURN_IF_ERROR(order.prepare_status());
  order.Bind(1, order_id);
  if (order.Step() != SQLITE_ROW) return out;
  out.eligible = order.Int(0);
  const bool taxes_included = order.Int(1) != 0;
  Stmt s(statements,
         "SELECT merchandise_minor, tax_minor, refunds_rest FROM order_refunds "
         "WHERE order_id = ?1 ORDER BY id");
  LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
  s.Bind(1, order_id);
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    const int64_t amount = std::max<int64_t>(s.Int(0) - (taxes_included ? s.Int(1) : 0), 0);
    if (__builtin_add_overflow(out.refunded, amount, &out.refunded)) {
      out.refunded = std::numeric_limits<int64_t>::max();
    }
    out.rest = out.rest || s.Int(2) != 0;
  }
  if (rc != SQLITE_DONE) return SqliteError(statements.db(), rc, "reading refunds");
  return out;
}

}  // namespace

std::string_view PendingAwardStatusName(PendingAwardStatus status) {
  switch (status) {
    case PendingAwardStatus::kPending:
      return "pending";
    case PendingAwardStatus::kReleased:
      return "released";
    case PendingAwardStatus::kVoided:
      return "voided";
  }
  return "unknown";
}

void SqliteStorage::SetPointsPolicy(const PointsPolicy& policy) {
  std::lock_guard<std::mutex> lock(write_mu_);
  points_policy_ = policy;
}

Status SqliteStorage::CreditLot(const Posting& p, int64_t entry_id, int64_t balance_before,
                                int64_t now_ms) {
  const int64_t effective = p.effective_at_ms != 0 ? p.effective_at_ms : now_ms;
  // A negative balance is a debt: the credit pays it first and only the rest stays spendable.
  const int64_t debt = std::max<int64_t>(-balance_before, 0);
  const int64_t remaining = p.points - std::min(p.points, debt);
  const int64_t expires =
      points_policy_.lot_age_ms > 0 ? effective + points_policy_.lot_age_ms : int64_t{0};
  Stmt insert(*writer_statements_,
              "INSERT INTO point_lots (customer_id, ledger_entry_id, order_id, points, remaining, "
              "earned_at_ms, expires_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  LOYALTYD_RETURN_IF_ERROR(insert.prepare_status());
  insert.Bind(1, p.customer_id).Bind(2, entry_id);
  if (p.order_id != 0) insert.Bind(3, p.order_id);
  insert.Bind(4, p.points).Bind(5, remaining).Bind(6, effective).Bind(7, expires);
  return StepDone(insert, writer_, "recording point lot");
}

Status SqliteStorage::DebitLots(const Posting& p, int64_t now_ms) {
  (void)now_ms;
  int64_t amount = -p.points;
  struct Take {
    int64_t lot_id;
    int64_t points;
  };
  std::vector<Take> takes;
  if (p.from_lot_id != 0) {
    Stmt lot(*writer_statements_, "SELECT remaining FROM point_lots WHERE id = ?1");
    LOYALTYD_RETURN_IF_ERROR(lot.prepare_status());
    lot.Bind(1, p.from_lot_id);
    if (lot.Step() == SQLITE_ROW) takes.push_back({p.from_lot_id, std::min(lot.Int(0), amount)});
  } else {
    // Oldest expiry first, lots that never expire last; a clawback takes first from the lots
    // its own order credited, so that refunding an order removes that order's points rather
    // than shortening the life of older ones. Three reads in index order, each stopped once
    // the amount is covered: one ORDER BY over the whole order sorted every open lot of the
    // customer per debit (a temp B-tree), however few it took. The later reads leave out the
    // order's own lots: when they run, the first took all of them (its updates come after).
    struct Read {
      const char* sql;  // ?1 the customer, ?2 the order refunded (0: none)
      const char* what;
      bool only_for_a_refund;  // reads the refunded order's own lots
    };
    static constexpr Read kReads[] = {
        // An order has a lot per rule that credited it: a handful, sorted here.
        {"SELECT id, remaining FROM point_lots INDEXED BY point_lots_order "
         "WHERE order_id = ?2 AND customer_id = ?1 AND remaining > 0 "
         "ORDER BY expires_at_ms = 0, expires_at_ms, id",
         "reading the order's point lots", true},
        {"SELECT id, remaining FROM point_lots INDEXED BY point_lots_open "
         "WHERE customer_id = ?1 AND remaining > 0 AND expires_at_ms > 0 AND order_id IS NOT ?2 "
         "ORDER BY expires_at_ms, id",
         "reading point lots", false},
        {"SELECT id, remaining FROM point_lots INDEXED BY point_lots_open "
         "WHERE customer_id = ?1 AND remaining > 0 AND expires_at_ms = 0 AND order_id IS NOT ?2 "
         "ORDER BY id",
         "reading point lots that never expire", false},
    };
    const int64_t own_order = p.kind == "clawback" ? p.order_id : int64_t{0};
    for (const Read& read : kReads) {
      if (amount <= 0) break;
      if (read.only_for_a_refund && own_order == 0) continue;
      Stmt open(*writer_statements_, read.sql);
      LOYALTYD_RETURN_IF_ERROR(open.prepare_status());
      open.Bind(1, p.customer_id).Bind(2, own_order);
      int rc = SQLITE_DONE;
      while (amount > 0 && (rc = open.Step()) == SQLITE_ROW) {
        const int64_t take = std::min(open.Int(1), amount);
        takes.push_back({open.Int(0), take});
        amount -= take;
      }
      if (amount > 0 && rc != SQLITE_DONE) return SqliteError(writer_, rc, read.what);
    }
  }
  // What the lots cannot cover (a balance allowed to go negative) is the debt: it is the
  // negative balance itself, paid by the next credits (CreditLot).
  for (const Take& t : takes) {
    Stmt update(*writer_statements_,
                "UPDATE point_lots SET remaining = remaining - ?2 WHERE id = ?1");
    LOYALTYD_RETURN_IF_ERROR(update.prepare_status());
    update.Bind(1, t.lot_id).Bind(2, t.points);
    LOYALTYD_RETURN_IF_ERROR(StepDone(update, writer_, "taking from point lot"));
  }
  return Status::Ok();
}

Status SqliteStorage::RecordPendingAwards(const EventOutcome& outcome,
                                          const std::vector<PointsChange>& points,
                                          int64_t customer_id, int64_t order_id) {
  for (const PointsChange& change : points) {
    // Once per (order, rule): a redelivery, or a later event of the same order, adds nothing,
    // and an award released or voided stays so.
    Stmt insert(*writer_statements_,
                "INSERT INTO pending_awards (order_id, customer_id, rule_id, points, description, "
                "once_key, source_event_id, awarded_at_ms, release_at_ms, "
                "allow_negative_balance) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
                "ON CONFLICT(order_id, rule_id) DO NOTHING");
    LOYALTYD_RETURN_IF_ERROR(insert.prepare_status());
    insert.Bind(1, order_id).Bind(2, customer_id).Bind(3, change.rule_id).Bind(4, change.points);
    insert.Bind(5, change.description).BindNullIfEmpty(6, change.once_per_customer_key);
    insert.Bind(7, outcome.event_id).Bind(8, outcome.received_at_ms);
    insert.Bind(9, outcome.hold_until_ms);
    insert.Bind(10, int64_t{outcome.allow_negative_balance ? 1 : 0});
    LOYALTYD_RETURN_IF_ERROR(StepDone(insert, writer_, "recording pending award"));
  }
  return Status::Ok();
}

Status SqliteStorage::VoidPendingAwards(int64_t order_id, int64_t event_id, int64_t now_ms) {
  Stmt update(*writer_statements_,
              "UPDATE pending_awards SET status = 'voided', settled_at_ms = ?3, status_reason = "
              "'order cancelled or fully refunded before release (event ' || ?2 || ')' "
              "WHERE order_id = ?1 AND status = 'pending'");
  LOYALTYD_RETURN_IF_ERROR(update.prepare_status());
  update.Bind(1, order_id).Bind(2, event_id).Bind(3, now_ms);
  return StepDone(update, writer_, "voiding pending awards");
}

Result<int64_t> SqliteStorage::ExpireBatch(int64_t now_ms, ExpiryRunResult& result) {
  struct Due {
    int64_t lot_id;
    int64_t customer_id;
    int64_t remaining;
    int64_t points;
    int64_t earned_at_ms;
    int64_t expires_at_ms;
    std::string kind;
    std::string order_name;
    int64_t inactive_since_ms;  // > 0: expired for inactivity
  };
  std::vector<Due> due;
  auto read = [&](Stmt& s, bool inactivity) -> Status {
    int rc;
    while ((rc = s.Step()) == SQLITE_ROW) {
      due.push_back(Due{s.Int(0), s.Int(1), s.Int(2), s.Int(3), s.Int(4), s.Int(5), s.Text(6),
                        s.Text(7), inactivity ? s.Int(8) : 0});
    }
    return rc == SQLITE_DONE ? Status::Ok() : SqliteError(writer_, rc, "finding lots to expire");
  };
  {
    Stmt s(*writer_statements_,
           "SELECT l.id, l.customer_id, l.remaining, l.points, l.earned_at_ms, l.expires_at_ms, "
           "e.kind, COALESCE(o.name, '') FROM point_lots l "
           "JOIN ledger_entries e ON e.id = l.ledger_entry_id "
           "LEFT JOIN orders o ON o.id = l.order_id "
           "WHERE l.remaining > 0 AND l.expires_at_ms > 0 AND l.expires_at_ms <= ?1 "
           "ORDER BY l.expires_at_ms, l.id LIMIT ?2");
    LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
    s.Bind(1, now_ms).Bind(2, kBatch);
    LOYALTYD_RETURN_IF_ERROR(read(s, false));
  }
  if (points_policy_.inactivity_ms > 0 && static_cast<int64_t>(due.size()) < kBatch) {
    // Inactive since the last earn, redeem or action; a customer with none since joining.
    Stmt s(*writer_statements_,
           "SELECT l.id, l.customer_id, l.remaining, l.points, l.earned_at_ms, l.expires_at_ms, "
           "e.kind, COALESCE(o.name, ''), COALESCE(a.last_activity_ms, c.created_at_ms) "
           "FROM point_lots l JOIN customers c ON c.id = l.customer_id "
           "LEFT JOIN customer_activity a ON a.customer_id = l.customer_id "
           "JOIN ledger_entries e ON e.id = l.ledger_entry_id "
           "LEFT JOIN orders o ON o.id = l.order_id "
           "WHERE l.remaining > 0 AND COALESCE(a.last_activity_ms, c.created_at_ms) <= ?1 "
           // Lots due by age are the query above's, this batch or the next.
           "AND NOT (l.expires_at_ms > 0 AND l.expires_at_ms <= ?3) "
           // point_lots_open's order: a customer's lots together, no sort.
           "ORDER BY l.customer_id, l.expires_at_ms, l.id LIMIT ?2");
    LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
    s.Bind(1, now_ms - points_policy_.inactivity_ms);
    s.Bind(2, kBatch - static_cast<int64_t>(due.size())).Bind(3, now_ms);
    LOYALTYD_RETURN_IF_ERROR(read(s, true));
  }

  int64_t expired = 0;
  for (const Due& d : due) {
    const bool inactivity = d.inactive_since_ms > 0;
    std::string origin = d.kind + (d.order_name.empty() ? "" : " on order " + d.order_name) +
                         " of " + Date(d.earned_at_ms);
    std::string description =
        std::to_string(d.remaining) + " point(s) expired, left of " + std::to_string(d.points) +
        " from " + origin + ": " +
        (inactivity ? "no points activity since " + Date(d.inactive_since_ms) + " (" +
                          std::to_string(points_policy_.inactivity_ms / kDayMs) + " days)"
                    : "lot reached its expiry on " + Date(d.expires_at_ms));
    Posting posting;
    posting.customer_id = d.customer_id;
    posting.kind = "expire";
    posting.rule_id = inactivity ? "inactivity" : "lot_age";
    // Once per lot, whatever the repeats (the writer is serialised and the lot's remaining is
    // read in the same transaction; the key makes a second entry impossible regardless).
    posting.once_key = "expire:lot:" + std::to_string(d.lot_id);
    posting.from_lot_id = d.lot_id;
    posting.points = -d.remaining;
    posting.description = std::move(description);
    posting.effective_at_ms =
        inactivity ? d.inactive_since_ms + points_policy_.inactivity_ms : d.expires_at_ms;
    Result<bool> posted = PostPoints(posting, now_ms);
    if (!posted.ok()) return posted.status();
    ++expired;
    if (!*posted) continue;  // expired before (cannot happen while the lot had points left)
    Stmt mark(*writer_statements_, "UPDATE point_lots SET expired_reason = ?2 WHERE id = ?1");
    LOYALTYD_RETURN_IF_ERROR(mark.prepare_status());
    mark.Bind(1, d.lot_id).BindCopy(2, inactivity ? "inactivity" : "lot age");
    LOYALTYD_RETURN_IF_ERROR(StepDone(mark, writer_, "marking expired lot"));
    ++result.lots_expired;
    result.points_expired += d.remaining;
  }
  return expired;
}

Result<ExpiryRunResult> SqliteStorage::ExpirePoints(int64_t now_ms) {
  ExpiryRunResult result;
  for (;;) {
    // Lots made under an earlier policy keep the expiry they were given, so this runs even
    // when the policy has none now.
    std::lock_guard<std::mutex> lock(write_mu_);
    const int64_t expired_before = result.lots_expired;
    LOYALTYD_RETURN_IF_ERROR(ExecCached(*writer_statements_, "PRAGMA synchronous=FULL"));
    int64_t batch = 0;
    Status st = InTransaction(writer_, [&]() -> Status {
      Result<int64_t> n = ExpireBatch(now_ms, result);
      if (!n.ok()) return n.status();
      batch = *n;
      return Status::Ok();
    });
    if (!st.ok()) return st.WithContext("expiring points");
    // A full batch that expired nothing would come back identical: stop rather than spin.
    if (batch < kBatch || result.lots_expired == expired_before) return result;
  }
}

Result<ReleaseRunResult> SqliteStorage::ReleasePendingPoints(int64_t now_ms) {
  ReleaseRunResult result;
  for (;;) {
    std::lock_guard<std::mutex> lock(write_mu_);
    LOYALTYD_RETURN_IF_ERROR(ExecCached(*writer_statements_, "PRAGMA synchronous=FULL"));
    int64_t batch = 0;
    Status st = InTransaction(writer_, [&]() -> Status {
      struct Award {
        int64_t id, order_id, customer_id;
        std::string rule_id;
        int64_t points;
        std::string description, once_key;
        int64_t source_event_id, release_at_ms;
        bool allow_negative;
      };
      std::vector<Award> awards;
      {
        // Whole orders at a time: the clawback formula needs everything the order earned.
        Stmt s(*writer_statements_,
               "SELECT id, order_id, customer_id, rule_id, points, description, "
               "COALESCE(once_key, ''), COALESCE(source_event_id, 0), release_at_ms, "
               "allow_negative_balance FROM pending_awards WHERE status = 'pending' AND "
               "order_id IN (SELECT DISTINCT order_id FROM pending_awards WHERE status = "
               "'pending' AND release_at_ms <= ?1 ORDER BY order_id LIMIT ?2) "
               "ORDER BY order_id, id");
        LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
        s.Bind(1, now_ms).Bind(2, kBatch);
        int rc;
        while ((rc = s.Step()) == SQLITE_ROW) {
          awards.push_back(Award{s.Int(0), s.Int(1), s.Int(2), s.Text(3), s.Int(4), s.Text(5),
                                 s.Text(6), s.Int(7), s.Int(8), s.Int(9) != 0});
        }
        if (rc != SQLITE_DONE) return SqliteError(writer_, rc, "finding due pending awards");
      }
      std::map<int64_t, std::vector<const Award*>> by_order;
      for (const Award& a : awards) {
        // An award of the order not due yet (a later event's) waits for its own time.
        if (a.release_at_ms <= now_ms) by_order[a.order_id].push_back(&a);
      }
      batch = static_cast<int64_t>(by_order.size());
      for (const auto& [order_id, order_awards] : by_order) {
        Result<OrderRefunds> refunds = ReadOrderRefunds(*writer_statements_, order_id);
        if (!refunds.ok()) return refunds.status();
        auto settle = [&](const Award& a, const char* status, const std::string& reason) {
          Stmt mark(*writer_statements_,
                    "UPDATE pending_awards SET status = ?2, status_reason = ?3, "
                    "settled_at_ms = ?4 WHERE id = ?1 AND status = 'pending'");
          mark.Bind(1, a.id).BindCopy(2, status).Bind(3, reason).Bind(4, now_ms);
          return StepDone(mark, writer_, "settling pending award");
        };
        if (refunds->rest) {
          for (const Award* a : order_awards) {
            ++result.voided;
            LOYALTYD_RETURN_IF_ERROR(
                settle(*a, "voided", "order cancelled or fully refunded before release"));
          }
          continue;
        }
        int64_t source_event_id = 0, release_at_ms = 0;
        bool allow_negative = false;
        for (const Award* a : order_awards) {
          Posting posting;
          posting.customer_id = a->customer_id;
          posting.order_id = a->order_id;
          posting.source_event_id = a->source_event_id;
          posting.rule_id = a->rule_id;
          posting.kind = "earn";
          posting.once_key = a->once_key;
          posting.points = a->points;
          posting.description = a->description + " (held until " + Date(a->release_at_ms) + ")";
          posting.effective_at_ms = a->release_at_ms;
          Result<bool> posted = PostPoints(posting, now_ms);
          if (!posted.ok()) return posted.status();
          if (*posted) {
            ++result.released;
            result.points_released += a->points;
            LOYALTYD_RETURN_IF_ERROR(settle(*a, "released", ""));
          } else {
            ++result.voided;
            LOYALTYD_RETURN_IF_ERROR(settle(*a, "voided",
                                            a->once_key.empty()
                                                ? "the order already earned under this rule"
                                                : "the customer already had this once-only award"));
          }
          source_event_id = a->source_event_id;
          release_at_ms = a->release_at_ms;
          allow_negative = allow_negative || a->allow_negative;
        }
        // The refunds recorded during the hold take their share now, with the same formula
        // and entries as for an order that earned at once.
        LOYALTYD_RETURN_IF_ERROR(
            ApplyClawbacks(order_id, source_event_id, allow_negative, release_at_ms, now_ms));
      }
      return Status::Ok();
    });
    if (!st.ok()) return st.WithContext("releasing pending points");
    if (batch < kBatch) return result;
  }
}

Result<std::vector<PointLotRecord>> SqliteStorage::ListLots(int64_t customer_id, bool open_only,
                                                            int64_t before_id, size_t limit) {
  ReadLease lease(*this);
  Stmt s(lease.statements(),
         "SELECT l.id, l.customer_id, l.ledger_entry_id, e.kind, e.rule_id, "
         "COALESCE(o.platform_order_id, ''), COALESCE(o.name, ''), l.points, l.remaining, "
         "l.earned_at_ms, l.expires_at_ms, l.expired_reason FROM point_lots l "
         "JOIN ledger_entries e ON e.id = l.ledger_entry_id "
         "LEFT JOIN orders o ON o.id = l.order_id "
         "WHERE l.customer_id = ?1 AND (?2 = 0 OR l.remaining > 0) AND (?3 <= 0 OR l.id < ?3) "
         "ORDER BY l.id DESC LIMIT ?4");
  LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
  s.Bind(1, customer_id).Bind(2, int64_t{open_only ? 1 : 0}).Bind(3, before_id);
  s.Bind(4, static_cast<int64_t>(limit));
  std::vector<PointLotRecord> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    PointLotRecord r;
    r.id = s.Int(0);
    r.customer_id = s.Int(1);
    r.ledger_entry_id = s.Int(2);
    r.kind = s.Text(3);
    r.rule_id = s.Text(4);
    r.order_platform_id = s.Text(5);
    r.order_name = s.Text(6);
    r.points = s.Int(7);
    r.remaining = s.Int(8);
    r.earned_at_ms = s.Int(9);
    r.expires_at_ms = s.Int(10);
    r.expired_reason = s.Text(11);
    out.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) return SqliteError(lease.db(), rc, "listing point lots");
  return out;
}

Result<std::vector<PendingAwardRecord>> SqliteStorage::ListPendingAwards(int64_t customer_id,
                                                                         size_t limit) {
  ReadLease lease(*this);
  Stmt s(lease.statements(),
         "SELECT p.id, p.customer_id, o.platform_order_id, o.name, p.rule_id, p.points, "
         "p.description, COALESCE(p.source_event_id, 0), p.awarded_at_ms, p.release_at_ms, "
         "p.status, p.status_reason, p.settled_at_ms, p.order_id FROM pending_awards p "
         "JOIN orders o ON o.id = p.order_id WHERE p.customer_id = ?1 "
         "ORDER BY p.id DESC LIMIT ?2");
  LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
  s.Bind(1, customer_id).Bind(2, static_cast<int64_t>(limit));
  std::vector<PendingAwardRecord> out;
  std::vector<int64_t> order_ids;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    PendingAwardRecord r;
    r.id = s.Int(0);
    r.customer_id = s.Int(1);
    r.order_platform_id = s.Text(2);
    r.order_name = s.Text(3);
    r.rule_id = s.Text(4);
    r.points = s.Int(5);
    r.description = s.Text(6);
    r.source_event_id = s.Int(7);
    r.awarded_at_ms = s.Int(8);
    r.release_at_ms = s.Int(9);
    const std::string status = s.Text(10);
    r.status = status == "released" ? PendingAwardStatus::kReleased
               : status == "voided" ? PendingAwardStatus::kVoided
                                    : PendingAwardStatus::kPending;
    r.status_reason = s.Text(11);
    r.settled_at_ms = s.Int(12);
    order_ids.push_back(s.Int(13));
    out.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) return SqliteError(lease.db(), rc, "listing pending awards");

  // Net of the refunds recorded so far, order by order, with the clawback formula: the order's
  // target is shared over its pending awards in proportion, the last taking the remainder, so
  // that the nets add up to exactly what release will leave.
  std::map<int64_t, std::vector<size_t>> pending_by_order;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i].status == PendingAwardStatus::kPending) pending_by_order[order_ids[i]].push_back(i);
    if (out[i].status == PendingAwardStatus::kReleased) out[i].net_points = out[i].points;
  }
  for (const auto& [order_id, indices] : pending_by_order) {
    Result<OrderRefunds> refunds = ReadOrderRefunds(lease.statements(), order_id);
    if (!refunds.ok()) return refunds.status();
    int64_t earned = 0;
    for (size_t i : indices) earned += out[i].points;
    const int64_t target =
        earned <= 0 ? 0
                    : ClawbackTarget(earned, refunds->eligible, refunds->refunded, refunds->rest);
    int64_t shared = 0;
    for (size_t k = 0; k < indices.size(); ++k) {
      PendingAwardRecord& r = out[indices[k]];
      const int64_t share =
          k + 1 == indices.size() ? target - shared : MulDivFloor(target, r.points, earned);
      shared += share;
      r.net_points = r.points - share;
    }
  }
  return out;
}

Result<PointsOutlook> SqliteStorage::GetPointsOutlook(int64_t customer_id, int64_t horizon_ms) {
  PointsOutlook outlook;
  {
    ReadLease lease(*this);
    Stmt s(lease.statements(),
           "SELECT COALESCE(SUM(CASE WHEN expires_at_ms <= ?2 THEN remaining END), 0), "
           "COALESCE(MIN(expires_at_ms), 0) FROM point_lots "
           "WHERE customer_id = ?1 AND remaining > 0 AND expires_at_ms > 0");
    LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
    s.Bind(1, customer_id).Bind(2, horizon_ms);
    if (s.Step() != SQLITE_ROW) return SqliteError(lease.db(), SQLITE_ERROR, "reading lots");
    outlook.expiring_points = s.Int(0);
    outlook.next_expiry_at_ms = s.Int(1);
  }
  // A customer has few awards pending at once (one per order in the hold window).
  Result<std::vector<PendingAwardRecord>> awards = ListPendingAwards(customer_id, 1000);
  if (!awards.ok()) return awards.status();
  for (const PendingAwardRecord& a : *awards) {
    if (a.status == PendingAwardStatus::kPending) outlook.pending_points += a.net_points;
  }
  return outlook;
}

}  // namespace loyaltyd
