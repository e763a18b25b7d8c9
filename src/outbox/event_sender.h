// EventSender: the seam through which the outbox worker POSTs an event webhook to a
// merchant's endpoint (docs/events.md). HttpEventSender is the real one (cpp-httplib, http and
// https, no redirects followed); tests drive it against a real receiver on loopback
// (tests/fakes/fake_event_receiver.h).
// Thread-safety: Post may be called from one thread at a time per sender (the outbox worker).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace loyaltyd {

struct EventPost {
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;         // application/json
  int timeout_seconds = 5;  // connect, send and read, each
};

struct EventPostResult {
  int http_status = 0;         // 0: no HTTP answer (connection refused, timeout, TLS failure)
  std::string error;           // why there was no answer, or a short excerpt of a non-2xx body
  int64_t retry_after_ms = 0;  // a 429/503's Retry-After, in ms (0: none)
};

// What the worker does with an answer (docs/events.md, "Delivery and retries").
enum class EventResponseAction {
  kDelivered,  // 2xx
  kRetry,      // no answer, 408, 429, 5xx: retried with the outbox's back-off
  kFail,       // 3xx and other 4xx (410 Gone included): failed for good, retry by hand
};
EventResponseAction ClassifyEventResponse(int http_status);

class EventSender {
 public:
  virtual ~EventSender() = default;
  virtual EventPostResult Post(const EventPost& post) = 0;
};

class HttpEventSender final : public EventSender {
 public:
  EventPostResult Post(const EventPost& post) override;
};

}  // namespace loyaltyd
