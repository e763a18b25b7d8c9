// program.shared_by (shared membership, issue 7): the shops that share one membership, and
// each problem pinned with its path and message.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "config/config.h"

namespace loyaltyd::sharing_config_test {
namespace {

using nlohmann::json;

json TwoShops() {
  return json::parse(R"({
    "admin": {"token": "0123456789abcdef0123"},
    "shops": [{"id": "shop-a", "platform": "shopify", "domain": "a.myshopify.com",
               "webhook_secret": "secret-secret"},
              {"id": "woo-b", "platform": "woocommerce", "domain": "b.example.com",
               "webhook_secret": "secret-secret"},
              {"id": "shop-c", "platform": "shopify", "domain": "c.myshopify.com",
               "webhook_secret": "secret-secret"}],
    "program": {"currency": "USD", "earn": [{"type": "spend", "points": 1, "per": "1.00"}]}
  })");
}

std::string Problems(const ConfigLoadResult& r) {
  std::string out;
  for (const ConfigProblem& p : r.problems) out += p.ToString() + "\n";
  return out;
}

TEST(SharingConfigTest, AbsentKeySharesNothing) {
  ConfigLoadResult r = ParseConfig(TwoShops().dump());
  ASSERT_TRUE(r.ok()) << Problems(r);
  EXPECT_TRUE(r.config.program.sharing.shop_ids.empty());
  EXPECT_FALSE(r.config.program.sharing.Shares("shop-a"));
  EXPECT_FALSE(r.config.program.sharing.trust_woocommerce_email);
}

TEST(SharingConfigTest, ReadsTheSharingShopsAndTheWooCommerceSwitch) {
  json j = TwoShops();
  j["program"]["shared_by"] = {"shop-a", "woo-b"};
  j["program"]["shared_trust_woocommerce_email"] = true;
  ConfigLoadResult r = ParseConfig(j.dump());
  ASSERT_TRUE(r.ok()) << Problems(r);
  EXPECT_EQ(r.config.program.sharing.shop_ids, (std::vector<std::string>{"shop-a", "woo-b"}));
  EXPECT_TRUE(r.config.program.sharing.Shares("woo-b"));
  EXPECT_FALSE(r.config.program.sharing.Shares("shop-c"));  // not listed: its own customers
  EXPECT_TRUE(r.config.program.sharing.trust_woocommerce_email);
}

TEST(SharingConfigTest, EachProblemIsReportedWithItsPath) {
  const auto with = [](const json& shared_by) {
    json j = TwoShops();
    j["program"]["shared_by"] = shared_by;
    return Problems(ParseConfig(j.dump()));
  };
  EXPECT_EQ(with({"shop-a", "nope"}),
            "program.shared_by[1]: unknown shop 'nope'; shops[] has: shop-a, woo-b, shop-c\n");
  EXPECT_EQ(with({"shop-a", "woo-b", "shop-a"}),
            "program.shared_by[2]: shop 'shop-a' is listed twice\n");
  EXPECT_EQ(with({"shop-a"}),
            "program.shared_by: must name at least two shops: a shop alone shares its "
            "membership with no other (leave the key out)\n");
  EXPECT_EQ(with({"shop-a", 7}),
            "program.shared_by[1]: must be a shop id (a string), not an integer\n");
  EXPECT_EQ(with("shop-a"),
            "program.shared_by: must be an array of the ids of the shops (from shops[]) that "
            "share one membership, such as [\"shop-a\", \"shop-b\"], not a string\n");

  json trust_alone = TwoShops();
  trust_alone["program"]["shared_trust_woocommerce_email"] = true;
  EXPECT_EQ(Problems(ParseConfig(trust_alone.dump())),
            "program.shared_trust_woocommerce_email: applies only to shops sharing one "
            "membership; name them in program.shared_by or leave this key out\n");
}

TEST(SharingConfigTest, TheMultistoreExampleConfigLoads) {
  ConfigLoadResult r =
      LoadConfigFile(std::string(LOYALTYD_SOURCE_DIR) + "/config/example-multistore.json");
  ASSERT_TRUE(r.ok()) << Problems(r);
  EXPECT_EQ(r.config.program.sharing.shop_ids.size(), 2u);
}

}  // namespace
}  // namespace loyaltyd::sharing_config_test
