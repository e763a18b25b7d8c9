// OrderReconciler: finds the order changes whose webhooks never arrived and feeds them through
// the webhook inbox (docs/operations.md, "Reconciliation").
//
// Shopify retries a failing webhook for a few hours and may then delete the subscription;
// WooCommerce disables a webhook after a few failed deliveries. A run lists the shop's orders
// changed since a time (connector/order_source.h), page by page, and for each order compares
// the platform's state with what the ledger holds of it (Storage::GetOrderLedgerFacts):
//   - the ledger reflects the state when it knows the order and, as the state requires, has
//     applied its award point (paid under program.award.on "paid"; an earn or a pending award
//     under "fulfilled"), its cancellation ("full" refund) and each of its refunds: the order is
//     counted as already seen and nothing is fetched or fed;
//   - otherwise the order's webhook body is fetched and stored in the inbox exactly as a
//     delivery is (platform, shop, topic, body; the event processor, the ledger and their
//     idempotency are the webhooks'), under the dedupe key
//         <platform>|<shop>|<topic>|reconcile:<order id>@<updated_at>#<state digest>
//     so that a second run over the same state is a duplicate (counted as already seen), while
//     a new state of the same order (a refund, a cancellation) is fed again.
// A reconciled state and the original webhook of the same state may both be processed (the
// webhook arriving late, after the run): the ledger earns once per (order, rule), records each
// refund once per (order, refund id), and takes back the rest once ("full"), so nothing counts
// twice. The event's received_at is the time of the run: held points and lots count from when
// loyaltyd learned of the order.
//
// Platform errors: Unavailable (5xx, 429, Shopify THROTTLED, transport) is waited out — for
// the platform's Retry-After or cost-bucket time when it says, else 1 s doubling to 30 s — and
// retried up to 8 times per call; anything else stops the run. A run that stops reports how
// far it got (pages, orders, fed) and leaves what it fed fed: running again resumes, the
// orders already fed being duplicates. An order that cannot be read whole (Shopify: more line
// items than one query reads) is reported by id and skipped; the run goes on.
// Thread-safety: Run may be called from any thread, one run per reconciler at a time; storage,
// `append` and `sleep` must be safe from the calling thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "config/config.h"
#include "connector/order_source.h"
#include "core/clock.h"
#include "storage/storage.h"

namespace loyaltyd {

struct ReconcileReport {
  std::string shop_id;
  std::string platform;
  int64_t since_ms = 0;       // orders updated at or after this were listed
  int64_t started_at_ms = 0;  // when the run began (the periodic job's next high-water mark)
  int64_t pages = 0;
  int64_t orders_listed = 0;
  int64_t fed = 0;           // order states stored in the inbox, to be processed as webhooks
  int64_t already_seen = 0;  // the ledger reflects them, or an earlier run fed this state
  int64_t skipped = 0;       // could not be read whole; see problems
  std::vector<std::string> problems;  // one line per skipped order (at most 20)
  int64_t listed_up_to_ms = 0;        // the newest updated_at listed
  bool complete = false;              // every page was listed
  Status status;                      // why the run stopped before the end
  std::string error_detail;           // the platform's own error, when it gave one
};

class OrderReconciler {
 public:
  // Stores one event in the inbox: the daemon's GroupCommitter::Append (which wakes the
  // processor), or Storage::AppendToInbox from the command line.
  using Append = std::function<Result<InboxAppendOutcome>(NewInboxEvent)>;
  // Waits `ms` before a retry; false when the run should stop instead (shutdown).
  using Sleep = std::function<bool(int64_t ms)>;

  OrderReconciler(Storage& storage, const Clock& clock, Append append, Sleep sleep)
      : storage_(storage), clock_(clock), append_(std::move(append)), sleep_(std::move(sleep)) {}

  // One run over `shop`'s orders updated at or after since_ms. `config` decides the award
  // point (program.award.on).
  ReconcileReport Run(const Config& config, const ShopConfig& shop, OrderSource& source,
                      int64_t since_ms);

  // The inbox dedupe key of a reconciled order state (see the header).
  static std::string DedupeKey(const ShopConfig& shop, const PlatformOrder& order);
  // Whether the ledger already reflects the platform's state of the order.
  static bool LedgerReflects(const OrderLedgerFacts& ledger, const OrderState& state,
                             AwardOn award_on);

  static constexpr int kMaxAttempts = 8;

 private:
  Storage& storage_;
  const Clock& clock_;
  const Append append_;
  const Sleep sleep_;
};

}  // namespace loyaltyd
