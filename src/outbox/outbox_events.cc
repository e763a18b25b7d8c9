// OutboxWorker, events out (docs/events.md): delivers an "event_out" job — one event to one
// merchant endpoint — signed with the endpoint's secret. The event's body was fixed when the
// event was queued; every attempt sends the same bytes and the same X-Loyaltyd-Event-Id, with
// a fresh X-Loyaltyd-Timestamp and the signature over both. Receivers dedupe on the event id:
// delivery is at least once (an answer lost after the receiver took the event means a resend).
#include <spdlog/spdlog.h>

#include "events_out/event_signature.h"
#include "outbox/outbox_worker.h"

namespace loyaltyd {

bool OutboxWorker::HandleEventJob(const OutboxJob& job) {
  const int64_t now = clock_.NowMillis();
  // One snapshot for the whole job: the endpoint's URL, secret, timeout and the retry settings.
  const std::shared_ptr<const Config> config = config_->Current();
  Result<std::optional<EventDeliveryRecord>> delivery = storage_.GetEventDelivery(job.id);
  if (!delivery.ok()) {
    spdlog::warn("outbox: job {}: cannot read its event; will retry", job.id);
    return false;
  }
  if (!delivery->has_value()) {
    Status st = storage_.AbandonJob(job.id, "its event is missing", now);
    if (!st.ok()) spdlog::error("outbox: job {}: {}", job.id, st.ToString());
    return st.ok();
  }
  const EventDeliveryRecord& event = **delivery;
  const EventsOutEndpoint* endpoint = config->FindEventsOutEndpoint(event.endpoint_id);
  if (endpoint == nullptr || !endpoint->enabled) {
    // Removed or paused since the event was queued. Kept as failed: the merchant can put the
    // endpoint back and retry (POST /api/v1/jobs/{id}/retry).
    const std::string why = "events_out endpoint '" + event.endpoint_id + "' is " +
                            (endpoint == nullptr ? "no longer in the config" : "disabled") +
                            "; fix the config, reload it (SIGHUP), then retry the job";
    spdlog::warn("outbox: job {}: {}", job.id, why);
    Status st = storage_.AbandonJob(job.id, why, now);
    if (!st.ok()) spdlog::error("outbox: job {}: {}", job.id, st.ToString());
    return st.ok();
  }
  const int64_t lease_ms = int64_t{endpoint->timeout_seconds} * 1000 + 1000;
  Result<int> attempt = storage_.BeginJobAttempt(job.id, now + lease_ms, now);
  if (!attempt.ok()) {
    spdlog::warn("outbox: job {}: cannot start attempt: {}", job.id, attempt.status().ToString());
    return false;
  }
  if (!event_sender_) event_sender_ = std::make_unique<HttpEventSender>();

  const int64_t timestamp = clock_.NowMillis() / 1000;
  EventPost post;
  post.url = endpoint->url;
  post.body = event.body;
  post.timeout_seconds = endpoint->timeout_seconds;
  post.headers = {{"User-Agent", "loyaltyd-events/1"},
                  {"X-Loyaltyd-Topic", event.topic},
                  {"X-Loyaltyd-Event-Id", event.event_id},
                  {"X-Loyaltyd-Endpoint", event.endpoint_id},
                  {"X-Loyaltyd-Attempt", std::to_string(*attempt)},
                  {"X-Loyaltyd-Timestamp", std::to_string(timestamp)},
                  {"X-Loyaltyd-Hmac-Sha256", SignEvent(endpoint->secret, timestamp, event.body)}};
  const EventPostResult result = event_sender_->Post(post);

  // The endpoint's URL may carry a token of the receiving tool in its path or query: logs name
  // the endpoint id, never the URL or the secret.
  const int64_t settled_at = clock_.NowMillis();
  const OutboxConfig& retry = config->outbox;
  Status st;
  switch (ClassifyEventResponse(result.http_status)) {
    case EventResponseAction::kDelivered:
      st = storage_.CompleteEventJob(job.id, result.http_status, settled_at);
      spdlog::info("outbox: job {} done: {} {} delivered to {} (HTTP {})", job.id, event.topic,
                   event.event_id, event.endpoint_id, result.http_status);
      break;
    case EventResponseAction::kRetry:
      if (result.http_status != 0) {
        Status noted = storage_.NoteEventResponse(job.id, result.http_status, settled_at);
        if (!noted.ok()) spdlog::warn("outbox: job {}: {}", job.id, noted.ToString());
      }
      if (*attempt >= retry.max_attempts) {
        st = storage_.AbandonJob(job.id, result.error, settled_at);
        spdlog::error("outbox: job {}: {} {} to {} given up after {} attempts: {}", job.id,
                      event.topic, event.event_id, event.endpoint_id, *attempt, result.error);
        std::lock_guard<std::mutex> lock(mu_);
        ++stats_.abandoned;
      } else {
        const double unit = std::uniform_real_distribution<double>(0.0, 1.0)(random_);
        const int64_t delay = BackoffMs(*attempt, retry.initial_backoff_ms, retry.max_backoff_ms,
                                        result.retry_after_ms, unit);
        st = storage_.RescheduleJob(job.id, settled_at + delay, result.error, settled_at);
        spdlog::warn("outbox: job {} attempt {}: {} to {} failed: {}; retrying in {} ms", job.id,
                     *attempt, event.topic, event.endpoint_id, result.error, delay);
        std::lock_guard<std::mutex> lock(mu_);
        ++stats_.retried;
      }
      break;
    case EventResponseAction::kFail:
      st = storage_.FailEventJob(job.id, result.http_status, result.error, settled_at);
      spdlog::error(
          "outbox: job {}: {} refused {} {} for good: {}; fix the receiver, then POST "
          "/api/v1/jobs/{}/retry",
          job.id, event.endpoint_id, event.topic, event.event_id, result.error, job.id);
      {
        std::lock_guard<std::mutex> lock(mu_);
        ++stats_.rejected;
      }
      break;
  }
  if (!st.ok()) spdlog::error("outbox: job {}: cannot record outcome: {}", job.id, st.ToString());
  return true;
}

}  // namespace loyaltyd
