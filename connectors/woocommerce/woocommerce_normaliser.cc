#include "connectors/woocommerce/woocommerce_normaliser.h"

#include <algorithm>
#include <iterator>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "connectors/common/payload_reader.h"
#include "core/money.h"

namespace loyaltyd {
namespace {

using nlohmann::json;
using payload::CheckedAdd;
using payload::CheckedSub;
using payload::Fail;
using payload::Field;
using payload::Flag;
using payload::PayloadError;
using payload::Text;

// A WooCommerce id as decimal text. WooCommerce writes ids as JSON integers; 0 means "none"
// (a guest's customer_id, a deleted product's product_id) and gives "".
std::string IdText(const json& obj, const char* key, const std::string& path, bool required) {
  const json* v = Field(obj, key);
  std::string text;
  if (v == nullptr) {
    if (required) Fail(path + key, "missing");
    return "";
  }
  if (v->is_number_unsigned()) {
    text = std::to_string(v->get<uint64_t>());
  } else if (v->is_number_integer() && v->get<int64_t>() >= 0) {
    text = std::to_string(v->get<int64_t>());
  } else if (v->is_string() && !v->get_ref<const std::string&>().empty() &&
             v->get_ref<const std::string&>().find_first_not_of("0123456789") ==
                 std::string::npos) {
    text = v->get<std::string>();
  } else {
    Fail(path + key, "must be an integer id");
  }
  if (text.find_first_not_of('0') == std::string::npos) {
    if (required) Fail(path + key, "must not be 0");
    return "";
  }
  return text;
}

// "<date>Z" from a *_gmt field (WooCommerce writes "2026-01-01T10:00:05", UTC without a
// designator), else the site-local field as sent.
std::string Timestamp(const json& obj, const char* gmt_key, const char* local_key) {
  const std::string gmt = Text(obj, gmt_key);
  if (!gmt.empty()) return gmt.back() == 'Z' ? gmt : gmt + "Z";
  return Text(obj, local_key);
}

// Reads decimal-string amounts in the order's currency (wc_format_decimal output). An integer
// JSON number is exact and accepted; a float is refused: it may already have lost cents.
class MoneyReader {
 public:
  explicit MoneyReader(int exponent) : exponent_(exponent) {}

  int64_t Read(const json& obj, const char* key, const std::string& path, bool required) const {
    const json* v = Field(obj, key);
    if (v == nullptr) {
      if (required) Fail(path + key, "missing");
      return 0;
    }
    std::string text;
    if (v->is_string()) {
      text = v->get<std::string>();
    } else if (v->is_number_unsigned()) {
      text = std::to_string(v->get<uint64_t>());
    } else if (v->is_number_integer()) {
      text = std::to_string(v->get<int64_t>());
    } else {
      Fail(path + key, "must be a decimal string such as \"10.00\"");
    }
    Result<int64_t> minor = ParseDecimalToMinor(text, exponent_);
    if (!minor.ok()) Fail(path + key, minor.status().message());
    return *minor;
  }

 private:
  int exponent_;
};

bool IsCancelledStatus(const std::string& status) {
  return status == "cancelled" || status == "refunded" || status == "failed" || status == "trash";
}

FinancialStatus ParseFinancialStatus(const std::string& status, bool has_refunds) {
  if (status == "pending" || status == "on-hold" || status == "checkout-draft") {
    return FinancialStatus::kPending;
  }
  if (status == "processing" || status == "completed") {
    return has_refunds ? FinancialStatus::kPartiallyRefunded : FinancialStatus::kPaid;
  }
  if (status == "refunded") return FinancialStatus::kRefunded;
  if (status == "cancelled" || status == "failed") return FinancialStatus::kVoided;
  return FinancialStatus::kUnknown;
}

LineItem ReadLineItem(const json& line, const std::string& path, const MoneyReader& money,
                      bool taxes_included) {
  LineItem item;
  item.platform_line_id = IdText(line, "id", path, true);
  item.product_id = IdText(line, "product_id", path, false);
  item.variant_id = IdText(line, "variation_id", path, false);
  item.sku = Text(line, "sku");
  item.title = Text(line, "name");
  const json* quantity = Field(line, "quantity");
  if (quantity == nullptr || !quantity->is_number_integer() || quantity->get<int64_t>() < 0) {
    Fail(path + "quantity", "must be a non-negative integer");
  }
  item.quantity = quantity->get<int64_t>();
  // Never `price`: it is total / quantity as a PHP float.
  const int64_t subtotal = money.Read(line, "subtotal", path, true);
  const int64_t subtotal_tax = money.Read(line, "subtotal_tax", path, false);
  const int64_t total = money.Read(line, "total", path, true);
  const int64_t total_tax = money.Read(line, "total_tax", path, false);
  item.tax_minor = total_tax;
  if (taxes_included) {
    item.gross_minor = CheckedAdd(subtotal, subtotal_tax, path + "subtotal");
    item.discount_minor =
        CheckedSub(item.gross_minor, CheckedAdd(total, total_tax, path + "total"), path + "total");
  } else {
    item.gross_minor = subtotal;
    item.discount_minor = CheckedSub(subtotal, total, path + "total");
  }
  return item;
}

Refund ReadRefund(const json& r, const std::string& path, const MoneyReader& money) {
  Refund refund;
  refund.platform_refund_id = IdText(r, "id", path, true);
  // WooCommerce writes the refunded amount negated: "-" . wc_format_decimal(amount).
  const int64_t total = money.Read(r, "total", path, true);
  refund.amount_minor = total < 0 ? -total : total;
  return refund;
}

// The facts referral attribution and its fraud guards read (issue 5), from the REST v3 order
// (https://woocommerce.github.io/woocommerce-rest-api-docs/#order-properties; built by
// WC_REST_Orders_V2_Controller::get_formatted_item_data):
//   - coupon_lines[] {id, code, discount, discount_tax, meta_data}: the codes applied, as
//     WooCommerce stores them (lower-cased);
//   - meta_data[] {id, key, value}: the order's meta, where a storefront plugin puts a ref it
//     captured. value is whatever PHP stored (string, number, array, object); only strings
//     and numbers are names a code can be looked up by. Only the order's own meta_data is
//     read, never line_items[].meta_data (product options such as "pa_size") or
//     coupon_lines[].meta_data;
//   - billing {..., email, phone} and shipping {first_name, ..., address_1, address_2, city,
//     state, postcode, country, phone}; shipping.phone exists since WooCommerce 5.6
//     (woocommerce/woocommerce#30097). An order that ships nothing still has a shipping
//     block, its fields "".
// WooCommerce has no landing page on the order: landing_site stays "". Every fact is optional:
// a value of another shape than documented is skipped, never a reason to refuse the order.
void ReadAttributionFacts(const json& o, Order& order) {
  if (const json* coupons = Field(o, "coupon_lines"); coupons != nullptr && coupons->is_array()) {
    for (const json& coupon : *coupons) {
      std::string code = Text(coupon, "code");
      if (!code.empty()) order.discount_codes.push_back(std::move(code));
    }
  }
  if (const json* meta = Field(o, "meta_data"); meta != nullptr && meta->is_array()) {
    for (const json& entry : *meta) {
      OrderAttribute attribute;
      attribute.name = Text(entry, "key");
      const json* value = Field(entry, "value");
      if (attribute.name.empty() || value == nullptr) continue;
      if (payload::ScalarText(*value, &attribute.value)) {
        order.attributes.push_back(std::move(attribute));
      }
    }
  }

  const json* billing = Field(o, "billing");
  const json* shipping = Field(o, "shipping");
  if (billing != nullptr) order.phone = Text(*billing, "phone");
  if (order.phone.empty() && shipping != nullptr) order.phone = Text(*shipping, "phone");

  if (shipping != nullptr) {
    Address address;
    address.address1 = Text(*shipping, "address_1");
    if (!address.address1.empty()) {
      address.address2 = Text(*shipping, "address_2");
      address.city = Text(*shipping, "city");
      address.province_code = Text(*shipping, "state");  // a state code: "CA", "ON"
      address.zip = Text(*shipping, "postcode");
      address.country_code = Text(*shipping, "country");  // ISO 3166-1 alpha-2
      order.shipping_address = std::move(address);
    }
  }
}

Order ReadOrder(const json& o) {
  Order order;
  order.platform_order_id = IdText(o, "id", "", true);
  const std::string number = Text(o, "number");
  order.name = "#" + (number.empty() ? order.platform_order_id : number);
  // WooCommerce has one store currency; an order's `currency` is what it was placed in.
  order.currency = Text(o, "currency");
  if (order.currency.empty()) Fail("currency", "missing");
  Result<int> exponent = CurrencyExponent(order.currency);
  if (!exponent.ok()) Fail("currency", exponent.status().message());
  const MoneyReader money(*exponent);

  const std::string status = Text(o, "status");
  if (status.empty()) Fail("status", "missing");
  order.taxes_included = Flag(o, "prices_include_tax", false);
  order.cancelled = status == "cancelled" || status == "failed" || status == "trash";
  // "completed": order fulfilled and complete (WooCommerce's OrderStatus::COMPLETED).
  order.fulfilled = status == "completed";
  order.created_at = Timestamp(o, "date_created_gmt", "date_created");
  order.updated_at = Timestamp(o, "date_modified_gmt", "date_modified");
  order.total_minor = money.Read(o, "total", "", true);
  order.total_tax_minor = money.Read(o, "total_tax", "", false);
  order.total_discounts_minor = money.Read(o, "discount_total", "", false);
  order.total_shipping_minor = money.Read(o, "shipping_total", "", false);

  // The order's contact is its billing address; guests (customer_id 0) have nothing else.
  if (const json* billing = Field(o, "billing")) order.email = Text(*billing, "email");
  const std::string customer_id = IdText(o, "customer_id", "", false);
  if (!customer_id.empty()) {
    Customer customer;
    customer.platform_customer_id = customer_id;
    // The payload has no account email, only billing.email (order.email); the account's email
    // arrives with customer.* topics.
    if (const json* billing = Field(o, "billing")) {
      customer.first_name = Text(*billing, "first_name");
      customer.last_name = Text(*billing, "last_name");
    }
    order.customer = std::move(customer);
  }
  ReadAttributionFacts(o, order);

  const json* lines = Field(o, "line_items");
  if (lines == nullptr) Fail("line_items", "missing");
  if (!lines->is_array()) Fail("line_items", "must be an array");
  for (size_t i = 0; i < lines->size(); ++i) {
    const std::string path = "line_items[" + std::to_string(i) + "].";
    order.line_items.push_back(ReadLineItem((*lines)[i], path, money, order.taxes_included));
    const int64_t subtotal = money.Read((*lines)[i], "subtotal", path, true);
    order.subtotal_minor = CheckedAdd(order.subtotal_minor, subtotal, path + "subtotal");
  }
  if (const json* refunds = Field(o, "refunds")) {
    if (!refunds->is_array()) Fail("refunds", "must be an array");
    for (size_t i = 0; i < refunds->size(); ++i) {
      order.refunds.push_back(
          ReadRefund((*refunds)[i], "refunds[" + std::to_string(i) + "].", money));
    }
  }
  order.financial_status = ParseFinancialStatus(status, !order.refunds.empty());
  return order;
}

Customer ReadCustomer(const json& c) {
  Customer customer;
  customer.platform_customer_id = IdText(c, "id", "", true);
  customer.email = Text(c, "email");
  // The registered account's own email (the WP user's user_email), unlike the billing address
  // below or an order's billing.email; WooCommerce verifies neither
  // (https://woocommerce.github.io/woocommerce-rest-api-docs/#customer-properties), so the
  // ledger trusts it only under program.shared_trust_woocommerce_email.
  customer.email_verified = !customer.email.empty();
  if (customer.email.empty()) {
    if (const json* billing = Field(c, "billing")) customer.email = Text(*billing, "email");
  }
  customer.first_name = Text(c, "first_name");
  customer.last_name = Text(c, "last_name");
  // The account has no phone of its own: the customer's saved billing address holds it.
  if (const json* billing = Field(c, "billing")) customer.phone = Text(*billing, "phone");
  return customer;
}

// Every key the readers above look at, at any depth. Parsing builds only these (_links,
// tax_lines, shipping_lines and the like are skipped). A key is kept at every depth whose
// parent is kept: line_items[].meta_data and coupon_lines[].meta_data are built too and never
// read, and the money readers still see only their own keys ("total" of refunds and lines,
// never coupon_lines[].discount, which is not listed). Sorted for search.
constexpr std::string_view kKeysRead[] = {
    "address_1",
    "address_2",
    "billing",
    "city",
    "code",
    "country",
    "coupon_lines",
    "currency",
    "customer_id",
    "date_created",
    "date_created_gmt",
    "date_modified",
    "date_modified_gmt",
    "discount_total",
    "email",
    "first_name",
    "id",
    "key",
    "last_name",
    "line_items",
    "meta_data",
    "name",
    "number",
    "phone",
    "postcode",
    "prices_include_tax",
    "product_id",
    "quantity",
    "refunds",
    "shipping",
    "shipping_total",
    "sku",
    "state",
    "status",
    "subtotal",
    "subtotal_tax",
    "total",
    "total_tax",
    "value",
    "variation_id",
};

// binary_search in ParseKeepingKeys silently misses keys of an unsorted list.
static_assert(std::is_sorted(std::begin(kKeysRead), std::end(kKeysRead)));

// What an order event means, from the order's status (see the header).
OrderEventKind KindFor(const ShopConfig& shop, std::string_view topic, const std::string& status) {
  if (std::find(shop.earn_on_status.begin(), shop.earn_on_status.end(), status) !=
      shop.earn_on_status.end()) {
    return OrderEventKind::kPaid;
  }
  if (IsCancelledStatus(status)) return OrderEventKind::kCancelled;
  return topic == "order.created" ? OrderEventKind::kCreated : OrderEventKind::kUpdated;
}

}  // namespace

Result<NormalisedEvent> WooCommerceNormaliser::Normalise(const ShopConfig& shop,
                                                         std::string_view topic,
                                                         std::string_view body) const {
  const bool is_order =
      topic == "order.created" || topic == "order.updated" || topic == "order.restored";
  const bool is_customer = topic == "customer.created" || topic == "customer.updated";
  if (topic == "customer.deleted") {
    // WooCommerce core has no privacy topics; a deleted customer (WP user) is its nearest
    // equivalent of Shopify's customers/redact and is redacted here the same way. The body of
    // a *.deleted delivery is only {"id": N} (WC_Webhook::build_payload). Redaction keeps the
    // ledger amounts under an anonymous key (docs/operations.md, "Privacy").
    try {
      const json root = json::parse(body);
      if (!root.is_object()) return InvalidArgument("body must be a JSON object");
      PrivacyEvent event;
      event.kind = PrivacyEvent::Kind::kCustomerRedact;
      event.platform_customer_id = IdText(root, "id", "", true);
      if (event.platform_customer_id.empty()) return InvalidArgument("id: must not be 0");
      return NormalisedEvent(std::move(event));
    } catch (const PayloadError& error) {
      return InvalidArgument(error.message);
    } catch (const json::exception& error) {
      return InvalidArgument(std::string("malformed JSON: ") + error.what());
    }
  }
  if (!is_order && !is_customer && topic != "order.deleted") {
    return NormalisedEvent(
        IgnoredEvent{"topic '" + std::string(topic) + "' has no effect on the ledger"});
  }

  try {
    json root;
    try {
      root = payload::ParseKeepingKeys(body, kKeysRead);
    } catch (const json::exception& error) {
      // parse_error, and out_of_range for a number beyond a double ("1e400"): both mean the
      // body is not JSON loyaltyd can read.
      return InvalidArgument(std::string("malformed JSON: ") + error.what());
    }
    if (!root.is_object()) return InvalidArgument("body must be a JSON object");
    if (topic == "order.deleted") {
      return NormalisedEvent(IgnoredEvent{
          "order " + IdText(root, "id", "", true) +
          " was trashed or deleted; the body carries only its id, so nothing is recorded "
          "(order.restored brings it back)"});
    }
    if (is_customer) return NormalisedEvent(CustomerEvent{ReadCustomer(root)});
    Order order = ReadOrder(root);
    const OrderEventKind kind = KindFor(shop, topic, Text(root, "status"));
    return NormalisedEvent(OrderEvent{kind, std::move(order)});
  } catch (const PayloadError& error) {
    return InvalidArgument(error.message);
  } catch (const json::exception& error) {
    // A field of an unexpected JSON type that the readers above did not anticipate.
    return InvalidArgument(std::string("unexpected payload shape: ") + error.what());
  }
}

}  // namespace loyaltyd
