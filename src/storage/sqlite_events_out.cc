// SqliteStorage, events out (docs/events.md; docs/storage.md, "Events out"): the events that
// merchant-configured endpoints receive, queued inside the transaction of the ledger change
// that causes them — so a rolled-back change sends nothing and a committed one is never lost —
// with one "event_out" outbox job per endpoint, which the outbox worker delivers.
// Each event is written once per cause (out_events.cause_key): a ledger entry, a tier change's
// entry, a referral, or a customer's lots expiring on one day.
#include <sqlite3.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "events_out/event_payload.h"
#include "storage/sqlite_statement.h"
#include "storage/sqlite_storage.h"

namespace loyaltyd {

using sqlite_internal::SqliteError;
using sqlite_internal::StepDone;
using sqlite_internal::Stmt;

namespace {

// Customers warned per transaction by QueueExpiryWarnings: short enough that webhooks queued
// behind the write lock wait milliseconds, not the whole run.
constexpr int64_t kExpiryWarningChunk = 256;

constexpr const char* kDeliveryColumns =
    "j.id, d.endpoint_id, e.event_id, e.topic, COALESCE(e.customer_id, 0), e.body, j.status, "
    "j.attempts, j.last_error, d.last_http_status, j.next_attempt_at_ms, j.created_at_ms, "
    "d.delivered_at_ms";
constexpr const char* kDeliveryFrom =
    " FROM out_deliveries d JOIN outbox_jobs j ON j.id = d.job_id "
    "JOIN out_events e ON e.id = d.out_event_id";

EventDeliveryRecord ReadEventDelivery(const Stmt& s) {
  EventDeliveryRecord r;
  r.job_id = s.Int(0);
  r.endpoint_id = s.Text(1);
  r.event_id = s.Text(2);
  r.topic = s.Text(3);
  r.customer_id = s.Int(4);
  r.body = s.Text(5);
  r.status = ParseJobStatus(s.Text(6)).value_or(JobStatus::kPending);
  r.attempts = static_cast<int>(s.Int(7));
  r.last_error = s.Text(8);
  r.last_http_status = static_cast<int>(s.Int(9));
  r.next_attempt_at_ms = s.Int(10);
  r.created_at_ms = s.Int(11);
  r.delivered_at_ms = s.Int(12);
  return r;
}

// "2027-01-31", the UTC day of an instant.
std::string UtcDayOf(int64_t ms) { return FormatIso8601Millis(ms).substr(0, 10); }

}  // namespace

bool EventsOutPolicy::Wants(std::string_view topic) const {
  return std::any_of(endpoints.begin(), endpoints.end(), [&](const Endpoint& e) {
    return std::find(e.topics.begin(), e.topics.end(), topic) != e.topics.end();
  });
}

void SqliteStorage::SetEventsOutPolicy(const EventsOutPolicy& policy) {
  std::lock_guard<std::mutex> lock(write_mu_);
  events_out_ = policy;
}

Status SqliteStorage::QueueEventLocked(const std::string& topic, const std::string& cause_key,
                                       int64_t customer_id, const std::string& data_json,
                                       int64_t now_ms) {
  if (!events_out_.Wants(topic)) return Status::Ok();
  EventEnvelope envelope;
  envelope.event_id = NewEventId();
  envelope.topic = topic;
  envelope.created_at_ms = now_ms;
  {
    Stmt who(*writer_statements_,
             "SELECT shop_id, COALESCE(platform_customer_id, ''), email, first_name, last_name "
             "FROM customers WHERE id = ?1");
    LOYALTYD_RETURN_IF_ERROR(who.prepare_status());
    who.Bind(1, customer_id);
    const int rc = who.Step();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return SqliteError(writer_, rc, "reading customer");
    if (rc == SQLITE_DONE) return Internal("an event's customer vanished inside its transaction");
    envelope.shop.id = who.Text(0);
    envelope.customer.id = customer_id;
    envelope.customer.platform_customer_id = who.Text(1);
    envelope.customer.email = who.Text(2);
    envelope.customer.first_name = who.Text(3);
    envelope.customer.last_name = who.Text(4);
  }
  if (auto shop = events_out_.shops.find(envelope.shop.id); shop != events_out_.shops.end()) {
    envelope.shop.platform = shop->second.platform;
    envelope.shop.domain = shop->second.domain;
  }
  const std::string body = BuildEventBody(
      envelope, nlohmann::json::parse(data_json, nullptr, /*allow_exceptions=*/false));

  Stmt event(*writer_statements_,
             "INSERT INTO out_events (event_id, cause_key, topic, customer_id, body, "
             "created_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(cause_key) DO NOTHING");
  LOYALTYD_RETURN_IF_ERROR(event.prepare_status());
  event.Bind(1, envelope.event_id).Bind(2, cause_key).Bind(3, topic).Bind(4, customer_id);
  event.Bind(5, body).Bind(6, now_ms);
  LOYALTYD_RETURN_IF_ERROR(StepDone(event, writer_, "recording event"));
  if (sqlite3_changes(writer_) == 0) return Status::Ok();  // queued before: once per cause
  const int64_t event_row = sqlite3_last_insert_rowid(writer_);

  for (const EventsOutPolicy::Endpoint& endpoint : events_out_.endpoints) {
    if (std::find(endpoint.topics.begin(), endpoint.topics.end(), topic) == endpoint.topics.end()) {
      continue;
    }
    Stmt job(*writer_statements_,
             "INSERT INTO outbox_jobs (shop_id, kind, idempotency_key, next_attempt_at_ms, "
             "created_at_ms, updated_at_ms) VALUES (?1, 'event_out', ?2, ?3, ?3, ?3)");
    LOYALTYD_RETURN_IF_ERROR(job.prepare_status());
    const std::string key = "event:" + endpoint.id + ":" + envelope.event_id;
    job.Bind(1, envelope.shop.id).Bind(2, key).Bind(3, now_ms);
    LOYALTYD_RETURN_IF_ERROR(StepDone(job, writer_, "queueing event delivery"));
    const int64_t job_id = sqlite3_last_insert_rowid(writer_);
    Stmt delivery(*writer_statements_,
                  "INSERT INTO out_deliveries (job_id, out_event_id, endpoint_id) "
                  "VALUES (?1, ?2, ?3)");
    LOYALTYD_RETURN_IF_ERROR(delivery.prepare_status());
    delivery.Bind(1, job_id).Bind(2, event_row).Bind(3, endpoint.id);
    LOYALTYD_RETURN_IF_ERROR(StepDone(delivery, writer_, "recording event delivery"));
  }
  return Status::Ok();
}

Status SqliteStorage::EmitLedgerEventLocked(const Posting& p, int64_t entry_id,
                                            int64_t balance_after, int64_t now_ms) {
  // What the customer earned (orders, actions, referrals) and what they spent. Refunds of a
  // rejected reward, clawbacks, expiry and tier entries are not "earned" or "redeemed".
  const bool earned =
      p.points > 0 && (p.kind == "earn" || p.kind == "action" || p.kind == "referral");
  const bool redeemed = p.points < 0 && p.kind == "redeem";
  if (!earned && !redeemed) return Status::Ok();
  const std::string topic = earned ? "points.earned" : "points.redeemed";
  if (!events_out_.Wants(topic)) return Status::Ok();

  nlohmann::json data = {{"points", earned ? p.points : -p.points},
                         {"balance_after", balance_after},
                         {"kind", p.kind},
                         {"rule_id", p.rule_id},
                         {"reason", p.description},
                         {"ledger_entry_id", entry_id}};
  if (earned) {
    nlohmann::json order = nullptr;
    if (p.order_id != 0) {
      Stmt s(*writer_statements_, "SELECT platform_order_id, name FROM orders WHERE id = ?1");
      LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
      s.Bind(1, p.order_id);
      const int rc = s.Step();
      if (rc == SQLITE_ROW) order = {{"platform_order_id", s.Text(0)}, {"name", s.Text(1)}};
      if (rc != SQLITE_ROW && rc != SQLITE_DONE) return SqliteError(writer_, rc, "reading order");
    }
    data["order"] = order;
  } else {
    data["reward_id"] = p.rule_id;
    data["redemption_id"] = p.redemption_id;
  }
  return QueueEventLocked(topic, "ledger:" + std::to_string(entry_id), p.customer_id, data.dump(),
                          now_ms);
}

Status SqliteStorage::EmitTierEventLocked(int64_t customer_id, const std::string& from_level,
                                          const std::string& to_level, const std::string& reason,
                                          int64_t entry_id, int64_t now_ms) {
  if (!events_out_.Wants("tier.changed")) return Status::Ok();
  const nlohmann::json data = {
      {"from", from_level.empty() ? nlohmann::json(nullptr) : nlohmann::json(from_level)},
      {"to", to_level.empty() ? nlohmann::json(nullptr) : nlohmann::json(to_level)},
      {"reason", reason},
      {"ledger_entry_id", entry_id}};
  return QueueEventLocked("tier.changed", "tier:" + std::to_string(entry_id), customer_id,
                          data.dump(), now_ms);
}

Status SqliteStorage::EmitReferralEventLocked(int64_t referral_id, int64_t now_ms) {
  if (!events_out_.Wants("referral.converted")) return Status::Ok();
  Stmt s(*writer_statements_,
         "SELECT r.referrer_customer_id, COALESCE(r.friend_customer_id, 0), r.converted_at_ms, "
         "COALESCE(o.platform_order_id, ''), COALESCE(o.name, ''), r.advocate_reward_name, "
         "r.advocate_points, COALESCE(r.advocate_redemption_id, 0) FROM referrals r "
         "LEFT JOIN orders o ON o.id = r.order_id WHERE r.id = ?1");
  LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
  s.Bind(1, referral_id);
  const int rc = s.Step();
  if (rc == SQLITE_DONE) return Internal("a converted referral vanished inside its transaction");
  if (rc != SQLITE_ROW) return SqliteError(writer_, rc, "reading referral");
  const int64_t referrer = s.Int(0);
  const int64_t friend_customer = s.Int(1);
  // The friend is another person: the event names their customer id and order, not their
  // email (the advocate's email tool needs to thank the advocate, not to write to the friend).
  const nlohmann::json data = {
      {"referral_id", referral_id},
      {"friend_customer_id",
       friend_customer == 0 ? nlohmann::json(nullptr) : nlohmann::json(friend_customer)},
      {"converted_at", FormatIso8601Millis(s.Int(2))},
      {"order", s.Text(3).empty()
                    ? nlohmann::json(nullptr)
                    : nlohmann::json{{"platform_order_id", s.Text(3)}, {"name", s.Text(4)}}},
      {"reward",
       {{"name", s.Text(5)},
        {"points", s.Int(6)},
        {"redemption_id", s.Int(7) == 0 ? nlohmann::json(nullptr) : nlohmann::json(s.Int(7))}}}};
  s.Reset();
  return QueueEventLocked("referral.converted", "referral:" + std::to_string(referral_id), referrer,
                          data.dump(), now_ms);
}

Result<ExpiryWarningRunResult> SqliteStorage::QueueExpiryWarnings(int64_t now_ms) {
  ExpiryWarningRunResult result;
  int64_t after_customer = 0;
  for (;;) {
    std::lock_guard<std::mutex> lock(write_mu_);
    if (events_out_.warn_ms <= 0 || !events_out_.Wants("points.expiring")) return result;
    const int64_t horizon = now_ms + events_out_.warn_ms;
    bool more = false;
    Status st = InTransaction(writer_, [&]() -> Status {
      Stmt ids(*writer_statements_,
               "SELECT DISTINCT customer_id FROM point_lots WHERE remaining > 0 AND "
               "expires_at_ms > ?1 AND expires_at_ms <= ?2 AND customer_id > ?3 "
               "ORDER BY customer_id LIMIT ?4");
      LOYALTYD_RETURN_IF_ERROR(ids.prepare_status());
      ids.Bind(1, now_ms).Bind(2, horizon).Bind(3, after_customer).Bind(4, kExpiryWarningChunk);
      std::vector<int64_t> customers;
      int rc;
      while ((rc = ids.Step()) == SQLITE_ROW) customers.push_back(ids.Int(0));
      if (rc != SQLITE_DONE) return SqliteError(writer_, rc, "finding expiring lots");
      ids.Reset();
      more = static_cast<int64_t>(customers.size()) == kExpiryWarningChunk;
      for (const int64_t customer_id : customers) {
        after_customer = customer_id;
        // Per UTC day of expiry: the points left in the lots that expire that day, and the
        // first moment one of them does.
        struct Day {
          int64_t points = 0;
          int64_t first_ms = 0;
        };
        std::map<std::string, Day> days;
        {
          Stmt lots(*writer_statements_,
                    "SELECT expires_at_ms, remaining FROM point_lots WHERE customer_id = ?1 AND "
                    "remaining > 0 AND expires_at_ms > ?2 AND expires_at_ms <= ?3 "
                    "ORDER BY expires_at_ms");
          LOYALTYD_RETURN_IF_ERROR(lots.prepare_status());
          lots.Bind(1, customer_id).Bind(2, now_ms).Bind(3, horizon);
          while ((rc = lots.Step()) == SQLITE_ROW) {
            Day& day = days[UtcDayOf(lots.Int(0))];
            if (day.first_ms == 0) day.first_ms = lots.Int(0);
            day.points += lots.Int(1);
          }
          if (rc != SQLITE_DONE) return SqliteError(writer_, rc, "reading expiring lots");
        }
        Result<int64_t> balance = PointsBalanceLocked(customer_id);
        if (!balance.ok()) return balance.status();
        for (const auto& [date, day] : days) {
          const std::string cause = "expiring:" + std::to_string(customer_id) + ":" + date;
          Stmt seen(*writer_statements_, "SELECT 1 FROM out_events WHERE cause_key = ?1");
          LOYALTYD_RETURN_IF_ERROR(seen.prepare_status());
          seen.Bind(1, cause);
          rc = seen.Step();
          if (rc == SQLITE_ROW) continue;  // warned before
          if (rc != SQLITE_DONE) return SqliteError(writer_, rc, "reading events");
          seen.Reset();
          const nlohmann::json data = {{"points", day.points},
                                       {"expires_at", FormatIso8601Millis(day.first_ms)},
                                       {"expires_on", date},
                                       {"balance", *balance}};
          LOYALTYD_RETURN_IF_ERROR(
              QueueEventLocked("points.expiring", cause, customer_id, data.dump(), now_ms));
          ++result.warnings;
        }
      }
      return Status::Ok();
    });
    if (!st.ok()) return st;
    if (!more) return result;
  }
}

Result<std::optional<EventDeliveryRecord>> SqliteStorage::GetEventDelivery(int64_t job_id) {
  ReadLease lease(*this);
  Stmt s(lease.db(),
         (std::string("SELECT ") + kDeliveryColumns + kDeliveryFrom + " WHERE j.id = ?1").c_str());
  LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
  s.Bind(1, job_id);
  const int rc = s.Step();
  if (rc == SQLITE_ROW) return std::optional<EventDeliveryRecord>(ReadEventDelivery(s));
  if (rc == SQLITE_DONE) return std::optional<EventDeliveryRecord>();
  return SqliteError(lease.db(), rc, "reading event delivery");
}

Status SqliteStorage::CompleteEventJob(int64_t job_id, int http_status, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(write_mu_);
  return InTransaction(writer_, [&]() -> Status {
    Stmt job(*writer_statements_,
             "UPDATE outbox_jobs SET status = 'done', last_error = '', updated_at_ms = ?2 "
             "WHERE id = ?1 AND status != 'done'");
    job.Bind(1, job_id).Bind(2, now_ms);
    LOYALTYD_RETURN_IF_ERROR(StepDone(job, writer_, "completing event job"));
    if (sqlite3_changes(writer_) == 0) return Status::Ok();  // settled before
    Stmt delivery(*writer_statements_,
                  "UPDATE out_deliveries SET last_http_status = ?2, delivered_at_ms = ?3 "
                  "WHERE job_id = ?1");
    delivery.Bind(1, job_id).Bind(2, int64_t{http_status}).Bind(3, now_ms);
    return StepDone(delivery, writer_, "recording event delivery");
  });
}

Status SqliteStorage::FailEventJob(int64_t job_id, int http_status, const std::string& error,
                                   int64_t now_ms) {
  std::lock_guard<std::mutex> lock(write_mu_);
  return InTransaction(writer_, [&]() -> Status {
    Stmt job(*writer_statements_,
             "UPDATE outbox_jobs SET status = 'failed', last_error = ?2, updated_at_ms = ?3 "
             "WHERE id = ?1 AND status = 'pending'");
    job.Bind(1, job_id).Bind(2, error).Bind(3, now_ms);
    LOYALTYD_RETURN_IF_ERROR(StepDone(job, writer_, "failing event job"));
    Stmt delivery(*writer_statements_,
                  "UPDATE out_deliveries SET last_http_status = ?2 WHERE job_id = ?1");
    delivery.Bind(1, job_id).Bind(2, int64_t{http_status});
    return StepDone(delivery, writer_, "recording event response");
  });
}

Status SqliteStorage::NoteEventResponse(int64_t job_id, int http_status, int64_t now_ms) {
  (void)now_ms;
  std::lock_guard<std::mutex> lock(write_mu_);
  return InTransaction(writer_, [&]() -> Status {
    Stmt delivery(*writer_statements_,
                  "UPDATE out_deliveries SET last_http_status = ?2 WHERE job_id = ?1");
    delivery.Bind(1, job_id).Bind(2, int64_t{http_status});
    return StepDone(delivery, writer_, "recording event response");
  });
}

Result<std::vector<EventDeliveryRecord>> SqliteStorage::ListEventDeliveries(
    std::optional<JobStatus> status, const std::string& endpoint_id, int64_t before_id,
    size_t limit) {
  ReadLease lease(*this);
  Stmt s(lease.db(), (std::string("SELECT ") + kDeliveryColumns + kDeliveryFrom +
                      " WHERE (?1 = '' OR j.status = ?1) AND (?2 = '' OR d.endpoint_id = ?2) "
                      "AND (?3 <= 0 OR j.id < ?3) ORDER BY j.id DESC LIMIT ?4")
                         .c_str());
  LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
  const std::string status_name = status ? std::string(JobStatusName(*status)) : "";
  s.Bind(1, status_name).Bind(2, endpoint_id).Bind(3, before_id);
  s.Bind(4, static_cast<int64_t>(limit));
  std::vector<EventDeliveryRecord> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) out.push_back(ReadEventDelivery(s));
  if (rc != SQLITE_DONE) return SqliteError(lease.db(), rc, "listing event deliveries");
  return out;
}

}  // namespace loyaltyd
