// A strict reader for the subset of YAML that docs/openapi.yaml is written in, for the tests
// that compare that document with the code (no YAML library is among our dependencies). It
// reads the text into a nlohmann::json tree and refuses, naming the line, anything outside the
// subset rather than guessing:
//   - indentation by spaces only (no tabs); a mapping's or a sequence's entries all at one
//     indentation, a nested block more indented than its key (a sequence under a key too);
//   - block mappings "key: value" / "key:" + nested block; keys plain or quoted, no duplicates;
//   - block sequences "- value", "- key: value" (a mapping item continues at the indentation of
//     its first key) and "-" + nested block;
//   - scalars: plain (true, false, null, ~ and integers are typed; everything else is a string,
//     "3.0.3" included), 'single-quoted' ('' is a quote) and "double-quoted" (escapes \" \\ \/
//     \n \t); a plain scalar may not contain ": " and may not continue on the next line;
//   - flow sequences of scalars on one line, "[a, 'b']", and the empty mapping "{}";
//   - block scalars "|" and ">" (with an optional "-"), their lines more indented than the key;
//   - comments: a line whose first non-blank character is '#', and " #..." after a value.
// Not in the subset (an error): anchors and aliases (&, *), tags (!), directives and document
// markers (%, ---, ...), flow mappings other than {}, nested flow collections, multi-line plain
// or quoted scalars, complex keys (? ), and "key:\n- item" with the dash at the key's indent.
#pragma once

#include <cctype>
#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace loyaltyd::test_support {

struct YamlResult {
  nlohmann::json value;
  std::string error;  // empty when the text was read; else "line N: why"
  bool ok() const { return error.empty(); }
};

class YamlSubsetReader {
 public:
  explicit YamlSubsetReader(std::string_view text) {
    size_t start = 0;
    while (start <= text.size()) {
      size_t end = text.find('\n', start);
      if (end == text.npos) end = text.size();
      std::string line(text.substr(start, end - start));
      if (!line.empty() && line.back() == '\r') line.pop_back();
      lines_.push_back(std::move(line));
      start = end + 1;
    }
  }

  YamlResult Read() {
    YamlResult result;
    size_t i = 0;
    if (!NextSignificant(i)) {
      result.value = nullptr;
      return result;
    }
    Line first;
    if (!Inspect(i, first)) return Failed();
    if (first.indent != 0) {
      Fail(i, "the document must start at column 1");
      return Failed();
    }
    if (!ParseBlock(i, 0, result.value)) return Failed();
    if (NextSignificant(i)) {
      Fail(i, "unexpected line (indentation does not match any open block)");
      return Failed();
    }
    return result;
  }

 private:
  struct Line {
    size_t indent = 0;
    std::string content;  // without indentation and trailing comment or blanks
  };

  std::vector<std::string> lines_;
  std::string error_;

  YamlResult Failed() const {
    YamlResult r;
    r.error = error_;
    return r;
  }
  bool Fail(size_t index, const std::string& why) {
    if (error_.empty()) error_ = "line " + std::to_string(index + 1) + ": " + why;
    return false;
  }

  static std::string_view TrimRight(std::string_view s) {
    while (!s.empty() && (s.back() == ' ')) s.remove_suffix(1);
    return s;
  }

  // The line without its " #" comment (outside quotes).
  static std::string StripComment(const std::string& text) {
    char quote = 0;
    for (size_t k = 0; k < text.size(); ++k) {
      const char c = text[k];
      if (quote != 0) {
        if (c == quote) quote = 0;
        continue;
      }
      if ((c == '\'' || c == '"') && (k == 0 || text[k - 1] == ' ' || text[k - 1] == '[' ||
                                      text[k - 1] == ',' || text[k - 1] == '-')) {
        quote = c;
      } else if (c == '#' && (k == 0 || text[k - 1] == ' ')) {
        return std::string(TrimRight(std::string_view(text).substr(0, k)));
      }
    }
    return std::string(TrimRight(text));
  }

  bool IsBlankOrComment(size_t index) const {
    const std::string& l = lines_[index];
    const size_t first = l.find_first_not_of(' ');
    return first == l.npos || l[first] == '#';
  }

  // Moves `i` to the next line with content; false at the end.
  bool NextSignificant(size_t& i) const {
    while (i < lines_.size() && IsBlankOrComment(i)) ++i;
    return i < lines_.size();
  }

  bool Inspect(size_t index, Line& out) {
    const std::string& l = lines_[index];
    const size_t first = l.find_first_not_of(' ');
    if (l.find('\t') != l.npos) return Fail(index, "tab character (indent with spaces)");
    out.indent = first;
    out.content = StripComment(l.substr(first));
    if (out.content == "---" || out.content == "..." || out.content.starts_with("%")) {
      return Fail(index, "document markers and directives are not in the subset");
    }
    return true;
  }

  static bool IsSequenceItem(std::string_view content) {
    return content == "-" || content.starts_with("- ");
  }

  // Splits "key: rest" / "key:"; false when the content is not a mapping entry.
  static bool SplitKey(std::string_view content, std::string& key, std::string& rest) {
    size_t colon = std::string_view::npos;
    if (!content.empty() && (content[0] == '\'' || content[0] == '"')) {
      const size_t close = content.find(content[0], 1);
      if (close == content.npos || close + 1 >= content.size() || content[close + 1] != ':') {
        return false;
      }
      key = std::string(content.substr(1, close - 1));
      colon = close + 1;
    } else {
      if (content.empty() || content[0] == '[' || content[0] == '{' || content[0] == '-' ||
          content[0] == '?') {
        return false;
      }
      for (size_t k = 0; k < content.size(); ++k) {
        if (content[k] == ':' && (k + 1 == content.size() || content[k + 1] == ' ')) {
          colon = k;
          break;
        }
      }
      if (colon == std::string_view::npos) return false;
      key = std::string(TrimRight(content.substr(0, colon)));
      if (key.empty()) return false;
    }
    if (colon + 1 < content.size() && content[colon + 1] != ' ') return false;
    std::string_view after = colon + 1 < content.size() ? content.substr(colon + 1) : "";
    while (!after.empty() && after.front() == ' ') after.remove_prefix(1);
    rest = std::string(after);
    return true;
  }

  // A block (mapping or sequence) whose first line is at `i` with indentation `indent`.
  bool ParseBlock(size_t& i, size_t indent, nlohmann::json& out) {
    Line line;
    if (!Inspect(i, line)) return false;
    if (IsSequenceItem(line.content)) return ParseSequence(i, indent, out);
    return ParseMapping(i, indent, out);
  }

  // The value after "key:" or "- " when it is on the following lines, or a scalar on the line.
  bool ParseValue(size_t& i, size_t parent_indent, const std::string& rest, size_t line_index,
                  nlohmann::json& out) {
    if (rest.empty()) {
      size_t next = i;
      if (!NextSignificant(next)) {
        out = nullptr;
        i = next;
        return true;
      }
      Line l;
      if (!Inspect(next, l)) return false;
      if (l.indent <= parent_indent) {
        if (l.indent == parent_indent && IsSequenceItem(l.content)) {
          return Fail(next, "indent a sequence under its key");
        }
        out = nullptr;  // an empty value
        return true;
      }
      i = next;
      return ParseBlock(i, l.indent, out);
    }
    if (rest == "|" || rest == "|-" || rest == ">" || rest == ">-") {
      return ParseBlockScalar(i, parent_indent, rest, out);
    }
    return ParseInlineValue(rest, line_index, out);
  }

  bool ParseBlockScalar(size_t& i, size_t parent_indent, const std::string& style,
                        nlohmann::json& out) {
    std::vector<std::string> body;
    size_t block_indent = 0;
    while (i < lines_.size()) {
      const std::string& l = lines_[i];
      const size_t first = l.find_first_not_of(' ');
      if (first == l.npos) {
        body.emplace_back();
        ++i;
        continue;
      }
      if (l.find('\t') != l.npos) return Fail(i, "tab character (indent with spaces)");
      if (first <= parent_indent) break;
      if (block_indent == 0) block_indent = first;
      if (first < block_indent) return Fail(i, "block scalar line less indented than its first");
      body.push_back(l.substr(block_indent));
      ++i;
    }
    while (!body.empty() && body.back().empty()) body.pop_back();
    if (block_indent == 0) return Fail(i == 0 ? 0 : i - 1, "empty block scalar");
    std::string text;
    const bool folded = style[0] == '>';
    for (size_t k = 0; k < body.size(); ++k) {
      if (k > 0) text += folded && !body[k].empty() && !body[k - 1].empty() ? " " : "\n";
      text += body[k];
    }
    if (style.size() == 1) text += "\n";
    out = text;
    return true;
  }

  bool ParseMapping(size_t& i, size_t indent, nlohmann::json& out) {
    out = nlohmann::json::object();
    while (NextSignificant(i)) {
      Line line;
      if (!Inspect(i, line)) return false;
      if (line.indent < indent) return true;
      if (line.indent > indent) return Fail(i, "unexpected indentation");
      if (IsSequenceItem(line.content)) return Fail(i, "a sequence item inside a mapping");
      std::string key;
      std::string rest;
      if (!SplitKey(line.content, key, rest)) {
        return Fail(i, "expected 'key: value' (a plain scalar cannot continue on a new line)");
      }
      if (out.contains(key)) return Fail(i, "duplicate key '" + key + "'");
      const size_t line_index = i;
      ++i;
      if (!ParseValue(i, indent, rest, line_index, out[key])) return false;
    }
    return true;
  }

  bool ParseSequence(size_t& i, size_t indent, nlohmann::json& out) {
    out = nlohmann::json::array();
    while (NextSignificant(i)) {
      Line line;
      if (!Inspect(i, line)) return false;
      if (line.indent < indent) return true;
      if (line.indent > indent) return Fail(i, "unexpected indentation");
      if (!IsSequenceItem(line.content)) return Fail(i, "a mapping entry inside a sequence");
      std::string after = line.content.size() > 1 ? line.content.substr(2) : "";
      const size_t lead = after.find_first_not_of(' ');
      if (lead == after.npos) after.clear();
      const size_t item_indent = indent + 2 + (lead == after.npos ? 0 : lead);
      if (lead != after.npos) after = after.substr(lead);
      std::string key;
      std::string rest;
      nlohmann::json item;
      if (!after.empty() && SplitKey(after, key, rest)) {
        // "- key: value": a mapping whose entries are at the first key's column. The line is
        // rewritten as that mapping's first line (the reader owns its copy of the text).
        lines_[i] = std::string(item_indent, ' ') + after;
        if (!ParseMapping(i, item_indent, item)) return false;
      } else {
        const size_t line_index = i;
        ++i;
        if (!ParseValue(i, indent, after, line_index, item)) return false;
      }
      out.push_back(std::move(item));
    }
    return true;
  }

  bool ParseInlineValue(const std::string& text, size_t line_index, nlohmann::json& out) {
    if (text == "{}") {
      out = nlohmann::json::object();
      return true;
    }
    if (text.front() == '{') return Fail(line_index, "flow mappings other than {}");
    if (text.front() == '[') {
      if (text.back() != ']') return Fail(line_index, "a flow sequence must end on its line");
      out = nlohmann::json::array();
      const std::string inner = text.substr(1, text.size() - 2);
      if (inner.find_first_not_of(' ') == inner.npos) return true;
      std::string item;
      char quote = 0;
      std::vector<std::string> items;
      for (char c : inner) {
        if (quote != 0) {
          item += c;
          if (c == quote) quote = 0;
          continue;
        }
        if (c == '\'' || c == '"') quote = c;
        if (c == '[' || c == ']' || c == '{' || c == '}') {
          return Fail(line_index, "nested flow collections");
        }
        if (c == ',') {
          items.push_back(item);
          item.clear();
          continue;
        }
        item += c;
      }
      items.push_back(item);
      for (std::string& it : items) {
        const size_t b = it.find_first_not_of(' ');
        if (b == it.npos) return Fail(line_index, "empty item in a flow sequence");
        it = std::string(TrimRight(std::string_view(it).substr(b)));
        nlohmann::json v;
        if (!ParseScalar(it, line_index, v)) return false;
        out.push_back(std::move(v));
      }
      return true;
    }
    return ParseScalar(text, line_index, out);
  }

  bool ParseScalar(const std::string& text, size_t line_index, nlohmann::json& out) {
    if (text.front() == '\'') {
      std::string value;
      size_t k = 1;
      for (; k < text.size(); ++k) {
        if (text[k] == '\'') {
          if (k + 1 < text.size() && text[k + 1] == '\'') {
            value += '\'';
            ++k;
            continue;
          }
          break;
        }
        value += text[k];
      }
      if (k != text.size() - 1) return Fail(line_index, "text after a single-quoted scalar");
      out = value;
      return true;
    }
    if (text.front() == '"') {
      std::string value;
      size_t k = 1;
      for (; k < text.size() && text[k] != '"'; ++k) {
        if (text[k] != '\\') {
          value += text[k];
          continue;
        }
        if (++k >= text.size()) break;
        switch (text[k]) {
          case '"':
          case '\\':
          case '/':
            value += text[k];
            break;
          case 'n':
            value += '\n';
            break;
          case 't':
            value += '\t';
            break;
          default:
            return Fail(line_index, std::string("escape \\") + text[k] + " is not in the subset");
        }
      }
      if (k != text.size() - 1) return Fail(line_index, "text after a double-quoted scalar");
      out = value;
      return true;
    }
    if (std::string_view("&*!|>%@`{[]}").find(text.front()) != std::string_view::npos) {
      return Fail(line_index, "'" + text.substr(0, 1) + "' at the start of a plain scalar");
    }
    if (text.find(": ") != text.npos || text.back() == ':') {
      return Fail(line_index, "': ' in a plain scalar (quote it)");
    }
    if (text == "true" || text == "false") {
      out = text == "true";
      return true;
    }
    if (text == "null" || text == "~") {
      out = nullptr;
      return true;
    }
    const size_t digits_from = text.front() == '-' ? 1 : 0;
    if (text.size() > digits_from && text.size() < 19 &&
        text.find_first_not_of("0123456789", digits_from) == text.npos) {
      out = std::stoll(text);
      return true;
    }
    out = text;
    return true;
  }
};

inline YamlResult ParseYamlSubset(std::string_view text) { return YamlSubsetReader(text).Read(); }

}  // namespace loyaltyd::test_support
