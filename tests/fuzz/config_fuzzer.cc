// Fuzzes the config loader (config/config.h, ParseConfig) with arbitrary JSON text. The seeds
// are config/example.json and the configs the tests write; tests/fuzz/config.dict holds its
// keys. A config it accepts must be usable as the daemon uses it, and a refusal must say why.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "config/config.h"
#include "core/money.h"
#include "fuzz/fuzz_message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace loyaltyd;
  using loyaltyd::fuzz::InvariantBroken;
  const ConfigLoadResult loaded =
      ParseConfig(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!loaded.ok()) {
    for (const ConfigProblem& problem : loaded.problems) {
      if (problem.message.empty()) InvariantBroken("a problem without a message");
    }
    return 0;
  }
  const Config& config = loaded.config;
  if (config.admin.token.size() < 16) InvariantBroken("accepted a short admin token");
  if (!CurrencyExponent(config.program.currency).ok()) {
    InvariantBroken("accepted an unknown program currency");
  }
  for (const ShopConfig& shop : config.shops) {
    if (shop.webhook_secret.empty()) InvariantBroken("accepted a shop without a secret");
    if (config.FindShopById(shop.id) == nullptr) InvariantBroken("a shop its id does not find");
  }
  if (!(config == config)) InvariantBroken("a config unequal to itself");
  return 0;
}
