// GroupCommitter: makes webhook deliveries durable many at a time.
//
// Request threads call Append(), which queues the delivery and blocks until the transaction
// holding it has committed (fsynced). One writer thread takes everything queued since its last
// commit and stores it in a single transaction, so N concurrent requests share one fsync
// instead of paying one each. A request is answered only after Append returns, which is what
// lets loyaltyd say 2xx only for durably stored deliveries.
//
// Threads: one writer thread, started by Start() and joined by Stop(). Stop() first commits
// everything already queued, so no caller is left waiting.
// Thread-safety: Append is safe from any number of threads.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "storage/storage.h"

namespace loyaltyd {

class GroupCommitter {
 public:
  // `on_commit` runs on the writer thread after each successful commit (wakes the processor).
  GroupCommitter(Storage& storage, size_t max_batch, std::function<void()> on_commit);
  ~GroupCommitter();

  void Start();
  void Stop();

  // Blocks until the delivery is durably stored (kStored) or found to be a redelivery
  // (kDuplicate). Unavailable when storage failed or the committer is stopping.
  Result<InboxAppendOutcome> Append(NewInboxEvent event);

  struct Stats {
    uint64_t batches = 0;
    uint64_t events = 0;
  };
  Stats stats() const;

 private:
  struct Batch {
    std::vector<NewInboxEvent> events;
    std::vector<InboxAppendOutcome> outcomes;
    Status status;
    bool done = false;
    std::condition_variable done_cv;
  };

  void WriterLoop();

  Storage& storage_;
  const size_t max_batch_;
  std::function<void()> on_commit_;

  mutable std::mutex mu_;
  std::condition_variable work_cv_;
  std::deque<std::shared_ptr<Batch>> queue_;  // GUARDED_BY(mu_); back() is the one filling
  bool stopping_ = false;                     // GUARDED_BY(mu_)
  Stats stats_;                               // GUARDED_BY(mu_)
  std::thread writer_;
};

}  // namespace loyaltyd
