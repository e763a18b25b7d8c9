#include "connectors/woocommerce/woocommerce_order_source.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <exception>
#include <string_view>

#define CPPHTTPLIB_OPENSSL_SUPPORT 1
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "connectors/woocommerce/woocommerce_rest_client.h"
#include "core/calendar.h"
#include "core/clock.h"

namespace loyaltyd {
namespace {

using nlohmann::json;

// An answer that is not a page of orders, as the outcome classes of order_source.h.
void ClassifyWooListing(const httplib::Result& result, OrderPage& page) {
  if (!result) {
    page.status = Unavailable("listing orders: " + httplib::to_string(result.error()));
    page.error_detail = httplib::to_string(result.error());
    return;
  }
  const int status = result->status;
  const json parsed = json::parse(result->body, nullptr, /*allow_exceptions=*/false);
  std::string detail = "HTTP " + std::to_string(status);
  if (parsed.is_object() && parsed.contains("code") && parsed["code"].is_string()) {
    detail += " " + parsed["code"].get<std::string>();
    if (parsed.contains("message") && parsed["message"].is_string()) {
      detail += ": " + parsed["message"].get<std::string>();
    }
  }
  page.error_detail = detail;
  if (status == 401 || status == 403) {
    page.status = Unauthenticated("listing orders: the store refused the REST API keys (" + detail +
                                  "); check shops[].api.consumer_key and consumer_secret");
  } else if (status == 429 || status >= 500) {
    page.status = Unavailable("listing orders: " + detail);
    const std::string retry = result->get_header_value("Retry-After");
    if (!retry.empty() && std::isdigit(static_cast<unsigned char>(retry[0]))) {
      page.retry_after_ms = std::strtoll(retry.c_str(), nullptr, 10) * 1000;
    }
  } else {
    page.status = FailedPrecondition("listing orders: " + detail);
  }
}

std::string WooText(const json& obj, const char* key) {
  const auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// A JSON integer id as decimal text; "" otherwise.
std::string WooIdText(const json& value) {
  if (value.is_number_unsigned()) return std::to_string(value.get<uint64_t>());
  if (value.is_number_integer() && value.get<int64_t>() > 0) {
    return std::to_string(value.get<int64_t>());
  }
  return "";
}

}  // namespace

WooCommerceOrderSource::WooCommerceOrderSource(const ShopConfig& shop)
    : earn_on_status_(shop.earn_on_status),
      http_(std::make_unique<httplib::Client>(shop.api.base_url)) {
  const int timeout = shop.api.timeout_seconds;
  http_->set_connection_timeout(timeout, 0);
  http_->set_read_timeout(timeout, 0);
  http_->set_write_timeout(timeout, 0);
  http_->set_keep_alive(true);
  http_->set_basic_auth(shop.api.consumer_key, shop.api.consumer_secret);
}

WooCommerceOrderSource::~WooCommerceOrderSource() = default;

OrderPage WooCommerceOrderSource::ListOrders(int64_t since_ms, const std::string& cursor) {
  OrderPage page;
  const int number = cursor.empty() ? 1 : std::atoi(cursor.c_str());
  if (number < 1) {
    page.status = InvalidArgument("bad page cursor '" + cursor + "'");
    return page;
  }
  // WooCommerce's dates have whole seconds; modified_after is exclusive ("after"), so the
  // second before `since` is asked for.
  const int64_t after_ms = since_ms - since_ms % 1000 - 1000;
  const httplib::Params params{{"modified_after", FormatIso8601Millis(after_ms).substr(0, 19)},
                               {"dates_are_gmt", "true"},
                               {"per_page", std::to_string(kPageSize)},
                               {"page", std::to_string(number)},
                               {"orderby", "id"},
                               {"order", "asc"}};
  httplib::Result result = http_->Get(std::string(WooCommerceRestClient::kApiPath) + "/orders",
                                      params, httplib::Headers{});
  if (!result || result->status != 200) {
    ClassifyWooListing(result, page);
    return page;
  }
  const json orders = json::parse(result->body, nullptr, /*allow_exceptions=*/false);
  if (!orders.is_array()) {
    // A 200 that is not a list (a caching proxy's page, a truncated body): try again later.
    page.status = Unavailable("listing orders: the answer is not a JSON list");
    page.error_detail = result->body.substr(0, 300);
    return page;
  }
  try {
    for (const json& o : orders) {
      PlatformOrder order;
      order.platform_order_id = o.is_object() ? WooIdText(o.value("id", json())) : "";
      if (order.platform_order_id.empty()) {
        page.status = FailedPrecondition("listing orders: an order without an integer id");
        page.error_detail = o.dump().substr(0, 300);
        return page;
      }
      std::string modified = WooText(o, "date_modified_gmt");
      if (!modified.empty() && modified.back() != 'Z') modified += "Z";
      order.updated_at = modified;
      Result<int64_t> modified_ms = ParseIso8601Millis(std::string_view(modified));
      order.updated_at_ms = modified_ms.ok() ? *modified_ms : 0;
      const std::string status = WooText(o, "status");
      order.state.paid = std::find(earn_on_status_.begin(), earn_on_status_.end(), status) !=
                         earn_on_status_.end();
      order.state.fulfilled = status == "completed";
      order.state.cancelled =
          status == "cancelled" || status == "refunded" || status == "failed" || status == "trash";
      if (const auto refunds = o.find("refunds"); refunds != o.end() && refunds->is_array()) {
        for (const json& refund : *refunds) {
          const std::string id = refund.is_object() ? WooIdText(refund.value("id", json())) : "";
          if (!id.empty()) order.state.refund_ids.push_back(id);
        }
      }
      order.topic = "order.updated";
      order.body = o.dump();
      page.orders.push_back(std::move(order));
    }
  } catch (const std::exception& e) {
    page = OrderPage{};
    page.status = Unavailable("listing orders: unexpected answer");
    page.error_detail = e.what();
    return page;
  }
  // X-WP-TotalPages: how many pages the query has (WP_REST_Controller; WooCommerce's CRUD
  // controllers set it the same way).
  const std::string total = result->get_header_value("X-WP-TotalPages");
  const int total_pages = total.empty() ? 0 : std::atoi(total.c_str());
  if (total.empty() && !orders.empty()) {
    page.status = FailedPrecondition("listing orders: the answer has no X-WP-TotalPages header");
    return page;
  }
  if (number < total_pages) page.next_cursor = std::to_string(number + 1);
  return page;
}

OrderBody WooCommerceOrderSource::FetchOrderBody(const PlatformOrder& order) {
  OrderBody out;
  out.body = order.body;
  if (out.body.empty()) out.status = Internal("order " + order.platform_order_id + " has no body");
  return out;
}

}  // namespace loyaltyd
