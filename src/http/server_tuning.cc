#include "http/server_tuning.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace loyaltyd {
namespace {

using SteadyClock = std::chrono::steady_clock;

// The worker pool: a thread per connection (cpp-httplib's model), started when a connection
// finds no idle thread, up to a maximum; connections beyond it wait in the queue. Threads are
// kept once started (an idle one costs a parked stack) and joined at shutdown.
// Thread-safety: enqueue is called by the listener thread, shutdown once by the listener as
// it stops; both lock mu_.
class OnDemandThreadPool final : public httplib::TaskQueue {
 public:
  explicit OnDemandThreadPool(size_t max_threads)
      : max_threads_(std::max<size_t>(max_threads, 1)) {}
  ~OnDemandThreadPool() override { shutdown(); }

  void enqueue(std::function<void()> job) override {
    std::lock_guard<std::mutex> lock(mu_);
    jobs_.push_back(std::move(job));
    if (idle_ < jobs_.size() && threads_.size() < max_threads_) {
      try {
        threads_.emplace_back([this] { Work(); });
      } catch (const std::system_error&) {
        // The system is out of threads (ulimit -u, memory): the connection waits in the queue
        // for a thread that exists; the exception must not reach cpp-httplib's accept loop.
      }
    }
    work_.notify_one();
  }

  // Lets the queued and running connections finish (the listener has closed, so each ends at
  // its next keep-alive wait), then joins every thread.
  void shutdown() override {
    std::vector<std::thread> threads;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
      threads.swap(threads_);
    }
    work_.notify_all();
    for (std::thread& t : threads) t.join();
  }

 private:
  void Work() {
    pthread_setname_np(pthread_self(), "ld-http");
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      ++idle_;
      work_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      --idle_;
      if (jobs_.empty()) return;  // stopping, and nothing left to serve
      std::function<void()> job = std::move(jobs_.front());
      jobs_.pop_front();
      lock.unlock();
      // Exceptions never leave a thread: cpp-httplib catches handler exceptions itself; this is
      // for anything below it.
      try {
        job();
      } catch (...) {
      }
      job = nullptr;
      lock.lock();
    }
  }

  const size_t max_threads_;
  std::mutex mu_;
  std::condition_variable work_;
  std::deque<std::function<void()>> jobs_;  // guarded by mu_
  std::vector<std::thread> threads_;        // guarded by mu_
  size_t idle_ = 0;                         // guarded by mu_: threads waiting for a job
  bool stopping_ = false;                   // guarded by mu_
};

// What went wrong while a request was read, for the answer the error handler gives.
enum class RequestFault { kNone, kTooLarge, kTooSlow };

class BoundedSocketStream;

// The stream of the connection this thread is serving, for the error handler (cpp-httplib
// calls it on the same thread, with the same request, before it writes the answer).
thread_local const BoundedSocketStream* t_current_stream = nullptr;

// One connection's socket as cpp-httplib's Stream, with the limits its own SocketStream lacks:
// a deadline for the whole request and a byte budget, both reset per request (StartRequest).
// Reads are buffered, and the buffer survives from one request to the next, so a pipelined
// request that arrived with the previous one is not lost.
class BoundedSocketStream final : public httplib::Stream {
 public:
  BoundedSocketStream(int sock, const ServerTuning& tuning)
      : sock_(sock),
        read_timeout_(std::chrono::seconds(tuning.read_timeout_seconds)),
        write_timeout_ms_(tuning.write_timeout_seconds * 1000),
        request_timeout_(std::chrono::seconds(tuning.request_timeout_seconds)),
        byte_budget_(tuning.max_body_bytes + kRequestHeadAllowance) {}

  // Waits up to `idle` for the first byte of the next request; false when the client closed,
  // the wait timed out, or `stopping` became true (checked every 100 ms).
  bool WaitForRequest(std::chrono::seconds idle, const std::atomic<socket_t>& listener) {
    if (buffered() > 0) return true;
    const auto deadline = SteadyClock::now() + idle;
    for (;;) {
      if (listener == INVALID_SOCKET) return false;
      const auto left = deadline - SteadyClock::now();
      if (left <= SteadyClock::duration::zero()) return false;
      const int slice = static_cast<int>(std::min<int64_t>(
          100, std::chrono::duration_cast<std::chrono::milliseconds>(left).count() + 1));
      const int ready = Poll(POLLIN, slice);
      if (ready < 0) return false;
      if (ready > 0) return true;
    }
  }

  void StartRequest() {
    deadline_ = SteadyClock::now() + request_timeout_;
    consumed_ = 0;
    fault_ = RequestFault::kNone;
  }

  RequestFault fault() const { return fault_; }

  bool is_readable() const override { return buffered() > 0 || WaitReadable(); }

  bool is_writable() const override {
    if (Poll(POLLOUT, write_timeout_ms_) <= 0) return false;
    // A peer that has gone (readable with nothing to read) need not be written to.
    pollfd p{sock_, POLLIN, 0};
    if (::poll(&p, 1, 0) > 0) {
      char probe;
      return ::recv(sock_, &probe, 1, MSG_PEEK | MSG_DONTWAIT) != 0;
    }
    return true;
  }

  ssize_t read(char* ptr, size_t size) override {
    if (fault_ != RequestFault::kNone) return -1;
    if (consumed_ >= byte_budget_) {
      fault_ = RequestFault::kTooLarge;
      return -1;
    }
    size = std::min(size, byte_budget_ - consumed_);
    if (buffered() == 0) {
      if (!WaitReadable()) return -1;
      const ssize_t n = ::recv(sock_, buffer_.data(), buffer_.size(), 0);
      if (n <= 0) return n;
      begin_ = 0;
      end_ = static_cast<size_t>(n);
    }
    const size_t n = std::min(size, buffered());
    std::memcpy(ptr, buffer_.data() + begin_, n);
    begin_ += n;
    consumed_ += n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (!is_writable()) return -1;
    // MSG_NOSIGNAL: a client that closed early must not raise SIGPIPE in the daemon.
    return ::send(sock_, ptr, size, MSG_NOSIGNAL);
  }
  using httplib::Stream::write;

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    Address(::getpeername, ip, port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    Address(::getsockname, ip, port);
  }
  socket_t socket() const override { return sock_; }

 private:
  size_t buffered() const { return end_ - begin_; }

  int Poll(short events, int timeout_ms) const {
    pollfd p{sock_, events, 0};
    for (;;) {
      const int ready = ::poll(&p, 1, timeout_ms);
      if (ready < 0 && errno == EINTR) continue;
      if (ready > 0 && (p.revents & POLLNVAL) != 0) return -1;
      return ready;
    }
  }

  // Waits for bytes up to the read timeout, but never past the request's deadline.
  bool WaitReadable() const {
    const auto now = SteadyClock::now();
    if (now >= deadline_) {
      fault_ = RequestFault::kTooSlow;
      return false;
    }
    const auto wait = std::min<SteadyClock::duration>(read_timeout_, deadline_ - now);
    const int wait_ms =
        static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(wait).count()) + 1;
    const int ready = Poll(POLLIN, wait_ms);
    if (ready == 0 && SteadyClock::now() >= deadline_) fault_ = RequestFault::kTooSlow;
    return ready > 0;
  }

  template <typename NameFn>
  void Address(NameFn name_of, std::string& ip, int& port) const {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    ip.clear();
    port = 0;
    if (name_of(sock_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return;
    char text[INET6_ADDRSTRLEN] = {};
    if (addr.ss_family == AF_INET) {
      const auto* in = reinterpret_cast<const sockaddr_in*>(&addr);
      inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
      port = ntohs(in->sin_port);
    } else if (addr.ss_family == AF_INET6) {
      const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&addr);
      inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
      port = ntohs(in6->sin6_port);
    }
    ip = text;
  }

  const int sock_;
  const SteadyClock::duration read_timeout_;
  const int write_timeout_ms_;
  const SteadyClock::duration request_timeout_;
  const size_t byte_budget_;
  std::vector<char> buffer_ = std::vector<char>(16 * 1024);
  size_t begin_ = 0;
  size_t end_ = 0;
  SteadyClock::time_point deadline_ = SteadyClock::time_point::max();
  size_t consumed_ = 0;                               // bytes of this request read so far
  mutable RequestFault fault_ = RequestFault::kNone;  // set by the const wait, too
};

// cpp-httplib's Server with its per-connection loop replaced: the library hands each accepted
// socket to the virtual process_and_close_socket, which here reads through a
// BoundedSocketStream and keeps the keep-alive rules (count, idle timeout) the library's loop
// applies; each request is then parsed and routed by the library's own process_request.
class BoundedServer final : public httplib::Server {
 public:
  explicit BoundedServer(const ServerTuning& tuning) : tuning_(tuning) {}

 private:
  bool process_and_close_socket(socket_t sock) override {
    BoundedSocketStream stream(sock, tuning_);
    t_current_stream = &stream;
    const size_t max_requests = static_cast<size_t>(std::max(tuning_.keep_alive_max_requests, 1));
    bool ok = false;
    for (size_t served = 0; served < max_requests; ++served) {
      if (!stream.WaitForRequest(std::chrono::seconds(tuning_.keep_alive_timeout_seconds),
                                 svr_sock_)) {
        break;
      }
      stream.StartRequest();
      bool closed = false;
      ok =
          process_request(stream, /*close_connection=*/served + 1 == max_requests, closed, nullptr);
      if (!ok || closed || stream.fault() != RequestFault::kNone) break;
    }
    t_current_stream = nullptr;
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
    return ok;
  }

  const ServerTuning tuning_;
};

// The answer to a request the stream cut short: cpp-httplib answers a failed read 400 (or 413
// when Content-Length alone was too large); say what actually happened.
httplib::Server::HandlerResponse AnswerStreamFault(const httplib::Request&, httplib::Response& res,
                                                   size_t max_body_bytes,
                                                   int request_timeout_seconds) {
  const BoundedSocketStream* stream = t_current_stream;
  if (stream == nullptr || stream->fault() == RequestFault::kNone) {
    return httplib::Server::HandlerResponse::Unhandled;
  }
  if (stream->fault() == RequestFault::kTooLarge) {
    res.status = 413;
    res.set_content(
        "{\"error\":\"request body exceeds " + std::to_string(max_body_bytes) + " bytes\"}",
        "application/json");
  } else {
    res.status = 408;
    res.set_content("{\"error\":\"request not received within " +
                        std::to_string(request_timeout_seconds) + " s\"}",
                    "application/json");
  }
  res.set_header("Connection", "close");
  return httplib::Server::HandlerResponse::Handled;
}

}  // namespace

TunedServer::TunedServer(const ServerTuning& tuning)
    : tuning_(tuning), server_(std::make_unique<BoundedServer>(tuning)) {
  const size_t threads = static_cast<size_t>(tuning_.threads);
  server_->new_task_queue = [threads] { return new OnDemandThreadPool(threads); };
  server_->set_tcp_nodelay(true);
  server_->set_keep_alive_max_count(static_cast<size_t>(tuning_.keep_alive_max_requests));
  server_->set_keep_alive_timeout(tuning_.keep_alive_timeout_seconds);
  server_->set_read_timeout(tuning_.read_timeout_seconds, 0);
  server_->set_write_timeout(tuning_.write_timeout_seconds, 0);
  server_->set_payload_max_length(tuning_.max_body_bytes);
  server_->set_error_handler(httplib::Server::HandlerWithResponse(
      [max = tuning_.max_body_bytes, timeout = tuning_.request_timeout_seconds](
          const httplib::Request& req, httplib::Response& res) {
        return AnswerStreamFault(req, res, max, timeout);
      }));
  // Replaces httplib's default_socket_options, which also sets SO_REUSEPORT: with it a second
  // daemon on the same port would bind without error and silently share the traffic.
  server_->set_socket_options([this](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    listen_fd_ = sock;
  });
}

TunedServer::~TunedServer() = default;

Result<int> TunedServer::Bind(const std::string& host, int port) {
  int bound = -1;
  if (port == 0) {
    bound = server_->bind_to_any_port(host);
  } else if (server_->bind_to_port(host, port)) {
    bound = port;
  }
  if (bound <= 0) {
    return Unavailable("cannot listen on " + host + ":" + std::to_string(port) +
                       " (address in use, or not an address of this machine)");
  }
  // httplib listens with a backlog of 5 (compiled into the library); under a burst of new
  // connections the kernel then drops SYNs and clients stall for a second. listen() again on
  // the bound socket raises the backlog in place.
  if (listen_fd_ >= 0) ::listen(listen_fd_, tuning_.listen_backlog);
  return bound;
}

}  // namespace loyaltyd
