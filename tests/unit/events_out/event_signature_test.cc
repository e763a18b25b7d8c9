// The events-out signature (src/events_out/event_signature.h) against vectors computed
// independently with OpenSSL's command line:
//   printf '%s' '1767225600.{"id":"evt_0123","topic":"points.earned"}' |
//     openssl dgst -sha256 -hmac 'whsec-test-0123456789abcdef' -binary | base64
//   -> evbRHJ3jRN3CZNFdCDY5+JhAPS45hlE3rg/qQG6Fdbw=
#include "events_out/event_signature.h"

#include <gtest/gtest.h>

namespace loyaltyd::event_signature_test {
namespace {

constexpr const char* kSecret = "whsec-test-0123456789abcdef";
constexpr const char* kBody = R"({"id":"evt_0123","topic":"points.earned"})";
constexpr int64_t kTimestamp = 1767225600;  // 2026-01-01T00:00:00Z
constexpr const char* kSignature = "evbRHJ3jRN3CZNFdCDY5+JhAPS45hlE3rg/qQG6Fdbw=";

TEST(EventSignatureTest, SignsTimestampDotBodyAsOpensslDoes) {
  EXPECT_EQ(SignEvent(kSecret, kTimestamp, kBody), kSignature);
}

TEST(EventSignatureTest, VerifiesWithinToleranceOnly) {
  EXPECT_TRUE(VerifyEventSignature(kSecret, "1767225600", kBody, kSignature, kTimestamp, 300));
  EXPECT_TRUE(
      VerifyEventSignature(kSecret, "1767225600", kBody, kSignature, kTimestamp + 300, 300));
  // A replay after the tolerance, even with the right signature, is refused.
  EXPECT_FALSE(
      VerifyEventSignature(kSecret, "1767225600", kBody, kSignature, kTimestamp + 301, 300));
}

TEST(EventSignatureTest, RefusesAnyChangeToBodyTimestampOrSecret) {
  EXPECT_FALSE(VerifyEventSignature(kSecret, "1767225600", std::string(kBody) + " ", kSignature,
                                    kTimestamp, 300));
  // A fresh timestamp on a captured body: the signature no longer matches.
  EXPECT_FALSE(VerifyEventSignature(kSecret, "1767225601", kBody, kSignature, kTimestamp, 300));
  EXPECT_FALSE(VerifyEventSignature("another-secret-0123456789", "1767225600", kBody, kSignature,
                                    kTimestamp, 300));
  EXPECT_FALSE(VerifyEventSignature(kSecret, "", kBody, kSignature, kTimestamp, 300));
  EXPECT_FALSE(VerifyEventSignature(kSecret, "17672256x0", kBody, kSignature, kTimestamp, 300));
  EXPECT_FALSE(VerifyEventSignature(kSecret, "1767225600", kBody, "", kTimestamp, 300));
}

}  // namespace
}  // namespace loyaltyd::event_signature_test
