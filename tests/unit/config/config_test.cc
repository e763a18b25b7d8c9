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

namespace loyaltyd {
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
  EXPECT_EQ(r.config.logging.format, "text");
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
  j["program"]["rewards"] = json::array(
      {{{"id", "five"}, {"points", 500}, {"kind", "fixed_discount"}, {"amount", "5.00"}}});
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
      {"outbox", json::json_pointer("/properties/outbox")},
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
      {"outbox", json::json_pointer("/outbox")},
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

}  // namespace
}  // namespace loyaltyd
