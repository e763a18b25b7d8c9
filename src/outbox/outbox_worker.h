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
// event_out jobs (events out, docs/events.md) POST a signed event to a merchant's endpoint
// through an EventSender; see HandleEventJob (outbox_events.cc).
// Any attempt after the first starts with RewardClient::FindReward: a previous attempt may have
// created the reward and died before hearing so (timeout, dropped connection, kill -9 between
// the call and the commit), and creating it again would pay twice.
// Config: each job takes one snapshot of the config (ConfigSource) for its shop, its client and
// the retry settings, so a reload (SIGHUP) applies from the next job on. Built with a client
// factory, the worker rebuilds the shops' clients from the snapshot whenever the config has
// been replaced (new API credentials, a new shop), before the next job.
// Thread-safety: Start/Stop/Wake/HasClientFor from any thread; RunOnce only while the thread is
// not running.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>

#include <memory>

#include "config/config.h"
#include "config/config_source.h"
#include "connector/reward_client.h"
#include "core/clock.h"
#include "outbox/event_sender.h"
#include "storage/storage.h"

namespace loyaltyd {

// Builds the write-back clients of a config: shop id -> client, for the shops that can issue
// rewards. The clients may refer to the Config they were built from; the worker keeps that
// snapshot alive as long as it uses them.
using RewardClientFactory =
    std::function<std::map<std::string, std::unique_ptr<RewardClient>>(const Config& config)>;

class OutboxWorker {
 public:
  // Each job uses `config`'s current snapshot and the clients `make_clients` built from it.
  // `storage` and `clock` must outlive the worker.
  OutboxWorker(std::shared_ptr<const ConfigSource> config, Storage& storage, const Clock& clock,
               RewardClientFactory make_clients);
  // A config that never changes and fixed clients: `clients` maps a shop id to its write-back
  // client; shops without one cannot issue rewards. Everything referenced must outlive the worker.
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

  // Whether the clients in use (of the config of the last job, or the fixed ones) include one
  // for the shop.
  bool HasClientFor(const std::string& shop_id) const;

  // Handles the jobs due now; returns how many were attempted (a job whose data cannot be read
  // is not: the worker then waits a poll interval instead of spinning). For tests and the thread.
  Result<int> RunOnce();

  // The delay before attempt `attempts` + 1: initial * 2^(attempts-1), capped at max_ms, with
  // "equal jitter" (half fixed, half random) so that a burst of failures does not retry in
  // lock step; never below retry_after_ms. `unit_random` is in [0, 1).
  static int64_t BackoffMs(int attempts, int64_t initial_ms, int64_t max_ms, int64_t retry_after_ms,
                           double unit_random);

  // Events out: the sender event_out jobs use (default: HttpEventSender). Before Start().
  void SetEventSender(std::unique_ptr<EventSender> sender) { event_sender_ = std::move(sender); }

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
  // An event_out job: POST the event, signed, to its endpoint (outbox_events.cc).
  bool HandleEventJob(const OutboxJob& job);
  void Settle(const OutboxJob& job, int attempt, const PlatformResponse& response,
              const OutboxConfig& retry);
  // With a factory: rebuilds the clients when `config` is not the snapshot they were built
  // from. Worker thread (or RunOnce) only.
  void RefreshClients(const std::shared_ptr<const Config>& config);

  const std::shared_ptr<const ConfigSource> config_;
  Storage& storage_;
  const Clock& clock_;
  const RewardClientFactory make_clients_;  // empty: fixed clients
  // The config the owned clients were built from (they may point into it), and the clients.
  // Written by the worker thread only, under mu_; the worker reads them without it.
  std::shared_ptr<const Config> clients_config_;
  std::map<std::string, std::unique_ptr<RewardClient>> owned_clients_;
  std::map<std::string, RewardClient*> clients_;
  std::mt19937_64 random_;                     // jitter only; used by the worker thread
  std::unique_ptr<EventSender> event_sender_;  // events out; used by the worker thread

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // GUARDED_BY(mu_)
  bool woken_ = false;     // GUARDED_BY(mu_)
  Stats stats_;            // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace loyaltyd
