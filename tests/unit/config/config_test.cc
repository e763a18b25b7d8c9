#include "config/config.h"

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/temp_dir.h"

namespace loyaltyd::config_test {
namespace {

using nlohmann::json;

json ValidConfig() {
  return json::parse(R"({
    "server": {"listen": "0.0.0.0:9090", "max_body_bytes": 65536},
    "storage": {"sqlite": {"path": "/tmp/x.db"}},
    "admin": {"token": "0123456789abcdef0123"},
    "shops": [{"id": "demo", "platform": "shopify", "domain": "Demo.MyShopify.com",
               "webhook_secret": "secret-secret"}],
    "program": {"currency": "JPY", "earn": [{"type": "spend", "points": 2, "per": "100"}]}
  })");
}

// All problems, one per line, for failure messages and substring checks.
std::string Problems(const ConfigLoadResult& result) {
  std::string out;
  for (const ConfigProblem& p : result.problems) out += p.ToString() + "\n";
  return out;
}

bool HasProblem(const ConfigLoadResult& result, const std::string& path,
                const std::string& message_part) {
  for (const ConfigProblem& p : result.problems) {
    if (p.path == path && p.message.find(message_part) != std::string::npos) return true;
  }
  return false;
}

TEST(ConfigTest, ValidConfigLoadsEveryValue) {
  ConfigLoadResult r = ParseConfig(ValidConfig().dump());
  ASSERT_TRUE(r.ok()) << Problems(r);
  EXPECT_EQ(r.config.server.host, "0.0.0.0");
  EXPECT_EQ(r.config.server.port, 9090);
  EXPECT_EQ(r.config.server.max_body_bytes, 65536);
  EXPECT_EQ(r.config.storage.sqlite_path, "/tmp/x.db");
  EXPECT_EQ(r.config.admin.token, "0123456789abcdef0123");
  ASSERT_EQ(r.config.shops.size(), 1u);
  EXPECT_EQ(r.config.shops[0].domain, "demo.myshopify.com");  // lower-cased
  EXPECT_EQ(r.config.program.currency, "JPY");
  EXPECT_EQ(r.config.program.currency_exponent, 0);
  ASSERT_EQ(r.config.program.earn.size(), 1u);
  EXPECT_EQ(r.config.program.earn[0].id, "spend");
  EXPECT_EQ(r.config.program.earn[0].points, 2);
  EXPECT_EQ(r.config.program.earn[0].per_minor, 100);
}

TEST(ConfigTest, DefaultsApplyToOptionalSections) {
  json j = ValidConfig();
  j.erase("server");
  j.erase("storage");
  ConfigLoadResult r = ParseConfig(j.dump());
  ASSERT_TRUE(r.ok()) << Problems(r);
  EXPECT_EQ(r.config.server.host, "127.0.0.1");
  EXPECT_EQ(r.config.server.port, 8080);
  EXPECT_EQ(r.config.server.max_body_bytes, 1048576);
  EXPECT_EQ(r.config.storage.sqlite_path, "var/loyaltyd.db");
  EXPECT_EQ(r.config.storage.sqlite_cache_mb, 64);
  EXPECT_EQ(r.config.logging.format, "text");
}

TEST(ConfigTest, SqliteCacheSizeLoadsAndIsBounded) {
  json j = ValidConfig();
  j["storage"]["sqlite"]["cache_mb"] = 256;
  ConfigLoadResult r = ParseConfig(j.dump());
  ASSERT_TRUE(r.ok()) << Problems(r);
  EXPECT_EQ(r.config.storage.sqlite_cache_mb, 256);

  j["storage"]["sqlite"]["cache_mb"] = 1;
  r = ParseConfig(j.dump());
  EXPECT_TRUE(HasProblem(r, "storage.sqlite.cache_mb", "2")) << Problems(r);
  j["storage"]["sqlite"]["cache_mb"] = "64MB";
  r = ParseConfig(j.dump());
  EXPECT_TRUE(HasProblem(r, "storage.sqlite.cache_mb", "must be an integer")) << Problems(r);
}

TEST(ConfigTest, RefundsAllowNegativeBalanceDefaultsToFalseAndMustBeABoolean) {
  ConfigLoadResult defaults = ParseConfig(ValidConfig().dump());
  ASSERT_TRUE(defaults.ok()) << Problems(defaults);
  EXPECT_FALSE(defaults.config.program.refunds.allow_negative_balance);

  json j = ValidConfig();
  j["program"]["refunds"] = {{"allow_negative_balance", true}};
  ConfigLoadResult allowed = ParseConfig(j.dump());
  ASSERT_TRUE(allowed.ok()) << Problems(allowed);
  EXPECT_TRUE(allowed.config.program.refunds.allow_negative_balance);

  j["program"]["refunds"] = {{"allow_negative_balance", "yes"}};
  ConfigLoadResult wrong = ParseConfig(j.dump());
  EXPECT_TRUE(HasProblem(wrong, "program.refunds.allow_negative_balance",
                         "must be a boolean, not a string"))
      << Problems(wrong);
}

TEST(ConfigTest, FindsShopByDomainCaseInsensitivelyAndByPlatform) {
  ConfigLoadResult r = ParseConfig(ValidConfig().dump());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.config.FindShopByDomain("DEMO.myshopify.COM", Platform::kShopify),
            &r.config.shops[0]);
  EXPECT_EQ(r.config.FindShopByDomain("demo.myshopify.com", Platform::kWooCommerce), nullptr);
  EXPECT_EQ(r.config.FindShopByDomain("demo.myshopify.co", Platform::kShopify), nullptr);
  EXPECT_EQ(r.config.FindShopById("demo"), &r.config.shops[0]);
  EXPECT_EQ(r.config.FindShopById("other"), nullptr);
}

TEST(ConfigTest, UnknownKeySuggestsTheClosestKnownKey) {
  json j = ValidConfig();
  j["program"]["earn"][0].erase("points");
  j["program"]["earn"][0]["point"] = 1;
  ConfigLoadResult r = ParseConfig(j.dump());
  EXPECT_TRUE(HasProblem(r, "program.earn[0]", "unknown key 'point', did you mean 'points'?"))
      << Problems(r);
  EXPECT_TRUE(HasProblem(r, "program.earn[0].points", "required key is missing")) << Problems(r);
}

TEST(ConfigTest, UnknownKeyFarFromAnyKnownKeyListsTheKnownKeys) {
  json j = ValidConfig();
  j["colour"] = "blue";
  ConfigLoadResult r = ParseConfig(j.dump());
  EXPECT_TRUE(HasProblem(r, "", "unknown key 'colour'; known keys:")) << Problems(r);
}

TEST(ConfigTest, EveryProblemIsReportedWithItsPath) {
  json j = ValidConfig();
  j["admin"]["token"] = "change-me";
  j["server"]["listen"] = "localhost";
  j["server"]["threads"] = 0;
  j["shops"][0]["platform"] = "magento";
  j["program"]["currency"] = "XXY";
  ConfigLoadResult r = ParseConfig(j.dump());
  EXPECT_TRUE(HasProblem(r, "admin.token", "placeholder 'change-me'")) << Problems(r);
  EXPECT_TRUE(HasProblem(r, "server.listen", "host:port")) << Problems(r);
  EXPECT_TRUE(HasProblem(r, "server.threads", "between 1 and 4096")) << Problems(r);
  EXPECT_TRUE(HasProblem(r, "shops[0].platform", "must be \"shopify\"")) << Problems(r);
  EXPECT_TRUE(HasProblem(r, "program.currency", "ISO-4217")) << Problems(r);
  EXPECT_EQ(r.problems.size(), 5u) << Problems(r);
}

TEST(ConfigTest, ShortAdminTokenIsRejected) {
  json j = ValidConfig();
  j["admin"]["token"] = "short";
  EXPECT_TRUE(HasProblem(ParseConfig(j.dump()), "admin.token", "at least 16 characters"));
}

TEST(ConfigTest, EarnPerMustBeAPositiveExactDecimalString) {
  for (const json& per : {json("-1"), json("0"), json("1.5"), json("abc")}) {
    json j = ValidConfig();  // JPY: no decimals allowed
    j["program"]["earn"][0]["per"] = per;
    EXPECT_TRUE(
        HasProblem(ParseConfig(j.dump()), "program.earn[0].per", "must be a positive amount"))
        << per;
  }
  json j = ValidConfig();
  j["program"]["earn"][0]["per"] = 1.0;
  EXPECT_TRUE(HasProblem(ParseConfig(j.dump()), "program.earn[0].per", "decimal string"));
}

// A USD program with one spend rule, for the earn-rule options (JPY has no decimals).
json UsdSpendConfig(const json& rule_extra) {
  json j = ValidConfig();
  j["program"]["currency"] = "USD";
  j["program"]["earn"] = json::array({{{"type", "spend"}, {"points", 1}, {"per", "1.00"}}});
  for (const auto& [key, value] : rule_extra.items()) j["program"]["earn"][0][key] = value;
  return j;
}

TEST(ConfigTest, SpendRuleOptionsLoad) {
  ConfigLoadResult r = ParseConfig(UsdSpendConfig({{"rounding", "nearest"},
                                                   {"exclude_product_ids", {"632910392", 42}},
                                                   {"exclude_skus", {"GIFT-WRAP"}},
                                                   {"exclude_vendors", {"Acme"}},
                                                   {"minimum_order", "25.00"},
                                                   {"max_points_per_order", 500}})
                                       .dump());
  ASSERT_TRUE(r.ok()) << Problems(r);
  const EarnRule& rule = r.config.program.earn.at(0);
  EXPECT_EQ(rule.rounding, EarnRounding::kNearest);
  EXPECT_EQ(rule.exclude_product_ids, (std::vector<std::string>{"632910392", "42"}));
  EXPECT_EQ(rule.exclude_skus, (std::vector<std::string>{"GIFT-WRAP"}));
  EXPECT_EQ(rule.exclude_vendors, (std::vector<std::string>{"Acme"}));
  EXPECT_EQ(rule.minimum_order_minor, 2500);
  EXPECT_EQ(rule.max_points_per_order, 500);

  ConfigLoadResult defaults = ParseConfig(UsdSpendConfig(json::object()).dump());
  ASSERT_TRUE(defaults.ok()) << Problems(defaults);
  EXPECT_EQ(defaults.config.program.earn.at(0).rounding, EarnRounding::kFloor);
  EXPECT_EQ(defaults.config.program.earn.at(0).minimum_order_minor, 0);
  EXPECT_EQ(defaults.config.program.earn.at(0).max_points_per_order, 0);
}

TEST(ConfigTest, BadSpendRuleOptionsAreReportedWithTheirPaths) {
  struct Case {
    json extra;
    std::string path;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{{"rounding", "up"}},
       "program.earn[0].rounding",
       "must be \"floor\" (round down) or \"nearest\" (half up), not \"up\""},
      {{{"rounding", 1}}, "program.earn[0].rounding", "must be a string, not an integer"},
      {{{"points", 0}}, "program.earn[0].points", "must be between 1 and 1000000000, not 0"},
      {{{"points", -5}}, "program.earn[0].points", "must be between 1 and 1000000000, not -5"},
      {{{"minimum_order", "-1.00"}}, "program.earn[0].minimum_order", "must be a positive amount"},
      {{{"minimum_order", "0"}}, "program.earn[0].minimum_order", "must be a positive amount"},
      {{{"minimum_order", "1.005"}}, "program.earn[0].minimum_order", "must be a positive amount"},
      {{{"minimum_order", 25}}, "program.earn[0].minimum_order", "decimal string"},
      {{{"max_points_per_order", 0}},
       "program.earn[0].max_points_per_order",
       "must be between 1 and 1000000000000, not 0"},
      {{{"max_points_per_order", "500"}},
       "program.earn[0].max_points_per_order",
       "must be an integer, not a string"},
      {{{"exclude_skus", "GIFT-WRAP"}},
       "program.earn[0].exclude_skus",
       "must be an array of strings such as [\"GIFT-WRAP\"], not a string"},
      {{{"exclude_skus", {""}}}, "program.earn[0].exclude_skus[0]", "must not be empty"},
      {{{"exclude_skus", {"A", "A"}}}, "program.earn[0].exclude_skus[1]", "'A' is listed twice"},
      {{{"exclude_vendors", {"Acme", "ACME"}}},
       "program.earn[0].exclude_vendors[1]",
       "'ACME' is listed twice"},
      {{{"exclude_vendors", {7}}}, "program.earn[0].exclude_vendors[0]", "must be a string"},
      {{{"exclude_product_ids", {"gid://shopify/Product/1"}}},
       "program.earn[0].exclude_product_ids[0]",
       "must be a product id of digits"},
      {{{"exclude_product_ids", {-1}}},
       "program.earn[0].exclude_product_ids[0]",
       "must be a string, not an integer"},
      {{{"exclude_product_ids", {1.5}}},
       "program.earn[0].exclude_product_ids[0]",
       "must be a string, not a number"},
      {{{"exclude_product_tags", {"gift"}}},
       "program.earn[0].exclude_product_tags",
       "cannot be applied: order webhooks do not carry product tags; exclude by "
       "exclude_product_ids, exclude_skus or exclude_vendors instead"},
      {{{"exclude_collections", {"sale"}}},
       "program.earn[0].exclude_collections",
       "cannot be applied: order webhooks do not carry collections"},
      {{{"exclude_sku", {"A"}}},
       "program.earn[0]",
       "unknown key 'exclude_sku', did you mean 'exclude_skus'?"},
      {{{"minimum", "5.00"}}, "program.earn[0]", "unknown key 'minimum'"},
  };
  for (const Case& c : cases) {
    ConfigLoadResult r = ParseConfig(UsdSpendConfig(c.extra).dump());
    EXPECT_TRUE(HasProblem(r, c.path, c.message)) << c.extra.dump() << "\n" << Problems(r);
    EXPECT_EQ(r.problems.size(), 1u) << c.extra.dump() << "\n" << Problems(r);
  }
}

// Rewards, shop API credentials and the outbox: each mistake named at its path, and a valid
// catalogue loads with exact amounts.
TEST(ConfigTest, RewardsApiAndOutboxLoadAndEveryMistakeIsNamed) {
  json good = ValidConfig();
  good["program"]["currency"] = "USD";
  good["program"]["earn"][0]["per"] = "1.00";
  good["shops"][0]["api"] = {{"access_token", "shpat_x"}};
  good["program"]["rewards"] = json::array({{{"id", "five"},
                                             {"points", 500},
                                             {"kind", "fixed_discount"},
                                             {"amount", "5.00"},
                                             {"minimum_order", "20.00"},
                                             {"expires_after_days", 30}},
                                            {{"id", "pct"},
                                             {"points", 300},
                                             {"kind", "percentage_discount"},
                                             {"percentage", 10},
                                             {"restrict_to_customer", false},
                                             {"code_prefix", "VIP-"}}});
  good["outbox"] = {{"max_attempts", 3}, {"initial_backoff_ms", 10}};
  ConfigLoadResult ok = ParseConfig(good.dump());
  ASSERT_TRUE(ok.ok()) << Problems(ok);
  EXPECT_EQ(ok.config.shops[0].api.base_url, "https://demo.myshopify.com");
  EXPECT_EQ(ok.config.shops[0].api.api_version, "2025-07");
  ASSERT_EQ(ok.config.program.rewards.size(), 2u);
  EXPECT_EQ(ok.config.program.rewards[0].amount_minor, 500);
  EXPECT_EQ(ok.config.program.rewards[0].minimum_order_minor, 2000);
  EXPECT_EQ(ok.config.program.rewards[0].name, "five") << "the name defaults to the id";
  EXPECT_EQ(ok.config.program.rewards[1].percentage, 10);
  EXPECT_FALSE(ok.config.program.rewards[1].restrict_to_customer);
  EXPECT_EQ(ok.config.outbox.max_attempts, 3);
  EXPECT_EQ(ok.config.outbox.max_backoff_ms, 300'000);

  struct Case {
    json::json_pointer where;
    json value;
    std::string path;
    std::string message;
  };
  const std::vector<Case> cases = {
      {json::json_pointer("/program/rewards/0/kind"), "coupon", "program.rewards[0].kind",
       "must be one of fixed_discount, percentage_discount, free_shipping, store_credit"},
      {json::json_pointer("/program/rewards/0/amount"), "0.00", "program.rewards[0].amount",
       "must be a positive amount in USD"},
      {json::json_pointer("/program/rewards/0/amount"), 5, "program.rewards[0].amount",
       "must be a decimal string"},
      {json::json_pointer("/program/rewards/1/amount"), "5.00", "program.rewards[1].amount",
       "applies to fixed_discount and store_credit rewards only"},
      {json::json_pointer("/program/rewards/1/percentage"), 101, "program.rewards[1].percentage",
       "must be between 1 and 100, not 101"},
      {json::json_pointer("/program/rewards/1/code_prefix"), "vip-",
       "program.rewards[1].code_prefix", "upper-case letters"},
      {json::json_pointer("/program/rewards/1/restrict_to_customer"), "yes",
       "program.rewards[1].restrict_to_customer", "must be true or false, not a string"},
      {json::json_pointer("/program/rewards/1/id"), "five", "program.rewards[1].id",
       "duplicate reward id 'five'"},
      {json::json_pointer("/shops/0/api/api_version"), "2025-08", "shops[0].api.api_version",
       "must be a Shopify API version"},
      {json::json_pointer("/shops/0/api/base_url"), "https://demo.myshopify.com/admin",
       "shops[0].api.base_url", "without a path"},
      {json::json_pointer("/shops/0/api/consumer_key"), "ck_1", "shops[0].api",
       "unknown key 'consumer_key'"},
      {json::json_pointer("/shops/0/earn_on_status"), json::array({"processing"}),
       "shops[0].earn_on_status", "applies to WooCommerce shops only"},
      {json::json_pointer("/outbox/max_backoff_ms"), 5, "outbox.max_backoff_ms",
       "must be at least initial_backoff_ms (10)"},
  };
  for (const Case& c : cases) {
    json j = good;
    j[c.where] = c.value;
    ConfigLoadResult r = ParseConfig(j.dump());
    EXPECT_TRUE(HasProblem(r, c.path, c.message)) << c.where.to_string() << "\n" << Problems(r);
  }

  json no_token = good;
  no_token["shops"][0]["api"].erase("access_token");
  EXPECT_TRUE(HasProblem(ParseConfig(no_token.dump()), "shops[0].api.access_token",
                         "required key is missing"));

  json woo = good;
  woo["shops"][0] = {{"id", "woo"},
                     {"platform", "woocommerce"},
                     {"domain", "shop.example.com"},
                     {"webhook_secret", "secret-secret"},
                     {"api", {{"consumer_key", "key"}, {"consumer_secret", "cs_x"}}},
                     {"earn_on_status", {"completed", "refunded"}}};
  ConfigLoadResult w = ParseConfig(woo.dump());
  EXPECT_TRUE(HasProblem(w, "shops[0].api.consumer_key", "starts with \"ck_\"")) << Problems(w);
  EXPECT_TRUE(HasProblem(w, "shops[0].earn_on_status[1]",
                         "an order status at which an order is "
                         "paid for"))
      << Problems(w);
}

TEST(ConfigTest, FirstOrderRuleLoadsAndTakesNoSpendOptions) {
  json j = UsdSpendConfig(json::object());
  j["program"]["earn"].push_back({{"type", "first_order"}, {"points", 250}});
  ConfigLoadResult r = ParseConfig(j.dump());
  ASSERT_TRUE(r.ok()) << Problems(r);
  ASSERT_EQ(r.config.program.earn.size(), 2u);
  EXPECT_EQ(r.config.program.earn[1].type, EarnRuleType::kFirstOrder);
  EXPECT_EQ(r.config.program.earn[1].id, "first_order");
  EXPECT_EQ(r.config.program.earn[1].points, 250);

  j["program"]["earn"][1]["per"] = "1.00";
  j["program"]["earn"][1]["max_points_per_order"] = 5;
  r = ParseConfig(j.dump());
  EXPECT_TRUE(HasProblem(r, "program.earn[1].per", "applies to spend rules only")) << Problems(r);
  EXPECT_TRUE(HasProblem(r, "program.earn[1].max_points_per_order", "applies to spend rules only"))
      << Problems(r);
  EXPECT_EQ(r.problems.size(), 2u) << Problems(r);

  json missing = UsdSpendConfig(json::object());
  missing["program"]["earn"].push_back({{"type", "first_order"}});
  EXPECT_TRUE(
      HasProblem(ParseConfig(missing.dump()), "program.earn[1].points", "required key is missing"));
}

TEST(ConfigTest, SecondFirstOrderRuleAndDuplicateIdsAreRejected) {
  json j = UsdSpendConfig(json::object());
  j["program"]["earn"].push_back({{"type", "first_order"}, {"points", 250}});
  j["program"]["earn"].push_back({{"type", "first_order"}, {"points", 100}, {"id", "welcome"}});
  j["program"]["earn"].push_back({{"type", "spend"}, {"points", 1}, {"per", "5.00"}});
  ConfigLoadResult r = ParseConfig(j.dump());
  EXPECT_TRUE(HasProblem(r, "program.earn[2].type", "only one first_order rule is allowed"))
      << Problems(r);
  EXPECT_TRUE(HasProblem(r, "program.earn[3].id", "duplicate rule id 'spend'")) << Problems(r);
  EXPECT_EQ(r.problems.size(), 2u) << Problems(r);
}

TEST(ConfigTest, UnknownEarnRuleTypeNamesBoth) {
  json j = UsdSpendConfig({{"type", "signup"}, {"rounding", "nearest"}});
  ConfigLoadResult r = ParseConfig(j.dump());
  EXPECT_TRUE(
      HasProblem(r, "program.earn[0].type",
                 "must be \"spend\", \"first_order\", \"action\" or \"cashback\", not \"signup\""))
      << Problems(r);
  EXPECT_EQ(r.problems.size(), 1u) << Problems(r);  // its other keys are not "unknown"
}

TEST(ConfigTest, WrongTypesAreNamed) {
  json j = ValidConfig();
  j["server"]["max_body_bytes"] = "1MB";
  j["program"]["earn"][0]["points"] = 1.5;
  j["shops"] = json::object();
  ConfigLoadResult r = ParseConfig(j.dump());
  EXPECT_TRUE(HasProblem(r, "server.max_body_bytes", "must be an integer, not a string"))
      << Problems(r);
  EXPECT_TRUE(HasProblem(r, "program.earn[0].points", "must be an integer, not a number"))
      << Problems(r);
  EXPECT_TRUE(HasProblem(r, "shops", "must be an array, not an object")) << Problems(r);
}

TEST(ConfigTest, DuplicateShopsAndRulesAreRejected) {
  json j = ValidConfig();
  j["shops"].push_back(j["shops"][0]);
  j["program"]["earn"].push_back(j["program"]["earn"][0]);
  ConfigLoadResult r = ParseConfig(j.dump());
  EXPECT_TRUE(HasProblem(r, "shops[1].id", "duplicate shop id 'demo'")) << Problems(r);
  EXPECT_TRUE(HasProblem(r, "shops[1].domain", "already has domain")) << Problems(r);
  EXPECT_TRUE(HasProblem(r, "program.earn[1].id", "duplicate rule id 'spend'")) << Problems(r);
}

TEST(ConfigTest, MissingSectionsAndEmptyShopsAreReported) {
  ConfigLoadResult r = ParseConfig(R"({"shops": []})");
  EXPECT_TRUE(HasProblem(r, "admin", "required key is missing")) << Problems(r);
  EXPECT_TRUE(HasProblem(r, "program", "required key is missing")) << Problems(r);
  EXPECT_TRUE(HasProblem(r, "shops", "at least one shop")) << Problems(r);
}

TEST(ConfigTest, MalformedJsonSaysWhereAndChangesNothing) {
  ConfigLoadResult r = ParseConfig("{\n  \"admin\": {\n    \"token\": oops\n}");
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_NE(r.problems[0].message.find("malformed JSON at line 3 column"), std::string::npos)
      << r.problems[0].message;
  EXPECT_TRUE(r.config.admin.token.empty());
  EXPECT_TRUE(HasProblem(ParseConfig("[1, 2]"), "", "must be a JSON object, not an array"));
}

// Found by tests/fuzz/config_fuzzer: nlohmann throws out_of_range (not parse_error) for a number
// beyond a double, which escaped ParseConfig and terminated `loyaltyd check-config` and `serve`.
TEST(ConfigTest, NumberOverflowingADoubleIsAProblemNotACrash) {
  json j = ValidConfig();
  std::string text = j.dump(2);
  text.insert(text.find("{") + 1, "\n  \"x\": 1e400,");
  ConfigLoadResult r = ParseConfig(text);
  ASSERT_EQ(r.problems.size(), 1u) << Problems(r);
  EXPECT_EQ(r.problems[0].message,
            "malformed JSON at line 2 column 8: number overflow parsing '1e400'");
  EXPECT_TRUE(HasProblem(ParseConfig("{\"admin\": -1e999}"), "",
                         "malformed JSON at line 1 column 11: number overflow parsing '-1e999'"))
      << Problems(ParseConfig("{\"admin\": -1e999}"));
}

TEST(ConfigTest, ListenAcceptsPortZeroAndRejectsOutOfRange) {
  json j = ValidConfig();
  j["server"]["listen"] = "127.0.0.1:0";
  ConfigLoadResult r = ParseConfig(j.dump());
  ASSERT_TRUE(r.ok()) << Problems(r);
  EXPECT_EQ(r.config.server.port, 0);
  j["server"]["listen"] = "127.0.0.1:65536";
  EXPECT_TRUE(HasProblem(ParseConfig(j.dump()), "server.listen", "0 to 65535"));
}

TEST(ConfigTest, LoadConfigFileReadsTheExampleAndReportsAMissingFile) {
  ConfigLoadResult example = LoadConfigFile(LOYALTYD_SOURCE_DIR "/config/example.json");
  EXPECT_TRUE(example.ok()) << Problems(example);
  EXPECT_EQ(example.config.shops.at(0).id, "demo");

  testing::TempDir dir;
  ConfigLoadResult missing = LoadConfigFile(dir.File("absent.json"));
  ASSERT_EQ(missing.problems.size(), 1u);
  EXPECT_NE(missing.problems[0].message.find("cannot read config file"), std::string::npos);
}

// --- program.tiers ---

json TiersConfigJson() {
  json j = ValidConfig();
  j["program"]["currency"] = "USD";
  j["program"]["earn"] = json::array({{{"type", "spend"}, {"points", 1}, {"per", "1.00"}}});
  j["program"]["tiers"] = json::parse(R"({
    "metric": "spend",
    "window": {"kind": "rolling", "days": 365},
    "keep_for": {"kind": "until_end_of_next_year"},
    "levels": [
      {"id": "silver", "name": "Silver", "threshold": "500.00", "multiplier": "1.25",
       "tags": ["vip-silver"]},
      {"id": "gold", "threshold": "1000", "multiplier": "1.5", "tags": ["vip-gold"],
       "membership": {"skus": ["GOLD-CLUB"], "product_ids": [555], "days": 365},
       "customer_tags": ["wholesale-gold"]}
    ]
  })");
  return j;
}

TEST(ConfigTest, TiersLoadEveryValue) {
  ConfigLoadResult r = ParseConfig(TiersConfigJson().dump());
  ASSERT_TRUE(r.ok()) << Problems(r);
  const TiersConfig& t = r.config.program.tiers;
  EXPECT_TRUE(t.enabled);
  EXPECT_EQ(t.metric, TierMetric::kSpend);
  EXPECT_EQ(t.window_kind, TierWindowKind::kRolling);
  EXPECT_EQ(t.window_days, 365);
  EXPECT_EQ(t.keep_kind, TierKeepKind::kUntilEndOfNextYear);
  ASSERT_EQ(t.levels.size(), 2u);
  EXPECT_EQ(t.levels[0].name, "Silver");
  EXPECT_EQ(t.levels[0].threshold, 50000);
  EXPECT_EQ(t.levels[0].multiplier_bp, 12500);
  EXPECT_EQ(t.levels[1].name, "gold");  // the id when no name is given
  EXPECT_EQ(t.levels[1].threshold, 100000);
  EXPECT_EQ(t.levels[1].multiplier_bp, 15000);
  ASSERT_TRUE(t.levels[1].membership.has_value());
  EXPECT_EQ(t.levels[1].membership->product_ids, std::vector<std::string>{"555"});
  EXPECT_EQ(t.levels[1].membership->skus, std::vector<std::string>{"GOLD-CLUB"});
  EXPECT_EQ(t.levels[1].membership->days, 365);
  EXPECT_EQ(t.levels[1].customer_tags, std::vector<std::string>{"wholesale-gold"});
  EXPECT_EQ(t.IndexOf("gold"), 1);
  EXPECT_FALSE(ParseConfig(ValidConfig().dump()).config.program.tiers.enabled);
}

TEST(ConfigTest, TierCountThresholdsAreWholeNumbers) {
  json j = TiersConfigJson();
  j["program"]["tiers"]["metric"] = "orders";
  j["program"]["tiers"]["window"] = {{"kind", "calendar_year"}};
  j["program"]["tiers"]["levels"][0]["threshold"] = 3;
  j["program"]["tiers"]["levels"][1]["threshold"] = 10;
  ConfigLoadResult r = ParseConfig(j.dump());
  ASSERT_TRUE(r.ok()) << Problems(r);
  EXPECT_EQ(r.config.program.tiers.metric, TierMetric::kOrders);
  EXPECT_EQ(r.config.program.tiers.window_kind, TierWindowKind::kCalendarYear);
  EXPECT_EQ(r.config.program.tiers.levels[1].threshold, 10);
}

struct TierProblemCase {
  const char* name;
  const char* pointer;  // JSON pointer into the tiers config to replace
  json value;
  const char* path;
  const char* message;
};

TEST(ConfigTest, InvalidTiersAreRejectedWithPathAndReason) {
  const std::vector<TierProblemCase> cases = {
      {"unknown metric", "/metric", "revenue", "program.tiers.metric",
       "must be \"spend\", \"points_earned\" or \"orders\""},
      {"unknown window kind", "/window/kind", "monthly", "program.tiers.window.kind",
       "must be \"rolling\" or \"calendar_year\""},
      {"rolling window without days",
       "/window",
       {{"kind", "rolling"}},
       "program.tiers.window.days",
       "required key is missing"},
      {"days on a calendar year",
       "/window",
       {{"kind", "calendar_year"}, {"days", 3}},
       "program.tiers.window.days",
       "applies to rolling windows only"},
      {"negative keep",
       "/keep_for",
       {{"kind", "days"}, {"days", -1}},
       "program.tiers.keep_for.days",
       "must be between 0 and 3660"},
      {"unknown level key", "/levels/0/treshold", "1.00", "program.tiers.levels[0]",
       "unknown key 'treshold', did you mean 'threshold'?"},
      {"unknown tiers key", "/downgrade", true, "program.tiers", "unknown key 'downgrade'"},
      {"equal thresholds", "/levels/1/threshold", "500.00", "program.tiers.levels[1].threshold",
       "must be greater than the threshold of the level before (silver)"},
      {"decreasing thresholds", "/levels/1/threshold", "10.00", "program.tiers.levels[1].threshold",
       "list levels from the lowest threshold to the highest"},
      {"duplicate ids", "/levels/1/id", "silver", "program.tiers.levels[1].id",
       "duplicate level id 'silver'"},
      {"multiplier below 1", "/levels/0/multiplier", "0.9", "program.tiers.levels[0].multiplier",
       "must be a decimal from \"1\" to \"100\""},
      {"multiplier as a float", "/levels/0/multiplier", 1.25, "program.tiers.levels[0].multiplier",
       "must be a decimal string such as \"1.25\""},
      {"multiplier too precise", "/levels/0/multiplier", "1.23456",
       "program.tiers.levels[0].multiplier", "with at most 4 decimals"},
      {"spend threshold as a number", "/levels/0/threshold", 500,
       "program.tiers.levels[0].threshold", "must be a decimal string in USD"},
      {"negative threshold", "/levels/0/threshold", "-5.00", "program.tiers.levels[0].threshold",
       "must be an amount of at least 0 in USD"},
      {"tag shared by two levels", "/levels/1/tags", json::array({"VIP-Silver"}),
       "program.tiers.levels[1].tags",
       "tag 'VIP-Silver' is already used by program.tiers.levels[0]"},
      {"own tag grants", "/levels/1/customer_tags", json::array({"vip-gold"}),
       "program.tiers.levels[1].customer_tags", "tag 'vip-gold' is already used"},
      {"comma in a tag", "/levels/0/tags", json::array({"vip,silver"}),
       "program.tiers.levels[0].tags[0]", "without commas"},
      {"membership without product",
       "/levels/1/membership",
       {{"days", 30}},
       "program.tiers.levels[1].membership",
       "must name the membership product"},
      {"membership without days",
       "/levels/1/membership",
       {{"skus", {"X"}}},
       "program.tiers.levels[1].membership.days",
       "required key is missing"},
      {"no levels", "/levels", json::array(), "program.tiers.levels",
       "must list at least one level"},
  };
  for (const TierProblemCase& c : cases) {
    json j = TiersConfigJson();
    j["program"]["tiers"][json::json_pointer(c.pointer)] = c.value;
    ConfigLoadResult r = ParseConfig(j.dump());
    EXPECT_TRUE(HasProblem(r, c.path, c.message)) << c.name << ":\n" << Problems(r);
  }
  json j = TiersConfigJson();
  j["program"]["tiers"]["metric"] = "points_earned";
  j["program"]["tiers"]["levels"][0]["threshold"] = "500";
  j["program"]["tiers"]["levels"][1]["threshold"] = 2.5;
  ConfigLoadResult r = ParseConfig(j.dump());
  EXPECT_TRUE(HasProblem(r, "program.tiers.levels[0].threshold",
                         "must be a whole number of points such as 10"))
      << Problems(r);
  EXPECT_TRUE(HasProblem(r, "program.tiers.levels[1].threshold", "not a number")) << Problems(r);
}

// config/schema.json is for editors; the loader is the authority. This keeps them in step: an
// unknown key at each level makes the loader list the keys it knows there, which must be
// exactly the schema's properties at that level.
TEST(ConfigTest, SchemaListsExactlyTheKeysTheLoaderKnows) {
  std::ifstream in(LOYALTYD_SOURCE_DIR "/config/schema.json");
  ASSERT_TRUE(in) << "config/schema.json is missing";
  const json schema = json::parse(in);

  json j = ValidConfig();
  j["logging"] = json::object();
  j["outbox"] = json::object();
  j["reconcile"] = json::object();
  j["program"]["refunds"] = json::object();
  j["program"]["tiers"] = TiersConfigJson()["program"]["tiers"];
  j["program"]["expiry"] = json::object();
  j["program"]["award"] = json::object();
  j["program"]["rewards"] = json::array(
      {{{"id", "five"}, {"points", 500}, {"kind", "fixed_discount"}, {"amount", "5.00"}}});
  j["program"]["campaigns"] = json::array({{{"id", "bf"},
                                            {"starts_at", "2026-11-27T00:00:00Z"},
                                            {"ends_at", "2026-12-01T00:00:00Z"},
                                            {"multiplier", "2"}}});
  j["program"]["referrals"] = {
      {"advocate_reward", {{"kind", "points"}, {"points", 500}}},
      {"friend_reward", {{"kind", "percentage_discount"}, {"percentage", 10}}},
      {"milestones",
       json::array(
           {{{"referrals", 3}, {"reward", {{"kind", "fixed_discount"}, {"amount", "20.00"}}}}})},
      {"guards", json::object()}};
  const std::string kStray = "zzzzzzzzzzzzzzzz";
  const std::vector<std::pair<std::string, json::json_pointer>> levels = {
      {"", json::json_pointer("")},
      {"server", json::json_pointer("/properties/server")},
      {"storage", json::json_pointer("/properties/storage")},
      {"storage.sqlite", json::json_pointer("/properties/storage/properties/sqlite")},
      {"logging", json::json_pointer("/properties/logging")},
      {"admin", json::json_pointer("/properties/admin")},
      {"shops[0]", json::json_pointer("/properties/shops/items")},
      {"program", json::json_pointer("/properties/program")},
      {"program.earn[0]", json::json_pointer("/properties/program/properties/earn/items")},
      {"program.rewards[0]", json::json_pointer("/properties/program/properties/rewards/items")},
      {"program.refunds", json::json_pointer("/properties/program/properties/refunds")},
      {"program.tiers", json::json_pointer("/properties/program/properties/tiers")},
      {"program.tiers.window",
       json::json_pointer("/properties/program/properties/tiers/properties/window")},
      {"program.tiers.keep_for",
       json::json_pointer("/properties/program/properties/tiers/properties/keep_for")},
      {"program.tiers.levels[1]",
       json::json_pointer("/properties/program/properties/tiers/properties/levels/items")},
      {"program.tiers.levels[1].membership",
       json::json_pointer(
           "/properties/program/properties/tiers/properties/levels/items/properties/membership")},
      {"program.expiry", json::json_pointer("/properties/program/properties/expiry")},
      {"program.award", json::json_pointer("/properties/program/properties/award")},
      {"program.campaigns[0]",
       json::json_pointer("/properties/program/properties/campaigns/items")},
      {"program.referrals", json::json_pointer("/properties/program/properties/referrals")},
      {"program.referrals.advocate_reward",
       json::json_pointer("/properties/program/properties/referrals/properties/advocate_reward")},
      {"program.referrals.friend_reward",
       json::json_pointer("/properties/program/properties/referrals/properties/friend_reward")},
      {"program.referrals.milestones[0]",
       json::json_pointer("/properties/program/properties/referrals/properties/milestones/items")},
      {"program.referrals.milestones[0].reward",
       json::json_pointer("/properties/program/properties/referrals/properties/milestones/"
                          "items/properties/reward")},
      {"program.referrals.guards",
       json::json_pointer("/properties/program/properties/referrals/properties/guards")},
      {"outbox", json::json_pointer("/properties/outbox")},
      {"reconcile", json::json_pointer("/properties/reconcile")},
  };
  const std::map<std::string, json::json_pointer> config_paths = {
      {"", json::json_pointer("")},
      {"server", json::json_pointer("/server")},
      {"storage", json::json_pointer("/storage")},
      {"storage.sqlite", json::json_pointer("/storage/sqlite")},
      {"logging", json::json_pointer("/logging")},
      {"admin", json::json_pointer("/admin")},
      {"shops[0]", json::json_pointer("/shops/0")},
      {"program", json::json_pointer("/program")},
      {"program.earn[0]", json::json_pointer("/program/earn/0")},
      {"program.rewards[0]", json::json_pointer("/program/rewards/0")},
      {"program.refunds", json::json_pointer("/program/refunds")},
      {"program.tiers", json::json_pointer("/program/tiers")},
      {"program.tiers.window", json::json_pointer("/program/tiers/window")},
      {"program.tiers.keep_for", json::json_pointer("/program/tiers/keep_for")},
      {"program.tiers.levels[1]", json::json_pointer("/program/tiers/levels/1")},
      {"program.tiers.levels[1].membership",
       json::json_pointer("/program/tiers/levels/1/membership")},
      {"program.expiry", json::json_pointer("/program/expiry")},
      {"program.award", json::json_pointer("/program/award")},
      {"program.campaigns[0]", json::json_pointer("/program/campaigns/0")},
      {"program.referrals", json::json_pointer("/program/referrals")},
      {"program.referrals.advocate_reward",
       json::json_pointer("/program/referrals/advocate_reward")},
      {"program.referrals.friend_reward", json::json_pointer("/program/referrals/friend_reward")},
      {"program.referrals.milestones[0]", json::json_pointer("/program/referrals/milestones/0")},
      {"program.referrals.milestones[0].reward",
       json::json_pointer("/program/referrals/milestones/0/reward")},
      {"program.referrals.guards", json::json_pointer("/program/referrals/guards")},
      {"outbox", json::json_pointer("/outbox")},
      {"reconcile", json::json_pointer("/reconcile")},
  };
  for (const auto& [path, pointer] : config_paths) j[pointer][kStray] = 1;
  ConfigLoadResult r = ParseConfig(j.dump());

  for (const auto& [path, schema_pointer] : levels) {
    std::set<std::string> schema_keys;
    for (const auto& [key, value] : schema.at(schema_pointer).at("properties").items()) {
      (void)value;
      schema_keys.insert(key);
    }
    std::set<std::string> loader_keys;
    for (const ConfigProblem& p : r.problems) {
      const std::string marker = "known keys:";
      const size_t at = p.message.find(marker);
      if (p.path != path || at == std::string::npos) continue;
      std::istringstream words(p.message.substr(at + marker.size()));
      for (std::string key; words >> key;) loader_keys.insert(key);
    }
    EXPECT_EQ(loader_keys, schema_keys) << "at '" << path << "'";
  }
}

// --- reconcile ---

TEST(ConfigTest, ReconcileIsOffByDefaultAndItsRangesArePinned) {
  ConfigLoadResult defaults = ParseConfig(ValidConfig().dump());
  ASSERT_TRUE(defaults.ok()) << Problems(defaults);
  EXPECT_FALSE(defaults.config.reconcile.enabled);
  EXPECT_EQ(defaults.config.reconcile.interval_minutes, 60);
  EXPECT_EQ(defaults.config.reconcile.lookback_hours, 24);

  json j = ValidConfig();
  j["shops"][0]["api"] = {{"access_token", "shpat_x"}};
  j["reconcile"] = {{"enabled", true}, {"interval_minutes", 15}, {"lookback_hours", 72}};
  ConfigLoadResult ok = ParseConfig(j.dump());
  ASSERT_TRUE(ok.ok()) << Problems(ok);
  EXPECT_TRUE(ok.config.reconcile.enabled);
  EXPECT_EQ(ok.config.reconcile.interval_minutes, 15);
  EXPECT_EQ(ok.config.reconcile.lookback_hours, 72);

  j["reconcile"] = {
      {"enabled", "yes"}, {"interval_minutes", 0}, {"lookback_hours", 9000}, {"interval", 5}};
  ConfigLoadResult bad = ParseConfig(j.dump());
  EXPECT_TRUE(HasProblem(bad, "reconcile.enabled", "must be true or false, not a string"))
      << Problems(bad);
  EXPECT_TRUE(HasProblem(bad, "reconcile.interval_minutes", "between 1 and 10080, not 0"))
      << Problems(bad);
  EXPECT_TRUE(HasProblem(bad, "reconcile.lookback_hours", "between 1 and 8760, not 9000"))
      << Problems(bad);
  EXPECT_TRUE(HasProblem(bad, "reconcile", "unknown key 'interval'")) << Problems(bad);
}

TEST(ConfigTest, ReconcileNeedsAShopWithApiCredentials) {
  json j = ValidConfig();
  j["reconcile"] = {{"enabled", true}};
  ConfigLoadResult r = ParseConfig(j.dump());
  EXPECT_TRUE(HasProblem(r, "reconcile.enabled", "needs a shop with an `api` block"))
      << Problems(r);
}

// --- program.expiry and program.award ---

TEST(ConfigTest, ExpiryAndAwardDefaultToNeverAndOnPaymentWithoutHold) {
  ConfigLoadResult r = ParseConfig(ValidConfig().dump());
  ASSERT_TRUE(r.ok()) << Problems(r);
  EXPECT_EQ(r.config.program.expiry.lot_age_days, 0);
  EXPECT_EQ(r.config.program.expiry.inactivity_days, 0);
  EXPECT_EQ(r.config.program.award.on, AwardOn::kPaid);
  EXPECT_EQ(r.config.program.award.hold_days, 0);
}

TEST(ConfigTest, ExpiryAndAwardLoadAndEveryMistakeIsNamed) {
  json j = ValidConfig();
  j["program"]["expiry"] = {{"lot_age_days", 365}, {"inactivity_days", 180}};
  j["program"]["award"] = {{"on", "fulfilled"}, {"hold_days", 14}};
  ConfigLoadResult r = ParseConfig(j.dump());
  ASSERT_TRUE(r.ok()) << Problems(r);
  EXPECT_EQ(r.config.program.expiry.lot_age_days, 365);
  EXPECT_EQ(r.config.program.expiry.inactivity_days, 180);
  EXPECT_EQ(r.config.program.award.on, AwardOn::kFulfilled);
  EXPECT_EQ(r.config.program.award.hold_days, 14);

  struct Case {
    json expiry;
    json award;
    std::string path;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{{"lot_age_days", 0}},
       json::object(),
       "program.expiry.lot_age_days",
       "must be between 1 and 3650, not 0"},
      {{{"inactivity_days", -5}},
       json::object(),
       "program.expiry.inactivity_days",
       "must be between 1 and 3650, not -5"},
      {{{"lot_age_day", 365}},
       json::object(),
       "program.expiry",
       "unknown key 'lot_age_day', did you mean 'lot_age_days'?"},
      {json::object(),
       {{"on", "shipped"}},
       "program.award.on",
       "must be \"paid\" or \"fulfilled\", not \"shipped\""},
      {json::object(),
       {{"hold_days", 366}},
       "program.award.hold_days",
       "must be between 0 and 365, not 366"},
      {json::object(),
       {{"hold_days", "14"}},
       "program.award.hold_days",
       "must be an integer, not a string"},
  };
  for (const Case& c : cases) {
    json bad = ValidConfig();
    bad["program"]["expiry"] = c.expiry;
    bad["program"]["award"] = c.award;
    ConfigLoadResult result = ParseConfig(bad.dump());
    EXPECT_TRUE(HasProblem(result, c.path, c.message)) << c.path << "\n" << Problems(result);
  }
}

// --- Action rules and campaigns ---

json WithEarn(json rules) {
  json j = UsdSpendConfig({});
  for (json& rule : rules) j["program"]["earn"].push_back(rule);
  return j;
}

TEST(ConfigTest, ActionRulesLoad) {
  ConfigLoadResult r = ParseConfig(
      WithEarn({{{"type", "action"}, {"action", "signup"}, {"points", 100}, {"limit", "once"}},
                {{"id", "reviews"},
                 {"type", "action"},
                 {"action", "review"},
                 {"points", 50},
                 {"limit", "per_period"},
                 {"period", "week"},
                 {"max_per_period", 3}},
                {{"type", "action"},
                 {"action", "birthday"},
                 {"points", 200},
                 {"limit", "per_period"},
                 {"period", "year"}},
                {{"type", "action"},
                 {"action", "app_download"},
                 {"points", 25},
                 {"limit", "per_period"},
                 {"period", "day"}}})
          .dump());
  ASSERT_TRUE(r.ok()) << Problems(r);
  const ProgramConfig& p = r.config.program;
  ASSERT_EQ(p.earn.size(), 5u);
  const EarnRule* signup = p.FindActionRule("signup");
  ASSERT_NE(signup, nullptr);
  EXPECT_EQ(signup->id, "signup");  // default: the action's name
  EXPECT_EQ(signup->type, EarnRuleType::kAction);
  EXPECT_EQ(signup->limit, ActionLimit::kOnce);
  const EarnRule* review = p.FindActionRule("review");
  ASSERT_NE(review, nullptr);
  EXPECT_EQ(review->id, "reviews");
  EXPECT_EQ(review->limit, ActionLimit::kPerPeriod);
  EXPECT_EQ(review->period, CalendarPeriod::kWeek);
  EXPECT_EQ(review->max_per_period, 3);
  EXPECT_EQ(p.FindActionRule("birthday")->period, CalendarPeriod::kYear);
  EXPECT_EQ(p.FindActionRule("app_download")->max_per_period, 1);  // default
  EXPECT_EQ(p.FindActionRule("newsletter"), nullptr);
}

TEST(ConfigTest, BadActionRulesAreReportedWithTheirPaths) {
  const json review = {{"type", "action"},
                       {"action", "review"},
                       {"points", 50},
                       {"limit", "per_period"},
                       {"period", "day"}};
  auto with = [&](const json& extra, const std::vector<std::string>& erase = {}) {
    json rule = review;
    for (const auto& [key, value] : extra.items()) rule[key] = value;
    for (const std::string& key : erase) rule.erase(key);
    return rule;
  };
  struct Case {
    std::string name;
    json rules;
    std::string path;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"zero points",
       {with({{"points", 0}})},
       "program.earn[1].points",
       "must be between 1 and 1000000000, not 0"},
      {"negative points",
       {with({{"points", -10}})},
       "program.earn[1].points",
       "must be between 1 and 1000000000, not -10"},
      {"no action", {with({}, {"action"})}, "program.earn[1].action", "required key is missing"},
      {"action name with capitals",
       {with({{"action", "Review"}})},
       "program.earn[1].action",
       "must be 1-64 lower-case letters, digits or '_' starting with a letter"},
      {"action name with a dash",
       {with({{"action", "app-download"}})},
       "program.earn[1].action",
       "must be 1-64 lower-case letters"},
      {"no limit",
       {with({}, {"limit", "period"})},
       "program.earn[1].limit",
       "required key is missing"},
      {"unknown limit",
       {with({{"limit", "daily"}}, {"period"})},
       "program.earn[1].limit",
       "must be \"once\" (once ever per customer) or \"per_period\""},
      {"per_period without a period",
       {with({}, {"period"})},
       "program.earn[1].period",
       "is required with \"limit\": \"per_period\""},
      {"unknown period",
       {with({{"period", "hour"}})},
       "program.earn[1].period",
       "must be \"day\", \"week\" (ISO, Monday to Sunday), \"month\" or \"year\" (UTC), not "
       "\"hour\""},
      {"period with once",
       {with({{"limit", "once"}})},
       "program.earn[1].period",
       "applies to \"limit\": \"per_period\" only"},
      {"max_per_period with once",
       {with({{"limit", "once"}, {"max_per_period", 2}}, {"period"})},
       "program.earn[1].max_per_period",
       "applies to \"limit\": \"per_period\" only"},
      {"max_per_period zero",
       {with({{"max_per_period", 0}})},
       "program.earn[1].max_per_period",
       "must be between 1 and 1000, not 0"},
      {"birthday once ever",
       {with({{"action", "birthday"}, {"limit", "once"}}, {"period"})},
       "program.earn[1].limit",
       "a birthday comes once a year"},
      {"birthday per month",
       {with({{"action", "birthday"}, {"period", "month"}})},
       "program.earn[1].period",
       "a birthday comes once a year"},
      {"birthday twice a year",
       {with({{"action", "birthday"}, {"period", "year"}, {"max_per_period", 2}})},
       "program.earn[1].max_per_period",
       "a birthday comes once a year"},
      {"spend keys on an action rule",
       {with({{"per", "1.00"}})},
       "program.earn[1].per",
       "applies to spend rules only; an action rule gives a fixed `points` per action"},
      {"action keys on a spend rule",
       {json{{"type", "first_order"}, {"points", 5}, {"limit", "once"}}},
       "program.earn[1].limit",
       "applies to action rules only (\"type\": \"action\")"},
      {"two rules for one action",
       {with({{"id", "review-a"}}), with({{"id", "review-b"}, {"period", "week"}})},
       "program.earn[2].action",
       "two rules for action 'review': program.earn[1] (id 'review-a') and this one (id "
       "'review-b'); keep one"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ConfigLoadResult r = ParseConfig(WithEarn(c.rules).dump());
    EXPECT_TRUE(HasProblem(r, c.path, c.message)) << Problems(r);
    EXPECT_EQ(r.problems.size(), 1u) << Problems(r);
  }
}

json WithCampaigns(json campaigns) {
  json j = UsdSpendConfig({});
  j["program"]["campaigns"] = std::move(campaigns);
  return j;
}

TEST(ConfigTest, CampaignsLoad) {
  json j = WithCampaigns({{{"id", "black-friday"},
                           {"name", "Black Friday"},
                           {"starts_at", "2026-11-27T00:00:00Z"},
                           {"ends_at", "2026-12-01T00:00:00Z"},
                           {"multiplier", "2"}},
                          {{"id", "mugs"},
                           {"starts_at", "2026-12-05T00:00:00.000Z"},
                           {"ends_at", "2026-12-06T00:00:00Z"},
                           {"multiplier", "1.25"},
                           {"skus", {"MUG"}},
                           {"product_ids", {632910392}},
                           {"tiers", {"gold"}}},
                          {{"id", "weekend"},
                           {"starts_at", "2026-12-12T00:00:00Z"},
                           {"ends_at", "2026-12-14T00:00:00Z"},
                           {"bonus_points", 100}}});
  j["program"]["tiers"] = TiersConfigJson()["program"]["tiers"];  // "mugs" names gold
  ConfigLoadResult r = ParseConfig(j.dump());
  ASSERT_TRUE(r.ok()) << Problems(r);
  const std::vector<CampaignConfig>& c = r.config.program.campaigns;
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[0].name, "Black Friday");
  EXPECT_EQ(c[0].starts_at_ms, *ParseIso8601Millis("2026-11-27T00:00:00Z"));
  EXPECT_EQ(c[0].ends_at_ms, *ParseIso8601Millis("2026-12-01T00:00:00Z"));
  EXPECT_EQ(c[0].multiplier_basis_points, 20'000);
  EXPECT_EQ(c[0].bonus_points, 0);
  EXPECT_EQ(c[1].name, "mugs");  // default: the id
  EXPECT_EQ(c[1].multiplier_basis_points, 12'500);
  EXPECT_EQ(c[1].skus, std::vector<std::string>{"MUG"});
  EXPECT_EQ(c[1].product_ids, std::vector<std::string>{"632910392"});
  EXPECT_EQ(c[1].tiers, std::vector<std::string>{"gold"});
  EXPECT_EQ(c[2].multiplier_basis_points, 0);
  EXPECT_EQ(c[2].bonus_points, 100);
}

TEST(ConfigTest, BadCampaignsAreReportedWithTheirPaths) {
  const json bf = {{"id", "bf"},
                   {"starts_at", "2026-11-27T00:00:00Z"},
                   {"ends_at", "2026-12-01T00:00:00Z"},
                   {"multiplier", "2"}};
  auto with = [&](const json& extra, const std::vector<std::string>& erase = {}) {
    json c = bf;
    for (const auto& [key, value] : extra.items()) c[key] = value;
    for (const std::string& key : erase) c.erase(key);
    return c;
  };
  struct Case {
    std::string name;
    json campaigns;
    std::string path;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"ends before it starts",
       {with({{"ends_at", "2026-11-26T00:00:00Z"}})},
       "program.campaigns[0].ends_at",
       "must be after starts_at"},
      {"ends when it starts",
       {with({{"ends_at", "2026-11-27T00:00:00Z"}})},
       "program.campaigns[0].ends_at",
       "must be after starts_at"},
      {"not UTC",
       {with({{"starts_at", "2026-11-27T00:00:00+01:00"}})},
       "program.campaigns[0].starts_at",
       "must be an ISO-8601 time in UTC ending in Z"},
      {"no time",
       {with({{"starts_at", "2026-11-27"}})},
       "program.campaigns[0].starts_at",
       "must be an ISO-8601 time in UTC ending in Z"},
      {"no start",
       {with({}, {"starts_at"})},
       "program.campaigns[0].starts_at",
       "required key is missing"},
      {"no id", {with({}, {"id"})}, "program.campaigns[0].id", "required key is missing"},
      {"both kinds",
       {with({{"bonus_points", 10}})},
       "program.campaigns[0]",
       "give either \"multiplier\" or \"bonus_points\", not both"},
      {"neither kind", {with({}, {"multiplier"})}, "program.campaigns[0]", "needs \"multiplier\""},
      {"multiplier of 1",
       {with({{"multiplier", "1"}})},
       "program.campaigns[0].multiplier",
       "must be a decimal more than 1 and at most 100 with at most 2 decimals"},
      {"multiplier below 1",
       {with({{"multiplier", "0.5"}})},
       "program.campaigns[0].multiplier",
       "more than 1"},
      {"three decimals",
       {with({{"multiplier", "1.125"}})},
       "program.campaigns[0].multiplier",
       "at most 2 decimals"},
      {"multiplier as a number",
       {with({{"multiplier", 2}})},
       "program.campaigns[0].multiplier",
       "must be a decimal string such as \"2\" or \"1.5\", not an integer"},
      {"huge multiplier",
       {with({{"multiplier", "1000"}})},
       "program.campaigns[0].multiplier",
       "at most 100"},
      {"zero bonus",
       {with({{"bonus_points", 0}}, {"multiplier"})},
       "program.campaigns[0].bonus_points",
       "must be between 1 and 1000000000, not 0"},
      {"product tags",
       {with({{"product_tags", {"sale"}}})},
       "program.campaigns[0].product_tags",
       "cannot be applied: order webhooks do not carry product tags; name the products by "
       "product_ids or skus instead"},
      {"empty tiers",
       {with({{"tiers", json::array()}})},
       "program.campaigns[0].tiers",
       "must list at least one tier"},
      {"bad tier id",
       {with({{"tiers", {"gold tier"}}})},
       "program.campaigns[0].tiers[0]",
       "must be a tier id"},
      {"bad product id",
       {with({{"product_ids", {"abc"}}})},
       "program.campaigns[0].product_ids[0]",
       "must be a product id of digits"},
      {"duplicate ids", {bf, bf}, "program.campaigns[1].id", "duplicate campaign id 'bf'"},
      {"typo",
       {with({{"multiplyer", "2"}}, {"multiplier"})},
       "program.campaigns[0]",
       "unknown key 'multiplyer', did you mean 'multiplier'?"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ConfigLoadResult r = ParseConfig(WithCampaigns(c.campaigns).dump());
    EXPECT_TRUE(HasProblem(r, c.path, c.message)) << Problems(r);
    // A misspelt kind is also no kind at all: two problems, both named.
    EXPECT_EQ(r.problems.size(), c.name == "typo" ? 2u : 1u) << Problems(r);
  }
}

// --- Cashback rules ---

// A USD program with one cashback rule and the given keys.
json UsdCashbackConfig(const json& rule_extra) {
  json j = ValidConfig();
  j["program"]["currency"] = "USD";
  j["program"]["earn"] = json::array({{{"type", "cashback"}, {"percent", "10"}}});
  for (const auto& [key, value] : rule_extra.items()) j["program"]["earn"][0][key] = value;
  return j;
}

TEST(ConfigTest, CashbackRuleLoadsExactly) {
  ConfigLoadResult r = ParseConfig(UsdCashbackConfig({{"percent", "2.5"},
                                                      {"max_per_order", "50.00"},
                                                      {"minimum_order", "20.00"},
                                                      {"exclude_skus", {"GIFT-WRAP"}},
                                                      {"exclude_vendors", {"Acme"}},
                                                      {"exclude_product_ids", {"42"}}})
                                       .dump());
  ASSERT_TRUE(r.ok()) << Problems(r);
  const EarnRule& rule = r.config.program.earn.at(0);
  EXPECT_EQ(rule.type, EarnRuleType::kCashback);
  EXPECT_EQ(rule.id, "cashback");
  EXPECT_EQ(rule.percent_basis_points, 250);
  EXPECT_EQ(rule.max_credit_per_order_minor, 5000);
  EXPECT_EQ(rule.minimum_order_minor, 2000);
  EXPECT_EQ(rule.exclude_skus, (std::vector<std::string>{"GIFT-WRAP"}));
  EXPECT_EQ(rule.exclude_vendors, (std::vector<std::string>{"Acme"}));
  EXPECT_EQ(rule.exclude_product_ids, (std::vector<std::string>{"42"}));

  for (const auto& [text, basis_points] : std::vector<std::pair<std::string, int64_t>>{
           {"10", 1000}, {"100", 10000}, {"0.01", 1}, {"12.34", 1234}, {"7.50", 750}}) {
    ConfigLoadResult p = ParseConfig(UsdCashbackConfig({{"percent", text}}).dump());
    ASSERT_TRUE(p.ok()) << text << "\n" << Problems(p);
    EXPECT_EQ(p.config.program.earn.at(0).percent_basis_points, basis_points) << text;
    EXPECT_EQ(p.config.program.earn.at(0).max_credit_per_order_minor, 0);
  }
}

TEST(ConfigTest, BadCashbackRulesAreReportedWithTheirPaths) {
  struct Case {
    json extra;
    std::string path;
    std::string message;
  };
  const std::string kPercent =
      "must be a decimal string above 0 and at most 100 with at most 2 decimals, such as \"10\" "
      "or \"2.5\"";
  const std::vector<Case> cases = {
      {{{"percent", "0"}}, "program.earn[0].percent", kPercent},
      {{{"percent", "100.01"}}, "program.earn[0].percent", kPercent},
      {{{"percent", "-5"}}, "program.earn[0].percent", kPercent},
      {{{"percent", "10.125"}}, "program.earn[0].percent", kPercent},
      {{{"percent", "ten"}}, "program.earn[0].percent", kPercent},
      {{{"percent", 10}}, "program.earn[0].percent", kPercent + ", not an integer"},
      {{{"percent", 10.5}}, "program.earn[0].percent", kPercent + ", not a number"},
      {{{"max_per_order", "0"}}, "program.earn[0].max_per_order", "must be a positive amount"},
      {{{"max_per_order", "1.005"}},
       "program.earn[0].max_per_order",
       "must be a positive amount in USD"},
      {{{"max_per_order", 50}}, "program.earn[0].max_per_order", "must be a decimal string"},
      {{{"minimum_order", "-1.00"}}, "program.earn[0].minimum_order", "must be a positive amount"},
      {{{"exclude_skus", {"A", "A"}}}, "program.earn[0].exclude_skus[1]", "'A' is listed twice"},
      {{{"exclude_product_tags", {"gift"}}},
       "program.earn[0].exclude_product_tags",
       "cannot be applied: order webhooks do not carry product tags"},
      {{{"points", 5}},
       "program.earn[0].points",
       "applies to points rules only; a cashback rule gives `percent` of the eligible spend in "
       "store credit"},
      {{{"per", "1.00"}}, "program.earn[0].per", "applies to points rules only"},
      {{{"rounding", "nearest"}}, "program.earn[0].rounding", "applies to points rules only"},
      {{{"max_points_per_order", 5}},
       "program.earn[0].max_points_per_order",
       "applies to points rules only"},
      {{{"percnt", "10"}}, "program.earn[0]", "unknown key 'percnt', did you mean 'percent'?"},
  };
  for (const Case& c : cases) {
    ConfigLoadResult r = ParseConfig(UsdCashbackConfig(c.extra).dump());
    EXPECT_TRUE(HasProblem(r, c.path, c.message)) << c.extra.dump() << "\n" << Problems(r);
    EXPECT_EQ(r.problems.size(), 1u) << c.extra.dump() << "\n" << Problems(r);
  }

  json missing = UsdCashbackConfig(json::object());
  missing["program"]["earn"][0].erase("percent");
  EXPECT_TRUE(HasProblem(ParseConfig(missing.dump()), "program.earn[0].percent",
                         "required key is missing"));
}

TEST(ConfigTest, CashbackKeysOnAPointsRuleAreNamed) {
  ConfigLoadResult spend = ParseConfig(UsdSpendConfig({{"percent", "10"}}).dump());
  EXPECT_TRUE(HasProblem(spend, "program.earn[0].percent",
                         "applies to cashback rules only (\"type\": \"cashback\")"))
      << Problems(spend);
  EXPECT_EQ(spend.problems.size(), 1u) << Problems(spend);

  json first_order = ValidConfig();
  first_order["program"]["earn"] =
      json::array({{{"type", "first_order"}, {"points", 100}, {"max_per_order", "5.00"}}});
  ConfigLoadResult r = ParseConfig(first_order.dump());
  EXPECT_TRUE(HasProblem(r, "program.earn[0].max_per_order", "applies to cashback rules only"))
      << Problems(r);
  EXPECT_EQ(r.problems.size(), 1u) << Problems(r);
}

TEST(ConfigTest, CashbackRulesNeedDistinctIds) {
  json j = UsdCashbackConfig(json::object());
  j["program"]["earn"].push_back({{"type", "cashback"}, {"percent", "5"}});
  EXPECT_TRUE(
      HasProblem(ParseConfig(j.dump()), "program.earn[1].id", "duplicate rule id 'cashback'"));
  j["program"]["earn"][1]["id"] = "cashback-vip";
  ConfigLoadResult r = ParseConfig(j.dump());
  EXPECT_TRUE(r.ok()) << Problems(r);
}

// A campaign's tiers must name levels of program.tiers: a typo would make the campaign silently
// apply to nobody.
TEST(ConfigTest, CampaignTiersNameConfiguredLevels) {
  const json campaign = {{"id", "bf"},
                         {"starts_at", "2026-11-27T00:00:00Z"},
                         {"ends_at", "2026-12-01T00:00:00Z"},
                         {"multiplier", "2"}};
  auto config = [&](const json& tiers, bool with_program_tiers) {
    json c = campaign;
    c["tiers"] = tiers;
    json j = WithCampaigns({c});
    if (with_program_tiers) j["program"]["tiers"] = TiersConfigJson()["program"]["tiers"];
    return j.dump();
  };

  ConfigLoadResult known = ParseConfig(config({"silver", "gold"}, true));
  ASSERT_TRUE(known.ok()) << Problems(known);
  EXPECT_EQ(known.config.program.campaigns.at(0).tiers,
            (std::vector<std::string>{"silver", "gold"}));

  ConfigLoadResult unknown = ParseConfig(config({"gold", "platinum"}, true));
  EXPECT_TRUE(HasProblem(unknown, "program.campaigns[0].tiers[1]",
                         "unknown tier 'platinum'; program.tiers.levels has: silver, gold"))
      << Problems(unknown);
  EXPECT_EQ(unknown.problems.size(), 1u) << Problems(unknown);

  ConfigLoadResult no_tiers = ParseConfig(config({"gold"}, false));
  EXPECT_TRUE(HasProblem(no_tiers, "program.campaigns[0].tiers[0]",
                         "names tier 'gold' but program.tiers is not configured"))
      << Problems(no_tiers);
  EXPECT_EQ(no_tiers.problems.size(), 1u) << Problems(no_tiers);
}

// --- program.referrals and shops[].store_url ---

TEST(ConfigTest, ReferralsLoadWithDefaultsAndEveryReward) {
  json j = ValidConfig();
  j["program"]["currency"] = "USD";
  j["shops"][0]["store_url"] = "https://shop.example.com/en";
  j["program"]["referrals"] = json::parse(R"({
    "attribution_window_days": 14, "minimum_order": "25.00", "hold_days": 7,
    "friend_reward": {"kind": "percentage_discount", "percentage": 10, "expires_after_days": 30},
    "advocate_reward": {"kind": "store_credit", "amount": "10.00"},
    "milestones": [{"referrals": 3, "reward": {"kind": "points", "points": 1000}},
                   {"referrals": 5, "reward": {"kind": "fixed_discount", "amount": "20.00",
                                               "code_prefix": "VIP-"}}],
    "guards": {"same_phone": false, "max_referrals_per_day": 5, "max_advocate_rewards": 10,
               "advocate_rewards_period": "year"}})");
  ConfigLoadResult r = ParseConfig(j.dump());
  ASSERT_TRUE(r.ok()) << Problems(r);
  const ReferralsConfig& ref = r.config.program.referrals;
  EXPECT_TRUE(ref.enabled);
  EXPECT_EQ(r.config.shops[0].store_url, "https://shop.example.com/en");
  EXPECT_EQ(ref.attribution_window_days, 14);
  EXPECT_EQ(ref.parameter, "ref");
  EXPECT_EQ(ref.minimum_order_minor, 2500);
  EXPECT_EQ(ref.hold_days, 7);
  ASSERT_TRUE(ref.friend_reward.has_value());
  EXPECT_EQ(ref.friend_reward->kind, RewardKind::kPercentageDiscount);
  EXPECT_EQ(ref.friend_reward->name, "10% off");
  EXPECT_EQ(ref.friend_reward->code_prefix, "FRIEND-");
  EXPECT_EQ(ref.advocate_reward.kind, RewardKind::kStoreCredit);
  EXPECT_EQ(ref.advocate_reward.amount_minor, 1000);
  EXPECT_EQ(ref.advocate_reward.name, "10.00 USD store credit");
  ASSERT_EQ(ref.milestones.size(), 2u);
  EXPECT_TRUE(ref.milestones[0].reward.is_points);
  EXPECT_EQ(ref.milestones[0].reward.name, "1000 points");
  EXPECT_EQ(ref.milestones[1].reward.code_prefix, "VIP-");
  EXPECT_TRUE(ref.guards.same_email);
  EXPECT_FALSE(ref.guards.same_phone);
  EXPECT_EQ(ref.guards.max_referrals_per_day, 5);
  EXPECT_EQ(ref.guards.advocate_rewards_period, CalendarPeriod::kYear);

  // Without store_url the link goes to the shop's domain.
  ConfigLoadResult plain = ParseConfig(ValidConfig().dump());
  ASSERT_TRUE(plain.ok()) << Problems(plain);
  EXPECT_EQ(plain.config.shops[0].store_url, "https://" + plain.config.shops[0].domain);
  EXPECT_FALSE(plain.config.program.referrals.enabled);
}

TEST(ConfigTest, ReferralMistakesAreNamedWithTheirPaths) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"shops_0_store_url": "https://shop.example.com/"})", "shops[0].store_url"},
      {R"({})", "program.referrals.advocate_reward: required key is missing"},
      {R"({"advocate_reward": {"kind": "cash", "amount": "5.00"}})",
       "program.referrals.advocate_reward.kind: must be points, fixed_discount"},
      {R"({"advocate_reward": {"kind": "points"}})",
       "program.referrals.advocate_reward.points: required key is missing"},
      {R"({"advocate_reward": {"kind": "points", "points": 5, "amount": "1.00"}})",
       "program.referrals.advocate_reward.amount: applies to fixed_discount and store_credit"},
      {R"({"advocate_reward": {"kind": "points", "points": 5},
           "friend_reward": {"kind": "store_credit", "amount": "5.00"}})",
       "program.referrals.friend_reward.kind: must be fixed_discount, percentage_discount or "
       "free_shipping"},
      {R"({"advocate_reward": {"kind": "points", "points": 5}, "parameter": "r f"})",
       "program.referrals.parameter: must be 1-40 letters"},
      {R"({"advocate_reward": {"kind": "points", "points": 5}, "minimum_order": 25})",
       "program.referrals.minimum_order: must be a decimal string"},
      {R"({"advocate_reward": {"kind": "points", "points": 5},
           "milestones": [{"referrals": 5, "reward": {"kind": "points", "points": 1}},
                          {"referrals": 3, "reward": {"kind": "points", "points": 1}}]})",
       "program.referrals.milestones[1].referrals: must be greater than the previous"},
      {R"({"advocate_reward": {"kind": "points", "points": 5},
           "guards": {"same_email": "yes"}})",
       "program.referrals.guards.same_email: must be true or false"},
      {R"({"advocate_reward": {"kind": "points", "points": 5},
           "guards": {"advocate_rewards_period": "month"}})",
       "program.referrals.guards.advocate_rewards_period: applies with \"max_advocate_rewards\""},
      {R"({"advocate_reward": {"kind": "points", "points": 5}, "hold_day": 3})",
       "did you mean 'hold_days'?"},
  };
  for (const auto& [referrals, expected] : cases) {
    json j = ValidConfig();
    json section = json::parse(referrals);
    if (section.contains("shops_0_store_url")) {
      j["shops"][0]["store_url"] = section["shops_0_store_url"];
    } else {
      j["program"]["referrals"] = section;
    }
    ConfigLoadResult r = ParseConfig(j.dump());
    EXPECT_NE(Problems(r).find(expected), std::string::npos)
        << "for " << referrals << "\nexpected: " << expected << "\ngot: " << Problems(r);
  }
}

}  // namespace
}  // namespace loyaltyd::config_test
