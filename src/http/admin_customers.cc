// AdminApi, customer tools (issue 7; docs/api.md, "Customers", "Adjustments", "Importing
// opening balances", "Storefront"): customer search, the customer detail's lots and referral
// code, manual adjustments, CSV imports of opening balances, and the signed read-only customer
// token with the customer-facing routes it opens (GET /api/v1/me...). Those routes never take
// the admin token, and the admin routes never take a customer token: each checks only its own.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/model.h"
#include "core/money.h"
#include "customers/balance_import.h"
#include "customers/customer_token.h"
#include "http/admin_api.h"
#include "http/api_reply.h"

namespace loyaltyd {
namespace {

using nlohmann::json;
using namespace api_reply;  // NOLINT: the shared answer helpers

constexpr size_t kMaxSearchPage = 200;
constexpr size_t kMaxSearchText = 100;
constexpr size_t kMaxReasonBytes = 500;
constexpr size_t kMaxActorBytes = 100;
constexpr size_t kMaxIdempotencyKeyBytes = 200;
constexpr int64_t kMaxAdjustmentPoints = 1'000'000'000;
// Open lots shown in the customer detail; the rest are at /lots?status=open.
constexpr size_t kDetailLots = 10;
// The customer-facing ledger's page.
constexpr size_t kMeDefaultPage = 20;
constexpr size_t kMeMaxPage = 100;

// 400 naming the field: {"error": "<field>: <why>", "field": "<field>"}.
void ReplyFieldError(httplib::Response& res, const std::string& field, const std::string& why) {
  Reply(res, 400, json{{"error", field + ": " + why}, {"field", field}});
}

bool ReadPositiveId(const httplib::Request& req, httplib::Response& res, const char* name,
                    int64_t& out) {
  out = 0;
  if (!req.has_param(name)) return true;
  std::optional<int64_t> v = ParseInt(req.get_param_value(name));
  if (!v || *v < 1) {
    ReplyFieldError(res, name, "must be a positive customer id (a cursor from a previous page)");
    return false;
  }
  out = *v;
  return true;
}

json LotJson(const PointLotRecord& l) {
  return json{
      {"id", l.id},
      {"points", l.points},
      {"remaining", l.remaining},
      {"source",
       {{"kind", l.kind},
        {"rule_id", l.rule_id},
        {"ledger_entry_id", l.ledger_entry_id},
        {"order", l.order_platform_id.empty()
                      ? json(nullptr)
                      : json{{"platform_order_id", l.order_platform_id}, {"name", l.order_name}}}}},
      {"earned_at", FormatIso8601Millis(l.earned_at_ms)},
      {"expires_at", l.expires_at_ms == 0 ? json(nullptr) : json(IsoOrEmpty(l.expires_at_ms))}};
}

json AdjustmentJson(const AdjustmentRecord& a) {
  return json{{"id", a.id},
              {"customer_id", a.customer_id},
              {"points", a.points},
              {"reason", a.reason},
              {"actor", a.actor},
              {"idempotency_key", a.idempotency_key},
              {"ledger_entry",
               {{"id", a.ledger_entry_id},
                {"kind", "adjustment"},
                {"points", a.points},
                {"balance_after", a.balance_after},
                {"description", "adjustment by " + a.actor + ": " + a.reason}}},
              {"created_at", FormatIso8601Millis(a.created_at_ms)}};
}

// A required, non-blank JSON string of at most max_bytes; false with a 400 filled in.
bool ReadText(const json& body, const char* field, size_t max_bytes, const std::string& what,
              httplib::Response& res, std::string& out) {
  if (!body.contains(field)) {
    ReplyFieldError(res, field, "required: " + what);
    return false;
  }
  if (!body[field].is_string()) {
    ReplyFieldError(res, field, "must be a string: " + what);
    return false;
  }
  out = body[field].get<std::string>();
  const bool blank =
      std::all_of(out.begin(), out.end(), [](unsigned char c) { return std::isspace(c) != 0; });
  if (blank) {
    ReplyFieldError(res, field, "must not be empty: " + what);
    return false;
  }
  if (out.size() > max_bytes) {
    ReplyFieldError(res, field, "at most " + std::to_string(max_bytes) + " bytes");
    return false;
  }
  return true;
}

// --- Storefront ---

// CORS for a storefront widget: the request's Origin is echoed when storefront.allowed_origins
// lists it (or "*"); otherwise no header, and the browser keeps the answer from the page.
void AddCorsHeaders(const StorefrontConfig& storefront, const httplib::Request& req,
                    httplib::Response& res) {
  const std::string origin = req.get_header_value("Origin");
  if (origin.empty()) return;
  const std::vector<std::string>& allowed = storefront.allowed_origins;
  const bool any = std::find(allowed.begin(), allowed.end(), "*") != allowed.end();
  if (!any && std::find(allowed.begin(), allowed.end(), origin) == allowed.end()) return;
  res.set_header("Access-Control-Allow-Origin", any ? "*" : origin);
  if (!any) res.set_header("Vary", "Origin");
}

}  // namespace

// --- Search ---

void AdminApi::SearchCustomers(const Config& config, const httplib::Request& req,
                               httplib::Response& res) {
  CustomerSearch search;
  for (const auto& [name, value] : req.params) {
    (void)value;
    static const std::vector<std::string> kParams = {"email", "q",     "tier",
                                                     "limit", "after", "before"};
    if (std::find(kParams.begin(), kParams.end(), name) == kParams.end()) {
      return ReplyFieldError(res, name,
                             "unknown query parameter; use email, q, tier, limit, after, before");
    }
  }
  if (!req.has_param("email") && !req.has_param("q") && !req.has_param("tier")) {
    return ReplyError(res, 400,
                      "give at least one of the query parameters 'email' (exact), 'q' (part of "
                      "the name or email) or 'tier' (a level id)");
  }
  bool email_matches_nobody = false;
  if (req.has_param("email")) {
    search.email_normalised = NormaliseEmail(req.get_param_value("email"));
    // Kept from the first version of this route: an address without '@' finds no one.
    email_matches_nobody = search.email_normalised.empty();
  }
  if (req.has_param("q")) {
    std::string q = req.get_param_value("q");
    const bool blank =
        std::all_of(q.begin(), q.end(), [](unsigned char c) { return std::isspace(c) != 0; });
    if (blank) return ReplyFieldError(res, "q", "must not be empty");
    if (q.size() > kMaxSearchText) {
      return ReplyFieldError(res, "q", "at most " + std::to_string(kMaxSearchText) + " bytes");
    }
    for (char& c : q) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    search.text = q;
  }
  if (req.has_param("tier")) {
    const TiersConfig& tiers = config.program.tiers;
    search.tier_level = req.get_param_value("tier");
    if (!tiers.enabled) return ReplyFieldError(res, "tier", "the program has no tiers");
    if (tiers.FindLevel(search.tier_level) == nullptr) {
      std::string ids;
      for (const TierLevel& level : tiers.levels) ids += (ids.empty() ? "" : ", ") + level.id;
      return ReplyFieldError(res, "tier",
                             "unknown level '" + search.tier_level + "'; levels: " + ids);
    }
  }
  search.limit = kDefaultPageSize;
  if (req.has_param("limit")) {
    std::optional<int64_t> v = ParseInt(req.get_param_value("limit"));
    if (!v || *v < 1 || *v > static_cast<int64_t>(kMaxSearchPage)) {
      return ReplyFieldError(res, "limit",
                             "must be an integer from 1 to " + std::to_string(kMaxSearchPage));
    }
    search.limit = static_cast<size_t>(*v);
  }
  if (!ReadPositiveId(req, res, "after", search.after_id)) return;
  if (!ReadPositiveId(req, res, "before", search.before_id)) return;
  if (search.after_id > 0 && search.before_id > 0) {
    return ReplyFieldError(res, "before", "give either 'after' or 'before', not both");
  }
  CustomerSearchPage page;
  if (!email_matches_nobody) {
    Result<CustomerSearchPage> found = storage_.SearchCustomers(search);
    if (!found.ok()) return ReplyStorageError(res, found.status());
    page = std::move(*found);
  }
  json customers = json::array();
  for (const CustomerSearchRow& row : page.rows) {
    json c = CustomerWithCreditJson(row.customer, config.program);
    c["tier"] = row.tier_level.empty() ? json(nullptr) : json(row.tier_level);
    customers.push_back(std::move(c));
  }
  const bool any = !page.rows.empty();
  Reply(res, 200,
        json{{"customers", customers},
             {"next", page.more_after && any ? json(page.rows.back().customer.id) : json(nullptr)},
             {"prev",
              page.more_before && any ? json(page.rows.front().customer.id) : json(nullptr)}});
}

// --- Detail ---

bool AdminApi::AddCustomerDetail(const CustomerRecord& customer, json& out,
                                 httplib::Response& res) {
  // The credit ledger as direct-sales platforms show it: each open credit with its source and
  // expiry. Bounded (the newest kDetailLots); the rest page through /lots.
  Result<std::vector<PointLotRecord>> lots =
      storage_.ListLots(customer.id, /*open_only=*/true, 0, kDetailLots + 1);
  if (!lots.ok()) {
    ReplyStorageError(res, lots.status());
    return false;
  }
  const bool more = lots->size() > kDetailLots;
  if (more) lots->pop_back();
  json open = json::array();
  for (const PointLotRecord& l : *lots) open.push_back(LotJson(l));
  const std::string base = "/api/v1/customers/" + std::to_string(customer.id);
  out["open_lots"] = {{"lots", open}, {"more", more}, {"href", base + "/lots?status=open"}};
  // Read only: a GET never makes a code (GET .../referral does, on first use).
  Result<std::optional<std::string>> code = storage_.FindReferralCode(customer.id);
  if (!code.ok()) {
    ReplyStorageError(res, code.status());
    return false;
  }
  out["referral_code"] = code->has_value() ? json(**code) : json(nullptr);
  out["links"] = {{"ledger", base + "/ledger"},
                  {"lots", base + "/lots"},
                  {"credit", base + "/credit"},
                  {"referral", base + "/referral"},
                  {"redemptions", base + "/redemptions"}};
  return true;
}

// --- Adjustments ---

void AdminApi::CreateAdjustment(const Config& config, const httplib::Request& req,
                                httplib::Response& res) {
  std::optional<int64_t> id = ParseInt(req.matches[1].str());
  if (!id) return ReplyError(res, 404, "no such customer");
  const std::string example =
      "{\"points\": -50, \"reason\": \"goodwill\", \"actor\": \"ann@shop\", "
      "\"idempotency_key\": \"UUID\"}";
  const json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) {
    return ReplyError(res, 400, "the body must be a JSON object such as " + example);
  }
  for (const auto& [key, value] : body.items()) {
    (void)value;
    if (key != "points" && key != "reason" && key != "actor" && key != "idempotency_key") {
      return ReplyFieldError(res, key, "unknown key; send " + example);
    }
  }
  NewAdjustment a;
  a.customer_id = *id;
  if (!body.contains("points")) {
    return ReplyFieldError(res, "points", "required: a non-zero whole number of points");
  }
  const json& points = body["points"];
  // A JSON integer only: 1.5 or "10" is refused, and nothing passes through a double.
  if (!points.is_number_integer() ||
      (points.is_number_unsigned() &&
       points.get<uint64_t>() > static_cast<uint64_t>(kMaxAdjustmentPoints)) ||
      points.get<int64_t>() == 0 || points.get<int64_t>() > kMaxAdjustmentPoints ||
      points.get<int64_t>() < -kMaxAdjustmentPoints) {
    return ReplyFieldError(res, "points",
                           "must be a non-zero whole number from -" +
                               std::to_string(kMaxAdjustmentPoints) + " to " +
                               std::to_string(kMaxAdjustmentPoints));
  }
  a.points = points.get<int64_t>();
  if (!ReadText(body, "reason", kMaxReasonBytes, "why the points change, shown in the ledger", res,
                a.reason) ||
      !ReadText(body, "actor", kMaxActorBytes, "who makes the adjustment", res, a.actor) ||
      !ReadText(body, "idempotency_key", kMaxIdempotencyKeyBytes,
                "a unique value (e.g. a UUID) per adjustment, sent again unchanged on a retry", res,
                a.idempotency_key)) {
    return;
  }
  a.allow_negative_balance = config.program.refunds.allow_negative_balance;
  Result<AdjustmentResult> result = storage_.CreateAdjustment(a, clock_.NowMillis());
  if (!result.ok()) return ReplyServiceError(res, result.status());
  json out = AdjustmentJson(result->adjustment);
  out["points_balance"] = result->balance;
  const std::string location = "/api/v1/customers/" + std::to_string(*id) + "/ledger";
  switch (result->outcome) {
    case AdjustmentResult::Outcome::kCreated:
      res.set_header("Location", location);
      return Reply(res, 201, out);
    case AdjustmentResult::Outcome::kReplayed:
      res.set_header("Idempotent-Replayed", "true");
      return Reply(res, 200, out);
    case AdjustmentResult::Outcome::kKeyConflict:
      return Reply(res, 409,
                   json{{"error", "idempotency_key '" + a.idempotency_key +
                                      "' was already used for a different adjustment; use a new "
                                      "key for a new adjustment"},
                        {"field", "idempotency_key"},
                        {"adjustment", AdjustmentJson(result->adjustment)}});
    case AdjustmentResult::Outcome::kInsufficientPoints:
      return Reply(
          res, 409,
          json{{"error", "not enough points: the balance is " + std::to_string(result->balance) +
                             " and " + "program.refunds.allow_negative_balance is false"},
               {"field", "points"},
               {"points_balance", result->balance}});
  }
}

// --- Imports ---

void AdminApi::ImportBalances(const Config& config, const httplib::Request& req,
                              httplib::Response& res) {
  // The body is bounded by server.max_body_bytes (cpp-httplib refuses a longer one with 413)
  // and the rows by kMaxImportRows.
  const std::string type = req.get_header_value("Content-Type");
  const std::string media = type.substr(0, type.find(';'));
  if (media != "text/csv" && media != "text/plain" && media != "application/csv") {
    return ReplyError(res, 415, "send the file as Content-Type: text/csv");
  }
  std::string shop_id;
  if (req.has_param("shop_id")) {
    shop_id = req.get_param_value("shop_id");
    if (config.FindShopById(shop_id) == nullptr) {
      return ReplyFieldError(res, "shop_id", "unknown shop '" + shop_id + "'");
    }
  }
  Result<BalanceImportReport> report =
      loyaltyd::ImportBalances(storage_, config, req.body, shop_id, clock_.NowMillis());
  if (!report.ok()) {
    const Status& st = report.status();
    if (st.code() == StatusCode::kInvalidArgument) return ReplyError(res, 400, st.message());
    if (st.code() == StatusCode::kPayloadTooLarge) return ReplyError(res, 413, st.message());
    return ReplyStorageError(res, st);
  }
  spdlog::info("opening-balance import: {} rows, {} applied, {} unchanged, {} rejected",
               report->rows, report->applied, report->unchanged, report->rejections.size());
  Reply(res, 200, BalanceImportReportJson(*report));
}

// --- Customer tokens ---

void AdminApi::IssueCustomerToken(const Config& config, const httplib::Request& req,
                                  httplib::Response& res) {
  if (!config.storefront.enabled) {
    return ReplyError(res, 409,
                      "customer tokens are not enabled: add a storefront block with a "
                      "token_secret to the config (docs/configuration.md, \"storefront\")");
  }
  std::optional<CustomerRecord> customer = FindCustomer(req, res);
  if (!customer) return;
  const int64_t expires_at_s = clock_.NowMillis() / 1000 + config.storefront.token_ttl_seconds;
  res.set_header("Cache-Control", "no-store");
  Reply(res, 201,
        json{{"customer_id", customer->id},
             {"token", loyaltyd::IssueCustomerToken(config.storefront.token_secret, customer->id,
                                                    expires_at_s)},
             {"token_type", "Bearer"},
             {"expires_at", FormatIso8601Millis(expires_at_s * 1000)}});
}

void AdminApi::RegisterStorefront(RouteTable& server) {
  // Authenticated by a customer token only: the admin token is not of its format and is never
  // compared here; the admin routes compare only the admin token (BearerTokenMatches).
  using MeHandler =
      std::function<void(const Config&, const CustomerRecord&, const CustomerTokenClaims&,
                         const httplib::Request&, httplib::Response&)>;
  auto me = [this](MeHandler handle) {
    return [this, handle](const httplib::Request& req, httplib::Response& res) {
      const std::shared_ptr<const Config> config = config_->Current();
      AddCorsHeaders(config->storefront, req, res);
      res.set_header("Cache-Control", "no-store");
      auto unauthorized = [&](const std::string& why) {
        res.set_header("WWW-Authenticate", "Bearer error=\"invalid_token\"");
        ReplyError(res, 401, why);
      };
      if (!config->storefront.enabled) return unauthorized("customer tokens are not enabled");
      const std::string header = req.get_header_value("Authorization");
      if (!header.starts_with("Bearer ") || header.size() == 7) {
        return unauthorized(
            "missing customer token: send 'Authorization: Bearer <token>' with a token from "
            "POST /api/v1/customers/{id}/token");
      }
      Result<CustomerTokenClaims> claims =
          VerifyCustomerToken(config->storefront.token_secret, std::string_view(header).substr(7),
                              clock_.NowMillis() / 1000);
      if (!claims.ok()) return unauthorized(claims.status().message());
      try {
        // Every /me route is a read of the customer's own figures: one snapshot for all of them.
        const std::unique_ptr<ReadSnapshot> snapshot = PinReads(res);
        if (!snapshot) return;
        // Shared membership (docs/configuration.md, "Several stores, one program"): a token of
        // any of a member's accounts shows the member's books, which its points are.
        Result<std::optional<MembershipRecord>> member =
            storage_.GetMembership(claims->customer_id);
        if (!member.ok()) return ReplyStorageError(res, member.status());
        if (!member->has_value()) return unauthorized("the token's customer no longer exists");
        Result<std::optional<CustomerRecord>> customer = storage_.GetCustomer((*member)->member_id);
        if (!customer.ok()) return ReplyStorageError(res, customer.status());
        if (!customer->has_value()) return unauthorized("the token's customer no longer exists");
        handle(*config, **customer, *claims, req, res);
      } catch (const std::exception& e) {
        spdlog::error("storefront API {} {} failed: {}", req.method, req.path, e.what());
        ReplyError(res, 500, "internal error");
      }
    };
  };

  server.Get(
      "/api/v1/me",
      me([this](const Config& config, const CustomerRecord& c, const CustomerTokenClaims& claims,
                const httplib::Request&, httplib::Response& res) {
        // What the customer sees of themselves: no email, platform ids or staff notes,
        // so that a leaked token gives away as little as possible.
        json out{{"customer_id", c.id},
                 {"first_name", c.first_name},
                 {"points_balance", c.points_balance},
                 {"credit_balance", CreditBalanceJson(c.credit_balance_minor, config.program)},
                 {"token_expires_at", FormatIso8601Millis(claims.expires_at_s * 1000)}};
        const int64_t horizon = clock_.NowMillis() + int64_t{30} * 86'400'000;
        Result<PointsOutlook> outlook = storage_.GetPointsOutlook(c.id, horizon);
        if (!outlook.ok()) return ReplyStorageError(res, outlook.status());
        out["pending_points"] = outlook->pending_points;
        out["expiring_points"] = {
            {"points", outlook->expiring_points},
            {"within_days", 30},
            {"next_expiry_at", outlook->next_expiry_at_ms == 0
                                   ? json(nullptr)
                                   : json(IsoOrEmpty(outlook->next_expiry_at_ms))}};
        out["tier"] = nullptr;
        if (config.program.tiers.enabled) {
          Result<json> tier = TierJson(config, storage_, clock_, c.id);
          if (!tier.ok()) return ReplyStorageError(res, tier.status());
          out["tier"] = std::move(*tier);
        }
        Result<std::optional<std::string>> code = storage_.FindReferralCode(c.id);
        if (!code.ok()) return ReplyStorageError(res, code.status());
        out["referral_code"] = code->has_value() ? json(**code) : json(nullptr);
        Reply(res, 200, out);
      }));

  server.Get(
      "/api/v1/me/ledger",
      me([this](const Config&, const CustomerRecord& c, const CustomerTokenClaims&,
                const httplib::Request& req, httplib::Response& res) {
        size_t limit = kMeDefaultPage;
        int64_t before = 0;
        if (req.has_param("limit")) {
          std::optional<int64_t> v = ParseInt(req.get_param_value("limit"));
          if (!v || *v < 1 || *v > static_cast<int64_t>(kMeMaxPage)) {
            return ReplyFieldError(res, "limit",
                                   "must be an integer from 1 to " + std::to_string(kMeMaxPage));
          }
          limit = static_cast<size_t>(*v);
        }
        if (req.has_param("before")) {
          std::optional<int64_t> v = ParseInt(req.get_param_value("before"));
          if (!v || *v < 1) return ReplyFieldError(res, "before", "must be a positive id");
          before = *v;
        }
        Result<std::vector<LedgerEntryRecord>> entries = storage_.ListLedger(c.id, before, limit);
        if (!entries.ok()) return ReplyStorageError(res, entries.status());
        json out = json::array();
        for (const LedgerEntryRecord& e : *entries) {
          // An adjustment's description names the staff member and their note: the
          // customer sees that points were adjusted, not the internal why.
          out.push_back(
              json{{"id", e.id},
                   {"points", e.points},
                   {"balance_after", e.balance_after},
                   {"kind", e.kind},
                   {"description", e.kind == "adjustment" ? "points adjustment" : e.description},
                   {"order", e.order_name.empty() ? json(nullptr) : json(e.order_name)},
                   {"created_at", FormatIso8601Millis(e.created_at_ms)}});
        }
        json next = entries->size() == limit && !entries->empty() ? json(entries->back().id)
                                                                  : json(nullptr);
        Reply(res, 200,
              json{{"points_balance", c.points_balance}, {"entries", out}, {"next_before", next}});
      }));

  server.Get("/api/v1/me/rewards",
             me([](const Config& config, const CustomerRecord& c, const CustomerTokenClaims&,
                   const httplib::Request&, httplib::Response& res) {
               json rewards = json::array();
               for (const RewardConfig& r : config.program.rewards) {
                 json reward{{"id", r.id},
                             {"name", r.name},
                             {"kind", RewardKindName(r.kind)},
                             {"points", r.points},
                             {"affordable", c.points_balance >= r.points},
                             {"points_needed", std::max<int64_t>(r.points - c.points_balance, 0)}};
                 if (r.kind == RewardKind::kPercentageDiscount) {
                   reward["percentage"] = r.percentage;
                 } else if (r.kind != RewardKind::kFreeShipping) {
                   reward["amount"] = FormatAmount(r.amount_minor, config.program.currency);
                   reward["currency"] = config.program.currency;
                 }
                 rewards.push_back(std::move(reward));
               }
               Reply(res, 200, json{{"points_balance", c.points_balance}, {"rewards", rewards}});
             }));

  // The browser's preflight for a cross-origin GET with an Authorization header.
  server.Options(R"(/api/v1/me(/ledger|/rewards)?)",
                 [this](const httplib::Request& req, httplib::Response& res) {
                   const std::shared_ptr<const Config> config = config_->Current();
                   AddCorsHeaders(config->storefront, req, res);
                   res.set_header("Access-Control-Allow-Methods", "GET, OPTIONS");
                   res.set_header("Access-Control-Allow-Headers", "Authorization");
                   res.set_header("Access-Control-Max-Age", "600");
                   res.status = 204;
                 });
}

}  // namespace loyaltyd
