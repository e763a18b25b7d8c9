// The referral program end to end (issue 5): the real loyaltyd binary, both shops of the
// harness config (Shopify and WooCommerce) sending signed order webhooks, the admin API as a
// signup form and a merchant use it, and fake stores (tests/fakes, real HTTP servers) in which
// the outbox creates the friends' welcome codes and the advocates' code rewards.
//
// Covered: every capture path (a friend's welcome code used on the order, Shopify's
// landing_site and note attributes, WooCommerce order meta, self-identification by code and by
// email), share links and clicks, every fraud guard with the reason it records, the hold and
// its release through `loyaltyd release-pending --now`, voiding by a cancellation or full
// refund in the hold, milestones, redelivery of every event, and the report as JSON and CSV.
//
// Orders carry created_at times from the test's own clock, one second apart in the order the
// test first sends them, so that "an earlier order" means what the test says. Nothing here
// waits on time: the hold is released by running the CLI with --now in the future.
#include <gtest/gtest.h>

#include <cctype>
#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "connectors/shopify/shopify_samples.h"
#include "connectors/woocommerce/woocommerce_samples.h"
#include "core/clock.h"
#include "fakes/fake_shopify_admin.h"
#include "fakes/fake_woocommerce_rest.h"
#include "integration/daemon_harness.h"

namespace loyaltyd::testing::referrals_test {
namespace {

using fakes::FakeShopifyAdmin;
using fakes::FakeWooCommerceRest;
using nlohmann::json;

constexpr const char* kShopifyStoreUrl = "https://shop.example.com";
constexpr const char* kWooShop = "it-woo";
constexpr int64_t kAdvocatePoints = 500;

// Someone who orders: their platform customer id in the store the order comes from, and the
// contact facts the self-referral guards read. phone and address1 are left out when empty.
struct Buyer {
  Buyer(uint64_t id_, std::string email_, std::string phone_ = "", std::string address1_ = "",
        std::string zip_ = "K1A 0B1", std::string country_ = "CA")
      : id(id_),
        email(std::move(email_)),
        phone(std::move(phone_)),
        address1(std::move(address1_)),
        zip(std::move(zip_)),
        country(std::move(country_)) {}
  uint64_t id;
  std::string email;
  std::string phone;
  std::string address1;
  std::string zip;
  std::string country;
};

// What an order carries besides its buyer.
struct OrderSpec {
  std::string subtotal = "60.00";
  std::vector<std::string> discount_codes;  // Shopify discount_codes / WooCommerce coupon_lines
  std::string landing_site;                 // Shopify only
  std::vector<std::pair<std::string, std::string>> attributes;  // note_attributes / meta_data
  std::string woo_status = "processing";
  std::string woo_modified = "2026-01-01T10:00:05";  // date_modified_gmt: a new one per change
  int64_t created_at_ms = 0;                         // 0: the order's slot in the test's clock
  std::string shopify_financial_status;              // "": the topic's sample's

  OrderSpec& Subtotal(std::string amount) {
    subtotal = std::move(amount);
    return *this;
  }
  OrderSpec& Code(std::string code) {
    discount_codes.push_back(std::move(code));
    return *this;
  }
  OrderSpec& Landing(std::string path) {
    landing_site = std::move(path);
    return *this;
  }
  OrderSpec& Attribute(std::string name, std::string value) {
    attributes.emplace_back(std::move(name), std::move(value));
    return *this;
  }
  OrderSpec& Woo(std::string status, std::string modified) {
    woo_status = std::move(status);
    woo_modified = std::move(modified);
    return *this;
  }
  OrderSpec& CreatedAt(int64_t ms) {
    created_at_ms = ms;
    return *this;
  }
  OrderSpec& Financial(std::string status) {
    shopify_financial_status = std::move(status);
    return *this;
  }
};

// The referrer of most tests: a Shopify customer with a phone and a shipping address on her
// orders (what the self-referral guards compare friends with).
const Buyer kAda{7001, "ada.lovelace@gmail.com", "+1 (613) 555-0101", "12 St James's Square"};
// A WooCommerce customer who refers friends too.
const Buyer kCleo{12, "cleo@example.com"};

class ReferralTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(shopify_.Start());
    ASSERT_TRUE(woo_.Start());
    json& config = daemon_.config();
    config["shops"][0]["store_url"] = kShopifyStoreUrl;
    config["shops"][0]["api"] = {{"base_url", shopify_.base_url()},
                                 {"access_token", shopify_.options().access_token},
                                 {"api_version", "2025-07"},
                                 {"timeout_seconds", 1}};
    config["shops"][1]["api"] = {{"base_url", woo_.base_url()},
                                 {"consumer_key", woo_.options().consumer_key},
                                 {"consumer_secret", woo_.options().consumer_secret},
                                 {"timeout_seconds", 1}};
    config["outbox"] = {{"max_attempts", 5},
                        {"initial_backoff_ms", 50},
                        {"max_backoff_ms", 200},
                        {"poll_interval_ms", 20}};
    referrals_ = {{"attribution_window_days", 30},
                  {"friend_reward", {{"kind", "percentage_discount"}, {"percentage", 10}}},
                  {"advocate_reward", {{"kind", "points"}, {"points", kAdvocatePoints}}}};
    clock_start_ms_ = SystemClock().NowMillis() - 3'600'000;
  }

  void Start() {
    daemon_.config()["program"]["referrals"] = referrals_;
    daemon_.Start();
  }

  // The created_at of an order: its own slot, one second after the previous new order's.
  int64_t CreatedAt(const std::string& key, const OrderSpec& spec) {
    if (spec.created_at_ms != 0) return spec.created_at_ms;
    auto [it, added] = created_at_.emplace(key, 0);
    if (added) it->second = clock_start_ms_ + static_cast<int64_t>(created_at_.size()) * 1000;
    return it->second;
  }

  // A Shopify order webhook (topic orders/create, orders/paid, orders/updated or
  // orders/cancelled), signed and posted; waits until the daemon has processed it.
  HttpAnswer ShopifyOrder(const std::string& topic, uint64_t order_id, const Buyer& buyer,
                          const OrderSpec& spec, const std::string& event_id) {
    ShopifySampleOptions options;
    options.order_id = order_id;
    options.customer_id = buyer.id;
    options.email = buyer.email;
    options.subtotal = spec.subtotal;
    Result<std::string> sample = ShopifySampleBody(topic, options);
    EXPECT_TRUE(sample.ok()) << sample.status().ToString();
    // The fields attribution reads, as in the REST Order resource
    // (https://shopify.dev/docs/api/admin-rest/latest/resources/order).
    json order = json::parse(*sample);
    order["created_at"] =
        FormatIso8601Millis(CreatedAt("shopify:" + std::to_string(order_id), spec));
    if (!spec.shopify_financial_status.empty()) {
      order["financial_status"] = spec.shopify_financial_status;
    }
    for (const std::string& code : spec.discount_codes) {
      order["discount_codes"].push_back(
          {{"code", code}, {"amount", "6.00"}, {"type", "percentage"}});
    }
    order["landing_site"] = spec.landing_site.empty() ? json(nullptr) : json(spec.landing_site);
    order["note_attributes"] = json::array();
    for (const auto& [name, value] : spec.attributes) {
      order["note_attributes"].push_back({{"name", name}, {"value", value}});
    }
    order["phone"] = buyer.phone.empty() ? json(nullptr) : json(buyer.phone);
    if (!buyer.address1.empty()) {
      order["shipping_address"] = {{"first_name", "Ada"},        {"last_name", "Lovelace"},
                                   {"address1", buyer.address1}, {"address2", ""},
                                   {"city", "Ottawa"},           {"province_code", "ON"},
                                   {"zip", buyer.zip},           {"country_code", buyer.country},
                                   {"phone", buyer.phone}};
    }
    HttpAnswer ack = daemon_.PostShopifyWebhook(topic, order.dump(), event_id);
    EXPECT_EQ(ack.status, 200) << ack.body;
    EXPECT_TRUE(daemon_.WaitUntilProcessed());
    return ack;
  }
  // orders/paid with the event id "paid-<order id>".
  void ShopifyPaid(uint64_t order_id, const Buyer& buyer, const OrderSpec& spec = {}) {
    ShopifyOrder("orders/paid", order_id, buyer, spec, "paid-" + std::to_string(order_id));
  }

  // A WooCommerce order webhook (order.created or order.updated) with the order in
  // spec.woo_status, signed and posted; waits until the daemon has processed it.
  HttpAnswer WooOrder(const std::string& topic, uint64_t order_id, const Buyer& buyer,
                      const OrderSpec& spec, const std::string& delivery_id) {
    WooCommerceSampleOptions options;
    options.order_id = order_id;
    options.customer_id = buyer.id;
    options.email = buyer.email;
    options.subtotal = spec.subtotal;
    options.status = spec.woo_status;
    options.date_modified_gmt = spec.woo_modified;
    Result<std::string> sample = WooCommerceSampleBody(topic, options);
    EXPECT_TRUE(sample.ok()) << sample.status().ToString();
    // The fields attribution reads, as WC_REST_Orders_V2_Controller::get_formatted_item_data
    // builds them: coupon_lines[] {id, code, discount, discount_tax, meta_data}, with the code
    // as WooCommerce stores it (lower-cased); meta_data[] {id, key, value}; billing.phone; the
    // shipping address.
    json order = json::parse(*sample);
    const std::string created =
        FormatIso8601Millis(CreatedAt("woo:" + std::to_string(order_id), spec)).substr(0, 19);
    order["date_created"] = created;
    order["date_created_gmt"] = created;
    int line = 0;
    for (const std::string& code : spec.discount_codes) {
      order["coupon_lines"].push_back({{"id", 800 + ++line},
                                       {"code", code},
                                       {"discount", "6.00"},
                                       {"discount_tax", "0.00"},
                                       {"meta_data", json::array()}});
    }
    for (const auto& [key, value] : spec.attributes) {
      order["meta_data"].push_back({{"id", 900 + ++line}, {"key", key}, {"value", value}});
    }
    // The sample gives every order one phone and one address: each buyer has their own here.
    order["billing"]["phone"] = buyer.phone;
    order["shipping"]["phone"] = "";
    order["shipping"]["address_1"] = buyer.address1;
    order["shipping"]["postcode"] = buyer.address1.empty() ? "" : buyer.zip;
    order["shipping"]["country"] = buyer.address1.empty() ? "" : buyer.country;
    const std::string body = WooCommerceEscapeSlashes(order.dump(-1, ' ', true));
    HttpAnswer ack = daemon_.PostWooCommerceWebhook(topic, body, delivery_id);
    EXPECT_EQ(ack.status, 200) << ack.body;
    EXPECT_TRUE(daemon_.WaitUntilProcessed());
    return ack;
  }
  // order.updated in "processing" (WooCommerce's paid status), delivery "paid-<order id>".
  void WooPaid(uint64_t order_id, const Buyer& buyer, const OrderSpec& spec = {}) {
    WooOrder("order.updated", order_id, buyer, spec, "paid-" + std::to_string(order_id));
  }

  // The customer with this email and a platform customer id in this shop (a friend given a
  // welcome code before their first order also has a record without one); 0 (and a failure)
  // when there is none.
  int64_t CustomerId(const std::string& email, const std::string& shop = "it") {
    const json found = daemon_.Get("/api/v1/customers?email=" + email).Json();
    for (const json& c : found["customers"]) {
      if (c["shop_id"] == shop && !c["platform_customer_id"].is_null()) return c["id"];
    }
    ADD_FAILURE() << "no customer " << email << " in shop " << shop << ": " << found.dump();
    return 0;
  }
  int64_t Balance(int64_t customer) {
    return daemon_.Get("/api/v1/customers/" + std::to_string(customer)).Json()["points_balance"];
  }
  // The customer's ledger entries of kind "referral" (advocate rewards and milestones).
  std::vector<json> ReferralEntries(int64_t customer) {
    std::vector<json> out;
    const json ledger =
        daemon_.Get("/api/v1/customers/" + std::to_string(customer) + "/ledger").Json();
    for (const json& e : ledger["entries"]) {
      if (e["kind"] == "referral") out.push_back(e);
    }
    return out;
  }

  // An advocate: a customer with a paid order of their own (40 points) and a referral code.
  int64_t Advocate(const Buyer& buyer, const std::string& shop, uint64_t order_id,
                   std::string& code) {
    if (shop == kWooShop) {
      WooPaid(order_id, buyer, OrderSpec().Subtotal("40.00"));
    } else {
      ShopifyPaid(order_id, buyer, OrderSpec().Subtotal("40.00"));
    }
    const int64_t id = CustomerId(buyer.email, shop);
    const HttpAnswer link = daemon_.Get("/api/v1/customers/" + std::to_string(id) + "/referral");
    EXPECT_EQ(link.status, 200) << link.body;
    code = link.Json()["code"];
    return id;
  }

  // POST /api/v1/referrals, as a signup form sends it.
  HttpAnswer Identify(const json& body) { return daemon_.Post("/api/v1/referrals", body.dump()); }

  json Referrals(int64_t referrer) {
    const HttpAnswer answer =
        daemon_.Get("/api/v1/customers/" + std::to_string(referrer) + "/referrals");
    EXPECT_EQ(answer.status, 200) << answer.body;
    return answer.Json()["referrals"];
  }
  // The referrer's only referral of this friend (by the email it was recorded with).
  json ReferralOf(int64_t referrer, const std::string& friend_email) {
    json match;
    int found = 0;
    for (const json& r : Referrals(referrer)) {
      if (r["friend_email"] == friend_email) {
        match = r;
        ++found;
      }
    }
    EXPECT_EQ(found, 1) << "referrals of " << referrer << " for " << friend_email << ": "
                        << Referrals(referrer).dump();
    return match;
  }

  // Polls the redemption until it leaves `pending`.
  json WaitSettled(int64_t redemption) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    json r;
    while (std::chrono::steady_clock::now() < deadline) {
      r = daemon_.Get("/api/v1/redemptions/" + std::to_string(redemption)).Json();
      if (r.is_object() && r["status"] != "pending") return r;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return r;
  }

  // `loyaltyd release-pending` against the daemon's database, as of `now`.
  std::string ReleasePending(const std::string& now) {
    std::string out;
    EXPECT_EQ(DaemonHarness::RunCli(
                  "release-pending --config " + daemon_.dir() + "/config.json --now " + now, out),
              0)
        << out;
    return out;
  }

  json Report() {
    const HttpAnswer answer = daemon_.Get("/api/v1/reports/referrals");
    EXPECT_EQ(answer.status, 200) << answer.body;
    return answer.Json()["referrers"];
  }
  json ReportRow(int64_t referrer) {
    for (const json& row : Report()) {
      if (row["referrer_customer_id"] == referrer) return row;
    }
    ADD_FAILURE() << "no report row for " << referrer;
    return json();
  }

  FakeShopifyAdmin shopify_;
  FakeWooCommerceRest woo_;
  DaemonHarness daemon_;
  json referrals_;
  int64_t clock_start_ms_ = 0;
  std::map<std::string, int64_t> created_at_;
};

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// Reasons are "code: detail" items joined by "; ".
bool HasReason(const json& referral, const std::string& code) {
  return referral["reason"].is_string() &&
         referral["reason"].get<std::string>().find(code + ":") != std::string::npos;
}

// --- Share links and clicks ---

TEST_F(ReferralTest, ShareLinkIsAStableCodeOnTheStoreUrlAndClicksAreCounted) {
  Start();
  std::string ada_code, cleo_code;
  const int64_t ada = Advocate(kAda, "it", 1001, ada_code);
  const int64_t cleo = Advocate(kCleo, kWooShop, 501, cleo_code);

  // Ten characters of an alphabet without look-alikes (no 0/O, 1/I/L).
  // 10 characters of the alphabet without look-alikes (no I, L, O, 0, 1). Checked by hand
  // rather than with <regex>, whose GCC 12 headers warn falsely under the sanitizer build.
  EXPECT_EQ(ada_code.size(), 10u) << ada_code;
  EXPECT_EQ(ada_code.find_first_not_of("ABCDEFGHJKMNPQRSTUVWXYZ23456789"), std::string::npos)
      << ada_code;
  EXPECT_NE(ada_code, cleo_code);
  const std::string ada_path = "/api/v1/customers/" + std::to_string(ada) + "/referral";
  json link = daemon_.Get(ada_path).Json();
  EXPECT_EQ(link["customer_id"], ada);
  EXPECT_EQ(link["shop_id"], "it");
  EXPECT_EQ(link["code"], ada_code);
  EXPECT_EQ(link["share_url"], std::string(kShopifyStoreUrl) + "/?ref=" + ada_code);
  // Without store_url the link goes to the shop's domain.
  link = daemon_.Get("/api/v1/customers/" + std::to_string(cleo) + "/referral").Json();
  EXPECT_EQ(link["share_url"], std::string("https://") + kWooDomain + "/?ref=" + cleo_code);

  // Stable: asked again, and after a restart.
  EXPECT_EQ(daemon_.Get(ada_path).Json()["code"], ada_code);
  ASSERT_EQ(daemon_.Stop(), 0);
  daemon_.Start();
  EXPECT_EQ(daemon_.Get(ada_path).Json()["code"], ada_code);
  EXPECT_EQ(daemon_.Get("/api/v1/customers/999/referral").status, 404);

  // Clicks on share links, counted per referrer; codes are found without case.
  for (const std::string& code : {ada_code, ada_code, Lower(ada_code)}) {
    EXPECT_EQ(daemon_.Post("/api/v1/referrals/clicks", json{{"code", code}}.dump()).status, 204);
  }
  EXPECT_EQ(daemon_.Post("/api/v1/referrals/clicks", json{{"code", cleo_code}}.dump()).status, 204);
  EXPECT_EQ(daemon_.Post("/api/v1/referrals/clicks", R"({"code": "NOSUCHCODE"})").status, 404);
  EXPECT_EQ(daemon_.Post("/api/v1/referrals/clicks", R"({})").status, 400);
  EXPECT_EQ(ReportRow(ada)["clicks"], 3);
  EXPECT_EQ(ReportRow(cleo)["clicks"], 1);
  EXPECT_EQ(ReportRow(ada)["code"], ada_code);
}

// --- Capture paths ---

TEST_F(ReferralTest, ShopifyFriendCodeIsCreatedForEveryoneAndItsUseRewardsTheAdvocate) {
  Start();
  std::string code;
  const int64_t ada = Advocate(kAda, "it", 1001, code);

  HttpAnswer identified = Identify({{"friend_email", "bob@example.com"}, {"referrer_code", code}});
  ASSERT_EQ(identified.status, 201) << identified.body;
  const json referral = identified.Json();
  EXPECT_EQ(referral["status"], "identified");
  EXPECT_EQ(referral["source"], "self_identified");
  EXPECT_EQ(referral["referrer_customer_id"], ada);
  ASSERT_TRUE(referral["welcome_reward"].is_object()) << referral.dump();
  const json welcome = WaitSettled(referral["welcome_reward"]["redemption_id"]);
  ASSERT_EQ(welcome["status"], "issued") << welcome.dump();
  const std::string friend_code = welcome["code"];
  EXPECT_EQ(friend_code.rfind("FRIEND-", 0), 0u) << friend_code;

  // The friend is not a Shopify customer yet: the code is for everyone, once.
  fakes::FakeDiscount discount;
  ASSERT_TRUE(shopify_.discount(friend_code, &discount));
  EXPECT_EQ(discount.type, "DiscountCodeBasic");
  EXPECT_EQ(discount.input["usageLimit"], 1);
  EXPECT_EQ(discount.input["context"], (json{{"all", "ALL"}}));
  EXPECT_EQ(discount.input["customerGets"]["value"]["percentage"], 0.1);

  // The same signup again: the same referral, no second code.
  HttpAnswer again = Identify({{"friend_email", "bob@example.com"}, {"referrer_code", code}});
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.Json()["id"], referral["id"]);
  EXPECT_EQ(shopify_.discounts().size(), 1u);

  // Bob checks out under another address than he signed up with: only the code can name Ada.
  const Buyer bob{8001, "bob.orders@example.com"};
  const OrderSpec order = OrderSpec().Code(friend_code);
  ShopifyOrder("orders/create", 2001, bob, order, "create-2001");
  EXPECT_EQ(Balance(ada), 40) << "an unpaid order rewards nobody";
  ShopifyPaid(2001, bob, order);

  const json converted = daemon_.Get("/api/v1/referrals/" + referral["id"].dump()).Json();
  EXPECT_EQ(converted["status"], "converted") << converted.dump();
  EXPECT_EQ(converted["order"]["platform_order_id"], "2001");
  EXPECT_EQ(converted["order"]["total"], "60.00");
  EXPECT_EQ(converted["friend_customer_id"], CustomerId(bob.email));
  EXPECT_EQ(converted["advocate_reward"]["points"], kAdvocatePoints);
  EXPECT_EQ(converted["welcome_reward"]["code"], friend_code);
  EXPECT_EQ(Balance(ada), 40 + kAdvocatePoints);
  EXPECT_EQ(Balance(CustomerId(bob.email)), 60);
}

TEST_F(ReferralTest, WooCommerceFriendCodeIsACouponForTheFriendsEmailAndItsUseRewardsTheAdvocate) {
  Start();
  std::string code;
  const int64_t cleo = Advocate(kCleo, kWooShop, 501, code);

  // By the referrer's email this time (the form's "who sent you?").
  HttpAnswer identified =
      Identify({{"friend_email", "dana@example.com"}, {"referrer_email", "Cleo@Example.com"}});
  ASSERT_EQ(identified.status, 201) << identified.body;
  const json referral = identified.Json();
  EXPECT_EQ(referral["shop_id"], kWooShop);
  const json welcome = WaitSettled(referral["welcome_reward"]["redemption_id"]);
  ASSERT_EQ(welcome["status"], "issued") << welcome.dump();
  // WooCommerce keeps coupon codes lower-cased.
  const std::string coupon_code = welcome["code"];
  EXPECT_EQ(coupon_code.rfind("friend-", 0), 0u) << coupon_code;
  const json coupon = woo_.coupon(coupon_code);
  ASSERT_TRUE(coupon.is_object()) << coupon_code;
  EXPECT_EQ(coupon["email_restrictions"], json::array({"dana@example.com"}));
  EXPECT_EQ(coupon["usage_limit"], 1);
  EXPECT_EQ(coupon["discount_type"], "percent");
  EXPECT_EQ(coupon["amount"], "10");

  // WooCommerce accepts a restricted coupon when the logged-in account's email or the billing
  // email is on the list (WC_Cart_Coupons, check_customer_coupons): Dana's account is
  // dana@example.com, her billing email another. Only the code can name Cleo.
  const Buyer dana{21, "dana.billing@example.com"};
  OrderSpec order = OrderSpec().Code(coupon_code).Woo("pending", "2026-01-01T10:00:05");
  WooOrder("order.created", 601, dana, order, "created-601");
  EXPECT_EQ(Balance(cleo), 40) << "an unpaid order rewards nobody";
  order.Woo("processing", "2026-01-01T10:00:09");
  WooOrder("order.updated", 601, dana, order, "updated-601");

  const json converted = ReferralOf(cleo, "dana@example.com");
  EXPECT_EQ(converted["status"], "converted") << converted.dump();
  EXPECT_EQ(converted["order"]["shop_id"], kWooShop);
  EXPECT_EQ(converted["order"]["platform_order_id"], "601");
  EXPECT_EQ(Balance(cleo), 40 + kAdvocatePoints);

  // Completed later, and the same delivery again: nothing more.
  order.Woo("completed", "2026-01-01T10:00:19");
  WooOrder("order.updated", 601, dana, order, "completed-601");
  WooOrder("order.updated", 601, dana, order, "completed-601");
  EXPECT_EQ(Balance(cleo), 40 + kAdvocatePoints);
  EXPECT_EQ(ReferralEntries(cleo).size(), 1u);
  EXPECT_EQ(woo_.coupons().size(), 1u);
}

TEST_F(ReferralTest, ShopifyLandingSiteAndNoteAttributeCarryTheRefCode) {
  Start();
  std::string code;
  const int64_t ada = Advocate(kAda, "it", 1001, code);

  // The share link's ref arrives in the first page of the visit (sometimes a full URL).
  const Buyer bob{8001, "bob@example.com"};
  ShopifyPaid(2001, bob, OrderSpec().Landing("/?utm_source=mail&ref=" + code));
  // A theme that keeps the ref in a cart attribute; codes are matched without case.
  const Buyer erin{8002, "erin@example.com"};
  ShopifyPaid(2002, erin, OrderSpec().Attribute("gift_note", "hi").Attribute("ref", Lower(code)));

  const json by_landing = ReferralOf(ada, "bob@example.com");
  EXPECT_EQ(by_landing["source"], "landing_site");
  EXPECT_EQ(by_landing["status"], "converted") << by_landing.dump();
  EXPECT_EQ(by_landing["order"]["platform_order_id"], "2001");
  const json by_note = ReferralOf(ada, "erin@example.com");
  EXPECT_EQ(by_note["source"], "note_attribute");
  EXPECT_EQ(by_note["status"], "converted") << by_note.dump();
  EXPECT_EQ(Balance(ada), 40 + 2 * kAdvocatePoints);
  EXPECT_EQ(ReferralEntries(ada).size(), 2u);
}

TEST_F(ReferralTest, WooCommerceOrderMetaCarriesTheRefCodeOfAShopifyAdvocate) {
  Start();
  std::string code;
  const int64_t ada = Advocate(kAda, "it", 1001, code);

  const Buyer frank{22, "frank@example.com"};
  WooPaid(602, frank,
          OrderSpec().Attribute("_wc_order_attribution_utm_source", "mail").Attribute("ref", code));
  const json referral = ReferralOf(ada, "frank@example.com");
  EXPECT_EQ(referral["source"], "order_meta");
  EXPECT_EQ(referral["shop_id"], kWooShop);
  EXPECT_EQ(referral["status"], "converted") << referral.dump();
  EXPECT_EQ(referral["friend_customer_id"], CustomerId("frank@example.com", kWooShop));
  EXPECT_EQ(Balance(ada), 40 + kAdvocatePoints);
}

TEST_F(ReferralTest, SelfIdentificationByCodeOrEmailAttributesTheFriendsFirstPaidOrder) {
  Start();
  std::string code;
  const int64_t ada = Advocate(kAda, "it", 1001, code);

  // Requests a form can get wrong are refused before anything is recorded: malformed (400),
  // or not a request that can be met (422).
  EXPECT_EQ(Identify({{"referrer_code", code}}).status, 400);
  EXPECT_EQ(Identify({{"friend_email", "x@example.com"}, {"referrer", code}}).status, 400);
  EXPECT_EQ(Identify({{"friend_email", "x@example.com"}}).status, 422);
  EXPECT_EQ(Identify({{"friend_email", "x@example.com"},
                      {"referrer_code", code},
                      {"referrer_email", kAda.email}})
                .status,
            422);
  EXPECT_EQ(Identify({{"friend_email", "not-an-email"}, {"referrer_code", code}}).status, 422);
  EXPECT_EQ(Identify({{"friend_email", "x@example.com"}, {"referrer_code", "NOSUCHCODE"}}).status,
            404);
  EXPECT_EQ(
      Identify({{"friend_email", "x@example.com"}, {"referrer_email", "no@example.com"}}).status,
      404);
  EXPECT_TRUE(Referrals(ada).empty());

  // By code (lower-cased as typed), for a Shopify friend; by email, for a friend signing up in
  // the WooCommerce store (Ada is a customer of the Shopify store: the referrer may be anyone's).
  HttpAnswer by_code = Identify({{"friend_email", "Bob@Example.com"},
                                 {"referrer_code", Lower(code)},
                                 {"welcome_reward", false}});
  ASSERT_EQ(by_code.status, 201) << by_code.body;
  EXPECT_TRUE(by_code.Json()["welcome_reward"].is_null());
  HttpAnswer by_email = Identify({{"friend_email", "dana@example.com"},
                                  {"referrer_email", kAda.email},
                                  {"shop_id", kWooShop},
                                  {"welcome_reward", false}});
  ASSERT_EQ(by_email.status, 201) << by_email.body;
  EXPECT_EQ(by_email.Json()["shop_id"], kWooShop);
  EXPECT_EQ(Balance(ada), 40);
  EXPECT_TRUE(shopify_.discounts().empty());
  EXPECT_TRUE(woo_.coupons().empty());

  ShopifyPaid(2001, {8001, "bob@example.com"});
  WooPaid(601, {21, "dana@example.com"});
  const json bob = ReferralOf(ada, "Bob@Example.com");
  EXPECT_EQ(bob["status"], "converted") << bob.dump();
  EXPECT_EQ(bob["order"]["shop_id"], "it");
  const json dana = ReferralOf(ada, "dana@example.com");
  EXPECT_EQ(dana["status"], "converted") << dana.dump();
  EXPECT_EQ(dana["order"]["shop_id"], kWooShop);
  EXPECT_EQ(Balance(ada), 40 + 2 * kAdvocatePoints);

  // The friends' later orders are not first orders: nothing more.
  ShopifyPaid(2002, {8001, "bob@example.com"});
  WooPaid(602, {21, "dana@example.com"});
  EXPECT_EQ(Balance(ada), 40 + 2 * kAdvocatePoints);
  EXPECT_EQ(Referrals(ada).size(), 2u);
}

// Regression: Ada's link on the order of a friend she had identified made a second referral
// and rejected her own identification as "already referred" (by her), counted in her report.
TEST_F(ReferralTest, AnAdvocatesLinkOnTheOrderOfAFriendSheIdentifiedAttributesThatReferral) {
  Start();
  std::string code;
  const int64_t ada = Advocate(kAda, "it", 1001, code);
  HttpAnswer identified = Identify({{"friend_email", "bob@example.com"}, {"referrer_code", code}});
  ASSERT_EQ(identified.status, 201) << identified.body;
  WooPaid(601, {21, "dana@example.com"}, OrderSpec());  // not a referral: nothing to attribute
  ASSERT_EQ(Identify({{"friend_email", "erin@example.com"}, {"referrer_email", kAda.email}}).status,
            201);

  ShopifyPaid(2001, {8001, "bob@example.com"}, OrderSpec().Landing("/?ref=" + code));
  WooPaid(602, {22, "erin@example.com"}, OrderSpec().Attribute("ref", code));
  const json referrals = Referrals(ada);
  ASSERT_EQ(referrals.size(), 2u) << referrals.dump();
  const json bob = ReferralOf(ada, "bob@example.com");
  EXPECT_EQ(bob["id"], identified.Json()["id"]);
  EXPECT_EQ(bob["status"], "converted") << bob.dump();
  EXPECT_EQ(bob["welcome_reward"]["redemption_id"],
            identified.Json()["welcome_reward"]["redemption_id"]);
  EXPECT_EQ(ReferralOf(ada, "erin@example.com")["status"], "converted");
  EXPECT_EQ(Balance(ada), 40 + 2 * kAdvocatePoints);
  const json row = ReportRow(ada);
  EXPECT_EQ(row["rejected"], 0) << row.dump();
  EXPECT_EQ(row["identifications"], 2);
  EXPECT_EQ(row["conversions"], 2);
}

// --- Fraud guards ---

TEST_F(ReferralTest, SelfReferralBySameEmailIsRejectedWithoutReward) {
  Start();
  std::string code;
  const int64_t ada = Advocate(kAda, "it", 1001, code);

  // Gmail ignores dots and +tags, and googlemail.com is gmail.com.
  HttpAnswer rejected =
      Identify({{"friend_email", "AdaLovelace+friends@googlemail.com"}, {"referrer_code", code}});
  ASSERT_EQ(rejected.status, 409) << rejected.body;
  EXPECT_TRUE(HasReason(rejected.Json(), "self_referral")) << rejected.body;
  EXPECT_EQ(rejected.Json()["status"], "rejected");
  EXPECT_NE(rejected.Json()["error"].get<std::string>().find("self_referral"), std::string::npos);
  EXPECT_TRUE(shopify_.discounts().empty()) << "a rejected friend got a welcome code";

  // Her second account in the WooCommerce store, ordering with her own ref code.
  WooPaid(601, {31, "a.da.lovelace+woo@gmail.com"}, OrderSpec().Attribute("ref", code));
  const json order_borne = ReferralOf(ada, "a.da.lovelace+woo@gmail.com");
  EXPECT_EQ(order_borne["status"], "rejected");
  EXPECT_TRUE(HasReason(order_borne, "self_referral")) << order_borne.dump();

  // Her own Shopify order through her own share link.
  ShopifyPaid(1002, kAda, OrderSpec().Landing("/?ref=" + code));
  bool own_order_rejected = false;
  for (const json& r : Referrals(ada)) {
    if (r["order"].is_object() && r["order"]["platform_order_id"] == "1002") {
      own_order_rejected = r["status"] == "rejected" && HasReason(r, "self_referral");
    }
  }
  EXPECT_TRUE(own_order_rejected) << Referrals(ada).dump();

  const json listed = ReferralOf(ada, "AdaLovelace+friends@googlemail.com");
  EXPECT_EQ(listed["status"], "rejected");
  EXPECT_TRUE(HasReason(listed, "self_referral"));
  EXPECT_TRUE(ReferralEntries(ada).empty());
  EXPECT_EQ(Balance(ada), 40 + 60);  // her two orders' points, no referral reward
}

TEST_F(ReferralTest, SelfReferralBySameShippingAddressOrPhoneIsRejectedWithoutReward) {
  Start();
  std::string code;
  const int64_t ada = Advocate(kAda, "it", 1001, code);

  // Another name and inbox, Ada's front door written another way, in the other store.
  const Buyer frank{22, "frank@example.com", "", "12 st. James's square", "k1a0b1", "ca"};
  WooPaid(601, frank, OrderSpec().Attribute("ref", code));
  const json by_address = ReferralOf(ada, "frank@example.com");
  EXPECT_EQ(by_address["status"], "rejected");
  EXPECT_TRUE(HasReason(by_address, "self_referral")) << by_address.dump();
  EXPECT_NE(by_address["reason"].get<std::string>().find("shipping address"), std::string::npos);

  // Identified by the form (nothing to compare yet), then ordering from Ada's phone.
  ASSERT_EQ(Identify({{"friend_email", "gina@example.com"},
                      {"referrer_code", code},
                      {"welcome_reward", false}})
                .status,
            201);
  ShopifyPaid(2001, {8003, "gina@example.com", "613.555.0101"});
  const json by_phone = ReferralOf(ada, "gina@example.com");
  EXPECT_EQ(by_phone["status"], "rejected");
  EXPECT_TRUE(HasReason(by_phone, "self_referral")) << by_phone.dump();
  EXPECT_NE(by_phone["reason"].get<std::string>().find("phone"), std::string::npos);

  EXPECT_TRUE(ReferralEntries(ada).empty());
  EXPECT_EQ(Balance(ada), 40);
}

TEST_F(ReferralTest, AFriendWithAnEarlierOrderInTheOtherStoreIsNotNew) {
  Start();
  std::string code;
  const int64_t ada = Advocate(kAda, "it", 1001, code);

  // Hank bought in the WooCommerce store; Ada's signup form is on the Shopify store.
  WooPaid(601, {23, "hank@example.com"});
  HttpAnswer rejected = Identify({{"friend_email", "hank@example.com"}, {"referrer_code", code}});
  ASSERT_EQ(rejected.status, 409) << rejected.body;
  EXPECT_TRUE(HasReason(rejected.Json(), "friend_not_new")) << rejected.body;
  EXPECT_NE(rejected.body.find("shop it-woo"), std::string::npos) << rejected.body;
  EXPECT_TRUE(shopify_.discounts().empty());

  // Ivy bought in the WooCommerce store before; her Shopify order through Ada's link is not
  // a new customer's, whichever webhook arrives first.
  const Buyer ivy_shopify{8004, "ivy@example.com"};
  const Buyer ivy_woo{24, "ivy@example.com"};
  const int64_t earlier = clock_start_ms_ - 86'400'000;
  WooPaid(602, ivy_woo, OrderSpec().CreatedAt(earlier));
  ShopifyPaid(2001, ivy_shopify, OrderSpec().Landing("/?ref=" + code));
  const json ivy = ReferralOf(ada, "ivy@example.com");
  EXPECT_EQ(ivy["status"], "rejected");
  EXPECT_TRUE(HasReason(ivy, "friend_not_new")) << ivy.dump();

  EXPECT_TRUE(HasReason(ReferralOf(ada, "hank@example.com"), "friend_not_new"));
  EXPECT_TRUE(ReferralEntries(ada).empty());
  EXPECT_EQ(Balance(ada), 40);
}

TEST_F(ReferralTest, DailyCapRejectsTheReferrerReferralsBeyondIt) {
  referrals_["guards"] = {{"max_referrals_per_day", 2}};
  Start();
  std::string code;
  const int64_t ada = Advocate(kAda, "it", 1001, code);

  for (const char* email : {"f1@example.com", "f2@example.com"}) {
    ASSERT_EQ(
        Identify({{"friend_email", email}, {"referrer_code", code}, {"welcome_reward", false}})
            .status,
        201);
  }
  HttpAnswer third = Identify(
      {{"friend_email", "f3@example.com"}, {"referrer_code", code}, {"welcome_reward", false}});
  ASSERT_EQ(third.status, 409) << third.body;
  EXPECT_TRUE(HasReason(third.Json(), "referrer_daily_cap")) << third.body;
  // A ref code carried by an order counts against the same cap.
  WooPaid(601, {25, "f4@example.com"}, OrderSpec().Attribute("ref", code));
  const json fourth = ReferralOf(ada, "f4@example.com");
  EXPECT_EQ(fourth["status"], "rejected");
  EXPECT_TRUE(HasReason(fourth, "referrer_daily_cap")) << fourth.dump();

  // The capped friend's order rewards nobody; the others' do.
  ShopifyPaid(2003, {8013, "f3@example.com"});
  EXPECT_EQ(Balance(ada), 40);
  ShopifyPaid(2001, {8011, "f1@example.com"});
  WooPaid(602, {26, "f2@example.com"});
  EXPECT_EQ(Balance(ada), 40 + 2 * kAdvocatePoints);
  EXPECT_EQ(ReferralOf(ada, "f3@example.com")["status"], "rejected");
}

TEST_F(ReferralTest, AdvocateRewardCapRejectsConversionsBeyondIt) {
  referrals_["guards"] = {{"max_advocate_rewards", 1}, {"advocate_rewards_period", "month"}};
  Start();
  std::string code;
  const int64_t ada = Advocate(kAda, "it", 1001, code);
  for (const char* email : {"bob@example.com", "dana@example.com"}) {
    ASSERT_EQ(
        Identify({{"friend_email", email}, {"referrer_code", code}, {"welcome_reward", false}})
            .status,
        201);
  }
  ShopifyPaid(2001, {8001, "bob@example.com"});
  WooPaid(601, {21, "dana@example.com"});

  EXPECT_EQ(ReferralOf(ada, "bob@example.com")["status"], "converted");
  const json capped = ReferralOf(ada, "dana@example.com");
  EXPECT_EQ(capped["status"], "rejected");
  EXPECT_TRUE(HasReason(capped, "advocate_reward_cap")) << capped.dump();
  EXPECT_TRUE(capped["advocate_reward"].is_null());
  EXPECT_EQ(Balance(ada), 40 + kAdvocatePoints);
  EXPECT_EQ(ReferralEntries(ada).size(), 1u);
}

TEST_F(ReferralTest, TheSameFriendReferredTwiceGoesToTheFirstValidReferral) {
  Start();
  std::string ada_code, cleo_code;
  const int64_t ada = Advocate(kAda, "it", 1001, ada_code);
  const int64_t cleo = Advocate(kCleo, kWooShop, 501, cleo_code);

  ASSERT_EQ(Identify({{"friend_email", "carol@example.com"},
                      {"referrer_code", ada_code},
                      {"welcome_reward", false}})
                .status,
            201);
  HttpAnswer second = Identify({{"friend_email", "carol@example.com"},
                                {"referrer_code", cleo_code},
                                {"welcome_reward", false}});
  ASSERT_EQ(second.status, 409) << second.body;
  EXPECT_TRUE(HasReason(second.Json(), "already_referred")) << second.body;

  ShopifyPaid(2001, {8005, "carol@example.com"});
  EXPECT_EQ(ReferralOf(ada, "carol@example.com")["status"], "converted");
  EXPECT_EQ(Balance(ada), 40 + kAdvocatePoints);

  // Later, Carol orders in the WooCommerce store through Cleo's link: too late.
  WooPaid(601, {27, "carol@example.com"}, OrderSpec().Attribute("ref", cleo_code));
  bool late_rejected = false;
  for (const json& r : Referrals(cleo)) {
    if (r["order"].is_object() && r["order"]["platform_order_id"] == "601") {
      late_rejected = r["status"] == "rejected" && HasReason(r, "already_referred");
    }
  }
  EXPECT_TRUE(late_rejected) << Referrals(cleo).dump();
  EXPECT_TRUE(ReferralEntries(cleo).empty());
  EXPECT_EQ(Balance(cleo), 40);
  EXPECT_EQ(Balance(ada), 40 + kAdvocatePoints);
}

// --- Hold, voiding, milestones ---

TEST_F(ReferralTest, HeldRewardWaitsForReleaseAndACancellationOrRefundInTheHoldVoidsIt) {
  referrals_["hold_days"] = 14;
  Start();
  std::string code;
  const int64_t ada = Advocate(kAda, "it", 1001, code);
  const std::vector<std::string> friends = {"bob@example.com", "dana@example.com",
                                            "erin@example.com", "gus@example.com"};
  for (const std::string& email : friends) {
    ASSERT_EQ(
        Identify({{"friend_email", email}, {"referrer_code", code}, {"welcome_reward", false}})
            .status,
        201);
  }
  const Buyer bob{8001, "bob@example.com"};
  const Buyer dana{21, "dana@example.com"};
  const Buyer erin{8002, "erin@example.com"};
  const Buyer gus{8003, "gus@example.com"};
  ShopifyPaid(2001, bob);
  WooPaid(601, dana);
  ShopifyPaid(2002, erin);
  ShopifyPaid(2003, gus);
  for (const std::string& email : friends) {
    const json r = ReferralOf(ada, email);
    EXPECT_EQ(r["status"], "pending") << r.dump();
    EXPECT_TRUE(r["reward_due_at"].is_string()) << r.dump();
  }
  EXPECT_EQ(Balance(ada), 40);

  // Within the hold: Dana's order is refunded in full in WooCommerce, Erin's cancelled and
  // Gus's refunded in full in Shopify (each delivered twice).
  const OrderSpec refunded = OrderSpec().Woo("refunded", "2026-01-01T11:00:00");
  WooOrder("order.updated", 601, dana, refunded, "refunded-601");
  WooOrder("order.updated", 601, dana, refunded, "refunded-601");
  ShopifyOrder("orders/cancelled", 2002, erin, {}, "cancel-2002");
  ShopifyOrder("orders/cancelled", 2002, erin, {}, "cancel-2002");
  ShopifyOrder("orders/updated", 2003, gus, OrderSpec().Financial("refunded"), "refund-2003");
  ShopifyOrder("orders/updated", 2003, gus, OrderSpec().Financial("refunded"), "refund-2003");
  for (const char* email : {"dana@example.com", "erin@example.com", "gus@example.com"}) {
    const json r = ReferralOf(ada, email);
    EXPECT_EQ(r["status"], "voided") << r.dump();
    EXPECT_TRUE(HasReason(r, "order_refunded")) << r.dump();
  }

  // Not due yet; then due, twice: converted once.
  std::string out = ReleasePending("2000-01-01T00:00:00Z");
  EXPECT_NE(out.find("0 held referral(s) converted"), std::string::npos) << out;
  EXPECT_EQ(Balance(ada), 40);
  out = ReleasePending("2100-01-01T00:00:00Z");
  EXPECT_NE(out.find("1 held referral(s) converted; 0 voided"), std::string::npos) << out;
  out = ReleasePending("2100-01-01T00:00:00Z");
  EXPECT_NE(out.find("0 held referral(s) converted"), std::string::npos) << out;
  const json released = ReferralOf(ada, "bob@example.com");
  EXPECT_EQ(released["status"], "converted") << released.dump();
  EXPECT_TRUE(released["reward_due_at"].is_null());
  EXPECT_EQ(Balance(ada), 40 + kAdvocatePoints);
  EXPECT_EQ(ReferralOf(ada, "dana@example.com")["status"], "voided");
  EXPECT_EQ(ReferralOf(ada, "erin@example.com")["status"], "voided");
  EXPECT_EQ(ReferralOf(ada, "gus@example.com")["status"], "voided");

  // After the release a cancellation changes nothing for the advocate (Bob loses his points).
  ShopifyOrder("orders/cancelled", 2001, bob, {}, "cancel-2001");
  EXPECT_EQ(ReferralOf(ada, "bob@example.com")["status"], "converted");
  EXPECT_EQ(Balance(ada), 40 + kAdvocatePoints);
  EXPECT_EQ(Balance(CustomerId(bob.email)), 0);
  EXPECT_EQ(ReferralEntries(ada).size(), 1u);
  const json row = ReportRow(ada);
  EXPECT_EQ(row["conversions"], 1);
  EXPECT_EQ(row["voided"], 3);
  EXPECT_EQ(row["pending"], 0);
}

TEST_F(ReferralTest, MilestonesAreGrantedOnceWhenReached) {
  referrals_["milestones"] = {
      {{"referrals", 2}, {"reward", {{"kind", "points"}, {"points", 1000}}}},
      {{"referrals", 3},
       {"reward", {{"kind", "fixed_discount"}, {"amount", "20.00"}, {"code_prefix", "VIP-"}}}}};
  Start();
  std::string code;
  const int64_t cleo = Advocate(kCleo, kWooShop, 501, code);
  for (const char* email : {"bob@example.com", "dana@example.com", "erin@example.com"}) {
    ASSERT_EQ(
        Identify({{"friend_email", email}, {"referrer_code", code}, {"welcome_reward", false}})
            .status,
        201);
  }

  ShopifyPaid(2001, {8001, "bob@example.com"});
  EXPECT_EQ(Balance(cleo), 40 + kAdvocatePoints);
  WooPaid(601, {21, "dana@example.com"});
  EXPECT_EQ(Balance(cleo), 40 + 2 * kAdvocatePoints + 1000);
  ShopifyPaid(2002, {8002, "erin@example.com"});
  EXPECT_EQ(Balance(cleo), 40 + 3 * kAdvocatePoints + 1000) << "the 2nd milestone paid twice";

  // The third milestone is a code for Cleo in her WooCommerce store.
  const json redemptions =
      daemon_.Get("/api/v1/customers/" + std::to_string(cleo) + "/redemptions").Json();
  ASSERT_EQ(redemptions["redemptions"].size(), 1u) << redemptions.dump();
  const json milestone = WaitSettled(redemptions["redemptions"][0]["id"]);
  ASSERT_EQ(milestone["status"], "issued") << milestone.dump();
  const json coupon = woo_.coupon(milestone["code"]);
  EXPECT_EQ(milestone["code"].get<std::string>().rfind("vip-", 0), 0u) << milestone.dump();
  EXPECT_EQ(coupon["amount"], "20.00");
  EXPECT_EQ(coupon["email_restrictions"], json::array({kCleo.email}));

  // Every friend's order again: nothing more.
  ShopifyOrder("orders/paid", 2002, {8002, "erin@example.com"}, {}, "paid-2002-again");
  WooOrder("order.updated", 601, {21, "dana@example.com"},
           OrderSpec().Woo("completed", "2026-01-01T11:00:00"), "c-601");
  EXPECT_EQ(Balance(cleo), 40 + 3 * kAdvocatePoints + 1000);
  const std::vector<json> entries = ReferralEntries(cleo);
  ASSERT_EQ(entries.size(), 4u);
  int milestone_entries = 0;
  for (const json& e : entries) milestone_entries += e["rule_id"] == "referral_milestone";
  EXPECT_EQ(milestone_entries, 1);
  EXPECT_EQ(daemon_.Get("/api/v1/customers/" + std::to_string(cleo) + "/redemptions")
                .Json()["redemptions"]
                .size(),
            1u);
  EXPECT_EQ(woo_.coupons().size(), 1u);
  const json row = ReportRow(cleo);
  EXPECT_EQ(row["conversions"], 3);
  EXPECT_EQ(row["points_awarded"], 3 * kAdvocatePoints + 1000);
  EXPECT_EQ(row["rewards_issued"], 1);
}

// --- Redelivery ---

TEST_F(ReferralTest, EveryEventDeliveredAgainChangesNothing) {
  Start();
  std::string code;
  const int64_t ada = Advocate(kAda, "it", 1001, code);
  const Buyer bob{8001, "bob@example.com"};
  const Buyer dana{21, "dana@example.com"};

  // The signup twice.
  HttpAnswer first = Identify({{"friend_email", bob.email}, {"referrer_code", code}});
  ASSERT_EQ(first.status, 201) << first.body;
  ASSERT_EQ(Identify({{"friend_email", bob.email}, {"referrer_code", code}}).status, 200);
  ASSERT_EQ(WaitSettled(first.Json()["welcome_reward"]["redemption_id"])["status"], "issued");

  // Shopify: create, paid, paid again (the same event), updated, and paid under a new event id
  // (one store event fanned out, then redelivered).
  const OrderSpec bob_order = OrderSpec().Landing("/?ref=" + code);
  ShopifyOrder("orders/create", 2001, bob, bob_order, "e-create");
  ShopifyOrder("orders/paid", 2001, bob, bob_order, "e-paid");
  ShopifyOrder("orders/paid", 2001, bob, bob_order, "e-paid");
  ShopifyOrder("orders/updated", 2001, bob, bob_order, "e-updated");
  ShopifyOrder("orders/paid", 2001, bob, bob_order, "e-paid-2");
  // WooCommerce: created already processing, the same delivery again, updated, completed.
  const OrderSpec dana_order = OrderSpec().Attribute("ref", code);
  WooOrder("order.created", 601, dana, dana_order, "d-1");
  WooOrder("order.created", 601, dana, dana_order, "d-1");
  WooOrder("order.updated", 601, dana, dana_order, "d-2");
  const OrderSpec completed = OrderSpec(dana_order).Woo("completed", "2026-01-01T12:00:00");
  WooOrder("order.updated", 601, dana, completed, "d-3");

  EXPECT_EQ(Referrals(ada).size(), 2u) << Referrals(ada).dump();
  EXPECT_EQ(ReferralOf(ada, bob.email)["status"], "converted");
  EXPECT_EQ(ReferralOf(ada, bob.email)["id"], first.Json()["id"]);
  EXPECT_EQ(ReferralOf(ada, dana.email)["status"], "converted");
  EXPECT_EQ(Balance(ada), 40 + 2 * kAdvocatePoints);
  EXPECT_EQ(ReferralEntries(ada).size(), 2u);
  EXPECT_EQ(Balance(CustomerId(bob.email)), 60);
  EXPECT_EQ(Balance(CustomerId(dana.email, kWooShop)), 60);
  EXPECT_EQ(shopify_.discounts().size(), 1u);

  // And after a restart, which replays nothing already processed.
  ASSERT_EQ(daemon_.Stop(), 0);
  daemon_.Start();
  ShopifyOrder("orders/paid", 2001, bob, bob_order, "e-paid");
  EXPECT_EQ(Balance(ada), 40 + 2 * kAdvocatePoints);
  EXPECT_EQ(Referrals(ada).size(), 2u);
}

// --- Reporting ---

TEST_F(ReferralTest, ReportAndReferralListsAreJsonAndCsv) {
  Start();
  std::string ada_code, cleo_code;
  const int64_t ada = Advocate(kAda, "it", 1001, ada_code);
  const int64_t cleo = Advocate(kCleo, kWooShop, 501, cleo_code);

  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(daemon_.Post("/api/v1/referrals/clicks", json{{"code", ada_code}}.dump()).status,
              204);
  }
  // Ada: one converted by the form, one rejected (herself, who has ordered before: two
  // reasons), one rejected (not new).
  ASSERT_EQ(Identify({{"friend_email", "bob@example.com"},
                      {"referrer_code", ada_code},
                      {"welcome_reward", false}})
                .status,
            201);
  ShopifyPaid(2001, {8001, "bob@example.com"});
  ASSERT_EQ(
      Identify({{"friend_email", "ada.lovelace+1@gmail.com"}, {"referrer_code", ada_code}}).status,
      409);
  WooPaid(601, {23, "hank@example.com"});
  ASSERT_EQ(Identify({{"friend_email", "hank@example.com"}, {"referrer_code", ada_code}}).status,
            409);
  // Cleo: Bob again, too late (and he has ordered by now).
  ASSERT_EQ(Identify({{"friend_email", "bob@example.com"}, {"referrer_code", cleo_code}}).status,
            409);

  const json ada_row = ReportRow(ada);
  EXPECT_EQ(ada_row["email"], kAda.email);
  EXPECT_EQ(ada_row["code"], ada_code);
  EXPECT_EQ(ada_row["clicks"], 2);
  EXPECT_EQ(ada_row["identifications"], 3);
  EXPECT_EQ(ada_row["attributed"], 1);
  EXPECT_EQ(ada_row["conversions"], 1);
  EXPECT_EQ(ada_row["rejected"], 2);
  EXPECT_EQ(ada_row["points_awarded"], kAdvocatePoints);
  EXPECT_EQ(ada_row["rejected_reasons"], (json{{"friend_not_new", 2}, {"self_referral", 1}}));
  const json cleo_row = ReportRow(cleo);
  EXPECT_EQ(cleo_row["rejected"], 1);
  EXPECT_EQ(cleo_row["rejected_reasons"], (json{{"already_referred", 1}, {"friend_not_new", 1}}));
  EXPECT_EQ(Report().size(), 2u) << Report().dump();

  // CSV: a header row, then one row per referrer.
  const HttpAnswer csv = daemon_.Get("/api/v1/reports/referrals?format=csv");
  ASSERT_EQ(csv.status, 200) << csv.body;
  const std::string header =
      "referrer_customer_id,email,code,clicks,identifications,attributed,conversions,pending,"
      "voided,rejected,points_awarded,rewards_issued,rejected_reasons\r\n";
  ASSERT_EQ(csv.body.rfind(header, 0), 0u) << csv.body;
  const std::string ada_line = std::to_string(ada) + "," + kAda.email + "," + ada_code +
                               ",2,3,1,1,0,0,2,500,0,friend_not_new=2; self_referral=1\r\n";
  EXPECT_NE(csv.body.find(ada_line), std::string::npos) << csv.body;
  const std::string cleo_line = std::to_string(cleo) + "," + kCleo.email + "," + cleo_code +
                                ",0,1,0,0,0,0,1,0,0," + "already_referred=1; friend_not_new=1\r\n";
  EXPECT_NE(csv.body.find(cleo_line), std::string::npos) << csv.body;
  EXPECT_EQ(csv.body.size(), header.size() + ada_line.size() + cleo_line.size()) << csv.body;
  EXPECT_EQ(daemon_.Get("/api/v1/reports/referrals?format=xml").status, 400);

  // A referrer's referrals as CSV: a header row, then one row per referral, newest first.
  const HttpAnswer list =
      daemon_.Get("/api/v1/customers/" + std::to_string(ada) + "/referrals?format=csv");
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(list.body.rfind("id,friend_email,source,status,reason,order,order_total,"
                            "advocate_reward,identified_at,converted_at\r\n",
                            0),
            0u)
      << list.body;
  size_t rows = 0;
  for (size_t at = list.body.find("\r\n"); at != std::string::npos;
       at = list.body.find("\r\n", at + 2)) {
    ++rows;
  }
  EXPECT_EQ(rows, 4u) << list.body;
  EXPECT_NE(list.body.find(",bob@example.com,self_identified,converted,,#"), std::string::npos)
      << list.body;
  EXPECT_NE(list.body.find(",60.00,500 points,"), std::string::npos) << list.body;
  EXPECT_NE(list.body.find(",hank@example.com,self_identified,rejected,friend_not_new:"),
            std::string::npos)
      << list.body;
  EXPECT_EQ(Referrals(ada).size(), 3u);
  EXPECT_EQ(daemon_.Get("/api/v1/customers/999/referrals").status, 404);
}

}  // namespace
}  // namespace loyaltyd::testing::referrals_test
