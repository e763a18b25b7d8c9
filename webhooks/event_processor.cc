#include "webhooks/event_processor.h"

#include <pthread.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <optional>

namespace loyaltyd {
namespace {
// Nice value of the processor thread. 10 gives it about a tenth of the CPU share of a request
// thread when both want to run, and the whole CPU when the request threads are idle.
constexpr int kProcessorNice = 10;
}  // namespace

EventProcessor::EventProcessor(std::shared_ptr<const ConfigSource> config, Storage& storage,
                               const Clock& clock,
                               std::map<std::string, const Normaliser*> normalisers,
                               size_t batch_size)
    : config_(std::move(config)),
      storage_(storage),
      clock_(&clock),
      fixed_ledger_(nullptr),
      normalisers_(std::move(normalisers)),
      batch_size_(batch_size == 0 ? 1 : batch_size) {}

EventProcessor::EventProcessor(const Config& config, Storage& storage, Ledger& ledger,
                               std::map<std::string, const Normaliser*> normalisers,
                               size_t batch_size)
    : config_(ConfigSource::Unowned(config)),
      storage_(storage),
      clock_(nullptr),
      fixed_ledger_(&ledger),
      normalisers_(std::move(normalisers)),
      batch_size_(batch_size == 0 ? 1 : batch_size) {}

EventProcessor::~EventProcessor() { Stop(); }

void EventProcessor::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  notified_ = true;  // process whatever a previous run left pending
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "ld-processor");  // names threads in top and gdb
    // Acknowledging webhooks within the platform's timeout comes first; processing is
    // asynchronous by design. Under a burst this thread yields the CPU to the request threads
    // and catches up once the burst is over (the backlog is visible in /api/v1/stats).
    if (setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), kProcessorNice) != 0) {
      spdlog::debug("could not lower the event processor's priority; it runs at normal priority");
    }
    Loop();
  });
}

void EventProcessor::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void EventProcessor::Notify() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    notified_ = true;
  }
  cv_.notify_one();
}

void EventProcessor::NotifyInboxCommit() {
  inbox_commits_.fetch_add(1);
  Notify();
}

Result<size_t> EventProcessor::ProcessBatch() {
  const uint64_t inbox_commits = inbox_commits_.load();
  const bool ingesting = inbox_commits != inbox_commits_seen_;
  inbox_commits_seen_ = inbox_commits;
  const size_t limit = ingesting ? std::min(batch_size_, kBatchSizeWhileIngesting) : batch_size_;
  Result<std::vector<InboxEvent>> events = storage_.LoadPendingEvents(0, limit);
  if (!events.ok()) return events.status();
  if (events->empty()) return size_t{0};

  // One snapshot for the whole batch: every event in it is decided under the same program.
  const std::shared_ptr<const Config> config = config_->Current();
  std::optional<Ledger> batch_ledger;
  Ledger& ledger =
      fixed_ledger_ != nullptr ? *fixed_ledger_ : batch_ledger.emplace(*config, storage_, *clock_);

  std::vector<EventOutcome> outcomes;
  outcomes.reserve(events->size());
  for (const InboxEvent& event : *events) {
    auto it = normalisers_.find(event.platform);
    if (it == normalisers_.end()) {
      outcomes.push_back(ledger.Decide(
          event, Status(FailedPrecondition("no connector for platform '" + event.platform + "'"))));
      continue;
    }
    const ShopConfig* shop = config->FindShopById(event.shop_id);
    if (shop == nullptr) {
      // Stored while the shop was configured; the merchant has removed it since.
      outcomes.push_back(ledger.Decide(
          event, Status(FailedPrecondition("shop '" + event.shop_id +
                                           "' is no longer in the config; event not applied"))));
      continue;
    }
    outcomes.push_back(ledger.Decide(event, it->second->Normalise(*shop, event.topic, event.body)));
  }
  LOYALTYD_RETURN_IF_ERROR(ledger.Commit(outcomes));
  for (const EventOutcome& o : outcomes) {
    if (o.status == EventStatus::kFailed) {
      spdlog::warn("event {} failed: {}", o.event_id, o.reason);
    } else {
      spdlog::debug("event {} {}: {}", o.event_id, EventStatusName(o.status), o.reason);
    }
  }
  processed_total_ += outcomes.size();
  return outcomes.size();
}

Result<size_t> EventProcessor::ProcessPending() {
  size_t total = 0;
  for (;;) {
    Result<size_t> n = ProcessBatch();
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    total += *n;
  }
  // Privacy work the events left (body scrubs, shop redactions), to the end.
  for (;;) {
    Result<bool> more = storage_.RunPrivacyWork(PrivacyNowMs());
    if (!more.ok()) return more.status();
    if (!*more) return total;
  }
}

int64_t EventProcessor::PrivacyNowMs() const {
  if (clock_ != nullptr) return clock_->NowMillis();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool EventProcessor::RunPrivacySteps() {
  // Each step is one short transaction; a bounded number per wake keeps events flowing between
  // them. True when more remains (the loop comes straight back).
  constexpr int kPrivacyStepsPerWake = 16;
  for (int i = 0; i < kPrivacyStepsPerWake; ++i) {
    Result<bool> more = storage_.RunPrivacyWork(PrivacyNowMs());
    if (!more.ok()) {
      spdlog::error("privacy work paused: {}", more.status().ToString());
      return false;
    }
    if (!*more) return false;
  }
  return true;
}

void EventProcessor::Loop() {
  auto backoff = std::chrono::milliseconds(0);
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, backoff.count() > 0 ? backoff : std::chrono::milliseconds(1000),
                   [&] { return stopping_ || notified_; });
      if (stopping_) return;
      notified_ = false;
    }
    try {
      Result<size_t> n = ProcessBatch();
      while (n.ok() && *n > 0) {
        {
          std::lock_guard<std::mutex> lock(mu_);
          if (stopping_) return;
        }
        n = ProcessBatch();
      }
      if (n.ok()) {
        backoff = std::chrono::milliseconds(0);
        if (RunPrivacySteps()) {
          std::lock_guard<std::mutex> lock(mu_);
          notified_ = true;  // more privacy work: come back after any new events
        }
      } else {
        // Storage is unavailable (disk full, locked): the events stay pending; back off.
        backoff = std::min(std::chrono::milliseconds(30000),
                           std::max(std::chrono::milliseconds(100), backoff * 2));
        spdlog::error("event processing paused for {} ms: {}", backoff.count(),
                      n.status().ToString());
      }
    } catch (const std::exception& e) {
      backoff = std::chrono::milliseconds(1000);
      spdlog::critical("event processor caught an exception: {}", e.what());
    }
  }
}

}  // namespace loyaltyd
