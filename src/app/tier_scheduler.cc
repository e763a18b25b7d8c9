#include "app/tier_scheduler.h"

#include <pthread.h>
#include <spdlog/spdlog.h>

namespace loyaltyd {

TierScheduler::TierScheduler(Storage& storage, const Clock& clock, PolicyProvider policy,
                             std::function<void()> on_changes, std::chrono::milliseconds interval)
    : storage_(storage),
      clock_(clock),
      policy_(std::move(policy)),
      on_changes_(std::move(on_changes)),
      interval_(interval) {}

TierScheduler::~TierScheduler() { Stop(); }

void TierScheduler::Start() {
  if (thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = false;
  }
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "ld-tiers");
    Loop();
  });
}

void TierScheduler::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Result<int64_t> TierScheduler::RunOnce() {
  const std::shared_ptr<const TierPolicy> policy = policy_ ? policy_() : nullptr;
  if (!policy) return int64_t{0};
  Result<int64_t> changes = storage_.ReevaluateTiers(*policy, clock_.NowMillis());
  if (changes.ok() && *changes > 0 && on_changes_) on_changes_();
  return changes;
}

void TierScheduler::Loop() {
  for (;;) {
    std::chrono::milliseconds wait = interval_;
    try {
      Result<int64_t> changes = RunOnce();
      if (changes.ok()) {
        spdlog::info("tiers: daily re-evaluation done, {} tier change(s)", *changes);
      } else {
        // Storage trouble: try again in a minute rather than a day.
        wait = std::min(interval_, std::chrono::milliseconds(60'000));
        spdlog::error("tiers: re-evaluation failed: {}", changes.status().ToString());
      }
    } catch (const std::exception& e) {
      wait = std::min(interval_, std::chrono::milliseconds(60'000));
      spdlog::critical("tiers: re-evaluation caught an exception: {}", e.what());
    }
    std::unique_lock<std::mutex> lock(mu_);
    if (cv_.wait_for(lock, wait, [&] { return stopping_; })) return;
  }
}

}  // namespace loyaltyd
