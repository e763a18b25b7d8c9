// loyaltyd_make_payloads: writes pre-signed Shopify orders/paid webhook bodies for the ingest
// benchmark (bench/ingest.lua replays them through wrk; bench/README.md has the whole story).
//
// Each body is a realistic order of 4-8 KB: ids above 2^53 (sent as JSON numbers, as Shopify
// does), money as decimal strings with *_set {shop_money, presentment_money}, 1-4 line items
// with tax lines, some with a discount code, shipping and billing addresses, and a customer from a
// Zipf distribution over --customers (a few regulars place most orders), or a guest with no
// customer key. Order ids are distinct. Output is deterministic for a given --seed.
//
// The file is plain records rather than Lua source: wrk starts each thread as soon as its script
// has loaded, while the next thread is still loading, so load time is counted as extra requests.
// A wrk thread reads its share of 20,000 records in about 0.15 s, skipping the others with seek;
// Lua source would have to be parsed whole by every thread (about 0.4 s for the same bodies).
//
//   loyaltyd-bench-payloads 1           header lines "key value", ended by an empty line
//   shop_domain bench-shop.myshopify.com
//   topic orders/paid
//   count 20000
//
//   <base64 HMAC-SHA256 of body> <order id> <body length in bytes>
//   <body>
//   ... one such pair per order
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/crypto.h"

namespace {

using Json = nlohmann::ordered_json;  // keeps Shopify's field order

// Shopify ids are 64-bit and increasingly above 2^53: a double would corrupt them.
constexpr uint64_t kIdBase = (uint64_t{1} << 53) + 1;
constexpr int64_t kFirstOrderEpoch = 1714536000;  // 2024-05-01T00:00:00-04:00
constexpr int kTaxRateBasisPoints = 725;          // CA state tax, 7.25 %
constexpr int64_t kFreeShippingFromCents = 5000;

constexpr const char* kUsage =
    "usage: loyaltyd_make_payloads --secret S --out FILE [--count N] [--customers N]\n"
    "         [--zipf-s X] [--guest-percent P] [--seed N] [--shop-domain D]\n"
    "  --count N          distinct orders to write (default 20000)\n"
    "  --customers N      customers the orders are spread over (default 10000)\n"
    "  --zipf-s X         Zipf exponent of orders per customer (default 1.0)\n"
    "  --guest-percent P  orders without a customer (default 5)\n"
    "  --seed N           random seed; same seed, same file (default 1)\n"
    "  --shop-domain D    X-Shopify-Shop-Domain to send (default bench-shop.myshopify.com)\n";

struct Options {
  size_t count = 20000;
  size_t customers = 10000;
  double zipf_s = 1.0;
  int guest_percent = 5;
  uint64_t seed = 1;
  std::string shop_domain = "bench-shop.myshopify.com";
  std::string secret;
  std::string out;
};

struct Product {
  uint64_t product_id = 0;
  uint64_t variant_id = 0;
  std::string title;
  std::string variant_title;
  std::string vendor;
  std::string sku;
  int64_t price_cents = 0;
  int grams = 0;
};

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

// Rank 0 is the most frequent. Inverse-CDF sampling over a precomputed table.
class ZipfSampler {
 public:
  ZipfSampler(size_t n, double s) : cdf_(n) {
    double sum = 0;
    for (size_t k = 0; k < n; ++k) cdf_[k] = sum += 1.0 / std::pow(static_cast<double>(k + 1), s);
    for (double& c : cdf_) c /= sum;
  }
  size_t operator()(std::mt19937_64& rng) {
    const double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
    const auto it = std::lower_bound(cdf_.begin(), cdf_.end(), u);
    return std::min(static_cast<size_t>(it - cdf_.begin()), cdf_.size() - 1);
  }

 private:
  std::vector<double> cdf_;
};

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

std::vector<Product> MakeCatalog(std::mt19937_64& rng) {
  static constexpr const char* kAdjectives[] = {"Organic",  "Classic",     "Everyday", "Merino",
                                                "Recycled", "Heavyweight", "Travel",   "Studio"};
  static constexpr const char* kNouns[] = {"Cotton T-Shirt", "Hoodie",       "Canvas Tote",
                                           "Wool Beanie",    "Water Bottle", "Running Socks",
                                           "Denim Jacket"};
  static constexpr const char* kVariants[] = {"S / Black", "M / Navy", "L / Heather Grey",
                                              "XL / Forest Green", "One Size / Sand"};
  static constexpr const char* kVendors[] = {"Northwind Apparel", "Bench Goods Co.",
                                             "Loyal Threads"};
  std::vector<Product> catalog;
  uint64_t id = kIdBase + 400000000000;
  for (const char* adjective : kAdjectives) {
    for (const char* noun : kNouns) {
      Product p;
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

struct Order {
  uint64_t id = 0;
  std::string body;
  bool guest = false;
  size_t customer_rank = 0;
};

// The fields of Shopify's order webhook that carry meaning (money, ids, customer, items), with
// the decorative ones (client details, marketing consent, staff) left out to stay near 3-8 KB.
Order MakeOrder(size_t index, const Options& options, const std::vector<Product>& catalog,
                ZipfSampler& zipf, std::mt19937_64& rng) {
  Order order;
  order.id = kIdBase + 5000000000 + index * 1009;  // distinct, not contiguous (like Shopify's)
  const int64_t created = kFirstOrderEpoch + static_cast<int64_t>(index) * 37;
  const std::string paid_at = Timestamp(created + 4);
  const uint64_t number = 1001 + index;

  order.guest = static_cast<int>(rng() % 100) < options.guest_percent;
  order.customer_rank = zipf(rng);
  const size_t who = order.guest ? 1000000 + rng() % 1000 : order.customer_rank;
  const std::string first = kFirstNames[who % std::size(kFirstNames)];
  const std::string last = kLastNames[(who / std::size(kFirstNames)) % std::size(kLastNames)];
  std::string email = first + "." + last + "." + std::to_string(who) + "@example.com";
  std::transform(email.begin(), email.end(), email.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (order.guest) email = "guest-" + std::to_string(who) + "@example.net";

  const bool discounted = rng() % 5 == 0;  // one order in five uses SPRING10 (10 % off)
  const size_t item_count = 1 + rng() % 4;
  Json line_items = Json::array();
  int64_t line_items_cents = 0, discount_cents = 0, tax_cents = 0;
  int grams = 0;
  for (size_t n = 0; n < item_count; ++n) {
    const Product& p = catalog[rng() % catalog.size()];
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
    const uint64_t customer_id = kIdBase + 900000000000 + who;
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

bool ParseSize(const char* text, size_t min, size_t max, size_t& out) {
  char* end = nullptr;
  const unsigned long long value = std::strtoull(text, &end, 10);
  if (end == text || *end != '\0' || value < min || value > max) return false;
  out = static_cast<size_t>(value);
  return true;
}

// Returns an error message, or empty when the options are complete.
std::string ParseOptions(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; i += 2) {
    const std::string_view flag = argv[i];
    if (i + 1 >= argc) return "missing value after " + std::string(flag);
    const char* value = argv[i + 1];
    size_t n = 0;
    if (flag == "--count") {
      if (!ParseSize(value, 1, 10000000, o.count)) return "--count must be 1..10000000";
    } else if (flag == "--customers") {
      if (!ParseSize(value, 1, 100000000, o.customers)) return "--customers must be 1..100000000";
    } else if (flag == "--zipf-s") {
      char* end = nullptr;
      o.zipf_s = std::strtod(value, &end);
      if (end == value || *end != '\0' || !(o.zipf_s >= 0 && o.zipf_s <= 5)) {
        return "--zipf-s must be a number in 0..5";
      }
    } else if (flag == "--guest-percent") {
      if (!ParseSize(value, 0, 100, n)) return "--guest-percent must be 0..100";
      o.guest_percent = static_cast<int>(n);
    } else if (flag == "--seed") {
      if (!ParseSize(value, 0, SIZE_MAX, n)) return "--seed must be a non-negative integer";
      o.seed = n;
    } else if (flag == "--shop-domain") {
      o.shop_domain = value;
    } else if (flag == "--secret") {
      o.secret = value;
    } else if (flag == "--out") {
      o.out = value;
    } else {
      return "unknown option " + std::string(flag);
    }
  }
  if (o.secret.empty()) return "--secret is required (the shop's webhook_secret)";
  if (o.out.empty()) return "--out is required";
  return "";
}

int Run(const Options& options) {
  std::ofstream out(options.out, std::ios::binary | std::ios::trunc);
  if (!out) {
    std::fprintf(stderr, "loyaltyd_make_payloads: cannot write %s\n", options.out.c_str());
    return 1;
  }
  out << "loyaltyd-bench-payloads 1\n"
      << "shop_domain " << options.shop_domain << "\n"
      << "topic orders/paid\n"
      << "count " << options.count << "\n\n";

  std::mt19937_64 rng(options.seed);
  const std::vector<Product> catalog = MakeCatalog(rng);
  ZipfSampler zipf(options.customers, options.zipf_s);
  size_t min_size = SIZE_MAX, max_size = 0, total_size = 0, guests = 0;
  std::set<size_t> customers;
  for (size_t i = 0; i < options.count; ++i) {
    const Order order = MakeOrder(i, options, catalog, zipf, rng);
    out << loyaltyd::HmacSha256Base64(options.secret, order.body) << ' ' << order.id << ' '
        << order.body.size() << '\n'
        << order.body << '\n';
    min_size = std::min(min_size, order.body.size());
    max_size = std::max(max_size, order.body.size());
    total_size += order.body.size();
    if (order.guest) {
      ++guests;
    } else {
      customers.insert(order.customer_rank);
    }
  }
  out.close();
  if (!out) {
    std::fprintf(stderr, "loyaltyd_make_payloads: writing %s failed\n", options.out.c_str());
    return 1;
  }
  std::fprintf(stderr,
               "loyaltyd_make_payloads: %zu orders (%zu guest, %zu distinct customers of %zu) in "
               "%s; body bytes min %zu, mean %zu, max %zu\n",
               options.count, guests, customers.size(), options.customers, options.out.c_str(),
               min_size, total_size / options.count, max_size);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && (std::string_view(argv[1]) == "--help" || std::string_view(argv[1]) == "-h")) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  Options options;
  const std::string error = ParseOptions(argc, argv, options);
  if (!error.empty()) {
    std::fprintf(stderr, "loyaltyd_make_payloads: %s\n%s", error.c_str(), kUsage);
    return 2;
  }
  try {
    return Run(options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "loyaltyd_make_payloads: %s\n", e.what());
    return 1;
  }
}
