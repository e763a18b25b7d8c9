// Small readers for webhook JSON payloads, shared by the connectors' normalisers.
//
// A normaliser reads many optional fields; checking each one's presence and type inline would
// bury the mapping. These readers either return the field or throw PayloadError with the JSON
// path and the reason; each Normalise() catches PayloadError at its top and returns
// InvalidArgument, so the exception never leaves the connector.
// Thread-safety: pure functions.
#pragma once

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace loyaltyd::payload {

// A field that is missing or malformed: "line_items[0].price_set: missing".
struct PayloadError {
  std::string message;
};

[[noreturn]] inline void Fail(const std::string& path, const std::string& why) {
  throw PayloadError{path + ": " + why};
}

// obj[key], or nullptr when absent or JSON null.
inline const nlohmann::json* Field(const nlohmann::json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

// The string at key, or "" when absent or not a string.
inline std::string Text(const nlohmann::json& obj, const char* key) {
  const nlohmann::json* v = Field(obj, key);
  return v != nullptr && v->is_string() ? v->get<std::string>() : std::string();
}

// The boolean at key, or `fallback` when absent or not a boolean.
inline bool Flag(const nlohmann::json& obj, const char* key, bool fallback) {
  const nlohmann::json* v = Field(obj, key);
  return v != nullptr && v->is_boolean() ? v->get<bool>() : fallback;
}

// The text of a string or number value, for free-form name/value pairs (order attributes and
// meta): a string as sent; an integer exactly; a float in nlohmann's shortest round-trip form
// ("10.5"), which is what PHP's json_encode and Shopify write for a float. false for objects,
// arrays, booleans and null. Never used for money.
inline bool ScalarText(const nlohmann::json& v, std::string* text) {
  if (v.is_string()) {
    *text = v.get<std::string>();
  } else if (v.is_number_unsigned()) {
    *text = std::to_string(v.get<uint64_t>());
  } else if (v.is_number_integer()) {
    *text = std::to_string(v.get<int64_t>());
  } else if (v.is_number_float()) {
    *text = v.dump();
  } else {
    return false;
  }
  return true;
}

// Money sums in minor units: an overflow is a malformed payload, never a wrapped amount.
inline int64_t CheckedAdd(int64_t a, int64_t b, const std::string& path) {
  int64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) Fail(path, "amounts overflow");
  return sum;
}

inline int64_t CheckedSub(int64_t a, int64_t b, const std::string& path) {
  int64_t difference = 0;
  if (__builtin_sub_overflow(a, b, &difference)) Fail(path, "amounts overflow");
  return difference;
}

// Parses `body` building only the object keys in `keys_read` (at any depth): a webhook body is
// mostly fields a normaliser never reads, and building them dominates the parse. `keys_read`
// must be sorted (each normaliser static_asserts it). Throws nlohmann::json::parse_error.
template <size_t N>
nlohmann::json ParseKeepingKeys(std::string_view body, const std::string_view (&keys_read)[N]) {
  return nlohmann::json::parse(body, [&keys_read](int, nlohmann::json::parse_event_t event,
                                                  nlohmann::json& parsed) {
    if (event != nlohmann::json::parse_event_t::key) return true;
    const std::string& name = parsed.template get_ref<const std::string&>();
    return std::binary_search(std::begin(keys_read), std::end(keys_read), std::string_view(name));
  });
}

}  // namespace loyaltyd::payload
