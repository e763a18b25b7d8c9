#include "connectors/shopify/shopify_admin_client.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <exception>
#include <string_view>
#include <utility>

#define CPPHTTPLIB_OPENSSL_SUPPORT 1
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "connectors/shopify/shopify_graphql.h"
#include "core/crypto.h"
#include "core/money.h"

namespace loyaltyd {
namespace {

using json = nlohmann::json;
using shopify_internal::Execute;
using shopify_internal::GraphqlOutcome;

// --- GraphQL documents. Every input is a variable; nothing is spliced into the text. ---

// https://shopify.dev/docs/api/admin-graphql/2025-07/mutations/discountCodeBasicCreate
// Input: https://shopify.dev/docs/api/admin-graphql/2025-07/input-objects/DiscountCodeBasicInput
constexpr const char* kBasicCreate =
    R"(mutation LoyaltydDiscountCodeBasicCreate($basicCodeDiscount: DiscountCodeBasicInput!) {
  discountCodeBasicCreate(basicCodeDiscount: $basicCodeDiscount) {
    codeDiscountNode { id codeDiscount { ... on DiscountCodeBasic { codes(first: 1) { nodes { code } } } } }
    userErrors { field code message }
  }
})";

// https://shopify.dev/docs/api/admin-graphql/2025-07/mutations/discountCodeFreeShippingCreate
// Input:
// https://shopify.dev/docs/api/admin-graphql/2025-07/input-objects/DiscountCodeFreeShippingInput
constexpr const char* kFreeShippingCreate =
    R"(mutation LoyaltydDiscountCodeFreeShippingCreate($freeShippingCodeDiscount: DiscountCodeFreeShippingInput!) {
  discountCodeFreeShippingCreate(freeShippingCodeDiscount: $freeShippingCodeDiscount) {
    codeDiscountNode { id codeDiscount { ... on DiscountCodeFreeShipping { codes(first: 1) { nodes { code } } } } }
    userErrors { field code message }
  }
})";

// https://shopify.dev/docs/api/admin-graphql/2025-07/mutations/storeCreditAccountCredit
// Input:
// https://shopify.dev/docs/api/admin-graphql/2025-07/input-objects/StoreCreditAccountCreditInput
// Marker: https://shopify.dev/docs/api/admin-graphql/2025-07/mutations/metafieldsSet
// Root mutation fields run one after another, in document order (GraphQL spec, "Normal and
// Serial Execution"), so the marker is written after the credit, in the same request.
constexpr const char* kStoreCreditCredit =
    R"(mutation LoyaltydStoreCreditAccountCredit($id: ID!, $creditInput: StoreCreditAccountCreditInput!, $metafields: [MetafieldsSetInput!]!) {
  storeCreditAccountCredit(id: $id, creditInput: $creditInput) {
    storeCreditAccountTransaction { id amount { amount currencyCode } createdAt }
    userErrors { field code message }
  }
  metafieldsSet(metafields: $metafields) {
    metafields { id key updatedAt }
    userErrors { field code message }
  }
})";

// https://shopify.dev/docs/api/admin-graphql/2025-07/queries/codeDiscountNodeByCode
// Returns null when no discount has the code (codes are matched case-insensitively).
constexpr const char* kFindCode = R"(query LoyaltydCodeDiscountNodeByCode($code: String!) {
  codeDiscountNodeByCode(code: $code) { id }
})";

// https://shopify.dev/docs/api/admin-graphql/2025-07/objects/Customer (metafield,
// storeCreditAccounts),
// https://shopify.dev/docs/api/admin-graphql/2025-07/objects/StoreCreditAccount (transactions:
// newest first with reverse: true, default sort key CREATED_AT). Needs the read_customers and
// read_store_credit_account_transactions scopes.
constexpr const char* kFindStoreCredit =
    R"(query LoyaltydStoreCreditMarker($id: ID!, $namespace: String!, $key: String!) {
  customer(id: $id) {
    id
    metafield(namespace: $namespace, key: $key) { value updatedAt }
    storeCreditAccounts(first: 10) {
      nodes {
        id
        transactions(first: 50, reverse: true) {
          nodes { amount { amount currencyCode } createdAt ... on StoreCreditAccountCreditTransaction { id } }
        }
      }
    }
  }
})";
constexpr size_t kTransactionsPage = 50;

// https://shopify.dev/docs/api/admin-graphql/2025-07/mutations/tagsAdd and .../tagsRemove.
constexpr const char* kTagsAddField =
    "  tagsAdd(id: $id, tags: $add) { node { id } userErrors { field message } }\n";
constexpr const char* kTagsRemoveField =
    "  tagsRemove(id: $id, tags: $remove) { node { id } userErrors { field message } }\n";

// How far before the marker's updatedAt the matching credit may have been created. Both are
// written by one request, so the real gap is that request's run time; a minute is generous.
constexpr int64_t kMarkerWindowBeforeMs = 120'000;
constexpr int64_t kMarkerWindowAfterMs = 5'000;
constexpr size_t kMaxDetail = 1000;

std::string Truncated(std::string text) {
  if (text.size() > kMaxDetail) {
    text.resize(kMaxDetail);
    text += "...";
  }
  return text;
}

PlatformResponse Fail(Status status, std::string detail, int64_t retry_after_ms = 0) {
  PlatformResponse response;
  response.status = std::move(status);
  response.error_detail = Truncated(std::move(detail));
  response.retry_after_ms = retry_after_ms;
  return response;
}

bool IsDigits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(),
                                      [](unsigned char c) { return std::isdigit(c) != 0; });
}

std::string CustomerGid(const std::string& numeric_id) {
  return "gid://shopify/Customer/" + numeric_id;
}

// Retry-After in seconds, possibly with a fraction ("2", "2.0"); 0 when absent or an HTTP-date.
int64_t RetryAfterMs(const httplib::Response& response) {
  const std::string value = response.get_header_value("Retry-After");
  Result<int64_t> ms = ParseDecimalToMinor(value, 3);
  return ms.ok() && *ms > 0 ? *ms : 0;
}

// Epoch milliseconds of an ISO-8601 timestamp as Shopify writes them ("2025-07-01T12:00:00Z",
// optional fraction, "Z" or "+hh:mm"); -1 when it does not parse.
int64_t ParseIso8601Millis(const std::string& text) {
  int year, month, day, hour, minute, second, consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &month, &day, &hour, &minute,
                  &second, &consumed) != 6) {
    return -1;
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  int64_t ms = static_cast<int64_t>(timegm(&tm)) * 1000;
  size_t i = static_cast<size_t>(consumed);
  if (i < text.size() && text[i] == '.') {
    int64_t scale = 100;
    for (++i; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i) {
      ms += (text[i] - '0') * scale;
      scale /= 10;
    }
  }
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
    int oh = 0, om = 0;
    if (std::sscanf(text.c_str() + i + 1, "%2d:%2d", &oh, &om) != 2) return -1;
    const int64_t offset = (oh * 60 + om) * 60'000;
    ms += text[i] == '+' ? -offset : offset;
  }
  return ms;
}

// "basicCodeDiscount.code: Code must be unique. Please try a different code. [TAKEN]; ...".
std::string DescribeUserErrors(const json& errors) {
  std::string out;
  for (const json& e : errors) {
    if (!out.empty()) out += "; ";
    if (e.contains("field") && e["field"].is_array()) {
      std::string path;
      for (const json& part : e["field"]) {
        if (!path.empty()) path += '.';
        path += part.is_string() ? part.get<std::string>() : part.dump();
      }
      if (!path.empty()) out += path + ": ";
    }
    out += e.value("message", std::string("(no message)"));
    if (e.contains("code") && e["code"].is_string())
      out += " [" + e["code"].get<std::string>() + "]";
  }
  return out;
}

// The userErrors of one mutation payload, or an empty array.
const json& UserErrors(const json& data, const char* field) {
  static const json kNone = json::array();
  if (!data.is_object() || !data.contains(field) || !data[field].is_object()) return kNone;
  const json& payload = data[field];
  if (!payload.contains("userErrors") || !payload["userErrors"].is_array()) return kNone;
  return payload["userErrors"];
}

// How long until the bucket holds the requested cost, from extensions.cost
// (https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits): the bucket refills at
// restoreRate points per second. One second when the response does not say.
int64_t ThrottleRetryMs(const json& body) {
  try {
    const json& cost = body.at("extensions").at("cost");
    const json& throttle = cost.at("throttleStatus");
    const double requested = cost.at("requestedQueryCost").get<double>();
    const double available = throttle.at("currentlyAvailable").get<double>();
    const double rate = throttle.at("restoreRate").get<double>();
    if (rate <= 0) return 1000;
    const double missing = std::max(requested - available, 1.0);
    return static_cast<int64_t>(std::ceil(missing / rate * 1000.0));
  } catch (const json::exception&) {
    return 1000;
  }
}

// Maps the top-level `errors` of a 200 response. THROTTLED and INTERNAL_SERVER_ERROR are
// transient; ACCESS_DENIED (a missing scope) is a credentials problem the merchant can fix
// without losing the redemption; anything else (INVALID_VARIABLE, a parse error,
// MAX_COST_EXCEEDED) means the request itself is wrong and will never succeed.
PlatformResponse MapGraphqlErrors(const json& body) {
  const json& errors = body["errors"];
  std::string detail;
  bool throttled = false, transient = false, denied = false;
  if (errors.is_array()) {
    for (const json& e : errors) {
      std::string code;
      if (e.contains("extensions") && e["extensions"].is_object()) {
        code = e["extensions"].value("code", std::string());
      }
      throttled |= code == "THROTTLED";
      transient |= code == "INTERNAL_SERVER_ERROR";
      denied |= code == "ACCESS_DENIED";
      if (!detail.empty()) detail += "; ";
      detail += e.is_object() ? e.value("message", std::string("(no message)")) : e.dump();
      if (!code.empty()) detail += " [" + code + "]";
    }
  } else {
    detail = errors.is_string() ? errors.get<std::string>() : errors.dump();
  }
  if (throttled) {
    return Fail(Unavailable("Shopify throttled the request (cost bucket empty)"),
                "GraphQL errors: " + detail, ThrottleRetryMs(body));
  }
  if (transient) return Fail(Unavailable("Shopify internal error"), "GraphQL errors: " + detail);
  if (denied) {
    return Fail(Unauthenticated("Shopify denied access (missing scope?)"),
                "GraphQL errors: " + detail);
  }
  return Fail(FailedPrecondition("Shopify rejected the GraphQL request"),
              "GraphQL errors: " + detail);
}

}  // namespace

// One GraphQL call (connectors/shopify/shopify_graphql.h). Never throws.
GraphqlOutcome shopify_internal::Execute(httplib::Client& http, const std::string& path,
                                         const std::string& token, const char* query,
                                         const json& variables) {
  GraphqlOutcome outcome;
  const json request = {{"query", query}, {"variables", variables}};
  const httplib::Headers headers = {{"X-Shopify-Access-Token", token},
                                    {"Accept", "application/json"}};
  httplib::Result result = http.Post(path, headers, request.dump(), "application/json");
  if (!result) {
    // The request may or may not have reached Shopify: the caller must ask FindReward before it
    // retries a create.
    outcome.failure = Fail(Unavailable("no response from Shopify"),
                           "transport error: " + httplib::to_string(result.error()));
    return outcome;
  }
  const httplib::Response& response = *result;
  const int status = response.status;
  const std::string http_detail =
      "HTTP " + std::to_string(status) + ": " + Truncated(response.body.substr(0, 300));
  if (status == 401 || status == 403) {
    outcome.failure =
        Fail(Unauthenticated("Shopify refused the access token (HTTP " + std::to_string(status) +
                             "); check shops[].api.access_token"),
             http_detail);
    return outcome;
  }
  if (status == 429 || status >= 500) {
    outcome.failure = Fail(Unavailable("Shopify answered HTTP " + std::to_string(status)),
                           http_detail, RetryAfterMs(response));
    return outcome;
  }
  if (status != 200) {
    outcome.failure =
        Fail(FailedPrecondition("Shopify answered HTTP " + std::to_string(status)), http_detail);
    return outcome;
  }
  json body = json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) {
    // A 200 that is not JSON (a proxy's page?): the outcome is unknown, so treat it as transient.
    outcome.failure = Fail(Unavailable("Shopify's response is not JSON"), http_detail);
    return outcome;
  }
  if (body.contains("errors") && !body["errors"].is_null()) {
    outcome.failure = MapGraphqlErrors(body);
    return outcome;
  }
  if (!body.contains("data") || !body["data"].is_object()) {
    outcome.failure = Fail(FailedPrecondition("Shopify's response has no data"), http_detail);
    return outcome;
  }
  outcome.data = std::move(body["data"]);
  return outcome;
}

namespace {

// Checks what loyaltyd itself must get right before calling Shopify.
Status ValidateRequest(const RewardRequest& r) {
  const bool is_code = r.kind != RewardKind::kStoreCredit;
  if (is_code && r.code.empty()) return InvalidArgument("a discount code is required");
  if (r.kind == RewardKind::kStoreCredit || r.restrict_to_customer) {
    if (!IsDigits(r.customer_platform_id)) {
      return InvalidArgument("customer_platform_id must be a numeric Shopify customer id, got '" +
                             r.customer_platform_id.substr(0, 40) + "'");
    }
  }
  if (r.kind == RewardKind::kFixedDiscount || r.kind == RewardKind::kStoreCredit) {
    if (r.amount_minor <= 0) return InvalidArgument("amount must be positive");
    if (r.currency.size() != 3) return InvalidArgument("currency must be an ISO-4217 code");
  }
  if (r.kind == RewardKind::kPercentageDiscount && (r.percentage < 1 || r.percentage > 100)) {
    return InvalidArgument("percentage must be 1..100");
  }
  if (r.minimum_order_minor < 0) return InvalidArgument("minimum order must not be negative");
  if (r.currency_exponent < 0 || r.currency_exponent > 4) {
    return InvalidArgument("currency exponent must be 0..4");
  }
  return Status::Ok();
}

// Fields shared by DiscountCodeBasicInput and DiscountCodeFreeShippingInput.
json CommonCodeInput(const RewardRequest& r, int64_t starts_at_ms) {
  json input = {
      {"title", r.title.empty() ? r.code : r.title},
      {"code", r.code},
      {"startsAt", FormatIso8601Millis(starts_at_ms)},
      {"usageLimit", 1},
      {"appliesOncePerCustomer", true},
  };
  if (r.ends_at_ms > 0) input["endsAt"] = FormatIso8601Millis(r.ends_at_ms);
  // `context` replaces the deprecated customerSelection (sending both is a userError):
  // https://shopify.dev/docs/api/admin-graphql/2025-07/input-objects/DiscountContextInput
  if (r.restrict_to_customer) {
    input["context"] = {{"customers", {{"add", {CustomerGid(r.customer_platform_id)}}}}};
  } else {
    input["context"] = {{"all", "ALL"}};
  }
  if (r.minimum_order_minor > 0) {
    input["minimumRequirement"] = {{"subtotal",
                                    {{"greaterThanOrEqualToSubtotal",
                                      FormatMinor(r.minimum_order_minor, r.currency_exponent)}}}};
  }
  return input;
}

// The percentage as Shopify's fraction (10 -> 0.1). GraphQL's Float is a double on every side;
// n/100 for an integer n in 1..100 prints as the exact decimal.
double PercentageFraction(int percentage) { return percentage / 100.0; }

// The first code of a created or found discount node, else `fallback`.
std::string NodeCode(const json& node, const std::string& fallback) {
  try {
    const json& nodes = node.at("codeDiscount").at("codes").at("nodes");
    if (!nodes.empty()) return nodes.at(0).at("code").get<std::string>();
  } catch (const json::exception&) {
  }
  return fallback;
}

}  // namespace

std::string ShopifyAdminClient::StoreCreditMarkerKey(const std::string& idempotency_key) {
  // A keyed hash is used only as a stable, well-distributed digest here, not as a secret.
  return "sc-" +
         HexEncode(HmacSha256("loyaltyd-store-credit-marker", idempotency_key)).substr(0, 40);
}

ShopifyAdminClient::ShopifyAdminClient(const ShopConfig& shop, const Clock& clock)
    : endpoint_path_("/admin/api/" + shop.api.api_version + "/graphql.json"),
      access_token_(shop.api.access_token),
      clock_(clock),
      http_(std::make_unique<httplib::Client>(shop.api.base_url)) {
  const time_t timeout = shop.api.timeout_seconds > 0 ? shop.api.timeout_seconds : 10;
  http_->set_connection_timeout(timeout, 0);
  http_->set_read_timeout(timeout, 0);
  http_->set_write_timeout(timeout, 0);
  http_->set_keep_alive(true);
  http_->set_tcp_nodelay(true);
}

ShopifyAdminClient::~ShopifyAdminClient() = default;

PlatformResponse ShopifyAdminClient::CreateReward(const RewardRequest& r) {
  try {
    if (Status valid = ValidateRequest(r); !valid.ok()) return Fail(valid, valid.message());
    const int64_t starts_at_ms = r.starts_at_ms > 0 ? r.starts_at_ms : clock_.NowMillis();

    if (r.kind == RewardKind::kStoreCredit) {
      json credit = {{"creditAmount",
                      {{"amount", FormatMinor(r.amount_minor, r.currency_exponent)},
                       {"currencyCode", r.currency}}}};
      if (r.ends_at_ms > 0) credit["expiresAt"] = FormatIso8601Millis(r.ends_at_ms);
      const json variables = {{"id", CustomerGid(r.customer_platform_id)},
                              {"creditInput", credit},
                              {"metafields",
                               {{{"ownerId", CustomerGid(r.customer_platform_id)},
                                 {"namespace", kMarkerNamespace},
                                 {"key", StoreCreditMarkerKey(r.idempotency_key)},
                                 {"type", "single_line_text_field"},
                                 {"value", r.idempotency_key}}}}};
      GraphqlOutcome out =
          Execute(*http_, endpoint_path_, access_token_, kStoreCreditCredit, variables);
      if (!out.ok()) return out.failure;
      const json& credit_errors = UserErrors(out.data, "storeCreditAccountCredit");
      if (!credit_errors.empty()) {
        return Fail(FailedPrecondition("Shopify refused the store credit"),
                    DescribeUserErrors(credit_errors));
      }
      PlatformResponse response;
      response.platform_reward_id = out.data.at("storeCreditAccountCredit")
                                        .at("storeCreditAccountTransaction")
                                        .at("id")
                                        .get<std::string>();
      const json& marker_errors = UserErrors(out.data, "metafieldsSet");
      if (!marker_errors.empty()) {
        // The credit is issued; only a retry after an unknown outcome would have needed the
        // marker, and there will be none. Say so for the operator.
        response.error_detail =
            Truncated("credit issued, but its marker metafield was not written: " +
                      DescribeUserErrors(marker_errors));
      }
      return response;
    }

    const bool free_shipping = r.kind == RewardKind::kFreeShipping;
    json input = CommonCodeInput(r, starts_at_ms);
    const char* field =
        free_shipping ? "discountCodeFreeShippingCreate" : "discountCodeBasicCreate";
    json variables;
    if (free_shipping) {
      input["destination"] = {{"all", true}};
      variables = {{"freeShippingCodeDiscount", input}};
    } else {
      json value;
      if (r.kind == RewardKind::kPercentageDiscount) {
        value = {{"percentage", PercentageFraction(r.percentage)}};
      } else {
        value = {{"discountAmount",
                  {{"amount", FormatMinor(r.amount_minor, r.currency_exponent)},
                   {"appliesOnEachItem", false}}}};
      }
      input["customerGets"] = {{"value", value}, {"items", {{"all", true}}}};
      variables = {{"basicCodeDiscount", input}};
    }
    GraphqlOutcome out = Execute(*http_, endpoint_path_, access_token_,
                                 free_shipping ? kFreeShippingCreate : kBasicCreate, variables);
    if (!out.ok()) return out.failure;
    const json& errors = UserErrors(out.data, field);
    if (!errors.empty()) {
      return Fail(FailedPrecondition("Shopify refused the discount code"),
                  DescribeUserErrors(errors));
    }
    const json& node = out.data.at(field).at("codeDiscountNode");
    PlatformResponse response;
    response.platform_reward_id = node.at("id").get<std::string>();
    response.code = NodeCode(node, r.code);
    return response;
  } catch (const std::exception& e) {
    // An unexpected response shape: the call may have succeeded, so it is not permanent.
    return Fail(Unavailable("unexpected response from Shopify"), e.what());
  }
}

// Store credit: an earlier credit counts as found only when BOTH hold:
//   1. the customer carries the marker metafield loyaltyd/<StoreCreditMarkerKey> whose value is
//      the idempotency key (written by the same GraphQL document, right after the credit), and
//   2. one of the customer's credit transactions in the request's currency has exactly the
//      requested amount and was created up to two minutes before the marker's updatedAt.
// (1) without (2) means the credit itself failed (e.g. a userError) while the marker was still
// written, since GraphQL does not make the second root field depend on the first: not found.
//
// Residual risks, honestly:
//   - Shopify runs root mutation fields one after the other, not in a transaction. If the credit
//     is applied and the marker write then fails (a userError such as a metafield limit, or a
//     Shopify failure between the two fields) AND the response is lost, FindReward reports "not
//     found" and a retry pays twice. The window is the few milliseconds between the two fields
//     on Shopify's side, not the network round trip.
//   - A different credit of the same amount and currency in the same two minutes (say, a
//     merchant's manual credit) could be taken for ours when ours failed with a userError and
//     the response was lost: the customer then misses this credit (and keeps no points).
//   - Only the 50 newest transactions per account are read; when the page is full and still
//     newer than the window, FindReward answers Unavailable rather than guess.
// API version 2027-01 adds a merchant-only `note` to StoreCreditAccountCreditInput and to
// transactions (https://shopify.dev/changelog/merchant-notes-on-store-credit-transactions);
// carrying the idempotency key in the note would make (2) exact and remove the second risk.
static PlatformResponse FindStoreCredit(httplib::Client& http, const std::string& path,
                                        const std::string& token, const RewardRequest& r) {
  const json variables = {{"id", CustomerGid(r.customer_platform_id)},
                          {"namespace", ShopifyAdminClient::kMarkerNamespace},
                          {"key", ShopifyAdminClient::StoreCreditMarkerKey(r.idempotency_key)}};
  GraphqlOutcome out = Execute(http, path, token, kFindStoreCredit, variables);
  if (!out.ok()) return out.failure;
  PlatformResponse response;
  const json& customer = out.data["customer"];
  if (customer.is_null()) return response;  // no such customer: nothing was credited
  const json& marker = customer["metafield"];
  if (marker.is_null() || marker.value("value", std::string()) != r.idempotency_key) {
    return response;
  }
  const int64_t marker_ms = ParseIso8601Millis(marker.value("updatedAt", std::string()));
  if (marker_ms < 0) {
    return Fail(Unavailable("cannot read the store credit marker's time"), marker.dump());
  }
  const int64_t from_ms = marker_ms - kMarkerWindowBeforeMs;
  const int64_t to_ms = marker_ms + kMarkerWindowAfterMs;
  bool page_too_short = false;
  for (const json& account : customer.at("storeCreditAccounts").at("nodes")) {
    const json& nodes = account.at("transactions").at("nodes");
    int64_t oldest_ms = INT64_MAX;
    for (const json& t : nodes) {
      const int64_t created_ms = ParseIso8601Millis(t.value("createdAt", std::string()));
      oldest_ms = std::min(oldest_ms, created_ms);
      if (!t.contains("id") || created_ms < from_ms || created_ms > to_ms) continue;
      const json& amount = t.at("amount");
      if (amount.value("currencyCode", std::string()) != r.currency) continue;
      Result<int64_t> minor =
          ParseDecimalToMinor(amount.value("amount", std::string()), r.currency_exponent);
      if (!minor.ok() || *minor != r.amount_minor) continue;
      response.platform_reward_id = t.at("id").get<std::string>();
      return response;
    }
    if (nodes.size() >= kTransactionsPage && oldest_ms > from_ms) page_too_short = true;
  }
  if (page_too_short) {
    return Fail(Unavailable("too many newer store credit transactions to tell"),
                "marker found; the matching credit may be older than the newest " +
                    std::to_string(kTransactionsPage) + " transactions");
  }
  response.error_detail =
      "marker found but no matching credit transaction: the earlier credit failed";
  return response;
}

PlatformResponse ShopifyAdminClient::FindReward(const RewardRequest& r) {
  try {
    if (Status valid = ValidateRequest(r); !valid.ok()) return Fail(valid, valid.message());
    if (r.kind == RewardKind::kStoreCredit) {
      return FindStoreCredit(*http_, endpoint_path_, access_token_, r);
    }
    GraphqlOutcome out =
        Execute(*http_, endpoint_path_, access_token_, kFindCode, json{{"code", r.code}});
    if (!out.ok()) return out.failure;
    PlatformResponse response;
    const json& node = out.data["codeDiscountNodeByCode"];
    if (node.is_object()) {
      response.platform_reward_id = node.at("id").get<std::string>();
      response.code = NodeCode(node, r.code);
    }
    return response;
  } catch (const std::exception& e) {
    return Fail(Unavailable("unexpected response from Shopify"), e.what());
  }
}

PlatformResponse ShopifyAdminClient::UpdateCustomerTags(const CustomerTagsRequest& r) {
  try {
    if (!IsDigits(r.customer_platform_id)) {
      Status bad = InvalidArgument("customer_platform_id must be a numeric Shopify customer id");
      return Fail(bad, bad.message());
    }
    if (r.add.empty() && r.remove.empty()) return PlatformResponse{};
    // Only the fields that have tags: both arguments are non-null lists.
    std::string query = "mutation LoyaltydCustomerTags($id: ID!";
    if (!r.add.empty()) query += ", $add: [String!]!";
    if (!r.remove.empty()) query += ", $remove: [String!]!";
    query += ") {\n";
    if (!r.add.empty()) query += kTagsAddField;
    if (!r.remove.empty()) query += kTagsRemoveField;
    query += "}";
    json variables = {{"id", CustomerGid(r.customer_platform_id)}};
    if (!r.add.empty()) variables["add"] = r.add;
    if (!r.remove.empty()) variables["remove"] = r.remove;
    GraphqlOutcome out = Execute(*http_, endpoint_path_, access_token_, query.c_str(), variables);
    if (!out.ok()) return out.failure;
    std::string detail;
    for (const char* field : {"tagsAdd", "tagsRemove"}) {
      const json& errors = UserErrors(out.data, field);
      if (!errors.empty())
        detail +=
            std::string(detail.empty() ? "" : "; ") + field + ": " + DescribeUserErrors(errors);
    }
    if (!detail.empty()) return Fail(FailedPrecondition("Shopify refused the tag change"), detail);
    PlatformResponse response;
    response.platform_reward_id = CustomerGid(r.customer_platform_id);
    return response;
  } catch (const std::exception& e) {
    return Fail(Unavailable("unexpected response from Shopify"), e.what());
  }
}

}  // namespace loyaltyd
