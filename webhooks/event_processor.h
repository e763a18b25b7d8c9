// EventProcessor: turns stored inbox events into ledger changes, in arrival order.
//
// One thread takes pending events from the inbox in batches, normalises each with its
// platform's Normaliser (given the config of the event's shop), lets the Ledger decide the
// outcome, and commits the whole batch in one transaction (each event atomically, with its new
// status). Work comes only from the durable inbox, so a crash between the webhook's 2xx and its
// processing loses nothing: whatever is still pending at start-up is processed then.
//
// Config: each batch takes one snapshot of the config (ConfigSource) and decides all its events
// under it, with a Ledger built from that snapshot, so a reload (SIGHUP) never mixes two
// programs inside a batch; it applies from the next batch on.
// Threads: one processing thread (Start/Stop). It wakes on NotifyInboxCommit() (after each
// inbox commit) or Notify(), and at least once a second. Exceptions are caught at the top of
// its loop.
// Thread-safety: Notify, NotifyInboxCommit and Stop are safe from any thread; ProcessPending
// and ProcessBatch must not run concurrently with the processing thread (tests call them
// without Start).
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "config/config_source.h"
#include "connector/connector.h"
#include "core/clock.h"
#include "ledger/ledger.h"
#include "storage/storage.h"

namespace loyaltyd {

class EventProcessor {
 public:
  // `normalisers` maps a platform name ("shopify") to its normaliser; they, `storage` and
  // `clock` outlive this. Each batch decides under `config`'s current snapshot, with a Ledger
  // of its own. An event whose shop is no longer in the config fails, saying so.
  // `batch_size` events are processed per transaction, or at most kBatchSizeWhileIngesting of
  // them while webhooks are being stored (see NotifyInboxCommit).
  EventProcessor(std::shared_ptr<const ConfigSource> config, Storage& storage, const Clock& clock,
                 std::map<std::string, const Normaliser*> normalisers, size_t batch_size = 64);
  // A config that never changes, and the Ledger built with it; all must outlive this.
  EventProcessor(const Config& config, Storage& storage, Ledger& ledger,
                 std::map<std::string, const Normaliser*> normalisers, size_t batch_size = 64);
  ~EventProcessor();

  void Start();
  // Finishes the batch in hand, then returns. Pending events stay in the inbox for next start.
  void Stop();
  // Wakes the processor: there is work (new events, privacy work).
  void Notify();
  // Notify, for a commit of webhooks to the inbox (GroupCommitter's on_commit). Until the
  // next batch starts, it is taken as a sign that requests are waiting for the one database
  // writer, and that batch is kept short: a batch is one transaction on that writer, which
  // the next inbox commit, and every webhook request in it, waits for. On a store with 10^7
  // ledger entries, batches of 16 instead of 64 while ingesting took the ingest benchmark from
  // 4,885 to 5,573 requests/s (mean of five runs each; bench/README.md, "Scale"), while alone,
  // batches of 64 drain the backlog about a fifth faster than batches of 16.
  void NotifyInboxCommit();
  static constexpr size_t kBatchSizeWhileIngesting = 16;

  // Processes until nothing is pending, then runs the privacy work the events left (inbox body
  // scrubs after a redaction, a shop's removal: Storage::RunPrivacyWork) to the end. Returns
  // how many events were processed. The processing thread runs that work too, a few bounded
  // steps per wake, between batches.

  Result<size_t> ProcessPending();

  uint64_t processed_total() const { return processed_total_.load(); }

  // One batch, in one transaction; returns how many events it held (0 when the inbox has
  // nothing pending). The processing thread, or ProcessPending, calls it; not both at once.
  Result<size_t> ProcessBatch();

 private:
  void Loop();
  // Privacy (issue 7): a few steps of Storage::RunPrivacyWork; true when more remains.
  bool RunPrivacySteps();
  int64_t PrivacyNowMs() const;

  const std::shared_ptr<const ConfigSource> config_;
  Storage& storage_;
  const Clock* const clock_;    // with a ConfigSource: each batch builds its Ledger
  Ledger* const fixed_ledger_;  // with a fixed Config: the Ledger built with it
  const std::map<std::string, const Normaliser*> normalisers_;
  const size_t batch_size_;
  std::atomic<uint64_t> inbox_commits_{0};  // NotifyInboxCommit calls
  uint64_t inbox_commits_seen_ = 0;         // by the last batch; only ProcessBatch's caller

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // GUARDED_BY(mu_)
  bool notified_ = false;  // GUARDED_BY(mu_)
  std::thread thread_;
  std::atomic<uint64_t> processed_total_{0};
};

}  // namespace loyaltyd
