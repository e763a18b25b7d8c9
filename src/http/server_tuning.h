// How every cpp-httplib server in loyaltyd is configured, in one place, so the daemon and the
// benchmark's bare reference server are tuned identically.
//
// cpp-httplib 0.11.4's defaults cap a server at a few hundred requests/s: Nagle is on, a
// keep-alive connection ends after 5 requests, the listen backlog is 5, the pool has 8 threads,
// each holding one connection for its whole keep-alive life, and SO_REUSEPORT lets a second
// server bind the same port silently. TuneServer fixes each of these deliberately.
// Thread-safety: call before the server starts listening.
#pragma once

#include <string>

#define CPPHTTPLIB_OPENSSL_SUPPORT 1
#include <httplib.h>

#include "core/status.h"

namespace loyaltyd {

struct ServerTuning {
  int threads = 256;  // connections served at once (one thread per keep-alive connection)
  int keep_alive_max_requests = 10000;
  int keep_alive_timeout_seconds = 5;
  int read_timeout_seconds = 5;
  int write_timeout_seconds = 5;
  int listen_backlog = 1024;
  size_t max_body_bytes = 1048576;
};

// Owns the listening socket's backlog fix: SO_REUSEADDR without SO_REUSEPORT, and a listen()
// backlog raised after bind. Keep the object alive as long as the server.
class TunedServer {
 public:
  explicit TunedServer(const ServerTuning& tuning);
  httplib::Server& server() { return server_; }

  // Binds host:port (port 0 picks a free one). Unavailable when the address is in use.
  Result<int> Bind(const std::string& host, int port);
  // Serves until Stop(); returns when the listener has closed and in-flight requests finished.
  bool ListenAfterBind() { return server_.listen_after_bind(); }
  void Stop() { server_.stop(); }

 private:
  ServerTuning tuning_;
  httplib::Server server_;
  int listen_fd_ = -1;  // set by the socket-options hook during Bind
};

}  // namespace loyaltyd
