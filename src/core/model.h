// The platform-neutral model every connector normalises into: Customer, Order, LineItem, Refund.
//
// Platform ids are kept as decimal strings: Shopify ids exceed 2^53 and must never pass through
// a double, and WooCommerce ids are small integers; a string serves both exactly.
// All money in one Order is in the shop's currency (Shopify's `*_set.shop_money`), in minor units.
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/money.h"

namespace loyaltyd {

enum class Platform { kShopify, kWooCommerce };

std::string_view PlatformName(Platform platform);

// What a customer can redeem points for (program.rewards[].kind).
enum class RewardKind { kFixedDiscount, kPercentageDiscount, kFreeShipping, kStoreCredit };

// The names used in the config and the API: "fixed_discount", "percentage_discount",
// "free_shipping", "store_credit".
std::string_view RewardKindName(RewardKind kind);
std::optional<RewardKind> ParseRewardKind(std::string_view name);

struct Customer {
  std::string platform_customer_id;  // empty for a guest
  std::string email;                 // as sent; may be empty (redacted or absent)
  std::string first_name;
  std::string last_name;
  std::vector<std::string> tags;
  // As sent; may be empty. Shopify's customer.phone; WooCommerce's billing.phone on the
  // customer.* payloads (the account's, not an order's). The `{}` keeps brace-initialisations
  // written before the field (Customer{id, email, first, last, tags}) free of
  // -Wmissing-field-initializers.
  std::string phone{};
  // Shared membership (issue 7): the platform vouches that `email` is this account's own,
  // proven address. Shopify: the customer's `verified_email`
  // (https://shopify.dev/docs/api/admin-rest/latest/resources/customer; GraphQL
  // Customer.verifiedEmail). WooCommerce verifies no email: true when `email` is the registered
  // account's own (the customer resource's `email`, not a billing address), which the ledger
  // trusts only under program.shared_trust_woocommerce_email.
  bool email_verified{};
};

// A postal address as sent, for telling that two orders ship to the same door
// (core/identity.h AddressKey). province_code and country_code are the platform's codes
// (Shopify province_code / country_code; WooCommerce state / country).
struct Address {
  std::string address1, address2, city, province_code, zip, country_code;
  bool operator==(const Address&) const = default;
};

// A name/value pair the storefront or a plugin set on the order (Shopify's note_attributes,
// WooCommerce's order meta_data): where a referral code captured at checkout arrives.
struct OrderAttribute {
  std::string name;
  std::string value;
};

struct LineItem {
  std::string platform_line_id;
  std::string product_id;  // empty when the product was deleted or is custom
  std::string variant_id;
  std::string sku;
  std::string title;
  std::string vendor;
  int64_t quantity = 0;
  // unit_price * quantity, before discounts. Includes tax when the order's taxes_included.
  int64_t gross_minor = 0;
  // Sum of the discounts allocated to this line (line-level and order-level).
  int64_t discount_minor = 0;
  // Tax charged on this line (after discounts).
  int64_t tax_minor = 0;
  bool is_gift_card = false;
  bool requires_shipping = true;
};

struct RefundLine {
  std::string platform_line_id;
  int64_t quantity = 0;
  int64_t subtotal_minor = 0;  // refunded merchandise amount for this line
  int64_t tax_minor = 0;
  // The refunded line is a gift card (Shopify's refund_line_items[].line_item.gift_card), for
  // a refund that arrives without its order's lines (refunds/create).
  bool is_gift_card = false;
};

struct Refund {
  std::string platform_refund_id;
  std::string created_at;  // ISO-8601 as sent
  std::vector<RefundLine> lines;
  // The refunded amount, positive, when the platform sends only a total (WooCommerce's order
  // payload has refunds[].total and no lines); 0 when the lines say it (Shopify).
  int64_t amount_minor = 0;
};

enum class FinancialStatus {
  kUnknown,
  kPending,
  kAuthorized,
  kPaid,
  kPartiallyPaid,
  kPartiallyRefunded,
  kRefunded,
  kVoided,
};

struct Order {
  std::string platform_order_id;
  std::string name;      // human-facing order number, e.g. "#1001"
  std::string currency;  // shop currency (ISO-4217)
  bool taxes_included = false;
  FinancialStatus financial_status = FinancialStatus::kUnknown;
  bool cancelled = false;
  // Every line shipped or the order completed: Shopify's fulfillment_status "fulfilled" (or
  // the orders/fulfilled topic), WooCommerce's status "completed". The award point under
  // program.award.on = "fulfilled".
  bool fulfilled = false;
  bool test = false;
  std::string created_at;  // ISO-8601 as sent
  std::string updated_at;
  // Order totals as sent, for display and cross-checks. The earn rules use the lines.
  int64_t subtotal_minor = 0;
  int64_t total_minor = 0;
  int64_t total_tax_minor = 0;
  int64_t total_discounts_minor = 0;
  int64_t total_shipping_minor = 0;
  std::optional<Customer> customer;  // absent for a guest order
  std::string email;                 // the order's contact email (guests too); may be empty
  // The facts referral attribution and its fraud guards read (issue 5). All as sent.
  // Codes applied, in payload order: Shopify's discount_codes[].code, WooCommerce's
  // coupon_lines[].code (which WooCommerce lower-cases).
  std::vector<std::string> discount_codes;
  // Shopify's landing_site (path + query as sent, may be a full URL); "" for WooCommerce.
  std::string landing_site;
  // Shopify's note_attributes[] {name, value}; WooCommerce's order meta_data[] {key, value}
  // with string or number values only (objects, arrays, booleans and null are skipped;
  // numbers as their JSON text).
  std::vector<OrderAttribute> attributes;
  // The contact phone: Shopify's order.phone, else customer.phone, else shipping_address.phone,
  // else billing_address.phone; WooCommerce's billing.phone, else shipping.phone. May be "".
  std::string phone;
  // Absent when the payload has none or its first address line is empty.
  std::optional<Address> shipping_address;
  std::vector<LineItem> line_items;
  std::vector<Refund> refunds;
};

// What a webhook means once normalised. kRefunded is a refund sent on its own (Shopify's
// refunds/create): its Order carries only platform_order_id and the one refund in `refunds`.
enum class OrderEventKind { kCreated, kPaid, kUpdated, kCancelled, kRefunded };

struct OrderEvent {
  OrderEventKind kind = OrderEventKind::kCreated;
  Order order;
};

struct CustomerEvent {
  Customer customer;
};

// A topic that is stored and acknowledged but has no effect on the ledger yet.
struct IgnoredEvent {
  std::string reason;
};

// --- Privacy (issue 7; docs/operations.md, "Privacy") ---
// A platform's privacy request or lifecycle notice about the shop itself:
//   Shopify's mandatory compliance topics customers/data_request, customers/redact, shop/redact
//   (https://shopify.dev/docs/apps/build/compliance/privacy-law-compliance) and app/uninstalled;
//   WooCommerce's customer.deleted (its body is only {"id": N}), taken as a redaction.
struct PrivacyEvent {
  enum class Kind { kCustomerDataRequest, kCustomerRedact, kShopRedact, kShopUninstalled };
  Kind kind = Kind::kCustomerRedact;
  // Who the request is about (customer kinds). Any may be empty; the platform id is exact
  // decimal text, like every platform id in this model.
  std::string platform_customer_id;
  std::string email;
  std::string phone;
  // Shopify's orders_requested / orders_to_redact: the customer's orders the request covers.
  std::vector<std::string> platform_order_ids;
  // Shopify's data_request.id: the merchant's reference for a data request.
  std::string platform_request_id;
};

using NormalisedEvent = std::variant<OrderEvent, CustomerEvent, IgnoredEvent, PrivacyEvent>;

// Lower-cases and trims an email address for matching. Returns "" for an empty or
// obviously invalid address (no '@').
std::string NormaliseEmail(std::string_view email);

}  // namespace loyaltyd
