#include "fakes/fake_shopify_admin.h"

#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <exception>
#include <optional>
#include <regex>
#include <set>
#include <utility>

#define CPPHTTPLIB_OPENSSL_SUPPORT 1
#include <httplib.h>

#include "core/money.h"

namespace loyaltyd::fakes {
namespace {

using json = nlohmann::json;

constexpr const char* kInvalidToken =
    "[API] Invalid API key or access token (unrecognized login or wrong password)";
constexpr const char* kRateLimitDocs = "https://shopify.dev/api/usage/rate-limits";

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// DateTime as Shopify writes it: "2025-07-01T12:00:00Z".
std::string IsoSeconds(int64_t ms) {
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Parses "YYYY-MM-DDTHH:MM:SS[.fff](Z|+hh:mm)"; -1 when malformed.
int64_t ParseIso(const std::string& text) {
  static const std::regex kIso(
      R"(^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$)");
  std::smatch m;
  if (!std::regex_match(text, m, kIso)) return -1;
  std::tm tm{};
  tm.tm_year = std::stoi(m[1]) - 1900;
  tm.tm_mon = std::stoi(m[2]) - 1;
  tm.tm_mday = std::stoi(m[3]);
  tm.tm_hour = std::stoi(m[4]);
  tm.tm_min = std::stoi(m[5]);
  tm.tm_sec = std::stoi(m[6]);
  int64_t ms = static_cast<int64_t>(timegm(&tm)) * 1000;
  const std::string zone = m[8];
  if (zone != "Z") {
    const int64_t offset =
        (std::stoi(zone.substr(1, 2)) * 60 + std::stoi(zone.substr(4, 2))) * 60'000;
    ms += zone[0] == '+' ? -offset : offset;
  }
  return ms;
}

// Shopify prints Decimal amounts without trailing zeros but with one decimal: "5.0", "19.99".
std::string ShopifyDecimal(int64_t minor, int exponent) {
  std::string text = FormatMinor(minor, exponent);
  if (text.find('.') == std::string::npos) return text + ".0";
  while (text.back() == '0' && text[text.size() - 2] != '.') text.pop_back();
  return text;
}

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// --- The documented input types this fake validates against (Admin API 2025-07). ---
// https://shopify.dev/docs/api/admin-graphql/2025-07/input-objects/<Name>
struct FieldSpec {
  const char* name;
  const char* type;  // GraphQL type reference, e.g. "[ID!]", "MoneyInput!"
};

const std::map<std::string, std::vector<FieldSpec>>& InputTypes() {
  static const auto* kTypes = new std::map<std::string, std::vector<FieldSpec>>{
      {"DiscountCodeBasicInput",
       {{"appliesOncePerCustomer", "Boolean"},
        {"code", "String"},
        {"combinesWith", "DiscountCombinesWithInput"},
        {"context", "DiscountContextInput"},
        {"customerGets", "DiscountCustomerGetsInput"},
        {"customerSelection", "DiscountCustomerSelectionInput"},
        {"endsAt", "DateTime"},
        {"minimumRequirement", "DiscountMinimumRequirementInput"},
        {"recurringCycleLimit", "Int"},
        {"startsAt", "DateTime"},
        {"title", "String"},
        {"usageLimit", "Int"}}},
      {"DiscountCodeFreeShippingInput",
       {{"appliesOncePerCustomer", "Boolean"},
        {"appliesOnOneTimePurchase", "Boolean"},
        {"appliesOnSubscription", "Boolean"},
        {"code", "String"},
        {"combinesWith", "DiscountCombinesWithInput"},
        {"context", "DiscountContextInput"},
        {"customerSelection", "DiscountCustomerSelectionInput"},
        {"destination", "DiscountShippingDestinationSelectionInput"},
        {"endsAt", "DateTime"},
        {"maximumShippingPrice", "Decimal"},
        {"minimumRequirement", "DiscountMinimumRequirementInput"},
        {"recurringCycleLimit", "Int"},
        {"startsAt", "DateTime"},
        {"title", "String"},
        {"usageLimit", "Int"}}},
      {"DiscountCombinesWithInput",
       {{"orderDiscounts", "Boolean"},
        {"productDiscounts", "Boolean"},
        {"shippingDiscounts", "Boolean"}}},
      {"DiscountContextInput",
       {{"all", "DiscountBuyerSelection"},
        {"customers", "DiscountCustomersInput"},
        {"customerSegments", "DiscountCustomerSegmentsInput"}}},
      {"DiscountCustomerSelectionInput",
       {{"all", "Boolean"},
        {"customers", "DiscountCustomersInput"},
        {"customerSegments", "DiscountCustomerSegmentsInput"}}},
      {"DiscountCustomersInput", {{"add", "[ID!]"}, {"remove", "[ID!]"}}},
      {"DiscountCustomerSegmentsInput", {{"add", "[ID!]"}, {"remove", "[ID!]"}}},
      {"DiscountCustomerGetsInput",
       {{"appliesOnOneTimePurchase", "Boolean"},
        {"appliesOnSubscription", "Boolean"},
        {"items", "DiscountItemsInput"},
        {"value", "DiscountCustomerGetsValueInput"}}},
      {"DiscountCustomerGetsValueInput",
       {{"discountAmount", "DiscountAmountInput"},
        {"discountOnQuantity", "DiscountOnQuantityInput"},
        {"percentage", "Float"}}},
      {"DiscountAmountInput", {{"amount", "Decimal"}, {"appliesOnEachItem", "Boolean"}}},
      {"DiscountOnQuantityInput",
       {{"effect", "DiscountEffectInput"}, {"quantity", "UnsignedInt64"}}},
      {"DiscountEffectInput", {{"amount", "Decimal"}, {"percentage", "Float"}}},
      {"DiscountItemsInput",
       {{"all", "Boolean"},
        {"collections", "DiscountCollectionsInput"},
        {"products", "DiscountProductsInput"}}},
      {"DiscountCollectionsInput", {{"add", "[ID!]"}, {"remove", "[ID!]"}}},
      {"DiscountProductsInput",
       {{"productVariantsToAdd", "[ID!]"},
        {"productVariantsToRemove", "[ID!]"},
        {"productsToAdd", "[ID!]"},
        {"productsToRemove", "[ID!]"}}},
      {"DiscountMinimumRequirementInput",
       {{"quantity", "DiscountMinimumQuantityInput"},
        {"subtotal", "DiscountMinimumSubtotalInput"}}},
      {"DiscountMinimumQuantityInput", {{"greaterThanOrEqualToQuantity", "UnsignedInt64"}}},
      {"DiscountMinimumSubtotalInput", {{"greaterThanOrEqualToSubtotal", "Decimal"}}},
      {"DiscountShippingDestinationSelectionInput",
       {{"all", "Boolean"}, {"countries", "DiscountCountriesInput"}}},
      {"DiscountCountriesInput",
       {{"add", "[CountryCode!]"},
        {"includeRestOfWorld", "Boolean"},
        {"remove", "[CountryCode!]"}}},
      {"StoreCreditAccountCreditInput",
       {{"creditAmount", "MoneyInput!"}, {"expiresAt", "DateTime"}}},
      {"MoneyInput", {{"amount", "Decimal!"}, {"currencyCode", "CurrencyCode!"}}},
      {"MetafieldsSetInput",
       {{"compareDigest", "String"},
        {"key", "String!"},
        {"namespace", "String"},
        {"ownerId", "ID!"},
        {"type", "String"},
        {"value", "String!"}}},
  };
  return *kTypes;
}

// Root fields: the arguments each takes and their documented types.
struct RootField {
  const char* name;
  bool mutation;
  std::vector<FieldSpec> args;
};

const std::vector<RootField>& RootFields() {
  static const auto* kFields = new std::vector<RootField>{
      {"discountCodeBasicCreate", true, {{"basicCodeDiscount", "DiscountCodeBasicInput!"}}},
      {"discountCodeFreeShippingCreate",
       true,
       {{"freeShippingCodeDiscount", "DiscountCodeFreeShippingInput!"}}},
      {"storeCreditAccountCredit",
       true,
       {{"id", "ID!"}, {"creditInput", "StoreCreditAccountCreditInput!"}}},
      {"metafieldsSet", true, {{"metafields", "[MetafieldsSetInput!]!"}}},
      {"tagsAdd", true, {{"id", "ID!"}, {"tags", "[String!]!"}}},
      {"tagsRemove", true, {{"id", "ID!"}, {"tags", "[String!]!"}}},
      {"codeDiscountNodeByCode", false, {{"code", "String!"}}},
      {"customer", false, {{"id", "ID!"}}},
      // https://shopify.dev/docs/api/admin-graphql/latest/queries/orders and queries/order.
      {"orders",
       false,
       {{"first", "Int"},
        {"after", "String"},
        {"query", "String"},
        {"sortKey", "OrderSortKeys"},
        {"reverse", "Boolean"}}},
      {"order", false, {{"id", "ID!"}}},
  };
  return *kFields;
}

struct Problem {
  json path = json::array();
  std::string explanation;
};

// Validates `value` against a GraphQL type reference; appends what is wrong to `problems`.
void Validate(const json& value, std::string type, const json& path,
              std::vector<Problem>* problems) {
  const bool non_null = !type.empty() && type.back() == '!';
  if (non_null) type.pop_back();
  if (value.is_null()) {
    if (non_null) problems->push_back({path, "Expected value to not be null"});
    return;
  }
  if (type.front() == '[') {
    const std::string inner = type.substr(1, type.size() - 2);
    if (!value.is_array()) {
      problems->push_back({path, "Expected value to be a list"});
      return;
    }
    for (size_t i = 0; i < value.size(); ++i) {
      json item_path = path;
      item_path.push_back(i);
      Validate(value[i], inner, item_path, problems);
    }
    return;
  }
  auto bad = [&](const std::string& what) {
    problems->push_back({path, "Could not coerce value " + value.dump() + " to " + what});
  };
  if (type == "String" || type == "ID") {
    if (!value.is_string()) bad(type);
  } else if (type == "Int") {
    if (!value.is_number_integer()) bad(type);
  } else if (type == "Float") {
    if (!value.is_number()) bad(type);
  } else if (type == "Boolean") {
    if (!value.is_boolean()) bad(type);
  } else if (type == "Decimal") {
    if (value.is_string()) {
      if (!ParseDecimalToMinor(value.get<std::string>(), 10).ok()) bad(type);
    } else if (!value.is_number()) {
      bad(type);
    }
  } else if (type == "UnsignedInt64") {
    if (!(value.is_number_unsigned() ||
          (value.is_string() && !value.get<std::string>().empty() &&
           std::all_of(value.get_ref<const std::string&>().begin(),
                       value.get_ref<const std::string&>().end(), ::isdigit)))) {
      bad(type);
    }
  } else if (type == "DateTime") {
    if (!value.is_string() || ParseIso(value.get<std::string>()) < 0) bad(type);
  } else if (type == "CurrencyCode") {
    if (!value.is_string() || !CurrencyExponent(value.get<std::string>()).ok()) {
      problems->push_back({path, "Expected " + value.dump() + " to be one of: AED, AFN, ..."});
    }
  } else if (type == "CountryCode") {
    static const std::regex kCountry("^[A-Z]{2}$");
    if (!value.is_string() || !std::regex_match(value.get<std::string>(), kCountry)) bad(type);
  } else if (type == "OrderSortKeys") {
    static const std::set<std::string> kKeys = {"CREATED_AT",
                                                "CUSTOMER_NAME",
                                                "DESTINATION",
                                                "FINANCIAL_STATUS",
                                                "FULFILLMENT_STATUS",
                                                "ID",
                                                "ORDER_NUMBER",
                                                "PO_NUMBER",
                                                "PROCESSED_AT",
                                                "RELEVANCE",
                                                "TOTAL_ITEMS_QUANTITY",
                                                "TOTAL_PRICE",
                                                "UPDATED_AT"};
    if (!value.is_string() || kKeys.count(value.get<std::string>()) == 0) {
      problems->push_back(
          {path, "Expected " + value.dump() + " to be one of: " + "CREATED_AT, ..., UPDATED_AT"});
    }
  } else if (type == "DiscountBuyerSelection") {
    if (value != "ALL")
      problems->push_back({path, "Expected " + value.dump() + " to be one of: ALL"});
  } else {
    const auto it = InputTypes().find(type);
    if (it == InputTypes().end()) {
      problems->push_back({path, "fake: no schema for type " + type});
      return;
    }
    if (!value.is_object()) {
      problems->push_back({path, "Expected value to be an object (" + type + ")"});
      return;
    }
    for (const auto& [key, child] : value.items()) {
      const auto field = std::find_if(it->second.begin(), it->second.end(),
                                      [&](const FieldSpec& f) { return key == f.name; });
      json child_path = path;
      child_path.push_back(key);
      if (field == it->second.end()) {
        problems->push_back({child_path, "Field is not defined on " + type});
      } else {
        Validate(child, field->type, child_path, problems);
      }
    }
    for (const FieldSpec& f : it->second) {
      const std::string t = f.type;
      if (t.back() == '!' && !value.contains(f.name)) {
        json child_path = path;
        child_path.push_back(f.name);
        problems->push_back({child_path, "Expected value to not be null"});
      }
    }
  }
}

json TopLevelError(const std::string& message, const std::string& code,
                   json extra = json::object()) {
  json extensions = std::move(extra);
  extensions["code"] = code;
  return {{"message", message}, {"extensions", extensions}};
}

// The text between the parenthesis at `open` and its match.
std::string Parenthesised(const std::string& text, size_t open) {
  int depth = 0;
  for (size_t i = open; i < text.size(); ++i) {
    if (text[i] == '(') ++depth;
    if (text[i] == ')' && --depth == 0) return text.substr(open + 1, i - open - 1);
  }
  return text.substr(open + 1);
}

// name -> "$var" (or a literal) for the arguments of the first `field(` after `from`.
std::map<std::string, std::string> ArgumentBindings(const std::string& text,
                                                    const std::string& field, size_t from = 0) {
  std::map<std::string, std::string> bindings;
  const std::regex call("\\b" + field + "\\s*\\(");
  std::smatch m;
  const std::string rest = text.substr(from);
  if (!std::regex_search(rest, m, call)) return bindings;
  const std::string args =
      Parenthesised(rest, static_cast<size_t>(m.position(0) + m.length(0) - 1));
  static const std::regex kArg(R"((\w+)\s*:\s*(\$\w+|"[^"]*"|[^,\s)]+))");
  for (auto it = std::sregex_iterator(args.begin(), args.end(), kArg); it != std::sregex_iterator();
       ++it) {
    bindings[(*it)[1]] = (*it)[2];
  }
  return bindings;
}

json UserError(json field, const std::string& message, const std::string& code = "") {
  json e = {{"field", std::move(field)}, {"message", message}};
  if (!code.empty()) e["code"] = code;
  return e;
}

bool IsCustomerGid(const std::string& gid, std::string* numeric) {
  static const std::string kPrefix = "gid://shopify/Customer/";
  if (gid.rfind(kPrefix, 0) != 0) return false;
  *numeric = gid.substr(kPrefix.size());
  return !numeric->empty() && std::all_of(numeric->begin(), numeric->end(), ::isdigit);
}

// Connection costs as Shopify counts them: 2 plus one per node asked for (`first`); the
// customer query's two connections; an order's nested connections, roughly.
// https://shopify.dev/docs/api/usage/rate-limits#cost-calculation
int QueryExtraCost(const std::string& field, const std::map<std::string, json>& args) {
  if (field == "customer") return 2;
  if (field == "order") return 10;
  if (field == "orders") {
    const auto first = args.find("first");
    return 2 + (first != args.end() && first->second.is_number_integer() ? first->second.get<int>()
                                                                         : 0);
  }
  return 0;
}

// The numeric ids of two orders in numeric order (ids are decimal text of 64-bit integers).
bool NumericLess(const std::string& a, const std::string& b) {
  return a.size() != b.size() ? a.size() < b.size() : a < b;
}

}  // namespace

json FakeShopifyOrderNode(const FakeShopifyOrder& o) {
  const std::string id = std::to_string(o.id);
  auto money = [&](const std::string& amount) {
    return json{{"shopMoney", {{"amount", amount}, {"currencyCode", o.currency}}},
                {"presentmentMoney", {{"amount", amount}, {"currencyCode", o.currency}}}};
  };
  json node = {
      {"id", "gid://shopify/Order/" + id},
      {"legacyResourceId", id},
      {"name", "#" + std::to_string(1000 + o.id % 100000)},
      {"email", o.email},
      {"phone", nullptr},
      {"createdAt", IsoSeconds(o.created_at_ms != 0 ? o.created_at_ms : o.updated_at_ms)},
      {"updatedAt", IsoSeconds(o.updated_at_ms)},
      {"cancelledAt", o.cancelled ? json(IsoSeconds(o.updated_at_ms)) : json(nullptr)},
      {"test", false},
      {"taxesIncluded", false},
      {"currencyCode", o.currency},
      {"displayFinancialStatus", o.financial_status},
      {"displayFulfillmentStatus", o.fulfilled ? "FULFILLED" : "UNFULFILLED"},
      {"discountCodes", json::array()},
      {"customAttributes", json::array()},
      {"customerJourneySummary", nullptr},
      {"customer", nullptr},
      {"shippingAddress", nullptr},
      {"billingAddress", nullptr},
      {"subtotalPriceSet", money(o.subtotal)},
      {"totalPriceSet", money(o.subtotal)},
      {"totalTaxSet", money("0.00")},
      {"totalDiscountsSet", money("0.00")},
      {"totalShippingPriceSet", money("0.00")},
  };
  if (o.customer_id != 0) {
    node["customer"] = {{"id", "gid://shopify/Customer/" + std::to_string(o.customer_id)},
                        {"email", o.email},
                        {"firstName", "Ada"},
                        {"lastName", "Lovelace"},
                        {"phone", nullptr},
                        {"tags", json::array()}};
  }
  const std::string line_gid = "gid://shopify/LineItem/" + std::to_string(o.id % 1000000000 + 1);
  node["lineItems"] = {{"nodes",
                        {{{"id", line_gid},
                          {"sku", "SKU-1"},
                          {"title", "Sample product"},
                          {"vendor", "Loyaltyd Demo"},
                          {"quantity", 1},
                          {"isGiftCard", false},
                          {"requiresShipping", true},
                          {"product", {{"id", "gid://shopify/Product/632910392"}}},
                          {"variant", {{"id", "gid://shopify/ProductVariant/808950810"}}},
                          {"originalUnitPriceSet", money(o.subtotal)},
                          {"discountAllocations", json::array()},
                          {"taxLines", json::array()}}}},
                       {"pageInfo", {{"hasNextPage", o.more_line_items}}}};
  json refunds = json::array();
  for (const FakeShopifyRefund& r : o.refunds) {
    refunds.push_back({{"id", "gid://shopify/Refund/" + std::to_string(r.id)},
                       {"createdAt", IsoSeconds(o.updated_at_ms)},
                       {"refundLineItems",
                        {{"nodes",
                          {{{"lineItem", {{"id", line_gid}, {"isGiftCard", false}}},
                            {"quantity", 1},
                            {"subtotalSet", money(r.amount)},
                            {"totalTaxSet", money("0.00")}}}},
                         {"pageInfo", {{"hasNextPage", false}}}}}});
  }
  node["refunds"] = refunds;
  return node;
}

FakeShopifyAdmin::FakeShopifyAdmin(FakeShopifyOptions options)
    : options_(std::move(options)),
      server_(std::make_unique<httplib::Server>()),
      available_(options_.maximum_available),
      bucket_updated_ms_(NowMs()) {
  server_->set_tcp_nodelay(true);
  server_->set_read_timeout(5, 0);
  // Without SO_REUSEPORT (httplib's default sets it), so a busy demo port is reported, not shared.
  server_->set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  server_->Post(R"(/admin/api/([^/]+)/graphql\.json)", [this](const httplib::Request& req,
                                                              httplib::Response& res) {
    HandleGraphql(req.matches[1], req.get_header_value("X-Shopify-Access-Token"), req.body, res);
  });
  auto control = [this](const httplib::Request& req, httplib::Response& res) {
    HandleControl(req.matches[1], req.method, req.body, res);
  };
  server_->Post(R"(/_fake/(\w+))", control);
  server_->Get(R"(/_fake/(\w+))", control);
  server_->set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "unknown";
        try {
          std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        res.status = 500;
        res.set_content(json{{"errors", "fake: " + what}}.dump(), "application/json");
      });
}

FakeShopifyAdmin::~FakeShopifyAdmin() { Stop(); }

bool FakeShopifyAdmin::Start(int port) {
  if (port == 0) {
    port_ = server_->bind_to_any_port("127.0.0.1");
    if (port_ <= 0) return false;
  } else {
    if (!server_->bind_to_port("127.0.0.1", port)) return false;
    port_ = port;
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  // Ready when the accept loop runs (Stop() before that would not stop it).
  for (int i = 0; i < 2000 && !server_->is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return server_->is_running();
}

void FakeShopifyAdmin::Stop() {
  if (!thread_.joinable()) return;
  server_->stop();
  thread_.join();
}

std::string FakeShopifyAdmin::base_url() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

void FakeShopifyAdmin::AddCustomer(const std::string& numeric_id, const std::string& email) {
  std::lock_guard<std::mutex> lock(mu_);
  customers_[numeric_id].email = email;
}

void FakeShopifyAdmin::AddOrder(const json& node) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string gid = node.at("id").get<std::string>();
  orders_[gid.substr(gid.rfind('/') + 1)] = node;
}

void FakeShopifyAdmin::AddOrder(const FakeShopifyOrder& order) {
  AddOrder(FakeShopifyOrderNode(order));
}

int FakeShopifyAdmin::order_queries() const {
  std::lock_guard<std::mutex> lock(mu_);
  return order_queries_;
}

// orders(first:, after:, query:, sortKey:, reverse:): the seeded orders matching the query's
// updated_at filter (search syntax "updated_at:>='2025-01-01T00:00:00Z'", also > and without
// quotes; other terms are not supported and answer nothing), sorted by sortKey (UPDATED_AT or
// ID), as an OrderConnection: edges {cursor, node} and pageInfo. Cursors are opaque to clients:
// here "<sort value>:<id>", after which the next page starts. The nodes are answered whole
// (the fake does not evaluate selection sets).
json FakeShopifyAdmin::ListOrdersField(const std::map<std::string, json>& args) {
  ++order_queries_;
  auto arg = [&](const char* name) {
    const auto it = args.find(name);
    return it == args.end() ? json(nullptr) : it->second;
  };
  const int first = arg("first").is_number_integer() ? arg("first").get<int>() : 0;
  const std::string query = arg("query").is_string() ? arg("query").get<std::string>() : "";
  const std::string sort_key =
      arg("sortKey").is_string() ? arg("sortKey").get<std::string>() : "ID";
  const bool reverse = arg("reverse").is_boolean() && arg("reverse").get<bool>();
  int64_t min_ms = INT64_MIN;
  bool inclusive = true;
  if (!query.empty()) {
    static const std::regex kUpdated(R"(^\s*updated_at:(>=|>)'?([0-9T:.Z+\-]+)'?\s*$)");
    std::smatch m;
    if (!std::regex_match(query, m, kUpdated)) {
      ++order_queries_rejected_;
      return {{"edges", json::array()},
              {"pageInfo",
               {{"hasNextPage", false},
                {"hasPreviousPage", false},
                {"startCursor", nullptr},
                {"endCursor", nullptr}}}};
    }
    inclusive = m[1] == ">=";
    min_ms = ParseIso(m[2]);
  }
  struct Row {
    int64_t sort_ms;
    std::string id;
    const json* node;
  };
  std::vector<Row> rows;
  for (const auto& [id, node] : orders_) {
    const int64_t updated = ParseIso(node.value("updatedAt", std::string()));
    if (inclusive ? updated < min_ms : updated <= min_ms) continue;
    rows.push_back({sort_key == "UPDATED_AT" ? updated : 0, id, &node});
  }
  auto less = [](const Row& a, const Row& b) {
    return a.sort_ms != b.sort_ms ? a.sort_ms < b.sort_ms : NumericLess(a.id, b.id);
  };
  std::sort(rows.begin(), rows.end(), less);
  if (reverse) std::reverse(rows.begin(), rows.end());
  auto cursor_of = [](const Row& r) { return std::to_string(r.sort_ms) + ":" + r.id; };
  size_t start = 0;
  if (arg("after").is_string()) {
    const std::string after = arg("after").get<std::string>();
    const size_t colon = after.find(':');
    if (colon != std::string::npos) {
      const Row mark{std::stoll(after.substr(0, colon)), after.substr(colon + 1), nullptr};
      while (start < rows.size() &&
             (reverse ? !less(rows[start], mark) : !less(mark, rows[start]))) {
        ++start;
      }
    }
  }
  json edges = json::array();
  size_t end = start;
  for (; end < rows.size() && end - start < static_cast<size_t>(first); ++end) {
    edges.push_back({{"cursor", cursor_of(rows[end])}, {"node", *rows[end].node}});
  }
  return {{"edges", edges},
          {"pageInfo",
           {{"hasNextPage", end < rows.size()},
            {"hasPreviousPage", start > 0},
            {"startCursor", edges.empty() ? json(nullptr) : edges.front()["cursor"]},
            {"endCursor", edges.empty() ? json(nullptr) : edges.back()["cursor"]}}}};
}

void FakeShopifyAdmin::InjectFault(FakeFault fault, int count, int64_t param) {
  std::lock_guard<std::mutex> lock(mu_);
  faults_.push_back({fault, count, param});
}

void FakeShopifyAdmin::SetCurrentlyAvailable(double points) {
  std::lock_guard<std::mutex> lock(mu_);
  available_ = points;
  bucket_updated_ms_ = NowMs();
}

std::vector<FakeDiscount> FakeShopifyAdmin::discounts() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<FakeDiscount> out;
  for (const auto& [code, d] : discounts_) out.push_back(d);
  return out;
}

bool FakeShopifyAdmin::discount(const std::string& code, FakeDiscount* out) const {
  std::lock_guard<std::mutex> lock(mu_);
  const auto it = discounts_.find(Upper(code));
  if (it == discounts_.end()) return false;
  *out = it->second;
  return true;
}

std::vector<FakeStoreCreditTransaction> FakeShopifyAdmin::store_credits(
    const std::string& customer_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<FakeStoreCreditTransaction> out;
  for (const auto& t : credits_) {
    if (t.customer_id == customer_id) out.push_back(t);
  }
  return out;
}

std::vector<std::string> FakeShopifyAdmin::customer_tags(const std::string& customer_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  const auto it = customers_.find(customer_id);
  return it == customers_.end() ? std::vector<std::string>{} : it->second.tags;
}

std::vector<FakeMetafield> FakeShopifyAdmin::metafields(const std::string& customer_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<FakeMetafield> out;
  const auto it = customers_.find(customer_id);
  if (it != customers_.end()) {
    for (const auto& [k, m] : it->second.metafields) out.push_back(m);
  }
  return out;
}

int FakeShopifyAdmin::graphql_requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return graphql_requests_;
}

std::string FakeShopifyAdmin::NextId(const std::string& type) {
  return "gid://shopify/" + type + "/" + std::to_string(next_id_++);
}

void FakeShopifyAdmin::RefillBucket(int64_t now_ms) {
  const double elapsed_s = static_cast<double>(now_ms - bucket_updated_ms_) / 1000.0;
  if (elapsed_s > 0) {
    available_ =
        std::min(options_.maximum_available, available_ + elapsed_s * options_.restore_rate);
    bucket_updated_ms_ = now_ms;
  }
}

json FakeShopifyAdmin::CostExtension(int requested, bool charged) const {
  return {{"cost",
           {{"requestedQueryCost", requested},
            {"actualQueryCost", charged ? json(requested) : json(nullptr)},
            {"throttleStatus",
             {{"maximumAvailable", options_.maximum_available},
              {"currentlyAvailable", static_cast<int64_t>(available_)},
              {"restoreRate", options_.restore_rate}}}}}};
}

// Closes the connection after the headers: the client gets no body and cannot tell the outcome.
static void DropConnection(httplib::Response& res) {
  res.status = 200;
  res.set_content_provider(64, "application/json",
                           [](size_t, size_t, httplib::DataSink&) { return false; });
}

void FakeShopifyAdmin::HandleGraphql(const std::string& version, const std::string& token,
                                     const std::string& body, httplib::Response& res) {
  std::optional<PendingFault> fault;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++graphql_requests_;
    if (!faults_.empty()) {
      fault = faults_.front();
      if (--faults_.front().remaining <= 0) faults_.erase(faults_.begin());
    }
  }
  if (fault) {
    switch (fault->fault) {
      case FakeFault::kHttp500:
        res.status = 500;
        res.set_content(
            R"({"errors":"Internal error. Looks like something went wrong on our end."})",
            "application/json");
        return;
      case FakeFault::kHttp429: {
        res.status = 429;
        char seconds[32];
        std::snprintf(seconds, sizeof seconds, "%lld.0", static_cast<long long>(fault->param));
        res.set_header("Retry-After", seconds);
        res.set_content(
            R"({"errors":"Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."})",
            "application/json");
        return;
      }
      case FakeFault::kSlow:
        std::this_thread::sleep_for(std::chrono::milliseconds(fault->param));
        break;
      case FakeFault::kDropBeforeApply:
        DropConnection(res);
        return;
      case FakeFault::kDropAfterApply:
        break;
    }
  }
  res.set_header("X-Shopify-API-Version", version);
  if (std::find(options_.api_versions.begin(), options_.api_versions.end(), version) ==
      options_.api_versions.end()) {
    res.status = 404;
    res.set_content(R"({"errors":"Not Found"})", "application/json");
    return;
  }
  if (token != options_.access_token) {
    res.status = 401;
    res.set_content(json{{"errors", kInvalidToken}}.dump(), "application/json");
    return;
  }
  const json request = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (request.is_discarded() || !request.is_object() || !request.contains("query") ||
      !request["query"].is_string()) {
    res.status = 400;
    res.set_content(R"({"errors":{"query":"Required parameter missing or invalid"}})",
                    "application/json");
    return;
  }
  const json variables = request.contains("variables") && request["variables"].is_object()
                             ? request["variables"]
                             : json::object();
  json response;
  {
    std::lock_guard<std::mutex> lock(mu_);
    response = RunDocument(request["query"].get<std::string>(), variables, NowMs());
  }
  if (fault && fault->fault == FakeFault::kDropAfterApply) {
    DropConnection(res);
    return;
  }
  res.status = 200;
  res.set_content(response.dump(), "application/json");
}

json FakeShopifyAdmin::RunDocument(const std::string& query, const json& variables,
                                   int64_t now_ms) {
  RefillBucket(now_ms);
  const size_t body_start = query.find('{');
  if (body_start == std::string::npos) {
    return {{"errors", {TopLevelError("syntax error, unexpected end of file", "parseError")}}};
  }
  const std::string header = query.substr(0, body_start);
  const bool is_mutation = header.find("mutation") != std::string::npos;

  // Declared variables: $name -> type.
  std::map<std::string, std::string> declared;
  static const std::regex kDecl(R"(\$(\w+)\s*:\s*([\w\[\]!]+))");
  for (auto it = std::sregex_iterator(header.begin(), header.end(), kDecl);
       it != std::sregex_iterator(); ++it) {
    declared[(*it)[1]] = (*it)[2];
  }
  json errors = json::array();
  for (const auto& [name, value] : variables.items()) {
    if (!declared.count(name)) {
      errors.push_back(
          TopLevelError("Variable $" + name + " is not declared", "variableNotDeclared"));
    }
  }
  // Every declared variable must match its type, as Shopify validates before running anything.
  for (const auto& [name, type] : declared) {
    std::vector<Problem> problems;
    Validate(variables.contains(name) ? variables[name] : json(nullptr), type, json::array(),
             &problems);
    if (problems.empty()) continue;
    json listed = json::array();
    for (const Problem& p : problems) {
      listed.push_back({{"path", p.path}, {"explanation", p.explanation}});
    }
    std::string where;
    for (const json& part : problems[0].path) {
      if (!where.empty()) where += '.';
      where += part.is_string() ? part.get<std::string>() : part.dump();
    }
    errors.push_back(TopLevelError(
        "Variable $" + name + " of type " + type + " was provided invalid value" +
            (where.empty() ? "" : " for " + where) + " (" + problems[0].explanation + ")",
        "INVALID_VARIABLE",
        {{"value", variables.contains(name) ? variables[name] : json(nullptr)},
         {"problems", listed}}));
  }

  // Root fields in document order, with their arguments bound to variables.
  struct Call {
    size_t position;
    const RootField* field;
    std::map<std::string, json> args;
  };
  std::vector<Call> calls;
  const std::string body = query.substr(body_start);
  for (const RootField& f : RootFields()) {
    if (f.mutation != is_mutation) continue;
    const std::regex call("\\b" + std::string(f.name) + "\\s*\\(");
    std::smatch m;
    if (!std::regex_search(body, m, call)) continue;
    Call c{static_cast<size_t>(m.position(0)), &f, {}};
    const auto bindings = ArgumentBindings(body, f.name);
    for (const FieldSpec& arg : f.args) {
      const auto b = bindings.find(arg.name);
      if (b == bindings.end() && std::string(arg.type).back() != '!') continue;  // optional
      if (b == bindings.end()) {
        errors.push_back(TopLevelError(
            "Field '" + std::string(f.name) + "' is missing required arguments: " + arg.name,
            "missingRequiredArguments"));
        continue;
      }
      if (b->second.empty() || b->second[0] != '$') {
        errors.push_back(
            TopLevelError("fake: argument '" + std::string(arg.name) + "' of '" + f.name +
                              "' is an inline literal; loyaltyd passes every input as a variable",
                          "INLINE_LITERAL"));
        continue;
      }
      const std::string var = b->second.substr(1);
      const auto d = declared.find(var);
      if (d == declared.end()) {
        errors.push_back(
            TopLevelError("Variable $" + var + " is used by " + f.name + " but not declared",
                          "variableNotDefined"));
      } else if (d->second != arg.type && d->second != std::string(arg.type) + "!") {
        // A non-null variable may fill a nullable argument (GraphQL spec, "All Variable Usages
        // Are Allowed"); anything else is a mismatch.
        errors.push_back(TopLevelError("Type mismatch on variable $" + var + " and argument " +
                                           arg.name + " (" + d->second + " / " + arg.type + ")",
                                       "variableMismatch"));
      } else {
        c.args[arg.name] = variables.contains(var) ? variables[var] : json(nullptr);
      }
    }
    calls.push_back(std::move(c));
  }
  if (calls.empty() && errors.empty()) {
    static const std::regex kFirstField(R"(\{\s*(\w+))");
    std::smatch m;
    const std::string name = std::regex_search(body, m, kFirstField) ? m[1].str() : "?";
    errors.push_back(TopLevelError("Field '" + name + "' doesn't exist on type '" +
                                       (is_mutation ? "Mutation" : "QueryRoot") + "'",
                                   "undefinedField"));
  }
  if (!errors.empty()) return {{"errors", errors}, {"extensions", CostExtension(0, false)}};

  std::sort(calls.begin(), calls.end(),
            [](const Call& a, const Call& b) { return a.position < b.position; });
  int cost = 0;
  for (const Call& c : calls) {
    cost += c.field->mutation ? options_.mutation_cost
                              : options_.query_cost + QueryExtraCost(c.field->name, c.args);
  }
  // The leaky bucket: https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits
  if (available_ < cost) {
    return {
        {"errors", {TopLevelError("Throttled", "THROTTLED", {{"documentation", kRateLimitDocs}})}},
        {"extensions", CostExtension(cost, false)}};
  }
  available_ -= cost;
  json data = json::object();
  for (const Call& c : calls)
    data[c.field->name] = RunField(c.field->name, body, c.args, variables, now_ms);
  return {{"data", data}, {"extensions", CostExtension(cost, true)}};
}

json FakeShopifyAdmin::RunField(const std::string& field, const std::string& query,
                                const std::map<std::string, json>& args, const json& variables,
                                int64_t now_ms) {
  if (field == "discountCodeBasicCreate" || field == "discountCodeFreeShippingCreate") {
    const bool basic = field == "discountCodeBasicCreate";
    const std::string arg = basic ? "basicCodeDiscount" : "freeShippingCodeDiscount";
    const json& input = args.at(arg);
    json errors = json::array();
    auto path = [&](std::initializer_list<const char*> parts) {
      json p = json::array({arg});
      for (const char* s : parts) p.push_back(s);
      return p;
    };
    const std::string code = input.value("code", std::string());
    if (code.empty()) errors.push_back(UserError(path({"code"}), "Code can't be blank", "BLANK"));
    if (input.value("title", std::string()).empty()) {
      errors.push_back(UserError(path({"title"}), "Title can't be blank", "BLANK"));
    }
    if (!input.contains("startsAt") || input["startsAt"].is_null()) {
      errors.push_back(UserError(path({"startsAt"}), "Starts at can't be blank", "BLANK"));
    } else if (input.contains("endsAt") && input["endsAt"].is_string() &&
               ParseIso(input["endsAt"]) <= ParseIso(input["startsAt"])) {
      errors.push_back(
          UserError(path({"endsAt"}), "Ends at needs to be after starts_at", "INVALID"));
    }
    const bool has_context = input.contains("context") && !input["context"].is_null();
    const bool has_selection =
        input.contains("customerSelection") && !input["customerSelection"].is_null();
    if (has_context && has_selection) {
      errors.push_back(UserError(json::array({arg}),
                                 "Only one of context or customerSelection can be provided.",
                                 "INVALID"));
    } else if (!has_context && !has_selection) {
      errors.push_back(UserError(path({"context"}), "Context can't be blank", "BLANK"));
    }
    if (has_context) {
      const json& context = input["context"];
      const int kinds = context.contains("all") + context.contains("customers") +
                        context.contains("customerSegments");
      if (kinds != 1) {
        errors.push_back(UserError(path({"context"}),
                                   "Exactly one of all, customers or customerSegments is required",
                                   "INVALID"));
      }
      if (context.contains("customers") && context["customers"].contains("add")) {
        for (const json& gid : context["customers"]["add"]) {
          std::string id;
          if (!IsCustomerGid(gid.get<std::string>(), &id) || !customers_.count(id)) {
            errors.push_back(UserError(path({"context", "customers", "add"}),
                                       "Customer " + gid.get<std::string>() + " does not exist",
                                       "INVALID"));
          }
        }
      }
    }
    if (basic) {
      const json gets = input.value("customerGets", json());
      if (gets.is_null()) {
        errors.push_back(
            UserError(path({"customerGets"}), "Customer gets can't be blank", "BLANK"));
      } else {
        const json value = gets.value("value", json::object());
        const int kinds = value.contains("percentage") + value.contains("discountAmount") +
                          value.contains("discountOnQuantity");
        if (kinds != 1) {
          errors.push_back(UserError(path({"customerGets", "value"}),
                                     "Value must be exactly one of percentage, discountAmount or "
                                     "discountOnQuantity",
                                     "INVALID"));
        } else if (value.contains("percentage")) {
          const double p = value["percentage"].get<double>();
          if (p <= 0 || p > 1) {
            errors.push_back(UserError(path({"customerGets", "value", "percentage"}),
                                       "Value must be between 0.0 and 1.0", "VALUE_OUTSIDE_RANGE"));
          }
        }
        const json items = gets.value("items", json::object());
        if (items.empty()) {
          errors.push_back(
              UserError(path({"customerGets", "items"}), "Items can't be blank", "BLANK"));
        }
      }
    }
    if (!code.empty() && discounts_.count(Upper(code))) {
      errors.push_back(
          UserError(path({"code"}), "Code must be unique. Please try a different code.", "TAKEN"));
    }
    if (!errors.empty()) return {{"codeDiscountNode", nullptr}, {"userErrors", errors}};
    FakeDiscount d{NextId("DiscountCodeNode"),
                   basic ? "DiscountCodeBasic" : "DiscountCodeFreeShipping", code, input};
    discounts_[Upper(code)] = d;
    return {{"codeDiscountNode",
             {{"id", d.id},
              {"codeDiscount",
               {{"__typename", d.type},
                {"title", input["title"]},
                {"codes", {{"nodes", {{{"code", code}}}}}}}}}},
            {"userErrors", json::array()}};
  }

  if (field == "storeCreditAccountCredit") {
    const std::string gid = args.at("id").get<std::string>();
    const json& input = args.at("creditInput");
    std::string customer_id;
    if (!IsCustomerGid(gid, &customer_id) || !customers_.count(customer_id)) {
      return {{"storeCreditAccountTransaction", nullptr},
              {"userErrors", {UserError({"id"}, "Owner does not exist", "OWNER_NOT_FOUND")}}};
    }
    const json& money = input["creditAmount"];
    const std::string currency = money["currencyCode"];
    const int exponent = *CurrencyExponent(currency);
    const std::string amount_text =
        money["amount"].is_string() ? money["amount"].get<std::string>() : money["amount"].dump();
    Result<int64_t> minor = ParseDecimalToMinor(amount_text, exponent);
    if (!minor.ok() || *minor <= 0) {
      return {{"storeCreditAccountTransaction", nullptr},
              {"userErrors",
               {UserError({"creditInput", "creditAmount", "amount"},
                          "A positive amount must be used to credit a store credit account.",
                          "NEGATIVE_OR_ZERO_AMOUNT")}}};
    }
    std::string expires_at;
    if (input.contains("expiresAt") && input["expiresAt"].is_string()) {
      expires_at = input["expiresAt"];
      if (ParseIso(expires_at) <= now_ms) {
        return {{"storeCreditAccountTransaction", nullptr},
                {"userErrors",
                 {UserError({"creditInput", "expiresAt"}, "The expiry date must be in the future.",
                            "EXPIRES_AT_IN_PAST")}}};
      }
    }
    Customer& customer = customers_[customer_id];
    std::string& account = customer.credit_accounts[currency];
    if (account.empty()) account = NextId("StoreCreditAccount");
    FakeStoreCreditTransaction t{NextId("StoreCreditAccountCreditTransaction"),
                                 customer_id,
                                 amount_text,
                                 currency,
                                 expires_at,
                                 now_ms};
    credits_.push_back(t);
    int64_t balance = 0;
    for (const auto& c : credits_) {
      if (c.customer_id == customer_id && c.currency == currency) {
        balance += *ParseDecimalToMinor(c.amount, exponent);
      }
    }
    return {
        {"storeCreditAccountTransaction",
         {{"id", t.id},
          {"amount", {{"amount", ShopifyDecimal(*minor, exponent)}, {"currencyCode", currency}}},
          {"createdAt", IsoSeconds(now_ms)},
          {"account",
           {{"id", account},
            {"balance",
             {{"amount", ShopifyDecimal(balance, exponent)}, {"currencyCode", currency}}}}}}},
        {"userErrors", json::array()}};
  }

  if (field == "metafieldsSet") {
    // All or nothing, as documented: one invalid metafield sets none.
    const json& list = args.at("metafields");
    json errors = json::array();
    static const std::regex kKey("^[A-Za-z0-9_-]{2,64}$");
    static const std::regex kNamespace("^[A-Za-z0-9_-]{3,255}$");
    for (size_t i = 0; i < list.size(); ++i) {
      const json& m = list[i];
      const std::string index = std::to_string(i);
      std::string id;
      if (!IsCustomerGid(m["ownerId"], &id) || !customers_.count(id)) {
        errors.push_back(
            UserError({"metafields", index, "ownerId"}, "Owner does not exist", "INVALID"));
      }
      if (!std::regex_match(m["key"].get<std::string>(), kKey)) {
        errors.push_back(UserError({"metafields", index, "key"},
                                   "Key must be 2-64 characters of letters, digits, - and _",
                                   "INVALID"));
      }
      if (!std::regex_match(m.value("namespace", std::string("app--fake")), kNamespace) &&
          m.value("namespace", std::string()) != "") {
        errors.push_back(UserError({"metafields", index, "namespace"},
                                   "Namespace must be 3-255 characters", "INVALID"));
      }
      if (m.value("type", std::string()).empty()) {
        errors.push_back(UserError({"metafields", index, "type"},
                                   "Type can't be blank when there is no definition", "BLANK"));
      }
    }
    if (!errors.empty()) return {{"metafields", nullptr}, {"userErrors", errors}};
    json out = json::array();
    for (const json& m : list) {
      std::string id;
      IsCustomerGid(m["ownerId"], &id);
      FakeMetafield f{m.value("namespace", std::string("app--fake")), m["key"], m["type"],
                      m["value"], now_ms};
      customers_[id].metafields[f.namespace_ + "." + f.key] = f;
      out.push_back({{"id", NextId("Metafield")},
                     {"namespace", f.namespace_},
                     {"key", f.key},
                     {"value", f.value},
                     {"updatedAt", IsoSeconds(now_ms)}});
    }
    return {{"metafields", out}, {"userErrors", json::array()}};
  }

  if (field == "tagsAdd" || field == "tagsRemove") {
    const std::string gid = args.at("id");
    std::string id;
    if (!IsCustomerGid(gid, &id) || !customers_.count(id)) {
      return {{"node", nullptr}, {"userErrors", {UserError({"id"}, "Customer does not exist")}}};
    }
    std::vector<std::string>& tags = customers_[id].tags;
    for (const json& tag : args.at("tags")) {
      const std::string t = tag;
      const auto it = std::find(tags.begin(), tags.end(), t);
      if (field == "tagsAdd" && it == tags.end()) tags.push_back(t);
      if (field == "tagsRemove" && it != tags.end()) tags.erase(it);
    }
    return {{"node", {{"id", gid}}}, {"userErrors", json::array()}};
  }

  if (field == "codeDiscountNodeByCode") {
    const auto it = discounts_.find(Upper(args.at("code")));
    if (it == discounts_.end()) return nullptr;
    const FakeDiscount& d = it->second;
    return {{"id", d.id},
            {"codeDiscount",
             {{"__typename", d.type},
              {"title", d.input["title"]},
              {"codes", {{"nodes", {{{"code", d.code}}}}}}}}};
  }

  if (field == "orders") return ListOrdersField(args);
  if (field == "order") {
    const std::string gid = args.at("id").is_string() ? args.at("id").get<std::string>() : "";
    static const std::string kPrefix = "gid://shopify/Order/";
    if (gid.rfind(kPrefix, 0) != 0) return nullptr;
    const auto it = orders_.find(gid.substr(kPrefix.size()));
    return it == orders_.end() ? json(nullptr) : it->second;
  }

  if (field == "customer") {
    const std::string gid = args.at("id");
    std::string id;
    if (!IsCustomerGid(gid, &id) || !customers_.count(id)) return nullptr;
    const Customer& customer = customers_.at(id);
    json out = {{"id", gid}, {"email", customer.email}, {"tags", customer.tags}};
    // metafield(namespace:, key:) with variables, if selected.
    const auto bindings = ArgumentBindings(query, "metafield", query.find("customer"));
    if (bindings.count("key")) {
      auto resolve = [&](const std::string& arg, const std::string& fallback) -> std::string {
        const auto b = bindings.find(arg);
        if (b == bindings.end()) return fallback;
        if (b->second[0] == '$') return variables.value(b->second.substr(1), fallback);
        return b->second.size() >= 2 && b->second[0] == '"'
                   ? b->second.substr(1, b->second.size() - 2)
                   : b->second;
      };
      const std::string ns = resolve("namespace", "app--fake");
      const std::string key = resolve("key", "");
      const auto m = customer.metafields.find(ns + "." + key);
      out["metafield"] = m == customer.metafields.end()
                             ? json(nullptr)
                             : json{{"namespace", ns},
                                    {"key", key},
                                    {"value", m->second.value},
                                    {"updatedAt", IsoSeconds(m->second.updated_at_ms)}};
    }
    // storeCreditAccounts { nodes { transactions } }: newest first with reverse: true.
    const bool reverse =
        std::regex_search(query, std::regex(R"(transactions\s*\([^)]*reverse\s*:\s*true)"));
    std::smatch first_match;
    size_t first = 50;
    if (std::regex_search(query, first_match,
                          std::regex(R"(transactions\s*\(\s*first\s*:\s*(\d+))"))) {
      first = std::stoul(first_match[1]);
    }
    json accounts = json::array();
    for (const auto& [currency, account] : customer.credit_accounts) {
      const int exponent = *CurrencyExponent(currency);
      std::vector<const FakeStoreCreditTransaction*> list;
      int64_t balance = 0;
      for (const auto& t : credits_) {
        if (t.customer_id != id || t.currency != currency) continue;
        list.push_back(&t);
        balance += *ParseDecimalToMinor(t.amount, exponent);
      }
      if (reverse) std::reverse(list.begin(), list.end());
      if (list.size() > first) list.resize(first);
      json nodes = json::array();
      for (const auto* t : list) {
        nodes.push_back(
            {{"__typename", "StoreCreditAccountCreditTransaction"},
             {"id", t->id},
             {"amount",
              {{"amount", ShopifyDecimal(*ParseDecimalToMinor(t->amount, exponent), exponent)},
               {"currencyCode", currency}}},
             {"createdAt", IsoSeconds(t->created_at_ms)}});
      }
      accounts.push_back(
          {{"id", account},
           {"balance", {{"amount", ShopifyDecimal(balance, exponent)}, {"currencyCode", currency}}},
           {"transactions", {{"nodes", nodes}}}});
    }
    out["storeCreditAccounts"] = {{"nodes", accounts}};
    return out;
  }
  return nullptr;
}

void FakeShopifyAdmin::HandleControl(const std::string& what, const std::string& method,
                                     const std::string& body, httplib::Response& res) {
  const json request = body.empty() ? json::object() : json::parse(body, nullptr, false);
  if (request.is_discarded()) {
    res.status = 400;
    res.set_content(R"({"error":"body is not JSON"})", "application/json");
    return;
  }
  if (what == "customers" && method == "POST") {
    const std::string id = request.value("id", std::string());
    if (id.empty() || !std::all_of(id.begin(), id.end(), ::isdigit)) {
      res.status = 400;
      res.set_content(R"({"error":"id must be a numeric customer id"})", "application/json");
      return;
    }
    AddCustomer(id, request.value("email", std::string()));
  } else if (what == "fault" && method == "POST") {
    static const std::map<std::string, FakeFault> kKinds = {
        {"http500", FakeFault::kHttp500},
        {"http429", FakeFault::kHttp429},
        {"slow", FakeFault::kSlow},
        {"drop_before_apply", FakeFault::kDropBeforeApply},
        {"drop_after_apply", FakeFault::kDropAfterApply}};
    const auto kind = kKinds.find(request.value("kind", std::string()));
    if (kind == kKinds.end()) {
      res.status = 400;
      res.set_content(
          R"({"error":"kind must be http500, http429, slow, drop_before_apply or drop_after_apply"})",
          "application/json");
      return;
    }
    const int64_t param = kind->second == FakeFault::kSlow
                              ? request.value("delay_ms", int64_t{1000})
                              : request.value("retry_after_seconds", int64_t{2});
    InjectFault(kind->second, request.value("count", 1), param);
  } else if (what == "throttle" && method == "POST") {
    SetCurrentlyAvailable(request.value("currently_available", 0.0));
  } else if (what == "state" && method == "GET") {
    std::lock_guard<std::mutex> lock(mu_);
    json state = {{"discounts", json::array()},
                  {"store_credits", json::array()},
                  {"customers", json::object()}};
    for (const auto& [code, d] : discounts_) {
      state["discounts"].push_back(
          {{"id", d.id}, {"type", d.type}, {"code", d.code}, {"input", d.input}});
    }
    for (const auto& t : credits_) {
      state["store_credits"].push_back({{"id", t.id},
                                        {"customer_id", t.customer_id},
                                        {"amount", t.amount},
                                        {"currency", t.currency}});
    }
    for (const auto& [id, c] : customers_) {
      json metafields = json::object();
      for (const auto& [k, m] : c.metafields) metafields[k] = m.value;
      state["customers"][id] = {{"email", c.email}, {"tags", c.tags}, {"metafields", metafields}};
    }
    state["bucket"] = CostExtension(0, false)["cost"]["throttleStatus"];
    res.set_content(state.dump(2), "application/json");
    return;
  } else {
    res.status = 404;
    res.set_content(R"({"error":"unknown control endpoint"})", "application/json");
    return;
  }
  res.set_content(R"({"ok":true})", "application/json");
}

}  // namespace loyaltyd::fakes
