// The Idempotency-Key a client sends with a request that must take effect once (a redemption,
// a payout, an action): one rule for every route, so a key one route accepts is never refused
// by another.
// Thread-safety: pure.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>

#include "core/status.h"

namespace loyaltyd {

inline constexpr size_t kMaxIdempotencyKeyLength = 255;

// 1-255 printable ASCII characters without spaces; InvalidArgument naming the header and what
// a key stands for ("redemption", "payout", "action") otherwise.
inline Status CheckIdempotencyKey(std::string_view key, std::string_view one_per) {
  const bool valid =
      !key.empty() && key.size() <= kMaxIdempotencyKeyLength &&
      std::all_of(key.begin(), key.end(), [](char c) { return c > 0x20 && c < 0x7f; });
  if (valid) return Status::Ok();
  return InvalidArgument(
      "the Idempotency-Key header must be 1-255 printable ASCII characters without spaces, "
      "e.g. a UUID the client generates per " +
      std::string(one_per));
}

}  // namespace loyaltyd
