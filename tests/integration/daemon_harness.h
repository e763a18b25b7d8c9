// DaemonHarness: runs the real `loyaltyd` binary for an integration test.
//
// Each harness has its own temporary directory holding a generated config, the SQLite database
// and the captured log; it picks a free loopback port, starts `loyaltyd serve`, and polls
// /healthz until the daemon answers. Tests then speak HTTP to it like a platform and a merchant.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#define CPPHTTPLIB_OPENSSL_SUPPORT 1
#include <httplib.h>

#include "support/temp_dir.h"

namespace loyaltyd::testing {

inline constexpr const char* kShopDomain = "it-shop.myshopify.com";
inline constexpr const char* kWebhookSecret = "it-webhook-secret-0123456789abcdef";
inline constexpr const char* kAdminToken = "it-admin-token-0123456789abcdef0123";
// The WooCommerce shop of the generated config (id "it-woo").
inline constexpr const char* kWooDomain = "it-woo.example.com";
inline constexpr const char* kWooSecret = "it-woo-secret-0123456789abcdef";

struct HttpAnswer {
  int status = 0;  // 0 when the request could not be sent
  std::string body;
  nlohmann::json Json() const { return nlohmann::json::parse(body, nullptr, false); }
};

class DaemonHarness {
 public:
  DaemonHarness();
  ~DaemonHarness();

  // The config the daemon is started with; tests may edit it before Start().
  nlohmann::json& config() { return config_; }

  // Starts the daemon and waits until /healthz answers; fails the test otherwise.
  void Start();
  // SIGTERM and wait; returns the exit status (as from waitpid's WEXITSTATUS), -1 if killed.
  int Stop();
  // SIGKILL: no chance to flush or drain.
  void Kill9();
  // Writes config() to the daemon's config file (the one Start() wrote, same listen port), for
  // a reload.
  void WriteConfig();
  // Sends SIGHUP: the daemon reloads its config file.
  void Reload();
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  // From the next Start(): the daemon's stdout and stderr go into a pipe that a harness thread
  // appends to the log file, instead of straight into the file. A file size limit set on the
  // daemon (RLIMIT_FSIZE, to fill its "disk" in a fault test) then cuts its database writes and
  // not its log, since the limit applies to the regular files a process writes, not to pipes.
  void set_log_through_pipe(bool on) { log_through_pipe_ = on; }

  HttpAnswer PostShopifyWebhook(const std::string& topic, const std::string& body,
                                const std::string& event_id,
                                const std::string& secret = kWebhookSecret,
                                const std::string& domain = kShopDomain);
  // Posts as WooCommerce's WC_Webhook::deliver does: X-WC-Webhook-Source is
  // "https://<domain>/", the signature is base64(HMAC-SHA256(secret, body)).
  HttpAnswer PostWooCommerceWebhook(const std::string& topic, const std::string& body,
                                    const std::string& delivery_id = "0123456789abcdef",
                                    const std::string& secret = kWooSecret,
                                    const std::string& domain = kWooDomain);
  HttpAnswer Get(const std::string& path, const std::string& token = kAdminToken);
  // POST with the admin token and a JSON body; `headers` are added (e.g. Idempotency-Key).
  HttpAnswer Post(const std::string& path, const std::string& body,
                  const httplib::Headers& headers = {}, const std::string& token = kAdminToken);

  // Polls GET /api/v1/stats until nothing is pending (or the timeout passes).
  bool WaitUntilProcessed(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Points balance of the single customer with this email, or -1 when there is none.
  int64_t BalanceOf(const std::string& email);

  std::string ReadLog() const;
  // Polls the log until `text` occurs `occurrences` times (or the timeout passes).
  bool WaitForLog(const std::string& text, size_t occurrences = 1,
                  std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;
  const std::string& dir() const { return dir_.path(); }
  int port() const { return port_; }

  // Runs `loyaltyd ARGS` to completion; returns the exit code and fills output (stdout+stderr).
  static int RunCli(const std::string& args, std::string& output);

 private:
  TempDir dir_;
  nlohmann::json config_;
  int port_ = 0;
  pid_t pid_ = -1;
  std::unique_ptr<httplib::Client> client_;
  bool log_through_pipe_ = false;
  std::thread log_relay_;  // copies the pipe to the log file until the daemon has gone
  void JoinLogRelay();
};

// A free loopback TCP port (bound then released).
int FreePort();

}  // namespace loyaltyd::testing
