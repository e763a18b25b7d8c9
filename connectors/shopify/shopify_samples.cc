#include "connectors/shopify/shopify_samples.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "core/money.h"

namespace loyaltyd {
namespace {

using nlohmann::json;

json MoneySet(const std::string& amount, const std::string& currency) {
  const json money = {{"amount", amount}, {"currency_code", currency}};
  return {{"shop_money", money}, {"presentment_money", money}};
}

json SampleCustomer(const ShopifySampleOptions& o) {
  return {{"id", o.customer_id},
          {"admin_graphql_api_id", "gid://shopify/Customer/" + std::to_string(o.customer_id)},
          {"email", o.email},
          {"first_name", "Ada"},
          {"last_name", "Lovelace"},
          {"state", "enabled"},
          {"verified_email", true},
          {"tags", ""},
          {"currency", o.currency},
          {"created_at", "2026-01-01T09:00:00-05:00"},
          {"updated_at", "2026-01-01T09:00:00-05:00"}};
}

// Field names and shapes from https://shopify.dev/docs/api/admin-rest/latest/resources/order
// and the orders/paid example payload in https://shopify.dev/docs/api/webhooks.
json SampleOrder(std::string_view topic, const ShopifySampleOptions& o, const std::string& zero) {
  const std::string id = std::to_string(o.order_id);
  json order = {
      {"id", o.order_id},
      {"admin_graphql_api_id", "gid://shopify/Order/" + id},
      {"name", "#" + std::to_string(1001 + o.order_id % 100000)},
      {"order_number", 1001 + o.order_id % 100000},
      {"email", o.email},
      {"contact_email", o.email},
      {"currency", o.currency},
      {"presentment_currency", o.currency},
      {"financial_status", topic == "orders/create" ? "pending" : "paid"},
      {"fulfillment_status", nullptr},
      {"taxes_included", false},
      {"test", false},
      {"cancelled_at", nullptr},
      {"cancel_reason", nullptr},
      {"created_at", "2026-01-01T10:00:00-05:00"},
      {"updated_at", "2026-01-01T10:00:05-05:00"},
      {"subtotal_price", o.subtotal},
      {"subtotal_price_set", MoneySet(o.subtotal, o.currency)},
      {"total_line_items_price", o.subtotal},
      {"total_line_items_price_set", MoneySet(o.subtotal, o.currency)},
      {"total_price", o.subtotal},
      {"total_price_set", MoneySet(o.subtotal, o.currency)},
      {"total_tax", zero},
      {"total_tax_set", MoneySet(zero, o.currency)},
      {"total_discounts", zero},
      {"total_discounts_set", MoneySet(zero, o.currency)},
      {"total_shipping_price_set", MoneySet(zero, o.currency)},
      {"discount_codes", json::array()},
      {"line_items",
       {{{"id", o.order_id + 1},
         {"admin_graphql_api_id", "gid://shopify/LineItem/" + std::to_string(o.order_id + 1)},
         {"product_id", 632910392},
         {"variant_id", 808950810},
         {"sku", "LOYAL-TEE-M"},
         {"title", "Loyalty T-shirt"},
         {"variant_title", "M"},
         {"vendor", "loyaltyd demo"},
         {"quantity", 1},
         {"price", o.subtotal},
         {"price_set", MoneySet(o.subtotal, o.currency)},
         {"total_discount", zero},
         {"total_discount_set", MoneySet(zero, o.currency)},
         {"gift_card", false},
         {"requires_shipping", true},
         {"taxable", true},
         {"discount_allocations", json::array()},
         {"tax_lines", json::array()}}}},
      {"shipping_lines", json::array()},
      {"refunds", json::array()}};
  // Guest orders carry no `customer` key at all (../shared/PLATFORM-NOTES.md).
  if (o.customer_id != 0) order["customer"] = SampleCustomer(o);
  if (topic == "orders/cancelled") {
    order["cancelled_at"] = "2026-01-01T11:00:00-05:00";
    order["cancel_reason"] = "customer";
    order["financial_status"] = "voided";
  }
  return order;
}

}  // namespace

std::vector<std::string> ShopifySampleTopics() {
  return {"orders/create",    "orders/paid",      "orders/updated",
          "orders/cancelled", "customers/create", "customers/update"};
}

Result<std::string> ShopifySampleBody(std::string_view topic, const ShopifySampleOptions& options) {
  const std::vector<std::string> topics = ShopifySampleTopics();
  if (std::find(topics.begin(), topics.end(), topic) == topics.end()) {
    std::string known;
    for (const std::string& t : topics) known += (known.empty() ? "" : ", ") + t;
    return InvalidArgument("no sample for topic '" + std::string(topic) + "'; samples: " + known);
  }
  Result<int> exponent = CurrencyExponent(options.currency);
  if (!exponent.ok()) return exponent.status();
  Result<int64_t> subtotal = ParseDecimalToMinor(options.subtotal, *exponent);
  if (!subtotal.ok()) {
    return InvalidArgument("subtotal '" + options.subtotal + "' is not an amount in " +
                           options.currency + ": " + subtotal.status().message());
  }
  if (*subtotal < 0) return InvalidArgument("subtotal must not be negative");
  // Shopify writes amounts with the currency's decimals ("49.00", JPY "4900").
  const std::string subtotal_text = FormatMinor(*subtotal, *exponent);
  const std::string zero = FormatMinor(0, *exponent);

  ShopifySampleOptions normalised = options;
  normalised.subtotal = subtotal_text;
  if (topic.starts_with("customers/")) {
    if (options.customer_id == 0) return InvalidArgument("customer topics need a customer id");
    return SampleCustomer(normalised).dump();
  }
  return SampleOrder(topic, normalised, zero).dump();
}

}  // namespace loyaltyd
