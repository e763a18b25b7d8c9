#include "http/server_tuning.h"

#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace loyaltyd::server_tuning_test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// A client socket that sends raw bytes and reads until the server closes.
class Socket {
 public:
  explicit Socket(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~Socket() { close(fd_); }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  bool connected() const { return connected_; }
  bool closed() const { return closed_; }  // the server closed it (seen by Read)
  bool Send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }
  bool Readable() const {
    pollfd p{fd_, POLLIN, 0};
    return poll(&p, 1, 0) > 0;
  }
  // Reads until the server closes, `until` has been seen `count` times, or `timeout` passes.
  std::string Read(seconds timeout, const std::string& until = "", int count = 1) {
    std::string out;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (!until.empty()) {
        int seen = 0;
        for (size_t at = out.find(until); at != std::string::npos; at = out.find(until, at + 1)) {
          ++seen;
        }
        if (seen >= count) break;
      }
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      char buf[4096];
      const ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        closed_ = true;
        break;
      }
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
  bool closed_ = false;
};

// Threads of this process named `name` (pthread_setname_np), from /proc.
int ThreadsNamed(const std::string& name) {
  int found = 0;
  DIR* dir = opendir("/proc/self/task");
  if (dir == nullptr) return -1;
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    std::ifstream comm(std::string("/proc/self/task/") + entry->d_name + "/comm");
    std::string line;
    std::getline(comm, line);
    if (line == name) ++found;
  }
  closedir(dir);
  return found;
}

// A TunedServer on a free loopback port, serving on its own thread. POST /echo answers with
// the body's size; every handler call is counted.
class Served {
 public:
  explicit Served(ServerTuning tuning) : server_(tuning) {
    server_.server().Post("/echo", [this](const httplib::Request& req, httplib::Response& res) {
      ++calls;
      res.set_content(std::to_string(req.body.size()), "text/plain");
    });
    Result<int> bound = server_.Bind("127.0.0.1", 0);
    EXPECT_TRUE(bound.ok());
    port = bound.ok() ? *bound : 0;
    thread_ = std::thread([this] { server_.ListenAfterBind(); });
    // Ready once a request is answered.
    for (int i = 0; i < 200; ++i) {
      httplib::Client client("127.0.0.1", port);
      if (auto res = client.Post("/echo", "x", "text/plain"); res && res->status == 200) break;
      std::this_thread::sleep_for(milliseconds(10));
    }
    calls = 0;
  }
  ~Served() {
    server_.Stop();
    thread_.join();
  }

  int port = 0;
  std::atomic<int> calls{0};

 private:
  TunedServer server_;
  std::thread thread_;
};

TEST(TunedServerTest, StartsWorkerThreadsAsConnectionsNeedThem) {
  ServerTuning tuning;
  tuning.threads = 64;
  Served served(tuning);
  const int before = ThreadsNamed("ld-http");
  EXPECT_LE(before, 2) << "threads are started on demand, not all at once";
  std::vector<std::unique_ptr<Socket>> idle;
  for (int i = 0; i < 20; ++i) {
    idle.push_back(std::make_unique<Socket>(served.port));
    ASSERT_TRUE(idle.back()->connected());
  }
  // Twenty idle connections hold twenty threads, and a request still finds one.
  httplib::Client client("127.0.0.1", served.port);
  client.set_read_timeout(3, 0);
  auto res = client.Post("/echo", "hello", "text/plain");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body, "5");
  EXPECT_GE(ThreadsNamed("ld-http"), 21);
  EXPECT_LE(ThreadsNamed("ld-http"), 64);
}

TEST(TunedServerTest, ARequestDribbledPastItsDeadlineIsAnswered408) {
  ServerTuning tuning;
  tuning.request_timeout_seconds = 1;
  Served served(tuning);
  Socket slow(served.port);
  ASSERT_TRUE(slow.Send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n"));
  int sent = 0;
  for (; sent < 100 && !slow.Readable(); ++sent) {
    ASSERT_TRUE(slow.Send("x"));
    std::this_thread::sleep_for(milliseconds(50));
  }
  const std::string answer = slow.Read(seconds(10));
  EXPECT_LT(sent, 100);
  EXPECT_EQ(answer.rfind("HTTP/1.1 408", 0), 0u) << answer;
  EXPECT_NE(answer.find("Connection: close"), std::string::npos) << answer;
  EXPECT_EQ(served.calls, 0);
}

TEST(TunedServerTest, AChunkedBodyOverTheLimitIsAnswered413WithoutReachingTheHandler) {
  ServerTuning tuning;
  tuning.max_body_bytes = 4096;
  Served served(tuning);
  Socket c(served.port);
  ASSERT_TRUE(c.Send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"));
  std::thread sender([&c] {
    const std::string chunk = "1000\r\n" + std::string(0x1000, 'x') + "\r\n";
    for (int i = 0; i < 64 && c.Send(chunk); ++i) {
    }
  });
  const std::string answer = c.Read(seconds(10));
  sender.join();
  EXPECT_EQ(answer.rfind("HTTP/1.1 413", 0), 0u) << answer;
  EXPECT_EQ(served.calls, 0);
}

TEST(TunedServerTest, AChunkedBodyWithinTheLimitIsServed) {
  ServerTuning tuning;
  tuning.max_body_bytes = 4096;
  Served served(tuning);
  Socket c(served.port);
  ASSERT_TRUE(c.Send(
      "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
      "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"));
  const std::string answer = c.Read(seconds(10));
  EXPECT_EQ(answer.rfind("HTTP/1.1 200", 0), 0u) << answer;
  EXPECT_EQ(answer.substr(answer.size() - 2), "11");
}

TEST(TunedServerTest, PipelinedRequestsAreEachAnswered) {
  Served served(ServerTuning{});
  Socket c(served.port);
  // Both requests in one write: the second arrives in the read buffer of the first.
  ASSERT_TRUE(
      c.Send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
             "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nabcd"));
  const std::string answers = c.Read(seconds(10), "HTTP/1.1 200", 2);
  size_t first = answers.find("HTTP/1.1 200");
  ASSERT_NE(first, std::string::npos) << answers;
  EXPECT_NE(answers.find("HTTP/1.1 200", first + 1), std::string::npos) << answers;
  EXPECT_EQ(served.calls, 2);
}

TEST(TunedServerTest, AnIdleConnectionIsClosedAfterTheKeepAliveTimeout) {
  ServerTuning tuning;
  tuning.keep_alive_timeout_seconds = 1;
  Served served(tuning);
  Socket idle(served.port);
  ASSERT_TRUE(idle.connected());
  const std::string answer = idle.Read(seconds(10));
  EXPECT_TRUE(idle.closed());
  EXPECT_EQ(answer, "");  // closed without a word
}

}  // namespace
}  // namespace loyaltyd::server_tuning_test
