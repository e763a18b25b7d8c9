#include "outbox/event_sender.h"

#define CPPHTTPLIB_OPENSSL_SUPPORT 1  // must match the library's build (../shared/STYLE.md)
#include <httplib.h>

#include <algorithm>
#include <charconv>

namespace loyaltyd {

EventResponseAction ClassifyEventResponse(int http_status) {
  if (http_status >= 200 && http_status < 300) return EventResponseAction::kDelivered;
  if (http_status == 0 || http_status == 408 || http_status == 429 || http_status >= 500) {
    return EventResponseAction::kRetry;
  }
  return EventResponseAction::kFail;
}

namespace {

// "https://host:8443/a/b?c" -> ("https://host:8443", "/a/b?c"). The config validated the form.
std::pair<std::string, std::string> SplitEventUrl(const std::string& url) {
  const size_t scheme_end = url.find("://");
  const size_t path_start =
      scheme_end == std::string::npos ? std::string::npos : url.find_first_of("/?", scheme_end + 3);
  if (path_start == std::string::npos) return {url, "/"};
  std::string path = url.substr(path_start);
  if (path.front() == '?') path = "/" + path;
  return {url.substr(0, path_start), path};
}

int64_t RetryAfterMs(const httplib::Response& res) {
  const std::string value = res.get_header_value("Retry-After");
  int64_t seconds = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec != std::errc() || end != value.data() + value.size() || seconds < 0) return 0;
  return std::min<int64_t>(seconds, 86'400) * 1000;
}

}  // namespace

EventPostResult HttpEventSender::Post(const EventPost& post) {
  EventPostResult result;
  try {
    const auto [base, path] = SplitEventUrl(post.url);
    httplib::Client client(base);
    client.set_connection_timeout(post.timeout_seconds, 0);
    client.set_read_timeout(post.timeout_seconds, 0);
    client.set_write_timeout(post.timeout_seconds, 0);
    client.set_follow_location(false);  // a redirect is the merchant's mistake: report it
    httplib::Headers headers;
    for (const auto& [name, value] : post.headers) headers.emplace(name, value);
    httplib::Result res = client.Post(path, headers, post.body, "application/json");
    if (!res) {
      result.error = "no answer: " + httplib::to_string(res.error());
      return result;
    }
    result.http_status = res->status;
    if (res->status < 200 || res->status >= 300) {
      // A short excerpt helps the merchant see why their tool refused; bodies can be pages.
      result.error = "HTTP " + std::to_string(res->status);
      if (!res->body.empty()) result.error += ": " + res->body.substr(0, 200);
      result.retry_after_ms = RetryAfterMs(*res);
    }
  } catch (const std::exception& e) {
    // Nothing escapes the worker thread (../shared/STYLE.md, 5).
    result.http_status = 0;
    result.error = std::string("cannot send: ") + e.what();
  }
  return result;
}

}  // namespace loyaltyd
