// EventProcessor: turns stored inbox events into ledger changes, in arrival order.
//
// One thread takes pending events from the inbox in batches, normalises each with its
// platform's Normaliser (given the config of the event's shop), lets the Ledger decide the
// outcome, and commits the whole batch in one transaction (each event atomically, with its new
// status). Work comes only from the durable inbox, so a crash between the webhook's 2xx and its
// processing loses nothing: whatever is still pending at start-up is processed then.
//
// Threads: one processing thread (Start/Stop). It wakes on Notify() (after each inbox commit)
// and at least once a second. Exceptions are caught at the top of its loop.
// Thread-safety: Notify and Stop are safe from any thread; ProcessPending must not run
// concurrently with the processing thread (tests call it without Start).
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "connector/connector.h"
#include "ledger/ledger.h"
#include "storage/storage.h"

namespace loyaltyd {

class EventProcessor {
 public:
  // `normalisers` maps a platform name ("shopify") to its normaliser; they, `config` and
  // `storage` outlive this. An event whose shop is no longer in `config` fails, saying so.
  EventProcessor(const Config& config, Storage& storage, Ledger& ledger,
                 std::map<std::string, const Normaliser*> normalisers, size_t batch_size = 64);
  ~EventProcessor();

  void Start();
  // Finishes the batch in hand, then returns. Pending events stay in the inbox for next start.
  void Stop();
  void Notify();

  // Processes until nothing is pending. Returns how many events were processed.
  Result<size_t> ProcessPending();

  uint64_t processed_total() const { return processed_total_.load(); }

 private:
  void Loop();
  // One batch; returns how many events it held (0 when the inbox has nothing pending).
  Result<size_t> ProcessBatch();

  const Config& config_;
  Storage& storage_;
  Ledger& ledger_;
  const std::map<std::string, const Normaliser*> normalisers_;
  const size_t batch_size_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // GUARDED_BY(mu_)
  bool notified_ = false;  // GUARDED_BY(mu_)
  std::thread thread_;
  std::atomic<uint64_t> processed_total_{0};
};

}  // namespace loyaltyd
