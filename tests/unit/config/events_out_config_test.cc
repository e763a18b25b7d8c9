// events_out[] and program.expiry.warn_days in the config (docs/configuration.md, "Events
// out"): each problem is named by its key, and no problem ever quotes a secret.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "config/config.h"

namespace loyaltyd::events_out_config_test {
namespace {

using nlohmann::json;

constexpr const char* kSecret = "evt-secret-0123456789abcdef";

json WithEndpoints(const json& endpoints) {
  json j = json::parse(R"({
    "admin": {"token": "0123456789abcdef0123"},
    "shops": [{"id": "demo", "platform": "shopify", "domain": "demo.myshopify.com",
               "webhook_secret": "secret-secret"}],
    "program": {"currency": "USD", "earn": [{"type": "spend", "points": 1, "per": "1.00"}]}
  })");
  j["events_out"] = endpoints;
  return j;
}

json Endpoint() {
  return json{{"id", "klaviyo"},
              {"url", "https://hooks.example.com/loyalty?list=7"},
              {"secret", kSecret},
              {"topics",
               {"points.earned", "points.redeemed", "tier.changed", "referral.converted",
                "points.expiring"}}};
}

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

TEST(EventsOutConfigTest, LoadsAnEndpointWithDefaults) {
  ConfigLoadResult r = ParseConfig(WithEndpoints(json::array({Endpoint()})).dump());
  ASSERT_TRUE(r.ok()) << Problems(r);
  ASSERT_EQ(r.config.events_out.size(), 1u);
  const EventsOutEndpoint& e = r.config.events_out[0];
  EXPECT_EQ(e.id, "klaviyo");
  EXPECT_EQ(e.url, "https://hooks.example.com/loyalty?list=7");
  EXPECT_EQ(e.secret, kSecret);
  EXPECT_TRUE(e.enabled);
  EXPECT_EQ(e.timeout_seconds, 5);
  EXPECT_EQ(e.topics.size(), 5u);
  EXPECT_TRUE(e.Subscribes("tier.changed"));
  EXPECT_EQ(r.config.FindEventsOutEndpoint("klaviyo"), &e);
  EXPECT_EQ(r.config.FindEventsOutEndpoint("other"), nullptr);
  EXPECT_EQ(r.config.program.expiry.warn_days, 7);
}

TEST(EventsOutConfigTest, AbsentMeansNoEndpoints) {
  json j = WithEndpoints(json::array());
  j.erase("events_out");
  ConfigLoadResult r = ParseConfig(j.dump());
  ASSERT_TRUE(r.ok()) << Problems(r);
  EXPECT_TRUE(r.config.events_out.empty());
}

TEST(EventsOutConfigTest, UrlMustBeHttpOrHttps) {
  for (const char* url : {"ftp://hooks.example.com/x", "hooks.example.com/x", "https://",
                          "https://user:pw@hooks.example.com/x", "https://hooks.example.com/#x",
                          "https://hooks.example.com:99999/x", "https://hooks example.com/"}) {
    json e = Endpoint();
    e["url"] = url;
    ConfigLoadResult r = ParseConfig(WithEndpoints(json::array({e})).dump());
    EXPECT_TRUE(HasProblem(r, "events_out[0].url", "must be an http:// or https:// URL"))
        << url << "\n"
        << Problems(r);
  }
  for (const char* url : {"http://127.0.0.1:8099/hooks", "https://a.example.com",
                          "https://a.example.com:8443/x/y?z=1&w=2"}) {
    json e = Endpoint();
    e["url"] = url;
    ConfigLoadResult r = ParseConfig(WithEndpoints(json::array({e})).dump());
    EXPECT_TRUE(r.ok()) << url << "\n" << Problems(r);
  }
}

TEST(EventsOutConfigTest, ShortSecretIsRejectedWithoutQuotingIt) {
  json e = Endpoint();
  e["secret"] = "tiny-s3cr3t";
  ConfigLoadResult r = ParseConfig(WithEndpoints(json::array({e})).dump());
  EXPECT_TRUE(HasProblem(r, "events_out[0].secret", "at least 16 characters")) << Problems(r);
  EXPECT_EQ(Problems(r).find("tiny-s3cr3t"), std::string::npos) << Problems(r);
}

TEST(EventsOutConfigTest, UnknownAndRepeatedTopicsAreNamed) {
  json e = Endpoint();
  e["topics"] = {"points.earned", "points.earnt", "points.earned"};
  ConfigLoadResult r = ParseConfig(WithEndpoints(json::array({e})).dump());
  EXPECT_TRUE(HasProblem(r, "events_out[0].topics[1]", "unknown topic 'points.earnt'"))
      << Problems(r);
  EXPECT_TRUE(HasProblem(r, "events_out[0].topics[1]", "topics are: points.earned"));
  EXPECT_TRUE(HasProblem(r, "events_out[0].topics[2]", "listed twice"));
  e["topics"] = json::array();
  r = ParseConfig(WithEndpoints(json::array({e})).dump());
  EXPECT_TRUE(HasProblem(r, "events_out[0].topics", "non-empty array")) << Problems(r);
}

TEST(EventsOutConfigTest, DuplicateAndMalformedIdsAreRejected) {
  json second = Endpoint();
  ConfigLoadResult r = ParseConfig(WithEndpoints(json::array({Endpoint(), second})).dump());
  EXPECT_TRUE(HasProblem(r, "events_out[1].id", "duplicate events_out id 'klaviyo'"))
      << Problems(r);
  second["id"] = "Klaviyo Main";
  r = ParseConfig(WithEndpoints(json::array({Endpoint(), second})).dump());
  EXPECT_TRUE(HasProblem(r, "events_out[1].id", "lower-case letters")) << Problems(r);
}

TEST(EventsOutConfigTest, MissingKeysUnknownKeysAndRangesAreNamed) {
  json e = {{"id", "x"}, {"secrett", kSecret}, {"timeout_seconds", 0}};
  ConfigLoadResult r = ParseConfig(WithEndpoints(json::array({e})).dump());
  EXPECT_TRUE(HasProblem(r, "events_out[0].url", "required key is missing")) << Problems(r);
  EXPECT_TRUE(HasProblem(r, "events_out[0].secret", "required key is missing"));
  EXPECT_TRUE(HasProblem(r, "events_out[0].topics", "required key is missing"));
  EXPECT_TRUE(HasProblem(r, "events_out[0]", "did you mean 'secret'?"));
  EXPECT_TRUE(HasProblem(r, "events_out[0].timeout_seconds", "between 1 and 30"));
  EXPECT_EQ(Problems(r).find(kSecret), std::string::npos) << Problems(r);
  r = ParseConfig(WithEndpoints(json{{"id", "x"}}).dump());
  EXPECT_TRUE(HasProblem(r, "events_out", "must be an array")) << Problems(r);
}

TEST(EventsOutConfigTest, WarnDaysIsRangeChecked) {
  json j = WithEndpoints(json::array({Endpoint()}));
  j["program"]["expiry"] = {{"lot_age_days", 365}, {"warn_days", 14}};
  ConfigLoadResult r = ParseConfig(j.dump());
  ASSERT_TRUE(r.ok()) << Problems(r);
  EXPECT_EQ(r.config.program.expiry.warn_days, 14);
  j["program"]["expiry"]["warn_days"] = 0;
  EXPECT_TRUE(HasProblem(ParseConfig(j.dump()), "program.expiry.warn_days", "between 1 and 365"));
}

// config/schema.json lists exactly the keys the loader knows in an endpoint (as
// ConfigTest.SchemaListsExactlyTheKeysTheLoaderKnows does for the other sections).
TEST(EventsOutConfigTest, SchemaListsExactlyTheEndpointKeys) {
  std::ifstream in(LOYALTYD_SOURCE_DIR "/config/schema.json");
  ASSERT_TRUE(in);
  const json schema = json::parse(in);
  std::set<std::string> schema_keys;
  for (const auto& [key, value] :
       schema["properties"]["events_out"]["items"]["properties"].items()) {
    (void)value;
    schema_keys.insert(key);
  }
  json e = Endpoint();
  e["zzzzzzzzzzzzzzzz"] = 1;
  ConfigLoadResult r = ParseConfig(WithEndpoints(json::array({e})).dump());
  std::set<std::string> loader_keys;
  for (const ConfigProblem& p : r.problems) {
    const size_t at = p.message.find("known keys:");
    if (p.path != "events_out[0]" || at == std::string::npos) continue;
    std::istringstream rest(p.message.substr(at + 11));
    std::string key;
    while (rest >> key) loader_keys.insert(key);
  }
  EXPECT_EQ(loader_keys, schema_keys) << Problems(r);
  EXPECT_TRUE(
      schema["properties"]["program"]["properties"]["expiry"]["properties"].contains("warn_days"));
}

}  // namespace
}  // namespace loyaltyd::events_out_config_test
