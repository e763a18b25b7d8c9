// ReconcileScheduler: the daemon's periodic reconciliation (config `reconcile`; the run itself
// is webhooks/order_reconciler.h, the command line's is `loyaltyd reconcile`).
//
// One thread ("ld-reconcile") runs a pass at start (catching up after downtime, when webhooks
// are most likely to have been missed) and then every reconcile.interval_minutes, while
// reconcile.enabled. A pass reconciles every shop with `api` credentials, one after the other:
// orders updated since the shop's high-water mark minus kOverlap (the platform's clock and
// ours may disagree a little), or since lookback_hours ago on the first pass. A complete run
// moves the mark, durably (Storage::SetReconcileMark), to the time the run started, so that a
// restart resumes there; a run that stopped leaves it, and the next pass lists the same window
// again (what it fed is then already seen). Each run logs one line with what it found.
// Config: each pass takes a snapshot of the ConfigSource, so a reload (SIGHUP) that enables
// the job, changes its interval or adds a shop applies from the next pass.
// Thread-safety: Start/Stop from one thread; RunOnce while the thread is not running.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "config/config_source.h"
#include "connector/order_source.h"
#include "core/clock.h"
#include "storage/storage.h"
#include "webhooks/order_reconciler.h"

namespace loyaltyd {

// The order source of a shop with `api` credentials (connectors/<platform>/..._order_source).
std::unique_ptr<OrderSource> MakeOrderSource(const ShopConfig& shop);

// One line for the log: "reconcile shop it (shopify) since ...: 3 order(s) listed in 1
// page(s), 1 new state(s) fed, 2 already seen, 0 skipped" (and why it stopped, if it did).
std::string DescribeReconcileReport(const ReconcileReport& report);
// The report as JSON text (what `loyaltyd reconcile` prints).
std::string ReconcileReportJson(const ReconcileReport& report);

class ReconcileScheduler {
 public:
  using SourceFactory = std::function<std::unique_ptr<OrderSource>(const ShopConfig&)>;
  // Listed again before the mark: the platform's updated_at and our clock may differ.
  static constexpr int64_t kOverlapMs = 10 * 60 * 1000;

  // `append` stores a fed order in the inbox (the daemon's group committer).
  ReconcileScheduler(std::shared_ptr<const ConfigSource> config, Storage& storage,
                     const Clock& clock, OrderReconciler::Append append,
                     SourceFactory sources = MakeOrderSource);
  ~ReconcileScheduler();

  void Start();
  void Stop();
  // One pass over every shop with `api` credentials, when reconcile.enabled; logs each run.
  void RunOnce();

 private:
  void Loop();
  // Waits ms or until Stop(); false when stopping.
  bool Wait(int64_t ms);

  const std::shared_ptr<const ConfigSource> config_;
  Storage& storage_;
  const Clock& clock_;
  const OrderReconciler::Append append_;
  const SourceFactory sources_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace loyaltyd
