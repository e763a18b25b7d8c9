#include "actions/action_service.h"

#include <algorithm>

#include "core/calendar.h"
#include "core/clock.h"
#include "core/idempotency_key.h"
#include "rules/action_rules.h"

namespace loyaltyd {
namespace {

constexpr size_t kMaxReferenceLength = 255;

// Up to 255 printable characters (UTF-8 allowed), no control characters: it goes into the
// ledger's description.
bool IsValidReference(std::string_view reference) {
  return reference.size() <= kMaxReferenceLength &&
         std::all_of(reference.begin(), reference.end(),
                     [](char c) { return static_cast<unsigned char>(c) >= 0x20 && c != 0x7f; });
}

}  // namespace

Result<ActionResult> ActionService::Record(const ActionRequest& request) {
  const std::shared_ptr<const Config> config = config_->Current();
  return Record(*config, request);
}

Result<ActionResult> ActionService::Record(const Config& config, const ActionRequest& request) {
  LOYALTYD_RETURN_IF_ERROR(CheckIdempotencyKey(request.idempotency_key, "action"));
  const EarnRule* rule = config.program.FindActionRule(request.action);
  if (rule == nullptr) {
    std::string known;
    for (const EarnRule& r : config.program.earn) {
      if (r.type == EarnRuleType::kAction) known += (known.empty() ? "" : ", ") + r.action;
    }
    return InvalidArgument(
        "no action rule for '" + request.action + "' in program.earn" +
        (known.empty() ? " (no actions are configured)" : "; configured actions: " + known));
  }
  if (!IsValidReference(request.reference)) {
    return InvalidArgument("reference must be at most 255 characters without control characters");
  }
  const int64_t now = clock_.NowMillis();
  int64_t occurred_at = now;
  if (request.occurred_at) {
    Result<int64_t> parsed = ParseIso8601Millis(*request.occurred_at);
    if (!parsed.ok()) return InvalidArgument("occurred_at: " + parsed.status().message());
    if (*parsed > now + kMaxFutureSkewMs) {
      return InvalidArgument("occurred_at " + *request.occurred_at +
                             " is in the future; report an action when it has happened");
    }
    occurred_at = *parsed;
  }

  const ActionPlan plan = PlanAction(*rule, occurred_at, request.reference);
  NewActionRequest stored;
  stored.customer_id = request.customer_id;
  stored.idempotency_key = request.idempotency_key;
  stored.action = rule->action;
  stored.rule_id = rule->id;
  stored.reference = request.reference;
  stored.occurred_at_ms = occurred_at;
  stored.points = rule->points;
  for (const ActionSlot& slot : plan.slots) {
    stored.slots.push_back(NewActionRequest::Slot{slot.once_key, slot.description});
  }
  stored.period_label = plan.period_label;
  stored.next_period_starts_at_ms = plan.next_period_starts_at_ms;
  stored.limit_reached_message = LimitReachedMessage(*rule, plan);

  Result<RecordActionResult> recorded = storage_.RecordAction(stored, now);
  if (!recorded.ok()) return recorded.status();
  const ActionRequestRecord& r = recorded->request;
  if (recorded->replayed) {
    // A retry must be the same request: anything else is a client bug that returning the
    // other answer would hide.
    const bool same = r.action == request.action && r.reference == request.reference &&
                      (!request.occurred_at || r.occurred_at_ms == occurred_at);
    if (!same) {
      return InvalidArgument("Idempotency-Key '" + request.idempotency_key +
                             "' was already used for another request (action '" + r.action +
                             "', occurred_at " + FormatIso8601Millis(r.occurred_at_ms) +
                             (r.reference.empty() ? "" : ", reference '" + r.reference + "'") +
                             "); use a new key for a new action");
    }
  }
  return ActionResult{recorded->replayed, std::move(recorded->request)};
}

}  // namespace loyaltyd
