#include "app/points_scheduler.h"

#include <pthread.h>
#include <spdlog/spdlog.h>

namespace loyaltyd {

PointsPolicy PointsPolicyFrom(const ProgramConfig& program) {
  constexpr int64_t kDayMs = 86'400'000;
  return PointsPolicy{int64_t{program.expiry.lot_age_days} * kDayMs,
                      int64_t{program.expiry.inactivity_days} * kDayMs};
}

void PointsScheduler::Start() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = false;
  }
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "ld-points");
    Loop();
  });
}

void PointsScheduler::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Status PointsScheduler::RunOnce(int64_t now_ms) {
  Result<ReleaseRunResult> released = storage_.ReleasePendingPoints(now_ms);
  if (!released.ok()) return released.status();
  if (released->released > 0 || released->voided > 0) {
    spdlog::info("pending points: {} award(s) released ({} point(s)), {} voided",
                 released->released, released->points_released, released->voided);
  }
  if (referrals_ != nullptr) {
    Result<ReferralRunResult> referrals = referrals_->ReleaseDue(now_ms);
    if (!referrals.ok()) return referrals.status();
    if (referrals->converted > 0 || referrals->voided > 0) {
      spdlog::info("held referrals: {} converted (advocate rewarded), {} voided",
                   referrals->converted, referrals->voided);
    }
  }
  Result<ExpiryRunResult> expired = storage_.ExpirePoints(now_ms);
  if (!expired.ok()) return expired.status();
  if (expired->lots_expired > 0) {
    spdlog::info("expiry: {} lot(s) expired, {} point(s)", expired->lots_expired,
                 expired->points_expired);
  }
  // Events out: points.expiring, once per customer and expiry day (docs/events.md).
  Result<ExpiryWarningRunResult> warned = storage_.QueueExpiryWarnings(now_ms);
  if (!warned.ok()) return warned.status();
  if (warned->warnings > 0) {
    spdlog::info("expiry: {} points.expiring event(s) queued", warned->warnings);
  }
  return Status::Ok();
}

void PointsScheduler::Loop() {
  for (;;) {
    try {
      Status st = RunOnce(clock_.NowMillis());
      // Storage trouble (disk full, locked by a backup) passes; the next tick tries again.
      if (!st.ok()) spdlog::error("points run failed, retrying next interval: {}", st.ToString());
    } catch (const std::exception& e) {
      spdlog::error("points run failed: {}", e.what());
    }
    std::unique_lock<std::mutex> lock(mu_);
    if (cv_.wait_for(lock, interval_, [&] { return stopping_; })) return;
  }
}

}  // namespace loyaltyd
