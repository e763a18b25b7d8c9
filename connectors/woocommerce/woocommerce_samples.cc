#include "connectors/woocommerce/woocommerce_samples.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "core/money.h"

namespace loyaltyd {
namespace {

using nlohmann::json;

constexpr const char* kSite = "https://shop.example.com";

json Address(const WooCommerceSampleOptions& o, bool with_contact) {
  json address = {{"first_name", "Ada"}, {"last_name", "Lovelace"},
                  {"company", ""},       {"address_1", "12 St James's Square"},
                  {"address_2", ""},     {"city", "London"},
                  {"state", ""},         {"postcode", "SW1Y 4JH"},
                  {"country", "GB"}};
  if (with_contact) {
    address["email"] = o.email;
    address["phone"] = "+44 20 7946 0000";
  } else {
    address["phone"] = "";
  }
  return address;
}

json Links(const std::string& collection, uint64_t id, uint64_t customer_id) {
  json links = {{"self",
                 {{{"href", std::string(kSite) + "/wp-json/wc/v3/" + collection + "/" +
                                std::to_string(id)}}}},
                {"collection", {{{"href", std::string(kSite) + "/wp-json/wc/v3/" + collection}}}}};
  if (customer_id != 0) {
    links["customer"] = {
        {{"href", std::string(kSite) + "/wp-json/wc/v3/customers/" + std::to_string(customer_id)}}};
  }
  return links;
}

json SampleCustomer(const WooCommerceSampleOptions& o) {
  return {{"id", o.customer_id},
          {"date_created", "2026-01-01T09:00:00"},
          {"date_created_gmt", "2026-01-01T09:00:00"},
          {"date_modified", o.date_modified_gmt},
          {"date_modified_gmt", o.date_modified_gmt},
          {"email", o.email},
          {"first_name", "Ada"},
          {"last_name", "Lovelace"},
          {"role", "customer"},
          {"username", "ada"},
          {"billing", Address(o, true)},
          {"shipping", Address(o, false)},
          {"is_paying_customer", false},
          {"avatar_url", "https://secure.gravatar.com/avatar/?s=96&d=mm&r=g"},
          {"meta_data", json::array()},
          {"_links", Links("customers", o.customer_id, 0)}};
}

// Field names and shapes from WC_REST_Orders_V2_Controller::get_formatted_item_data and
// get_order_item_data (plugins/woocommerce/includes/rest-api/Controllers/Version2/
// class-wc-rest-orders-v2-controller.php); v3 adds currency_symbol.
json SampleOrder(const WooCommerceSampleOptions& o, const std::string& status, double price,
                 const std::string& zero) {
  const std::string paid =
      status == "processing" || status == "completed" ? "2026-01-01T10:00:04" : std::string();
  json order = {
      {"id", o.order_id},
      {"parent_id", 0},
      {"status", status},
      {"currency", o.currency},
      {"version", "9.8.5"},
      {"prices_include_tax", false},
      {"date_created", "2026-01-01T10:00:00"},
      {"date_modified", o.date_modified_gmt},
      {"discount_total", zero},
      {"discount_tax", zero},
      {"shipping_total", zero},
      {"shipping_tax", zero},
      {"cart_tax", zero},
      {"total", o.subtotal},
      {"total_tax", zero},
      {"customer_id", o.customer_id},
      {"order_key", "wc_order_Qx7lVb3sZ0pQe"},
      {"billing", Address(o, true)},
      {"shipping", Address(o, false)},
      {"payment_method", "stripe"},
      {"payment_method_title", "Credit card"},
      {"transaction_id", paid.empty() ? "" : "ch_3Q0demo"},
      {"customer_ip_address", "203.0.113.7"},
      {"customer_user_agent", "Mozilla/5.0 (X11; Linux x86_64)"},
      {"created_via", "checkout"},
      {"customer_note", ""},
      {"date_completed", status == "completed" ? json("2026-01-01T10:00:05") : json(nullptr)},
      {"date_paid", paid.empty() ? json(nullptr) : json(paid)},
      {"cart_hash", "5e0b9d1c6f6e6d1f7f1c3c9a3b2e1f00"},
      {"number", std::to_string(o.order_id)},
      {"meta_data",
       {{{"id", 901}, {"key", "_wc_order_attribution_source_type"}, {"value", "typein"}}}},
      {"line_items",
       {{{"id", o.order_id + 1},
         // Non-ASCII on purpose: WooCommerce sends it as \u00e9.
         {"name", "Caf\u00e9 T-shirt - M"},
         {"product_id", 93},
         {"variation_id", 95},
         {"quantity", 1},
         {"tax_class", ""},
         {"subtotal", o.subtotal},
         {"subtotal_tax", zero},
         {"total", o.subtotal},
         {"total_tax", zero},
         {"taxes", json::array()},
         {"meta_data",
          {{{"id", 902},
            {"key", "pa_size"},
            {"value", "m"},
            {"display_key", "Size"},
            {"display_value", "M"}}}},
         {"sku", "LOYAL-TEE-M"},
         // A PHP float (total / quantity): never read for money.
         {"price", price},
         {"image",
          {{"id", 94}, {"src", std::string(kSite) + "/wp-content/uploads/2026/01/tee.jpg"}}},
         {"parent_name", "Caf\u00e9 T-shirt"}}}},
      {"tax_lines", json::array()},
      {"shipping_lines", json::array()},
      {"fee_lines", json::array()},
      {"coupon_lines", json::array()},
      {"refunds", json::array()},
      {"payment_url", std::string(kSite) + "/checkout/order-pay/" + std::to_string(o.order_id) +
                          "/?pay_for_order=true&key=wc_order_Qx7lVb3sZ0pQe"},
      {"is_editable", status == "pending" || status == "on-hold"},
      {"needs_payment", status == "pending"},
      {"needs_processing", true},
      {"date_created_gmt", "2026-01-01T10:00:00"},
      {"date_modified_gmt", o.date_modified_gmt},
      {"date_completed_gmt", status == "completed" ? json("2026-01-01T10:00:05") : json(nullptr)},
      {"date_paid_gmt", paid.empty() ? json(nullptr) : json(paid)},
      {"currency_symbol", o.currency == "USD" ? "$" : o.currency},
      {"_links", Links("orders", o.order_id, o.customer_id)}};
  return order;
}

}  // namespace

std::string WooCommerceEscapeSlashes(std::string_view json_text) {
  std::string out;
  out.reserve(json_text.size() + json_text.size() / 16);
  for (char c : json_text) {
    if (c == '/') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

std::vector<std::string> WooCommerceSampleTopics() {
  return {"order.created",  "order.updated",    "order.deleted",
          "order.restored", "customer.created", "customer.updated"};
}

Result<std::string> WooCommerceSampleBody(std::string_view topic,
                                          const WooCommerceSampleOptions& options) {
  const std::vector<std::string> topics = WooCommerceSampleTopics();
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

  WooCommerceSampleOptions normalised = options;
  // wc_format_decimal with the store's decimals: "49.00", JPY "4900".
  normalised.subtotal = FormatMinor(*subtotal, *exponent);
  json body;
  if (topic.starts_with("customer.")) {
    if (options.customer_id == 0) return InvalidArgument("customer topics need a customer id");
    body = SampleCustomer(normalised);
  } else if (topic == "order.deleted") {
    // WC_Webhook::build_payload: a deleted resource is just its id.
    body = {{"id", options.order_id}};
  } else {
    std::string status = options.status;
    if (status.empty()) status = topic == "order.created" ? "pending" : "processing";
    double price = static_cast<double>(*subtotal);
    for (int i = 0; i < *exponent; ++i) price /= 10;
    body = SampleOrder(normalised, status, price, FormatMinor(0, *exponent));
  }
  // wp_json_encode: \uXXXX for non-ASCII, "\/" for "/".
  return WooCommerceEscapeSlashes(body.dump(-1, ' ', /*ensure_ascii=*/true));
}

}  // namespace loyaltyd
