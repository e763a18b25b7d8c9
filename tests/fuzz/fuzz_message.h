// How the webhook fuzz targets read their input: an HTTP-like message, "Name: value" header
// lines up to the first empty line, then the raw body. Readable, so a seed is a platform
// fixture with its headers in front (tests/fuzz/seed_corpus.sh), and libFuzzer's mutations keep
// most of the structure instead of scrambling a binary encoding.
// Thread-safety: pure functions.
#pragma once

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "connector/connector.h"

namespace loyaltyd::fuzz {

struct FuzzMessage {
  std::vector<std::pair<std::string, std::string>> headers;  // in input order
  std::string_view body;
};

// Splits `input` into header lines and the body. Lines end with "\n" (a "\r" before it is
// dropped); a line without ':' is a header with an empty value. No empty line: all headers.
inline FuzzMessage SplitMessage(std::string_view input) {
  FuzzMessage message;
  while (!input.empty()) {
    const size_t eol = input.find('\n');
    std::string_view line = input.substr(0, eol);
    input = eol == std::string_view::npos ? std::string_view() : input.substr(eol + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) {
      message.body = input;
      return message;
    }
    const size_t colon = line.find(':');
    std::string_view name = line.substr(0, colon);
    std::string_view value =
        colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    message.headers.emplace_back(std::string(name), std::string(value));
  }
  return message;
}

inline bool SameHeaderName(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// The first value of a header, matched case-insensitively as cpp-httplib does; "" when absent.
inline std::string HeaderValue(const FuzzMessage& message, std::string_view name) {
  for (const auto& [key, value] : message.headers) {
    if (SameHeaderName(key, name)) return value;
  }
  return "";
}

inline WebhookRequest RequestFor(const FuzzMessage& message) {
  return WebhookRequest{[&message](std::string_view name) { return HeaderValue(message, name); },
                        message.body};
}

// Aborts with a message: a broken invariant is a finding, like a sanitizer report.
[[noreturn]] inline void InvariantBroken(const char* what) {
  __builtin_printf("fuzz invariant broken: %s\n", what);
  __builtin_trap();
}

}  // namespace loyaltyd::fuzz
