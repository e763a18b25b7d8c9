// Fuzzes ShopifyVerifier::Verify (Shopify's HMAC check and delivery headers) with arbitrary
// headers and bodies. Input: tests/fuzz/fuzz_message.h. An X-Shopify-Hmac-Sha256 value of
// "@sign" (or "@previous") is replaced by the body's true signature under the shop's current
// (or previous) secret, so the fuzzer also reaches what follows a valid signature; any other
// value is used as sent and must never authenticate.
#include <cstddef>
#include <cstdint>
#include <string>

#include "config/config.h"
#include "connectors/shopify/shopify_verifier.h"
#include "core/crypto.h"
#include "fuzz/fuzz_message.h"

namespace loyaltyd::fuzz {
namespace {

constexpr const char* kSecret = "fuzz-shopify-secret";
constexpr const char* kPreviousSecret = "fuzz-shopify-previous-secret";

const Config& FuzzConfig() {
  static const Config config = [] {
    Config c;
    ShopConfig shop;
    shop.id = "fuzz";
    shop.platform = Platform::kShopify;
    shop.domain = "fuzz-shop.myshopify.com";
    shop.webhook_secret = kSecret;
    shop.previous_webhook_secret = kPreviousSecret;
    c.shops.push_back(shop);
    ShopConfig woo = shop;  // same domain, other platform: must never match a Shopify delivery
    woo.id = "fuzz-woo";
    woo.platform = Platform::kWooCommerce;
    c.shops.push_back(woo);
    return c;
  }();
  return config;
}

}  // namespace
}  // namespace loyaltyd::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace loyaltyd;
  using namespace loyaltyd::fuzz;
  FuzzMessage message = SplitMessage(std::string_view(reinterpret_cast<const char*>(data), size));
  bool signed_by_harness = false;
  for (auto& [name, value] : message.headers) {
    if (!SameHeaderName(name, "X-Shopify-Hmac-Sha256")) continue;
    if (value == "@sign" || value == "@previous") {
      value = HmacSha256Base64(value == "@sign" ? kSecret : kPreviousSecret, message.body);
      signed_by_harness = true;
    }
    break;  // only the first one counts, as for the verifier
  }
  static const ShopifyVerifier verifier(FuzzConfig());
  Result<VerifiedWebhook> verified = verifier.Verify(RequestFor(message));
  if (!verified.ok()) {
    if (verified.status().message().empty()) InvariantBroken("an error without a message");
    return 0;
  }
  if (!signed_by_harness) InvariantBroken("a delivery the harness did not sign was accepted");
  const VerifiedWebhook& hook = *verified;
  if (hook.shop == nullptr || hook.shop->platform != Platform::kShopify) {
    InvariantBroken("accepted without a Shopify shop");
  }
  if (hook.topic.empty() || hook.topic.size() > 100) InvariantBroken("topic out of bounds");
  if (hook.event_id.empty() || hook.event_id.size() > 200)
    InvariantBroken("event id out of bounds");
  return 0;
}
