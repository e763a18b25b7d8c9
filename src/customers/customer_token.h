// CustomerToken: the signed, expiring, read-only token a storefront widget shows a customer's
// balance, history and rewards with (GET /api/v1/me...), issued by the admin API
// (POST /api/v1/customers/{id}/token; docs/api.md, "Storefront").
//
// Format: "lct1.<customer id>.<expiry, Unix seconds>.<signature>", the signature being
// base64url(HMAC-SHA256(storefront.token_secret, "loyaltyd customer token v1\n<id>\n<expiry>"))
// without padding. Nothing in it is secret (the customer id and expiry are readable); what it
// proves is that loyaltyd issued it for that customer until that time. The domain-separation
// prefix keeps a signature from standing for anything else signed with the same secret.
// There is no revocation list: a token lives until its expiry, so ttl is kept short; rotating
// token_secret revokes every token at once.
//
// Thread-safety: free functions, reentrant.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace loyaltyd {

std::string IssueCustomerToken(std::string_view secret, int64_t customer_id, int64_t expires_at_s);

struct CustomerTokenClaims {
  int64_t customer_id = 0;
  int64_t expires_at_s = 0;
};

// The token's claims when it is well formed, signed with `secret` and not expired at now_s;
// otherwise Unauthenticated saying which (malformed, bad signature, expired). The signature is
// compared in constant time, and checked before the expiry so that an edited expiry reads as
// tampering. An empty secret verifies nothing.
Result<CustomerTokenClaims> VerifyCustomerToken(std::string_view secret, std::string_view token,
                                                int64_t now_s);

}  // namespace loyaltyd
