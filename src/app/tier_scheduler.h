// TierScheduler: the daily VIP tier re-evaluation (Storage::ReevaluateTiers).
//
// Tiers also change with each order event, as of the event's time; this run catches what only
// time changes: a window that rolls past old orders, a keep_for or a membership that ends. It
// runs once at start (catching up after downtime) and then every `interval` (a day). A run is
// idempotent, so an extra one (`loyaltyd tiers reevaluate`) changes nothing it would not.
// Threads: one ("ld-tiers"), started and stopped by Start/Stop; exceptions are caught in it.
// Thread-safety: Start/Stop from one thread; RunOnce while the thread is not running.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "core/clock.h"
#include "storage/storage.h"

namespace loyaltyd {

class TierScheduler {
 public:
  // The tier rules of the moment: asked before each run, so that a run after a config reload
  // (SIGHUP) uses the reloaded program.tiers; null when no tiers are configured (the run does
  // nothing).
  using PolicyProvider = std::function<std::shared_ptr<const TierPolicy>()>;
  // `on_changes` is called after a run that changed tiers (to wake the outbox for tag jobs).
  TierScheduler(Storage& storage, const Clock& clock, PolicyProvider policy,
                std::function<void()> on_changes,
                std::chrono::milliseconds interval = std::chrono::hours(24));
  ~TierScheduler();

  void Start();
  void Stop();
  // One re-evaluation as of now; the number of tier changes.
  Result<int64_t> RunOnce();

 private:
  void Loop();

  Storage& storage_;
  const Clock& clock_;
  const PolicyProvider policy_;
  const std::function<void()> on_changes_;
  const std::chrono::milliseconds interval_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace loyaltyd
