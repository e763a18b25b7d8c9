#include "http/server_tuning.h"

#include <netinet/in.h>
#include <sys/socket.h>

namespace loyaltyd {

TunedServer::TunedServer(const ServerTuning& tuning) : tuning_(tuning) {
  const size_t threads = static_cast<size_t>(tuning_.threads);
  server_.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server_.set_tcp_nodelay(true);
  server_.set_keep_alive_max_count(static_cast<size_t>(tuning_.keep_alive_max_requests));
  server_.set_keep_alive_timeout(tuning_.keep_alive_timeout_seconds);
  server_.set_read_timeout(tuning_.read_timeout_seconds, 0);
  server_.set_write_timeout(tuning_.write_timeout_seconds, 0);
  server_.set_payload_max_length(tuning_.max_body_bytes);
  // Replaces httplib's default_socket_options, which also sets SO_REUSEPORT: with it a second
  // daemon on the same port would bind without error and silently share the traffic.
  server_.set_socket_options([this](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    listen_fd_ = sock;
  });
}

Result<int> TunedServer::Bind(const std::string& host, int port) {
  int bound = -1;
  if (port == 0) {
    bound = server_.bind_to_any_port(host);
  } else if (server_.bind_to_port(host, port)) {
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
