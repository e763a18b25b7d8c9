// Customer tokens: what verifies, and each way a token fails (malformed, tampered, signed with
// another secret, expired), with the reason a client is told.
#include "customers/customer_token.h"

#include <gtest/gtest.h>

#include "core/crypto.h"

namespace loyaltyd::customer_token_test {
namespace {

constexpr const char* kSecret = "storefront-secret-0123456789abcdef0123";

TEST(CustomerTokenTest, VerifiesUntilItsExpiry) {
  const std::string token = IssueCustomerToken(kSecret, 42, 2'000'000'000);
  EXPECT_TRUE(token.starts_with("lct1.42.2000000000.")) << token;
  auto claims = VerifyCustomerToken(kSecret, token, 1'999'999'999);
  ASSERT_TRUE(claims.ok()) << claims.status().ToString();
  EXPECT_EQ(claims->customer_id, 42);
  EXPECT_EQ(claims->expires_at_s, 2'000'000'000);
  auto expired = VerifyCustomerToken(kSecret, token, 2'000'000'000);
  ASSERT_FALSE(expired.ok());
  EXPECT_EQ(expired.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(expired.status().message(), "customer token expired; ask the store for a new one");
}

TEST(CustomerTokenTest, TheSignatureIsTheDocumentedHmac) {
  // base64url(HMAC-SHA256(secret, "loyaltyd customer token v1\n<id>\n<expiry>")), no padding.
  std::string b64 = Base64Encode(HmacSha256(kSecret, "loyaltyd customer token v1\n7\n1700000000"));
  for (char& c : b64) c = c == '+' ? '-' : c == '/' ? '_' : c;
  b64.erase(b64.find('='));
  EXPECT_EQ(IssueCustomerToken(kSecret, 7, 1'700'000'000), "lct1.7.1700000000." + b64);
}

TEST(CustomerTokenTest, TamperedTokensFail) {
  const std::string token = IssueCustomerToken(kSecret, 42, 2'000'000'000);
  const std::string signature = token.substr(token.rfind('.') + 1);
  const std::string bad_signature = "invalid customer token: the signature does not match";
  // Another customer, a later expiry, a changed signature, another secret.
  for (const std::string& forged :
       {"lct1.43.2000000000." + signature, "lct1.42.2000000001." + signature,
        token.substr(0, token.size() - 1) + (token.back() == 'A' ? "B" : "A"),
        IssueCustomerToken("another-secret-0123456789abcdef0123456", 42, 2'000'000'000)}) {
    auto r = VerifyCustomerToken(kSecret, forged, 1'000'000'000);
    ASSERT_FALSE(r.ok()) << forged;
    EXPECT_EQ(r.status().message(), bad_signature) << forged;
  }
  // Other spellings of the same numbers are not the token that was signed.
  for (const std::string& malformed :
       {std::string(""), std::string("lct1"), "lct1.042.2000000000." + signature,
        "lct1.+42.2000000000." + signature, "lct2.42.2000000000." + signature, token + ".extra",
        std::string("0123456789abcdef0123"), "lct1.-1.2000000000." + signature}) {
    auto r = VerifyCustomerToken(kSecret, malformed, 1'000'000'000);
    ASSERT_FALSE(r.ok()) << malformed;
    EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated);
    EXPECT_TRUE(r.status().message().starts_with("malformed customer token")) << malformed;
  }
  EXPECT_FALSE(VerifyCustomerToken("", token, 1'000'000'000).ok());
}

}  // namespace
}  // namespace loyaltyd::customer_token_test
