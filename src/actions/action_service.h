// ActionService: a customer earns points for a non-purchase action (POST
// /api/v1/customers/{id}/actions), under the action's rule in program.earn.
//
// Record() checks the request (a configured action, a well-formed key, reference and
// occurred_at), lays out the ways the rule can pay it (rules/action_rules.h: one ledger once key
// per allowed award in the action's period), and hands Storage one durable transaction that
// pays the first free one — or nothing when the limit is reached — and records the answer under
// the client's Idempotency-Key.
//
// Exactly once: the same key for the same customer returns the recorded answer (awarded or
// limit reached) and changes nothing; the same key for another action, reference or
// occurred_at is an error, as for redemptions. The limit is enforced by the ledger's unique
// once keys in that transaction, so no interleaving of concurrent requests exceeds it.
//
// Time: occurred_at (default: when the request arrives, by the Clock) decides the period, in
// UTC; it is stored with the request, so the answer never depends on when a retry comes.
// Config: each Record works under one snapshot of the config (ConfigSource), so a reload
// (SIGHUP) that edits the action rules applies from the next request on.
// Thread-safety: Record may be called from any thread; Storage serialises the writes.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"
#include "config/config_source.h"
#include "core/clock.h"
#include "core/status.h"
#include "storage/storage.h"

namespace loyaltyd {

struct ActionRequest {
  int64_t customer_id = 0;
  std::string action;
  std::optional<std::string> occurred_at;  // ISO-8601 with a zone; absent: now
  std::string reference;                   // may be empty
  std::string idempotency_key;
};

struct ActionResult {
  bool replayed = false;  // the key was used before: the recorded answer, nothing changed
  ActionRequestRecord record;
};

class ActionService {
 public:
  // Actions may be reported this far ahead of the clock (clock skew between the caller and
  // loyaltyd); later ones are refused, or a caller could use up next year's birthday now.
  static constexpr int64_t kMaxFutureSkewMs = 5 * 60 * 1000;

  // `storage` and `clock` must outlive the service.
  ActionService(std::shared_ptr<const ConfigSource> config, Storage& storage, const Clock& clock)
      : config_(std::move(config)), storage_(storage), clock_(clock) {}
  // A config that never changes; all references must outlive the service.
  ActionService(const Config& config, Storage& storage, const Clock& clock)
      : ActionService(ConfigSource::Unowned(config), storage, clock) {}

  // Awarded and limit-reached are both results (record.outcome says which). Errors:
  // InvalidArgument (no rule for the action — the message lists the configured ones; a
  // malformed key, reference or occurred_at; a key reused for another request), NotFound (no
  // such customer), Unavailable (storage).
  Result<ActionResult> Record(const ActionRequest& request);
  // The same under a snapshot the caller already took (the admin API takes one per request).
  Result<ActionResult> Record(const Config& config, const ActionRequest& request);

 private:
  const std::shared_ptr<const ConfigSource> config_;
  Storage& storage_;
  const Clock& clock_;
};

}  // namespace loyaltyd
