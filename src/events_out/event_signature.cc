#include "events_out/event_signature.h"

#include <charconv>

#include "core/crypto.h"

namespace loyaltyd {

std::string SignEvent(std::string_view secret, int64_t timestamp_seconds, std::string_view body) {
  std::string signed_text = std::to_string(timestamp_seconds);
  signed_text += '.';
  signed_text.append(body);
  return HmacSha256Base64(secret, signed_text);
}

bool VerifyEventSignature(std::string_view secret, std::string_view timestamp_header,
                          std::string_view body, std::string_view signature_header,
                          int64_t now_seconds, int64_t tolerance_seconds) {
  if (timestamp_header.empty() || timestamp_header.size() > 18) return false;
  int64_t timestamp = 0;
  const auto [end, ec] = std::from_chars(
      timestamp_header.data(), timestamp_header.data() + timestamp_header.size(), timestamp);
  if (ec != std::errc() || end != timestamp_header.data() + timestamp_header.size()) return false;
  if (timestamp < now_seconds - tolerance_seconds || timestamp > now_seconds + tolerance_seconds) {
    return false;
  }
  return ConstantTimeEquals(SignEvent(secret, timestamp, body), signature_header);
}

}  // namespace loyaltyd
