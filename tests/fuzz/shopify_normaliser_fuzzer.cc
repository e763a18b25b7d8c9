// Fuzzes ShopifyNormaliser::Normalise with arbitrary topics and bodies (tests/fuzz/
// normaliser_fuzz.h): order, refund and customer payloads as Shopify sends them.
#include <cstddef>
#include <cstdint>

#include "connectors/shopify/shopify_normaliser.h"
#include "fuzz/normaliser_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const loyaltyd::ShopConfig shop = [] {
    loyaltyd::ShopConfig s;
    s.id = "fuzz";
    s.platform = loyaltyd::Platform::kShopify;
    s.domain = "fuzz-shop.myshopify.com";
    return s;
  }();
  static const loyaltyd::ShopifyNormaliser normaliser;
  loyaltyd::fuzz::NormaliseOne(normaliser, shop, data, size);
  return 0;
}
