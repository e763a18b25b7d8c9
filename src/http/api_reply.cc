#include "http/api_reply.h"

#include <spdlog/spdlog.h>

#include <charconv>

#include "core/clock.h"
#include "core/money.h"

namespace loyaltyd::api_reply {

const size_t kDefaultPageSize = 50;
const size_t kMaxPageSize = 500;

void Reply(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

void ReplyJsonText(httplib::Response& res, int status, std::string body) {
  res.status = status;
  res.body = std::move(body);
  res.set_header("Content-Type", "application/json");
}

void ReplyError(httplib::Response& res, int status, const std::string& message) {
  Reply(res, status, json{{"error", message}});
}

void ReplyStorageError(httplib::Response& res, const Status& status) {
  spdlog::error("admin API storage error: {}", status.ToString());
  // As for webhooks: the client should try again later, and with the same Idempotency-Key
  // nothing happens twice.
  res.set_header("Retry-After", "5");
  ReplyError(res, 503, "storage unavailable; retry later");
}

std::optional<int64_t> ParseInt(std::string_view text) {
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

bool ReadPage(const httplib::Request& req, httplib::Response& res, size_t& limit, int64_t& before) {
  limit = kDefaultPageSize;
  before = 0;
  if (req.has_param("limit")) {
    std::optional<int64_t> v = ParseInt(req.get_param_value("limit"));
    if (!v || *v < 1 || *v > static_cast<int64_t>(kMaxPageSize)) {
      ReplyError(res, 400,
                 "limit must be an integer between 1 and " + std::to_string(kMaxPageSize));
      return false;
    }
    limit = static_cast<size_t>(*v);
  }
  if (req.has_param("before")) {
    std::optional<int64_t> v = ParseInt(req.get_param_value("before"));
    if (!v || *v < 1) {
      ReplyError(res, 400, "before must be a positive id");
      return false;
    }
    before = *v;
  }
  return true;
}

std::string FormatAmount(int64_t minor, const std::string& currency) {
  Result<int> exponent = CurrencyExponent(currency);
  return FormatMinor(minor, exponent.ok() ? *exponent : 2);
}

std::string IsoOrEmpty(int64_t ms) { return ms == 0 ? "" : FormatIso8601Millis(ms); }

json RedemptionJson(const RedemptionRecord& r) {
  json value;
  if (r.reward_kind == "percentage_discount") {
    value = json{{"percentage", r.percentage}};
  } else if (r.reward_kind == "free_shipping") {
    value = json{{"free_shipping", true}};
  } else {
    value = json{{"amount", FormatAmount(r.value_minor, r.currency)}, {"currency", r.currency}};
  }
  // The code is the customer's to use once the store has it; before that it is not a reward.
  const bool issued = r.status == RedemptionStatus::kIssued;
  return json{
      {"id", r.id},
      {"customer_id", r.customer_id},
      {"shop_id", r.shop_id},
      {"reward", {{"id", r.reward_id}, {"name", r.reward_name}, {"kind", r.reward_kind}}},
      {"points", r.points},
      {"value", value},
      {"minimum_order", r.minimum_order_minor == 0
                            ? json(nullptr)
                            : json(FormatAmount(r.minimum_order_minor, r.currency))},
      {"status", RedemptionStatusName(r.status)},
      {"code", issued && !r.code.empty() ? json(r.code) : json(nullptr)},
      {"platform_reward_id", issued ? json(r.platform_reward_id) : json(nullptr)},
      {"expires_at", r.expires_at_ms == 0 ? json(nullptr) : json(IsoOrEmpty(r.expires_at_ms))},
      {"failure_reason", r.failure_reason.empty() ? json(nullptr) : json(r.failure_reason)},
      {"idempotency_key", r.idempotency_key},
      {"paid_with", r.paid_with},
      {"created_at", FormatIso8601Millis(r.created_at_ms)},
      {"updated_at", FormatIso8601Millis(r.updated_at_ms)}};
}

void ReplyServiceError(httplib::Response& res, const Status& status) {
  switch (status.code()) {
    case StatusCode::kNotFound:
      return ReplyError(res, 404, status.message());
    case StatusCode::kInvalidArgument:
      return ReplyError(res, 422, status.message());
    case StatusCode::kFailedPrecondition:
      return ReplyError(res, 409, status.message());
    default:
      return ReplyStorageError(res, status);
  }
}

}  // namespace loyaltyd::api_reply
