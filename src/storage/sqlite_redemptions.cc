// SqliteStorage, part two: redemptions and the outbox (docs/storage.md: redemptions,
// outbox_jobs). Part one, sqlite_storage.cc, opens the database and holds the inbox and events.
#include <sqlite3.h>

#include "storage/sqlite_statement.h"
#include "storage/sqlite_storage.h"

namespace loyaltyd {

using sqlite_internal::InTransaction;
using sqlite_internal::SqliteError;
using sqlite_internal::StepDone;
using sqlite_internal::Stmt;

std::string_view RedemptionStatusName(RedemptionStatus status) {
  switch (status) {
    case RedemptionStatus::kPending:
      return "pending";
    case RedemptionStatus::kIssued:
      return "issued";
    case RedemptionStatus::kFailed:
      return "failed";
  }
  return "unknown";
}

std::string_view JobStatusName(JobStatus status) {
  switch (status) {
    case JobStatus::kPending:
      return "pending";
    case JobStatus::kDone:
      return "done";
    case JobStatus::kFailed:
      return "failed";
  }
  return "unknown";
}

std::optional<JobStatus> ParseJobStatus(std::string_view name) {
  for (JobStatus s : {JobStatus::kPending, JobStatus::kDone, JobStatus::kFailed}) {
    if (JobStatusName(s) == name) return s;
  }
  return std::nullopt;
}

namespace {

constexpr const char* kRedemptionColumns =
    "id, customer_id, shop_id, idempotency_key, reward_id, reward_kind, reward_name, points, "
    "code, value_minor, currency, percentage, minimum_order_minor, expires_at_ms, "
    "restrict_to_customer, status, platform_reward_id, failure_reason, created_at_ms, "
    "updated_at_ms, paid_with";

RedemptionRecord ReadRedemption(const Stmt& s) {
  RedemptionRecord r;
  r.id = s.Int(0);
  r.customer_id = s.Int(1);
  r.shop_id = s.Text(2);
  r.idempotency_key = s.Text(3);
  r.reward_id = s.Text(4);
  r.reward_kind = s.Text(5);
  r.reward_name = s.Text(6);
  r.points = s.Int(7);
  r.code = s.Text(8);
  r.value_minor = s.Int(9);
  r.currency = s.Text(10);
  r.percentage = static_cast<int>(s.Int(11));
  r.minimum_order_minor = s.Int(12);
  r.expires_at_ms = s.Int(13);
  r.restrict_to_customer = s.Int(14) != 0;
  const std::string status = s.Text(15);
  r.status = status == "issued"   ? RedemptionStatus::kIssued
             : status == "failed" ? RedemptionStatus::kFailed
                                  : RedemptionStatus::kPending;
  r.platform_reward_id = s.Text(16);
  r.failure_reason = s.Text(17);
  r.created_at_ms = s.Int(18);
  r.updated_at_ms = s.Int(19);
  r.paid_with = s.Text(20);
  return r;
}

constexpr const char* kJobColumns =
    "id, shop_id, kind, COALESCE(redemption_id, 0), idempotency_key, status, attempts, "
    "next_attempt_at_ms, last_error, created_at_ms, updated_at_ms";

OutboxJob ReadJob(const Stmt& s) {
  OutboxJob j;
  j.id = s.Int(0);
  j.shop_id = s.Text(1);
  j.kind = s.Text(2);
  j.redemption_id = s.Int(3);
  j.idempotency_key = s.Text(4);
  j.status = ParseJobStatus(s.Text(5)).value_or(JobStatus::kPending);
  j.attempts = static_cast<int>(s.Int(6));
  j.next_attempt_at_ms = s.Int(7);
  j.last_error = s.Text(8);
  j.created_at_ms = s.Int(9);
  j.updated_at_ms = s.Int(10);
  return j;
}

}  // namespace

Result<std::optional<RedemptionRecord>> SqliteStorage::FindRedemptionLocked(const char* where_sql,
                                                                            int64_t a,
                                                                            const std::string* b) {
  Stmt s(*writer_statements_, where_sql);
  LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
  s.Bind(1, a);
  if (b != nullptr) s.Bind(2, *b);
  const int rc = s.Step();
  if (rc == SQLITE_ROW) return std::optional<RedemptionRecord>(ReadRedemption(s));
  if (rc == SQLITE_DONE) return std::optional<RedemptionRecord>();
  return SqliteError(writer_, rc, "reading redemption");
}

namespace {
const std::string kRedemptionByKey = std::string("SELECT ") + kRedemptionColumns +
                                     " FROM redemptions WHERE customer_id = ?1 AND "
                                     "idempotency_key = ?2";
const std::string kRedemptionById =
    std::string("SELECT ") + kRedemptionColumns + " FROM redemptions WHERE id = ?1";
}  // namespace

Result<std::optional<RedemptionRecord>> SqliteStorage::RedemptionByKeyLocked(
    int64_t customer_id, const std::string& idempotency_key) {
  return FindRedemptionLocked(kRedemptionByKey.c_str(), customer_id, &idempotency_key);
}

Result<std::optional<RedemptionRecord>> SqliteStorage::RedemptionByIdLocked(int64_t id) {
  return FindRedemptionLocked(kRedemptionById.c_str(), id, nullptr);
}

Result<CreateRedemptionResult> SqliteStorage::CreateRedemption(const NewRedemption& r,
                                                               int64_t now_ms) {
  CreateRedemptionResult result;
  std::lock_guard<std::mutex> lock(write_mu_);
  Status st = InTransaction(writer_, [&]() -> Status {
    Result<std::optional<RedemptionRecord>> existing =
        RedemptionByKeyLocked(r.customer_id, r.idempotency_key);
    if (!existing.ok()) return existing.status();
    if (existing->has_value()) {
      result.outcome = CreateRedemptionResult::Outcome::kExisting;
      result.redemption = std::move(**existing);
      return Status::Ok();
    }
    Result<int64_t> balance = PointsBalanceLocked(r.customer_id);
    if (!balance.ok()) return balance.status();
    result.balance = *balance;
    if (result.balance < r.points) {
      result.outcome = CreateRedemptionResult::Outcome::kInsufficientPoints;
      return Status::Ok();
    }

    Stmt insert(*writer_statements_,
                "INSERT INTO redemptions (customer_id, shop_id, idempotency_key, reward_id, "
                "reward_kind, reward_name, points, code, value_minor, currency, percentage, "
                "minimum_order_minor, expires_at_ms, restrict_to_customer, created_at_ms, "
                "updated_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
                "?14, ?15, ?15)");
    insert.Bind(1, r.customer_id).Bind(2, r.shop_id).Bind(3, r.idempotency_key);
    insert.Bind(4, r.reward_id).Bind(5, r.reward_kind).Bind(6, r.reward_name).Bind(7, r.points);
    insert.Bind(8, r.code).Bind(9, r.value_minor).Bind(10, r.currency);
    insert.Bind(11, int64_t{r.percentage}).Bind(12, r.minimum_order_minor);
    insert.Bind(13, r.expires_at_ms).Bind(14, int64_t{r.restrict_to_customer ? 1 : 0});
    insert.Bind(15, now_ms);
    LOYALTYD_RETURN_IF_ERROR(StepDone(insert, writer_, "recording redemption"));
    const int64_t redemption_id = sqlite3_last_insert_rowid(writer_);

    Posting posting;
    posting.customer_id = r.customer_id;
    posting.redemption_id = redemption_id;
    posting.rule_id = r.reward_id;
    posting.kind = "redeem";
    posting.points = -r.points;
    posting.description = "redeemed for " + r.reward_name;
    Result<bool> posted = PostPoints(posting, now_ms);
    if (!posted.ok()) return posted.status();
    if (!*posted) return Internal("a new redemption's ledger entry existed already");
    const int64_t after = result.balance - r.points;

    // The platform call's key: the code itself, which the platform keeps and can be searched
    // for; store credit has no code, so the key names the redemption.
    const std::string job_key = !r.code.empty()
                                    ? r.shop_id + ":code:" + r.code
                                    : r.shop_id + ":credit:" + std::to_string(redemption_id);
    Stmt job(*writer_statements_,
             "INSERT INTO outbox_jobs (shop_id, kind, redemption_id, idempotency_key, "
             "next_attempt_at_ms, created_at_ms, updated_at_ms) "
             "VALUES (?1, 'issue_reward', ?2, ?3, ?4, ?4, ?4)");
    job.Bind(1, r.shop_id).Bind(2, redemption_id).Bind(3, job_key).Bind(4, now_ms);
    LOYALTYD_RETURN_IF_ERROR(StepDone(job, writer_, "queueing reward job"));

    Result<std::optional<RedemptionRecord>> created = RedemptionByIdLocked(redemption_id);
    if (!created.ok()) return created.status();
    if (!created->has_value()) return Internal("redemption vanished inside its transaction");
    result.outcome = CreateRedemptionResult::Outcome::kCreated;
    result.redemption = std::move(**created);
    result.balance = after;
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return result;
}

Result<std::optional<RedemptionRecord>> SqliteStorage::GetRedemption(int64_t id) {
  ReadLease lease(*this);
  Stmt s(lease.statements(),
         (std::string("SELECT ") + kRedemptionColumns + " FROM redemptions WHERE id = ?1").c_str());
  LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
  s.Bind(1, id);
  const int rc = s.Step();
  if (rc == SQLITE_ROW) return std::optional<RedemptionRecord>(ReadRedemption(s));
  if (rc == SQLITE_DONE) return std::optional<RedemptionRecord>();
  return SqliteError(lease.db(), rc, "reading redemption");
}

Result<std::vector<RedemptionRecord>> SqliteStorage::ListRedemptions(int64_t customer_id,
                                                                     int64_t before_id,
                                                                     size_t limit) {
  ReadLease lease(*this);
  Stmt s(lease.statements(), (std::string("SELECT ") + kRedemptionColumns +
                              " FROM redemptions WHERE customer_id = ?1 AND (?2 <= 0 OR id < ?2) "
                              "ORDER BY id DESC LIMIT ?3")
                                 .c_str());
  LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
  s.Bind(1, customer_id).Bind(2, before_id).Bind(3, static_cast<int64_t>(limit));
  std::vector<RedemptionRecord> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) out.push_back(ReadRedemption(s));
  if (rc != SQLITE_DONE) return SqliteError(lease.db(), rc, "listing redemptions");
  return out;
}

Result<std::vector<OutboxJob>> SqliteStorage::LoadDueJobs(int64_t now_ms, size_t limit) {
  ReadLease lease(*this);
  Stmt s(lease.statements(),
         (std::string("SELECT ") + kJobColumns +
          " FROM outbox_jobs WHERE status = 'pending' AND next_attempt_at_ms <= ?1 "
          // Privacy (sqlite_privacy.cc): no calls for an uninstalled shop; its
          // jobs wait, pending, until it is activated again.
          "AND shop_id NOT IN (SELECT shop_id FROM shop_states WHERE active = 0) "
          "ORDER BY next_attempt_at_ms, id LIMIT ?2")
             .c_str());
  LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
  s.Bind(1, now_ms).Bind(2, static_cast<int64_t>(limit));
  std::vector<OutboxJob> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) out.push_back(ReadJob(s));
  if (rc != SQLITE_DONE) return SqliteError(lease.db(), rc, "loading due jobs");
  return out;
}

Result<int> SqliteStorage::BeginJobAttempt(int64_t job_id, int64_t lease_until_ms, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(write_mu_);
  int attempts = 0;
  Status st = InTransaction(writer_, [&]() -> Status {
    Stmt s(*writer_statements_,
           "UPDATE outbox_jobs SET attempts = attempts + 1, next_attempt_at_ms = ?2, "
           "updated_at_ms = ?3 WHERE id = ?1 AND status = 'pending' RETURNING attempts");
    LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
    s.Bind(1, job_id).Bind(2, lease_until_ms).Bind(3, now_ms);
    const int rc = s.Step();
    if (rc == SQLITE_DONE)
      return FailedPrecondition("job " + std::to_string(job_id) + " is not pending");
    if (rc != SQLITE_ROW) return SqliteError(writer_, rc, "starting job attempt");
    attempts = static_cast<int>(s.Int(0));
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return attempts;
}

Status SqliteStorage::RescheduleJob(int64_t job_id, int64_t next_attempt_at_ms,
                                    const std::string& error, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(write_mu_);
  return InTransaction(writer_, [&]() -> Status {
    Stmt s(*writer_statements_,
           "UPDATE outbox_jobs SET next_attempt_at_ms = ?2, last_error = ?3, updated_at_ms = ?4 "
           "WHERE id = ?1 AND status = 'pending'");
    s.Bind(1, job_id).Bind(2, next_attempt_at_ms).Bind(3, error).Bind(4, now_ms);
    return StepDone(s, writer_, "rescheduling job");
  });
}

Status SqliteStorage::AbandonJob(int64_t job_id, const std::string& error, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(write_mu_);
  return InTransaction(writer_, [&]() -> Status {
    Stmt s(*writer_statements_,
           "UPDATE outbox_jobs SET status = 'failed', last_error = ?2, updated_at_ms = ?3 "
           "WHERE id = ?1 AND status = 'pending'");
    s.Bind(1, job_id).Bind(2, error).Bind(3, now_ms);
    return StepDone(s, writer_, "abandoning job");
  });
}

Status SqliteStorage::CompleteRewardJob(int64_t job_id, const std::string& platform_reward_id,
                                        const std::string& code, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(write_mu_);
  return InTransaction(writer_, [&]() -> Status {
    Stmt job(*writer_statements_,
             "UPDATE outbox_jobs SET status = 'done', last_error = '', updated_at_ms = ?2 "
             "WHERE id = ?1 AND status != 'done' RETURNING redemption_id");
    LOYALTYD_RETURN_IF_ERROR(job.prepare_status());
    job.Bind(1, job_id).Bind(2, now_ms);
    const int rc = job.Step();
    if (rc == SQLITE_DONE) return Status::Ok();  // settled before
    if (rc != SQLITE_ROW) return SqliteError(writer_, rc, "completing job");
    const int64_t redemption_id = job.Int(0);
    job.Reset();
    // The platform may store the code differently (WooCommerce lower-cases it); keep its form.
    Stmt redemption(*writer_statements_,
                    "UPDATE redemptions SET status = 'issued', platform_reward_id = ?2, "
                    "code = CASE WHEN ?3 = '' THEN code ELSE ?3 END, failure_reason = '', "
                    "updated_at_ms = ?4 WHERE id = ?1 AND status = 'pending'");
    redemption.Bind(1, redemption_id).Bind(2, platform_reward_id).Bind(3, code).Bind(4, now_ms);
    return StepDone(redemption, writer_, "marking redemption issued");
  });
}

Status SqliteStorage::FailRewardJob(int64_t job_id, const std::string& reason, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(write_mu_);
  return InTransaction(writer_, [&]() -> Status {
    Stmt job(*writer_statements_,
             "UPDATE outbox_jobs SET status = 'failed', last_error = ?2, updated_at_ms = ?3 "
             "WHERE id = ?1 AND status != 'done' RETURNING redemption_id");
    LOYALTYD_RETURN_IF_ERROR(job.prepare_status());
    job.Bind(1, job_id).Bind(2, reason).Bind(3, now_ms);
    const int rc = job.Step();
    if (rc == SQLITE_DONE) return Status::Ok();
    if (rc != SQLITE_ROW) return SqliteError(writer_, rc, "failing job");
    const int64_t redemption_id = job.Int(0);
    job.Reset();

    Stmt redemption(*writer_statements_,
                    "UPDATE redemptions SET status = 'failed', failure_reason = ?2, "
                    "updated_at_ms = ?3 WHERE id = ?1 AND status = 'pending' "
                    "RETURNING customer_id, points, reward_id, reward_name, paid_with");
    LOYALTYD_RETURN_IF_ERROR(redemption.prepare_status());
    redemption.Bind(1, redemption_id).Bind(2, reason).Bind(3, now_ms);
    const int rrc = redemption.Step();
    if (rrc == SQLITE_DONE) return Status::Ok();  // refunded before
    if (rrc != SQLITE_ROW) return SqliteError(writer_, rrc, "failing redemption");
    const int64_t customer_id = redemption.Int(0);
    const int64_t points = redemption.Int(1);
    const std::string reward_id = redemption.Text(2);
    const std::string reward_name = redemption.Text(3);
    const std::string paid_with = redemption.Text(4);
    redemption.Reset();
    // A payout of store credit gives the credit back, not points.
    if (paid_with == "credit") return RefundCreditPayoutLocked(redemption_id, reason, now_ms);
    // A referral reward cost nothing: it stays failed, with the store's reason, for the
    // merchant to fix and retry (RetryJob).
    if (paid_with == "referral") return Status::Ok();

    Posting posting;
    posting.customer_id = customer_id;
    posting.redemption_id = redemption_id;
    posting.rule_id = reward_id;
    posting.kind = "refund";
    posting.points = points;
    posting.description =
        "refund of " + reward_name + ": the store rejected the reward (" + reason + ")";
    Result<bool> posted = PostPoints(posting, now_ms);
    return posted.ok() ? Status::Ok() : posted.status();
  });
}

Status SqliteStorage::RetryJob(int64_t job_id, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(write_mu_);
  return InTransaction(writer_, [&]() -> Status {
    // Only a job given up with its outcome unknown: its redemption is still pending. One the
    // platform rejected has had its points refunded and stays failed.
    Stmt s(*writer_statements_,
           "UPDATE outbox_jobs SET status = 'pending', attempts = CASE WHEN attempts > 0 THEN 1 "
           "ELSE 0 END, next_attempt_at_ms = ?2, updated_at_ms = ?2 WHERE id = ?1 AND "
           "status = 'failed' AND (redemption_id IS NULL OR redemption_id IN "
           "(SELECT id FROM redemptions WHERE status = 'pending'))");
    s.Bind(1, job_id).Bind(2, now_ms);
    LOYALTYD_RETURN_IF_ERROR(StepDone(s, writer_, "retrying job"));
    if (sqlite3_changes(writer_) == 0) {
      return FailedPrecondition("job " + std::to_string(job_id) +
                                " is not a failed job that can be retried (it is pending, done, "
                                "or the store rejected it and the points were returned)");
    }
    return Status::Ok();
  });
}

Result<std::optional<OutboxJob>> SqliteStorage::GetJob(int64_t id) {
  ReadLease lease(*this);
  Stmt s(lease.statements(),
         (std::string("SELECT ") + kJobColumns + " FROM outbox_jobs WHERE id = ?1").c_str());
  LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
  s.Bind(1, id);
  const int rc = s.Step();
  if (rc == SQLITE_ROW) return std::optional<OutboxJob>(ReadJob(s));
  if (rc == SQLITE_DONE) return std::optional<OutboxJob>();
  return SqliteError(lease.db(), rc, "reading job");
}

Result<std::vector<OutboxJob>> SqliteStorage::ListJobs(std::optional<JobStatus> status,
                                                       int64_t before_id, size_t limit) {
  ReadLease lease(*this);
  Stmt s(lease.statements(),
         (std::string("SELECT ") + kJobColumns +
          " FROM outbox_jobs WHERE (?1 = '' OR status = ?1) AND (?2 <= 0 OR id < ?2) "
          "ORDER BY id DESC LIMIT ?3")
             .c_str());
  LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
  const std::string status_name = status ? std::string(JobStatusName(*status)) : "";
  s.Bind(1, status_name).Bind(2, before_id).Bind(3, static_cast<int64_t>(limit));
  std::vector<OutboxJob> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) out.push_back(ReadJob(s));
  if (rc != SQLITE_DONE) return SqliteError(lease.db(), rc, "listing jobs");
  return out;
}

}  // namespace loyaltyd
