// AdminApi: the merchant's API under /api/v1, behind the bearer token `admin.token`.
//
//   GET  /api/v1/customers?email=E         customers with that email (case-insensitive)
//   GET  /api/v1/customers/{id}            one customer with its points balance
//   GET  /api/v1/customers/{id}/ledger     its ledger entries, newest first (?limit, ?before)
//   POST /api/v1/customers/{id}/redemptions  {"reward": ID} + Idempotency-Key: spend points
//   GET  /api/v1/customers/{id}/redemptions  its redemptions, newest first (?limit, ?before)
//   GET  /api/v1/redemptions/{id}           one redemption (poll it until issued or failed)
//   GET  /api/v1/rewards                    the rewards catalogue
//   GET  /api/v1/jobs?status=S              outbox jobs, newest first (?limit, ?before)
//   POST /api/v1/jobs/{id}/retry            put a given-up job back in the queue
//   POST /api/v1/customers/{id}/actions     {"action": NAME, ...} + Idempotency-Key: earn
//                                           points for a non-purchase action
//   GET  /api/v1/customers/{id}/referral    the customer's referral code and share link
//   GET  /api/v1/customers/{id}/referrals   the friends they referred (?limit, ?before, ?format)
//   POST /api/v1/referrals                  a friend names their referrer (self-identification)
//   GET  /api/v1/referrals/{id}             one referral
//   POST /api/v1/referrals/clicks           {"code": CODE}: count a click on a share link
//   GET  /api/v1/reports/referrals          per referrer: clicks, conversions, rewards,
//                                           rejections by reason (?format=csv for CSV)
//   GET  /api/v1/reports/customers          per customer: tier, points, credit, referrals, last
//                                           order (?limit, ?before; ?format=csv streams all)
//   GET  /api/v1/reports/liability          outstanding points and their value, expiring soon,
//                                           earned/redeemed/expired per month (?from, ?to)
//   GET  /api/v1/reports/tiers              customers per tier now, movement per month
//   GET  /api/v1/events?status=S            inbox events, newest first (?limit, ?before)
//   GET  /api/v1/stats                      inbox counts per status (the processing backlog)
//   Customer tools (admin_customers.cc; docs/api.md, "Customers" and "Storefront"):
//   GET  /api/v1/customers?email=&q=&tier=  search, id order (?limit, ?after, ?before)
//   POST /api/v1/customers/{id}/adjustments  manual points adjustment, who and why
//   POST /api/v1/imports/balances           CSV of opening balances (text/csv)
//   POST /api/v1/customers/{id}/token       a signed read-only customer token
//   GET  /api/v1/me, /me/ledger, /me/rewards  with a customer token, not the admin token
//
// Every answer is JSON; errors are {"error": "..."} with 400, 401, 404, 409, 422 or 503.
// Config: each request takes one snapshot of the config (ConfigSource) before it checks the
// token, and handlers that read the config get that snapshot; a reload (SIGHUP) that rotates
// admin.token or edits the catalogue applies from the next request on.
// Thread-safety: handlers run on the server's threads; writes go through RedemptionService and
// Storage, which serialise them.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "actions/action_service.h"
#include "config/config.h"
#include "config/config_source.h"
#include "core/clock.h"
#include "http/route_table.h"
#include "http/server_tuning.h"
#include "referrals/referral_service.h"
#include "rewards/redemption_service.h"
#include "storage/storage.h"

namespace loyaltyd {

class AdminApi {
 public:
  // `wake_outbox` is called when a job is put back in the queue. All references must outlive
  // the API.
  AdminApi(std::shared_ptr<const ConfigSource> config, Storage& storage, const Clock& clock,
           RedemptionService& redemptions, std::function<void()> wake_outbox,
           ActionService& actions, ReferralService& referrals)
      : config_(std::move(config)),
        storage_(storage),
        clock_(clock),
        redemptions_(redemptions),
        wake_outbox_(std::move(wake_outbox)),
        actions_(actions),
        referrals_(referrals) {}
  // A config that never changes; it must outlive the API.
  AdminApi(const Config& config, Storage& storage, const Clock& clock,
           RedemptionService& redemptions, std::function<void()> wake_outbox,
           ActionService& actions, ReferralService& referrals)
      : AdminApi(ConfigSource::Unowned(config), storage, clock, redemptions, std::move(wake_outbox),
                 actions, referrals) {}

  // Adds the routes to `server` (through the RouteTable, which records each one). AdminApi
  // must outlive the server.
  void Register(RouteTable& server);

 private:
  // True when the request carries the admin token of `config`; otherwise fills a 401 answer.
  bool Authorize(const Config& config, const httplib::Request& req, httplib::Response& res) const;
  // The customer named by the route's first capture; nullopt with a 404 or 503 filled in.
  std::optional<CustomerRecord> FindCustomer(const httplib::Request& req, httplib::Response& res);
  // One snapshot for the several reads of a page (Storage::PinReadSnapshot), so that its
  // balance, entries and lots agree; null with a 503 filled in. Hold it for the handler.
  std::unique_ptr<ReadSnapshot> PinReads(httplib::Response& res);

  // Handlers that read the config take the request's snapshot first.
  void GetCustomer(const Config& config, const httplib::Request& req, httplib::Response& res);
  void GetLedger(const httplib::Request& req, httplib::Response& res);
  void Redeem(const Config& config, const httplib::Request& req, httplib::Response& res);
  void ListRedemptions(const httplib::Request& req, httplib::Response& res);
  void GetRedemption(const httplib::Request& req, httplib::Response& res);
  void ListRewards(const Config& config, const httplib::Request& req, httplib::Response& res);
  void ListJobs(const httplib::Request& req, httplib::Response& res);
  void RetryJob(const httplib::Request& req, httplib::Response& res);
  void ListEvents(const httplib::Request& req, httplib::Response& res);
  void GetStats(const httplib::Request& req, httplib::Response& res);
  // Point lots and pending awards.
  void ListLots(const httplib::Request& req, httplib::Response& res);
  void RecordAction(const Config& config, const httplib::Request& req, httplib::Response& res);
  // Store credit (cashback): balance and ledger, and payouts into the store.
  void GetCredit(const Config& config, const httplib::Request& req, httplib::Response& res);
  void PayOutCredit(const Config& config, const httplib::Request& req, httplib::Response& res);
  // Referrals (admin_referrals.cc).
  void GetReferralLink(const Config& config, const httplib::Request& req, httplib::Response& res);
  void ListReferrals(const Config& config, const httplib::Request& req, httplib::Response& res);
  void IdentifyReferral(const Config& config, const httplib::Request& req, httplib::Response& res);
  void GetReferral(const Config& config, const httplib::Request& req, httplib::Response& res);
  void RecordReferralClick(const Config& config, const httplib::Request& req,
                           httplib::Response& res);
  void ReportReferrals(const Config& config, const httplib::Request& req, httplib::Response& res);
  // Customer tools (admin_customers.cc, issue 7): search, the detail's extras, adjustments,
  // opening-balance imports, storefront tokens and the customer-facing /api/v1/me routes,
  // which take a customer token instead of the admin token (RegisterStorefront).
  void SearchCustomers(const Config& config, const httplib::Request& req, httplib::Response& res);
  // Adds lots, referral code and links to GET /api/v1/customers/{id}; false with an answer
  // filled in when storage fails.
  bool AddCustomerDetail(const CustomerRecord& customer, nlohmann::json& out,
                         httplib::Response& res);
  // Shared membership (admin_members.cc): adds "member" (the member whose books the customer
  // uses, and its account on each store) to GET /api/v1/customers/{id}; false with an answer
  // filled in when storage fails.
  bool AddMemberDetail(const CustomerRecord& customer, nlohmann::json& out, httplib::Response& res);
  void CreateAdjustment(const Config& config, const httplib::Request& req, httplib::Response& res);
  void ImportBalances(const Config& config, const httplib::Request& req, httplib::Response& res);
  void IssueCustomerToken(const Config& config, const httplib::Request& req,
                          httplib::Response& res);
  void RegisterStorefront(RouteTable& server);
  // Events out (admin_events_out.cc): deliveries of events to the merchant's endpoints.
  void ListEventDeliveries(const httplib::Request& req, httplib::Response& res);
  // Reports (admin_reports.cc).
  void ReportCustomers(const Config& config, const httplib::Request& req, httplib::Response& res);
  void ReportLiability(const Config& config, const httplib::Request& req, httplib::Response& res);
  void ReportTiers(const Config& config, const httplib::Request& req, httplib::Response& res);

  const std::shared_ptr<const ConfigSource> config_;
  Storage& storage_;
  const Clock& clock_;
  RedemptionService& redemptions_;
  std::function<void()> wake_outbox_;
  ActionService& actions_;
  ReferralService& referrals_;
};

// True when `authorization` (the Authorization header's value) is "Bearer <token>". The
// comparison is of HMAC-SHA256 digests of both, with CRYPTO_memcmp: its time depends neither on
// where the presented token differs from the real one nor on either's length. An empty token
// never matches. Exposed for tests.
bool BearerTokenMatches(std::string_view authorization, std::string_view token);

}  // namespace loyaltyd
