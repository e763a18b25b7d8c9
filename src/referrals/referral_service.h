// ReferralService: the referral program's requests (docs/api.md, "Referrals").
//
//   * share links: a customer's referral code (made on first use, then stable) and the link
//     https://STORE/?ref=CODE with their shop's store_url;
//   * self-identification: a friend names their referrer by code or email (a signup form's
//     POST /api/v1/referrals), recorded with the guards storage applies in the same
//     transaction, and the friend's welcome reward queued for the store on request;
//   * clicks on share links, counted per referrer and day for the report;
//   * reads: a referrer's referrals, and the report per referrer.
// Attribution of orders does not pass through here: the ledger hands a paid order's facts to
// storage with the event (ledger.h, "Referrals").
// Thread-safety: as thread-safe as Storage; each call takes one config snapshot.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/config_source.h"
#include "core/clock.h"
#include "storage/storage.h"

namespace loyaltyd {

struct ShareLink {
  int64_t customer_id = 0;
  std::string shop_id;
  std::string code;
  std::string url;  // <store_url>/?<parameter>=<code>
};

struct IdentifyRequest {
  // Optional: where the friend signs up (default the referrer's shop); with referrer_email, it
  // also picks the referrer among several customers of that email (any store's otherwise).
  std::string shop_id;
  std::string friend_email;    // required
  std::string referrer_code;   // one of the two
  std::string referrer_email;  //
  // Issue program.referrals.friend_reward to the friend. Unset: when the program has one.
  std::optional<bool> welcome_reward;
};

class ReferralService {
 public:
  ReferralService(std::shared_ptr<const ConfigSource> config, Storage& storage, const Clock& clock)
      : config_(std::move(config)), storage_(storage), clock_(clock) {}

  // FailedPrecondition when the program has no referrals; NotFound for an unknown customer.
  Result<ShareLink> GetShareLink(const Config& config, int64_t customer_id);
  // InvalidArgument for a bad request (say which field and why), NotFound for an unknown
  // referrer, FailedPrecondition without a referral program.
  Result<CreateReferralResult> Identify(const Config& config, const IdentifyRequest& request);
  // NotFound for an unknown code.
  Status RecordClick(const Config& config, const std::string& code);
  // Converts or voids the referrals whose hold has ended (the points scheduler's hourly run,
  // `loyaltyd release-pending`). Nothing to do without a referral program.
  Result<ReferralRunResult> ReleaseDue(int64_t now_ms);

 private:
  const std::shared_ptr<const ConfigSource> config_;
  Storage& storage_;
  const Clock& clock_;
};

}  // namespace loyaltyd
