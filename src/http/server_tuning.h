// How every cpp-httplib server in loyaltyd is configured, in one place, so the daemon and the
// benchmark's bare reference server are tuned identically.
//
// cpp-httplib 0.11.4's defaults cap a server at a few hundred requests/s: Nagle is on, a
// keep-alive connection ends after 5 requests, the listen backlog is 5, the pool has 8 threads,
// each holding one connection for its whole keep-alive life, and SO_REUSEPORT lets a second
// server bind the same port silently. TunedServer fixes each of these deliberately.
//
// It also defends the connection handling that the library leaves open to hostile clients:
//   - Slow requests (slowloris). The library's read timeout bounds each wait for bytes, not the
//     request: a client sending one byte every few seconds holds a thread forever. Here a
//     request (line, headers and body) must arrive whole within request_timeout_seconds of its
//     first byte; otherwise the connection is answered 408 and closed.
//   - Bodies without Content-Length (chunked, or read until the connection closes). The library
//     checks its payload limit only against Content-Length and reads any other body whole into
//     memory. Here a request's bytes are counted as they are read: past max_body_bytes plus
//     kRequestHeadAllowance the connection is answered 413 and closed.
//   - Many connections. Each connection holds one worker thread for its keep-alive life (the
//     library's design), so connections beyond the pool wait in a queue until a thread frees up:
//     a few hundred idle sockets starved a fixed pool of 256 for seconds. Worker threads are now
//     started as connections need them, up to `threads`, and idle connections are closed after
//     keep_alive_timeout_seconds. The limit that remains: more than `threads` connections that
//     are open at once (idle or slow) delay the others by up to keep_alive_timeout_seconds or
//     request_timeout_seconds; put a reverse proxy in front of a daemon reachable from the
//     internet (docs/operations.md).
// Thread-safety: configure before the server starts listening; Stop may be called from any
// thread.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#define CPPHTTPLIB_OPENSSL_SUPPORT 1
#include <httplib.h>

#include "core/status.h"

namespace loyaltyd {

struct ServerTuning {
  // The most connections served at once; threads are started as connections need them and kept.
  int threads = 1024;
  int keep_alive_max_requests = 10000;
  int keep_alive_timeout_seconds = 5;
  int read_timeout_seconds = 5;  // the longest wait for the next bytes of a request
  int write_timeout_seconds = 5;
  // A request must arrive whole (line, headers, body) within this many seconds of its first
  // byte.
  int request_timeout_seconds = 30;
  int listen_backlog = 1024;
  size_t max_body_bytes = 1048576;
};

// What a request may carry besides its body before it is refused as too large: the request
// line, the headers and chunked framing. cpp-httplib caps the request line at 8 KB.
inline constexpr size_t kRequestHeadAllowance = 64 * 1024;

// Owns the listening socket's backlog fix: SO_REUSEADDR without SO_REUSEPORT, and a listen()
// backlog raised after bind. Keep the object alive as long as the server.
class TunedServer {
 public:
  explicit TunedServer(const ServerTuning& tuning);
  ~TunedServer();
  httplib::Server& server() { return *server_; }

  // Binds host:port (port 0 picks a free one). Unavailable when the address is in use.
  Result<int> Bind(const std::string& host, int port);
  // Serves until Stop(); returns when the listener has closed and in-flight requests finished.
  bool ListenAfterBind() { return server_->listen_after_bind(); }
  void Stop() { server_->stop(); }

 private:
  ServerTuning tuning_;
  std::unique_ptr<httplib::Server> server_;
  int listen_fd_ = -1;  // set by the socket-options hook during Bind
};

}  // namespace loyaltyd
