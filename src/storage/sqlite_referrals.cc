// SqliteStorage, referrals (docs/storage.md, "Referrals"; docs/configuration.md, "Referrals").
//
// A referral is one row from the moment it is known — a self-identification, or a paid order
// carrying a referrer's code — to its end: converted (the advocate got the reward), rejected (a
// guard said no, with every reason), voided (the first order was cancelled or fully refunded in
// the hold) or expired (the attribution window passed). Everything that decides a referral runs
// in the transaction of the event or request that causes it, under the one writer, so that
// redeliveries and concurrent requests cannot attribute a friend twice: a unique index keeps one
// live (pending or converted) referral per friend, an order is judged at most once (referrals.
// order_id is unique), and every reward is keyed (a once key in the points ledger, an
// idempotency key on the reward's redemption) so that it is granted once.
#include <sqlite3.h>

#include <algorithm>

#include "core/calendar.h"
#include "core/clock.h"
#include "core/crypto.h"
#include "core/identity.h"
#include "core/money.h"
#include "storage/sqlite_statement.h"
#include "storage/sqlite_storage.h"

namespace loyaltyd {

using sqlite_internal::InTransaction;
using sqlite_internal::SqliteError;
using sqlite_internal::StepDone;
using sqlite_internal::Stmt;

namespace {

constexpr const char* kReferralColumns =
    "r.id, r.referrer_customer_id, r.shop_id, r.friend_email, r.friend_key, "
    "COALESCE(r.friend_customer_id, 0), r.source, r.status, r.reason, r.identified_at_ms, "
    "r.window_ends_at_ms, COALESCE(o.shop_id, ''), COALESCE(o.platform_order_id, ''), "
    "COALESCE(o.name, ''), r.order_total_minor, r.attributed_at_ms, r.release_at_ms, "
    "r.converted_at_ms, COALESCE(r.welcome_redemption_id, 0), COALESCE(w.code, ''), "
    "r.advocate_reward_name, r.advocate_points, COALESCE(r.advocate_redemption_id, 0), "
    "COALESCE(a.status, ''), r.created_at_ms, r.updated_at_ms FROM referrals r "
    "LEFT JOIN orders o ON o.id = r.order_id "
    "LEFT JOIN redemptions w ON w.id = r.welcome_redemption_id "
    "LEFT JOIN redemptions a ON a.id = r.advocate_redemption_id ";

// Why a held referral is voided, whether the refund arrives in the hold or is found at release.
constexpr std::string_view kOrderRefundedReason =
    "order_refunded: the first order was cancelled or fully refunded within the hold";

ReferralRecord ReadReferral(const Stmt& s) {
  ReferralRecord r;
  r.id = s.Int(0);
  r.referrer_customer_id = s.Int(1);
  r.shop_id = s.Text(2);
  r.friend_email = s.Text(3);
  r.friend_key = s.Text(4);
  r.friend_customer_id = s.Int(5);
  r.source = s.Text(6);
  r.status = ParseReferralStatus(s.Text(7)).value_or(ReferralStatus::kIdentified);
  r.reason = s.Text(8);
  r.identified_at_ms = s.Int(9);
  r.window_ends_at_ms = s.Int(10);
  r.order_shop_id = s.Text(11);
  r.order_platform_id = s.Text(12);
  r.order_name = s.Text(13);
  r.order_total_minor = s.Int(14);
  r.attributed_at_ms = s.Int(15);
  r.release_at_ms = s.Int(16);
  r.converted_at_ms = s.Int(17);
  r.welcome_redemption_id = s.Int(18);
  r.welcome_code = s.Text(19);
  r.advocate_reward_name = s.Text(20);
  r.advocate_points = s.Int(21);
  r.advocate_redemption_id = s.Int(22);
  r.advocate_reward_status = s.Text(23);
  r.created_at_ms = s.Int(24);
  r.updated_at_ms = s.Int(25);
  return r;
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : "; ") + item;
  return out;
}

// "a***@example.com": enough for a merchant to recognise, not a full address in the ledger.
std::string MaskEmail(const std::string& email) {
  const size_t at = email.find('@');
  if (at == std::string::npos || at == 0) return "a friend";
  return email.substr(0, 1) + "***" + email.substr(at);
}

std::string Upper(std::string text) {
  for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

// Whether the customer can be named on a code in this shop: Shopify restricts codes by
// customer id, WooCommerce by email (email_restrictions).
bool CanRestrict(const ReferralPolicy& policy, const std::string& shop_id,
                 const std::string& platform_customer_id, const std::string& email) {
  auto it = policy.shop_platforms.find(shop_id);
  if (it != policy.shop_platforms.end() && it->second == "woocommerce") return !email.empty();
  return !platform_customer_id.empty();
}

}  // namespace

std::string_view ReferralStatusName(ReferralStatus status) {
  switch (status) {
    case ReferralStatus::kIdentified:
      return "identified";
    case ReferralStatus::kPending:
      return "pending";
    case ReferralStatus::kConverted:
      return "converted";
    case ReferralStatus::kRejected:
      return "rejected";
    case ReferralStatus::kVoided:
      return "voided";
    case ReferralStatus::kExpired:
      return "expired";
  }
  return "identified";
}

std::optional<ReferralStatus> ParseReferralStatus(std::string_view name) {
  for (ReferralStatus s :
       {ReferralStatus::kIdentified, ReferralStatus::kPending, ReferralStatus::kConverted,
        ReferralStatus::kRejected, ReferralStatus::kVoided, ReferralStatus::kExpired}) {
    if (ReferralStatusName(s) == name) return s;
  }
  return std::nullopt;
}

// --- Codes and clicks ---

Result<std::string> SqliteStorage::GetOrCreateReferralCode(int64_t customer_id, int64_t now_ms) {
  {
    ReadLease lease(*this);
    Stmt s(lease.statements(), "SELECT code FROM referral_codes WHERE customer_id = ?1");
    LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
    s.Bind(1, customer_id);
    if (s.Step() == SQLITE_ROW) return s.Text(0);
  }
  std::string code;
  std::lock_guard<std::mutex> lock(write_mu_);
  Status st = InTransaction(writer_, [&]() -> Status {
    Stmt existing(*writer_statements_, "SELECT code FROM referral_codes WHERE customer_id = ?1");
    LOYALTYD_RETURN_IF_ERROR(existing.prepare_status());
    existing.Bind(1, customer_id);
    if (existing.Step() == SQLITE_ROW) {
      code = existing.Text(0);
      return Status::Ok();
    }
    existing.Reset();
    Stmt customer(*writer_statements_, "SELECT 1 FROM customers WHERE id = ?1");
    LOYALTYD_RETURN_IF_ERROR(customer.prepare_status());
    customer.Bind(1, customer_id);
    if (customer.Step() != SQLITE_ROW) {
      return NotFound("no customer with id " + std::to_string(customer_id));
    }
    customer.Reset();
    // 31^10 codes: a collision is all but impossible, and the unique index catches one.
    for (int attempt = 0; attempt < 5; ++attempt) {
      const std::string candidate = RandomCode("", 10);
      Stmt insert(*writer_statements_,
                  "INSERT INTO referral_codes (customer_id, code, created_at_ms) "
                  "VALUES (?1, ?2, ?3) ON CONFLICT(code) DO NOTHING");
      LOYALTYD_RETURN_IF_ERROR(insert.prepare_status());
      insert.Bind(1, customer_id).Bind(2, candidate).Bind(3, now_ms);
      LOYALTYD_RETURN_IF_ERROR(StepDone(insert, writer_, "recording referral code"));
      if (sqlite3_changes(writer_) == 1) {
        code = candidate;
        return Status::Ok();
      }
    }
    return Internal("could not find a free referral code in 5 attempts");
  });
  if (!st.ok()) return st;
  return code;
}

Result<std::optional<int64_t>> SqliteStorage::FindReferrerByCode(const std::string& code) {
  ReadLease lease(*this);
  Stmt s(lease.statements(), "SELECT customer_id FROM referral_codes WHERE code = ?1");
  LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
  s.BindCopy(1, Upper(code));
  const int rc = s.Step();
  if (rc == SQLITE_ROW) return std::optional<int64_t>(s.Int(0));
  if (rc == SQLITE_DONE) return std::optional<int64_t>();
  return SqliteError(lease.db(), rc, "looking up referral code");
}

Status SqliteStorage::RecordReferralClick(int64_t referrer_customer_id, int64_t now_ms) {
  const std::string day = PeriodContaining(CalendarPeriod::kDay, now_ms).label;
  std::lock_guard<std::mutex> lock(write_mu_);
  return InTransaction(writer_, [&]() -> Status {
    Stmt s(*writer_statements_,
           "INSERT INTO referral_clicks (customer_id, day, clicks) VALUES (?1, ?2, 1) "
           "ON CONFLICT(customer_id, day) DO UPDATE SET clicks = clicks + 1");
    s.Bind(1, referrer_customer_id).Bind(2, day);
    return StepDone(s, writer_, "counting referral click");
  });
}

// --- Identity keys and guards ---

Status SqliteStorage::RecordIdentityKeys(const IdentityKeys& keys, int64_t customer_id) {
  for (const auto& [kind, key] :
       {std::pair<const char*, const std::string*>{"email", &keys.email_key},
        {"phone", &keys.phone_key},
        {"address", &keys.address_key}}) {
    if (key->empty()) continue;
    Stmt s(*writer_statements_,
           "INSERT INTO customer_identity_keys (kind, key, customer_id) VALUES (?1, ?2, ?3) "
           "ON CONFLICT DO NOTHING");
    s.BindCopy(1, kind).Bind(2, *key).Bind(3, customer_id);
    LOYALTYD_RETURN_IF_ERROR(StepDone(s, writer_, "recording identity key"));
  }
  return Status::Ok();
}

Result<std::vector<std::string>> SqliteStorage::ReferralGuardReasons(
    const ReferralPolicy& policy, int64_t referral_id, int64_t referrer_id,
    int64_t friend_customer_id, const std::string& friend_email, const IdentityKeys& friend_keys,
    int64_t order_id, int64_t order_created_ms, bool check_daily_cap, int64_t now_ms) {
  std::vector<std::string> reasons;
  const std::string friend_normalised = NormaliseEmail(friend_email);

  // Self-referral. The referrer's own record is always refused; the rest compares the friend
  // with every key seen on the referrer's records.
  Stmt referrer(*writer_statements_, "SELECT email_normalised, email FROM customers WHERE id = ?1");
  LOYALTYD_RETURN_IF_ERROR(referrer.prepare_status());
  referrer.Bind(1, referrer_id);
  if (referrer.Step() != SQLITE_ROW) {
    return NotFound("no customer with id " + std::to_string(referrer_id));
  }
  const std::string referrer_normalised = referrer.Text(0);
  const std::string referrer_key = CanonicalEmail(referrer.Text(1));
  referrer.Reset();
  if (friend_customer_id == referrer_id) {
    reasons.push_back("self_referral: the order is the referrer's own");
  } else if (policy.guard_same_email && !friend_keys.email_key.empty()) {
    Stmt same(*writer_statements_,
              "SELECT 1 FROM customer_identity_keys WHERE kind = 'email' AND key = ?1 AND "
              "customer_id = ?2");
    LOYALTYD_RETURN_IF_ERROR(same.prepare_status());
    same.Bind(1, friend_keys.email_key).Bind(2, referrer_id);
    if (friend_keys.email_key == referrer_key || friend_normalised == referrer_normalised ||
        same.Step() == SQLITE_ROW) {
      reasons.push_back("self_referral: the friend's email is the referrer's (" +
                        MaskEmail(friend_email) + ", compared without case, dots or +tags)");
    }
  }
  for (const auto& [kind, key, on] :
       {std::tuple<const char*, const std::string*, bool>{"address", &friend_keys.address_key,
                                                          policy.guard_same_address},
        {"phone", &friend_keys.phone_key, policy.guard_same_phone}}) {
    if (!on || key->empty() || friend_customer_id == referrer_id) continue;
    Stmt same(*writer_statements_,
              "SELECT 1 FROM customer_identity_keys WHERE kind = ?1 AND key = ?2 AND "
              "customer_id = ?3");
    LOYALTYD_RETURN_IF_ERROR(same.prepare_status());
    same.BindCopy(1, kind).Bind(2, *key).Bind(3, referrer_id);
    if (same.Step() == SQLITE_ROW) {
      reasons.push_back(std::string("self_referral: same ") +
                        (std::string(kind) == "address" ? "shipping address" : "phone number") +
                        " as the referrer");
    }
  }

  // A friend who is not new: any order of theirs, in any connected store, created before this
  // one (for a self-identification, any order at all).
  if (policy.guard_new_friend_only) {
    Stmt earlier(*writer_statements_,
                 "SELECT o.created_at, o.name, o.shop_id FROM orders o WHERE o.id != ?1 AND "
                 "o.customer_id IN (SELECT ?2 UNION SELECT customer_id FROM "
                 "customer_identity_keys WHERE kind = 'email' AND key = ?3 AND key != '' "
                 "UNION SELECT id FROM customers WHERE email_normalised = ?4 AND ?4 != '')");
    LOYALTYD_RETURN_IF_ERROR(earlier.prepare_status());
    earlier.Bind(1, order_id).Bind(2, friend_customer_id).Bind(3, friend_keys.email_key);
    earlier.Bind(4, friend_normalised);
    int rc;
    while ((rc = earlier.Step()) == SQLITE_ROW) {
      Result<int64_t> created = ParseIso8601Millis(earlier.Text(0));
      // An order whose time cannot be read counts as earlier: the guard errs on refusing.
      if (order_id != 0 && created.ok() && *created >= order_created_ms) continue;
      reasons.push_back("friend_not_new: the friend has an earlier order " +
                        (earlier.Text(1).empty() ? std::string("") : earlier.Text(1) + " ") +
                        "in shop " + earlier.Text(2));
      break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
      return SqliteError(writer_, rc, "looking for the friend's orders");
    }
  }

  // The same friend attributed twice: the first valid attribution wins. An order attributes
  // over other referrers' identifications (their precedence is lower); an identification
  // yields to any live referral of another referrer.
  {
    Stmt other(*writer_statements_,
               order_id != 0
                   ? "SELECT id, referrer_customer_id FROM referrals WHERE friend_key = ?1 AND "
                     "id != ?2 AND status IN ('pending', 'converted') ORDER BY id LIMIT 1"
                   : "SELECT id, referrer_customer_id FROM referrals WHERE friend_key = ?1 AND "
                     "id != ?2 AND referrer_customer_id != ?3 AND (status IN ('pending', "
                     "'converted') OR (status = 'identified' AND window_ends_at_ms >= ?4)) "
                     "ORDER BY id LIMIT 1");
    LOYALTYD_RETURN_IF_ERROR(other.prepare_status());
    other.Bind(1, friend_keys.email_key).Bind(2, referral_id);
    if (order_id == 0) other.Bind(3, referrer_id).Bind(4, now_ms);
    if (!friend_keys.email_key.empty() && other.Step() == SQLITE_ROW) {
      reasons.push_back("already_referred: the friend was referred first by customer " +
                        std::to_string(other.Int(1)) + " (referral " +
                        std::to_string(other.Int(0)) + ")");
    }
  }

  // Caps: how many of the referrer's referrals already count in the period of now_ms.
  auto count_in_period = [&](CalendarPeriod period, const char* sql) -> Result<int64_t> {
    const PeriodSlot slot = PeriodContaining(period, now_ms);
    Stmt count(*writer_statements_, sql);
    LOYALTYD_RETURN_IF_ERROR(count.prepare_status());
    count.Bind(1, referrer_id).Bind(2, referral_id).Bind(3, slot.starts_at_ms);
    count.Bind(4, slot.next_starts_at_ms);
    const int rc = count.Step();
    if (rc != SQLITE_ROW) return SqliteError(writer_, rc, "counting referrals");
    return count.Int(0);
  };
  if (check_daily_cap && policy.max_referrals_per_day > 0) {
    Result<int64_t> today = count_in_period(
        CalendarPeriod::kDay,
        "SELECT COUNT(*) FROM referrals WHERE referrer_customer_id = ?1 AND id != ?2 AND "
        "status != 'rejected' AND created_at_ms >= ?3 AND created_at_ms < ?4");
    if (!today.ok()) return today.status();
    if (*today >= policy.max_referrals_per_day) {
      reasons.push_back("referrer_daily_cap: the referrer already has " + std::to_string(*today) +
                        " referrals on " + PeriodContaining(CalendarPeriod::kDay, now_ms).label +
                        " (max_referrals_per_day " + std::to_string(policy.max_referrals_per_day) +
                        ")");
    }
  }
  if (order_id != 0 && policy.max_advocate_rewards > 0) {
    Result<int64_t> rewarded = count_in_period(
        policy.advocate_rewards_period,
        "SELECT COUNT(*) FROM referrals WHERE referrer_customer_id = ?1 AND id != ?2 AND "
        "status IN ('pending', 'converted') AND attributed_at_ms >= ?3 AND "
        "attributed_at_ms < ?4");
    if (!rewarded.ok()) return rewarded.status();
    if (*rewarded >= policy.max_advocate_rewards) {
      reasons.push_back("advocate_reward_cap: the referrer already has " +
                        std::to_string(*rewarded) + " rewarded referrals in " +
                        PeriodContaining(policy.advocate_rewards_period, now_ms).label +
                        " (max_advocate_rewards " + std::to_string(policy.max_advocate_rewards) +
                        ")");
    }
  }
  return reasons;
}

// --- Rewards ---

Result<int64_t> SqliteStorage::GrantReferralRewardLocked(
    const ReferralRewardTerms& terms, int64_t customer_id, const std::string& shop_id,
    const std::string& key, const std::string& description, bool restrict, int64_t source_event_id,
    int64_t effective_at_ms, int64_t now_ms) {
  if (terms.points > 0) {
    Posting posting;
    posting.customer_id = customer_id;
    posting.source_event_id = source_event_id;
    posting.rule_id = key.rfind("referral_milestone", 0) == 0 ? "referral_milestone" : "referral";
    posting.kind = "referral";
    posting.once_key = key;  // once per customer ever, whatever the repeats
    posting.points = terms.points;
    posting.description = description;
    posting.effective_at_ms = effective_at_ms;
    Result<bool> posted = PostPoints(posting, now_ms);
    if (!posted.ok()) return posted.status();
    return int64_t{0};
  }
  const std::string code =
      terms.reward_kind == "store_credit" ? "" : RandomCode(terms.code_prefix, 10);
  Stmt insert(*writer_statements_,
              "INSERT INTO redemptions (customer_id, shop_id, idempotency_key, reward_id, "
              "reward_kind, reward_name, points, code, value_minor, currency, percentage, "
              "minimum_order_minor, expires_at_ms, restrict_to_customer, created_at_ms, "
              "updated_at_ms, paid_with) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?7, ?8, ?9, ?10, ?11, "
              "?12, ?13, ?14, ?14, 'referral') "
              "ON CONFLICT(customer_id, idempotency_key) DO NOTHING");
  LOYALTYD_RETURN_IF_ERROR(insert.prepare_status());
  // The reward id names what the redemption is for: "referral", "referral_welcome" or
  // "referral_milestone" (':' never appears in a catalogue reward id).
  const std::string reward_id = key.rfind("referral_milestone", 0) == 0     ? "referral_milestone"
                                : key.find(":welcome") != std::string::npos ? "referral_welcome"
                                                                            : "referral";
  insert.Bind(1, customer_id).Bind(2, shop_id).Bind(3, key).Bind(4, reward_id);
  insert.Bind(5, terms.reward_kind).Bind(6, terms.name).Bind(7, code).Bind(8, terms.value_minor);
  insert.Bind(9, terms.currency).Bind(10, int64_t{terms.percentage});
  insert.Bind(11, terms.minimum_order_minor);
  insert.Bind(12, terms.expires_after_ms > 0 ? now_ms + terms.expires_after_ms : int64_t{0});
  insert.Bind(13, int64_t{restrict ? 1 : 0}).Bind(14, now_ms);
  LOYALTYD_RETURN_IF_ERROR(StepDone(insert, writer_, "recording referral reward"));
  if (sqlite3_changes(writer_) == 0) {
    // Granted before (a repeat): the same redemption, no second job.
    Result<std::optional<RedemptionRecord>> existing = RedemptionByKeyLocked(customer_id, key);
    if (!existing.ok()) return existing.status();
    return existing->has_value() ? (*existing)->id : int64_t{0};
  }
  const int64_t redemption_id = sqlite3_last_insert_rowid(writer_);
  // The platform call's key, as for catalogue rewards (sqlite_redemptions.cc).
  const std::string job_key = !code.empty() ? shop_id + ":code:" + code
                                            : shop_id + ":credit:" + std::to_string(redemption_id);
  Stmt job(*writer_statements_,
           "INSERT INTO outbox_jobs (shop_id, kind, redemption_id, idempotency_key, "
           "next_attempt_at_ms, created_at_ms, updated_at_ms) "
           "VALUES (?1, 'issue_reward', ?2, ?3, ?4, ?4, ?4)");
  job.Bind(1, shop_id).Bind(2, redemption_id).Bind(3, job_key).Bind(4, now_ms);
  LOYALTYD_RETURN_IF_ERROR(StepDone(job, writer_, "queueing referral reward job"));
  (void)description;  // the redemption's name says what it is; points carry the description
  return redemption_id;
}

Status SqliteStorage::ConvertReferralLocked(const ReferralPolicy& policy, int64_t referral_id,
                                            int64_t effective_at_ms, int64_t now_ms) {
  Stmt mark(*writer_statements_,
            "UPDATE referrals SET status = 'converted', converted_at_ms = ?2, updated_at_ms = ?3 "
            "WHERE id = ?1 AND status = 'pending' RETURNING referrer_customer_id, friend_email, "
            "COALESCE(source_event_id, 0), (SELECT name FROM orders WHERE id = order_id)");
  LOYALTYD_RETURN_IF_ERROR(mark.prepare_status());
  mark.Bind(1, referral_id).Bind(2, effective_at_ms).Bind(3, now_ms);
  const int rc = mark.Step();
  if (rc == SQLITE_DONE) return Status::Ok();  // converted or settled before
  if (rc != SQLITE_ROW) return SqliteError(writer_, rc, "converting referral");
  const int64_t referrer_id = mark.Int(0);
  const std::string friend_email = mark.Text(1);
  const int64_t event_id = mark.Int(2);
  const std::string order_name = mark.Text(3);
  mark.Reset();

  Stmt advocate(*writer_statements_,
                "SELECT shop_id, COALESCE(platform_customer_id, ''), email FROM customers "
                "WHERE id = ?1");
  LOYALTYD_RETURN_IF_ERROR(advocate.prepare_status());
  advocate.Bind(1, referrer_id);
  if (advocate.Step() != SQLITE_ROW) return Internal("a referral's referrer vanished");
  const std::string shop_id = advocate.Text(0);
  const bool restrict = CanRestrict(policy, shop_id, advocate.Text(1), advocate.Text(2));
  advocate.Reset();

  const ReferralRewardTerms& terms = policy.advocate_reward;
  const std::string description = "referral reward (" + terms.name +
                                  "): " + MaskEmail(friend_email) + "'s first order" +
                                  (order_name.empty() ? "" : " " + order_name);
  Result<int64_t> granted = GrantReferralRewardLocked(
      terms, referrer_id, shop_id, "referral:" + std::to_string(referral_id), description, restrict,
      event_id, effective_at_ms, now_ms);
  if (!granted.ok()) return granted.status();
  Stmt record(*writer_statements_,
              "UPDATE referrals SET advocate_points = ?2, advocate_redemption_id = ?3, "
              "advocate_reward_name = ?4 WHERE id = ?1");
  LOYALTYD_RETURN_IF_ERROR(record.prepare_status());
  record.Bind(1, referral_id).Bind(2, terms.points);
  if (*granted != 0) record.Bind(3, *granted);
  record.Bind(4, terms.name);
  LOYALTYD_RETURN_IF_ERROR(StepDone(record, writer_, "recording referral reward"));
  // Events out: referral.converted, in this transaction (sqlite_events_out.cc).
  if (!events_out_.endpoints.empty()) {
    LOYALTYD_RETURN_IF_ERROR(EmitReferralEventLocked(referral_id, now_ms));
  }

  if (policy.milestones.empty()) return Status::Ok();
  Stmt count(*writer_statements_,
             "SELECT COUNT(*) FROM referrals WHERE referrer_customer_id = ?1 AND "
             "status = 'converted'");
  LOYALTYD_RETURN_IF_ERROR(count.prepare_status());
  count.Bind(1, referrer_id);
  if (count.Step() != SQLITE_ROW) return SqliteError(writer_, SQLITE_ERROR, "counting referrals");
  const int64_t converted = count.Int(0);
  count.Reset();
  // Every milestone reached, each once (its key): a milestone added to the config later is
  // granted at the referrer's next conversion.
  for (const auto& [referrals, milestone] : policy.milestones) {
    if (converted < referrals) break;
    const std::string key = "referral_milestone:" + std::to_string(referrals);
    Result<int64_t> milestone_granted =
        GrantReferralRewardLocked(milestone, referrer_id, shop_id, key,
                                  "referral milestone (" + milestone.name +
                                      "): " + std::to_string(referrals) + " friends referred",
                                  restrict, event_id, effective_at_ms, now_ms);
    if (!milestone_granted.ok()) return milestone_granted.status();
  }
  return Status::Ok();
}

// --- Attribution of a paid order ---

Status SqliteStorage::ApplyReferralOrder(const EventOutcome& outcome, int64_t customer_id,
                                         int64_t order_id, int64_t now_ms) {
  const ReferralPolicy& policy = *outcome.referrals;
  const ReferralOrderFacts& facts = *outcome.referral_order;
  if (customer_id == 0 || order_id == 0 || !outcome.order) return Status::Ok();
  {
    Stmt judged(*writer_statements_, "SELECT 1 FROM referrals WHERE order_id = ?1");
    LOYALTYD_RETURN_IF_ERROR(judged.prepare_status());
    judged.Bind(1, order_id);
    if (judged.Step() == SQLITE_ROW) return Status::Ok();  // judged before: a redelivery
  }
  const int64_t effective = outcome.received_at_ms != 0 ? outcome.received_at_ms : now_ms;
  const int64_t order_time = facts.created_at_ms != 0 ? facts.created_at_ms : effective;

  // The referrer, by precedence: a friend code used on the order, a ref code the storefront
  // carried to the order, then the friend's own identification.
  int64_t referral_id = 0;
  int64_t referrer_id = 0;
  std::string source;
  bool new_row = false;
  for (const ReferralCandidate& candidate : facts.candidates) {
    if (candidate.source == "discount_code") {
      // Without case: the redemption keeps the code as the store keeps it (WooCommerce
      // lower-cases coupon codes, and its orders carry them so), and a buyer may type either.
      Stmt by_code(*writer_statements_,
                   "SELECT r.id, r.referrer_customer_id FROM referrals r JOIN redemptions w "
                   "ON w.id = r.welcome_redemption_id WHERE UPPER(w.code) = ?1 AND "
                   "r.status = 'identified'");
      LOYALTYD_RETURN_IF_ERROR(by_code.prepare_status());
      by_code.BindCopy(1, Upper(candidate.code));
      if (by_code.Step() == SQLITE_ROW) {
        referral_id = by_code.Int(0);
        referrer_id = by_code.Int(1);
      }
    } else {
      Stmt by_code(*writer_statements_, "SELECT customer_id FROM referral_codes WHERE code = ?1");
      LOYALTYD_RETURN_IF_ERROR(by_code.prepare_status());
      by_code.BindCopy(1, Upper(candidate.code));
      if (by_code.Step() == SQLITE_ROW) {
        referrer_id = by_code.Int(0);
        new_row = true;
      }
    }
    if (referrer_id != 0) {
      source = candidate.source;
      break;
    }
  }
  if (referrer_id == 0 && !facts.friend_keys.email_key.empty()) {
    Stmt identified(*writer_statements_,
                    "SELECT id, referrer_customer_id FROM referrals WHERE friend_key = ?1 AND "
                    "status = 'identified' ORDER BY id LIMIT 1");
    LOYALTYD_RETURN_IF_ERROR(identified.prepare_status());
    identified.Bind(1, facts.friend_keys.email_key);
    if (identified.Step() == SQLITE_ROW) {
      referral_id = identified.Int(0);
      referrer_id = identified.Int(1);
      source = "self_identified";
    }
  }
  if (referrer_id == 0) return Status::Ok();  // not a referral

  // A ref code of a referrer who already identified this friend attributes that referral: one
  // referral per friend and referrer, never one rejected as "already referred" by its twin.
  if (new_row && !facts.friend_keys.email_key.empty()) {
    Stmt mine(*writer_statements_,
              "SELECT id FROM referrals WHERE friend_key = ?1 AND referrer_customer_id = ?2 AND "
              "status = 'identified' AND window_ends_at_ms >= ?3 ORDER BY id LIMIT 1");
    LOYALTYD_RETURN_IF_ERROR(mine.prepare_status());
    mine.Bind(1, facts.friend_keys.email_key).Bind(2, referrer_id).Bind(3, order_time);
    if (mine.Step() == SQLITE_ROW) {
      referral_id = mine.Int(0);
      new_row = false;
    }
  }

  if (new_row) {
    Stmt insert(*writer_statements_,
                "INSERT INTO referrals (referrer_customer_id, shop_id, friend_email, friend_key, "
                "source, status, identified_at_ms, window_ends_at_ms, created_at_ms, "
                "updated_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, 'identified', ?6, ?7, ?8, ?8)");
    LOYALTYD_RETURN_IF_ERROR(insert.prepare_status());
    insert.Bind(1, referrer_id).Bind(2, outcome.order->shop_id).Bind(3, facts.friend_email);
    insert.Bind(4, facts.friend_keys.email_key).Bind(5, source).Bind(6, order_time);
    insert.Bind(7, order_time + policy.window_ms).Bind(8, now_ms);
    LOYALTYD_RETURN_IF_ERROR(StepDone(insert, writer_, "recording referral"));
    referral_id = sqlite3_last_insert_rowid(writer_);
  }

  std::vector<std::string> reasons;
  std::string status = "rejected";
  Stmt window(*writer_statements_, "SELECT window_ends_at_ms FROM referrals WHERE id = ?1");
  LOYALTYD_RETURN_IF_ERROR(window.prepare_status());
  window.Bind(1, referral_id);
  if (window.Step() != SQLITE_ROW) return Internal("a referral vanished inside its transaction");
  const int64_t window_ends = window.Int(0);
  window.Reset();
  if (order_time > window_ends) {
    status = "expired";
    reasons.push_back("window_expired: the order came after the attribution window ended (" +
                      FormatIso8601Millis(window_ends) + ")");
  } else {
    Result<std::vector<std::string>> guard_reasons =
        ReferralGuardReasons(policy, referral_id, referrer_id, customer_id, facts.friend_email,
                             facts.friend_keys, order_id, order_time, new_row, now_ms);
    if (!guard_reasons.ok()) return guard_reasons.status();
    reasons = std::move(*guard_reasons);
    if (facts.total_minor < policy.minimum_order_minor) {
      reasons.push_back("below_minimum: the first order's total " +
                        FormatMinor(facts.total_minor, policy.currency_exponent) +
                        " is below the minimum " +
                        FormatMinor(policy.minimum_order_minor, policy.currency_exponent) + " " +
                        policy.currency);
    }
    if (reasons.empty()) status = "pending";
  }
  Stmt judge(*writer_statements_,
             "UPDATE referrals SET status = ?2, reason = ?3, order_id = ?4, "
             "friend_customer_id = ?5, order_total_minor = ?6, attributed_at_ms = ?7, "
             "release_at_ms = ?8, source_event_id = ?9, updated_at_ms = ?10 WHERE id = ?1");
  LOYALTYD_RETURN_IF_ERROR(judge.prepare_status());
  judge.Bind(1, referral_id).Bind(2, status).BindCopy(3, Join(reasons)).Bind(4, order_id);
  judge.Bind(5, customer_id).Bind(6, facts.total_minor).Bind(7, effective);
  judge.Bind(8,
             status == "pending" && policy.hold_ms > 0 ? effective + policy.hold_ms : int64_t{0});
  judge.Bind(9, outcome.event_id).Bind(10, now_ms);
  LOYALTYD_RETURN_IF_ERROR(StepDone(judge, writer_, "judging referral"));
  if (status != "pending") return Status::Ok();

  // The friend's other identifications lose: this referral has their first order.
  Stmt others(*writer_statements_,
              "UPDATE referrals SET status = 'rejected', reason = ?3, updated_at_ms = ?4 "
              "WHERE friend_key = ?1 AND id != ?2 AND status = 'identified'");
  LOYALTYD_RETURN_IF_ERROR(others.prepare_status());
  others.Bind(1, facts.friend_keys.email_key).Bind(2, referral_id);
  others.BindCopy(3, "already_referred: the friend's first order was attributed to referral " +
                         std::to_string(referral_id));
  others.Bind(4, now_ms);
  LOYALTYD_RETURN_IF_ERROR(StepDone(others, writer_, "superseding identifications"));
  if (policy.hold_ms > 0) return Status::Ok();  // converted at release
  return ConvertReferralLocked(policy, referral_id, effective, now_ms);
}

Status SqliteStorage::VoidReferralOfOrder(int64_t order_id, int64_t now_ms) {
  Stmt s(*writer_statements_,
         "UPDATE referrals SET status = 'voided', reason = ?3, updated_at_ms = ?2 "
         "WHERE order_id = ?1 AND status = 'pending'");
  LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
  s.Bind(1, order_id).Bind(2, now_ms).BindCopy(3, kOrderRefundedReason);
  return StepDone(s, writer_, "voiding referral");
}

Result<ReferralRunResult> SqliteStorage::ReleaseReferralRewards(const ReferralPolicy& policy,
                                                                int64_t now_ms) {
  ReferralRunResult result;
  for (;;) {
    size_t batch = 0;
    std::lock_guard<std::mutex> lock(write_mu_);
    Status st = InTransaction(writer_, [&]() -> Status {
      Stmt due(*writer_statements_,
               "SELECT r.id, r.release_at_ms, EXISTS (SELECT 1 FROM order_refunds f WHERE "
               "f.order_id = r.order_id AND f.refunds_rest = 1) FROM referrals r WHERE "
               "r.status = 'pending' AND r.release_at_ms > 0 AND r.release_at_ms <= ?1 "
               "ORDER BY r.release_at_ms, r.id LIMIT 200");
      LOYALTYD_RETURN_IF_ERROR(due.prepare_status());
      due.Bind(1, now_ms);
      std::vector<std::tuple<int64_t, int64_t, bool>> rows;
      int rc;
      while ((rc = due.Step()) == SQLITE_ROW) rows.emplace_back(due.Int(0), due.Int(1), due.Int(2));
      if (rc != SQLITE_DONE) return SqliteError(writer_, rc, "loading due referrals");
      due.Reset();
      batch = rows.size();
      for (const auto& [id, release_at, refunded] : rows) {
        if (refunded) {
          Stmt voided(*writer_statements_,
                      "UPDATE referrals SET status = 'voided', reason = ?3, updated_at_ms = ?2 "
                      "WHERE id = ?1 AND status = 'pending'");
          LOYALTYD_RETURN_IF_ERROR(voided.prepare_status());
          voided.Bind(1, id).Bind(2, now_ms).BindCopy(3, kOrderRefundedReason);
          LOYALTYD_RETURN_IF_ERROR(StepDone(voided, writer_, "voiding referral"));
          ++result.voided;
          continue;
        }
        LOYALTYD_RETURN_IF_ERROR(ConvertReferralLocked(policy, id, release_at, now_ms));
        ++result.converted;
      }
      return Status::Ok();
    });
    if (!st.ok()) return st;
    if (batch < 200) return result;
  }
}

// --- Self-identification ---

Result<std::optional<ReferralRecord>> SqliteStorage::ReferralByIdLocked(int64_t id) {
  Stmt s(*writer_statements_,
         (std::string("SELECT ") + kReferralColumns + "WHERE r.id = ?1").c_str());
  LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
  s.Bind(1, id);
  const int rc = s.Step();
  if (rc == SQLITE_ROW) return std::optional<ReferralRecord>(ReadReferral(s));
  if (rc == SQLITE_DONE) return std::optional<ReferralRecord>();
  return SqliteError(writer_, rc, "reading referral");
}

Result<CreateReferralResult> SqliteStorage::CreateReferral(const NewReferral& r,
                                                           const ReferralPolicy& policy,
                                                           int64_t now_ms) {
  CreateReferralResult result;
  std::lock_guard<std::mutex> lock(write_mu_);
  Status st = InTransaction(writer_, [&]() -> Status {
    Stmt referrer(*writer_statements_, "SELECT 1 FROM customers WHERE id = ?1");
    LOYALTYD_RETURN_IF_ERROR(referrer.prepare_status());
    referrer.Bind(1, r.referrer_customer_id);
    if (referrer.Step() != SQLITE_ROW) {
      return NotFound("no customer with id " + std::to_string(r.referrer_customer_id));
    }
    referrer.Reset();
    // Identifications whose window has passed are over: say so before judging this one.
    Stmt stale(*writer_statements_,
               "UPDATE referrals SET status = 'expired', reason = 'window_expired: no order "
               "within the attribution window', updated_at_ms = ?2 WHERE friend_key = ?1 AND "
               "status = 'identified' AND window_ends_at_ms < ?2");
    LOYALTYD_RETURN_IF_ERROR(stale.prepare_status());
    stale.Bind(1, r.friend_key).Bind(2, now_ms);
    LOYALTYD_RETURN_IF_ERROR(StepDone(stale, writer_, "expiring identifications"));

    Stmt mine(*writer_statements_,
              "SELECT id FROM referrals WHERE friend_key = ?1 AND referrer_customer_id = ?2 AND "
              "status IN ('identified', 'pending', 'converted') ORDER BY id LIMIT 1");
    LOYALTYD_RETURN_IF_ERROR(mine.prepare_status());
    mine.Bind(1, r.friend_key).Bind(2, r.referrer_customer_id);
    if (mine.Step() == SQLITE_ROW) {
      const int64_t id = mine.Int(0);
      mine.Reset();
      Result<std::optional<ReferralRecord>> existing = ReferralByIdLocked(id);
      if (!existing.ok()) return existing.status();
      result.outcome = CreateReferralResult::Outcome::kExisting;
      result.referral = std::move(**existing);
      return Status::Ok();
    }
    mine.Reset();

    Stmt insert(*writer_statements_,
                "INSERT INTO referrals (referrer_customer_id, shop_id, friend_email, friend_key, "
                "source, status, identified_at_ms, window_ends_at_ms, created_at_ms, "
                "updated_at_ms) VALUES (?1, ?2, ?3, ?4, 'self_identified', 'identified', ?5, ?6, "
                "?5, ?5)");
    LOYALTYD_RETURN_IF_ERROR(insert.prepare_status());
    insert.Bind(1, r.referrer_customer_id).Bind(2, r.shop_id).Bind(3, r.friend_email);
    insert.Bind(4, r.friend_key).Bind(5, now_ms).Bind(6, now_ms + policy.window_ms);
    LOYALTYD_RETURN_IF_ERROR(StepDone(insert, writer_, "recording referral"));
    const int64_t referral_id = sqlite3_last_insert_rowid(writer_);

    IdentityKeys friend_keys;
    friend_keys.email_key = r.friend_key;
    Result<std::vector<std::string>> reasons =
        ReferralGuardReasons(policy, referral_id, r.referrer_customer_id, 0, r.friend_email,
                             friend_keys, 0, now_ms, true, now_ms);
    if (!reasons.ok()) return reasons.status();
    if (!reasons->empty()) {
      Stmt reject(*writer_statements_,
                  "UPDATE referrals SET status = 'rejected', reason = ?2 WHERE id = ?1");
      LOYALTYD_RETURN_IF_ERROR(reject.prepare_status());
      reject.Bind(1, referral_id).BindCopy(2, Join(*reasons));
      LOYALTYD_RETURN_IF_ERROR(StepDone(reject, writer_, "rejecting referral"));
      result.outcome = CreateReferralResult::Outcome::kRejected;
    } else if (r.welcome_reward && policy.friend_reward) {
      // The friend's welcome code goes to their record in this shop, a guest one if they have
      // none yet (their first order will name them).
      Stmt find(*writer_statements_,
                "SELECT id, COALESCE(platform_customer_id, ''), email FROM customers WHERE "
                "shop_id = ?1 AND email_normalised = ?2 ORDER BY platform_customer_id IS NULL, "
                "id LIMIT 1");
      LOYALTYD_RETURN_IF_ERROR(find.prepare_status());
      find.Bind(1, r.shop_id).Bind(2, r.friend_email_normalised);
      int64_t friend_id = 0;
      std::string platform_id;
      if (find.Step() == SQLITE_ROW) {
        friend_id = find.Int(0);
        platform_id = find.Text(1);
      }
      find.Reset();
      if (friend_id == 0) {
        Stmt guest(*writer_statements_,
                   "INSERT INTO customers (shop_id, platform_customer_id, email, "
                   "email_normalised, created_at_ms, updated_at_ms) VALUES (?1, NULL, ?2, ?3, "
                   "?4, ?4) RETURNING id");
        LOYALTYD_RETURN_IF_ERROR(guest.prepare_status());
        guest.Bind(1, r.shop_id).Bind(2, r.friend_email).Bind(3, r.friend_email_normalised);
        guest.Bind(4, now_ms);
        const int rc = guest.Step();
        if (rc != SQLITE_ROW) return SqliteError(writer_, rc, "recording the friend");
        friend_id = guest.Int(0);
      }
      LOYALTYD_RETURN_IF_ERROR(RecordIdentityKeys(friend_keys, friend_id));
      const bool restrict = CanRestrict(policy, r.shop_id, platform_id, r.friend_email);
      Result<int64_t> welcome =
          GrantReferralRewardLocked(*policy.friend_reward, friend_id, r.shop_id,
                                    "referral:" + std::to_string(referral_id) + ":welcome",
                                    "welcome reward", restrict, 0, now_ms, now_ms);
      if (!welcome.ok()) return welcome.status();
      Stmt link(*writer_statements_,
                "UPDATE referrals SET welcome_redemption_id = ?2, friend_customer_id = ?3 "
                "WHERE id = ?1");
      LOYALTYD_RETURN_IF_ERROR(link.prepare_status());
      link.Bind(1, referral_id).Bind(2, *welcome).Bind(3, friend_id);
      LOYALTYD_RETURN_IF_ERROR(StepDone(link, writer_, "linking welcome reward"));
    }
    Result<std::optional<ReferralRecord>> created = ReferralByIdLocked(referral_id);
    if (!created.ok()) return created.status();
    if (!created->has_value()) return Internal("a referral vanished inside its transaction");
    result.referral = std::move(**created);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return result;
}

// --- Reads ---

Result<std::vector<ReferralRecord>> SqliteStorage::ListReferrals(int64_t referrer_customer_id,
                                                                 int64_t before_id, size_t limit) {
  ReadLease lease(*this);
  Stmt s(lease.statements(), (std::string("SELECT ") + kReferralColumns +
                              "WHERE r.referrer_customer_id = ?1 AND (?2 = 0 OR r.id < ?2) "
                              "ORDER BY r.id DESC LIMIT ?3")
                                 .c_str());
  LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
  s.Bind(1, referrer_customer_id).Bind(2, before_id).Bind(3, static_cast<int64_t>(limit));
  std::vector<ReferralRecord> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) out.push_back(ReadReferral(s));
  if (rc != SQLITE_DONE) return SqliteError(lease.db(), rc, "listing referrals");
  return out;
}

Result<std::optional<ReferralRecord>> SqliteStorage::GetReferral(int64_t id) {
  ReadLease lease(*this);
  Stmt s(lease.statements(),
         (std::string("SELECT ") + kReferralColumns + "WHERE r.id = ?1").c_str());
  LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
  s.Bind(1, id);
  const int rc = s.Step();
  if (rc == SQLITE_ROW) return std::optional<ReferralRecord>(ReadReferral(s));
  if (rc == SQLITE_DONE) return std::optional<ReferralRecord>();
  return SqliteError(lease.db(), rc, "reading referral");
}

Result<std::vector<ReferralReportRow>> SqliteStorage::ReferralReport() {
  ReadLease lease(*this);
  // Everyone with a code, a click or a referral, with each figure from its own table.
  Stmt s(lease.statements(),
         "WITH referrers AS (SELECT customer_id AS id FROM referral_codes UNION SELECT "
         "customer_id FROM referral_clicks UNION SELECT referrer_customer_id FROM referrals) "
         "SELECT c.id, c.email, COALESCE((SELECT code FROM referral_codes WHERE customer_id = "
         "c.id), ''), "
         "COALESCE((SELECT SUM(clicks) FROM referral_clicks WHERE customer_id = c.id), 0), "
         "(SELECT COUNT(*) FROM referrals WHERE referrer_customer_id = c.id AND source = "
         "'self_identified'), "
         "(SELECT COUNT(*) FROM referrals WHERE referrer_customer_id = c.id AND status IN "
         "('pending', 'converted', 'voided')), "
         "(SELECT COUNT(*) FROM referrals WHERE referrer_customer_id = c.id AND status = "
         "'converted'), "
         "(SELECT COUNT(*) FROM referrals WHERE referrer_customer_id = c.id AND status = "
         "'pending'), "
         "(SELECT COUNT(*) FROM referrals WHERE referrer_customer_id = c.id AND status = "
         "'voided'), "
         "(SELECT COUNT(*) FROM referrals WHERE referrer_customer_id = c.id AND status = "
         "'rejected'), "
         "COALESCE((SELECT SUM(points) FROM ledger_entries WHERE customer_id = c.id AND kind = "
         "'referral'), 0), "
         "(SELECT COUNT(*) FROM redemptions WHERE customer_id = c.id AND paid_with = 'referral' "
         "AND reward_id IN ('referral', 'referral_milestone')) "
         "FROM referrers JOIN customers c ON c.id = referrers.id ORDER BY c.id");
  LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
  std::vector<ReferralReportRow> rows;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    ReferralReportRow row;
    row.referrer_customer_id = s.Int(0);
    row.email = s.Text(1);
    row.code = s.Text(2);
    row.clicks = s.Int(3);
    row.identifications = s.Int(4);
    row.attributed = s.Int(5);
    row.conversions = s.Int(6);
    row.pending = s.Int(7);
    row.voided = s.Int(8);
    row.rejected = s.Int(9);
    row.points_awarded = s.Int(10);
    row.rewards_issued = s.Int(11);
    rows.push_back(std::move(row));
  }
  if (rc != SQLITE_DONE) return SqliteError(lease.db(), rc, "reporting referrals");
  s.Reset();
  // Rejection reasons by code (the text before ':' of each "; "-separated item).
  Stmt reasons(lease.statements(),
               "SELECT referrer_customer_id, reason FROM referrals WHERE status = 'rejected'");
  LOYALTYD_RETURN_IF_ERROR(reasons.prepare_status());
  std::map<int64_t, std::map<std::string, int64_t>> by_referrer;
  while ((rc = reasons.Step()) == SQLITE_ROW) {
    const std::string text = reasons.Text(1);
    size_t start = 0;
    while (start < text.size()) {
      size_t end = text.find("; ", start);
      if (end == std::string::npos) end = text.size();
      const std::string item = text.substr(start, end - start);
      ++by_referrer[reasons.Int(0)][item.substr(0, item.find(':'))];
      start = end + 2;
    }
  }
  if (rc != SQLITE_DONE) return SqliteError(lease.db(), rc, "reporting rejections");
  for (ReferralReportRow& row : rows) row.rejected_reasons = by_referrer[row.referrer_customer_id];
  return rows;
}

}  // namespace loyaltyd
