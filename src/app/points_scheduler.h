// PointsScheduler: the daemon's timer for the points runs that depend on time passing rather
// than on a webhook — releasing pending awards (program.award.hold_days) and expiring point
// lots (program.expiry) — and converting held referrals whose hold has ended
// (program.referrals.hold_days).
//
// One thread ("ld-points") runs RunOnce at start and then every `interval`. Both runs take
// `now` from the Clock and are idempotent in storage (each award is released once, each lot
// expired once), so a run that overlaps `loyaltyd expire` or `loyaltyd release-pending` from
// the command line, or repeats after a crash, changes nothing twice. Release runs first, so
// that points released and already past their expiry are expired in the same pass.
// Thread-safety: Start/Stop from one thread; RunOnce from any thread (storage serialises).
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "config/config.h"
#include "core/clock.h"
#include "core/status.h"
#include "referrals/referral_service.h"
#include "storage/storage.h"

namespace loyaltyd {

// What storage needs of program.expiry (days to milliseconds).
PointsPolicy PointsPolicyFrom(const ProgramConfig& program);

class PointsScheduler {
 public:
  // `referrals` may be null (no referral releases).
  PointsScheduler(Storage& storage, const Clock& clock, std::chrono::milliseconds interval,
                  ReferralService* referrals = nullptr)
      : storage_(storage), clock_(clock), interval_(interval), referrals_(referrals) {}
  ~PointsScheduler() { Stop(); }

  void Start();
  void Stop();

  // Releases due pending awards and held referrals, then expires due lots, as of now_ms; logs
  // what changed.
  Status RunOnce(int64_t now_ms);

 private:
  void Loop();

  Storage& storage_;
  const Clock& clock_;
  const std::chrono::milliseconds interval_;
  ReferralService* const referrals_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace loyaltyd
