// Fuzzes WooCommerceNormaliser::Normalise with arbitrary topics and bodies (tests/fuzz/
// normaliser_fuzz.h): order (with refunds) and customer payloads as WooCommerce sends them.
#include <cstddef>
#include <cstdint>

#include "connectors/woocommerce/woocommerce_normaliser.h"
#include "fuzz/normaliser_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const loyaltyd::ShopConfig shop = [] {
    loyaltyd::ShopConfig s;
    s.id = "fuzz";
    s.platform = loyaltyd::Platform::kWooCommerce;
    s.domain = "shop.example.com";
    return s;  // earn_on_status: the default, processing and completed
  }();
  static const loyaltyd::WooCommerceNormaliser normaliser;
  loyaltyd::fuzz::NormaliseOne(normaliser, shop, data, size);
  return 0;
}
