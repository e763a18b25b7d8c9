#include "fakes/fake_woocommerce_rest.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <regex>
#include <set>

#define CPPHTTPLIB_OPENSSL_SUPPORT 1
#include <httplib.h>

namespace loyaltyd::fakes {
namespace {

using nlohmann::json;

constexpr const char* kApi = "/wp-json/wc/v3";

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// WordPress's error body (WP_Error through rest_convert_error_to_response).
void WpError(httplib::Response& res, int status, const std::string& code,
             const std::string& message, json data = json::object()) {
  data["status"] = status;
  res.status = status;
  res.set_content(json{{"code", code}, {"message", message}, {"data", data}}.dump(),
                  "application/json");
}

void DropWooConnection(httplib::Response& res) {
  res.status = 200;
  res.set_content_provider(64, "application/json",
                           [](size_t, size_t, httplib::DataSink&) { return false; });
}

std::string NowWoo() {
  const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return buf;
}

// The writable coupon fields and their schema types (class-wc-rest-coupons-v2-controller.php,
// get_item_schema). "string|null" admits null.
const std::map<std::string, std::string>& CouponSchema() {
  static const std::map<std::string, std::string> kSchema = {
      {"code", "string"},
      {"amount", "string"},
      {"discount_type", "string"},
      {"description", "string"},
      {"date_expires", "string|null"},
      {"date_expires_gmt", "string|null"},
      {"individual_use", "boolean"},
      {"product_ids", "array<integer>"},
      {"excluded_product_ids", "array<integer>"},
      {"usage_limit", "integer|null"},
      {"usage_limit_per_user", "integer|null"},
      {"limit_usage_to_x_items", "integer|null"},
      {"free_shipping", "boolean"},
      {"product_categories", "array<integer>"},
      {"excluded_product_categories", "array<integer>"},
      {"exclude_sale_items", "boolean"},
      {"minimum_amount", "string"},
      {"maximum_amount", "string"},
      {"email_restrictions", "array<string>"},
      {"meta_data", "array<object>"},
  };
  return kSchema;
}

bool MatchesType(const json& v, const std::string& type) {
  if (type.size() > 5 && type.compare(type.size() - 5, 5, "|null") == 0) {
    return v.is_null() || MatchesType(v, type.substr(0, type.size() - 5));
  }
  if (type == "string") return v.is_string();
  if (type == "boolean") return v.is_boolean();
  if (type == "integer") return v.is_number_integer();
  if (type.rfind("array<", 0) == 0) {
    if (!v.is_array()) return false;
    const std::string item = type.substr(6, type.size() - 7);
    return std::all_of(v.begin(), v.end(), [&](const json& e) {
      return item == "object" ? e.is_object() : MatchesType(e, item);
    });
  }
  return false;
}

std::string TypeForMessage(const std::string& type) {
  if (type.rfind("array<", 0) == 0) return "array";
  std::string t = type;
  const size_t bar = t.find('|');
  if (bar != std::string::npos) t = t.substr(0, bar) + ",null";
  return t;
}

bool IsDecimal(const std::string& s) {
  static const std::regex kDecimal(R"(^[0-9]+(\.[0-9]+)?$)");
  return std::regex_match(s, kDecimal);
}

bool IsWooDate(const std::string& s) {
  static const std::regex kDate(R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})?$)");
  return std::regex_match(s, kDate);
}

}  // namespace

FakeWooCommerceRest::FakeWooCommerceRest(FakeWooCommerceOptions options)
    : options_(std::move(options)), server_(std::make_unique<httplib::Server>()) {
  const std::string api = kApi;
  server_->Post(api + "/coupons", [this](const httplib::Request& req, httplib::Response& res) {
    CreateCoupon(req, res);
  });
  server_->Get(api + "/coupons", [this](const httplib::Request& req, httplib::Response& res) {
    ListCoupons(req, res);
  });
  server_->Get(api + R"(/coupons/(\d+))", [this](const httplib::Request& req,
                                                 httplib::Response& res) { GetCoupon(req, res); });
  server_->Get(
      api + R"(/customers/(\d+))",
      [this](const httplib::Request& req, httplib::Response& res) { GetCustomer(req, res); });
  server_->Put(
      api + R"(/customers/(\d+))",
      [this](const httplib::Request& req, httplib::Response& res) { UpdateCustomer(req, res); });
  server_->Get(api + "/orders", [this](const httplib::Request& req, httplib::Response& res) {
    ListOrders(req, res);
  });
  server_->Post(R"(/_fake/woocommerce/(\w+))",
                [this](const httplib::Request& req, httplib::Response& res) { Control(req, res); });
}

FakeWooCommerceRest::~FakeWooCommerceRest() { Stop(); }

bool FakeWooCommerceRest::Start(int port) {
  if (port == 0) {
    port_ = server_->bind_to_any_port("127.0.0.1");
    if (port_ <= 0) return false;
  } else {
    if (!server_->bind_to_port("127.0.0.1", port)) return false;
    port_ = port;
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  for (int i = 0; i < 2000 && !server_->is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return server_->is_running();
}

void FakeWooCommerceRest::Stop() {
  if (!thread_.joinable()) return;
  server_->stop();
  thread_.join();
}

std::string FakeWooCommerceRest::base_url() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

void FakeWooCommerceRest::AddCustomer(int64_t id, const std::string& email) {
  std::lock_guard<std::mutex> lock(mu_);
  customers_[id] = json{{"id", id}, {"email", email}, {"meta_data", json::array()}};
}

void FakeWooCommerceRest::AddOrder(const json& order) {
  std::lock_guard<std::mutex> lock(mu_);
  orders_[order.at("id").get<int64_t>()] = order;
}

int FakeWooCommerceRest::order_listings() const {
  std::lock_guard<std::mutex> lock(mu_);
  return order_listings_;
}

void FakeWooCommerceRest::InjectFault(FakeWooFault fault, int count, int64_t param) {
  std::lock_guard<std::mutex> lock(mu_);
  faults_.push_back({fault, count, param});
}

std::vector<json> FakeWooCommerceRest::coupons() const {
  std::lock_guard<std::mutex> lock(mu_);
  return coupons_;
}

json FakeWooCommerceRest::coupon(const std::string& code) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const json& c : coupons_) {
    if (c["code"] == Lower(code)) return c;
  }
  return nullptr;
}

json FakeWooCommerceRest::customer(int64_t id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = customers_.find(id);
  return it == customers_.end() ? json(nullptr) : it->second;
}

std::set<std::string> FakeWooCommerceRest::ignored_fields() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ignored_fields_;
}

int FakeWooCommerceRest::api_requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return api_requests_;
}

bool FakeWooCommerceRest::Admit(const httplib::Request& req, httplib::Response& res, bool is_write,
                                std::optional<PendingFault>& fault) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++api_requests_;
    if (!faults_.empty()) {
      fault = faults_.front();
      if (--faults_.front().remaining <= 0) faults_.erase(faults_.begin());
    }
  }
  if (fault) {
    switch (fault->fault) {
      case FakeWooFault::kHttp500:
        WpError(res, 500, "internal_server_error",
                "There has been a critical error on this website.");
        return false;
      case FakeWooFault::kHttp429:
        res.set_header("Retry-After", std::to_string(fault->param));
        WpError(res, 429, "too_many_requests", "Too many requests.");
        return false;
      case FakeWooFault::kSlow:
        std::this_thread::sleep_for(std::chrono::milliseconds(fault->param));
        break;
      case FakeWooFault::kDropBeforeApply:
        DropWooConnection(res);
        return false;
      case FakeWooFault::kDropAfterApply:
        break;
    }
  }
  // Basic auth: "Basic base64(key:secret)". WooCommerce answers a wrong key or secret with
  // woocommerce_rest_authentication_error and no credentials at all with a permission error.
  const std::string auth = req.get_header_value("Authorization");
  if (auth.empty()) {
    WpError(res, 401, is_write ? "woocommerce_rest_cannot_create" : "woocommerce_rest_cannot_view",
            is_write ? "Sorry, you are not allowed to create resources."
                     : "Sorry, you cannot list resources.");
    return false;
  }
  const auto expected =
      httplib::make_basic_authentication_header(options_.consumer_key, options_.consumer_secret);
  if (auth != expected.second) {
    WpError(res, 401, "woocommerce_rest_authentication_error", "Consumer key is invalid.");
    return false;
  }
  return true;
}

void FakeWooCommerceRest::CreateCoupon(const httplib::Request& req, httplib::Response& res) {
  std::optional<PendingFault> fault;
  if (!Admit(req, res, /*is_write=*/true, fault)) return;
  const json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) {
    WpError(res, 400, "rest_invalid_json", "Invalid JSON body passed.");
    return;
  }
  // WordPress validates each registered argument, reports them all, and ignores the rest.
  json params = json::object();
  std::vector<std::string> ignored;
  for (const auto& [key, value] : body.items()) {
    auto it = CouponSchema().find(key);
    if (it == CouponSchema().end()) {
      ignored.push_back(key);
      continue;
    }
    if (!MatchesType(value, it->second)) {
      params[key] = key + " is not of type " + TypeForMessage(it->second) + ".";
    } else if (key == "discount_type" && value != "percent" && value != "fixed_cart" &&
               value != "fixed_product") {
      params[key] = "discount_type is not one of percent, fixed_cart, and fixed_product.";
    } else if ((key == "date_expires" || key == "date_expires_gmt") && value.is_string() &&
               !IsWooDate(value.get<std::string>())) {
      params[key] = "Invalid date.";
    }
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    ignored_fields_.insert(ignored.begin(), ignored.end());
  }
  if (!params.empty()) {
    std::string names;
    for (const auto& [key, value] : params.items()) {
      (void)value;
      names += (names.empty() ? "" : ", ") + key;
    }
    WpError(res, 400, "rest_invalid_param", "Invalid parameter(s): " + names,
            json{{"params", params}});
    return;
  }
  if (!body.contains("code")) {
    WpError(res, 400, "rest_missing_callback_param", "Missing parameter(s): code",
            json{{"params", json::array({"code"})}});
    return;
  }
  const std::string code = Lower(body["code"].get<std::string>());
  for (const char* money : {"amount", "minimum_amount", "maximum_amount"}) {
    // WooCommerce stores wc_format_decimal() of these; a non-number becomes "" silently. The
    // fake is stricter so that a client bug shows.
    if (body.contains(money) && !body[money].get<std::string>().empty() &&
        !IsDecimal(body[money].get<std::string>())) {
      WpError(res, 400, "rest_invalid_param", std::string("Invalid parameter(s): ") + money,
              json{{"params", {{money, std::string(money) + " is not a decimal number."}}}});
      return;
    }
  }

  json created;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const json& c : coupons_) {
      if (c["code"] == code) {
        WpError(res, 400, "woocommerce_rest_coupon_code_already_exists",
                "The coupon code already exists", json{{"resource_id", c["id"]}});
        return;
      }
    }
    const std::string now = NowWoo();
    created = json{
        {"id", next_id_++},
        {"code", code},
        {"amount", body.value("amount", std::string("0"))},
        {"status", "publish"},
        {"date_created", now},
        {"date_created_gmt", now},
        {"date_modified", now},
        {"date_modified_gmt", now},
        {"discount_type", body.value("discount_type", std::string("fixed_cart"))},
        {"description", body.value("description", std::string())},
        {"date_expires", body.contains("date_expires_gmt")
                             ? body["date_expires_gmt"]
                             : body.value("date_expires", json(nullptr))},
        {"date_expires_gmt", body.contains("date_expires_gmt")
                                 ? body["date_expires_gmt"]
                                 : body.value("date_expires", json(nullptr))},
        {"usage_count", 0},
        {"individual_use", body.value("individual_use", false)},
        {"product_ids", body.value("product_ids", json::array())},
        {"excluded_product_ids", body.value("excluded_product_ids", json::array())},
        {"usage_limit", body.value("usage_limit", json(nullptr))},
        {"usage_limit_per_user", body.value("usage_limit_per_user", json(nullptr))},
        {"limit_usage_to_x_items", body.value("limit_usage_to_x_items", json(nullptr))},
        {"free_shipping", body.value("free_shipping", false)},
        {"product_categories", body.value("product_categories", json::array())},
        {"excluded_product_categories", body.value("excluded_product_categories", json::array())},
        {"exclude_sale_items", body.value("exclude_sale_items", false)},
        {"minimum_amount", body.value("minimum_amount", std::string("0.00"))},
        {"maximum_amount", body.value("maximum_amount", std::string("0.00"))},
        {"email_restrictions", body.value("email_restrictions", json::array())},
        {"used_by", json::array()},
        {"meta_data", json::array()}};
    int64_t meta_id = 1;
    for (const json& meta : body.value("meta_data", json::array())) {
      created["meta_data"].push_back(json{{"id", meta_id++},
                                          {"key", meta.value("key", "")},
                                          {"value", meta.value("value", json())}});
    }
    coupons_.push_back(created);
  }
  if (fault && fault->fault == FakeWooFault::kDropAfterApply) return DropWooConnection(res);
  res.status = 201;
  res.set_content(created.dump(), "application/json");
}

void FakeWooCommerceRest::ListCoupons(const httplib::Request& req, httplib::Response& res) {
  std::optional<PendingFault> fault;
  if (!Admit(req, res, /*is_write=*/false, fault)) return;
  json out = json::array();
  {
    std::lock_guard<std::mutex> lock(mu_);
    const std::string code = req.has_param("code") ? Lower(req.get_param_value("code")) : "";
    for (const json& c : coupons_) {
      if (code.empty() || c["code"] == code) out.push_back(c);
    }
  }
  if (fault && fault->fault == FakeWooFault::kDropAfterApply) return DropWooConnection(res);
  res.status = 200;
  res.set_header("X-WP-Total", std::to_string(out.size()));
  res.set_content(out.dump(), "application/json");
}

// GET /wc/v3/orders as WooCommerce answers it (class-wc-rest-orders-v2-controller.php
// get_collection_params, WC_REST_CRUD_Controller::get_items): modified_after (ISO 8601,
// exclusive, against date_modified_gmt with dates_are_gmt=true and date_modified otherwise),
// per_page 1..100 (default 10), page from 1, orderby date|id|include|title|slug|modified
// (default date), order asc|desc (default desc); X-WP-Total and X-WP-TotalPages headers; a page
// past the last answers an empty list.
void FakeWooCommerceRest::ListOrders(const httplib::Request& req, httplib::Response& res) {
  std::optional<PendingFault> fault;
  if (!Admit(req, res, /*is_write=*/false, fault)) return;
  auto param = [&](const char* name, const std::string& fallback) {
    return req.has_param(name) ? req.get_param_value(name) : fallback;
  };
  json invalid = json::object();
  const std::string per_page_text = param("per_page", "10");
  const std::string page_text = param("page", "1");
  static const std::regex kInt(R"(^[0-9]{1,6}$)");
  const int per_page = std::regex_match(per_page_text, kInt) ? std::stoi(per_page_text) : -1;
  const int page = std::regex_match(page_text, kInt) ? std::stoi(page_text) : -1;
  if (per_page < 1 || per_page > 100) {
    invalid["per_page"] = "per_page must be between 1 (inclusive) and 100 (inclusive)";
  }
  if (page < 1) invalid["page"] = "page must be greater than or equal to 1";
  const std::string orderby = param("orderby", "date");
  static const std::set<std::string> kOrderby = {"date",  "id",   "include",
                                                 "title", "slug", "modified"};
  if (!kOrderby.count(orderby)) {
    invalid["orderby"] = "orderby is not one of date, id, include, title, slug, and modified.";
  }
  const std::string direction = param("order", "desc");
  if (direction != "asc" && direction != "desc") {
    invalid["order"] = "order is not one of asc and desc.";
  }
  const std::string after = param("modified_after", "");
  if (!after.empty() && !IsWooDate(after)) invalid["modified_after"] = "Invalid date.";
  if (!invalid.empty()) {
    std::string names;
    for (const auto& [key, value] : invalid.items()) {
      (void)value;
      names += (names.empty() ? "" : ", ") + key;
    }
    WpError(res, 400, "rest_invalid_param", "Invalid parameter(s): " + names,
            json{{"params", invalid}});
    return;
  }
  const bool gmt = param("dates_are_gmt", "false") == "true";
  // WooCommerce dates compare as text: "YYYY-MM-DDTHH:MM:SS" sorts chronologically.
  const std::string after_key = after.substr(0, 19);
  std::vector<json> matching;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++order_listings_;
    for (const auto& [id, order] : orders_) {
      const std::string modified =
          order.value(gmt ? "date_modified_gmt" : "date_modified", std::string()).substr(0, 19);
      if (!after_key.empty() && !(modified > after_key)) continue;
      matching.push_back(order);
    }
  }
  auto key = [&](const json& o) {
    if (orderby == "id" || orderby == "include") return o.value("id", json(0)).dump();
    const std::string field = orderby == "modified" ? "date_modified_gmt" : "date_created_gmt";
    return o.value(field, std::string()) + "#" + o.value("id", json(0)).dump();
  };
  std::stable_sort(matching.begin(), matching.end(), [&](const json& a, const json& b) {
    const std::string ka = key(a), kb = key(b);
    // Ids compare as numbers: shorter decimal text is smaller.
    if (orderby == "id" || orderby == "include") {
      return ka.size() != kb.size() ? ka.size() < kb.size() : ka < kb;
    }
    return ka < kb;
  });
  if (direction == "desc") std::reverse(matching.begin(), matching.end());
  const size_t total = matching.size();
  const size_t total_pages = (total + static_cast<size_t>(per_page) - 1) / per_page;
  json out = json::array();
  for (size_t i = static_cast<size_t>(page - 1) * per_page;
       i < total && i < static_cast<size_t>(page) * per_page; ++i) {
    out.push_back(matching[i]);
  }
  if (fault && fault->fault == FakeWooFault::kDropAfterApply) return DropWooConnection(res);
  res.status = 200;
  res.set_header("X-WP-Total", std::to_string(total));
  res.set_header("X-WP-TotalPages", std::to_string(total_pages));
  res.set_content(out.dump(), "application/json");
}

void FakeWooCommerceRest::GetCoupon(const httplib::Request& req, httplib::Response& res) {
  std::optional<PendingFault> fault;
  if (!Admit(req, res, /*is_write=*/false, fault)) return;
  const int64_t id = std::stoll(req.matches[1].str());
  std::lock_guard<std::mutex> lock(mu_);
  for (const json& c : coupons_) {
    if (c["id"] == id) {
      res.set_content(c.dump(), "application/json");
      return;
    }
  }
  WpError(res, 404, "woocommerce_rest_shop_coupon_invalid_id", "Invalid ID.");
}

void FakeWooCommerceRest::GetCustomer(const httplib::Request& req, httplib::Response& res) {
  std::optional<PendingFault> fault;
  if (!Admit(req, res, /*is_write=*/false, fault)) return;
  const int64_t id = std::stoll(req.matches[1].str());
  std::lock_guard<std::mutex> lock(mu_);
  auto it = customers_.find(id);
  if (it == customers_.end()) {
    WpError(res, 404, "woocommerce_rest_invalid_id", "Invalid resource ID.");
    return;
  }
  res.set_content(it->second.dump(), "application/json");
}

void FakeWooCommerceRest::UpdateCustomer(const httplib::Request& req, httplib::Response& res) {
  std::optional<PendingFault> fault;
  if (!Admit(req, res, /*is_write=*/true, fault)) return;
  const int64_t id = std::stoll(req.matches[1].str());
  const json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) {
    WpError(res, 400, "rest_invalid_json", "Invalid JSON body passed.");
    return;
  }
  if (body.contains("meta_data") && !MatchesType(body["meta_data"], "array<object>")) {
    WpError(res, 400, "rest_invalid_param", "Invalid parameter(s): meta_data",
            json{{"params", {{"meta_data", "meta_data is not of type array."}}}});
    return;
  }
  json updated;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = customers_.find(id);
    if (it == customers_.end()) {
      WpError(res, 404, "woocommerce_rest_invalid_id", "Invalid resource ID.");
      return;
    }
    // update_meta_data: a key already present is replaced, a new one appended.
    json& meta = it->second["meta_data"];
    for (const json& m : body.value("meta_data", json::array())) {
      bool replaced = false;
      for (json& existing : meta) {
        if (existing["key"] == m.value("key", "")) {
          existing["value"] = m.value("value", json());
          replaced = true;
        }
      }
      if (!replaced) {
        meta.push_back(json{{"id", static_cast<int64_t>(meta.size()) + 1},
                            {"key", m.value("key", "")},
                            {"value", m.value("value", json())}});
      }
    }
    updated = it->second;
  }
  if (fault && fault->fault == FakeWooFault::kDropAfterApply) return DropWooConnection(res);
  res.set_content(updated.dump(), "application/json");
}

void FakeWooCommerceRest::Control(const httplib::Request& req, httplib::Response& res) {
  const std::string what = req.matches[1].str();
  const json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object()) {
    res.status = 400;
    res.set_content(R"({"error":"the body must be a JSON object"})", "application/json");
    return;
  }
  if (what == "customers" && body.contains("id") && body["id"].is_number_integer()) {
    AddCustomer(body["id"].get<int64_t>(), body.value("email", std::string()));
  } else if (what == "fault") {
    static const std::map<std::string, FakeWooFault> kKinds = {
        {"http500", FakeWooFault::kHttp500},
        {"http429", FakeWooFault::kHttp429},
        {"slow", FakeWooFault::kSlow},
        {"drop_before_apply", FakeWooFault::kDropBeforeApply},
        {"drop_after_apply", FakeWooFault::kDropAfterApply}};
    auto kind = kKinds.find(body.value("kind", std::string()));
    if (kind == kKinds.end()) {
      res.status = 400;
      res.set_content(
          R"({"error":"kind must be http500, http429, slow, drop_before_apply or drop_after_apply"})",
          "application/json");
      return;
    }
    InjectFault(kind->second, body.value("count", 1),
                kind->second == FakeWooFault::kSlow
                    ? body.value("delay_ms", int64_t{1000})
                    : body.value("retry_after_seconds", int64_t{2}));
  } else {
    res.status = 404;
    res.set_content(
        R"({"error":"POST /_fake/woocommerce/customers {\"id\",\"email\"} or /_fake/woocommerce/fault"})",
        "application/json");
    return;
  }
  res.set_content(R"({"ok":true})", "application/json");
}

}  // namespace loyaltyd::fakes
