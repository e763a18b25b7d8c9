#include "app/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <memory>

namespace loyaltyd {
namespace {

// The length of the well-formed UTF-8 sequence that `text` starts with (RFC 3629: no overlong
// forms, no surrogates, nothing above U+10FFFF), or 0 when it starts with none.
size_t Utf8SequenceLength(std::string_view text) {
  const auto byte = [&text](size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(0);
  size_t length = 0;
  unsigned char low = 0x80, high = 0xBF;  // the range of the second byte
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;
  } else {
    return 0;
  }
  if (text.size() < length || byte(1) < low || byte(1) > high) return 0;
  for (size_t i = 2; i < length; ++i) {
    if (byte(i) < 0x80 || byte(i) > 0xBF) return 0;
  }
  return length;
}

// One JSON object per line: {"time":..., "level":..., "thread":..., "msg":...}. The message is
// escaped here, which spdlog's pattern syntax cannot do.
class JsonLineFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    using namespace std::chrono;
    const auto ms = duration_cast<milliseconds>(msg.time.time_since_epoch()).count();
    const std::time_t secs = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char time_buf[64];
    std::snprintf(time_buf, sizeof time_buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                  tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(ms % 1000));
    Append(dest, "{\"time\":\"");
    Append(dest, time_buf);
    Append(dest, "\",\"level\":\"");
    const auto level = spdlog::level::to_string_view(msg.level);
    dest.append(level.data(), level.data() + level.size());
    Append(dest, "\",\"thread\":");
    Append(dest, std::to_string(msg.thread_id));
    Append(dest, ",\"msg\":\"");
    const std::string_view payload(msg.payload.data(), msg.payload.size());
    for (size_t i = 0; i < payload.size(); ++i) {
      const char c = payload[i];
      if (static_cast<unsigned char>(c) >= 0x80) {
        // Messages quote what clients sent (a header naming an unknown shop): pass valid UTF-8
        // through and replace anything else, so that every line stays valid JSON.
        const size_t length = Utf8SequenceLength(payload.substr(i));
        if (length == 0) {
          Append(dest, "\\ufffd");
        } else {
          Append(dest, payload.substr(i, length));
          i += length - 1;
        }
        continue;
      }
      switch (c) {
        case '"':
          Append(dest, "\\\"");
          break;
        case '\\':
          Append(dest, "\\\\");
          break;
        case '\n':
          Append(dest, "\\n");
          break;
        case '\t':
          Append(dest, "\\t");
          break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            char esc[8];
            std::snprintf(esc, sizeof esc, "\\u%04x", c);
            Append(dest, esc);
          } else {
            dest.push_back(c);
          }
      }
    }
    Append(dest, "\"}\n");
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonLineFormatter>();
  }

 private:
  static void Append(spdlog::memory_buf_t& dest, std::string_view s) {
    dest.append(s.data(), s.data() + s.size());
  }
};

}  // namespace

Status ConfigureLogging(const LoggingConfig& logging) {
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>("loyaltyd", sink);
  if (logging.format == "json") {
    logger->set_formatter(std::make_unique<JsonLineFormatter>());
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%-5l%$ %v");
  }
  const spdlog::level::level_enum level = spdlog::level::from_str(logging.level);
  if (level == spdlog::level::off && logging.level != "off") {
    return InvalidArgument("logging.level: unknown level '" + logging.level + "'");
  }
  logger->set_level(level);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
  return Status::Ok();
}

Status SetLogLevel(const std::string& level_name) {
  const spdlog::level::level_enum level = spdlog::level::from_str(level_name);
  if (level == spdlog::level::off && level_name != "off") {
    return InvalidArgument("logging.level: unknown level '" + level_name + "'");
  }
  // A logger's level is atomic: threads logging meanwhile see the old level or the new one.
  spdlog::default_logger()->set_level(level);
  return Status::Ok();
}

}  // namespace loyaltyd
