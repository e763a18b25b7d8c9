#include "http/admin_api.h"

#include <string>

#include <gtest/gtest.h>

namespace loyaltyd::admin_api_test {
namespace {

constexpr const char* kToken = "it-admin-token-0123456789abcdef0123";

std::string Bearer(const std::string& token) { return "Bearer " + token; }

TEST(BearerTokenMatchesTest, AcceptsExactlyTheToken) {
  EXPECT_TRUE(BearerTokenMatches(Bearer(kToken), kToken));
}

TEST(BearerTokenMatchesTest, RefusesAMissingOrMalformedHeader) {
  EXPECT_FALSE(BearerTokenMatches("", kToken));
  EXPECT_FALSE(BearerTokenMatches("Bearer ", kToken));
  EXPECT_FALSE(BearerTokenMatches("Bearer", kToken));
  EXPECT_FALSE(BearerTokenMatches(kToken, kToken));  // no scheme
  EXPECT_FALSE(BearerTokenMatches(std::string("Basic ") + kToken, kToken));
  EXPECT_FALSE(BearerTokenMatches(std::string("Bearer  ") + kToken, kToken));
}

TEST(BearerTokenMatchesTest, RefusesATokenDifferingInAnyOneByte) {
  const std::string token = kToken;
  for (size_t i = 0; i < token.size(); ++i) {
    std::string wrong = token;
    wrong[i] = static_cast<char>(wrong[i] ^ 0x01);
    EXPECT_FALSE(BearerTokenMatches(Bearer(wrong), token)) << "byte " << i;
  }
}

TEST(BearerTokenMatchesTest, RefusesPrefixesAndExtensions) {
  const std::string token = kToken;
  EXPECT_FALSE(BearerTokenMatches(Bearer(token.substr(0, token.size() - 1)), token));
  EXPECT_FALSE(BearerTokenMatches(Bearer(token + "x"), token));
  EXPECT_FALSE(BearerTokenMatches(Bearer(token + '\0'), token));
  EXPECT_FALSE(BearerTokenMatches(Bearer(""), token));
}

TEST(BearerTokenMatchesTest, AnEmptyConfiguredTokenMatchesNothing) {
  EXPECT_FALSE(BearerTokenMatches("Bearer ", ""));
  EXPECT_FALSE(BearerTokenMatches("", ""));
}

}  // namespace
}  // namespace loyaltyd::admin_api_test
