// A fake WooCommerce REST API (wc/v3): a real HTTP server on 127.0.0.1 that the real
// WooCommerceRestClient (and the loyaltyd-fake-store demo) talks to over loopback.
//
// Faithful to WooCommerce where loyaltyd depends on it (plugins/woocommerce/includes/rest-api/
// Controllers/Version2/class-wc-rest-coupons-v2-controller.php, Version3/..., and WordPress's
// REST argument validation, wp-includes/rest-api.php):
//   - Consumer key and secret as HTTP basic auth; a wrong key is 401
//     woocommerce_rest_authentication_error, none is 401 woocommerce_rest_cannot_create/_view.
//   - POST /wp-json/wc/v3/coupons validates every known field's type and enum the way WordPress
//     does (400 rest_invalid_param with per-field messages; a missing code is
//     rest_missing_callback_param). Unknown fields are ignored, as WordPress ignores
//     unregistered arguments; they are recorded so tests can see a client never sends them.
//     Codes are stored lower-cased; a duplicate is 400 woocommerce_rest_coupon_code_already_exists
//     with data.resource_id.
//   - GET /wp-json/wc/v3/coupons?code=C (v3 filters by code), GET /coupons/{id}.
//   - GET and PUT /wp-json/wc/v3/customers/{id} (meta_data merged by key).
//   - GET /wp-json/wc/v3/orders: the orders tests seed (AddOrder, REST order resources), with
//     modified_after, dates_are_gmt, per_page, page, orderby and order validated and applied as
//     WooCommerce does, and the X-WP-Total / X-WP-TotalPages headers.
//   - Errors are WordPress's {"code", "message", "data": {"status"}}.
// WooCommerce's REST API has no built-in rate limit (hosts and WAFs add one): 429s come only
// from fault injection.
// Fault injection (C++ API, or POST /_fake/woocommerce/fault): the next N API requests answer
// 500, 429 with Retry-After, sleep before answering, or drop the connection before or after
// applying the request.
// Thread-safety: every public method may be called from any thread while the server runs.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace httplib {
class Server;
class Request;
class Response;
}  // namespace httplib

namespace loyaltyd::fakes {

struct FakeWooCommerceOptions {
  std::string consumer_key = "ck_fake0123456789abcdef0123456789abcdef01";
  std::string consumer_secret = "cs_fake0123456789abcdef0123456789abcdef01";
};

enum class FakeWooFault { kHttp500, kHttp429, kSlow, kDropBeforeApply, kDropAfterApply };

class FakeWooCommerceRest {
 public:
  explicit FakeWooCommerceRest(FakeWooCommerceOptions options = {});
  ~FakeWooCommerceRest();

  FakeWooCommerceRest(const FakeWooCommerceRest&) = delete;
  FakeWooCommerceRest& operator=(const FakeWooCommerceRest&) = delete;

  // Binds 127.0.0.1:port (0: a free port) and serves on its own thread.
  bool Start(int port = 0);
  void Stop();
  int port() const { return port_; }
  std::string base_url() const;
  const FakeWooCommerceOptions& options() const { return options_; }

  void AddCustomer(int64_t id, const std::string& email);
  // Adds or replaces (by id) an order that GET /orders lists: a REST v3 order resource.
  void AddOrder(const nlohmann::json& order);
  void InjectFault(FakeWooFault fault, int count, int64_t param = 0);  // seconds or ms

  // Coupons as stored (WooCommerce's response shape), oldest first.
  std::vector<nlohmann::json> coupons() const;
  // The coupon with this code (case-insensitive), or a null json.
  nlohmann::json coupon(const std::string& code) const;
  nlohmann::json customer(int64_t id) const;  // null json when absent
  // Top-level fields sent that the coupon schema does not know (WordPress ignores them).
  std::set<std::string> ignored_fields() const;
  int api_requests() const;
  int order_listings() const;  // GET /orders answered (pages)

 private:
  struct PendingFault {
    FakeWooFault fault;
    int remaining;
    int64_t param;
  };

  // Applies a fault or checks auth; false when the request was answered already.
  bool Admit(const httplib::Request& req, httplib::Response& res, bool is_write,
             std::optional<PendingFault>& fault);
  void CreateCoupon(const httplib::Request& req, httplib::Response& res);
  void ListCoupons(const httplib::Request& req, httplib::Response& res);
  void GetCoupon(const httplib::Request& req, httplib::Response& res);
  void GetCustomer(const httplib::Request& req, httplib::Response& res);
  void UpdateCustomer(const httplib::Request& req, httplib::Response& res);
  void ListOrders(const httplib::Request& req, httplib::Response& res);
  void Control(const httplib::Request& req, httplib::Response& res);

  const FakeWooCommerceOptions options_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;

  mutable std::mutex mu_;
  std::vector<nlohmann::json> coupons_;          // GUARDED_BY(mu_)
  std::map<int64_t, nlohmann::json> customers_;  // GUARDED_BY(mu_)
  std::set<std::string> ignored_fields_;         // GUARDED_BY(mu_)
  std::vector<PendingFault> faults_;             // GUARDED_BY(mu_)
  int64_t next_id_ = 1001;                       // GUARDED_BY(mu_)
  int api_requests_ = 0;                         // GUARDED_BY(mu_)
  std::map<int64_t, nlohmann::json> orders_;     // GUARDED_BY(mu_)
  int order_listings_ = 0;                       // GUARDED_BY(mu_)
};

}  // namespace loyaltyd::fakes
