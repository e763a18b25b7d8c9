// Ledger: decides what a normalised event does to the books, and commits it.
//
// Decide() is pure: from a stored inbox event and what its normaliser made of it, it builds the
// EventOutcome — who the customer is, what order is recorded, which points are earned and why,
// and the event's final status with a reason a merchant can read. Commit() hands a batch of
// outcomes to Storage, which applies each atomically. Points are earned at most once per
// (order, rule) by a unique key in storage, so deciding the same event twice is harmless.
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
