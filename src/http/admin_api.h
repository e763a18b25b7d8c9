// AdminApi: the merchant's read API under /api/v1, behind the bearer token `admin.token`.
//
//   GET /api/v1/customers?email=E         customers with that email (case-insensitive)
//   GET /api/v1/customers/{id}            one customer with its points balance
//   GET /api/v1/customers/{id}/ledger     its ledger entries, newest first (?limit, ?before)
//   GET /api/v1/events?status=S           inbox events, newest first (?limit, ?before)
//   GET /api/v1/stats                     inbox counts per status (the processing backlog)
//
// Every answer is JSON; errors are {"error": "..."} with 400, 401, 404 or 503.
// Thread-safety: handlers run on the server's threads and only read Storage.
#pragma once

#include <string>

#include "http/server_tuning.h"
#include "storage/storage.h"

namespace loyaltyd {

class AdminApi {
 public:
  AdminApi(std::string admin_token, Storage& storage)
      : admin_token_(std::move(admin_token)), storage_(storage) {}

  // Adds the routes to `server`. AdminApi must outlive the server.
  void Register(httplib::Server& server);

 private:
  // True when the request carries the admin token; otherwise fills a 401 answer.
  bool Authorize(const httplib::Request& req, httplib::Response& res) const;

  void ListCustomers(const httplib::Request& req, httplib::Response& res);
  void GetCustomer(const httplib::Request& req, httplib::Response& res);
  void GetLedger(const httplib::Request& req, httplib::Response& res);
  void ListEvents(const httplib::Request& req, httplib::Response& res);
  void GetStats(const httplib::Request& req, httplib::Response& res);

  const std::string admin_token_;
  Storage& storage_;
};

}  // namespace loyaltyd
