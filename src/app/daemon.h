// Daemon: builds every component from a validated Config, serves, and shuts down cleanly.
//
// Threads (the whole list, written once here):
//   main            Run(): the HTTP accept loop (cpp-httplib listen).
//   http workers    "ld-http", up to server.threads of them, started as connections need them
//                   (http/server_tuning.h): one per open connection; run webhook ingest (verify
//                   and wait for group commit) and the admin API.
//   inbox writer    GroupCommitter: commits queued webhooks in batches (one fsync per batch).
//   processor       EventProcessor: normalises stored events and applies them to the ledger;
//                   between batches, runs the privacy work they leave (inbox body scrubs after
//                   a redaction, a redacted shop's removal) in short bounded steps.
//   outbox          OutboxWorker ("ld-outbox"): makes the queued platform calls (rewards).
//   tiers           TierScheduler ("ld-tiers"): the daily VIP tier re-evaluation (program.tiers).
//   points          PointsScheduler ("ld-points"): hourly, releases pending awards and expires
//                   point lots (program.award, program.expiry).
//   reconcile       ReconcileScheduler ("ld-reconcile"): with `reconcile.enabled`, at start and
//                   every interval, lists each shop's changed orders through its admin API and
//                   feeds those whose webhooks were missed into the inbox (via the inbox writer).
//   signal watcher  waits for SIGTERM/SIGINT and asks the server to stop; on SIGHUP, reloads
//                   the config file (ConfigReloader) on this same thread.
// Shutdown order on SIGTERM: stop accepting, let in-flight requests finish (each waits for its
// commit), stop the reconciler (it finishes the order in hand), stop the inbox writer (it commits
// what is queued), stop the processor (events not yet processed stay pending in the inbox and are
// processed at the next start), stop the outbox worker (it finishes the call in hand; unsent jobs
// stay queued for the next start), stop the tier scheduler (it finishes the run in hand), stop the
// points scheduler (a run in hand finishes its batch; the next start runs again). Config: the
// components share one ConfigSource and take a snapshot per unit of work (a batch, a request, an
// outbox job, a tier run); SIGHUP replaces it (src/app/config_reloader.h says what can change
// without a restart). Restart-only settings are read from the config the daemon started with. The
// points policy (program.expiry) lives in storage (SetPointsPolicy): set at start and again by each
// applied reload. Thread-safety: Create and Run from the main thread; RequestStop from any thread.
#pragma once

#include <atomic>
#include <memory>

#include <string>

#include "config/config.h"
#include "config/config_source.h"
#include "core/clock.h"
#include "core/status.h"
#include "http/route_table.h"

namespace loyaltyd {

class Daemon {
 public:
  // `config_path` is the file `config` was loaded from, read again on SIGHUP; empty: SIGHUP
  // is logged and ignored.
  static Result<std::unique_ptr<Daemon>> Create(Config config, std::string config_path = {});
  ~Daemon();

  // Serves until RequestStop() or SIGTERM/SIGINT; returns once everything has shut down.
  Status Run();
  void RequestStop();

  // Every HTTP route the daemon serves, as registered (http/route_table.h); complete once
  // Create has returned. For tests that compare them with docs/openapi.yaml.
  const std::vector<RouteEntry>& routes() const;

 private:
  struct Components;
  Daemon(Config config, std::string config_path);
  void Reload();

  // The config the daemon started with: restart-only settings (listener, storage) come from it.
  const std::shared_ptr<const Config> boot_config_;
  const std::shared_ptr<ConfigSource> config_source_;
  const std::string config_path_;
  SystemClock clock_;
  std::unique_ptr<Components> parts_;
};

}  // namespace loyaltyd
