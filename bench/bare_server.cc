// loyaltyd_bare_server: the benchmark's reference point. A cpp-httplib server tuned exactly like
// loyaltyd's (loyaltyd::TunedServer, same ServerTuning defaults) whose POST /webhooks/shopify
// handler only answers 200 with an empty body. bench/run_ingest.sh sends it the same load as
// the daemon; the ratio of the two request rates is what verifying and storing costs.
//
// Usage: loyaltyd_bare_server [--port N] [--threads N]
// Listens on 127.0.0.1 (port 0, the default, picks a free one), prints the bound port on its
// own line on stdout, and serves until SIGTERM or SIGINT.
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <thread>

#include "http/server_tuning.h"

namespace {

constexpr const char* kUsage = "usage: loyaltyd_bare_server [--port N] [--threads N]\n";

int Usage(const char* message) {
  std::fprintf(stderr, "loyaltyd_bare_server: %s\n%s", message, kUsage);
  return 2;
}

bool ParseInt(const char* text, int min, int max, int& out) {
  char* end = nullptr;
  const long value = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || value < min || value > max) return false;
  out = static_cast<int>(value);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  int port = 0;
  loyaltyd::ServerTuning tuning;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (i + 1 >= argc) return Usage("missing value after an option");
    if (arg == "--port") {
      if (!ParseInt(argv[++i], 0, 65535, port)) return Usage("--port must be 0..65535");
    } else if (arg == "--threads") {
      if (!ParseInt(argv[++i], 1, 4096, tuning.threads)) return Usage("--threads must be 1..4096");
    } else {
      return Usage("unknown option");
    }
  }

  // Block the stop signals before any thread starts, so that only the watcher receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  loyaltyd::TunedServer server(tuning);
  server.server().Post("/webhooks/shopify",
                       [](const httplib::Request&, httplib::Response& res) { res.status = 200; });
  server.server().Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("{\"status\":\"ok\"}", "application/json");
  });

  loyaltyd::Result<int> bound = server.Bind("127.0.0.1", port);
  if (!bound.ok()) {
    std::fprintf(stderr, "loyaltyd_bare_server: %s\n", bound.status().message().c_str());
    return 1;
  }
  std::printf("%d\n", *bound);
  std::fflush(stdout);

  // Detached: it stays blocked in sigwait if the server stops for another reason.
  std::thread([&server, stop_signals] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    server.Stop();
  }).detach();

  return server.ListenAfterBind() ? 0 : 1;
}
