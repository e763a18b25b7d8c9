#include "core/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <cstdlib>

namespace loyaltyd {

namespace {

// OpenSSL 3's one-shot HMAC() looks the MAC and the digest up by name on every call
// (EVP_MAC_fetch, OBJ_NAME_do_all): about 100 k instructions, two of which were a quarter of
// an admin read's (the bearer token check) and part of every webhook's verification
// (callgrind, bench/README.md). Fetched once here; each call duplicates a context that already
// holds its digest. The template is never changed after it is made, so threads share it.
const EVP_MAC_CTX* HmacSha256Template() {
  static EVP_MAC_CTX* const kTemplate = [] {
    EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    EVP_MAC_CTX* ctx = mac != nullptr ? EVP_MAC_CTX_new(mac) : nullptr;
    EVP_MAC_free(mac);  // the context holds its own reference
    char digest[] = "SHA256";
    const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digest, 0),
                                 OSSL_PARAM_construct_end()};
    if (ctx == nullptr || EVP_MAC_CTX_set_params(ctx, params) != 1) std::abort();
    return ctx;
  }();
  return kTemplate;
}

}  // namespace

std::string HmacSha256(std::string_view key, std::string_view data) {
  static const unsigned char kNoKey = 0;
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_dup(HmacSha256Template());
  unsigned char out[EVP_MAX_MD_SIZE];
  size_t out_len = 0;
  // A failure here is OpenSSL out of memory. Returning anything would be worse than stopping:
  // two failed digests would compare equal (BearerTokenMatches).
  if (ctx == nullptr ||
      EVP_MAC_init(ctx, key.empty() ? &kNoKey : reinterpret_cast<const unsigned char*>(key.data()),
                   key.size(), nullptr) != 1 ||
      EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1 ||
      EVP_MAC_final(ctx, out, &out_len, sizeof out) != 1) {
    std::abort();
  }
  EVP_MAC_CTX_free(ctx);
  return std::string(reinterpret_cast<const char*>(out), out_len);
}

std::string HmacSha256Base64(std::string_view key, std::string_view data) {
  return Base64Encode(HmacSha256(key, data));
}

std::string Base64Encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string RandomHex(size_t n_bytes) {
  std::string raw(n_bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(n_bytes)) != 1) {
    // Without entropy no secret is safe to make; this is a broken machine, not a user error.
    std::abort();
  }
  return HexEncode(raw);
}

std::string HexEncode(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xF]);
  }
  return out;
}

std::string RandomCode(std::string_view prefix, size_t length) {
  static constexpr std::string_view kAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";
  // Rejection sampling keeps every character equally likely: bytes at or above the largest
  // multiple of the alphabet's size are dropped.
  static constexpr int kLimit = 256 - 256 % static_cast<int>(kAlphabet.size());
  std::string code(prefix);
  while (code.size() < prefix.size() + length) {
    const std::string hex = RandomHex(16);
    for (size_t i = 0; i + 1 < hex.size() && code.size() < prefix.size() + length; i += 2) {
      const int byte = std::stoi(hex.substr(i, 2), nullptr, 16);
      if (byte >= kLimit) continue;
      code.push_back(kAlphabet[static_cast<size_t>(byte) % kAlphabet.size()]);
    }
  }
  return code;
}

}  // namespace loyaltyd
