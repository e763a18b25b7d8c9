// OrderGenerator: realistic Shopify orders/paid webhook bodies for the benchmarks.
//
// Each body is an order of 4-8 KB: ids above 2^53 (sent as JSON numbers, as Shopify does),
// money as decimal strings with *_set {shop_money, presentment_money}, 1-4 line items with tax
// lines, one order in five with a discount code, shipping and billing addresses, and a customer
// drawn from a Zipf distribution over `customers` (a few regulars place most orders), or a
// guest with no customer key. Order ids are distinct. The sequence is deterministic for a seed.
//
// Shared by loyaltyd_make_payloads (the ingest benchmark's bodies), loyaltyd_bench_ledger (the
// inbox it processes) and loyaltyd_bench_seed (which seeds the same customers the ingest's
// orders name, so a scale run hits customers with history).
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace loyaltyd::bench {

struct OrderMix {
  size_t customers = 10000;  // customers the orders are spread over
  double zipf_s = 1.0;       // Zipf exponent of orders per customer
  int guest_percent = 5;     // orders without a customer
  uint64_t seed = 1;
};

struct GeneratedOrder {
  uint64_t id = 0;
  std::string body;  // the webhook body (JSON)
  bool guest = false;
  size_t customer_rank = 0;  // 0 is the most frequent customer; meaningless for a guest
};

// Rank 0 is the most frequent. Inverse-CDF sampling over a precomputed table.
class ZipfSampler {
 public:
  ZipfSampler(size_t n, double s);
  size_t operator()(std::mt19937_64& rng) const;

 private:
  std::vector<double> cdf_;
};

class OrderGenerator {
 public:
  explicit OrderGenerator(const OrderMix& mix);

  // The next order (the index-th since construction).
  GeneratedOrder Next();

  // Shopify's customer id (and e-mail) for the customer of a rank, as the bodies carry them.
  static uint64_t CustomerPlatformId(size_t rank);
  static std::string CustomerEmail(size_t rank);

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

 private:
  const OrderMix mix_;
  std::mt19937_64 rng_;
  std::vector<Product> catalog_;
  ZipfSampler zipf_;
  size_t index_ = 0;
};

}  // namespace loyaltyd::bench
