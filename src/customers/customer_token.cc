#include "customers/customer_token.h"

#include <charconv>
#include <vector>

#include "core/crypto.h"

namespace loyaltyd {
namespace {

constexpr std::string_view kTokenPrefix = "lct1";

std::string CustomerTokenSignature(std::string_view secret, int64_t customer_id,
                                   int64_t expires_at_s) {
  std::string b64 =
      Base64Encode(HmacSha256(secret, "loyaltyd customer token v1\n" + std::to_string(customer_id) +
                                          "\n" + std::to_string(expires_at_s)));
  // base64url (RFC 4648 section 5) without padding: the token goes into headers and URLs.
  std::string out;
  for (char c : b64) {
    if (c == '=') break;
    out += c == '+' ? '-' : c == '/' ? '_' : c;
  }
  return out;
}

// A positive decimal without sign or leading zeros, as IssueCustomerToken writes it: one
// number has one spelling, so an edited spelling never verifies.
bool ParseTokenNumber(std::string_view text, int64_t& out) {
  if (text.empty() || text.size() > 18 || text[0] == '0') return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size() && out > 0;
}

}  // namespace

std::string IssueCustomerToken(std::string_view secret, int64_t customer_id, int64_t expires_at_s) {
  return std::string(kTokenPrefix) + "." + std::to_string(customer_id) + "." +
         std::to_string(expires_at_s) + "." +
         CustomerTokenSignature(secret, customer_id, expires_at_s);
}

Result<CustomerTokenClaims> VerifyCustomerToken(std::string_view secret, std::string_view token,
                                                int64_t now_s) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (parts.size() < 5) {
    const size_t dot = token.find('.', start);
    parts.push_back(token.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  CustomerTokenClaims claims;
  if (parts.size() != 4 || parts[0] != kTokenPrefix ||
      !ParseTokenNumber(parts[1], claims.customer_id) ||
      !ParseTokenNumber(parts[2], claims.expires_at_s)) {
    return Unauthenticated(
        "malformed customer token: expected lct1.<customer id>.<expiry>.<signature>, as issued "
        "by POST /api/v1/customers/{id}/token");
  }
  if (secret.empty()) return Unauthenticated("customer tokens are not enabled (storefront)");
  const std::string expected =
      CustomerTokenSignature(secret, claims.customer_id, claims.expires_at_s);
  if (!ConstantTimeEquals(expected, parts[3])) {
    return Unauthenticated("invalid customer token: the signature does not match");
  }
  if (now_s >= claims.expires_at_s) {
    return Unauthenticated("customer token expired; ask the store for a new one");
  }
  return claims;
}

}  // namespace loyaltyd
