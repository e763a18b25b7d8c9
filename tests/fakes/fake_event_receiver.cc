#include "fakes/fake_event_receiver.h"

#define CPPHTTPLIB_OPENSSL_SUPPORT 1
#include <httplib.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace loyaltyd::fakes {
namespace {

// base64(HMAC-SHA256(key, data)) with OpenSSL's own primitives: the check a receiver in any
// language would write, independent of loyaltyd's signer.
std::string ReceiverHmac(const std::string& key, const std::string& data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &mac_len);
  std::string out(4 * ((mac_len + 2) / 3), '\0');
  const int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), mac, static_cast<int>(mac_len));
  out.resize(static_cast<size_t>(n));
  return out;
}

}  // namespace

FakeEventReceiver::FakeEventReceiver(std::string secret, std::string path)
    : secret_(std::move(secret)), path_(std::move(path)) {}

FakeEventReceiver::~FakeEventReceiver() { Stop(); }

bool FakeEventReceiver::Start(int port) {
  Stop();
  server_ = std::make_unique<httplib::Server>();
  server_->Post(path_, [this](const httplib::Request& req, httplib::Response& res) {
    ReceivedEvent event;
    event.topic = req.get_header_value("X-Loyaltyd-Topic");
    event.event_id = req.get_header_value("X-Loyaltyd-Event-Id");
    event.timestamp = req.get_header_value("X-Loyaltyd-Timestamp");
    event.signature = req.get_header_value("X-Loyaltyd-Hmac-Sha256");
    event.attempt = req.get_header_value("X-Loyaltyd-Attempt");
    event.content_type = req.get_header_value("Content-Type");
    event.body = req.body;
    const std::string expected = ReceiverHmac(secret_, event.timestamp + "." + req.body);
    event.signature_valid =
        !event.timestamp.empty() && expected.size() == event.signature.size() &&
        CRYPTO_memcmp(expected.data(), event.signature.data(), expected.size()) == 0;
    int status = event.signature_valid ? 200 : 401;
    int retry_after = 0;
    std::chrono::milliseconds delay{0};
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (fail_count_ > 0) {
        --fail_count_;
        status = fail_status_;
        retry_after = retry_after_seconds_;
      } else if (delay_count_ > 0) {
        --delay_count_;
        delay = delay_;
      }
    }
    if (delay.count() > 0) std::this_thread::sleep_for(delay);
    event.answered = status;
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(event);
    }
    res.status = status;
    if (retry_after > 0) res.set_header("Retry-After", std::to_string(retry_after));
    res.set_content(status < 300 ? "{\"ok\":true}" : "{\"error\":\"fake fault\"}",
                    "application/json");
  });
  if (port == 0) {
    port_ = server_->bind_to_any_port("127.0.0.1");
    if (port_ <= 0) return false;
  } else {
    if (!server_->bind_to_port("127.0.0.1", port)) return false;
    port_ = port;
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  for (int i = 0; i < 2000 && !server_->is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return server_->is_running();
}

void FakeEventReceiver::Stop() {
  if (!thread_.joinable()) return;
  server_->stop();
  thread_.join();
}

std::string FakeEventReceiver::url() const {
  return "http://127.0.0.1:" + std::to_string(port_) + path_;
}

void FakeEventReceiver::FailNext(int count, int status, int retry_after_seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_count_ = count;
  fail_status_ = status;
  retry_after_seconds_ = retry_after_seconds;
}

void FakeEventReceiver::DelayNext(int count, std::chrono::milliseconds delay) {
  std::lock_guard<std::mutex> lock(mu_);
  delay_count_ = count;
  delay_ = delay;
}

std::vector<ReceivedEvent> FakeEventReceiver::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

std::vector<ReceivedEvent> FakeEventReceiver::delivered() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ReceivedEvent> out;
  for (const ReceivedEvent& e : requests_) {
    if (e.signature_valid && e.answered >= 200 && e.answered < 300) out.push_back(e);
  }
  return out;
}

bool FakeEventReceiver::WaitForDelivered(size_t n, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (delivered().size() >= n) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return delivered().size() >= n;
}

bool FakeEventReceiver::WaitForRequests(size_t n, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (requests().size() >= n) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return requests().size() >= n;
}

}  // namespace loyaltyd::fakes
