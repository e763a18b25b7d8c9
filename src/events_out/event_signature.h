// Events out: how an event webhook is signed (docs/events.md, "Verifying a delivery").
//
// X-Loyaltyd-Hmac-Sha256 = base64(HMAC-SHA256(endpoint secret, T + "." + raw body)), where T
// is the X-Loyaltyd-Timestamp header (Unix seconds, decimal). Like Shopify's
// X-Shopify-Hmac-Sha256 (base64 HMAC-SHA256, https://shopify.dev/docs/apps/build/webhooks/
// subscribe/https#step-5-verify-the-webhook), but the timestamp is signed too (as Stripe's
// Stripe-Signature does, https://docs.stripe.com/webhooks#verify-manually), so that a captured
// delivery cannot be replayed later with a fresh timestamp: a receiver rejects timestamps
// outside its tolerance (5 minutes is usual) and dedupes on X-Loyaltyd-Event-Id within it.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace loyaltyd {

// The X-Loyaltyd-Hmac-Sha256 value for a body sent at `timestamp_seconds`.
std::string SignEvent(std::string_view secret, int64_t timestamp_seconds, std::string_view body);

// A receiver's check: the signature matches (constant time) and the timestamp is a decimal
// number of seconds within `tolerance_seconds` of `now_seconds`.
bool VerifyEventSignature(std::string_view secret, std::string_view timestamp_header,
                          std::string_view body, std::string_view signature_header,
                          int64_t now_seconds, int64_t tolerance_seconds);

}  // namespace loyaltyd
