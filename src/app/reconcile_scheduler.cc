#include "app/reconcile_scheduler.h"

#include <set>

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "connectors/shopify/shopify_order_source.h"
#include "connectors/woocommerce/woocommerce_order_source.h"

namespace loyaltyd {

std::unique_ptr<OrderSource> MakeOrderSource(const ShopConfig& shop) {
  if (!shop.api.configured) return nullptr;
  switch (shop.platform) {
    case Platform::kShopify:
      return std::make_unique<ShopifyOrderSource>(shop);
    case Platform::kWooCommerce:
      return std::make_unique<WooCommerceOrderSource>(shop);
  }
  return nullptr;
}

std::string DescribeReconcileReport(const ReconcileReport& r) {
  std::string line = "reconcile shop " + r.shop_id + " (" + r.platform + ") since " +
                     FormatIso8601Millis(r.since_ms) + ": " + std::to_string(r.orders_listed) +
                     " order(s) listed in " + std::to_string(r.pages) + " page(s), " +
                     std::to_string(r.fed) + " new state(s) fed, " +
                     std::to_string(r.already_seen) + " already seen, " +
                     std::to_string(r.skipped) + " skipped";
  for (const std::string& problem : r.problems) line += "; skipped: " + problem;
  if (!r.complete) {
    line += "; STOPPED before the end: " + r.status.ToString();
    if (!r.error_detail.empty()) line += " (" + r.error_detail + ")";
  }
  return line;
}

std::string ReconcileReportJson(const ReconcileReport& r) {
  nlohmann::json out = {{"shop", r.shop_id},
                        {"platform", r.platform},
                        {"since", FormatIso8601Millis(r.since_ms)},
                        {"complete", r.complete},
                        {"pages", r.pages},
                        {"orders_listed", r.orders_listed},
                        {"fed", r.fed},
                        {"already_seen", r.already_seen},
                        {"skipped", r.skipped},
                        {"problems", r.problems}};
  out["listed_up_to"] =
      r.listed_up_to_ms > 0 ? nlohmann::json(FormatIso8601Millis(r.listed_up_to_ms)) : nullptr;
  if (!r.complete) {
    out["error"] = r.status.ToString();
    out["error_detail"] = r.error_detail;
  }
  return out.dump(2);
}

ReconcileScheduler::ReconcileScheduler(std::shared_ptr<const ConfigSource> config, Storage& storage,
                                       const Clock& clock, OrderReconciler::Append append,
                                       SourceFactory sources)
    : config_(std::move(config)),
      storage_(storage),
      clock_(clock),
      append_(std::move(append)),
      sources_(std::move(sources)) {}

ReconcileScheduler::~ReconcileScheduler() { Stop(); }

void ReconcileScheduler::Start() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = false;
  }
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "ld-reconcile");
    Loop();
  });
}

void ReconcileScheduler::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool ReconcileScheduler::Wait(int64_t ms) {
  std::unique_lock<std::mutex> lock(mu_);
  return !cv_.wait_for(lock, std::chrono::milliseconds(ms), [&] { return stopping_; });
}

void ReconcileScheduler::RunOnce() {
  const std::shared_ptr<const Config> config = config_->Current();
  if (!config->reconcile.enabled) return;
  OrderReconciler reconciler(storage_, clock_, append_, [this](int64_t ms) { return Wait(ms); });
  // Privacy (issue 7): an inactive shop (app uninstalled, or redacted) is not called; its
  // access token is revoked and its webhooks are still stored as they come.
  std::set<std::string> inactive;
  if (Result<std::vector<ShopStateRecord>> states = storage_.ListShopStates(); states.ok()) {
    for (const ShopStateRecord& state : *states) {
      if (!state.active) inactive.insert(state.shop_id);
    }
  }
  for (const ShopConfig& shop : config->shops) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
    }
    if (inactive.count(shop.id) != 0) continue;
    std::unique_ptr<OrderSource> source = shop.api.configured ? sources_(shop) : nullptr;
    if (!source) continue;
    Result<std::optional<int64_t>> mark = storage_.GetReconcileMark(shop.id);
    if (!mark.ok()) {
      spdlog::error("reconcile shop {}: {}", shop.id, mark.status().ToString());
      continue;
    }
    const int64_t since_ms =
        mark->has_value()
            ? **mark - kOverlapMs
            : clock_.NowMillis() - int64_t{config->reconcile.lookback_hours} * 3'600'000;
    const ReconcileReport report = reconciler.Run(*config, shop, *source, since_ms);
    if (report.complete) {
      spdlog::info("{}", DescribeReconcileReport(report));
      Status marked = storage_.SetReconcileMark(shop.id, report.started_at_ms, clock_.NowMillis());
      if (!marked.ok()) {
        spdlog::error("reconcile shop {}: could not record the high-water mark: {}", shop.id,
                      marked.ToString());
      }
    } else {
      spdlog::warn("{}; the next run lists this window again", DescribeReconcileReport(report));
    }
  }
}

void ReconcileScheduler::Loop() {
  for (;;) {
    try {
      RunOnce();
    } catch (const std::exception& e) {
      spdlog::error("reconcile pass failed: {}", e.what());
    }
    const std::shared_ptr<const Config> config = config_->Current();
    // Disabled: look again in a minute, so that a reload that enables the job applies.
    const int64_t wait_ms =
        config->reconcile.enabled ? int64_t{config->reconcile.interval_minutes} * 60'000 : 60'000;
    if (!Wait(wait_ms)) return;
  }
}

}  // namespace loyaltyd
