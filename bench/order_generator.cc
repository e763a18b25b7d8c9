#include "bench/order_generator.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <string_view>

#include <nlohmann/json.hpp>

namespace loyaltyd::bench {
namespace {

using Json = nlohmann::ordered_json;  // keeps Shopify's field order

// Shopify ids are 64-bit and increasingly above 2^53: a double would corrupt them.
constexpr uint64_t kIdBase = (uint64_t{1} << 53) + 1;
constexpr int64_t kFirstOrderEpoch = 1714536000;  // 2024-05-01T00:00:00-04:00
constexpr int kTaxRateBasisPoints = 725;          // CA state tax, 7.25 %
constexpr int64_t kFreeShippingFromCents = 5000;

std::string Amount(int64_t cents) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%lld.%02lld", static_cast<long long>(cents / 100),
                static_cast<long long>(cents % 100));
  return buf;
}

Json MoneySet(int64_t cents) {
  Json money = {{"amount", Amount(cents)}, {"currency_code", "USD"}};
  return {{"shop_money", money}, {"presentment_money", money}};
}

// `cents` * basis_points / 10000, rounded half up.
int64_t Percent(int64_t cents, int64_t basis_points) {
  return (cents * basis_points + 5000) / 10000;
}

// In the shop's time zone (UTC-4), as Shopify writes them.
std::string Timestamp(int64_t epoch_seconds) {
  const time_t local = static_cast<time_t>(epoch_seconds - 4 * 3600);
  std::tm tm{};
  gmtime_r(&local, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S-04:00", &tm);
  return buf;
}

std::string Gid(std::string_view type, uint64_t id) {
  return "gid://shopify/" + std::string(type) + "/" + std::to_string(id);
}

std::string Hex(std::mt19937_64& rng, size_t digits) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s(digits, '0');
  for (char& c : s) c = kDigits[rng() % 16];
  return s;
}

constexpr const char* kFirstNames[] = {"Ada",      "Grace",   "Alan",    "Edsger",
                                       "Barbara",  "Donald",  "Frances", "Ken",
                                       "Margaret", "Niklaus", "Radia",   "Tony"};
constexpr const char* kLastNames[] = {"Lovelace", "Hopper", "Turing",   "Dijkstra", "Liskov",
                                      "Knuth",    "Allen",  "Thompson", "Hamilton", "Wirth",
                                      "Perlman",  "Hoare",  "Ritchie",  "Kernighan"};
constexpr const char* kCities[][4] = {{"San Francisco", "94103", "California", "CA"},
                                      {"Portland", "97205", "Oregon", "OR"},
                                      {"Austin", "78701", "Texas", "TX"},
                                      {"Brooklyn", "11201", "New York", "NY"}};

std::string FirstNameOf(size_t who) { return kFirstNames[who % std::size(kFirstNames)]; }
std::string LastNameOf(size_t who) {
  return kLastNames[(who / std::size(kFirstNames)) % std::size(kLastNames)];
}
std::string EmailOf(size_t who) {
  std::string email =
      FirstNameOf(who) + "." + LastNameOf(who) + "." + std::to_string(who) + "@example.com";
  std::transform(email.begin(), email.end(), email.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return email;
}

std::vector<OrderGenerator::Product> MakeCatalog(std::mt19937_64& rng) {
  static constexpr const char* kAdjectives[] = {"Organic",  "Classic",     "Everyday", "Merino",
                                                "Recycled", "Heavyweight", "Travel",   "Studio"};
  static constexpr const char* kNouns[] = {"Cotton T-Shirt", "Hoodie",       "Canvas Tote",
                                           "Wool Beanie",    "Water Bottle", "Running Socks",
                                           "Denim Jacket"};
  static constexpr const char* kVariants[] = {"S / Black", "M / Navy", "L / Heather Grey",
                                              "XL / Forest Green", "One Size / Sand"};
  static constexpr const char* kVendors[] = {"Northwind Apparel", "Bench Goods Co.",
                                             "Loyal Threads"};
  std::vector<OrderGenerator::Product> catalog;
  uint64_t id = kIdBase + 400000000000;
  for (const char* adjective : kAdjectives) {
    for (const char* noun : kNouns) {
      OrderGenerator::Product p;
      p.product_id = id++;
      p.variant_id = id++ + 1000000000;
      p.title = std::string(adjective) + " " + noun;
      p.variant_title = kVariants[rng() % std::size(kVariants)];
      p.vendor = kVendors[rng() % std::size(kVendors)];
      p.sku = "BG-" + std::to_string(catalog.size() + 1000) + "-" + Hex(rng, 4);
      p.price_cents = 900 + static_cast<int64_t>(rng() % 120) * 100 + 95;
      p.grams = 100 + static_cast<int>(rng() % 900);
      catalog.push_back(std::move(p));
    }
  }
  return catalog;
}

Json Address(const std::string& first, const std::string& last, size_t who) {
  const auto& city = kCities[who % std::size(kCities)];
  return {{"first_name", first},
          {"address1", std::to_string(100 + who % 9000) + " Market Street"},
          {"city", city[0]},
          {"zip", city[1]},
          {"province", city[2]},
          {"country", "United States"},
          {"last_name", last},
          {"address2", nullptr},
          {"name", first + " " + last},
          {"country_code", "US"},
          {"province_code", city[3]}};
}

// The fields of Shopify's order webhook that carry meaning (money, ids, customer, items), with
// the decorative ones (client details, marketing consent, staff) left out to stay near 3-8 KB.
GeneratedOrder MakeOrder(size_t index, const OrderMix& mix,
                         const std::vector<OrderGenerator::Product>& catalog,
                         const ZipfSampler& zipf, std::mt19937_64& rng) {
  GeneratedOrder order;
  order.id = kIdBase + 5000000000 + index * 1009;  // distinct, not contiguous (like Shopify's)
  const int64_t created = kFirstOrderEpoch + static_cast<int64_t>(index) * 37;
  const std::string paid_at = Timestamp(created + 4);
  const uint64_t number = 1001 + index;

  order.guest = static_cast<int>(rng() % 100) < mix.guest_percent;
  order.customer_rank = zipf(rng);
  const size_t who = order.guest ? 1000000 + rng() % 1000 : order.customer_rank;
  const std::string first = FirstNameOf(who);
  const std::string last = LastNameOf(who);
  const std::string email =
      order.guest ? "guest-" + std::to_string(who) + "@example.net" : EmailOf(who);

  const bool discounted = rng() % 5 == 0;  // one order in five uses SPRING10 (10 % off)
  const size_t item_count = 1 + rng() % 4;
  Json line_items = Json::array();
  int64_t line_items_cents = 0, discount_cents = 0, tax_cents = 0;
  int grams = 0;
  for (size_t n = 0; n < item_count; ++n) {
    const OrderGenerator::Product& p = catalog[rng() % catalog.size()];
    const int64_t quantity = rng() % 4 == 0 ? 2 : 1;
    const int64_t line_cents = p.price_cents * quantity;
    const int64_t discount = discounted ? Percent(line_cents, 1000) : 0;
    const int64_t tax = Percent(line_cents - discount, kTaxRateBasisPoints);
    line_items_cents += line_cents;
    discount_cents += discount;
    tax_cents += tax;
    grams += p.grams * static_cast<int>(quantity);
    Json allocations = Json::array();
    if (discounted) {
      allocations.push_back({{"amount", Amount(discount)},
                             {"amount_set", MoneySet(discount)},
                             {"discount_application_index", 0}});
    }
    line_items.push_back({{"id", order.id + 7000000000 + n},
                          {"fulfillable_quantity", quantity},
                          {"gift_card", false},
                          {"grams", p.grams},
                          {"name", p.title + " - " + p.variant_title},
                          {"price", Amount(p.price_cents)},
                          {"price_set", MoneySet(p.price_cents)},
                          {"product_id", p.product_id},
                          {"quantity", quantity},
                          {"requires_shipping", true},
                          {"sku", p.sku},
                          {"taxable", true},
                          {"title", p.title},
                          {"total_discount", "0.00"},
                          {"total_discount_set", MoneySet(0)},
                          {"variant_id", p.variant_id},
                          {"variant_title", p.variant_title},
                          {"vendor", p.vendor},
                          {"tax_lines", Json::array({{{"price", Amount(tax)},
                                                      {"price_set", MoneySet(tax)},
                                                      {"rate", 0.0725},
                                                      {"title", "CA State Tax"}}})},
                          {"discount_allocations", allocations}});
  }
  const int64_t subtotal = line_items_cents - discount_cents;
  const int64_t shipping = subtotal >= kFreeShippingFromCents ? 0 : 599;
  const int64_t total = subtotal + shipping + tax_cents;

  Json body = {{"id", order.id},
               {"admin_graphql_api_id", Gid("Order", order.id)},
               {"browser_ip", "203.0.113." + std::to_string(1 + who % 254)},
               {"buyer_accepts_marketing", who % 3 == 0},
               {"cancel_reason", nullptr},
               {"cancelled_at", nullptr},
               {"checkout_token", Hex(rng, 32)},
               {"closed_at", nullptr},
               {"confirmed", true},
               {"contact_email", email},
               {"created_at", Timestamp(created)},
               {"currency", "USD"},
               {"current_subtotal_price", Amount(subtotal)},
               {"current_subtotal_price_set", MoneySet(subtotal)},
               {"current_total_discounts", Amount(discount_cents)},
               {"current_total_discounts_set", MoneySet(discount_cents)},
               {"current_total_price", Amount(total)},
               {"current_total_price_set", MoneySet(total)},
               {"current_total_tax", Amount(tax_cents)},
               {"current_total_tax_set", MoneySet(tax_cents)},
               {"discount_codes", discounted ? Json::array({{{"code", "SPRING10"},
                                                             {"amount", Amount(discount_cents)},
                                                             {"type", "percentage"}}})
                                             : Json::array()},
               {"email", email},
               {"financial_status", "paid"},
               {"fulfillment_status", nullptr},
               {"name", "#" + std::to_string(number)},
               {"note", nullptr},
               {"order_number", number},
               {"payment_gateway_names", Json::array({"shopify_payments"})},
               {"presentment_currency", "USD"},
               {"processed_at", paid_at},
               {"source_name", "web"},
               {"subtotal_price", Amount(subtotal)},
               {"subtotal_price_set", MoneySet(subtotal)},
               {"tags", ""},
               {"taxes_included", false},
               {"test", false},
               {"total_discounts", Amount(discount_cents)},
               {"total_discounts_set", MoneySet(discount_cents)},
               {"total_line_items_price", Amount(line_items_cents)},
               {"total_line_items_price_set", MoneySet(line_items_cents)},
               {"total_price", Amount(total)},
               {"total_price_set", MoneySet(total)},
               {"total_shipping_price_set", MoneySet(shipping)},
               {"total_tax", Amount(tax_cents)},
               {"total_tax_set", MoneySet(tax_cents)},
               {"total_weight", grams},
               {"updated_at", paid_at},
               {"billing_address", Address(first, last, who)}};
  if (!order.guest) {
    // Guest orders have no customer key at all.
    const uint64_t customer_id = OrderGenerator::CustomerPlatformId(who);
    body["customer"] = {{"id", customer_id},
                        {"email", email},
                        {"created_at", Timestamp(kFirstOrderEpoch - 86400 * (1 + who % 700))},
                        {"updated_at", paid_at},
                        {"first_name", first},
                        {"last_name", last},
                        {"state", "enabled"},
                        {"verified_email", true},
                        {"tags", who < 100 ? "VIP" : ""},
                        {"currency", "USD"},
                        {"admin_graphql_api_id", Gid("Customer", customer_id)}};
  }
  body["discount_applications"] = discounted ? Json::array({{{"target_type", "line_item"},
                                                             {"type", "discount_code"},
                                                             {"value", "10.0"},
                                                             {"value_type", "percentage"},
                                                             {"allocation_method", "across"},
                                                             {"target_selection", "all"},
                                                             {"code", "SPRING10"}}})
                                             : Json::array();
  body["fulfillments"] = Json::array();
  body["line_items"] = std::move(line_items);
  body["refunds"] = Json::array();
  body["shipping_address"] = Address(first, last, who);
  body["shipping_lines"] = Json::array({{{"id", order.id + 8000000000},
                                         {"code", shipping == 0 ? "Free Shipping" : "Standard"},
                                         {"price", Amount(shipping)},
                                         {"price_set", MoneySet(shipping)},
                                         {"source", "shopify"},
                                         {"title", shipping == 0 ? "Free Shipping" : "Standard"},
                                         {"tax_lines", Json::array()}}});
  order.body = body.dump();
  return order;
}

}  // namespace

ZipfSampler::ZipfSampler(size_t n, double s) : cdf_(n) {
  double sum = 0;
  for (size_t k = 0; k < n; ++k) cdf_[k] = sum += 1.0 / std::pow(static_cast<double>(k + 1), s);
  for (double& c : cdf_) c /= sum;
}

size_t ZipfSampler::operator()(std::mt19937_64& rng) const {
  const double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
  const auto it = std::lower_bound(cdf_.begin(), cdf_.end(), u);
  return std::min(static_cast<size_t>(it - cdf_.begin()), cdf_.size() - 1);
}

OrderGenerator::OrderGenerator(const OrderMix& mix)
    : mix_(mix), rng_(mix.seed), catalog_(MakeCatalog(rng_)), zipf_(mix.customers, mix.zipf_s) {}

GeneratedOrder OrderGenerator::Next() { return MakeOrder(index_++, mix_, catalog_, zipf_, rng_); }

uint64_t OrderGenerator::CustomerPlatformId(size_t rank) { return kIdBase + 900000000000 + rank; }

std::string OrderGenerator::CustomerEmail(size_t rank) { return EmailOf(rank); }

}  // namespace loyaltyd::bench
