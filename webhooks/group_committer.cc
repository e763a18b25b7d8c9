#include "webhooks/group_committer.h"

#include <pthread.h>
#include <spdlog/spdlog.h>

namespace loyaltyd {

GroupCommitter::GroupCommitter(Storage& storage, size_t max_batch, std::function<void()> on_commit)
    : storage_(storage),
      max_batch_(max_batch == 0 ? 1 : max_batch),
      on_commit_(std::move(on_commit)) {}

GroupCommitter::~GroupCommitter() { Stop(); }

void GroupCommitter::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (writer_.joinable()) return;
  stopping_ = false;
  writer_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "ld-committer");  // names threads in top and gdb
    WriterLoop();
  });
}

void GroupCommitter::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  if (writer_.joinable()) writer_.join();
}

Result<InboxAppendOutcome> GroupCommitter::Append(NewInboxEvent event) {
  std::unique_lock<std::mutex> lock(mu_);
  if (stopping_ || !writer_.joinable()) return Unavailable("loyaltyd is shutting down");
  if (queue_.empty() || queue_.back()->events.size() >= max_batch_) {
    queue_.push_back(std::make_shared<Batch>());
  }
  std::shared_ptr<Batch> batch = queue_.back();
  const size_t index = batch->events.size();
  batch->events.push_back(std::move(event));
  if (index == 0) work_cv_.notify_one();
  batch->done_cv.wait(lock, [&] { return batch->done; });
  if (!batch->status.ok()) return batch->status;
  return batch->outcomes[index];
}

GroupCommitter::Stats GroupCommitter::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void GroupCommitter::WriterLoop() {
  uint64_t failed_in_a_row = 0;  // for the log only
  for (;;) {
    std::shared_ptr<Batch> batch;
    {
      std::unique_lock<std::mutex> lock(mu_);
      work_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything queued is committed
      batch = std::move(queue_.front());
      queue_.pop_front();
    }
    // Storage returns a Status and never throws across its boundary; the catch is the thread's
    // last line of defence so that no waiter is ever left blocked.
    Status status;
    std::vector<InboxAppendOutcome> outcomes;
    try {
      Result<std::vector<InboxAppendOutcome>> result = storage_.AppendToInbox(batch->events);
      if (result.ok()) {
        outcomes = std::move(result).value();
      } else {
        status = result.status();
      }
    } catch (const std::exception& e) {
      status = Internal(std::string("storing webhooks: ") + e.what());
    }
    if (!status.ok()) {
      spdlog::error("inbox commit of {} webhook(s) failed: {}; answered 503, to be redelivered",
                    batch->events.size(), status.ToString());
      ++failed_in_a_row;
    } else if (failed_in_a_row > 0) {
      // Says when the trouble (disk full, ...) ended, as the error lines said when it began.
      spdlog::info("inbox commits succeed again after {} failed commit(s)", failed_in_a_row);
      failed_in_a_row = 0;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      batch->status = status;
      batch->outcomes = std::move(outcomes);
      batch->done = true;
      if (status.ok()) {
        stats_.batches++;
        stats_.events += batch->events.size();
      }
    }
    batch->done_cv.notify_all();
    if (status.ok() && on_commit_) on_commit_();
  }
}

}  // namespace loyaltyd
