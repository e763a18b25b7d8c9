#include "connectors/shopify/shopify_order_source.h"

#include <algorithm>
#include <cctype>
#include <exception>
#include <string_view>
#include <utility>

#define CPPHTTPLIB_OPENSSL_SUPPORT 1
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "connectors/shopify/shopify_graphql.h"
#include "core/calendar.h"
#include "core/clock.h"

namespace loyaltyd {
namespace {

using json = nlohmann::json;

// Step 1: the state of each order changed since a time, oldest change first.
// https://shopify.dev/docs/api/admin-graphql/latest/queries/orders (query syntax:
// https://shopify.dev/docs/api/usage/search-syntax), OrderSortKeys UPDATED_AT.
constexpr const char* kListOrders =
    R"(query LoyaltydReconcileOrders($first: Int!, $after: String, $query: String!, $sortKey: OrderSortKeys!) {
  orders(first: $first, after: $after, query: $query, sortKey: $sortKey) {
    edges {
      cursor
      node { id updatedAt cancelledAt displayFinancialStatus displayFulfillmentStatus refunds(first: 50) { id } }
    }
    pageInfo { hasNextPage endCursor }
  }
})";

// Step 2: what the ShopifyNormaliser reads of one order.
// https://shopify.dev/docs/api/admin-graphql/latest/queries/order and objects/Order, LineItem,
// Refund, RefundLineItem, MoneyBag.
constexpr const char* kFetchOrder = R"(query LoyaltydReconcileOrder($id: ID!) {
  order(id: $id) {
    id name email phone createdAt updatedAt cancelledAt test taxesIncluded currencyCode
    displayFinancialStatus displayFulfillmentStatus discountCodes
    customAttributes { key value }
    customerJourneySummary { firstVisit { landingPage } }
    customer { id email firstName lastName phone tags }
    shippingAddress { address1 address2 city provinceCode zip countryCodeV2 phone }
    billingAddress { phone }
    subtotalPriceSet { shopMoney { amount currencyCode } }
    totalPriceSet { shopMoney { amount currencyCode } }
    totalTaxSet { shopMoney { amount currencyCode } }
    totalDiscountsSet { shopMoney { amount currencyCode } }
    totalShippingPriceSet { shopMoney { amount currencyCode } }
    lineItems(first: 100) {
      nodes {
        id sku title vendor quantity isGiftCard requiresShipping
        product { id }
        variant { id }
        originalUnitPriceSet { shopMoney { amount currencyCode } }
        discountAllocations { allocatedAmountSet { shopMoney { amount currencyCode } } }
        taxLines { priceSet { shopMoney { amount currencyCode } } }
      }
      pageInfo { hasNextPage }
    }
    refunds(first: 20) {
      id createdAt
      refundLineItems(first: 20) {
        nodes {
          lineItem { id isGiftCard }
          quantity
          subtotalSet { shopMoney { amount currencyCode } }
          totalTaxSet { shopMoney { amount currencyCode } }
        }
        pageInfo { hasNextPage }
      }
    }
  }
})";
constexpr size_t kMaxRefunds = 20;

// The numeric id of a global id ("gid://shopify/Order/5123456789012345678" -> that number as
// decimal text); "" when the value is not such a gid. Kept as text: ids exceed 2^53.
std::string GidNumber(const json& value) {
  if (!value.is_string()) return "";
  const std::string& gid = value.get_ref<const std::string&>();
  const size_t slash = gid.rfind('/');
  if (gid.rfind("gid://shopify/", 0) != 0 || slash == std::string::npos) return "";
  std::string number = gid.substr(slash + 1);
  const size_t query = number.find('?');  // some gids carry parameters
  if (query != std::string::npos) number.resize(query);
  const bool digits = !number.empty() && number.size() <= 20 &&
                      std::all_of(number.begin(), number.end(),
                                  [](unsigned char c) { return std::isdigit(c) != 0; });
  return digits ? number : "";
}

// The REST id: a JSON integer, exact for every 64-bit id (nlohmann keeps uint64 as such).
json RestId(const json& gid) {
  const std::string number = GidNumber(gid);
  if (number.empty()) return nullptr;
  try {
    return json(static_cast<uint64_t>(std::stoull(number)));
  } catch (const std::exception&) {
    return nullptr;  // above 2^64: not a Shopify id
  }
}

std::string Str(const json& obj, const char* key) {
  if (!obj.is_object()) return "";
  const auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

const json& Child(const json& obj, const char* key) {
  static const json kNull;
  if (!obj.is_object()) return kNull;
  const auto it = obj.find(key);
  return it == obj.end() ? kNull : *it;
}

// A MoneyBag {shopMoney {amount, currencyCode}} as REST's {shop_money {amount,
// currency_code}}: the decimal string is copied as it is, never through a double.
json RestMoneySet(const json& bag) {
  const json& money = Child(bag, "shopMoney");
  if (!money.is_object()) return nullptr;
  return {{"shop_money",
           {{"amount", Child(money, "amount")}, {"currency_code", Child(money, "currencyCode")}}}};
}

std::string LowerCase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

OrderState StateOf(const json& node) {
  OrderState state;
  const std::string financial = Str(node, "displayFinancialStatus");
  // OrderDisplayFinancialStatus: an order that was paid is PAID, PARTIALLY_REFUNDED or
  // REFUNDED (https://shopify.dev/docs/api/admin-graphql/latest/enums/OrderDisplayFinancialStatus).
  state.paid = financial == "PAID" || financial == "PARTIALLY_REFUNDED" || financial == "REFUNDED";
  state.fulfilled = Str(node, "displayFulfillmentStatus") == "FULFILLED";
  state.cancelled = !Child(node, "cancelledAt").is_null() || financial == "REFUNDED";
  for (const json& refund : Child(node, "refunds").is_array() ? Child(node, "refunds") : json()) {
    const std::string id = GidNumber(Child(refund, "id"));
    if (!id.empty()) state.refund_ids.push_back(id);
  }
  return state;
}

std::string TopicFor(const json& node, const OrderState& state) {
  if (!Child(node, "cancelledAt").is_null()) return "orders/cancelled";
  return state.paid ? "orders/paid" : "orders/updated";
}

// The GraphQL Order as the REST Order resource of a webhook body (see the header). Sets
// `problem` when the order does not fit one query.
json RestOrder(const json& o, std::string* problem) {
  json rest = {
      {"id", RestId(Child(o, "id"))},
      {"admin_graphql_api_id", Child(o, "id")},
      {"name", Child(o, "name")},
      {"email", Child(o, "email")},
      {"phone", Child(o, "phone")},
      {"created_at", Child(o, "createdAt")},
      {"updated_at", Child(o, "updatedAt")},
      {"cancelled_at", Child(o, "cancelledAt")},
      {"test", Child(o, "test").is_boolean() ? Child(o, "test") : json(false)},
      {"taxes_included",
       Child(o, "taxesIncluded").is_boolean() ? Child(o, "taxesIncluded") : json(false)},
      {"currency", Child(o, "currencyCode")},
      {"financial_status", LowerCase(Str(o, "displayFinancialStatus"))},
      {"subtotal_price_set", RestMoneySet(Child(o, "subtotalPriceSet"))},
      {"total_price_set", RestMoneySet(Child(o, "totalPriceSet"))},
      {"total_tax_set", RestMoneySet(Child(o, "totalTaxSet"))},
      {"total_discounts_set", RestMoneySet(Child(o, "totalDiscountsSet"))},
      {"total_shipping_price_set", RestMoneySet(Child(o, "totalShippingPriceSet"))},
  };
  const std::string fulfillment = Str(o, "displayFulfillmentStatus");
  rest["fulfillment_status"] = fulfillment == "FULFILLED"             ? json("fulfilled")
                               : fulfillment == "PARTIALLY_FULFILLED" ? json("partial")
                                                                      : json(nullptr);
  json codes = json::array();
  for (const json& code :
       Child(o, "discountCodes").is_array() ? Child(o, "discountCodes") : json()) {
    if (code.is_string()) codes.push_back({{"code", code}});
  }
  rest["discount_codes"] = codes;
  json notes = json::array();
  for (const json& a :
       Child(o, "customAttributes").is_array() ? Child(o, "customAttributes") : json()) {
    notes.push_back({{"name", Child(a, "key")}, {"value", Child(a, "value")}});
  }
  rest["note_attributes"] = notes;
  rest["landing_site"] =
      Child(Child(Child(o, "customerJourneySummary"), "firstVisit"), "landingPage");

  const json& customer = Child(o, "customer");
  if (customer.is_object()) {
    std::string tags;
    for (const json& tag : Child(customer, "tags").is_array() ? Child(customer, "tags") : json()) {
      if (!tag.is_string()) continue;
      if (!tags.empty()) tags += ", ";
      tags += tag.get<std::string>();
    }
    rest["customer"] = {
        {"id", RestId(Child(customer, "id"))},        {"email", Child(customer, "email")},
        {"first_name", Child(customer, "firstName")}, {"last_name", Child(customer, "lastName")},
        {"phone", Child(customer, "phone")},          {"tags", tags}};
  }
  const json& shipping = Child(o, "shippingAddress");
  if (shipping.is_object()) {
    rest["shipping_address"] = {{"address1", Child(shipping, "address1")},
                                {"address2", Child(shipping, "address2")},
                                {"city", Child(shipping, "city")},
                                {"province_code", Child(shipping, "provinceCode")},
                                {"zip", Child(shipping, "zip")},
                                {"country_code", Child(shipping, "countryCodeV2")},
                                {"phone", Child(shipping, "phone")}};
  }
  const json& billing = Child(o, "billingAddress");
  if (billing.is_object()) rest["billing_address"] = {{"phone", Child(billing, "phone")}};

  const json& line_items = Child(o, "lineItems");
  if (Child(Child(line_items, "pageInfo"), "hasNextPage") == true) {
    *problem = "more than 100 line items";
  }
  json lines = json::array();
  for (const json& l :
       Child(line_items, "nodes").is_array() ? Child(line_items, "nodes") : json()) {
    json allocations = json::array();
    for (const json& a :
         Child(l, "discountAllocations").is_array() ? Child(l, "discountAllocations") : json()) {
      allocations.push_back({{"amount_set", RestMoneySet(Child(a, "allocatedAmountSet"))}});
    }
    json tax_lines = json::array();
    for (const json& t : Child(l, "taxLines").is_array() ? Child(l, "taxLines") : json()) {
      tax_lines.push_back({{"price_set", RestMoneySet(Child(t, "priceSet"))}});
    }
    lines.push_back({{"id", RestId(Child(l, "id"))},
                     {"product_id", RestId(Child(Child(l, "product"), "id"))},
                     {"variant_id", RestId(Child(Child(l, "variant"), "id"))},
                     {"sku", Child(l, "sku")},
                     {"title", Child(l, "title")},
                     {"vendor", Child(l, "vendor")},
                     {"quantity", Child(l, "quantity")},
                     {"gift_card", Child(l, "isGiftCard")},
                     {"requires_shipping", Child(l, "requiresShipping")},
                     {"price_set", RestMoneySet(Child(l, "originalUnitPriceSet"))},
                     {"discount_allocations", allocations},
                     {"tax_lines", tax_lines}});
  }
  rest["line_items"] = lines;

  json refunds = json::array();
  const json& refund_list = Child(o, "refunds");
  if (refund_list.is_array() && refund_list.size() >= kMaxRefunds) {
    *problem = "20 refunds or more";
  }
  for (const json& r : refund_list.is_array() ? refund_list : json()) {
    const json& refund_lines = Child(r, "refundLineItems");
    if (Child(Child(refund_lines, "pageInfo"), "hasNextPage") == true) {
      *problem = "a refund with more than 20 lines";
    }
    json rest_lines = json::array();
    for (const json& rl :
         Child(refund_lines, "nodes").is_array() ? Child(refund_lines, "nodes") : json()) {
      const json& item = Child(rl, "lineItem");
      rest_lines.push_back({{"line_item_id", RestId(Child(item, "id"))},
                            {"quantity", Child(rl, "quantity")},
                            {"subtotal_set", RestMoneySet(Child(rl, "subtotalSet"))},
                            {"total_tax_set", RestMoneySet(Child(rl, "totalTaxSet"))},
                            {"line_item", {{"gift_card", Child(item, "isGiftCard")}}}});
    }
    refunds.push_back({{"id", RestId(Child(r, "id"))},
                       {"created_at", Child(r, "createdAt")},
                       {"refund_line_items", rest_lines}});
  }
  rest["refunds"] = refunds;
  return rest;
}

}  // namespace

ShopifyOrderSource::ShopifyOrderSource(const ShopConfig& shop)
    : endpoint_path_("/admin/api/" + shop.api.api_version + "/graphql.json"),
      access_token_(shop.api.access_token),
      http_(std::make_unique<httplib::Client>(shop.api.base_url)) {
  const time_t timeout = shop.api.timeout_seconds > 0 ? shop.api.timeout_seconds : 10;
  http_->set_connection_timeout(timeout, 0);
  http_->set_read_timeout(timeout, 0);
  http_->set_write_timeout(timeout, 0);
  http_->set_keep_alive(true);
  http_->set_tcp_nodelay(true);
}

ShopifyOrderSource::~ShopifyOrderSource() = default;

OrderPage ShopifyOrderSource::ListOrders(int64_t since_ms, const std::string& cursor) {
  OrderPage page;
  try {
    json variables = {
        {"first", kPageSize},
        // Seconds resolution, inclusive: the reconciler's window overlaps the last run's.
        {"query",
         "updated_at:>='" + FormatIso8601Millis(since_ms - since_ms % 1000).substr(0, 19) + "Z'"},
        {"sortKey", "UPDATED_AT"}};
    if (!cursor.empty()) variables["after"] = cursor;
    shopify_internal::GraphqlOutcome out =
        shopify_internal::Execute(*http_, endpoint_path_, access_token_, kListOrders, variables);
    if (!out.ok()) {
      page.status = out.failure.status;
      page.retry_after_ms = out.failure.retry_after_ms;
      page.error_detail = out.failure.error_detail;
      return page;
    }
    const json& orders = out.data.at("orders");
    for (const json& edge : orders.at("edges")) {
      const json& node = edge.at("node");
      PlatformOrder order;
      order.platform_order_id = GidNumber(Child(node, "id"));
      if (order.platform_order_id.empty()) {
        page.status = FailedPrecondition("Shopify listed an order without a readable id");
        page.error_detail = node.dump().substr(0, 300);
        return page;
      }
      order.updated_at = Str(node, "updatedAt");
      Result<int64_t> updated = ParseIso8601Millis(std::string_view(order.updated_at));
      order.updated_at_ms = updated.ok() ? *updated : 0;
      order.state = StateOf(node);
      order.topic = TopicFor(node, order.state);
      page.orders.push_back(std::move(order));
    }
    const json& info = orders.at("pageInfo");
    if (info.at("hasNextPage").get<bool>()) {
      page.next_cursor = info.at("endCursor").get<std::string>();
      if (page.next_cursor.empty()) {
        page.status = FailedPrecondition("Shopify said there is a next page but gave no cursor");
      }
    }
  } catch (const std::exception& e) {
    page = OrderPage{};
    page.status = Unavailable("unexpected response from Shopify to the orders query");
    page.error_detail = e.what();
  }
  return page;
}

OrderBody ShopifyOrderSource::FetchOrderBody(const PlatformOrder& order) {
  OrderBody out;
  try {
    const json variables = {{"id", "gid://shopify/Order/" + order.platform_order_id}};
    shopify_internal::GraphqlOutcome result =
        shopify_internal::Execute(*http_, endpoint_path_, access_token_, kFetchOrder, variables);
    if (!result.ok()) {
      out.status = result.failure.status;
      out.retry_after_ms = result.failure.retry_after_ms;
      out.error_detail = result.failure.error_detail;
      return out;
    }
    const json& node = Child(result.data, "order");
    if (!node.is_object()) {
      out.status = FailedPrecondition("Shopify has no order " + order.platform_order_id +
                                      " any more (deleted since it was listed?)");
      return out;
    }
    std::string problem;
    const json rest = RestOrder(node, &problem);
    if (!problem.empty()) {
      out.status = FailedPrecondition("order " + order.platform_order_id + " has " + problem +
                                      ", more than one query reads; it is not reconciled");
      return out;
    }
    out.body = rest.dump();
  } catch (const std::exception& e) {
    out = OrderBody{};
    out.status = Unavailable("unexpected response from Shopify to the order query");
    out.error_detail = e.what();
  }
  return out;
}

}  // namespace loyaltyd
