#include "http/privacy_api.h"

#include <spdlog/spdlog.h>

#include <map>
#include <nlohmann/json.hpp>

#include "core/calendar.h"
#include "http/admin_api.h"
#include "http/api_reply.h"

namespace loyaltyd {
namespace {

using nlohmann::json;
using namespace api_reply;  // NOLINT: the shared answer helpers

json PrivacyRequestJson(const PrivacyRequestRecord& r, bool with_export) {
  json out = {{"id", r.id},
              {"shop_id", r.shop_id},
              {"kind", r.kind},
              {"status", r.status},
              {"source", r.source},
              {"source_event_id", r.source_event_id == 0 ? json(nullptr) : json(r.source_event_id)},
              {"platform_request_id",
               r.platform_request_id.empty() ? json(nullptr) : json(r.platform_request_id)},
              {"customer_ids", r.customer_ids},
              {"summary", r.summary},
              {"last_error", r.last_error.empty() ? json(nullptr) : json(r.last_error)},
              {"created_at", IsoOrEmpty(r.created_at_ms)},
              {"completed_at",
               r.completed_at_ms == 0 ? json(nullptr) : json(IsoOrEmpty(r.completed_at_ms))}};
  if (with_export && r.kind == "data_request") {
    // Built by storage from its own rows; parsed here so that the answer is one document.
    out["export"] =
        r.export_json.empty() ? json(nullptr) : json::parse(r.export_json, nullptr, false);
  }
  return out;
}

}  // namespace

void PrivacyApi::Register(RouteTable& server) {
  auto guarded = [this](auto handle) {
    return [this, handle](const httplib::Request& req, httplib::Response& res) {
      const std::shared_ptr<const Config> config = config_->Current();
      const std::string header = req.get_header_value("Authorization");
      if (!BearerTokenMatches(header, config->admin.token)) {
        res.set_header("WWW-Authenticate", "Bearer");
        ReplyError(res, 401,
                   header.starts_with("Bearer ") && header.size() > 7
                       ? "invalid bearer token"
                       : "missing bearer token: send 'Authorization: Bearer <admin.token>'");
        return;
      }
      try {
        handle(*config, req, res);
      } catch (const std::exception& e) {
        spdlog::error("privacy API {} {} failed: {}", req.method, req.path, e.what());
        ReplyError(res, 500, "internal error");
      }
    };
  };
  server.Get("/api/v1/privacy/requests",
             guarded([this](const Config&, const httplib::Request& req, httplib::Response& res) {
               ListRequests(req, res);
             }));
  server.Get(R"(/api/v1/privacy/requests/(\d+))",
             guarded([this](const Config&, const httplib::Request& req, httplib::Response& res) {
               GetRequest(req, res);
             }));
  server.Get(R"(/api/v1/customers/(\d+)/export)",
             guarded([this](const Config&, const httplib::Request& req, httplib::Response& res) {
               ExportCustomer(req, res);
             }));
  server.Post(R"(/api/v1/customers/(\d+)/redact)",
              guarded([this](const Config&, const httplib::Request& req, httplib::Response& res) {
                RedactCustomer(req, res);
              }));
  server.Get("/api/v1/shops", guarded([this](const Config& config, const httplib::Request&,
                                             httplib::Response& res) { ListShops(config, res); }));
  const std::pair<const char*, PrivacyAction::Kind> shop_routes[] = {
      {R"(/api/v1/shops/([A-Za-z0-9._:-]+)/redact)", PrivacyAction::Kind::kShopRedact},
      {R"(/api/v1/shops/([A-Za-z0-9._:-]+)/deactivate)", PrivacyAction::Kind::kShopDeactivate},
      {R"(/api/v1/shops/([A-Za-z0-9._:-]+)/activate)", PrivacyAction::Kind::kShopActivate},
  };
  for (const auto& [pattern, kind] : shop_routes) {
    const PrivacyAction::Kind action = kind;
    server.Post(pattern, guarded([this, action](const Config& config, const httplib::Request& req,
                                                httplib::Response& res) {
                  ShopAction(config, req, res, action);
                }));
  }
}

void PrivacyApi::ListRequests(const httplib::Request& req, httplib::Response& res) {
  size_t limit = 0;
  int64_t before = 0;
  if (!ReadPage(req, res, limit, before)) return;
  Result<std::vector<PrivacyRequestRecord>> list = storage_.ListPrivacyRequests(before, limit);
  if (!list.ok()) return ReplyStorageError(res, list.status());
  json items = json::array();
  for (const PrivacyRequestRecord& r : *list) items.push_back(PrivacyRequestJson(r, false));
  // Like every other list: null on the last page.
  json body = {{"requests", items},
               {"next_before",
                list->size() == limit && !list->empty() ? json(list->back().id) : json(nullptr)}};
  Reply(res, 200, body);
}

void PrivacyApi::GetRequest(const httplib::Request& req, httplib::Response& res) {
  const std::optional<int64_t> id = ParseInt(req.matches[1].str());
  if (!id) return ReplyError(res, 404, "no such privacy request");
  Result<std::optional<PrivacyRequestRecord>> r = storage_.GetPrivacyRequest(*id);
  if (!r.ok()) return ReplyStorageError(res, r.status());
  if (!r->has_value()) {
    return ReplyError(res, 404, "no privacy request with id " + std::to_string(*id));
  }
  Reply(res, 200, PrivacyRequestJson(**r, true));
}

void PrivacyApi::ExportCustomer(const httplib::Request& req, httplib::Response& res) {
  const std::optional<int64_t> id = ParseInt(req.matches[1].str());
  if (!id) return ReplyError(res, 404, "no such customer");
  Result<std::optional<std::string>> doc = storage_.ExportCustomer(*id, clock_.NowMillis());
  if (!doc.ok()) return ReplyStorageError(res, doc.status());
  if (!doc->has_value()) return ReplyError(res, 404, "no customer with id " + std::to_string(*id));
  res.status = 200;
  res.set_content(**doc, "application/json");
}

void PrivacyApi::RedactCustomer(const httplib::Request& req, httplib::Response& res) {
  const std::optional<int64_t> id = ParseInt(req.matches[1].str());
  if (!id) return ReplyError(res, 404, "no such customer");
  Result<std::optional<CustomerRecord>> customer = storage_.GetCustomer(*id);
  if (!customer.ok()) return ReplyStorageError(res, customer.status());
  if (!customer->has_value()) {
    return ReplyError(res, 404, "no customer with id " + std::to_string(*id));
  }
  PrivacyAction action;
  action.kind = PrivacyAction::Kind::kCustomerRedact;
  action.shop_id = (*customer)->shop_id;
  action.customer_id = *id;
  action.source = "api";
  Result<PrivacyRequestRecord> r = storage_.ApplyPrivacyAction(action, clock_.NowMillis());
  if (!r.ok()) return ReplyServiceError(res, r.status());
  if (r->status == "pending") wake_processor_();
  Reply(res, 200, PrivacyRequestJson(*r, false));
}

void PrivacyApi::ListShops(const Config& config, httplib::Response& res) {
  Result<std::vector<ShopStateRecord>> states = storage_.ListShopStates();
  if (!states.ok()) return ReplyStorageError(res, states.status());
  std::map<std::string, ShopStateRecord> by_id;
  for (const ShopStateRecord& s : *states) by_id[s.shop_id] = s;
  json shops = json::array();
  auto shop_json = [](const std::string& id, const std::string& platform,
                      const ShopStateRecord* s) {
    return json{{"id", id},
                {"platform", platform.empty() ? json(nullptr) : json(platform)},
                {"configured", !platform.empty()},
                {"active", s == nullptr || s->active},
                {"reason", s == nullptr || s->reason.empty() ? json(nullptr) : json(s->reason)},
                {"deactivated_at", s == nullptr || s->deactivated_at_ms == 0
                                       ? json(nullptr)
                                       : json(IsoOrEmpty(s->deactivated_at_ms))},
                {"redacted_at", s == nullptr || s->redacted_at_ms == 0
                                    ? json(nullptr)
                                    : json(IsoOrEmpty(s->redacted_at_ms))}};
  };
  for (const ShopConfig& shop : config.shops) {
    auto it = by_id.find(shop.id);
    shops.push_back(shop_json(shop.id, std::string(PlatformName(shop.platform)),
                              it == by_id.end() ? nullptr : &it->second));
    if (it != by_id.end()) by_id.erase(it);
  }
  // Shops no longer in the config but with a recorded state (a redacted shop, say).
  for (const auto& [id, state] : by_id) shops.push_back(shop_json(id, "", &state));
  Reply(res, 200, json{{"shops", shops}});
}

void PrivacyApi::ShopAction(const Config& config, const httplib::Request& req,
                            httplib::Response& res, PrivacyAction::Kind kind) {
  const std::string shop_id = req.matches[1].str();
  // A shop removed from the config can still have its data removed; the state of a shop
  // loyaltyd never knew is a typo.
  if (config.FindShopById(shop_id) == nullptr && kind != PrivacyAction::Kind::kShopRedact) {
    return ReplyError(res, 404, "no shop '" + shop_id + "' in the config");
  }
  PrivacyAction action;
  action.kind = kind;
  action.shop_id = shop_id;
  action.source = "api";
  Result<PrivacyRequestRecord> r = storage_.ApplyPrivacyAction(action, clock_.NowMillis());
  if (!r.ok()) return ReplyServiceError(res, r.status());
  if (kind == PrivacyAction::Kind::kShopRedact) {
    wake_processor_();
    return Reply(res, 202, PrivacyRequestJson(*r, false));
  }
  Reply(res, 200,
        json{{"shop_id", shop_id},
             {"active", kind == PrivacyAction::Kind::kShopActivate},
             {"summary", r->summary}});
}

}  // namespace loyaltyd
