#include "connectors/woocommerce/woocommerce_rest_client.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

// cpp-httplib is built with OpenSSL; the define must match (CMake's httplib_dep sets it too).
#define CPPHTTPLIB_OPENSSL_SUPPORT 1
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/money.h"

namespace loyaltyd {
namespace {

using nlohmann::json;

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// "2026-12-25T17:00:00": WooCommerce's date format, without zone; *_gmt fields are UTC.
std::string WooDateGmt(int64_t epoch_ms) { return FormatIso8601Millis(epoch_ms).substr(0, 19); }

int64_t RetryAfterMs(const httplib::Result& result) {
  if (!result) return 0;
  const std::string value = result->get_header_value("Retry-After");
  if (value.empty() || !std::isdigit(static_cast<unsigned char>(value[0]))) return 0;
  return std::strtoll(value.c_str(), nullptr, 10) * 1000;
}

// Maps an HTTP exchange to the outcome classes of reward_client.h; `body` holds the JSON of a
// 2xx answer.
PlatformResponse Classify(const httplib::Result& result, const std::string& what, json* body) {
  PlatformResponse out;
  if (!result) {
    out.status = Unavailable(what + ": " + httplib::to_string(result.error()));
    out.error_detail = httplib::to_string(result.error());
    return out;
  }
  const int status = result->status;
  json parsed = json::parse(result->body, nullptr, /*allow_exceptions=*/false);
  std::string detail = "HTTP " + std::to_string(status);
  if (parsed.is_object() && parsed.contains("code") && parsed["code"].is_string()) {
    detail += " " + parsed["code"].get<std::string>();
    if (parsed.contains("message") && parsed["message"].is_string()) {
      detail += ": " + parsed["message"].get<std::string>();
    }
  }
  if (status >= 200 && status < 300) {
    if (parsed.is_discarded()) {
      // A 2xx whose body did not arrive whole: the call may have worked. Retry, looking first.
      out.status = Unavailable(what + ": unreadable answer to HTTP " + std::to_string(status));
      out.error_detail = detail;
      return out;
    }
    if (body != nullptr) *body = std::move(parsed);
    out.status = Status::Ok();
    return out;
  }
  out.error_detail = detail;
  if (status == 401 || status == 403) {
    out.status = Unauthenticated(what + ": the store refused the REST API keys (" + detail +
                                 "); check shops[].api.consumer_key and consumer_secret");
  } else if (status == 429 || status >= 500) {
    out.status = Unavailable(what + ": " + detail);
    out.retry_after_ms = RetryAfterMs(result);
  } else {
    out.status = FailedPrecondition(what + ": " + detail);
  }
  return out;
}

}  // namespace

WooCommerceRestClient::WooCommerceRestClient(const ShopConfig& shop)
    : consumer_secret_(shop.api.consumer_secret),
      http_(std::make_unique<httplib::Client>(shop.api.base_url)) {
  const int timeout = shop.api.timeout_seconds;
  http_->set_connection_timeout(timeout, 0);
  http_->set_read_timeout(timeout, 0);
  http_->set_write_timeout(timeout, 0);
  http_->set_keep_alive(true);
  http_->set_basic_auth(shop.api.consumer_key, shop.api.consumer_secret);
}

WooCommerceRestClient::~WooCommerceRestClient() = default;

std::string WooCommerceRestClient::CouponCode(const RewardRequest& request) const {
  if (!request.code.empty()) return Lower(request.code);
  static constexpr std::string_view kAlphabet = "abcdefghjkmnpqrstuvwxyz23456789";
  const std::string mac = HmacSha256(consumer_secret_, request.idempotency_key);
  std::string code = "credit-";
  for (size_t i = 0; i < 12; ++i) {
    code.push_back(kAlphabet[static_cast<unsigned char>(mac[i]) % kAlphabet.size()]);
  }
  return code;
}

PlatformResponse WooCommerceRestClient::CreateReward(const RewardRequest& request) {
  const std::string code = CouponCode(request);
  json coupon{{"code", code},
              {"description", request.title},
              {"individual_use", false},
              {"usage_limit", 1},
              {"usage_limit_per_user", 1},
              {"meta_data",
               json::array({{{"key", kIdempotencyMetaKey}, {"value", request.idempotency_key}}})}};
  switch (request.kind) {
    case RewardKind::kFixedDiscount:
    case RewardKind::kStoreCredit:
      coupon["discount_type"] = "fixed_cart";
      coupon["amount"] = FormatMinor(request.amount_minor, request.currency_exponent);
      break;
    case RewardKind::kPercentageDiscount:
      coupon["discount_type"] = "percent";
      coupon["amount"] = std::to_string(request.percentage);
      break;
    case RewardKind::kFreeShipping:
      coupon["discount_type"] = "fixed_cart";
      coupon["amount"] = "0";
      coupon["free_shipping"] = true;
      break;
  }
  const bool restrict = request.restrict_to_customer || request.kind == RewardKind::kStoreCredit;
  if (restrict) {
    if (request.customer_email.empty()) {
      return {InvalidArgument("a customer-restricted coupon needs the customer's email, and "
                              "this customer has none"),
              0, "", "", ""};
    }
    coupon["email_restrictions"] = json::array({request.customer_email});
  }
  if (request.minimum_order_minor > 0) {
    coupon["minimum_amount"] = FormatMinor(request.minimum_order_minor, request.currency_exponent);
  }
  if (request.ends_at_ms > 0) coupon["date_expires_gmt"] = WooDateGmt(request.ends_at_ms);

  httplib::Result result =
      http_->Post(std::string(kApiPath) + "/coupons", coupon.dump(), "application/json");
  json body;
  PlatformResponse out = Classify(result, "creating coupon", &body);
  if (!out.status.ok()) return out;
  if (!body.is_object() || !body.contains("id")) {
    out.status = Unavailable("creating coupon: the answer has no coupon id");
    return out;
  }
  out.platform_reward_id = body["id"].dump();
  out.code = body.value("code", code);
  return out;
}

PlatformResponse WooCommerceRestClient::FindReward(const RewardRequest& request) {
  const std::string code = CouponCode(request);
  httplib::Params params{{"code", code}};
  httplib::Result result =
      http_->Get(std::string(kApiPath) + "/coupons", params, httplib::Headers{});
  json body;
  PlatformResponse out = Classify(result, "looking up coupon", &body);
  if (!out.status.ok()) return out;
  if (!body.is_array()) {
    out.status = Unavailable("looking up coupon: the answer is not a list");
    return out;
  }
  for (const json& coupon : body) {
    if (coupon.is_object() && coupon.value("code", std::string()) == code &&
        coupon.contains("id")) {
      out.platform_reward_id = coupon["id"].dump();
      out.code = code;
      return out;
    }
  }
  return out;  // Ok and empty: certainly not there
}

PlatformResponse WooCommerceRestClient::UpdateCustomerTags(const CustomerTagsRequest& request) {
  const std::string path = std::string(kApiPath) + "/customers/" + request.customer_platform_id;
  json customer;
  PlatformResponse read = Classify(http_->Get(path), "reading customer", &customer);
  if (!read.status.ok()) return read;
  std::vector<std::string> tags;
  if (customer.contains("meta_data") && customer["meta_data"].is_array()) {
    for (const json& meta : customer["meta_data"]) {
      if (meta.value("key", std::string()) != kTagsMetaKey || !meta["value"].is_string()) continue;
      const std::string list = meta["value"].get<std::string>();
      size_t start = 0;
      while (start <= list.size()) {
        const size_t comma = std::min(list.find(',', start), list.size());
        if (comma > start) tags.push_back(list.substr(start, comma - start));
        start = comma + 1;
      }
    }
  }
  for (const std::string& tag : request.remove) {
    tags.erase(std::remove(tags.begin(), tags.end(), tag), tags.end());
  }
  for (const std::string& tag : request.add) {
    if (std::find(tags.begin(), tags.end(), tag) == tags.end()) tags.push_back(tag);
  }
  std::string joined;
  for (const std::string& tag : tags) joined += (joined.empty() ? "" : ",") + tag;
  json update{{"meta_data", json::array({{{"key", kTagsMetaKey}, {"value", joined}}})}};
  return Classify(http_->Put(path, update.dump(), "application/json"), "updating customer",
                  nullptr);
}

}  // namespace loyaltyd
