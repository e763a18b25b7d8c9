// OutboxWorker: makes the platform calls queued in the outbox, exactly once in effect.
//
// One thread ("ld-outbox") takes due jobs oldest first. For each job it first records the
// attempt durably (Storage::BeginJobAttempt), then calls the shop's RewardClient, then settles
// the job:
//   success                       -> CompleteRewardJob: the redemption is issued with its code;
//   permanent rejection           -> FailRewardJob: the points go back, with the platform's reason;
//   transient failure             -> RescheduleJob after an exponential back-off with jitter,
//                                    never sooner than the platform's Retry-After or throttle
//                                    estimate;
//   transient, attempts exhausted -> AbandonJob: visible as failed (GET /api/v1/jobs?status=
//                                    failed), points kept because the reward may exist;
//                                    POST /api/v1/jobs/{id}/retry puts it back.
// update_tags jobs (VIP tier changes) call RewardClient::UpdateCustomerTags; see HandleTagJob.
// Any attempt after the first starts with RewardClient::FindReward: a previous attempt may have
// created the reward and died before hearing so (timeout, dropped connection, kill -9 between
// the call and the commit), and creating it again would pay twice.
// Thread-safety: Start/Stop/Wake from any thread; RunOnce only while the thread is not running.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>

#include "config/config.h"
#include "connector/reward_client.h"
#include "core/clock.h"
#include "storage/storage.h"

namespace loyaltyd {

class OutboxWorker {
 public:
  // `clients` maps a shop id to its write-back client; shops without one cannot issue rewards.
  // Everything referenced must outlive the worker.
  OutboxWorker(const Config& config, Storage& storage, const Clock& clock,
               std::map<std::string, RewardClient*> clients);
  ~OutboxWorker();

  OutboxWorker(const OutboxWorker&) = delete;
  OutboxWorker& operator=(const OutboxWorker&) = delete;

  void Start();
  // Finishes the job in hand (its call is bounded by the client's timeout) and joins.
  void Stop();
  // A job was queued: look now rather than at the next poll.
  void Wake();

  bool HasClientFor(const std::string& shop_id) const { return clients_.count(shop_id) != 0; }

  // Handles the jobs due now; returns how many were attempted (a job whose data cannot be read
  // is not: the worker then waits a poll interval instead of spinning). For tests and the thread.
  Result<int> RunOnce();

  // The delay before attempt `attempts` + 1: initial * 2^(attempts-1), capped at max_ms, with
  // "equal jitter" (half fixed, half random) so that a burst of failures does not retry in
  // lock step; never below retry_after_ms. `unit_random` is in [0, 1).
  static int64_t BackoffMs(int attempts, int64_t initial_ms, int64_t max_ms, int64_t retry_after_ms,
                           double unit_random);

  struct Stats {
    int64_t issued = 0;
    int64_t rejected = 0;
    int64_t retried = 0;
    int64_t abandoned = 0;
  };
  Stats stats() const;

 private:
  void Loop();
  // False when the job could not be attempted (storage trouble); it stays due.
  bool HandleJob(const OutboxJob& job);
  // An update_tags job (VIP tier tags): send the customer's current tier tags.
  bool HandleTagJob(const OutboxJob& job);
  void Settle(const OutboxJob& job, int attempt, const PlatformResponse& response);

  const Config& config_;
  Storage& storage_;
  const Clock& clock_;
  std::map<std::string, RewardClient*> clients_;
  std::mt19937_64 random_;  // jitter only; used by the worker thread

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // GUARDED_BY(mu_)
  bool woken_ = false;     // GUARDED_BY(mu_)
  Stats stats_;            // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace loyaltyd
