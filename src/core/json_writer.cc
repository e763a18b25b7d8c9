#include "core/json_writer.h"

#include <charconv>

namespace loyaltyd {

namespace {

constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

// Bytes a string cannot hold as they are: '"', '\', control characters, and the start of a
// multi-byte sequence (checked before it is copied).
bool NeedsAttention(unsigned char c) { return c < 0x20 || c == '"' || c == '\\' || c >= 0x80; }

// The length of the well-formed UTF-8 sequence at `s[i]` (a byte >= 0x80), or 0 and in
// `subpart` how many bytes to replace by one U+FFFD: the maximal subpart of an ill-formed
// sequence, as the Unicode Standard recommends (chapter 3, "U+FFFD Substitution of Maximal
// Subparts"); table 3-7 there gives the well-formed sequences checked here.
size_t WellFormedLength(std::string_view s, size_t i, size_t& subpart) {
  const auto lead = static_cast<unsigned char>(s[i]);
  size_t length = 0;
  unsigned char second_lo = 0x80, second_hi = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) second_lo = 0xA0;  // no overlong forms
    if (lead == 0xED) second_hi = 0x9F;  // no surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) second_lo = 0x90;  // no overlong forms
    if (lead == 0xF4) second_hi = 0x8F;  // nothing above U+10FFFF
  } else {
    subpart = 1;  // a continuation byte, C0, C1 or F5..FF: never a lead byte
    return 0;
  }
  for (size_t k = 1; k < length; ++k) {
    const unsigned char lo = k == 1 ? second_lo : 0x80;
    const unsigned char hi = k == 1 ? second_hi : 0xBF;
    if (i + k >= s.size()) {
      subpart = k;
      return 0;
    }
    const auto c = static_cast<unsigned char>(s[i + k]);
    if (c < lo || c > hi) {
      subpart = k;
      return 0;
    }
  }
  return length;
}

}  // namespace

void JsonWriter::Separate() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!has_items_.empty()) {
    if (has_items_.back()) out_ += ',';
    has_items_.back() = true;
  }
}

JsonWriter& JsonWriter::BeginObject() {
  Separate();
  out_ += '{';
  has_items_.push_back(false);
  return *this;
}

JsonWriter& JsonWriter::EndObject() {
  out_ += '}';
  has_items_.pop_back();
  return *this;
}

JsonWriter& JsonWriter::BeginArray() {
  Separate();
  out_ += '[';
  has_items_.push_back(false);
  return *this;
}

JsonWriter& JsonWriter::EndArray() {
  out_ += ']';
  has_items_.pop_back();
  return *this;
}

JsonWriter& JsonWriter::Key(std::string_view key) {
  Separate();
  AppendJsonString(out_, key);
  out_ += ':';
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::String(std::string_view value) {
  Separate();
  AppendJsonString(out_, value);
  return *this;
}

JsonWriter& JsonWriter::StringOrNull(std::string_view value) {
  return value.empty() ? Null() : String(value);
}

JsonWriter& JsonWriter::Int(int64_t value) {
  Separate();
  char buffer[24];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  (void)ec;  // 24 bytes hold any int64_t
  out_.append(buffer, end);
  return *this;
}

JsonWriter& JsonWriter::Bool(bool value) {
  Separate();
  out_ += value ? "true" : "false";
  return *this;
}

JsonWriter& JsonWriter::Null() {
  Separate();
  out_ += "null";
  return *this;
}

void AppendJsonString(std::string& out, std::string_view value) {
  out += '"';
  static constexpr char kHex[] = "0123456789abcdef";
  size_t run_start = 0;  // bytes [run_start, i) are copied as they are
  size_t i = 0;
  while (i < value.size()) {
    const auto c = static_cast<unsigned char>(value[i]);
    if (!NeedsAttention(c)) {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      size_t subpart = 0;
      const size_t length = WellFormedLength(value, i, subpart);
      if (length > 0) {
        i += length;  // well-formed: part of the run
        continue;
      }
      out.append(value.data() + run_start, i - run_start);
      out += kReplacementCharacter;
      i += subpart;
      run_start = i;
      continue;
    }
    out.append(value.data() + run_start, i - run_start);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default: {
        const char escape[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
        out.append(escape, sizeof escape);
      }
    }
    ++i;
    run_start = i;
  }
  out.append(value.data() + run_start, value.size() - run_start);
  out += '"';
}

}  // namespace loyaltyd
