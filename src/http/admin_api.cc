#include "http/admin_api.h"

#include <spdlog/spdlog.h>

#include <charconv>
#include <nlohmann/json.hpp>
#include <type_traits>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/json_writer.h"
#include "core/model.h"
#include "core/money.h"
#include "http/api_reply.h"
#include "rules/tier_rules.h"

namespace loyaltyd {
namespace {

using nlohmann::json;
using namespace api_reply;  // NOLINT: the shared answer helpers

// The customer detail's "expiring_points" looks this far ahead.
constexpr int64_t kExpiringWithinDays = 30;

}  // namespace

namespace api_reply {  // shared with admin_customers.cc (customer search)

json CustomerJson(const CustomerRecord& c) {
  return json{{"id", c.id},
              {"shop_id", c.shop_id},
              {"platform_customer_id",
               c.platform_customer_id.empty() ? json(nullptr) : json(c.platform_customer_id)},
              {"email", c.email},
              {"first_name", c.first_name},
              {"last_name", c.last_name},
              {"points_balance", c.points_balance},
              {"created_at", FormatIso8601Millis(c.created_at_ms)},
              {"updated_at", FormatIso8601Millis(c.updated_at_ms)}};
}

// A customer's store credit (cashback), in the program currency.
json CreditBalanceJson(int64_t minor, const ProgramConfig& program) {
  return json{{"amount", FormatMinor(minor, program.currency_exponent)},
              {"currency", program.currency}};
}

json CustomerWithCreditJson(const CustomerRecord& c, const ProgramConfig& program) {
  json out = CustomerJson(c);
  out["credit_balance"] = CreditBalanceJson(c.credit_balance_minor, program);
  return out;
}

}  // namespace api_reply

namespace {

json JobJson(const OutboxJob& j) {
  return json{{"id", j.id},
              {"shop_id", j.shop_id},
              {"kind", j.kind},
              {"redemption_id", j.redemption_id == 0 ? json(nullptr) : json(j.redemption_id)},
              {"idempotency_key", j.idempotency_key},
              {"status", JobStatusName(j.status)},
              {"attempts", j.attempts},
              {"next_attempt_at", j.status == JobStatus::kPending
                                      ? json(FormatIso8601Millis(j.next_attempt_at_ms))
                                      : json(nullptr)},
              {"last_error", j.last_error.empty() ? json(nullptr) : json(j.last_error)},
              {"created_at", FormatIso8601Millis(j.created_at_ms)},
              {"updated_at", FormatIso8601Millis(j.updated_at_ms)}};
}

}  // namespace

void AdminApi::Register(RouteTable& server) {
  // One config snapshot per request: the token it is authorised with and whatever the handler
  // reads come from the same version.
  using Handler = void (AdminApi::*)(const httplib::Request&, httplib::Response&);
  using ConfigHandler =
      void (AdminApi::*)(const Config&, const httplib::Request&, httplib::Response&);
  auto guarded = [this](auto&& handle) {
    return [this, handle](const httplib::Request& req, httplib::Response& res) {
      const std::shared_ptr<const Config> config = config_->Current();
      if (!Authorize(*config, req, res)) return;
      try {
        handle(*config, req, res);
      } catch (const std::exception& e) {
        // Nothing below throws by contract; this keeps a bug from taking a server thread down.
        spdlog::error("admin API {} {} failed: {}", req.method, req.path, e.what());
        ReplyError(res, 500, "internal error");
      }
    };
  };
  auto route = [this, guarded](auto handler) {
    if constexpr (std::is_same_v<decltype(handler), ConfigHandler>) {
      return guarded(
          [this, handler](const Config& config, const httplib::Request& req,
                          httplib::Response& res) { (this->*handler)(config, req, res); });
    } else {
      static_assert(std::is_same_v<decltype(handler), Handler>);
      return guarded([this, handler](const Config&, const httplib::Request& req,
                                     httplib::Response& res) { (this->*handler)(req, res); });
    }
  };
  server.Get("/api/v1/customers", route(&AdminApi::SearchCustomers));  // admin_customers.cc
  server.Get(R"(/api/v1/customers/(\d+))", route(&AdminApi::GetCustomer));
  server.Get(R"(/api/v1/customers/(\d+)/ledger)", route(&AdminApi::GetLedger));
  server.Post(R"(/api/v1/customers/(\d+)/redemptions)", route(&AdminApi::Redeem));
  server.Get(R"(/api/v1/customers/(\d+)/redemptions)", route(&AdminApi::ListRedemptions));
  server.Get(R"(/api/v1/redemptions/(\d+))", route(&AdminApi::GetRedemption));
  server.Get("/api/v1/rewards", route(&AdminApi::ListRewards));
  server.Get("/api/v1/jobs", route(&AdminApi::ListJobs));
  server.Post(R"(/api/v1/jobs/(\d+)/retry)", route(&AdminApi::RetryJob));
  server.Get("/api/v1/events", route(&AdminApi::ListEvents));
  server.Get("/api/v1/stats", route(&AdminApi::GetStats));
  server.Get(R"(/api/v1/customers/(\d+)/lots)", route(&AdminApi::ListLots));
  server.Post(R"(/api/v1/customers/(\d+)/actions)", route(&AdminApi::RecordAction));
  server.Get(R"(/api/v1/customers/(\d+)/credit)", route(&AdminApi::GetCredit));
  server.Post(R"(/api/v1/customers/(\d+)/credit/payouts)", route(&AdminApi::PayOutCredit));
  server.Get(R"(/api/v1/customers/(\d+)/referral)", route(&AdminApi::GetReferralLink));
  server.Get(R"(/api/v1/customers/(\d+)/referrals)", route(&AdminApi::ListReferrals));
  server.Post("/api/v1/referrals", route(&AdminApi::IdentifyReferral));
  server.Get(R"(/api/v1/referrals/(\d+))", route(&AdminApi::GetReferral));
  server.Post("/api/v1/referrals/clicks", route(&AdminApi::RecordReferralClick));
  server.Get("/api/v1/reports/referrals", route(&AdminApi::ReportReferrals));
  // Customer tools (admin_customers.cc).
  server.Post(R"(/api/v1/customers/(\d+)/adjustments)", route(&AdminApi::CreateAdjustment));
  server.Post("/api/v1/imports/balances", route(&AdminApi::ImportBalances));
  server.Post(R"(/api/v1/customers/(\d+)/token)", route(&AdminApi::IssueCustomerToken));
  RegisterStorefront(server);
  // Events out (admin_events_out.cc).
  server.Get("/api/v1/events-out", route(&AdminApi::ListEventDeliveries));
  // Reports (admin_reports.cc).
  server.Get("/api/v1/reports/customers", route(&AdminApi::ReportCustomers));
  server.Get("/api/v1/reports/liability", route(&AdminApi::ReportLiability));
  server.Get("/api/v1/reports/tiers", route(&AdminApi::ReportTiers));
}

std::optional<CustomerRecord> AdminApi::FindCustomer(const httplib::Request& req,
                                                     httplib::Response& res) {
  std::optional<int64_t> id = ParseInt(req.matches[1].str());
  if (!id) {
    ReplyError(res, 404, "no such customer");
    return std::nullopt;
  }
  Result<std::optional<CustomerRecord>> customer = storage_.GetCustomer(*id);
  if (!customer.ok()) {
    ReplyStorageError(res, customer.status());
    return std::nullopt;
  }
  if (!customer->has_value()) ReplyError(res, 404, "no customer with id " + std::to_string(*id));
  return std::move(customer).value();
}

std::unique_ptr<ReadSnapshot> AdminApi::PinReads(httplib::Response& res) {
  Result<std::unique_ptr<ReadSnapshot>> snapshot = storage_.PinReadSnapshot();
  if (!snapshot.ok()) {
    ReplyStorageError(res, snapshot.status());
    return nullptr;
  }
  return std::move(snapshot).value();
}

bool BearerTokenMatches(std::string_view authorization, std::string_view token) {
  static constexpr std::string_view kBearer = "Bearer ";
  if (!authorization.starts_with(kBearer) || token.empty()) return false;
  const std::string_view presented = authorization.substr(kBearer.size());
  // Fixed-size digests: comparing them takes the same time whatever the presented token is.
  return ConstantTimeEquals(HmacSha256("admin-token", presented), HmacSha256("admin-token", token));
}

bool AdminApi::Authorize(const Config& config, const httplib::Request& req,
                         httplib::Response& res) const {
  const std::string header = req.get_header_value("Authorization");
  if (BearerTokenMatches(header, config.admin.token)) return true;
  res.set_header("WWW-Authenticate", "Bearer");
  ReplyError(res, 401,
             header.starts_with("Bearer ") && header.size() > 7
                 ? "invalid bearer token"
                 : "missing bearer token: send 'Authorization: Bearer <admin.token>'");
  return false;
}

namespace api_reply {  // shared with admin_customers.cc (GET /api/v1/me)

// The customer's VIP tier as stored (last evaluated at their latest event or the daily run) and
// their progress as of now: the metric in the window and what the next level asks for.
Result<json> TierJson(const Config& config_, Storage& storage_, const Clock& clock_,
                      int64_t customer_id) {
  const TiersConfig& tiers = config_.program.tiers;
  Result<TierStanding> standing = storage_.GetCustomerTier(customer_id);
  if (!standing.ok()) return standing.status();
  const int64_t now = clock_.NowMillis();
  const int64_t window_start = TierWindowStartMs(tiers, now);
  Result<TierFacts> facts = storage_.LoadTierFacts(customer_id, window_start, now);
  if (!facts.ok()) return facts.status();
  const bool spend = tiers.metric == TierMetric::kSpend;
  auto metric_json = [&](int64_t value) {
    return spend ? json(FormatMinor(value, config_.program.currency_exponent)) : json(value);
  };
  const int64_t value = TierMetricValue(tiers, *facts);
  const TierLevel* level = tiers.FindLevel(standing->level_id);
  const int index = standing->level_id.empty() ? -1 : tiers.IndexOf(standing->level_id);
  const TierLevel* next = index + 1 < static_cast<int>(tiers.levels.size())
                              ? &tiers.levels[static_cast<size_t>(index + 1)]
                              : nullptr;
  json progress{{"metric", spend                                 ? "spend"
                           : tiers.metric == TierMetric::kOrders ? "orders"
                                                                 : "points_earned"},
                {"value", metric_json(value)},
                {"window_start", FormatIso8601Millis(window_start)},
                {"next_level", next ? json(next->id) : json(nullptr)},
                {"next_threshold", next ? metric_json(next->threshold) : json(nullptr)},
                {"remaining", next ? metric_json(std::max<int64_t>(next->threshold - value, 0))
                                   : json(nullptr)}};
  if (spend) progress["currency"] = config_.program.currency;
  return json{
      {"level", level ? json(level->id) : json(nullptr)},
      {"name", level ? json(level->name) : json(nullptr)},
      {"multiplier", level ? FormatMultiplier(level->multiplier_bp) : "1"},
      {"reached_at", level ? json(FormatIso8601Millis(standing->reached_at_ms)) : json(nullptr)},
      {"keep_until", level ? json(FormatIso8601Millis(standing->keep_until_ms)) : json(nullptr)},
      {"progress", std::move(progress)}};
}

}  // namespace api_reply

void AdminApi::GetCustomer(const Config& config, const httplib::Request& req,
                           httplib::Response& res) {
  const std::unique_ptr<ReadSnapshot> snapshot = PinReads(res);
  if (!snapshot) return;
  std::optional<CustomerRecord> customer = FindCustomer(req, res);
  if (!customer) return;
  json out = CustomerWithCreditJson(*customer, config.program);
  // Points not spendable yet (held awards) and about to go (lots expiring within 30 days).
  const int64_t horizon_ms = clock_.NowMillis() + kExpiringWithinDays * 86'400'000;
  Result<PointsOutlook> outlook = storage_.GetPointsOutlook(customer->id, horizon_ms);
  if (!outlook.ok()) return ReplyStorageError(res, outlook.status());
  out["pending_points"] = outlook->pending_points;
  out["expiring_points"] = {{"points", outlook->expiring_points},
                            {"within_days", kExpiringWithinDays},
                            {"next_expiry_at", outlook->next_expiry_at_ms == 0
                                                   ? json(nullptr)
                                                   : json(IsoOrEmpty(outlook->next_expiry_at_ms))}};
  if (config.program.tiers.enabled) {
    Result<json> tier = TierJson(config, storage_, clock_, customer->id);
    if (!tier.ok()) return ReplyStorageError(res, tier.status());
    out["tier"] = std::move(*tier);
  }
  if (!AddCustomerDetail(*customer, out, res)) return;  // admin_customers.cc
  if (!AddMemberDetail(*customer, out, res)) return;    // shared membership (admin_members.cc)
  Reply(res, 200, out);
}

void AdminApi::ListLots(const httplib::Request& req, httplib::Response& res) {
  size_t limit;
  int64_t before;
  if (!ReadPage(req, res, limit, before)) return;
  bool open_only = false;
  if (req.has_param("status")) {
    const std::string status = req.get_param_value("status");
    if (status != "open" && status != "all") {
      return ReplyError(res, 400, "status must be 'open' (points remaining) or 'all'");
    }
    open_only = status == "open";
  }
  const std::unique_ptr<ReadSnapshot> snapshot = PinReads(res);
  if (!snapshot) return;
  std::optional<CustomerRecord> customer = FindCustomer(req, res);
  if (!customer) return;
  Result<std::vector<PointLotRecord>> lots =
      storage_.ListLots(customer->id, open_only, before, limit);
  if (!lots.ok()) return ReplyStorageError(res, lots.status());
  json out = json::array();
  for (const PointLotRecord& l : *lots) {
    out.push_back(json{
        {"id", l.id},
        {"points", l.points},
        {"remaining", l.remaining},
        {"source",
         {{"kind", l.kind},
          {"rule_id", l.rule_id},
          {"ledger_entry_id", l.ledger_entry_id},
          {"order", l.order_platform_id.empty() ? json(nullptr)
                                                : json{{"platform_order_id", l.order_platform_id},
                                                       {"name", l.order_name}}}}},
        {"earned_at", FormatIso8601Millis(l.earned_at_ms)},
        {"expires_at", l.expires_at_ms == 0 ? json(nullptr) : json(IsoOrEmpty(l.expires_at_ms))},
        {"expired", l.expired_reason.empty() ? json(nullptr) : json(l.expired_reason)}});
  }
  json next = lots->size() == limit && !lots->empty() ? json(lots->back().id) : json(nullptr);
  Reply(res, 200,
        json{{"customer_id", customer->id},
             {"points_balance", customer->points_balance},
             {"lots", out},
             {"next_before", next}});
}

void AdminApi::GetLedger(const httplib::Request& req, httplib::Response& res) {
  size_t limit;
  int64_t before;
  if (!ReadPage(req, res, limit, before)) return;
  // The balance beside the entries is the newest entry's balance_after, not a later one.
  const std::unique_ptr<ReadSnapshot> snapshot = PinReads(res);
  if (!snapshot) return;
  std::optional<CustomerRecord> customer = FindCustomer(req, res);
  if (!customer) return;
  Result<std::vector<LedgerEntryRecord>> entries = storage_.ListLedger(customer->id, before, limit);
  if (!entries.ok()) return ReplyStorageError(res, entries.status());
  // Held awards (program.award.hold_days) are not entries until released; listed beside them
  // with their status, and why a voided one was voided.
  Result<std::vector<PendingAwardRecord>> awards =
      storage_.ListPendingAwards(customer->id, kMaxPageSize);
  if (!awards.ok()) return ReplyStorageError(res, awards.status());
  // The most read page of the API: written as text directly (JsonWriter says why).
  JsonWriter out;
  out.BeginObject().Key("customer_id").Int(customer->id);
  out.Key("points_balance").Int(customer->points_balance);
  out.Key("entries").BeginArray();
  for (const LedgerEntryRecord& e : *entries) {
    out.BeginObject();
    out.Key("id").Int(e.id);
    out.Key("points").Int(e.points);
    out.Key("balance_after").Int(e.balance_after);
    out.Key("kind").String(e.kind);
    out.Key("rule_id").String(e.rule_id);
    out.Key("refund_key").StringOrNull(e.refund_key);
    out.Key("description").String(e.description);
    out.Key("source_event").BeginObject();
    out.Key("id").Int(e.source_event_id).Key("topic").String(e.source_topic);
    out.EndObject();
    out.Key("order");
    if (e.order_platform_id.empty()) {
      out.Null();
    } else {
      out.BeginObject();
      out.Key("platform_order_id").String(e.order_platform_id).Key("name").String(e.order_name);
      out.EndObject();
    }
    out.Key("created_at").String(FormatIso8601Millis(e.created_at_ms));
    out.EndObject();
  }
  out.EndArray();
  out.Key("pending_awards").BeginArray();
  for (const PendingAwardRecord& a : *awards) {
    out.BeginObject();
    out.Key("id").Int(a.id);
    out.Key("status").String(PendingAwardStatusName(a.status));
    out.Key("points").Int(a.points);
    out.Key("net_points").Int(a.net_points);
    out.Key("rule_id").String(a.rule_id);
    out.Key("description").String(a.description);
    out.Key("order").BeginObject();
    out.Key("platform_order_id").String(a.order_platform_id).Key("name").String(a.order_name);
    out.EndObject();
    out.Key("source_event").BeginObject().Key("id").Int(a.source_event_id).EndObject();
    out.Key("awarded_at").String(FormatIso8601Millis(a.awarded_at_ms));
    out.Key("release_at").String(FormatIso8601Millis(a.release_at_ms));
    out.Key("reason").StringOrNull(a.status_reason);
    out.Key("settled_at");
    if (a.settled_at_ms == 0) {
      out.Null();
    } else {
      out.String(IsoOrEmpty(a.settled_at_ms));
    }
    out.EndObject();
  }
  out.EndArray();
  out.Key("next_before");
  if (entries->size() == limit && !entries->empty()) {
    out.Int(entries->back().id);
  } else {
    out.Null();
  }
  out.EndObject();
  ReplyJsonText(res, 200, out.Take());
}

void AdminApi::Redeem(const Config& config, const httplib::Request& req, httplib::Response& res) {
  std::optional<int64_t> id = ParseInt(req.matches[1].str());
  if (!id) return ReplyError(res, 404, "no such customer");
  const json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) {
    return ReplyError(res, 400,
                      "the body must be a JSON object such as {\"reward\": \"five-off\"}");
  }
  for (const auto& [key, value] : body.items()) {
    (void)value;
    // "shop_id" (shared membership) is optional; the message names the one required key.
    if (key != "reward" && key != "shop_id")
      return ReplyError(res, 400, "unknown key '" + key + "'; send {\"reward\": ID}");
  }
  if (!body.contains("reward") || !body["reward"].is_string()) {
    return ReplyError(res, 400, "'reward' is required: the id of a reward in GET /api/v1/rewards");
  }
  // Shared membership: the store the reward is issued in (docs/api.md, "Redemptions").
  if (body.contains("shop_id") && !body["shop_id"].is_string()) {
    return ReplyError(res, 400, "'shop_id' must be the id of a shop in the config (a string)");
  }
  const std::string shop_id = body.value("shop_id", std::string());
  if (!req.has_header("Idempotency-Key")) {
    return ReplyError(res, 400,
                      "the Idempotency-Key header is required: a unique value (e.g. a UUID) per "
                      "redemption, sent again unchanged when retrying the same request");
  }
  Result<RedeemResult> result =
      redemptions_.Redeem(config, *id, body["reward"].get<std::string>(),
                          req.get_header_value("Idempotency-Key"), shop_id);
  if (!result.ok()) return ReplyServiceError(res, result.status());
  json out = RedemptionJson(result->redemption);
  out["points_balance"] = result->balance_after;
  if (result->replayed) res.set_header("Idempotent-Replayed", "true");
  res.set_header("Location", "/api/v1/redemptions/" + std::to_string(result->redemption.id));
  Reply(res, result->replayed ? 200 : 201, out);
}

void AdminApi::ListRedemptions(const httplib::Request& req, httplib::Response& res) {
  size_t limit;
  int64_t before;
  if (!ReadPage(req, res, limit, before)) return;
  std::optional<CustomerRecord> customer = FindCustomer(req, res);
  if (!customer) return;
  Result<std::vector<RedemptionRecord>> list =
      storage_.ListRedemptions(customer->id, before, limit);
  if (!list.ok()) return ReplyStorageError(res, list.status());
  json out = json::array();
  for (const RedemptionRecord& r : *list) out.push_back(RedemptionJson(r));
  json next = list->size() == limit && !list->empty() ? json(list->back().id) : json(nullptr);
  Reply(res, 200, json{{"customer_id", customer->id}, {"redemptions", out}, {"next_before", next}});
}

void AdminApi::GetRedemption(const httplib::Request& req, httplib::Response& res) {
  std::optional<int64_t> id = ParseInt(req.matches[1].str());
  if (!id) return ReplyError(res, 404, "no such redemption");
  Result<std::optional<RedemptionRecord>> r = storage_.GetRedemption(*id);
  if (!r.ok()) return ReplyStorageError(res, r.status());
  if (!r->has_value()) return ReplyError(res, 404, "no redemption with id " + std::to_string(*id));
  Reply(res, 200, RedemptionJson(**r));
}

void AdminApi::ListRewards(const Config& config, const httplib::Request&, httplib::Response& res) {
  json out = json::array();
  for (const RewardConfig& r : config.program.rewards) {
    json reward{{"id", r.id},
                {"name", r.name},
                {"kind", RewardKindName(r.kind)},
                {"points", r.points},
                {"restrict_to_customer", r.restrict_to_customer},
                {"expires_after_days",
                 r.expires_after_days == 0 ? json(nullptr) : json(r.expires_after_days)}};
    if (r.kind == RewardKind::kPercentageDiscount) {
      reward["percentage"] = r.percentage;
    } else if (r.kind != RewardKind::kFreeShipping) {
      reward["amount"] = FormatAmount(r.amount_minor, config.program.currency);
      reward["currency"] = config.program.currency;
    }
    reward["minimum_order"] =
        r.minimum_order_minor == 0
            ? json(nullptr)
            : json(FormatAmount(r.minimum_order_minor, config.program.currency));
    out.push_back(std::move(reward));
  }
  Reply(res, 200, json{{"rewards", out}});
}

void AdminApi::ListJobs(const httplib::Request& req, httplib::Response& res) {
  std::optional<JobStatus> status;
  if (req.has_param("status")) {
    status = ParseJobStatus(req.get_param_value("status"));
    if (!status) return ReplyError(res, 400, "status must be one of pending, done, failed");
  }
  size_t limit;
  int64_t before;
  if (!ReadPage(req, res, limit, before)) return;
  Result<std::vector<OutboxJob>> jobs = storage_.ListJobs(status, before, limit);
  if (!jobs.ok()) return ReplyStorageError(res, jobs.status());
  json out = json::array();
  for (const OutboxJob& j : *jobs) out.push_back(JobJson(j));
  json next = jobs->size() == limit && !jobs->empty() ? json(jobs->back().id) : json(nullptr);
  Reply(res, 200, json{{"jobs", out}, {"next_before", next}});
}

void AdminApi::RetryJob(const httplib::Request& req, httplib::Response& res) {
  std::optional<int64_t> id = ParseInt(req.matches[1].str());
  if (!id) return ReplyError(res, 404, "no such job");
  Result<std::optional<OutboxJob>> job = storage_.GetJob(*id);
  if (!job.ok()) return ReplyStorageError(res, job.status());
  if (!job->has_value()) return ReplyError(res, 404, "no job with id " + std::to_string(*id));
  Status st = storage_.RetryJob(*id, clock_.NowMillis());
  if (!st.ok()) return ReplyServiceError(res, st);
  wake_outbox_();
  Result<std::optional<OutboxJob>> updated = storage_.GetJob(*id);
  if (!updated.ok() || !updated->has_value()) return ReplyStorageError(res, updated.status());
  Reply(res, 200, JobJson(**updated));
}

void AdminApi::ListEvents(const httplib::Request& req, httplib::Response& res) {
  std::optional<EventStatus> status;
  if (req.has_param("status")) {
    status = ParseEventStatus(req.get_param_value("status"));
    if (!status) {
      return ReplyError(res, 400, "status must be one of pending, processed, ignored, failed");
    }
  }
  size_t limit;
  int64_t before;
  if (!ReadPage(req, res, limit, before)) return;
  Result<std::vector<InboxEvent>> events = storage_.ListEvents(status, before, limit);
  if (!events.ok()) return ReplyStorageError(res, events.status());
  json out = json::array();
  for (const InboxEvent& e : *events) {
    out.push_back(json{
        {"id", e.id},
        {"shop_id", e.shop_id},
        {"platform", e.platform},
        {"topic", e.topic},
        {"delivery_id", e.delivery_id},
        {"status", EventStatusName(e.status)},
        {"reason", e.status_reason},
        {"received_at", FormatIso8601Millis(e.received_at_ms)},
        {"processed_at",
         e.processed_at_ms == 0 ? json(nullptr) : json(FormatIso8601Millis(e.processed_at_ms))}});
  }
  json next = events->size() == limit && !events->empty() ? json(events->back().id) : json(nullptr);
  Reply(res, 200, json{{"events", out}, {"next_before", next}});
}

void AdminApi::GetStats(const httplib::Request&, httplib::Response& res) {
  Result<InboxCounts> counts = storage_.CountInbox();
  if (!counts.ok()) return ReplyStorageError(res, counts.status());
  // The reason /healthz answers 503, for the merchant (it needs the token).
  const StorageWriteHealth health = storage_.CheckWritable();
  Reply(res, 200,
        json{{"inbox",
              {{"pending", counts->pending},
               {"processed", counts->processed},
               {"ignored", counts->ignored},
               {"failed", counts->failed}}},
             {"storage",
              {{"writable", health.writable},
               {"error", health.writable ? json(nullptr) : json(health.error)}}}});
}

// --- Action rules ---

void AdminApi::RecordAction(const Config& config, const httplib::Request& req,
                            httplib::Response& res) {
  std::optional<int64_t> id = ParseInt(req.matches[1].str());
  if (!id) return ReplyError(res, 404, "no such customer");
  const json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) {
    return ReplyError(res, 400, "the body must be a JSON object such as {\"action\": \"review\"}");
  }
  ActionRequest request;
  request.customer_id = *id;
  for (const auto& [key, value] : body.items()) {
    if (key != "action" && key != "occurred_at" && key != "reference") {
      return ReplyError(res, 400,
                        "unknown key '" + key +
                            "'; send {\"action\": NAME, \"occurred_at\": "
                            "ISO-8601 (optional), \"reference\": TEXT (optional)}");
    }
    if (!value.is_string()) return ReplyError(res, 400, "'" + key + "' must be a string");
  }
  if (!body.contains("action")) {
    return ReplyError(res, 400, "'action' is required: the name of an action rule in program.earn");
  }
  request.action = body["action"].get<std::string>();
  if (body.contains("occurred_at")) request.occurred_at = body["occurred_at"].get<std::string>();
  if (body.contains("reference")) request.reference = body["reference"].get<std::string>();
  if (!req.has_header("Idempotency-Key")) {
    return ReplyError(res, 400,
                      "the Idempotency-Key header is required: a unique value (e.g. a UUID) per "
                      "action, sent again unchanged when retrying the same request, so that the "
                      "action never earns twice");
  }
  request.idempotency_key = req.get_header_value("Idempotency-Key");

  Result<ActionResult> result = actions_.Record(config, request);
  if (!result.ok()) return ReplyServiceError(res, result.status());
  const ActionRequestRecord& r = result->record;
  const bool awarded = r.outcome == ActionOutcome::kAwarded;
  json out{{"id", r.id},
           {"customer_id", r.customer_id},
           {"action", r.action},
           {"rule_id", r.rule_id},
           {"outcome", ActionOutcomeName(r.outcome)},
           {"points", r.points},
           {"points_balance", r.balance_after},
           {"occurred_at", FormatIso8601Millis(r.occurred_at_ms)},
           {"reference", r.reference.empty() ? json(nullptr) : json(r.reference)},
           {"period", r.period_label.empty() ? json(nullptr) : json(r.period_label)},
           {"awards_in_period", awarded ? json(r.slot) : json(r.max_slots)},
           {"max_per_period", r.max_slots},
           {"next_period_starts_at", r.next_period_starts_at_ms == 0
                                         ? json(nullptr)
                                         : json(FormatIso8601Millis(r.next_period_starts_at_ms))},
           {"idempotency_key", r.idempotency_key},
           {"created_at", FormatIso8601Millis(r.created_at_ms)}};
  if (awarded) {
    out["ledger_entry"] =
        json{{"id", r.ledger_entry_id}, {"points", r.points},   {"balance_after", r.balance_after},
             {"kind", "action"},        {"rule_id", r.rule_id}, {"description", r.description}};
  } else {
    out["error"] = r.description;  // what a client shows: why nothing was paid, and until when
  }
  if (result->replayed) res.set_header("Idempotent-Replayed", "true");
  Reply(res, !awarded ? 409 : result->replayed ? 200 : 201, out);
}

// --- Store credit (cashback) ---

void AdminApi::GetCredit(const Config& config, const httplib::Request& req,
                         httplib::Response& res) {
  size_t limit;
  int64_t before;
  if (!ReadPage(req, res, limit, before)) return;
  std::optional<CustomerRecord> customer = FindCustomer(req, res);
  if (!customer) return;
  Result<std::vector<CreditEntryRecord>> entries =
      storage_.ListCreditEntries(customer->id, before, limit);
  if (!entries.ok()) return ReplyStorageError(res, entries.status());
  json out = json::array();
  for (const CreditEntryRecord& e : *entries) {
    out.push_back(json{
        {"id", e.id},
        {"amount", FormatAmount(e.amount_minor, e.currency)},
        {"balance_after", FormatAmount(e.balance_after_minor, e.currency)},
        {"currency", e.currency},
        {"kind", e.kind},
        {"rule_id", e.rule_id.empty() ? json(nullptr) : json(e.rule_id)},
        {"refund_key", e.refund_key.empty() ? json(nullptr) : json(e.refund_key)},
        {"description", e.description},
        {"source_event", e.source_event_id == 0
                             ? json(nullptr)
                             : json{{"id", e.source_event_id}, {"topic", e.source_topic}}},
        {"order", e.order_platform_id.empty()
                      ? json(nullptr)
                      : json{{"platform_order_id", e.order_platform_id}, {"name", e.order_name}}},
        {"payout_id", e.payout_id == 0 ? json(nullptr) : json(e.payout_id)},
        {"created_at", FormatIso8601Millis(e.created_at_ms)}});
  }
  json next =
      entries->size() == limit && !entries->empty() ? json(entries->back().id) : json(nullptr);
  Reply(res, 200,
        json{{"customer_id", customer->id},
             {"credit_balance", CreditBalanceJson(customer->credit_balance_minor, config.program)},
             {"entries", out},
             {"next_before", next}});
}

void AdminApi::PayOutCredit(const Config& config, const httplib::Request& req,
                            httplib::Response& res) {
  std::optional<int64_t> id = ParseInt(req.matches[1].str());
  if (!id) return ReplyError(res, 404, "no such customer");
  const json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) {
    return ReplyError(res, 400, "the body must be a JSON object such as {\"amount\": \"12.50\"}");
  }
  for (const auto& [key, value] : body.items()) {
    (void)value;
    if (key != "amount" && key != "shop_id") {
      return ReplyError(res, 400, "unknown key '" + key + "'; send {\"amount\": \"12.50\"}");
    }
  }
  // Shared membership: the store the credit is paid into (docs/api.md).
  if (body.contains("shop_id") && !body["shop_id"].is_string()) {
    return ReplyError(res, 400, "'shop_id' must be the id of a shop in the config (a string)");
  }
  const std::string shop_id = body.value("shop_id", std::string());
  if (!body.contains("amount") || !body["amount"].is_string()) {
    // A JSON number may be a binary float; money is a decimal string.
    return ReplyError(res, 400,
                      "'amount' is required: a decimal string in " + config.program.currency +
                          " such as \"12.50\"");
  }
  if (!req.has_header("Idempotency-Key")) {
    return ReplyError(res, 400,
                      "the Idempotency-Key header is required: a unique value (e.g. a UUID) per "
                      "payout, sent again unchanged when retrying the same request");
  }
  Result<PayoutResult> result =
      redemptions_.PayOutCredit(config, *id, body["amount"].get<std::string>(),
                                req.get_header_value("Idempotency-Key"), shop_id);
  if (!result.ok()) return ReplyServiceError(res, result.status());
  const json balance = CreditBalanceJson(result->credit_balance_minor, config.program);
  if (result->outcome == PayoutResult::Outcome::kInsufficientCredit) {
    return Reply(
        res, 409,
        json{{"error", "not enough store credit: the balance is " +
                           balance["amount"].get<std::string>() + " " + config.program.currency},
             {"credit_balance", balance}});
  }
  const bool replayed = result->outcome == PayoutResult::Outcome::kReplayed;
  json out = RedemptionJson(result->payout);
  out["credit_balance"] = balance;
  if (replayed) res.set_header("Idempotent-Replayed", "true");
  res.set_header("Location", "/api/v1/redemptions/" + std::to_string(result->payout.id));
  Reply(res, replayed ? 200 : 201, out);
}

}  // namespace loyaltyd
