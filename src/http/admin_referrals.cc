// AdminApi, referrals (docs/api.md, "Referrals"): share links, self-identification, clicks,
// a referrer's referrals and the referral report, as JSON or CSV.
#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/money.h"
#include "http/admin_api.h"
#include "http/api_reply.h"
#include "http/report_format.h"

namespace loyaltyd {
namespace {

using nlohmann::json;
using namespace api_reply;  // NOLINT: the shared answer helpers
// CSV per RFC 4180 with the formula-injection guard, shared with the other reports.
using report_format::CsvRow;
using report_format::ReplyCsv;
using report_format::WantsCsv;

json ReferralJson(const ReferralRecord& r, const ProgramConfig& program) {
  json reward = nullptr;
  if (r.status == ReferralStatus::kConverted) {
    reward =
        json{{"name", r.advocate_reward_name},
             {"points", r.advocate_points},
             {"redemption_id",
              r.advocate_redemption_id == 0 ? json(nullptr) : json(r.advocate_redemption_id)},
             {"redemption_status",
              r.advocate_reward_status.empty() ? json(nullptr) : json(r.advocate_reward_status)}};
  }
  return json{
      {"id", r.id},
      {"referrer_customer_id", r.referrer_customer_id},
      {"shop_id", r.shop_id},
      {"friend_email", r.friend_email},
      {"friend_customer_id",
       r.friend_customer_id == 0 ? json(nullptr) : json(r.friend_customer_id)},
      {"source", r.source},
      {"status", ReferralStatusName(r.status)},
      {"reason", r.reason.empty() ? json(nullptr) : json(r.reason)},
      {"identified_at", FormatIso8601Millis(r.identified_at_ms)},
      {"window_ends_at", FormatIso8601Millis(r.window_ends_at_ms)},
      {"order", r.order_platform_id.empty()
                    ? json(nullptr)
                    : json{{"shop_id", r.order_shop_id},
                           {"platform_order_id", r.order_platform_id},
                           {"name", r.order_name},
                           {"total", FormatMinor(r.order_total_minor, program.currency_exponent)},
                           {"currency", program.currency}}},
      {"reward_due_at", r.release_at_ms == 0 || r.status != ReferralStatus::kPending
                            ? json(nullptr)
                            : json(FormatIso8601Millis(r.release_at_ms))},
      {"converted_at",
       r.converted_at_ms == 0 ? json(nullptr) : json(FormatIso8601Millis(r.converted_at_ms))},
      {"advocate_reward", reward},
      {"welcome_reward",
       r.welcome_redemption_id == 0
           ? json(nullptr)
           : json{{"redemption_id", r.welcome_redemption_id}, {"code", r.welcome_code}}},
      {"created_at", FormatIso8601Millis(r.created_at_ms)},
      {"updated_at", FormatIso8601Millis(r.updated_at_ms)}};
}

// The JSON body of a POST, or nullopt with a 400 filled in; every key must be one of `keys`.
std::optional<json> ReadBody(const httplib::Request& req, httplib::Response& res,
                             const std::vector<std::string>& keys, const std::string& example) {
  json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) {
    ReplyError(res, 400, "the body must be a JSON object such as " + example);
    return std::nullopt;
  }
  for (const auto& [key, value] : body.items()) {
    (void)value;
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
      ReplyError(res, 400, "unknown key '" + key + "'; send " + example);
      return std::nullopt;
    }
  }
  return body;
}

}  // namespace

void AdminApi::GetReferralLink(const Config& config, const httplib::Request& req,
                               httplib::Response& res) {
  std::optional<int64_t> id = ParseInt(req.matches[1].str());
  if (!id) return ReplyError(res, 404, "no such customer");
  Result<ShareLink> link = referrals_.GetShareLink(config, *id);
  if (!link.ok()) return ReplyServiceError(res, link.status());
  Reply(res, 200,
        json{{"customer_id", link->customer_id},
             {"shop_id", link->shop_id},
             {"code", link->code},
             {"share_url", link->url}});
}

void AdminApi::ListReferrals(const Config& config, const httplib::Request& req,
                             httplib::Response& res) {
  size_t limit;
  int64_t before;
  bool csv = false;
  if (!ReadPage(req, res, limit, before) || !WantsCsv(req, res, csv)) return;
  std::optional<CustomerRecord> customer = FindCustomer(req, res);
  if (!customer) return;
  Result<std::vector<ReferralRecord>> referrals =
      storage_.ListReferrals(customer->id, before, limit);
  if (!referrals.ok()) return ReplyStorageError(res, referrals.status());
  if (csv) {
    std::string body = CsvRow({"id", "friend_email", "source", "status", "reason", "order",
                               "order_total", "advocate_reward", "identified_at", "converted_at"});
    for (const ReferralRecord& r : *referrals) {
      body += CsvRow({std::to_string(r.id), r.friend_email, r.source,
                      std::string(ReferralStatusName(r.status)), r.reason, r.order_name,
                      r.order_platform_id.empty()
                          ? ""
                          : FormatMinor(r.order_total_minor, config.program.currency_exponent),
                      r.status == ReferralStatus::kConverted ? r.advocate_reward_name : "",
                      FormatIso8601Millis(r.identified_at_ms), IsoOrEmpty(r.converted_at_ms)});
    }
    return ReplyCsv(res, "referrals-" + std::to_string(customer->id) + ".csv", body);
  }
  json out = json::array();
  for (const ReferralRecord& r : *referrals) out.push_back(ReferralJson(r, config.program));
  json next = referrals->size() == limit && !referrals->empty() ? json(referrals->back().id)
                                                                : json(nullptr);
  Reply(res, 200, json{{"customer_id", customer->id}, {"referrals", out}, {"next_before", next}});
}

void AdminApi::IdentifyReferral(const Config& config, const httplib::Request& req,
                                httplib::Response& res) {
  const std::string example =
      "{\"friend_email\": \"friend@example.com\", \"referrer_code\": \"CODE\"} (or "
      "\"referrer_email\"; optional \"shop_id\", \"welcome_reward\": true|false)";
  std::optional<json> body = ReadBody(
      req, res, {"friend_email", "referrer_code", "referrer_email", "shop_id", "welcome_reward"},
      example);
  if (!body) return;
  IdentifyRequest request;
  for (const auto& [key, value] : body->items()) {
    if (key == "welcome_reward") {
      if (!value.is_boolean()) return ReplyError(res, 400, "'welcome_reward' must be a boolean");
      request.welcome_reward = value.get<bool>();
      continue;
    }
    if (!value.is_string()) return ReplyError(res, 400, "'" + key + "' must be a string");
    const std::string text = value.get<std::string>();
    if (key == "friend_email") request.friend_email = text;
    if (key == "referrer_code") request.referrer_code = text;
    if (key == "referrer_email") request.referrer_email = text;
    if (key == "shop_id") request.shop_id = text;
  }
  if (request.friend_email.empty()) {
    return ReplyError(res, 400, "'friend_email' is required; send " + example);
  }
  Result<CreateReferralResult> result = referrals_.Identify(config, request);
  if (!result.ok()) return ReplyServiceError(res, result.status());
  json out = ReferralJson(result->referral, config.program);
  res.set_header("Location", "/api/v1/referrals/" + std::to_string(result->referral.id));
  switch (result->outcome) {
    case CreateReferralResult::Outcome::kCreated:
      return Reply(res, 201, out);
    case CreateReferralResult::Outcome::kExisting:
      return Reply(res, 200, out);
    case CreateReferralResult::Outcome::kRejected:
      // Recorded (the report counts it), but the friend is not referred: say why.
      out["error"] = "referral rejected: " + result->referral.reason;
      return Reply(res, 409, out);
  }
}

void AdminApi::GetReferral(const Config& config, const httplib::Request& req,
                           httplib::Response& res) {
  std::optional<int64_t> id = ParseInt(req.matches[1].str());
  if (!id) return ReplyError(res, 404, "no such referral");
  Result<std::optional<ReferralRecord>> referral = storage_.GetReferral(*id);
  if (!referral.ok()) return ReplyStorageError(res, referral.status());
  if (!referral->has_value()) {
    return ReplyError(res, 404, "no referral with id " + std::to_string(*id));
  }
  Reply(res, 200, ReferralJson(**referral, config.program));
}

void AdminApi::RecordReferralClick(const Config& config, const httplib::Request& req,
                                   httplib::Response& res) {
  std::optional<json> body = ReadBody(req, res, {"code"}, "{\"code\": \"CODE\"}");
  if (!body) return;
  if (!body->contains("code") || !(*body)["code"].is_string()) {
    return ReplyError(res, 400, "'code' is required: the referral code from the share link");
  }
  Status st = referrals_.RecordClick(config, (*body)["code"].get<std::string>());
  if (!st.ok()) return ReplyServiceError(res, st);
  res.status = 204;
}

void AdminApi::ReportReferrals(const Config&, const httplib::Request& req, httplib::Response& res) {
  bool csv = false;
  if (!WantsCsv(req, res, csv)) return;
  Result<std::vector<ReferralReportRow>> rows = storage_.ReferralReport();
  if (!rows.ok()) return ReplyStorageError(res, rows.status());
  auto reasons_text = [](const std::map<std::string, int64_t>& reasons) {
    std::string text;
    for (const auto& [code, count] : reasons) {
      text += (text.empty() ? "" : "; ") + code + "=" + std::to_string(count);
    }
    return text;
  };
  if (csv) {
    std::string body = CsvRow({"referrer_customer_id", "email", "code", "clicks", "identifications",
                               "attributed", "conversions", "pending", "voided", "rejected",
                               "points_awarded", "rewards_issued", "rejected_reasons"});
    for (const ReferralReportRow& r : *rows) {
      body += CsvRow({std::to_string(r.referrer_customer_id), r.email, r.code,
                      std::to_string(r.clicks), std::to_string(r.identifications),
                      std::to_string(r.attributed), std::to_string(r.conversions),
                      std::to_string(r.pending), std::to_string(r.voided),
                      std::to_string(r.rejected), std::to_string(r.points_awarded),
                      std::to_string(r.rewards_issued), reasons_text(r.rejected_reasons)});
    }
    return ReplyCsv(res, "referrals-report.csv", body);
  }
  json out = json::array();
  for (const ReferralReportRow& r : *rows) {
    out.push_back(json{{"referrer_customer_id", r.referrer_customer_id},
                       {"email", r.email},
                       {"code", r.code.empty() ? json(nullptr) : json(r.code)},
                       {"clicks", r.clicks},
                       {"identifications", r.identifications},
                       {"attributed", r.attributed},
                       {"conversions", r.conversions},
                       {"pending", r.pending},
                       {"voided", r.voided},
                       {"rejected", r.rejected},
                       {"points_awarded", r.points_awarded},
                       {"rewards_issued", r.rewards_issued},
                       {"rejected_reasons", r.rejected_reasons}});
  }
  Reply(res, 200, json{{"referrers", out}});
}

}  // namespace loyaltyd
