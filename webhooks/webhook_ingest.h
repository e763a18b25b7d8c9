// WebhookIngest: the request path of one platform's webhook endpoint.
//
//   verify (signature, shop, topic)  ->  dedupe key  ->  durable inbox (group commit)  ->  answer
//
// The body is not parsed here: parsing is the largest CPU cost of a webhook and belongs to the
// event processor, off the request path. (The WooCommerce verifier is the one exception: it reads
// the resource id and modified date, because WooCommerce's headers name no stable event.) A body
// that turns out to be malformed is still stored (it was signed by the shop) and is marked failed
// by the processor, visible to the merchant; the platform gets 200 so that it does not retry a
// delivery that can never succeed.
//
// Answers:  200 stored | 200 duplicate (a redelivery; nothing changes) |
//           200 handshake (WooCommerce's ping on webhook creation; nothing stored) |
//           400 missing headers |
//           401 unknown shop or bad signature (nothing stored) | 413 body too large |
//           503 storage unavailable (the platform retries; nothing was acknowledged).
// Thread-safety: Handle is safe from any number of request threads.
#pragma once

#include <string>

#include "connector/connector.h"
#include "core/clock.h"
#include "webhooks/group_committer.h"

namespace loyaltyd {

struct IngestResponse {
  int http_status = 200;
  std::string body;  // JSON
};

class WebhookIngest {
 public:
  WebhookIngest(Platform platform, const WebhookVerifier& verifier, GroupCommitter& committer,
                const Clock& clock, size_t max_body_bytes)
      : platform_(platform),
        verifier_(verifier),
        committer_(committer),
        clock_(clock),
        max_body_bytes_(max_body_bytes) {}

  IngestResponse Handle(const WebhookRequest& request) const;

  // The inbox row a verified delivery becomes: its dedupe key is platform|shop|topic|event id.
  // (Public so that tests can fill an inbox exactly as deliveries would, without a committer.)
  static NewInboxEvent InboxEventFor(Platform platform, const VerifiedWebhook& hook,
                                     std::string_view body, int64_t received_at_ms);

 private:
  const Platform platform_;
  const WebhookVerifier& verifier_;
  GroupCommitter& committer_;
  const Clock& clock_;
  const size_t max_body_bytes_;
};

}  // namespace loyaltyd
