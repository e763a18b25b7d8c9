// JsonWriter: writes a JSON document straight into a string, for the admin API's pages that
// are read most (a customer's ledger). Building an nlohmann::json tree and dumping it cost
// 85 % of a 50-entry ledger page's 4.2 M instructions (a std::map node and string per key,
// copies out of initializer lists, then a byte-at-a-time UTF-8 check in dump); writing the
// text directly costs a small fraction of that (callgrind figures in bench/README.md).
//
// The output is what api_reply::Reply produces for the same values, except that keys come in
// the order they are written rather than sorted: strings are escaped as nlohmann's dump
// escapes them (", \, \b \f \n \r \t, other control characters as \u00xx, everything else as
// UTF-8), and bytes that are not well-formed UTF-8 become U+FFFD, as with
// json::error_handler_t::replace.
//
// The caller writes a well-formed document: Key only directly inside an object, one value
// after each Key. Commas are placed by the writer. Not thread-safe; one per response.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace loyaltyd {

// Appends `value` to `out` as a JSON string, quotes included, escaped as described above.
void AppendJsonString(std::string& out, std::string_view value);

class JsonWriter {
 public:
  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  JsonWriter& Key(std::string_view key);
  JsonWriter& String(std::string_view value);
  JsonWriter& Int(int64_t value);
  JsonWriter& Bool(bool value);
  JsonWriter& Null();
  // A string value, or null when it is empty.
  JsonWriter& StringOrNull(std::string_view value);

  const std::string& text() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  // Before a value or key: a comma unless it is the first in its container.
  void Separate();

  std::string out_;
  // Per open container: whether it holds something yet. After a Key the next value is not
  // separated (after_key_).
  std::vector<bool> has_items_;
  bool after_key_ = false;
};

}  // namespace loyaltyd
