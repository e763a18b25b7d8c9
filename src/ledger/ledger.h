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
// VIP tiers: an order's earn depends on the customer's tier, and the tier on every earlier
// event of that customer — possibly earlier in the same processing batch, not yet committed.
// Decide therefore stays pure and computes the earn for every level (points_by_tier); storage,
// which applies a batch's events in order inside one transaction, evaluates the tier as of the
// event's received_at_ms with all earlier events applied and posts the matching changes, then
// evaluates again after the event's own changes and records a tier change there
// (docs/configuration.md, "VIP tiers"). The alternative — reading the tier here and committing
// the batch early whenever a customer comes up twice — would make Decide depend on storage
// reads and batch boundaries. With a hold, the changes picked for the tier are the ones held.
//
// Award timing (program.award): an order earns at its award point — the paid event, or with
// on = "fulfilled" the first payload that says it is fulfilled — and with hold_days the points
// are recorded as pending awards until received_at_ms + hold (EventOutcome::hold_until_ms),
// released later by Storage::ReleasePendingPoints. Every outcome carries the event's
// received_at_ms, the effective time of its points (their lots' age), so a replay of the inbox
// makes the same lots and the same holds.
//
// Referrals: every order and customer event leaves the customer's identity keys (canonical
// email, phone, shipping address) for the self-referral guards; a paid order that is neither
// cancelled nor fully refunded also carries its attribution facts (its discount codes, the ref
// codes in Shopify's landing_site, note attributes or WooCommerce order meta) and storage
// attributes and judges it in the event's transaction (sqlite_referrals.cc). The paid event is
// the referral's trigger whatever program.award says: the advocate's hold is program.referrals'.
//
// Identity: a customer is (shop, platform customer id); an order without a customer belongs to
// the guest keyed by its normalised email; a guest order with neither earns nothing and its
// event says so.
// Thread-safety: Decide is const and thread-safe; Commit is as thread-safe as Storage.
#pragma once

#include <memory>
#include <vector>

#include "config/config.h"
#include "core/clock.h"
#include "core/model.h"
#include "storage/storage.h"

namespace loyaltyd {

class Ledger {
 public:
  Ledger(const Config& config, Storage& storage, const Clock& clock);

  EventOutcome Decide(const InboxEvent& event, const Result<NormalisedEvent>& normalised) const;

  Status Commit(const std::vector<EventOutcome>& outcomes) {
    return storage_.CommitEventOutcomes(outcomes, clock_.NowMillis());
  }

 private:
  EventOutcome DecideOrder(const InboxEvent& event, const OrderEvent& order_event) const;
  EventOutcome DecideCustomer(const InboxEvent& event, const CustomerEvent& customer_event) const;
  // Privacy topics (issue 7): the outcome carries the PrivacyAction storage applies.
  EventOutcome DecidePrivacy(const InboxEvent& event, const PrivacyEvent& privacy) const;

  // Sets what storage needs to evaluate the customer's tier with the event (VIP tiers).
  void AddTierInputs(EventOutcome& outcome) const;
  // Referrals: the customer's identity keys, and a paid order's attribution facts.
  void AddReferralInputs(EventOutcome& outcome, const InboxEvent& event, const Order& order,
                         bool paid_order) const;

  const Config& config_;
  Storage& storage_;
  const Clock& clock_;
  std::shared_ptr<const TierPolicy> tiers_;          // null without program.tiers
  std::shared_ptr<const ReferralPolicy> referrals_;  // null without program.referrals
};

}  // namespace loyaltyd
