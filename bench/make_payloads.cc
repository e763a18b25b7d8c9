// loyaltyd_make_payloads: writes pre-signed Shopify orders/paid webhook bodies for the ingest
// benchmark (bench/ingest.lua replays them through wrk; bench/README.md has the whole story).
//
// The bodies come from bench/order_generator.h (realistic orders of 4-8 KB, Zipf customers).
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

#include "bench/order_generator.h"
#include "core/crypto.h"

namespace {

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

  loyaltyd::bench::OrderGenerator generator({.customers = options.customers,
                                             .zipf_s = options.zipf_s,
                                             .guest_percent = options.guest_percent,
                                             .seed = options.seed});
  size_t min_size = SIZE_MAX, max_size = 0, total_size = 0, guests = 0;
  std::set<size_t> customers;
  for (size_t i = 0; i < options.count; ++i) {
    const loyaltyd::bench::GeneratedOrder order = generator.Next();
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
