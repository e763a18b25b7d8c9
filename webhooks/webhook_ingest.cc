#include "webhooks/webhook_ingest.h"

#include <spdlog/spdlog.h>

namespace loyaltyd {
namespace {

// Error bodies carry only our own messages, which never quote the body or a secret.
IngestResponse Error(int http_status, const std::string& message) {
  std::string escaped;
  for (char c : message) {
    if (c == '"' || c == '\\') escaped.push_back('\\');
    if (static_cast<unsigned char>(c) >= 0x20) escaped.push_back(c);
  }
  return {http_status, "{\"error\":\"" + escaped + "\"}"};
}

}  // namespace

IngestResponse WebhookIngest::Handle(const WebhookRequest& request) const {
  const std::string_view platform = PlatformName(platform_);
  if (request.body.size() > max_body_bytes_) {
    spdlog::warn("{} webhook rejected: body of {} bytes exceeds server.max_body_bytes ({})",
                 platform, request.body.size(), max_body_bytes_);
    return Error(413, "body exceeds " + std::to_string(max_body_bytes_) + " bytes");
  }
  Result<VerifiedWebhook> verified = verifier_.Verify(request);
  if (!verified.ok()) {
    const Status& st = verified.status();
    spdlog::warn("{} webhook rejected: {}", platform, st.message());
    return Error(st.code() == StatusCode::kUnauthenticated ? 401 : 400, st.message());
  }
  const VerifiedWebhook& hook = *verified;
  if (hook.handshake) {
    // The platform checks that the URL answers before it enables the webhook; no event.
    spdlog::info("{} webhook handshake answered", platform);
    return {200, "{\"status\":\"handshake\"}"};
  }

  Result<InboxAppendOutcome> stored =
      committer_.Append(InboxEventFor(platform_, hook, request.body, clock_.NowMillis()));
  if (!stored.ok()) {
    return Error(503, "could not store the webhook durably; retry later");
  }
  if (*stored == InboxAppendOutcome::kDuplicate) {
    spdlog::debug("{} webhook {} {} for shop {} is a redelivery", platform, hook.topic,
                  hook.event_id, hook.shop->id);
    return {200, "{\"status\":\"duplicate\"}"};
  }
  spdlog::debug("{} webhook {} {} for shop {} stored", platform, hook.topic, hook.event_id,
                hook.shop->id);
  return {200, "{\"status\":\"stored\"}"};
}

NewInboxEvent WebhookIngest::InboxEventFor(Platform platform, const VerifiedWebhook& hook,
                                           std::string_view body, int64_t received_at_ms) {
  const std::string_view platform_name = PlatformName(platform);
  NewInboxEvent event;
  event.shop_id = hook.shop->id;
  event.platform = std::string(platform_name);
  event.topic = hook.topic;
  // One store event fans out to several topics (orders/create and orders/paid share an event
  // id), so the topic is part of the key; the shop keeps two stores' ids apart.
  event.dedupe_key.reserve(platform_name.size() + hook.shop->id.size() + hook.topic.size() +
                           hook.event_id.size() + 3);
  event.dedupe_key.append(platform_name).append("|").append(hook.shop->id).append("|");
  event.dedupe_key.append(hook.topic).append("|").append(hook.event_id);
  event.delivery_id = hook.delivery_id;
  event.body.assign(body);
  event.received_at_ms = received_at_ms;
  return event;
}

}  // namespace loyaltyd
