// PrivacyApi: the merchant's privacy routes under /api/v1 (issue 7; docs/api.md, "Privacy"),
// behind the same bearer token as AdminApi:
//
//   GET  /api/v1/privacy/requests          data requests and redactions, newest first
//                                          (?limit, ?before), without exports
//   GET  /api/v1/privacy/requests/{id}     one request, with its export (data requests)
//   GET  /api/v1/customers/{id}/export     everything held on the customer, made now
//   POST /api/v1/customers/{id}/redact     erase the customer's personal data, keep the books
//   GET  /api/v1/shops                     each configured shop and its state
//   POST /api/v1/shops/{id}/redact         remove all of the shop's data (runs in the background)
//   POST /api/v1/shops/{id}/deactivate     stop platform calls for the shop (data kept)
//   POST /api/v1/shops/{id}/activate       resume them (a reinstall)
//
// The webhook side (Shopify's compliance topics, WooCommerce's customer.deleted) goes through
// the inbox and the event processor; these routes let a merchant on either platform, or a
// WordPress privacy eraser/exporter, do the same by hand. Kept apart from AdminApi so that the
// privacy feature is one file pair.
// Thread-safety: handlers run on the server's threads; writes go through Storage, which
// serialises them.
#pragma once

#include <functional>
#include <memory>

#include "config/config_source.h"
#include "core/clock.h"
#include "http/route_table.h"
#include "http/server_tuning.h"
#include "storage/storage.h"

namespace loyaltyd {

class PrivacyApi {
 public:
  // `wake_processor` is called when privacy work was queued (a shop redaction, a body scrub):
  // the event processor runs it. All references must outlive the API.
  PrivacyApi(std::shared_ptr<const ConfigSource> config, Storage& storage, const Clock& clock,
             std::function<void()> wake_processor)
      : config_(std::move(config)),
        storage_(storage),
        clock_(clock),
        wake_processor_(std::move(wake_processor)) {}

  // Adds the routes to `server` (through the RouteTable, which records each one). PrivacyApi
  // must outlive the server.
  void Register(RouteTable& server);

 private:
  void ListRequests(const httplib::Request& req, httplib::Response& res);
  void GetRequest(const httplib::Request& req, httplib::Response& res);
  void ExportCustomer(const httplib::Request& req, httplib::Response& res);
  void RedactCustomer(const httplib::Request& req, httplib::Response& res);
  void ListShops(const Config& config, httplib::Response& res);
  void ShopAction(const Config& config, const httplib::Request& req, httplib::Response& res,
                  PrivacyAction::Kind kind);

  const std::shared_ptr<const ConfigSource> config_;
  Storage& storage_;
  const Clock& clock_;
  std::function<void()> wake_processor_;
};

}  // namespace loyaltyd
