#include "connectors/woocommerce/woocommerce_normaliser.h"

#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "connectors/woocommerce/woocommerce_samples.h"
#include "core/identity.h"

namespace loyaltyd::woocommerce_normaliser_test {
namespace {

using nlohmann::json;

// tests/data/woocommerce holds bodies shaped like WooCommerce's REST v3 order resource
// (class-wc-rest-orders-v2-controller.php), escaped as wp_json_encode escapes them.
std::string Fixture(const std::string& name) {
  std::ifstream in(std::string(LOYALTYD_TEST_DATA_DIR) + "/woocommerce/" + name);
  EXPECT_TRUE(in) << "missing fixture " << name;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

ShopConfig Shop() {
  ShopConfig shop;
  shop.id = "woo";
  shop.platform = Platform::kWooCommerce;
  shop.domain = "shop.example.com";
  return shop;  // earn_on_status: processing, completed
}

Result<NormalisedEvent> Normalise(const std::string& body, const std::string& topic,
                                  const ShopConfig& shop = Shop()) {
  return WooCommerceNormaliser().Normalise(shop, topic, body);
}

OrderEvent NormaliseOrder(const std::string& body, const std::string& topic = "order.updated",
                          const ShopConfig& shop = Shop()) {
  Result<NormalisedEvent> event = Normalise(body, topic, shop);
  EXPECT_TRUE(event.ok()) << event.status().message();
  if (!event.ok() || !std::holds_alternative<OrderEvent>(*event)) {
    ADD_FAILURE() << "not an order event";
    return OrderEvent{};
  }
  return std::get<OrderEvent>(*event);
}

std::string NormaliseError(const std::string& body, const std::string& topic = "order.updated") {
  Result<NormalisedEvent> event = Normalise(body, topic);
  return event.ok() ? "" : event.status().message();
}

// A minimal order with one line of `amount` in `currency`, as WooCommerce writes it.
json OneLineOrder(const std::string& currency, const std::string& amount,
                  const std::string& status = "processing") {
  return {{"id", 42},
          {"status", status},
          {"currency", currency},
          {"prices_include_tax", false},
          {"total", amount},
          {"total_tax", "0"},
          {"discount_total", "0"},
          {"shipping_total", "0"},
          {"customer_id", 0},
          {"billing", {{"email", "guest@example.com"}}},
          {"line_items",
           {{{"id", 43},
             {"name", "Thing"},
             {"product_id", 7},
             {"variation_id", 0},
             {"quantity", 1},
             {"subtotal", amount},
             {"subtotal_tax", "0"},
             {"total", amount},
             {"total_tax", "0"},
             {"price", 1.5}}}},
          {"refunds", json::array()}};
}

TEST(WooCommerceNormaliserTest, CouponsTaxShippingAndRefundsAreReadExactly) {
  const OrderEvent e = NormaliseOrder(Fixture("order_coupon_tax_refund.json"));
  EXPECT_EQ(e.kind, OrderEventKind::kPaid);  // processing is in earn_on_status
  const Order& o = e.order;
  EXPECT_EQ(o.platform_order_id, "727");
  EXPECT_EQ(o.name, "#727");
  EXPECT_EQ(o.currency, "USD");
  EXPECT_FALSE(o.taxes_included);
  EXPECT_FALSE(o.cancelled);
  EXPECT_EQ(o.financial_status, FinancialStatus::kPartiallyRefunded);
  EXPECT_EQ(o.created_at, "2026-11-24T20:30:00Z");
  EXPECT_EQ(o.updated_at, "2026-11-24T20:45:10Z");
  EXPECT_EQ(o.subtotal_minor, 1800);
  EXPECT_EQ(o.total_minor, 2742);
  EXPECT_EQ(o.total_tax_minor, 122);
  EXPECT_EQ(o.total_discounts_minor, 180);
  EXPECT_EQ(o.total_shipping_minor, 1000);
  ASSERT_EQ(o.line_items.size(), 2u);
  const LineItem& single = o.line_items[0];
  EXPECT_EQ(single.platform_line_id, "315");
  EXPECT_EQ(single.product_id, "93");
  EXPECT_EQ(single.variant_id, "");  // variation_id 0
  EXPECT_EQ(single.quantity, 2);
  EXPECT_EQ(single.gross_minor, 600);    // subtotal: 2 x 3.00 before the coupon
  EXPECT_EQ(single.discount_minor, 60);  // subtotal - total: the coupon's share
  EXPECT_EQ(single.tax_minor, 41);
  const LineItem& idea = o.line_items[1];
  EXPECT_EQ(idea.title, "Ship Your Idea \u2013 Black, M");  // \u2013 decoded
  EXPECT_EQ(idea.sku, "SYI-BLK-M");
  EXPECT_EQ(idea.variant_id, "23");
  EXPECT_EQ(idea.gross_minor, 1200);
  EXPECT_EQ(idea.discount_minor, 120);
  EXPECT_EQ(idea.tax_minor, 81);
  ASSERT_EQ(o.refunds.size(), 1u);
  EXPECT_EQ(o.refunds[0].platform_refund_id, "726");
  EXPECT_EQ(o.refunds[0].amount_minor, 1000);  // "-10.00" is a refund of 10.00
  // A guest: customer_id 0, identified by the billing email.
  EXPECT_FALSE(o.customer.has_value());
  EXPECT_EQ(o.email, "John.Doe@Example.com");
}

TEST(WooCommerceNormaliserTest, ZeroAndThreeDecimalCurrenciesAreExact) {
  const Order yen = NormaliseOrder(OneLineOrder("JPY", "1500").dump()).order;
  EXPECT_EQ(yen.total_minor, 1500);
  EXPECT_EQ(yen.line_items.at(0).gross_minor, 1500);
  // A store set to 2 decimals writes yen as "1500.00": still exact.
  EXPECT_EQ(NormaliseOrder(OneLineOrder("JPY", "1500.00").dump()).order.total_minor, 1500);
  const Order dinar = NormaliseOrder(OneLineOrder("KWD", "12.345").dump()).order;
  EXPECT_EQ(dinar.total_minor, 12345);
  EXPECT_EQ(dinar.line_items.at(0).gross_minor, 12345);
  // 0.1 + 0.2 through a double is 0.30000000000000004; decimal strings stay exact.
  EXPECT_EQ(NormaliseOrder(OneLineOrder("USD", "0.30").dump()).order.total_minor, 30);
  // A fractional yen cannot be represented: refused, not rounded.
  EXPECT_NE(NormaliseError(OneLineOrder("JPY", "1500.5").dump()).find("total"), std::string::npos);
}

TEST(WooCommerceNormaliserTest, MoneyIsNeverReadFromAFloat) {
  json order = OneLineOrder("USD", "10.00");
  order["line_items"][0]["price"] = 0.1 + 0.2;  // ignored: price is never read
  EXPECT_EQ(NormaliseOrder(order.dump()).order.line_items.at(0).gross_minor, 1000);
  order["total"] = 10.5;
  EXPECT_EQ(NormaliseError(order.dump()), "total: must be a decimal string such as \"10.00\"");
}

TEST(WooCommerceNormaliserTest, TaxInclusivePricesKeepTheirTaxOnTheLines) {
  json order = OneLineOrder("EUR", "100.00");
  order["prices_include_tax"] = true;
  order["line_items"][0]["subtotal"] = "84.03";
  order["line_items"][0]["subtotal_tax"] = "15.97";
  order["line_items"][0]["total"] = "75.63";  // after a 10% coupon
  order["line_items"][0]["total_tax"] = "14.37";
  const Order o = NormaliseOrder(order.dump()).order;
  EXPECT_TRUE(o.taxes_included);
  const LineItem& line = o.line_items.at(0);
  EXPECT_EQ(line.gross_minor, 10000);
  EXPECT_EQ(line.discount_minor, 1000);
  EXPECT_EQ(line.tax_minor, 1437);
  // Eligible spend (gross - discount - tax) is the tax-exclusive line total either way.
  EXPECT_EQ(line.gross_minor - line.discount_minor - line.tax_minor, 7563);
}

TEST(WooCommerceNormaliserTest, RegisteredCustomersKeepTheirIdAndGuestsTheirBillingEmail) {
  json order = OneLineOrder("USD", "10.00");
  const Order guest = NormaliseOrder(order.dump()).order;
  EXPECT_FALSE(guest.customer.has_value());
  EXPECT_EQ(guest.email, "guest@example.com");
  order["customer_id"] = 12;
  order["billing"] = {{"email", "Ada@Example.com"}, {"first_name", "Ada"}, {"last_name", "L"}};
  const Order registered = NormaliseOrder(order.dump()).order;
  ASSERT_TRUE(registered.customer.has_value());
  EXPECT_EQ(registered.customer->platform_customer_id, "12");
  EXPECT_EQ(registered.customer->first_name, "Ada");
  EXPECT_EQ(registered.email, "Ada@Example.com");
}

TEST(WooCommerceNormaliserTest, StatusesMapToEventKinds) {
  struct Case {
    const char* topic;
    const char* status;
    OrderEventKind kind;
  };
  const Case cases[] = {
      {"order.created", "pending", OrderEventKind::kCreated},
      {"order.created", "on-hold", OrderEventKind::kCreated},
      // Bodies are snapshots taken when the delivery runs: order.created may be paid already.
      {"order.created", "processing", OrderEventKind::kPaid},
      {"order.updated", "pending", OrderEventKind::kUpdated},
      {"order.updated", "on-hold", OrderEventKind::kUpdated},
      {"order.updated", "processing", OrderEventKind::kPaid},
      {"order.updated", "completed", OrderEventKind::kPaid},
      {"order.updated", "cancelled", OrderEventKind::kCancelled},
      {"order.updated", "refunded", OrderEventKind::kCancelled},
      {"order.updated", "failed", OrderEventKind::kCancelled},
      {"order.updated", "trash", OrderEventKind::kCancelled},
      {"order.updated", "shipped-by-plugin", OrderEventKind::kUpdated},
      {"order.restored", "processing", OrderEventKind::kPaid},
      {"order.restored", "pending", OrderEventKind::kUpdated},
  };
  for (const Case& c : cases) {
    const OrderEvent e = NormaliseOrder(OneLineOrder("USD", "5.00", c.status).dump(), c.topic);
    EXPECT_EQ(e.kind, c.kind) << c.topic << " " << c.status;
  }
  EXPECT_TRUE(NormaliseOrder(OneLineOrder("USD", "5.00", "cancelled").dump()).order.cancelled);
  EXPECT_EQ(NormaliseOrder(OneLineOrder("USD", "5.00", "refunded").dump()).order.financial_status,
            FinancialStatus::kRefunded);
}

TEST(WooCommerceNormaliserTest, EarnOnStatusComesFromTheShop) {
  ShopConfig shop = Shop();
  shop.earn_on_status = {"completed"};
  const std::string processing = OneLineOrder("USD", "5.00", "processing").dump();
  EXPECT_EQ(NormaliseOrder(processing, "order.updated", shop).kind, OrderEventKind::kUpdated);
  const std::string completed = OneLineOrder("USD", "5.00", "completed").dump();
  EXPECT_EQ(NormaliseOrder(completed, "order.updated", shop).kind, OrderEventKind::kPaid);
  shop.earn_on_status = {"on-hold", "processing", "completed"};
  const std::string on_hold = OneLineOrder("USD", "5.00", "on-hold").dump();
  EXPECT_EQ(NormaliseOrder(on_hold, "order.updated", shop).kind, OrderEventKind::kPaid);
}

// program.award.on = "fulfilled": WooCommerce's "completed" is "order fulfilled and complete"
// (OrderStatus::COMPLETED); no other status is.
TEST(WooCommerceNormaliserTest, OnlyCompletedOrdersAreFulfilled) {
  for (const char* status : {"pending", "on-hold", "processing", "cancelled", "refunded"}) {
    EXPECT_FALSE(NormaliseOrder(OneLineOrder("USD", "5.00", status).dump()).order.fulfilled)
        << status;
  }
  EXPECT_TRUE(NormaliseOrder(OneLineOrder("USD", "5.00", "completed").dump()).order.fulfilled);
}

TEST(WooCommerceNormaliserTest, DeletedOrdersAreIgnoredWithAReason) {
  Result<NormalisedEvent> e = Normalise(R"({"id":1234})", "order.deleted");
  ASSERT_TRUE(e.ok()) << e.status().message();
  ASSERT_TRUE(std::holds_alternative<IgnoredEvent>(*e));
  const std::string& reason = std::get<IgnoredEvent>(*e).reason;
  EXPECT_NE(reason.find("order 1234 was trashed or deleted"), std::string::npos) << reason;
  EXPECT_EQ(NormaliseError("{}", "order.deleted"), "id: missing");
}

TEST(WooCommerceNormaliserTest, CustomerTopicsGiveTheIdentity) {
  WooCommerceSampleOptions options;
  options.customer_id = 25;
  options.email = "Ada@Example.com";
  for (const char* topic : {"customer.created", "customer.updated"}) {
    Result<NormalisedEvent> e = Normalise(WooCommerceSampleBody(topic, options).value(), topic);
    ASSERT_TRUE(e.ok()) << e.status().message();
    ASSERT_TRUE(std::holds_alternative<CustomerEvent>(*e));
    const Customer& c = std::get<CustomerEvent>(*e).customer;
    EXPECT_EQ(c.platform_customer_id, "25");
    EXPECT_EQ(c.email, "Ada@Example.com");
    EXPECT_EQ(c.first_name, "Ada");
    EXPECT_EQ(c.last_name, "Lovelace");
    EXPECT_EQ(c.phone, "+44 20 7946 0000");  // the account's billing.phone
  }
}

TEST(WooCommerceNormaliserTest, SampleBodiesNormalise) {
  WooCommerceSampleOptions options;
  options.order_id = 5001;
  options.customer_id = 0;
  options.email = "guest@example.com";
  const OrderEvent created =
      NormaliseOrder(WooCommerceSampleBody("order.created", options).value(), "order.created");
  EXPECT_EQ(created.kind, OrderEventKind::kCreated);
  EXPECT_EQ(created.order.line_items.at(0).title, "Caf\u00e9 T-shirt - M");
  EXPECT_EQ(created.order.total_minor, 4900);
  // The sample's addresses, order meta and (empty) coupon_lines.
  EXPECT_EQ(created.order.phone, "+44 20 7946 0000");
  EXPECT_EQ(created.order.shipping_address,
            (Address{"12 St James's Square", "", "London", "", "SW1Y 4JH", "GB"}));
  EXPECT_TRUE(created.order.discount_codes.empty());
  ASSERT_EQ(created.order.attributes.size(), 1u);
  EXPECT_EQ(created.order.attributes[0].name, "_wc_order_attribution_source_type");
  // The line's meta_data (pa_size) is not the order's.
  EXPECT_EQ(created.order.attributes[0].value, "typein");
  EXPECT_EQ(created.order.landing_site, "");
  const OrderEvent updated =
      NormaliseOrder(WooCommerceSampleBody("order.updated", options).value(), "order.updated");
  EXPECT_EQ(updated.kind, OrderEventKind::kPaid);
}

TEST(WooCommerceNormaliserTest, OtherTopicsAreIgnoredWithoutReadingTheBody) {
  for (const char* topic :
       {"product.updated", "coupon.created", "action.woocommerce_payment_complete"}) {
    Result<NormalisedEvent> e = Normalise("not even json", topic);
    ASSERT_TRUE(e.ok()) << topic;
    ASSERT_TRUE(std::holds_alternative<IgnoredEvent>(*e));
    EXPECT_NE(std::get<IgnoredEvent>(*e).reason.find(topic), std::string::npos);
  }
}

// Privacy (issue 7): WooCommerce's nearest equivalent of a redaction request; its body is only
// the id (WC_Webhook::build_payload for a deleted resource).
TEST(WooCommerceNormaliserTest, CustomerDeletedIsARedactionOfThatCustomer) {
  Result<NormalisedEvent> e = Normalise(R"({"id":12})", "customer.deleted");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  ASSERT_TRUE(std::holds_alternative<PrivacyEvent>(*e));
  const PrivacyEvent& privacy = std::get<PrivacyEvent>(*e);
  EXPECT_EQ(privacy.kind, PrivacyEvent::Kind::kCustomerRedact);
  EXPECT_EQ(privacy.platform_customer_id, "12");
  EXPECT_FALSE(Normalise(R"({"id":0})", "customer.deleted").ok());
  EXPECT_FALSE(Normalise("not json", "customer.deleted").ok());
}

// Found by tests/integration/hostile_input_test.cc: nlohmann throws out_of_range, not
// parse_error, for a number beyond a double, and the failed event said "unexpected payload
// shape" about a body that is not readable JSON.
TEST(WooCommerceNormaliserTest, ANumberOverflowingADoubleIsMalformedJson) {
  const std::string message = NormaliseError("{\"id\": 1, \"total\": -1e400}");
  EXPECT_NE(message.find("malformed JSON"), std::string::npos) << message;
  EXPECT_NE(message.find("number overflow parsing '-1e400'"), std::string::npos) << message;
}

TEST(WooCommerceNormaliserTest, MalformedOrIncompleteBodiesSayWhatIsWrong) {
  EXPECT_NE(NormaliseError("{\"id\": ").find("malformed JSON"), std::string::npos);
  EXPECT_NE(NormaliseError("webhook_id=7").find("malformed JSON"), std::string::npos);
  EXPECT_EQ(NormaliseError("[1]"), "body must be a JSON object");
  json order = OneLineOrder("USD", "10.00");
  order.erase("currency");
  EXPECT_EQ(NormaliseError(order.dump()), "currency: missing");
  order = OneLineOrder("USD", "10.00");
  order["currency"] = "XYZ";
  EXPECT_NE(NormaliseError(order.dump()).find("currency: "), std::string::npos);
  order = OneLineOrder("USD", "10.00");
  order.erase("line_items");
  EXPECT_EQ(NormaliseError(order.dump()), "line_items: missing");
  order = OneLineOrder("USD", "10.00");
  order["line_items"][0]["total"] = "ten";
  EXPECT_NE(NormaliseError(order.dump()).find("line_items[0].total"), std::string::npos);
  order = OneLineOrder("USD", "10.00");
  order["line_items"][0]["quantity"] = "1";
  EXPECT_EQ(NormaliseError(order.dump()), "line_items[0].quantity: must be a non-negative integer");
  order = OneLineOrder("USD", "10.00");
  order["id"] = -1;
  EXPECT_EQ(NormaliseError(order.dump()), "id: must be an integer id");
  order = OneLineOrder("USD", "10.00");
  order.erase("status");
  EXPECT_EQ(NormaliseError(order.dump()), "status: missing");
  EXPECT_EQ(NormaliseError(R"({"email":"x@example.com"})", "customer.created"), "id: missing");
}

// Referral attribution and its fraud guards (issue 5) read coupon_lines[].code, the order's
// meta_data[] {key, value}, billing.phone / shipping.phone and the shipping address
// (https://woocommerce.github.io/woocommerce-rest-api-docs/#order-properties).
TEST(WooCommerceNormaliserTest, ReferralFactsAreReadFromCouponsMetaAndAddresses) {
  const Order o = NormaliseOrder(Fixture("order_referral.json")).order;
  EXPECT_EQ(o.platform_order_id, "731");
  EXPECT_EQ(o.discount_codes, (std::vector<std::string>{"friend-xyz", "10off"}));
  EXPECT_EQ(o.landing_site, "");  // WooCommerce has none
  // Strings and numbers, in order; the object, array, boolean and null values are skipped,
  // and line_items[0].meta_data's "ref" (LINE) and coupon_lines[].meta_data are not read.
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"ref", "XYZ"},
      {"_wc_order_attribution_source_type", "typein"},
      {"_wc_order_attribution_session_entry", "https://shop.example.com/?ref=ABC123"},
      {"_wc_order_attribution_session_pages", "3"},
      {"loyalty_ratio", "1.5"},
  };
  ASSERT_EQ(o.attributes.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(o.attributes[i].name, expected[i].first) << i;
    EXPECT_EQ(o.attributes[i].value, expected[i].second) << i;
  }
  // billing.phone is empty: the shipping phone (WooCommerce 5.6+) is the contact.
  EXPECT_EQ(o.phone, "+44 20 7946 0000");
  ASSERT_TRUE(o.shipping_address.has_value());
  EXPECT_EQ(*o.shipping_address,
            (Address{"12 St James's Square", "Flat 2", "London", "", "SW1Y 4JH", "GB"}));
  ASSERT_TRUE(o.customer.has_value());
  EXPECT_EQ(o.customer->platform_customer_id, "25");
  EXPECT_EQ(o.customer->phone, "");  // the account's phone arrives with customer.* topics
  EXPECT_EQ(o.email, "Zoe.Friend+shop@Example.com");

  // Money is read exactly as without the new keys: the fixture's amounts are those of
  // order_coupon_tax_refund.json, whose lines carry no meta and whose coupon is one.
  const Order plain = NormaliseOrder(Fixture("order_coupon_tax_refund.json")).order;
  EXPECT_EQ(o.total_minor, plain.total_minor);
  EXPECT_EQ(o.subtotal_minor, plain.subtotal_minor);
  EXPECT_EQ(o.total_tax_minor, plain.total_tax_minor);
  EXPECT_EQ(o.total_discounts_minor, 180);
  EXPECT_EQ(o.total_shipping_minor, plain.total_shipping_minor);
  ASSERT_EQ(o.line_items.size(), plain.line_items.size());
  for (size_t i = 0; i < o.line_items.size(); ++i) {
    EXPECT_EQ(o.line_items[i].gross_minor, plain.line_items[i].gross_minor) << i;
    EXPECT_EQ(o.line_items[i].discount_minor, plain.line_items[i].discount_minor) << i;
    EXPECT_EQ(o.line_items[i].tax_minor, plain.line_items[i].tax_minor) << i;
  }
  ASSERT_EQ(o.refunds.size(), 1u);
  EXPECT_EQ(o.refunds[0].amount_minor, 1000);

  // What the referral program derives from them (core/identity.h).
  EXPECT_EQ(CanonicalEmail(o.email), "zoe.friend@example.com");
  EXPECT_EQ(PhoneKey(o.phone), "2079460000");
  EXPECT_EQ(AddressKey(*o.shipping_address), "12stjamesssquare|SW1Y4JH|GB");
}

TEST(WooCommerceNormaliserTest, ReferralFactsComeWithEveryOrderTopicAndStatus) {
  json order = json::parse(Fixture("order_referral.json"));
  for (const char* topic : {"order.created", "order.updated", "order.restored"}) {
    for (const char* status : {"pending", "processing", "completed", "cancelled", "refunded"}) {
      order["status"] = status;
      const Order o = NormaliseOrder(order.dump(), topic).order;
      EXPECT_EQ(o.discount_codes.size(), 2u) << topic << " " << status;
      EXPECT_EQ(o.attributes.size(), 5u) << topic << " " << status;
      EXPECT_EQ(o.phone, "+44 20 7946 0000") << topic << " " << status;
      EXPECT_TRUE(o.shipping_address.has_value()) << topic << " " << status;
    }
  }
}

TEST(WooCommerceNormaliserTest, GuestOrderCarriesItsReferralFacts) {
  const Order o = NormaliseOrder(Fixture("order_coupon_tax_refund.json")).order;
  EXPECT_FALSE(o.customer.has_value());
  EXPECT_EQ(o.discount_codes, std::vector<std::string>{"10off"});
  ASSERT_EQ(o.attributes.size(), 1u);
  EXPECT_EQ(o.attributes[0].name, "_wc_order_attribution_source_type");
  EXPECT_EQ(o.attributes[0].value, "typein");
  EXPECT_EQ(o.phone, "(555) 555-5555");  // billing.phone first; shipping.phone is ""
  EXPECT_EQ(o.shipping_address, (Address{"969 Market", "", "San Francisco", "CA", "94103", "US"}));
  EXPECT_EQ(o.landing_site, "");

  // A virtual order: WooCommerce still sends a shipping block, with empty fields.
  json j = json::parse(Fixture("order_coupon_tax_refund.json"));
  for (const char* key : {"address_1", "address_2", "city", "state", "postcode", "country"}) {
    j["shipping"][key] = "";
  }
  j["billing"]["phone"] = "";
  j["shipping"]["phone"] = "";
  const Order virtual_order = NormaliseOrder(j.dump()).order;
  EXPECT_FALSE(virtual_order.shipping_address.has_value());
  EXPECT_EQ(virtual_order.phone, "");
}

TEST(WooCommerceNormaliserTest, OrderWithoutReferralFactsHasNone) {
  // No coupon_lines, meta_data or shipping; billing has only an email.
  const Order o = NormaliseOrder(OneLineOrder("USD", "10.00").dump()).order;
  EXPECT_TRUE(o.discount_codes.empty());
  EXPECT_TRUE(o.attributes.empty());
  EXPECT_EQ(o.phone, "");
  EXPECT_FALSE(o.shipping_address.has_value());
  EXPECT_EQ(o.landing_site, "");
  EXPECT_EQ(o.total_minor, 1000);

  json j = OneLineOrder("USD", "10.00");
  j["coupon_lines"] = json::array();
  j["meta_data"] = json::array();
  j["billing"] = nullptr;
  j["shipping"] = nullptr;
  const Order nulls = NormaliseOrder(j.dump()).order;
  EXPECT_TRUE(nulls.discount_codes.empty());
  EXPECT_TRUE(nulls.attributes.empty());
  EXPECT_FALSE(nulls.shipping_address.has_value());
  EXPECT_EQ(nulls.email, "");
}

// The facts are optional: a shape other than the documented one is skipped, and the order
// still earns its points.
TEST(WooCommerceNormaliserTest, MalformedReferralFactsAreSkippedNotRefused) {
  json j = json::parse(Fixture("order_referral.json"));
  j["coupon_lines"] = json::array({"bare", {{"code", 5}}, {{"code", ""}}, {{"code", "ok"}}});
  j["meta_data"] = json::array({{{"id", 1}, {"key", 7}, {"value", "numeric key"}},
                                {{"id", 2}, {"value", "no key"}},
                                {{"id", 3}, {"key", ""}, {"value", "empty key"}},
                                {{"id", 4}, {"key", "ref"}},
                                {{"id", 5}, {"key", "big"}, {"value", -9007199254740993LL}},
                                {{"id", 6}, {"key", "caf\u00e9"}, {"value", "\u2713"}},
                                "not an object"});
  const Order o = NormaliseOrder(j.dump()).order;
  EXPECT_EQ(o.discount_codes, std::vector<std::string>{"ok"});
  ASSERT_EQ(o.attributes.size(), 2u);
  EXPECT_EQ(o.attributes[0].name, "big");
  EXPECT_EQ(o.attributes[0].value, "-9007199254740993");  // an integer stays exact
  EXPECT_EQ(o.attributes[1].name, "caf\u00e9");
  EXPECT_EQ(o.attributes[1].value, "\u2713");

  for (const json& odd : {json("12 Main St"), json::array({1, 2}), json(5)}) {
    j["shipping"] = odd;
    j["billing"]["phone"] = 5551234567;   // not a string: skipped
    j["coupon_lines"] = {{"code", "x"}};  // an object, not the documented array
    j["meta_data"] = "ref=XYZ";
    const Order skipped = NormaliseOrder(j.dump()).order;
    EXPECT_FALSE(skipped.shipping_address.has_value()) << odd;
    EXPECT_EQ(skipped.phone, "") << odd;
    EXPECT_TRUE(skipped.discount_codes.empty()) << odd;
    EXPECT_TRUE(skipped.attributes.empty()) << odd;
    EXPECT_EQ(skipped.total_minor, 2742) << odd;
  }
}

}  // namespace
}  // namespace loyaltyd::woocommerce_normaliser_test
