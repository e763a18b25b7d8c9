// AdminApi, events out (docs/api.md, "Events out"; docs/events.md): each delivery of an event
// to a merchant endpoint, with its status, attempts and the last HTTP answer, and the event as
// it is sent. A failed delivery is retried by hand with POST /api/v1/jobs/{job_id}/retry.
#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "http/admin_api.h"
#include "http/api_reply.h"

namespace loyaltyd {
namespace {

using nlohmann::json;
using namespace api_reply;  // NOLINT: the shared answer helpers

json EventDeliveryJson(const EventDeliveryRecord& d) {
  return json{
      {"job_id", d.job_id},
      {"event_id", d.event_id},
      {"topic", d.topic},
      {"endpoint_id", d.endpoint_id},
      {"customer_id", d.customer_id == 0 ? json(nullptr) : json(d.customer_id)},
      {"status", JobStatusName(d.status)},
      {"attempts", d.attempts},
      {"last_http_status", d.last_http_status == 0 ? json(nullptr) : json(d.last_http_status)},
      {"last_error", d.last_error.empty() ? json(nullptr) : json(d.last_error)},
      {"next_attempt_at", d.status == JobStatus::kPending
                              ? json(FormatIso8601Millis(d.next_attempt_at_ms))
                              : json(nullptr)},
      {"created_at", FormatIso8601Millis(d.created_at_ms)},
      {"delivered_at",
       d.delivered_at_ms == 0 ? json(nullptr) : json(FormatIso8601Millis(d.delivered_at_ms))},
      // The body exactly as sent, parsed (it is JSON that loyaltyd wrote).
      {"event", json::parse(d.body, nullptr, /*allow_exceptions=*/false)}};
}

}  // namespace

void AdminApi::ListEventDeliveries(const httplib::Request& req, httplib::Response& res) {
  std::optional<JobStatus> status;
  if (req.has_param("status")) {
    status = ParseJobStatus(req.get_param_value("status"));
    if (!status) return ReplyError(res, 400, "status must be one of pending, done, failed");
  }
  const std::string endpoint = req.has_param("endpoint") ? req.get_param_value("endpoint") : "";
  size_t limit;
  int64_t before;
  if (!ReadPage(req, res, limit, before)) return;
  Result<std::vector<EventDeliveryRecord>> deliveries =
      storage_.ListEventDeliveries(status, endpoint, before, limit);
  if (!deliveries.ok()) return ReplyStorageError(res, deliveries.status());
  json out = json::array();
  for (const EventDeliveryRecord& d : *deliveries) out.push_back(EventDeliveryJson(d));
  json next = deliveries->size() == limit && !deliveries->empty() ? json(deliveries->back().job_id)
                                                                  : json(nullptr);
  Reply(res, 200, json{{"deliveries", out}, {"next_before", next}});
}

}  // namespace loyaltyd
