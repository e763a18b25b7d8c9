#include "connectors/shopify/shopify_normaliser.h"

#include <algorithm>
#include <iterator>
#include <optional>
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
using payload::Fail;
using payload::Field;
using payload::Flag;
using payload::PayloadError;
using payload::Text;

// A Shopify id as exact decimal text. nlohmann keeps integer literals as 64-bit integers, so an
// id above 2^53 survives; a float id would already have lost digits and is refused.
std::string IdText(const json& obj, const char* key, const std::string& path, bool required) {
  const json* v = Field(obj, key);
  if (v == nullptr) {
    if (required) Fail(path + key, "missing");
    return "";
  }
  if (v->is_number_unsigned()) return std::to_string(v->get<uint64_t>());
  if (v->is_number_integer()) return std::to_string(v->get<int64_t>());
  if (v->is_string()) {
    const std::string text = v->get<std::string>();
    if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos) return text;
  }
  Fail(path + key, "must be an integer id");
}

// The text of an amount. Shopify sends decimal strings; refund line subtotals are JSON numbers.
// An integer number is exact; a float is taken in nlohmann's shortest round-trip form ("10.5"),
// which is the literal Shopify wrote for the amounts it sends as numbers.
std::string AmountText(const json& v, const std::string& path) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_unsigned()) return std::to_string(v.get<uint64_t>());
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  if (v.is_number_float()) return v.dump();
  Fail(path, "must be a decimal amount");
}

// Reads money in the order's (shop) currency: `<key>_set.shop_money` when present, else the
// plain `<key>` field. Absent -> fallback, or an error when required.
class MoneyReader {
 public:
  MoneyReader(std::string currency, int exponent)
      : currency_(std::move(currency)), exponent_(exponent) {}

  int64_t Read(const json& obj, const std::string& key, const std::string& path, bool required,
               int64_t fallback = 0) const {
    if (const json* set = Field(obj, (key + "_set").c_str())) {
      if (const json* shop_money = Field(*set, "shop_money")) {
        const json* amount = Field(*shop_money, "amount");
        if (amount == nullptr) Fail(path + key + "_set.shop_money.amount", "missing");
        const std::string code = Text(*shop_money, "currency_code");
        if (!code.empty() && code != currency_) {
          Fail(path + key + "_set.shop_money.currency_code",
               "is " + code + " but the order's shop currency is " + currency_);
        }
        return Parse(*amount, path + key + "_set.shop_money.amount");
      }
    }
    const json* plain = Field(obj, key.c_str());
    if (plain == nullptr) {
      if (required) Fail(path + key, "missing");
      return fallback;
    }
    return Parse(*plain, path + key);
  }

 private:
  int64_t Parse(const json& v, const std::string& path) const {
    Result<int64_t> minor = ParseDecimalToMinor(AmountText(v, path), exponent_);
    if (!minor.ok()) Fail(path, minor.status().message());
    return *minor;
  }

  std::string currency_;
  int exponent_;
};

FinancialStatus ParseFinancialStatus(const std::string& s) {
  if (s == "pending") return FinancialStatus::kPending;
  if (s == "authorized") return FinancialStatus::kAuthorized;
  if (s == "paid") return FinancialStatus::kPaid;
  if (s == "partially_paid") return FinancialStatus::kPartiallyPaid;
  if (s == "partially_refunded") return FinancialStatus::kPartiallyRefunded;
  if (s == "refunded") return FinancialStatus::kRefunded;
  if (s == "voided") return FinancialStatus::kVoided;
  return FinancialStatus::kUnknown;
}

// Shopify keeps customer tags as one comma-separated string.
std::vector<std::string> SplitTags(const std::string& tags) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= tags.size()) {
    size_t comma = tags.find(',', start);
    if (comma == std::string::npos) comma = tags.size();
    std::string tag = tags.substr(start, comma - start);
    const size_t first = tag.find_first_not_of(" \t");
    const size_t last = tag.find_last_not_of(" \t");
    if (first != std::string::npos) out.push_back(tag.substr(first, last - first + 1));
    start = comma + 1;
  }
  return out;
}

Customer ReadCustomer(const json& c, const std::string& path) {
  Customer customer;
  customer.platform_customer_id = IdText(c, "id", path, true);
  customer.email = Text(c, "email");
  customer.first_name = Text(c, "first_name");
  customer.last_name = Text(c, "last_name");
  customer.tags = SplitTags(Text(c, "tags"));
  customer.phone = Text(c, "phone");
  // Whether the customer proved the address (shared membership: only a verified email joins
  // accounts of two stores). https://shopify.dev/docs/api/admin-rest/latest/resources/customer
  customer.email_verified = Flag(c, "verified_email", false) && !customer.email.empty();
  return customer;
}

// The facts referral attribution and its fraud guards read (issue 5), from the REST Order
// resource (https://shopify.dev/docs/api/admin-rest/latest/resources/order):
//   - discount_codes[] {code, amount, type}: the codes the buyer entered;
//   - landing_site: the path + query of the first page of the buyer's visit ("/?ref=ABC123";
//     older orders carry a full URL), where a share link's ref arrives;
//   - note_attributes[] {name, value}: cart attributes the storefront set (a ref captured by
//     the theme lands here);
//   - phone, customer.phone, and the addresses' phone; shipping_address {address1, address2,
//     city, province_code, zip, country_code, phone, ...}, absent for orders that ship nothing.
// Every one is optional: a value of another shape than documented is skipped, never a reason
// to refuse the order (which would cost the buyer the points the order earns).
void ReadAttributionFacts(const json& o, Order& order) {
  if (const json* codes = Field(o, "discount_codes"); codes != nullptr && codes->is_array()) {
    for (const json& code : *codes) {
      std::string text = Text(code, "code");
      if (!text.empty()) order.discount_codes.push_back(std::move(text));
    }
  }
  order.landing_site = Text(o, "landing_site");
  if (const json* notes = Field(o, "note_attributes"); notes != nullptr && notes->is_array()) {
    for (const json& note : *notes) {
      OrderAttribute attribute;
      attribute.name = Text(note, "name");
      const json* value = Field(note, "value");
      if (attribute.name.empty() || value == nullptr) continue;
      if (payload::ScalarText(*value, &attribute.value)) {
        order.attributes.push_back(std::move(attribute));
      }
    }
  }

  const json* customer = Field(o, "customer");
  const json* shipping = Field(o, "shipping_address");
  const json* billing = Field(o, "billing_address");
  order.phone = Text(o, "phone");
  for (const json* source : {customer, shipping, billing}) {
    if (!order.phone.empty()) break;
    if (source != nullptr) order.phone = Text(*source, "phone");
  }

  if (shipping != nullptr) {
    Address address;
    address.address1 = Text(*shipping, "address1");
    if (!address.address1.empty()) {
      address.address2 = Text(*shipping, "address2");
      address.city = Text(*shipping, "city");
      address.province_code = Text(*shipping, "province_code");
      address.zip = Text(*shipping, "zip");
      address.country_code = Text(*shipping, "country_code");
      order.shipping_address = std::move(address);
    }
  }
}

LineItem ReadLineItem(const json& line, const std::string& path, const MoneyReader& money) {
  LineItem item;
  item.platform_line_id = IdText(line, "id", path, true);
  item.product_id = IdText(line, "product_id", path, false);
  item.variant_id = IdText(line, "variant_id", path, false);
  item.sku = Text(line, "sku");
  item.title = Text(line, "title");
  item.vendor = Text(line, "vendor");
  const json* quantity = Field(line, "quantity");
  if (quantity == nullptr || !quantity->is_number_integer() || quantity->get<int64_t>() < 0) {
    Fail(path + "quantity", "must be a non-negative integer");
  }
  item.quantity = quantity->get<int64_t>();
  const int64_t unit_price = money.Read(line, "price", path, true);
  if (__builtin_mul_overflow(unit_price, item.quantity, &item.gross_minor)) {
    Fail(path + "price", "price times quantity overflows");
  }
  if (const json* allocations = Field(line, "discount_allocations")) {
    for (size_t i = 0; i < allocations->size(); ++i) {
      const std::string p = path + "discount_allocations[" + std::to_string(i) + "].";
      item.discount_minor =
          CheckedAdd(item.discount_minor, money.Read((*allocations)[i], "amount", p, true), p);
    }
  }
  if (const json* tax_lines = Field(line, "tax_lines")) {
    for (size_t i = 0; i < tax_lines->size(); ++i) {
      const std::string p = path + "tax_lines[" + std::to_string(i) + "].";
      item.tax_minor = CheckedAdd(item.tax_minor, money.Read((*tax_lines)[i], "price", p, true), p);
    }
  }
  item.is_gift_card = Flag(line, "gift_card", false);
  item.requires_shipping = Flag(line, "requires_shipping", true);
  return item;
}

Refund ReadRefund(const json& r, const std::string& path, const MoneyReader& money) {
  Refund refund;
  refund.platform_refund_id = IdText(r, "id", path, true);
  refund.created_at = Text(r, "created_at");
  if (const json* lines = Field(r, "refund_line_items")) {
    for (size_t i = 0; i < lines->size(); ++i) {
      const json& rl = (*lines)[i];
      const std::string p = path + "refund_line_items[" + std::to_string(i) + "].";
      RefundLine line;
      line.platform_line_id = IdText(rl, "line_item_id", p, true);
      const json* quantity = Field(rl, "quantity");
      line.quantity =
          quantity != nullptr && quantity->is_number_integer() ? quantity->get<int64_t>() : 0;
      line.subtotal_minor = money.Read(rl, "subtotal", p, false);
      line.tax_minor = money.Read(rl, "total_tax", p, false);
      if (const json* item = Field(rl, "line_item")) {
        line.is_gift_card = Flag(*item, "gift_card", false);
      }
      refund.lines.push_back(std::move(line));
    }
  }
  return refund;
}

// A refund sent on its own (refunds/create): the body is the REST Refund resource, with its
// order_id and refund_line_items[] (line_item_id, quantity, subtotal, total_tax, their *_set
// and the refunded line_item itself) — https://shopify.dev/api/admin-rest/2025-01/resources/refund
// and https://shopify.dev/docs/api/admin-graphql/latest/objects/RefundLineItem. It names no
// order currency: the shop currency is the one its line amounts give in shop_money.
Order ReadRefundOrder(const json& r) {
  Order order;
  order.platform_order_id = IdText(r, "order_id", "", true);
  const json* lines = Field(r, "refund_line_items");
  if (lines != nullptr && !lines->is_array()) Fail("refund_line_items", "must be an array");
  for (size_t i = 0; lines != nullptr && i < lines->size() && order.currency.empty(); ++i) {
    if (const json* set = Field((*lines)[i], "subtotal_set")) {
      if (const json* shop_money = Field(*set, "shop_money")) {
        order.currency = Text(*shop_money, "currency_code");
      }
    }
  }
  int exponent = 2;  // unused when the refund has no lines: nothing is read as money
  if (!order.currency.empty()) {
    Result<int> e = CurrencyExponent(order.currency);
    if (!e.ok())
      Fail("refund_line_items[0].subtotal_set.shop_money.currency_code", e.status().message());
    exponent = *e;
  } else if (lines != nullptr && !lines->empty()) {
    Fail("refund_line_items[0].subtotal_set.shop_money.currency_code",
         "missing: the shop currency of the refunded amounts is needed");
  }
  order.refunds.push_back(ReadRefund(r, "", MoneyReader(order.currency, exponent)));
  return order;
}

Order ReadOrder(const json& o) {
  Order order;
  order.platform_order_id = IdText(o, "id", "", true);
  order.name = Text(o, "name");
  // `currency` is the shop currency; `presentment_currency` is what the customer saw.
  order.currency = Text(o, "currency");
  if (order.currency.empty()) Fail("currency", "missing");
  Result<int> exponent = CurrencyExponent(order.currency);
  if (!exponent.ok()) Fail("currency", exponent.status().message());
  const MoneyReader money(order.currency, *exponent);

  order.taxes_included = Flag(o, "taxes_included", false);
  order.financial_status = ParseFinancialStatus(Text(o, "financial_status"));
  order.cancelled = Field(o, "cancelled_at") != nullptr;
  // null (nothing shipped), "partial" or "fulfilled" (every line shipped); "restocked" is a
  // cancelled order's. Shopify REST Admin API, Order resource.
  order.fulfilled = Text(o, "fulfillment_status") == "fulfilled";
  order.test = Flag(o, "test", false);
  order.created_at = Text(o, "created_at");
  order.updated_at = Text(o, "updated_at");
  order.subtotal_minor = money.Read(o, "subtotal_price", "", false);
  order.total_minor = money.Read(o, "total_price", "", false);
  order.total_tax_minor = money.Read(o, "total_tax", "", false);
  order.total_discounts_minor = money.Read(o, "total_discounts", "", false);
  if (Field(o, "total_shipping_price_set") != nullptr) {
    order.total_shipping_minor = money.Read(o, "total_shipping_price", "", false);
  } else if (const json* shipping = Field(o, "shipping_lines")) {
    for (size_t i = 0; i < shipping->size(); ++i) {
      const std::string p = "shipping_lines[" + std::to_string(i) + "].";
      order.total_shipping_minor =
          CheckedAdd(order.total_shipping_minor, money.Read((*shipping)[i], "price", p, false), p);
    }
  }

  order.email = Text(o, "email");
  if (order.email.empty()) order.email = Text(o, "contact_email");
  // Guest orders have no customer (the key is absent or null); a customer whose id is missing
  // (redacted) is treated as a guest too.
  if (const json* c = Field(o, "customer"); c != nullptr && Field(*c, "id") != nullptr) {
    order.customer = ReadCustomer(*c, "customer.");
  }
  ReadAttributionFacts(o, order);

  const json* lines = Field(o, "line_items");
  if (lines == nullptr) Fail("line_items", "missing");
  if (!lines->is_array()) Fail("line_items", "must be an array");
  for (size_t i = 0; i < lines->size(); ++i) {
    order.line_items.push_back(
        ReadLineItem((*lines)[i], "line_items[" + std::to_string(i) + "].", money));
  }
  if (const json* refunds = Field(o, "refunds")) {
    for (size_t i = 0; i < refunds->size(); ++i) {
      order.refunds.push_back(
          ReadRefund((*refunds)[i], "refunds[" + std::to_string(i) + "].", money));
    }
  }
  return order;
}

// Every key the readers above look at, at any depth. Parsing builds only these: an order
// payload is mostly fields loyaltyd never reads (presentment money, properties, fulfilments,
// the customer's saved addresses), and building them dominated the parse (bench/README.md).
// A key is kept at every depth whose parent is kept ("code" of shipping_lines[] is built too and
// never read); only the readers' paths give a key its meaning. Sorted for search.
constexpr std::string_view kKeysRead[] = {
    "address1",
    "address2",
    "amount",
    "amount_set",
    "billing_address",
    "cancelled_at",
    "city",
    "code",
    "contact_email",
    "country_code",
    "created_at",
    "currency",
    "currency_code",
    "customer",
    "discount_allocations",
    "discount_codes",
    "email",
    "financial_status",
    "first_name",
    "fulfillment_status",
    "gift_card",
    "id",
    "landing_site",
    "last_name",
    "line_item",
    "line_item_id",
    "line_items",
    "name",
    "note_attributes",
    "order_id",
    "phone",
    "price",
    "price_set",
    "product_id",
    "province_code",
    "quantity",
    "refund_line_items",
    "refunds",
    "requires_shipping",
    "shipping_address",
    "shipping_lines",
    "shop_money",
    "sku",
    "subtotal",
    "subtotal_price",
    "subtotal_price_set",
    "subtotal_set",
    "tags",
    "tax_lines",
    "taxes_included",
    "test",
    "title",
    "total_discounts",
    "total_discounts_set",
    "total_price",
    "total_price_set",
    "total_shipping_price",
    "total_shipping_price_set",
    "total_tax",
    "total_tax_set",
    "updated_at",
    "value",
    "variant_id",
    "vendor",
    "verified_email",
    "zip",
};

// binary_search in ParseKeepingKeys silently misses keys of an unsorted list.
static_assert(std::is_sorted(std::begin(kKeysRead), std::end(kKeysRead)));

// --- Privacy topics (issue 7) ---
// Shopify's mandatory compliance webhooks, as documented at
// https://shopify.dev/docs/apps/build/compliance/privacy-law-compliance:
//   customers/data_request {"shop_id", "shop_domain", "orders_requested": [ids],
//                           "customer": {"id", "email", "phone"}, "data_request": {"id"}}
//   customers/redact       {"shop_id", "shop_domain", "customer": {"id", "email", "phone"},
//                           "orders_to_redact": [ids]}
//   shop/redact            {"shop_id", "shop_domain"} (48 hours after the app is uninstalled)
// and app/uninstalled, whose body is the shop resource (nothing of it is needed). They are
// HMAC-signed like every webhook and verified the same way (a wrong signature is a 401).
// The bodies are small and every key matters, so they are parsed whole.
std::optional<PrivacyEvent::Kind> PrivacyKindOfShopifyTopic(std::string_view topic) {
  if (topic == "customers/data_request") return PrivacyEvent::Kind::kCustomerDataRequest;
  if (topic == "customers/redact") return PrivacyEvent::Kind::kCustomerRedact;
  if (topic == "shop/redact") return PrivacyEvent::Kind::kShopRedact;
  if (topic == "app/uninstalled") return PrivacyEvent::Kind::kShopUninstalled;
  return std::nullopt;
}

std::vector<std::string> ShopifyPrivacyOrderIds(const json& root, const char* key) {
  std::vector<std::string> ids;
  const json* list = Field(root, key);
  if (list == nullptr) return ids;
  if (!list->is_array()) Fail(key, "must be an array of order ids");
  for (size_t i = 0; i < list->size(); ++i) {
    const json& v = (*list)[i];
    const std::string path = std::string(key) + "[" + std::to_string(i) + "]";
    if (v.is_number_unsigned()) {
      ids.push_back(std::to_string(v.get<uint64_t>()));
    } else if (v.is_number_integer()) {
      ids.push_back(std::to_string(v.get<int64_t>()));
    } else {
      Fail(path, "must be an integer id");
    }
  }
  return ids;
}

Result<NormalisedEvent> NormaliseShopifyPrivacy(PrivacyEvent::Kind kind, std::string_view body) {
  PrivacyEvent event;
  event.kind = kind;
  if (kind == PrivacyEvent::Kind::kShopUninstalled || kind == PrivacyEvent::Kind::kShopRedact) {
    // The shop is the one the verified headers named; the body adds nothing loyaltyd needs
    // (and a shop that is gone must be handled even if its body were odd).
    return NormalisedEvent(std::move(event));
  }
  try {
    const json root = json::parse(body);
    if (!root.is_object()) return InvalidArgument("body must be a JSON object");
    const json* customer = Field(root, "customer");
    if (customer == nullptr || !customer->is_object()) {
      return InvalidArgument("customer: missing");
    }
    event.platform_customer_id = IdText(*customer, "id", "customer.", false);
    event.email = Text(*customer, "email");
    event.phone = Text(*customer, "phone");
    if (event.platform_customer_id.empty() && event.email.empty()) {
      return InvalidArgument("customer: neither an id nor an email to find the customer by");
    }
    if (kind == PrivacyEvent::Kind::kCustomerDataRequest) {
      event.platform_order_ids = ShopifyPrivacyOrderIds(root, "orders_requested");
      if (const json* request = Field(root, "data_request"); request && request->is_object()) {
        event.platform_request_id = IdText(*request, "id", "data_request.", false);
      }
    } else {
      event.platform_order_ids = ShopifyPrivacyOrderIds(root, "orders_to_redact");
    }
    return NormalisedEvent(std::move(event));
  } catch (const PayloadError& error) {
    return InvalidArgument(error.message);
  } catch (const json::exception& error) {
    return InvalidArgument(std::string("malformed JSON: ") + error.what());
  }
}

}  // namespace

Result<NormalisedEvent> ShopifyNormaliser::Normalise(const ShopConfig& /*shop*/,
                                                     std::string_view topic,
                                                     std::string_view body) const {
  OrderEventKind kind = OrderEventKind::kCreated;
  bool is_order = true;
  if (topic == "orders/create") {
    kind = OrderEventKind::kCreated;
  } else if (topic == "orders/paid") {
    kind = OrderEventKind::kPaid;
  } else if (topic == "orders/updated") {
    kind = OrderEventKind::kUpdated;
  } else if (topic == "orders/fulfilled") {
    // Sent when every line is fulfilled; the body is the order (fulfillment_status
    // "fulfilled"). Earns only under program.award.on = "fulfilled"; otherwise an update.
    kind = OrderEventKind::kUpdated;
  } else if (topic == "orders/cancelled") {
    kind = OrderEventKind::kCancelled;
  } else if (topic == "refunds/create") {
    kind = OrderEventKind::kRefunded;
  } else if (topic == "customers/create" || topic == "customers/update") {
    is_order = false;
  } else if (std::optional<PrivacyEvent::Kind> privacy = PrivacyKindOfShopifyTopic(topic)) {
    return NormaliseShopifyPrivacy(*privacy, body);
  } else {
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
    if (kind == OrderEventKind::kRefunded) {
      return NormalisedEvent(OrderEvent{kind, ReadRefundOrder(root)});
    }
    if (is_order) {
      Order order = ReadOrder(root);
      order.fulfilled = order.fulfilled || topic == "orders/fulfilled";
      return NormalisedEvent(OrderEvent{kind, std::move(order)});
    }
    return NormalisedEvent(CustomerEvent{ReadCustomer(root, "")});
  } catch (const PayloadError& error) {
    return InvalidArgument(error.message);
  } catch (const json::exception& error) {
    // A field of an unexpected JSON type that the readers above did not anticipate.
    return InvalidArgument(std::string("unexpected payload shape: ") + error.what());
  }
}

}  // namespace loyaltyd
