#include "connectors/shopify/shopify_normaliser.h"

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "connectors/shopify/shopify_samples.h"
#include "core/identity.h"

namespace loyaltyd::shopify_normaliser_test {
namespace {

using nlohmann::json;

// Fixtures in tests/data/shopify are written after Shopify's documented orders/* payloads
// (https://shopify.dev/docs/api/webhooks, REST order resource).
std::string Fixture(const std::string& name) {
  std::ifstream in(std::string(LOYALTYD_TEST_DATA_DIR) + "/shopify/" + name);
  EXPECT_TRUE(in) << "missing fixture " << name;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

Order NormaliseOrder(const std::string& body, const std::string& topic = "orders/paid") {
  ShopifyNormaliser normaliser;
  Result<NormalisedEvent> event = normaliser.Normalise(ShopConfig{}, topic, body);
  EXPECT_TRUE(event.ok()) << event.status().message();
  if (!event.ok() || !std::holds_alternative<OrderEvent>(*event)) {
    ADD_FAILURE() << "not an order event";
    return Order{};
  }
  return std::get<OrderEvent>(*event).order;
}

Status NormaliseError(const std::string& body, const std::string& topic = "orders/paid") {
  ShopifyNormaliser normaliser;
  Result<NormalisedEvent> event = normaliser.Normalise(ShopConfig{}, topic, body);
  return event.ok() ? Status::Ok() : event.status();
}

TEST(ShopifyNormaliserTest, LineAndOrderDiscountsAreAllocatedToTheirLines) {
  Order o = NormaliseOrder(Fixture("order_discounts.json"));
  EXPECT_EQ(o.platform_order_id, "820982911946154508");
  EXPECT_EQ(o.name, "#1001");
  EXPECT_EQ(o.currency, "USD");
  EXPECT_EQ(o.financial_status, FinancialStatus::kPaid);
  EXPECT_FALSE(o.cancelled);
  EXPECT_EQ(o.subtotal_minor, 10400);
  EXPECT_EQ(o.total_minor, 11232);
  EXPECT_EQ(o.total_tax_minor, 832);
  EXPECT_EQ(o.total_discounts_minor, 1600);
  ASSERT_EQ(o.line_items.size(), 2u);
  const LineItem& hood = o.line_items[0];
  EXPECT_EQ(hood.platform_line_id, "466157049");
  EXPECT_EQ(hood.sku, "HOOD-M");
  EXPECT_EQ(hood.quantity, 2);
  EXPECT_EQ(hood.gross_minor, 10000);    // 2 x 50.00
  EXPECT_EQ(hood.discount_minor, 1500);  // 10.00 line + 5.00 of the order's code
  EXPECT_EQ(hood.tax_minor, 680);
  EXPECT_EQ(o.line_items[1].gross_minor, 2000);
  EXPECT_EQ(o.line_items[1].discount_minor, 100);
  EXPECT_EQ(o.line_items[1].tax_minor, 152);
  ASSERT_TRUE(o.customer.has_value());
  EXPECT_EQ(o.customer->platform_customer_id, "115310627");
  EXPECT_EQ(o.customer->email, "bob.norman@mail.example.com");
  EXPECT_EQ(o.email, "bob.norman@mail.example.com");
}

TEST(ShopifyNormaliserTest, TaxIncludedPricesKeepTheirTax) {
  Order o = NormaliseOrder(Fixture("order_tax_included.json"));
  EXPECT_EQ(o.currency, "EUR");
  EXPECT_TRUE(o.taxes_included);
  ASSERT_EQ(o.line_items.size(), 1u);
  EXPECT_EQ(o.line_items[0].gross_minor, 11900);
  EXPECT_EQ(o.line_items[0].tax_minor, 1900);
}

TEST(ShopifyNormaliserTest, GiftCardLinesAreMarked) {
  Order o = NormaliseOrder(Fixture("order_gift_card.json"));
  ASSERT_EQ(o.line_items.size(), 2u);
  EXPECT_TRUE(o.line_items[0].is_gift_card);
  EXPECT_FALSE(o.line_items[0].requires_shipping);
  EXPECT_EQ(o.line_items[0].product_id, "");  // null in the payload
  EXPECT_FALSE(o.line_items[1].is_gift_card);
  EXPECT_EQ(o.line_items[1].gross_minor, 3000);
}

TEST(ShopifyNormaliserTest, ShopMoneyIsUsedNotThePresentmentCurrency) {
  Order o = NormaliseOrder(Fixture("order_multi_currency.json"));
  EXPECT_EQ(o.currency, "USD");
  EXPECT_EQ(o.subtotal_minor, 3000);  // presentment: 40.50 CAD
  EXPECT_EQ(o.total_minor, 3500);
  EXPECT_EQ(o.total_shipping_minor, 500);
  ASSERT_EQ(o.line_items.size(), 1u);
  EXPECT_EQ(o.line_items[0].gross_minor, 3000);  // 3 x 10.00 USD, not 3 x 13.50 CAD

  // Only *_set present (no plain field): still the shop money.
  json j = json::parse(Fixture("order_multi_currency.json"));
  j["line_items"][0].erase("price");
  EXPECT_EQ(NormaliseOrder(j.dump()).line_items[0].gross_minor, 3000);
  // Only the plain field present: taken as shop currency, which Shopify documents it to be.
  j = json::parse(Fixture("order_multi_currency.json"));
  j["line_items"][0].erase("price_set");
  EXPECT_EQ(NormaliseOrder(j.dump()).line_items[0].gross_minor, 3000);
}

TEST(ShopifyNormaliserTest, ShopMoneyInAnotherCurrencyThanTheOrderIsRefused) {
  json j = json::parse(Fixture("order_multi_currency.json"));
  j["line_items"][0]["price_set"]["shop_money"]["currency_code"] = "CAD";
  Status s = NormaliseError(j.dump());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("line_items[0].price_set.shop_money.currency_code"), std::string::npos)
      << s.message();
}

TEST(ShopifyNormaliserTest, GuestOrderHasNoCustomerButKeepsTheEmail) {
  Order o = NormaliseOrder(Fixture("order_guest.json"));
  EXPECT_FALSE(o.customer.has_value());
  EXPECT_EQ(o.email, "Guest.Shopper@Example.com");
  EXPECT_EQ(o.line_items.at(0).gross_minor, 2400);

  json j = json::parse(Fixture("order_guest.json"));
  j["customer"] = nullptr;  // some API versions send null instead of leaving it out
  j["email"] = nullptr;
  Order null_customer = NormaliseOrder(j.dump());
  EXPECT_FALSE(null_customer.customer.has_value());
  EXPECT_EQ(null_customer.email, "Guest.Shopper@Example.com");  // from contact_email
}

TEST(ShopifyNormaliserTest, IdsAboveTwoToThe53SurviveExactly) {
  Order o = NormaliseOrder(Fixture("order_big_ids.json"));
  EXPECT_EQ(o.platform_order_id, "5678901234567890123");
  ASSERT_TRUE(o.customer.has_value());
  EXPECT_EQ(o.customer->platform_customer_id, "9007199254740997");
  ASSERT_EQ(o.line_items.size(), 1u);
  EXPECT_EQ(o.line_items[0].platform_line_id, "9007199254740993");
  EXPECT_EQ(o.line_items[0].product_id, "9007199254740995");
  EXPECT_EQ(o.line_items[0].variant_id, "18446744073709551557");
  EXPECT_EQ(o.line_items[0].gross_minor, 999);
  EXPECT_EQ(o.customer->tags, (std::vector<std::string>{"VIP", "wholesale", "newsletter"}));
}

TEST(ShopifyNormaliserTest, RefundLinesAreReadFromSetsOrNumbers) {
  for (const char* fixture : {"order_refund.json", "order_refund_numbers.json"}) {
    Order o = NormaliseOrder(Fixture(fixture), "orders/updated");
    EXPECT_EQ(o.financial_status, FinancialStatus::kPartiallyRefunded) << fixture;
    ASSERT_EQ(o.refunds.size(), 1u) << fixture;
    EXPECT_EQ(o.refunds[0].platform_refund_id, "509562969");
    EXPECT_EQ(o.refunds[0].created_at, "2026-11-22T08:00:00-05:00");
    ASSERT_EQ(o.refunds[0].lines.size(), 1u);
    EXPECT_EQ(o.refunds[0].lines[0].platform_line_id, "703073509");
    EXPECT_EQ(o.refunds[0].lines[0].quantity, 1);
    EXPECT_EQ(o.refunds[0].lines[0].subtotal_minor, 1000) << fixture;
    EXPECT_EQ(o.refunds[0].lines[0].tax_minor, 80) << fixture;
  }
}

// refunds/create sends the Refund resource on its own, with its order_id
// (https://shopify.dev/api/admin-rest/2025-01/resources/refund).
TEST(ShopifyNormaliserTest, RefundCreateGivesTheOrderIdAndTheRefund) {
  ShopifyNormaliser normaliser;
  Result<NormalisedEvent> e =
      normaliser.Normalise(ShopConfig{}, "refunds/create", Fixture("refund_create.json"));
  ASSERT_TRUE(e.ok()) << e.status().message();
  ASSERT_TRUE(std::holds_alternative<OrderEvent>(*e));
  const OrderEvent& event = std::get<OrderEvent>(*e);
  EXPECT_EQ(event.kind, OrderEventKind::kRefunded);
  EXPECT_EQ(event.order.platform_order_id, "450789469");
  EXPECT_EQ(event.order.currency, "USD");
  EXPECT_TRUE(event.order.line_items.empty());
  ASSERT_EQ(event.order.refunds.size(), 1u);
  const Refund& refund = event.order.refunds[0];
  EXPECT_EQ(refund.platform_refund_id, "509562969");
  ASSERT_EQ(refund.lines.size(), 2u);
  EXPECT_EQ(refund.lines[0].platform_line_id, "703073504");
  EXPECT_EQ(refund.lines[0].subtotal_minor, 19566);
  EXPECT_EQ(refund.lines[0].tax_minor, 398);
  EXPECT_FALSE(refund.lines[0].is_gift_card);
  EXPECT_TRUE(refund.lines[1].is_gift_card);

  json no_order = json::parse(Fixture("refund_create.json"));
  no_order.erase("order_id");
  EXPECT_EQ(NormaliseError(no_order.dump(), "refunds/create").message(), "order_id: missing");
}

TEST(ShopifyNormaliserTest, ZeroDecimalCurrency) {
  Order o = NormaliseOrder(Fixture("order_jpy.json"));
  EXPECT_EQ(o.currency, "JPY");
  EXPECT_EQ(o.line_items.at(0).gross_minor, 4900);
  EXPECT_EQ(o.total_minor, 4900);
}

TEST(ShopifyNormaliserTest, TopicsMapToEventKinds) {
  ShopifyNormaliser normaliser;
  const std::string body = Fixture("order_discounts.json");
  const std::pair<const char*, OrderEventKind> cases[] = {
      {"orders/create", OrderEventKind::kCreated},
      {"orders/paid", OrderEventKind::kPaid},
      {"orders/updated", OrderEventKind::kUpdated},
      {"orders/cancelled", OrderEventKind::kCancelled}};
  for (const auto& [topic, kind] : cases) {
    Result<NormalisedEvent> e = normaliser.Normalise(ShopConfig{}, topic, body);
    ASSERT_TRUE(e.ok()) << topic;
    ASSERT_TRUE(std::holds_alternative<OrderEvent>(*e)) << topic;
    EXPECT_EQ(std::get<OrderEvent>(*e).kind, kind) << topic;
  }
  json cancelled = json::parse(body);
  cancelled["cancelled_at"] = "2026-11-21T10:00:00-05:00";
  EXPECT_TRUE(NormaliseOrder(cancelled.dump(), "orders/cancelled").cancelled);
}

// program.award.on = "fulfilled": the REST order's fulfillment_status is null (nothing
// shipped), "partial" or "fulfilled"; the orders/fulfilled topic is sent when every line is.
TEST(ShopifyNormaliserTest, FulfilmentComesFromTheStatusOrTheFulfilledTopic) {
  json order = json::parse(Fixture("order_discounts.json"));
  struct Case {
    const char* topic;
    json status;
    OrderEventKind kind;
    bool fulfilled;
  };
  const Case cases[] = {
      {"orders/updated", nullptr, OrderEventKind::kUpdated, false},
      {"orders/updated", "partial", OrderEventKind::kUpdated, false},
      {"orders/updated", "fulfilled", OrderEventKind::kUpdated, true},
      {"orders/paid", "fulfilled", OrderEventKind::kPaid, true},
      {"orders/fulfilled", "fulfilled", OrderEventKind::kUpdated, true},
      // The topic alone says it, should the body's status be missing.
      {"orders/fulfilled", nullptr, OrderEventKind::kUpdated, true},
  };
  ShopifyNormaliser normaliser;
  for (const Case& c : cases) {
    order["fulfillment_status"] = c.status;
    Result<NormalisedEvent> e = normaliser.Normalise(ShopConfig{}, c.topic, order.dump());
    ASSERT_TRUE(e.ok()) << c.topic << " " << e.status().message();
    ASSERT_TRUE(std::holds_alternative<OrderEvent>(*e));
    EXPECT_EQ(std::get<OrderEvent>(*e).kind, c.kind) << c.topic << " " << c.status;
    EXPECT_EQ(std::get<OrderEvent>(*e).order.fulfilled, c.fulfilled) << c.topic << " " << c.status;
  }
}

TEST(ShopifyNormaliserTest, CustomerTopicsGiveTheIdentity) {
  ShopifyNormaliser normaliser;
  for (const char* topic : {"customers/create", "customers/update"}) {
    Result<NormalisedEvent> e = normaliser.Normalise(ShopConfig{}, topic, Fixture("customer.json"));
    ASSERT_TRUE(e.ok()) << e.status().message();
    ASSERT_TRUE(std::holds_alternative<CustomerEvent>(*e));
    const Customer& c = std::get<CustomerEvent>(*e).customer;
    EXPECT_EQ(c.platform_customer_id, "706405506930370084");
    EXPECT_EQ(c.email, "Bob.Norman@mail.example.com");
    EXPECT_EQ(c.first_name, "Bob");
    EXPECT_EQ(c.tags, std::vector<std::string>{"VIP"});
  }
  EXPECT_EQ(NormaliseError(R"({"email": "x@example.com"})", "customers/create").message(),
            "id: missing");
}

TEST(ShopifyNormaliserTest, OtherTopicsAreIgnoredWithoutReadingTheBody) {
  ShopifyNormaliser normaliser;
  Result<NormalisedEvent> e =
      normaliser.Normalise(ShopConfig{}, "products/update", "not even json");
  ASSERT_TRUE(e.ok());
  ASSERT_TRUE(std::holds_alternative<IgnoredEvent>(*e));
  EXPECT_NE(std::get<IgnoredEvent>(*e).reason.find("products/update"), std::string::npos);
}

// Found by tests/integration/hostile_input_test.cc: nlohmann throws out_of_range, not
// parse_error, for a number beyond a double, and the failed event said "unexpected payload
// shape" about a body that is not readable JSON.
TEST(ShopifyNormaliserTest, ANumberOverflowingADoubleIsMalformedJson) {
  json j = json::parse(Fixture("order_discounts.json"));
  std::string body = j.dump();
  body.replace(body.find("\"total_price\":"), 14, "\"x\":1e400,\"total_price\":");
  const Status st = NormaliseError(body);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("malformed JSON"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("number overflow parsing '1e400'"), std::string::npos)
      << st.message();
}

TEST(ShopifyNormaliserTest, MalformedOrIncompleteBodiesSayWhatIsWrong) {
  EXPECT_NE(NormaliseError("{\"id\": ").message().find("malformed JSON"), std::string::npos);
  EXPECT_EQ(NormaliseError("[]").code(), StatusCode::kInvalidArgument);

  json j = json::parse(Fixture("order_discounts.json"));
  j.erase("id");
  EXPECT_EQ(NormaliseError(j.dump()).message(), "id: missing");

  j = json::parse(Fixture("order_discounts.json"));
  j.erase("currency");
  EXPECT_EQ(NormaliseError(j.dump()).message(), "currency: missing");

  j = json::parse(Fixture("order_discounts.json"));
  j["line_items"][1].erase("price");
  j["line_items"][1].erase("price_set");
  EXPECT_EQ(NormaliseError(j.dump()).message(), "line_items[1].price: missing");

  j = json::parse(Fixture("order_discounts.json"));
  j["line_items"][0]["price_set"]["shop_money"]["amount"] = "12.345";
  EXPECT_NE(NormaliseError(j.dump()).message().find("line_items[0].price_set.shop_money.amount"),
            std::string::npos);

  j = json::parse(Fixture("order_discounts.json"));
  j["id"] = 1.5e18;  // a float id has already lost digits
  EXPECT_EQ(NormaliseError(j.dump()).message(), "id: must be an integer id");

  j = json::parse(Fixture("order_discounts.json"));
  j["line_items"][0]["quantity"] = "2";
  EXPECT_EQ(NormaliseError(j.dump()).message(),
            "line_items[0].quantity: must be a non-negative integer");

  j = json::parse(Fixture("order_discounts.json"));
  j["line_items"][0]["quantity"] = 4611686018427387904LL;  // price x quantity overflows
  EXPECT_NE(NormaliseError(j.dump()).message().find("overflows"), std::string::npos);

  j = json::parse(Fixture("order_discounts.json"));
  j["line_items"] = "nope";
  EXPECT_EQ(NormaliseError(j.dump()).message(), "line_items: must be an array");
}

// Referral attribution and its fraud guards (issue 5) read discount_codes[].code,
// landing_site, note_attributes[] {name, value}, the contact phone and shipping_address
// (https://shopify.dev/docs/api/admin-rest/latest/resources/order).
TEST(ShopifyNormaliserTest, ReferralFactsAreRead) {
  const Order o = NormaliseOrder(Fixture("order_referral.json"));
  EXPECT_EQ(o.platform_order_id, "820982911946154600");
  EXPECT_EQ(o.discount_codes, std::vector<std::string>{"FRIEND-XYZ"});
  EXPECT_EQ(o.landing_site,
            "/products/hooded-sweatshirt?utm_source=share&ref=ABC123&ref=caf%C3%A9+2");
  ASSERT_EQ(o.attributes.size(), 2u);
  EXPECT_EQ(o.attributes[0].name, "ref");
  EXPECT_EQ(o.attributes[0].value, "XYZ");
  EXPECT_EQ(o.attributes[1].name, "gift_wrap");
  EXPECT_EQ(o.attributes[1].value, "yes");
  // order.phone and customer.phone are null: the shipping address's phone is the contact.
  EXPECT_EQ(o.phone, "+44 20 7946 0000");
  ASSERT_TRUE(o.shipping_address.has_value());
  EXPECT_EQ(*o.shipping_address,
            (Address{"12 St. James's Sq", "Flat 2", "London", "ENG", "sw1y 4jh", "GB"}));
  ASSERT_TRUE(o.customer.has_value());
  EXPECT_EQ(o.customer->phone, "");
  EXPECT_EQ(o.email, "ada.lovelace+shop@gmail.com");
  // The money is read as before the new keys were parsed.
  EXPECT_EQ(o.total_minor, 11232);
  EXPECT_EQ(o.total_discounts_minor, 1600);
  ASSERT_EQ(o.line_items.size(), 2u);
  EXPECT_EQ(o.line_items[0].discount_minor, 1500);
  EXPECT_EQ(o.line_items[1].tax_minor, 152);

  // What the referral program derives from them (core/identity.h).
  EXPECT_EQ(RefCodesFromLandingSite(o.landing_site, "ref"),
            (std::vector<std::string>{"ABC123", "caf\u00e9 2"}));
  EXPECT_EQ(CanonicalEmail(o.email), "adalovelace@gmail.com");
  EXPECT_EQ(PhoneKey(o.phone), "2079460000");
  EXPECT_EQ(AddressKey(*o.shipping_address), "12stjamesssq|SW1Y4JH|GB");
}

TEST(ShopifyNormaliserTest, ReferralFactsComeWithEveryOrderTopic) {
  ShopifyNormaliser normaliser;
  for (const char* topic :
       {"orders/create", "orders/paid", "orders/updated", "orders/fulfilled", "orders/cancelled"}) {
    Result<NormalisedEvent> e =
        normaliser.Normalise(ShopConfig{}, topic, Fixture("order_referral.json"));
    ASSERT_TRUE(e.ok()) << topic << " " << e.status().message();
    ASSERT_TRUE(std::holds_alternative<OrderEvent>(*e)) << topic;
    const Order& o = std::get<OrderEvent>(*e).order;
    EXPECT_EQ(o.discount_codes, std::vector<std::string>{"FRIEND-XYZ"}) << topic;
    EXPECT_EQ(o.attributes.size(), 2u) << topic;
    EXPECT_FALSE(o.landing_site.empty()) << topic;
    EXPECT_EQ(o.phone, "+44 20 7946 0000") << topic;
    EXPECT_TRUE(o.shipping_address.has_value()) << topic;
  }
}

TEST(ShopifyNormaliserTest, PhoneFallsBackFromOrderToCustomerToShippingToBilling) {
  struct Case {
    const char* what;
    json order_phone;
    json customer_phone;
    json shipping_phone;
    json billing_phone;
    std::string phone;
  };
  const Case cases[] = {
      {"order", "+1 613 555 0100", "+1 613 555 0101", "+1 613 555 0102", "+1 613 555 0103",
       "+1 613 555 0100"},
      {"customer", nullptr, "+1 613 555 0101", "+1 613 555 0102", "+1 613 555 0103",
       "+1 613 555 0101"},
      {"empty is absent", "", "", "+1 613 555 0102", "+1 613 555 0103", "+1 613 555 0102"},
      {"billing", nullptr, nullptr, nullptr, "+1 613 555 0103", "+1 613 555 0103"},
      {"none", nullptr, nullptr, nullptr, nullptr, ""},
      {"not a string", 6135550100, nullptr, nullptr, "+1 613 555 0103", "+1 613 555 0103"},
  };
  for (const Case& c : cases) {
    json j = json::parse(Fixture("order_referral.json"));
    j["phone"] = c.order_phone;
    j["customer"]["phone"] = c.customer_phone;
    j["shipping_address"]["phone"] = c.shipping_phone;
    j["billing_address"]["phone"] = c.billing_phone;
    const Order o = NormaliseOrder(j.dump());
    EXPECT_EQ(o.phone, c.phone) << c.what;
    EXPECT_EQ(o.customer->phone,
              c.customer_phone.is_string() ? c.customer_phone.get<std::string>() : std::string())
        << c.what;
  }
  // A guest order (no customer key) falls back to the addresses.
  json guest = json::parse(Fixture("order_referral.json"));
  guest.erase("customer");
  guest["shipping_address"].erase("phone");
  EXPECT_EQ(NormaliseOrder(guest.dump()).phone, "020 7946 0000");
}

TEST(ShopifyNormaliserTest, GuestOrderCarriesItsReferralFacts) {
  const Order o = NormaliseOrder(Fixture("order_guest.json"));
  EXPECT_FALSE(o.customer.has_value());
  EXPECT_EQ(o.landing_site, "/?ref=ABC123");
  EXPECT_TRUE(o.discount_codes.empty());
  EXPECT_TRUE(o.attributes.empty());  // note_attributes: []
  EXPECT_EQ(o.phone, "");
  EXPECT_FALSE(o.shipping_address.has_value());  // the fixture ships nothing

  json j = json::parse(Fixture("order_guest.json"));
  j["discount_codes"] = json::array({{{"code", "WELCOME10"}, {"amount", "2.40"}}});
  j["note_attributes"] = json::array({{{"name", "ref"}, {"value", "XYZ"}}});
  j["shipping_address"] = {{"address1", "969 Market"},
                           {"zip", "94103"},
                           {"country_code", "US"},
                           {"phone", "(555) 555-5555"}};
  const Order with = NormaliseOrder(j.dump());
  EXPECT_EQ(with.discount_codes, std::vector<std::string>{"WELCOME10"});
  ASSERT_EQ(with.attributes.size(), 1u);
  EXPECT_EQ(with.attributes[0].value, "XYZ");
  EXPECT_EQ(with.phone, "(555) 555-5555");
  EXPECT_EQ(with.shipping_address, (Address{"969 Market", "", "", "", "94103", "US"}));
}

TEST(ShopifyNormaliserTest, OrderWithoutReferralFactsHasNone) {
  json j = json::parse(Fixture("order_referral.json"));
  for (const char* key : {"discount_codes", "landing_site", "note_attributes", "phone",
                          "shipping_address", "billing_address"}) {
    j.erase(key);
  }
  j["customer"].erase("phone");
  const Order o = NormaliseOrder(j.dump());
  EXPECT_TRUE(o.discount_codes.empty());
  EXPECT_EQ(o.landing_site, "");
  EXPECT_TRUE(o.attributes.empty());
  EXPECT_EQ(o.phone, "");
  EXPECT_FALSE(o.shipping_address.has_value());
  EXPECT_EQ(o.customer->phone, "");
  EXPECT_EQ(o.total_minor, 11232);
}

// The facts are optional: a shape other than the documented one is skipped, and the order
// still earns its points.
TEST(ShopifyNormaliserTest, MalformedReferralFactsAreSkippedNotRefused) {
  json j = json::parse(Fixture("order_referral.json"));
  j["discount_codes"] = json::array({"BARE", {{"code", 5}}, {{"code", ""}}, {{"code", "OK"}}});
  j["landing_site"] = 42;
  j["note_attributes"] = json::array({{{"name", "ref"}, {"value", 12}},
                                      {{"name", "ratio"}, {"value", 1.5}},
                                      {{"name", "big"}, {"value", 18446744073709551615ULL}},
                                      {{"name", "obj"}, {"value", {{"a", 1}}}},
                                      {{"name", "arr"}, {"value", json::array({1})}},
                                      {{"name", "flag"}, {"value", true}},
                                      {{"name", "nothing"}, {"value", nullptr}},
                                      {{"value", "nameless"}},
                                      {{"name", ""}, {"value", "empty name"}},
                                      "not an object",
                                      {{"name", "caf\u00e9"}, {"value", "\u2713"}}});
  j["shipping_address"]["address1"] = "";
  const Order o = NormaliseOrder(j.dump());
  EXPECT_EQ(o.discount_codes, std::vector<std::string>{"OK"});
  EXPECT_EQ(o.landing_site, "");
  ASSERT_EQ(o.attributes.size(), 4u);
  EXPECT_EQ(o.attributes[0].value, "12");
  EXPECT_EQ(o.attributes[1].value, "1.5");
  EXPECT_EQ(o.attributes[2].value, "18446744073709551615");
  EXPECT_EQ(o.attributes[3].name, "caf\u00e9");
  EXPECT_EQ(o.attributes[3].value, "\u2713");
  EXPECT_FALSE(o.shipping_address.has_value());  // address1 empty
  EXPECT_EQ(o.phone, "+44 20 7946 0000");        // its phone still counts

  for (const json& odd : {json("12 Main St"), json::array(), json(nullptr)}) {
    j["shipping_address"] = odd;
    j["note_attributes"] = {{"ref", "XYZ"}};  // an object, not the documented array
    j["discount_codes"] = "OK";
    const Order skipped = NormaliseOrder(j.dump());
    EXPECT_FALSE(skipped.shipping_address.has_value()) << odd;
    EXPECT_TRUE(skipped.attributes.empty()) << odd;
    EXPECT_TRUE(skipped.discount_codes.empty()) << odd;
  }
}

TEST(ShopifyNormaliserTest, CustomerTopicsCarryThePhone) {
  Result<NormalisedEvent> e =
      ShopifyNormaliser().Normalise(ShopConfig{}, "customers/update", Fixture("customer.json"));
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(std::get<CustomerEvent>(*e).customer.phone, "+16136120707");
  // Order payloads carry the customer's phone on the customer too.
  EXPECT_EQ(NormaliseOrder(Fixture("order_discounts.json")).customer->phone, "+16136120707");
  EXPECT_EQ(NormaliseOrder(Fixture("order_discounts.json")).phone, "+16136120707");
}

// `loyaltyd trigger` sends these; they carry no referral facts.
TEST(ShopifyNormaliserTest, SampleBodiesNormalise) {
  ShopifySampleOptions options;
  options.order_id = 5001;
  options.customer_id = 7;
  options.email = "ada@example.com";
  ShopifyNormaliser normaliser;
  for (const std::string& topic : ShopifySampleTopics()) {
    Result<std::string> body = ShopifySampleBody(topic, options);
    ASSERT_TRUE(body.ok()) << topic;
    Result<NormalisedEvent> e = normaliser.Normalise(ShopConfig{}, topic, *body);
    ASSERT_TRUE(e.ok()) << topic << " " << e.status().message();
    if (const OrderEvent* order = std::get_if<OrderEvent>(&*e)) {
      EXPECT_TRUE(order->order.discount_codes.empty()) << topic;
      EXPECT_TRUE(order->order.attributes.empty()) << topic;
      EXPECT_EQ(order->order.landing_site, "") << topic;
      EXPECT_FALSE(order->order.shipping_address.has_value()) << topic;
      EXPECT_EQ(order->order.total_minor, 4900) << topic;
    }
  }
}

// Privacy (issue 7): the mandatory compliance topics, with the payloads of
// https://shopify.dev/docs/apps/build/compliance/privacy-law-compliance.
TEST(ShopifyNormaliserTest, ComplianceTopicsArePrivacyEvents) {
  ShopifyNormaliser normaliser;
  Result<NormalisedEvent> data = normaliser.Normalise(
      ShopConfig{}, "customers/data_request",
      R"({"shop_id":954889,"shop_domain":"s.myshopify.com","orders_requested":[299938,280263],)"
      R"("customer":{"id":9007199254740993,"email":"john@example.com","phone":"555-625-1199"},)"
      R"("data_request":{"id":9999}})");
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  const PrivacyEvent& request = std::get<PrivacyEvent>(*data);
  EXPECT_EQ(request.kind, PrivacyEvent::Kind::kCustomerDataRequest);
  EXPECT_EQ(request.platform_customer_id, "9007199254740993");  // above 2^53, exact
  EXPECT_EQ(request.email, "john@example.com");
  EXPECT_EQ(request.phone, "555-625-1199");
  EXPECT_EQ(request.platform_order_ids, (std::vector<std::string>{"299938", "280263"}));
  EXPECT_EQ(request.platform_request_id, "9999");

  Result<NormalisedEvent> redact = normaliser.Normalise(
      ShopConfig{}, "customers/redact",
      R"({"shop_id":954889,"shop_domain":"s.myshopify.com","customer":{"id":191167,)"
      R"("email":"john@example.com","phone":"555-625-1199"},"orders_to_redact":[299938]})");
  ASSERT_TRUE(redact.ok()) << redact.status().ToString();
  EXPECT_EQ(std::get<PrivacyEvent>(*redact).kind, PrivacyEvent::Kind::kCustomerRedact);
  EXPECT_EQ(std::get<PrivacyEvent>(*redact).platform_order_ids, std::vector<std::string>{"299938"});

  for (const auto& [topic, kind] :
       {std::pair{"shop/redact", PrivacyEvent::Kind::kShopRedact},
        std::pair{"app/uninstalled", PrivacyEvent::Kind::kShopUninstalled}}) {
    Result<NormalisedEvent> e =
        normaliser.Normalise(ShopConfig{}, topic, R"({"shop_id":954889,"shop_domain":"s"})");
    ASSERT_TRUE(e.ok()) << topic;
    EXPECT_EQ(std::get<PrivacyEvent>(*e).kind, kind) << topic;
  }
  // A redaction that names nobody cannot be applied: the event fails, saying why.
  Result<NormalisedEvent> nobody =
      normaliser.Normalise(ShopConfig{}, "customers/redact", R"({"shop_id":1,"customer":{}})");
  ASSERT_FALSE(nobody.ok());
  EXPECT_NE(nobody.status().message().find("customer"), std::string::npos);
}

}  // namespace
}  // namespace loyaltyd::shopify_normaliser_test
