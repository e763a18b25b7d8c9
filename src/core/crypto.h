// Cryptographic helpers over OpenSSL: HMAC-SHA256, base64, constant-time comparison, random ids.
// Thread-safety: all functions are reentrant (OpenSSL 3 one-shot APIs).
#pragma once

#include <string>
#include <string_view>

namespace loyaltyd {

// Raw 32-byte HMAC-SHA256 of `data` keyed with `key`.
std::string HmacSha256(std::string_view key, std::string_view data);

// base64(HMAC-SHA256(key, data)): the webhook signature format of both Shopify
// (X-Shopify-Hmac-Sha256) and WooCommerce (X-WC-Webhook-Signature).
std::string HmacSha256Base64(std::string_view key, std::string_view data);

std::string Base64Encode(std::string_view bytes);

// Lower-case hex, two characters per byte.
std::string HexEncode(std::string_view bytes);

// Compares in time that depends only on the lengths, never on where the inputs differ.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// `n_bytes` of cryptographically random data, hex-encoded (2 * n_bytes characters).
std::string RandomHex(size_t n_bytes);

// `prefix` followed by `length` cryptographically random characters from an alphabet without
// look-alikes (no I, L, O, 0, 1), every character equally likely: discount codes and referral
// codes that customers type and nobody can guess (31^10 is about 8e14 codes).
std::string RandomCode(std::string_view prefix, size_t length);

}  // namespace loyaltyd
