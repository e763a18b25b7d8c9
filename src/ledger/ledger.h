// Ledger: decides what a normalised event does to the books, and commits it.
//
// Decide() is pure: from a stored inbox event and what its normaliser made of it, it builds the
// EventOutcome — who the customer is, what order is recorded, which points are earned and why,
// and the event's final status with a reason a merchant can read. Commit() hands a batch of
// outcomes to Storage, which applies each atomically. Points are earned at most once per
// (order, rule) by a unique key in storage, so deciding the same event twice is harmless; the
// first-order bonus is offered on every paid order and a per-customer once key in storage keeps
// only the first one applied (docs/configuration.md says why "first" means first processed).
//
// Refunds: Decide turns each refund an event carries (Shopify's refunds/create, the refunds[]
// of any order payload; a cancellation or full refund as one "full" record) into the eligible
// amount it gives back, line by line with the earn rules' definition (no gift cards). It cannot
// know what the order earned or what earlier refunds took: storage records each refund once per
// (order, refund id) and writes the "clawback" entries, in the same transaction, from the
// cumulative amounts (formula at SqliteStorage::ApplyClawbacks, docs/storage.md). A refund that
// arrives before its order has earned is kept and applied when the order earns.
//
// Award timing (program.award): an order earns at its award point — the paid event, or with
// on = "fulfilled" the first payload that says it is fulfilled — and with hold_days the points
// are recorded as pending awards until received_at_ms + hold (EventOutcome::hold_until_ms),
// released later by Storage::ReleasePendingPoints. Every outcome carries the event's
// received_at_ms, the effective time of its points (their lots' age), so a replay of the inbox
// makes the same lots and the same holds.
//
// Identity: a customer is (shop, platform customer id); an order without a customer belongs to
// the guest keyed by its normalised email; a guest order with neither earns nothing and its
// event says so.
// Thread-safety: Decide is const and thread-safe; Commit is as thread-safe as Storage.
#pragma once

#include <vector>

#include "config/config.h"
#include "core/clock.h"
#include "core/model.h"
#include "storage/storage.h"

namespace loyaltyd {

class Ledger {
 public:
  Ledger(const Config& config, Storage& storage, const Clock& clock)
      : config_(config), storage_(storage), clock_(clock) {}

  EventOutcome Decide(const InboxEvent& event, const Result<NormalisedEvent>& normalised) const;

  Status Commit(const std::vector<EventOutcome>& outcomes) {
    return storage_.CommitEventOutcomes(outcomes, clock_.NowMillis());
  }

 private:
  EventOutcome DecideOrder(const InboxEvent& event, const OrderEvent& order_event) const;
  EventOutcome DecideCustomer(const InboxEvent& event, const CustomerEvent& customer_event) const;

  const Config& config_;
  Storage& storage_;
  const Clock& clock_;
};

}  // namespace loyaltyd
