#include "core/json_writer.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

namespace loyaltyd::json_writer_test {
namespace {

using nlohmann::json;

std::string Quoted(std::string_view s) {
  JsonWriter w;
  w.String(s);
  return w.Take();
}

// What api_reply::Reply writes for a string value.
std::string NlohmannQuoted(const std::string& s) {
  return json(s).dump(-1, ' ', false, json::error_handler_t::replace);
}

// Appends code point `cp` as UTF-8.
void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

TEST(JsonWriterTest, WritesNestedContainersWithCommasWhereTheyBelong) {
  JsonWriter w;
  w.BeginObject();
  w.Key("id").Int(42);
  w.Key("min").Int(std::numeric_limits<int64_t>::min());
  w.Key("max").Int(std::numeric_limits<int64_t>::max());
  w.Key("empty_object").BeginObject().EndObject();
  w.Key("empty_array").BeginArray().EndArray();
  w.Key("list").BeginArray();
  w.Int(1).String("two").Null().Bool(true).Bool(false);
  w.BeginObject().Key("a").StringOrNull("").Key("b").StringOrNull("x").EndObject();
  w.BeginArray().Int(-3).EndArray();
  w.EndArray();
  w.Key("last").String("end");
  w.EndObject();

  EXPECT_EQ(w.text(), R"({"id":42,"min":-9223372036854775808,"max":9223372036854775807,)"
                      R"("empty_object":{},"empty_array":[],"list":[1,"two",null,true,false,)"
                      R"({"a":null,"b":"x"},[-3]],"last":"end"})");
  const json parsed = json::parse(w.text());
  EXPECT_EQ(parsed["min"].get<int64_t>(), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(parsed["list"][5]["b"], "x");
}

TEST(JsonWriterTest, EscapesEveryControlCharacterQuoteAndBackslashAsNlohmannDoes) {
  std::string all_ascii;
  for (int c = 0; c < 0x80; ++c) all_ascii += static_cast<char>(c);
  EXPECT_EQ(Quoted(all_ascii), NlohmannQuoted(all_ascii));
  EXPECT_EQ(Quoted("say \"hi\"\\n"), R"("say \"hi\"\\n")");
  EXPECT_EQ(Quoted(std::string("\x01\x1f\x7f", 3)), "\"\\u0001\\u001f\x7f\"");
}

TEST(JsonWriterTest, KeepsWellFormedUtf8ByteForByte) {
  // Boundaries of each sequence length, and characters a shop really sends.
  std::string s = "Café Zoë — 東京 😀";
  for (uint32_t cp :
       {0x80u, 0x7FFu, 0x800u, 0xD7FFu, 0xE000u, 0xFFFDu, 0xFFFFu, 0x10000u, 0x10FFFFu}) {
    AppendUtf8(s, cp);
  }
  EXPECT_EQ(Quoted(s), NlohmannQuoted(s));
  EXPECT_EQ(json::parse(Quoted(s)).get<std::string>(), s);

  std::mt19937 rng(20261126);
  for (int round = 0; round < 2000; ++round) {
    std::string random;
    const int length = static_cast<int>(rng() % 40);
    for (int i = 0; i < length; ++i) {
      uint32_t cp = rng() % 4 == 0 ? rng() % 0x80 : rng() % 0x110000;
      if (cp >= 0xD800 && cp <= 0xDFFF) cp = 'x';  // surrogates are not characters
      AppendUtf8(random, cp);
    }
    ASSERT_EQ(Quoted(random), NlohmannQuoted(random)) << "round " << round;
  }
}

TEST(JsonWriterTest, ReplacesEachMaximalIllFormedSubpartWithOneReplacementCharacter) {
  const std::string fffd = "\xEF\xBF\xBD";
  struct Case {
    std::string in;
    std::string out;
  };
  const Case cases[] = {
      {"\x80", fffd},                                   // a lone continuation byte
      {"a\xC3", "a" + fffd},                            // truncated at the end
      {"\xE2\x82z", fffd + "z"},                        // a truncated 3-byte sequence: one
      {"\xF0\x9F\x98", fffd},                           // a truncated 4-byte sequence: one
      {"\xC0\xAF", fffd + fffd},                        // overlong: C0 never leads
      {"\xE0\x80\x80", fffd + fffd + fffd},             // overlong 3-byte form
      {"\xED\xA0\x80", fffd + fffd + fffd},             // a UTF-16 surrogate
      {"\xF4\x90\x80\x80", fffd + fffd + fffd + fffd},  // above U+10FFFF
      {"\xFF ok", fffd + " ok"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Quoted(c.in), "\"" + c.out + "\"")
        << json(c.in).dump(-1, ' ', true, json::error_handler_t::replace);
  }
}

TEST(JsonWriterTest, AppendJsonStringQuotesLikeTheWriter) {
  // The privacy export (sqlite_privacy.cc) writes webhook bodies with it: bytes a store sent
  // that are not UTF-8 must still give a document that parses.
  std::string out = "[";
  AppendJsonString(out, std::string("caf\xE9 \"x\"", 8));
  out += "]";
  EXPECT_EQ(out, "[\"caf\xEF\xBF\xBD \\\"x\\\"\"]");
  EXPECT_EQ(json::parse(out)[0], "caf\xEF\xBF\xBD \"x\"");
}

TEST(JsonWriterTest, AnyBytesGiveAStringThatParses) {
  std::mt19937 rng(7);
  for (int round = 0; round < 5000; ++round) {
    std::string bytes;
    const int length = static_cast<int>(rng() % 24);
    for (int i = 0; i < length; ++i) bytes += static_cast<char>(rng() % 256);
    const std::string quoted = Quoted(bytes);
    // Strict parsing: nlohmann rejects ill-formed UTF-8 in its input.
    ASSERT_NO_THROW(json::parse(quoted)) << "round " << round;
    // Where the input is well-formed the writer agrees with nlohmann exactly.
    try {
      const std::string reference = json(bytes).dump();
      ASSERT_EQ(quoted, reference) << "round " << round;
    } catch (const json::type_error&) {
      // ill-formed input: nlohmann's strict dump refuses it; checked above that ours parses
    }
  }
}

}  // namespace
}  // namespace loyaltyd::json_writer_test
