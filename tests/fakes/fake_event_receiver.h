// A fake receiver of loyaltyd's event webhooks (docs/events.md): a real HTTP server on
// 127.0.0.1 that a merchant's email or SMS tool would be. It checks every request's signature
// as a receiver should — base64(HMAC-SHA256(secret, timestamp + "." + body)), computed here
// with OpenSSL directly rather than with loyaltyd's signer — and records it.
//
// Fault injection: the next N requests answer a given status (500, 410, 429 with Retry-After)
// or wait before answering (a slow receiver, to make the sender time out); Stop() then
// Start(port()) makes the receiver refuse connections for a while and come back on the same
// address.
//
// Thread-safety: every public method may be called from any thread while the server runs;
// the state is guarded by mu_.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace httplib {
class Server;
}  // namespace httplib

namespace loyaltyd::fakes {

struct ReceivedEvent {
  std::string topic;      // X-Loyaltyd-Topic
  std::string event_id;   // X-Loyaltyd-Event-Id
  std::string timestamp;  // X-Loyaltyd-Timestamp
  std::string signature;  // X-Loyaltyd-Hmac-Sha256
  std::string attempt;    // X-Loyaltyd-Attempt
  std::string content_type;
  std::string body;
  bool signature_valid = false;
  int answered = 0;  // the status this request got
  nlohmann::json Json() const { return nlohmann::json::parse(body, nullptr, false); }
};

class FakeEventReceiver {
 public:
  explicit FakeEventReceiver(std::string secret, std::string path = "/hooks/loyalty");
  ~FakeEventReceiver();
  FakeEventReceiver(const FakeEventReceiver&) = delete;
  FakeEventReceiver& operator=(const FakeEventReceiver&) = delete;

  // Listens on `port` (0: a free one). May be called again after Stop(), e.g. with port().
  bool Start(int port = 0);
  void Stop();
  int port() const { return port_; }
  std::string url() const;

  // The next `count` requests answer `status` (with Retry-After when retry_after_seconds > 0).
  void FailNext(int count, int status, int retry_after_seconds = 0);
  // The next `count` requests wait `delay` before answering 200.
  void DelayNext(int count, std::chrono::milliseconds delay);

  // Every request received, in order.
  std::vector<ReceivedEvent> requests() const;
  // The requests answered 2xx with a valid signature: what a receiver would have processed.
  std::vector<ReceivedEvent> delivered() const;
  // Polls until at least `n` deliveries (2xx, valid signature) arrived, or the timeout.
  bool WaitForDelivered(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // Polls until at least `n` requests arrived, or the timeout.
  bool WaitForRequests(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(20));

 private:
  const std::string secret_;
  const std::string path_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;

  mutable std::mutex mu_;
  std::vector<ReceivedEvent> requests_;  // GUARDED_BY(mu_)
  int fail_count_ = 0;                   // GUARDED_BY(mu_)
  int fail_status_ = 500;                // GUARDED_BY(mu_)
  int retry_after_seconds_ = 0;          // GUARDED_BY(mu_)
  int delay_count_ = 0;                  // GUARDED_BY(mu_)
  std::chrono::milliseconds delay_{0};   // GUARDED_BY(mu_)
};

}  // namespace loyaltyd::fakes
