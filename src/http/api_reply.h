// The admin API's answers, shared by its handler files (admin_api.cc, admin_referrals.cc):
// JSON bodies, errors as {"error": "..."}, paging parameters and the record shapes that more
// than one route returns. Internal to src/http.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"
#include "core/clock.h"
#include "core/status.h"
#include "http/server_tuning.h"
#include "storage/storage.h"

namespace loyaltyd::api_reply {

using nlohmann::json;

extern const size_t kDefaultPageSize;
extern const size_t kMaxPageSize;

void Reply(httplib::Response& res, int status, const json& body);
// A body already written as JSON text (JsonWriter).
void ReplyJsonText(httplib::Response& res, int status, std::string body);
void ReplyError(httplib::Response& res, int status, const std::string& message);
// Storage failures are the server's problem, not the caller's: 503 with a log line.
void ReplyStorageError(httplib::Response& res, const Status& status);
// Maps a service error to its HTTP answer (404, 422, 409); storage trouble is 503.
void ReplyServiceError(httplib::Response& res, const Status& status);

std::optional<int64_t> ParseInt(std::string_view text);
// Reads ?limit= and ?before=; false (with a 400 filled in) when either is not a number.
bool ReadPage(const httplib::Request& req, httplib::Response& res, size_t& limit, int64_t& before);

// Minor units as a decimal string in the currency's exponent.
std::string FormatAmount(int64_t minor, const std::string& currency);
std::string IsoOrEmpty(int64_t ms);
json RedemptionJson(const RedemptionRecord& r);

// The customer record as GET /api/v1/customers lists it (admin_api.cc).
json CustomerJson(const CustomerRecord& c);
json CreditBalanceJson(int64_t minor, const ProgramConfig& program);
json CustomerWithCreditJson(const CustomerRecord& c, const ProgramConfig& program);

// The customer's VIP tier and progress to the next level (admin_api.cc), for the customer
// detail and GET /api/v1/me; only when config.program.tiers.enabled.
Result<json> TierJson(const Config& config, Storage& storage, const Clock& clock,
                      int64_t customer_id);

}  // namespace loyaltyd::api_reply
