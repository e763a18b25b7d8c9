// The storefront block (customer tokens for a storefront widget): defaults, and each problem
// pinned with its path and message.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "config/config.h"

namespace loyaltyd::storefront_config_test {
namespace {

using nlohmann::json;

constexpr const char* kSecret = "storefront-secret-0123456789abcdef0123";

json WithStorefront(const json& storefront) {
  json j = json::parse(R"({
    "admin": {"token": "0123456789abcdef0123"},
    "shops": [{"id": "demo", "platform": "shopify", "domain": "demo.myshopify.com",
               "webhook_secret": "secret-secret"}],
    "program": {"currency": "USD", "earn": [{"type": "spend", "points": 1, "per": "1.00"}]}
  })");
  if (!storefront.is_null()) j["storefront"] = storefront;
  return j;
}

std::string Problems(const ConfigLoadResult& r) {
  std::string out;
  for (const ConfigProblem& p : r.problems) out += p.ToString() + "\n";
  return out;
}

TEST(StorefrontConfigTest, AbsentBlockDisablesTokens) {
  ConfigLoadResult r = ParseConfig(WithStorefront(nullptr).dump());
  ASSERT_TRUE(r.ok()) << Problems(r);
  EXPECT_FALSE(r.config.storefront.enabled);
}

TEST(StorefrontConfigTest, ReadsSecretTtlAndOrigins) {
  ConfigLoadResult r =
      ParseConfig(WithStorefront({{"token_secret", kSecret},
                                  {"token_ttl_seconds", 600},
                                  {"allowed_origins", {"https://shop.example.com", "*"}}})
                      .dump());
  ASSERT_TRUE(r.ok()) << Problems(r);
  EXPECT_TRUE(r.config.storefront.enabled);
  EXPECT_EQ(r.config.storefront.token_secret, kSecret);
  EXPECT_EQ(r.config.storefront.token_ttl_seconds, 600);
  EXPECT_EQ(r.config.storefront.allowed_origins,
            (std::vector<std::string>{"https://shop.example.com", "*"}));
  ConfigLoadResult defaults = ParseConfig(WithStorefront({{"token_secret", kSecret}}).dump());
  ASSERT_TRUE(defaults.ok()) << Problems(defaults);
  EXPECT_EQ(defaults.config.storefront.token_ttl_seconds, 86400);
}

TEST(StorefrontConfigTest, EachProblemIsReportedWithItsPath) {
  EXPECT_EQ(Problems(ParseConfig(WithStorefront(json::object()).dump())),
            "storefront.token_secret: required key is missing\n");
  EXPECT_EQ(Problems(ParseConfig(WithStorefront({{"token_secret", "short"}}).dump())),
            "storefront.token_secret: must be at least 32 characters (use `openssl rand -hex "
            "32`)\n");
  json same = WithStorefront({{"token_secret", "0123456789abcdef0123456789abcdef"}});
  same["admin"]["token"] = "0123456789abcdef0123456789abcdef";
  EXPECT_EQ(Problems(ParseConfig(same.dump())),
            "storefront.token_secret: must differ from admin.token: a customer token must "
            "never be an admin one\n");
  EXPECT_EQ(Problems(ParseConfig(
                WithStorefront({{"token_secret", kSecret}, {"token_ttl_seconds", 10}}).dump())),
            "storefront.token_ttl_seconds: must be between 60 and 2592000, not 10\n");
  EXPECT_EQ(
      Problems(ParseConfig(WithStorefront({{"token_secret", kSecret},
                                           {"allowed_origins", {"https://shop.example.com/"}}})
                               .dump())),
      "storefront.allowed_origins[0]: must be an origin such as "
      "\"https://shop.example.com\" (scheme and host, no path or trailing slash) or "
      "\"*\"\n");
  EXPECT_TRUE(
      Problems(ParseConfig(WithStorefront({{"token_secret", kSecret}, {"token_ttl", 60}}).dump()))
          .starts_with("storefront: unknown key 'token_ttl'"));
}

// config/schema.json describes the block with exactly the keys the loader reads.
TEST(StorefrontConfigTest, SchemaHasTheBlocksKeys) {
  std::ifstream in(LOYALTYD_SOURCE_DIR "/config/schema.json");
  ASSERT_TRUE(in);
  const json schema = json::parse(in)["properties"]["storefront"];
  std::vector<std::string> keys;
  for (const auto& [key, value] : schema["properties"].items()) {
    (void)value;
    keys.push_back(key);
  }
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(keys,
            (std::vector<std::string>{"allowed_origins", "token_secret", "token_ttl_seconds"}));
  EXPECT_EQ(schema["required"], json::array({"token_secret"}));
  EXPECT_EQ(schema["properties"]["token_ttl_seconds"]["default"], 86400);
}

}  // namespace
}  // namespace loyaltyd::storefront_config_test
