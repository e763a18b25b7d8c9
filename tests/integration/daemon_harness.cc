#include "integration/daemon_harness.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "core/crypto.h"

namespace loyaltyd::testing {

int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

DaemonHarness::DaemonHarness() {
  config_ = {
      {"server", {{"listen", "127.0.0.1:0"}, {"max_body_bytes", 65536}, {"threads", 32}}},
      {"storage", {{"sqlite", {{"path", dir_.File("loyaltyd.db")}}}}},
      {"logging", {{"level", "debug"}}},
      {"admin", {{"token", kAdminToken}}},
      {"shops",
       {{{"id", "it"},
         {"platform", "shopify"},
         {"domain", kShopDomain},
         {"webhook_secret", kWebhookSecret}},
        {{"id", "it-woo"},
         {"platform", "woocommerce"},
         {"domain", kWooDomain},
         {"webhook_secret", kWooSecret}}}},
      {"program",
       {{"currency", "USD"}, {"earn", {{{"type", "spend"}, {"points", 1}, {"per", "1.00"}}}}}}};
}

DaemonHarness::~DaemonHarness() {
  if (pid_ > 0) Kill9();
  JoinLogRelay();
}

void DaemonHarness::JoinLogRelay() {
  // The relay ends at the pipe's end of file: when the daemon (the only writer) has exited.
  if (log_relay_.joinable()) log_relay_.join();
}

void DaemonHarness::Start() {
  ASSERT_LT(pid_, 0) << "daemon already running";
  // Keep the port across restarts so a client reconnects to the same daemon address.
  if (port_ == 0) port_ = FreePort();
  config_["server"]["listen"] = "127.0.0.1:" + std::to_string(port_);
  const std::string config_path = dir_.File("config.json");
  WriteConfig();

  const std::string log_path = dir_.File("loyaltyd.log");
  JoinLogRelay();  // a previous run's, if it was not stopped through Stop() or Kill9()
  int log_pipe[2] = {-1, -1};
  // O_CLOEXEC: no other child this process starts may hold the write end open.
  if (log_through_pipe_) {
    ASSERT_EQ(pipe2(log_pipe, O_CLOEXEC), 0);
  }
  pid_ = fork();
  ASSERT_GE(pid_, 0);
  if (pid_ == 0) {
    const int log_fd = log_through_pipe_
                           ? log_pipe[1]
                           : open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    execl(LOYALTYD_BINARY, LOYALTYD_BINARY, "serve", "--config", config_path.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  if (log_through_pipe_) {
    close(log_pipe[1]);
    log_relay_ = std::thread([in = log_pipe[0], log_path] {
      const int out = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      char buf[4096];
      for (;;) {
        const ssize_t n = read(in, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        if (out >= 0 && write(out, buf, static_cast<size_t>(n)) < 0) break;
      }
      if (out >= 0) close(out);
      close(in);
    });
  }
  client_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
  client_->set_connection_timeout(2, 0);
  client_->set_read_timeout(10, 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      JoinLogRelay();  // all of its log is in the file
      FAIL() << "loyaltyd exited during start-up; log:\n" << ReadLog();
    }
    if (auto res = client_->Get("/healthz"); res && res->status == 200) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  FAIL() << "loyaltyd did not answer /healthz within 15 s; log:\n" << ReadLog();
}

int DaemonHarness::Stop() {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  client_.reset();
  JoinLogRelay();
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void DaemonHarness::Kill9() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  client_.reset();
  JoinLogRelay();
}

void DaemonHarness::WriteConfig() {
  // Written aside and renamed, as an editor or config management does: the daemon never reads
  // half a file.
  const std::string path = dir_.File("config.json");
  std::ofstream(path + ".new") << config_.dump(2);
  std::rename((path + ".new").c_str(), path.c_str());
}

void DaemonHarness::Reload() {
  ASSERT_GT(pid_, 0) << "daemon not running";
  kill(pid_, SIGHUP);
}

HttpAnswer DaemonHarness::PostShopifyWebhook(const std::string& topic, const std::string& body,
                                             const std::string& event_id, const std::string& secret,
                                             const std::string& domain) {
  httplib::Headers headers{{"X-Shopify-Topic", topic},
                           {"X-Shopify-Shop-Domain", domain},
                           {"X-Shopify-Hmac-Sha256", HmacSha256Base64(secret, body)},
                           {"X-Shopify-Event-Id", event_id},
                           {"X-Shopify-Webhook-Id", "wh-" + event_id},
                           {"X-Shopify-API-Version", "2025-10"}};
  auto res = client_->Post("/webhooks/shopify", headers, body, "application/json");
  if (!res) return {};
  return {res->status, res->body};
}

HttpAnswer DaemonHarness::PostWooCommerceWebhook(const std::string& topic, const std::string& body,
                                                 const std::string& delivery_id,
                                                 const std::string& secret,
                                                 const std::string& domain) {
  const size_t dot = topic.find('.');
  httplib::Headers headers{
      {"X-WC-Webhook-Source", "https://" + domain + "/"},
      {"X-WC-Webhook-Topic", topic},
      {"X-WC-Webhook-Resource", topic.substr(0, dot)},
      {"X-WC-Webhook-Event", dot == std::string::npos ? "" : topic.substr(dot + 1)},
      {"X-WC-Webhook-Signature", HmacSha256Base64(secret, body)},
      {"X-WC-Webhook-ID", "7"},
      {"X-WC-Webhook-Delivery-ID", delivery_id}};
  auto res = client_->Post("/webhooks/woocommerce", headers, body, "application/json");
  if (!res) return {};
  return {res->status, res->body};
}

HttpAnswer DaemonHarness::Get(const std::string& path, const std::string& token) {
  httplib::Headers headers;
  if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
  auto res = client_->Get(path.c_str(), headers);
  if (!res) return {};
  return {res->status, res->body};
}

HttpAnswer DaemonHarness::Post(const std::string& path, const std::string& body,
                               const httplib::Headers& extra, const std::string& token) {
  httplib::Headers headers = extra;
  if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
  auto res = client_->Post(path.c_str(), headers, body, "application/json");
  if (!res) return {};
  return {res->status, res->body};
}

bool DaemonHarness::WaitUntilProcessed(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    HttpAnswer stats = Get("/api/v1/stats");
    if (stats.status == 200 && stats.Json()["inbox"]["pending"] == 0) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

int64_t DaemonHarness::BalanceOf(const std::string& email) {
  HttpAnswer answer = Get("/api/v1/customers?email=" + email);
  if (answer.status != 200) return -1;
  const nlohmann::json customers = answer.Json()["customers"];
  if (customers.size() != 1) return -1;
  return customers[0]["points_balance"].get<int64_t>();
}

std::string DaemonHarness::ReadLog() const {
  std::ifstream in(dir_.File("loyaltyd.log"));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool DaemonHarness::WaitForLog(const std::string& text, size_t occurrences,
                               std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const std::string log = ReadLog();
    size_t found = 0;
    for (size_t at = log.find(text); at != std::string::npos; at = log.find(text, at + 1)) {
      ++found;
    }
    if (found >= occurrences) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

int DaemonHarness::RunCli(const std::string& args, std::string& output) {
  const std::string command = std::string(LOYALTYD_BINARY) + " " + args + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return -1;
  char buf[4096];
  size_t n;
  output.clear();
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) output.append(buf, n);
  const int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace loyaltyd::testing
