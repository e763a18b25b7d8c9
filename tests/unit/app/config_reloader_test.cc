#include "app/config_reloader.h"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/temp_dir.h"

namespace loyaltyd::config_reloader_test {
namespace {

using nlohmann::json;

json BaseConfig() {
  return json::parse(R"({
    "server": {"listen": "127.0.0.1:8080", "threads": 16},
    "storage": {"sqlite": {"path": "var/reload.db"}},
    "logging": {"level": "info"},
    "admin": {"token": "reload-admin-token-0123456789"},
    "shops": [{"id": "a", "platform": "shopify", "domain": "a.myshopify.com",
               "webhook_secret": "secret-a-0123456789"}],
    "program": {"currency": "USD", "earn": [{"type": "spend", "points": 1, "per": "1.00"}]}
  })");
}

Config Parse(const json& j) {
  ConfigLoadResult loaded = ParseConfig(j.dump());
  EXPECT_TRUE(loaded.ok()) << (loaded.problems.empty() ? "" : loaded.problems[0].ToString());
  return loaded.config;
}

class ConfigReloaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Write(BaseConfig());
    source_ = std::make_shared<ConfigSource>(Parse(BaseConfig()));
    reloader_ = std::make_unique<ConfigReloader>(
        path_, source_, [this](const Config& previous, const Config& next) {
          applied_.emplace_back(previous.admin.token, next.admin.token);
        });
    running_ = source_->Current();
  }
  void TearDown() override { spdlog::default_logger()->set_level(spdlog::level::info); }

  void Write(const json& j) { std::ofstream(path_) << j.dump(2); }
  void WriteText(const std::string& text) { std::ofstream(path_) << text; }
  // Nothing changed: the same snapshot is current and no replacement happened.
  void ExpectUnchanged() {
    EXPECT_EQ(source_->Current(), running_);
    EXPECT_EQ(source_->generation(), 0u);
    EXPECT_TRUE(applied_.empty());
  }

  testing::TempDir dir_;
  const std::string path_ = dir_.File("loyaltyd.json");
  std::shared_ptr<ConfigSource> source_;
  std::unique_ptr<ConfigReloader> reloader_;
  std::shared_ptr<const Config> running_;
  std::vector<std::pair<std::string, std::string>> applied_;  // (previous, next) admin tokens
};

TEST_F(ConfigReloaderTest, AValidFileIsAppliedWhole) {
  json next = BaseConfig();
  next["program"]["earn"][0]["points"] = 3;
  next["admin"]["token"] = "rotated-admin-token-0123456789";
  next["shops"].push_back({{"id", "b"},
                           {"platform", "woocommerce"},
                           {"domain", "b.example.com"},
                           {"webhook_secret", "secret-b-0123456789"}});
  next["logging"]["level"] = "warn";
  Write(next);

  const ReloadResult result = reloader_->Reload();
  EXPECT_EQ(result.outcome, ReloadResult::Outcome::kApplied);
  EXPECT_TRUE(result.problems.empty());
  EXPECT_EQ(result.summary,
            "program changed, admin.token changed, logging.level info -> warn, 2 shops "
            "(added: b)");
  EXPECT_EQ(source_->generation(), 1u);
  EXPECT_EQ(source_->Current()->program.earn[0].points, 3);
  EXPECT_EQ(source_->Current()->shops.size(), 2u);
  EXPECT_EQ(running_->program.earn[0].points, 1) << "the old snapshot is untouched";
  EXPECT_EQ(spdlog::default_logger()->level(), spdlog::level::warn);
  ASSERT_EQ(applied_.size(), 1u);
  EXPECT_EQ(applied_[0].first, "reload-admin-token-0123456789");
  EXPECT_EQ(applied_[0].second, "rotated-admin-token-0123456789");
}

TEST_F(ConfigReloaderTest, AnInvalidFileIsRefusedWithEveryProblemAndItsPath) {
  json next = BaseConfig();
  next["program"]["earn"][0]["per"] = "-1.00";
  next["program"]["earn"][0]["point"] = 2;
  next["shops"][0].erase("webhook_secret");
  Write(next);

  const ReloadResult result = reloader_->Reload();
  EXPECT_EQ(result.outcome, ReloadResult::Outcome::kInvalid);
  ASSERT_EQ(result.problems.size(), 3u);
  EXPECT_EQ(result.problems[0], "program.earn[0]: unknown key 'point', did you mean 'points'?");
  EXPECT_EQ(result.problems[1].rfind("program.earn[0].per: must be a positive amount in USD", 0),
            0u)
      << result.problems[1];
  EXPECT_EQ(result.problems[2], "shops[0].webhook_secret: required key is missing");
  ExpectUnchanged();
}

TEST_F(ConfigReloaderTest, MalformedOrMissingFilesAreRefused) {
  WriteText("{\"admin\": ");
  ReloadResult result = reloader_->Reload();
  EXPECT_EQ(result.outcome, ReloadResult::Outcome::kInvalid);
  ASSERT_EQ(result.problems.size(), 1u);
  EXPECT_EQ(result.problems[0].rfind("malformed JSON at line 1", 0), 0u) << result.problems[0];

  std::remove(path_.c_str());
  result = reloader_->Reload();
  EXPECT_EQ(result.outcome, ReloadResult::Outcome::kInvalid);
  ASSERT_EQ(result.problems.size(), 1u);
  EXPECT_EQ(result.problems[0], "cannot read config file '" + path_ + "'");
  ExpectUnchanged();
}

TEST_F(ConfigReloaderTest, RestartOnlyChangesRefuseTheWholeFileNamingEachKey) {
  json next = BaseConfig();
  next["server"]["listen"] = "127.0.0.1:9090";
  next["storage"]["sqlite"]["path"] = "var/elsewhere.db";
  next["logging"]["format"] = "json";
  next["program"]["earn"][0]["points"] = 7;  // valid, but not applied either
  Write(next);

  const ReloadResult result = reloader_->Reload();
  EXPECT_EQ(result.outcome, ReloadResult::Outcome::kNeedsRestart);
  EXPECT_EQ(result.problems,
            (std::vector<std::string>{
                "server.listen: changes need a restart; kept 127.0.0.1:8080, the file has "
                "127.0.0.1:9090",
                "storage.sqlite.path: changes need a restart; kept var/reload.db, the file has "
                "var/elsewhere.db",
                "logging.format: changes need a restart; kept text, the file has json"}));
  ExpectUnchanged();
}

TEST(RestartOnlyChangesTest, EveryServerAndStorageKeyNeedsARestart) {
  const Config base = Parse(BaseConfig());
  const std::vector<std::pair<std::string, std::function<void(json&)>>> cases = {
      {"server.listen", [](json& j) { j["server"]["listen"] = "0.0.0.0:8080"; }},
      {"server.max_body_bytes", [](json& j) { j["server"]["max_body_bytes"] = 2048; }},
      {"server.threads", [](json& j) { j["server"]["threads"] = 17; }},
      {"server.keep_alive_max_requests",
       [](json& j) { j["server"]["keep_alive_max_requests"] = 5; }},
      {"server.keep_alive_timeout_seconds",
       [](json& j) { j["server"]["keep_alive_timeout_seconds"] = 9; }},
      {"server.read_timeout_seconds", [](json& j) { j["server"]["read_timeout_seconds"] = 9; }},
      {"server.listen_backlog", [](json& j) { j["server"]["listen_backlog"] = 9; }},
      {"storage.sqlite.path", [](json& j) { j["storage"]["sqlite"]["path"] = "other.db"; }},
      {"storage.group_commit_max_batch",
       [](json& j) { j["storage"]["group_commit_max_batch"] = 9; }},
      {"logging.format", [](json& j) { j["logging"]["format"] = "json"; }},
  };
  for (const auto& [key, change] : cases) {
    json next = BaseConfig();
    change(next);
    const std::vector<std::string> lines = RestartOnlyChanges(base, Parse(next));
    ASSERT_EQ(lines.size(), 1u) << key;
    EXPECT_EQ(lines[0].rfind(key + ": changes need a restart; kept ", 0), 0u) << lines[0];
  }
  EXPECT_TRUE(RestartOnlyChanges(base, Parse(BaseConfig())).empty());
}

TEST(DescribeReloadTest, NamesWhatChangedAndNeverASecret) {
  const Config base = Parse(BaseConfig());
  const std::vector<std::pair<std::function<void(json&)>, std::string>> cases = {
      {[](json&) {}, "no changes, 1 shop"},
      // The same values written out: still no change.
      {[](json& j) { j["program"]["earn"][0]["rounding"] = "floor"; }, "no changes, 1 shop"},
      {[](json& j) { j["program"]["earn"][0]["points"] = 2; }, "program changed, 1 shop"},
      {[](json& j) {
         j["program"]["refunds"] = {{"allow_negative_balance", true}};
       },
       "program changed, 1 shop"},
      {[](json& j) { j["shops"][0]["previous_webhook_secret"] = "secret-old-0123456789"; },
       "1 shop (changed: a [webhook secret])"},
      {[](json& j) {
         j["shops"][0]["api"] = {{"access_token", "shpat_new"}};
         j["shops"][0]["domain"] = "a2.myshopify.com";
       },
       "1 shop (changed: a [domain, api])"},
      {[](json& j) { j["shops"][0]["id"] = "c"; }, "1 shop (added: c; removed: a)"},
      {[](json& j) {
         j["outbox"] = {{"max_attempts", 3}};
       },
       "outbox changed, 1 shop"},
      {[](json& j) { j["logging"]["level"] = "debug"; }, "logging.level info -> debug, 1 shop"},
  };
  for (const auto& [change, expected] : cases) {
    json next = BaseConfig();
    change(next);
    const std::string summary = DescribeReload(base, Parse(next));
    EXPECT_EQ(summary, expected) << next.dump();
    EXPECT_EQ(summary.find("secret-"), std::string::npos) << summary;
    EXPECT_EQ(summary.find("shpat_"), std::string::npos) << summary;
  }
}

}  // namespace
}  // namespace loyaltyd::config_reloader_test
