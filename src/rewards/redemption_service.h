// RedemptionService: a customer spends points on a catalogue reward (program.rewards).
//
// Redeem() checks what can be checked without touching the books (the reward exists, the shop
// can issue it, the customer can receive it), generates the discount code, and hands Storage one
// durable transaction that deducts the points, records the redemption and queues the outbox job
// that creates the reward in the store. The answer comes back as soon as that transaction is
// committed: the redemption is then `pending`, and the outbox worker makes it `issued` (with
// the code) or `failed` (points returned).
//
// Idempotency: the client's Idempotency-Key is unique per customer. The same key again returns
// the same redemption and changes nothing; the same key for a different reward is an error, as
// in Stripe's API, because silently returning the other redemption would hide a client bug.
// Config: each Redeem works under one snapshot of the config (ConfigSource): the catalogue, the
// shop and the currency come from the same version, whatever reload happens meanwhile.
// PayOutCredit spends the customer's store credit (cashback) instead of points, through the same
// redemption and outbox path (docs/storage.md, credit_entries) and under one snapshot of the
// config like Redeem.
// Thread-safety: Redeem and PayOutCredit may be called from any thread; Storage serialises the
// writes.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "config/config.h"
#include "config/config_source.h"
#include "core/clock.h"
#include "core/status.h"
#include "storage/storage.h"

namespace loyaltyd {

struct RedeemResult {
  bool replayed = false;  // the idempotency key had been used: nothing changed
  RedemptionRecord redemption;
  int64_t balance_after = 0;  // the customer's balance once this redemption is taken
};

// A payout of store credit (PayOutCredit).
struct PayoutResult {
  enum class Outcome {
    kCreated,             // credit debited, payout pending in the outbox
    kReplayed,            // the idempotency key had been used for this payout: nothing changed
    kInsufficientCredit,  // nothing changed: the balance is below the amount
  };
  Outcome outcome = Outcome::kCreated;
  RedemptionRecord payout;           // the redemption that issues it (empty when insufficient)
  int64_t credit_balance_minor = 0;  // after the payout, or as it is
};

class RedemptionService {
 public:
  // `shop_can_issue(shop)` says whether the daemon can issue rewards in that shop (the shop's
  // config as in the snapshot of the redemption); `on_queued` wakes the outbox worker.
  // `storage` and `clock` must outlive the service.
  RedemptionService(std::shared_ptr<const ConfigSource> config, Storage& storage,
                    const Clock& clock, std::function<bool(const ShopConfig& shop)> shop_can_issue,
                    std::function<void()> on_queued)
      : config_(std::move(config)),
        storage_(storage),
        clock_(clock),
        shop_can_issue_(std::move(shop_can_issue)),
        on_queued_(std::move(on_queued)) {}
  // A config that never changes; `shop_can_issue(shop_id)` says whether the daemon has a
  // write-back client for that shop. All references must outlive the service.
  RedemptionService(const Config& config, Storage& storage, const Clock& clock,
                    std::function<bool(const std::string& shop_id)> shop_can_issue,
                    std::function<void()> on_queued)
      : RedemptionService(
            ConfigSource::Unowned(config), storage, clock,
            [can_issue = std::move(shop_can_issue)](const ShopConfig& shop) {
              return can_issue(shop.id);
            },
            std::move(on_queued)) {}

  // Errors: NotFound (no such customer), InvalidArgument (unknown reward, malformed key, key
  // reused for another reward), FailedPrecondition (not enough points, or the reward cannot be
  // issued to this customer or shop; the message says why and what to do), Unavailable.
  Result<RedeemResult> Redeem(int64_t customer_id, std::string_view reward_id,
                              std::string_view idempotency_key);
  // The same under a snapshot the caller already took (the admin API takes one per request).
  // Shared membership (rewards/member_shop.h): customer_id may name any account of a member,
  // whose points pay; `shop_id` is the store the reward is issued in, for the member's account
  // there (empty: the store of the account customer_id names). The idempotency key is the
  // member's. A shop the member has no account on is InvalidArgument.
  Result<RedeemResult> Redeem(const Config& config, int64_t customer_id, std::string_view reward_id,
                              std::string_view idempotency_key, std::string_view shop_id = {});

  // Pays `amount` (a decimal string in the program currency, e.g. "12.50") of the customer's
  // store credit (cashback) out into the store as platform store credit: one transaction
  // debits the credit, records the payout (a store_credit redemption paid with credit) and
  // queues the outbox job that issues it. Same idempotency contract as Redeem: the key again
  // for the same amount replays it; for another amount or a reward it is InvalidArgument.
  // Errors: NotFound, InvalidArgument (malformed amount or key), FailedPrecondition (guest,
  // shop cannot issue), Unavailable.
  Result<PayoutResult> PayOutCredit(int64_t customer_id, std::string_view amount,
                                    std::string_view idempotency_key);
  // The same under a snapshot the caller already took (the admin API takes one per request).
  // `shop_id` as for Redeem: the store the credit is paid into.
  Result<PayoutResult> PayOutCredit(const Config& config, int64_t customer_id,
                                    std::string_view amount, std::string_view idempotency_key,
                                    std::string_view shop_id = {});

  // A fresh code: the reward's prefix and 10 characters from an alphabet without look-alikes
  // (no 0/O, 1/I/L): 31^10, about 8 * 10^14 codes, so guessing one is hopeless.
  static std::string GenerateCode(std::string_view prefix);

 private:
  const std::shared_ptr<const ConfigSource> config_;
  Storage& storage_;
  const Clock& clock_;
  std::function<bool(const ShopConfig&)> shop_can_issue_;
  std::function<void()> on_queued_;
};

}  // namespace loyaltyd
