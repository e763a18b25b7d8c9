// A fake Shopify Admin GraphQL API: a real HTTP server on 127.0.0.1 that the real
// ShopifyAdminClient (and the loyaltyd-fake-store demo) talks to over loopback.
//
// Why a fake server rather than a mock: the client's HTTP, JSON and error mapping are the risky
// parts, and only a server exercises them (envoy's fake upstreams, leveldb's ErrorEnv).
//
// Faithful to the documented API where loyaltyd depends on it:
//   - POST /admin/api/{version}/graphql.json; other versions 404; X-Shopify-Access-Token checked
//     (401 with Shopify's body).
//   - Operations are recognised by their root field names in the query text (the fake does not
//     parse GraphQL or evaluate selection sets: each operation answers a fixed, documented
//     shape). Arguments must be bound to variables declared with the documented type, and the
//     variables are validated strictly against the documented input objects: an unknown or a
//     missing required field is a top-level INVALID_VARIABLE error in a 200, as Shopify answers.
//   - Business rules as userErrors: duplicate codes (TAKEN), unknown customers, context together
//     with customerSelection, non-positive credits, currency mismatches.
//   - Cost-based throttling with a leaky bucket (maximumAvailable, restoreRate); every answer
//     carries extensions.cost; an empty bucket answers THROTTLED and changes nothing.
// Supported: discountCodeBasicCreate, discountCodeFreeShippingCreate, storeCreditAccountCredit,
// metafieldsSet, tagsAdd, tagsRemove (mutations); codeDiscountNodeByCode, customer, orders and
// order (queries). Orders are seeded by tests (AddOrder) as GraphQL Order nodes; `orders` pages
// them as an OrderConnection (edges {cursor, node}, pageInfo {hasNextPage, endCursor}) filtered
// by the query string's updated_at term and sorted by sortKey; its cost is a connection's
// (2 + first), so a small bucket makes a listing THROTTLED as Shopify would.
//
// Fault injection (C++ API, or POST /_fake/fault for the demo): the next N GraphQL requests
// answer 500, answer 429 with Retry-After, sleep before answering, or drop the connection before
// or AFTER applying the mutation (the client then never learns that it succeeded).
// Control endpoints, unauthenticated, for the demo: POST /_fake/customers {"id","email"},
// POST /_fake/fault {"kind","count","retry_after_seconds","delay_ms"}, GET /_fake/state.
//
// Thread-safety: every public method may be called from any thread while the server runs;
// the state is guarded by mu_.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace httplib {
class Server;
class Response;
}  // namespace httplib

namespace loyaltyd::fakes {

struct FakeShopifyOptions {
  std::string access_token = "shpat_fake_0123456789abcdef";
  std::vector<std::string> api_versions = {"2025-04", "2025-07", "2025-10", "2026-01"};
  // The leaky bucket (Shopify's defaults vary by plan; these are the classic app defaults).
  double maximum_available = 1000;
  double restore_rate = 50;  // points per second
  int mutation_cost = 10;    // per root mutation field
  int query_cost = 1;        // per root query field (+2 for the customer query's connections)
};

// A discount code created through the API.
struct FakeDiscount {
  std::string id;        // gid://shopify/DiscountCodeNode/N
  std::string type;      // "DiscountCodeBasic" or "DiscountCodeFreeShipping"
  std::string code;      // as created
  nlohmann::json input;  // the DiscountCode*Input exactly as received
};

struct FakeStoreCreditTransaction {
  std::string id;           // gid://shopify/StoreCreditAccountCreditTransaction/N
  std::string customer_id;  // numeric
  std::string amount;       // Decimal as received, e.g. "5.00"
  std::string currency;
  std::string expires_at;  // empty when none
  int64_t created_at_ms = 0;
};

struct FakeMetafield {
  std::string namespace_;
  std::string key;
  std::string type;
  std::string value;
  int64_t updated_at_ms = 0;
};

// An order to seed, in loyaltyd's terms; FakeShopifyOrderNode makes the GraphQL Order node
// (https://shopify.dev/docs/api/admin-graphql/latest/objects/Order) with one line item of
// `subtotal`, money as MoneyBags of decimal strings and ids as gids.
struct FakeShopifyRefund {
  uint64_t id = 0;
  std::string amount;  // refunded on the line, decimal
};
struct FakeShopifyOrder {
  uint64_t id = 0;
  uint64_t customer_id = 0;  // 0: a guest
  std::string email;
  std::string subtotal = "49.00";
  std::string currency = "USD";
  std::string financial_status = "PAID";  // OrderDisplayFinancialStatus
  bool fulfilled = false;
  bool cancelled = false;
  std::vector<FakeShopifyRefund> refunds;
  int64_t updated_at_ms = 0;
  int64_t created_at_ms = 0;     // 0: updated_at_ms
  bool more_line_items = false;  // lineItems.pageInfo.hasNextPage
};
nlohmann::json FakeShopifyOrderNode(const FakeShopifyOrder& order);

enum class FakeFault {
  kHttp500,          // answer 500
  kHttp429,          // answer 429 with Retry-After: <retry_after_seconds>
  kSlow,             // sleep delay_ms, then answer normally
  kDropBeforeApply,  // close the connection without doing anything
  kDropAfterApply,   // apply the operation, then close the connection without a body
};

class FakeShopifyAdmin {
 public:
  explicit FakeShopifyAdmin(FakeShopifyOptions options = {});
  ~FakeShopifyAdmin();  // stops the server

  FakeShopifyAdmin(const FakeShopifyAdmin&) = delete;
  FakeShopifyAdmin& operator=(const FakeShopifyAdmin&) = delete;

  // Binds 127.0.0.1:port (0: a free port) and serves on its own thread. False when the port
  // cannot be bound.
  bool Start(int port = 0);
  void Stop();
  int port() const { return port_; }
  std::string base_url() const;  // http://127.0.0.1:<port>
  const FakeShopifyOptions& options() const { return options_; }

  // --- Seeding and fault injection ---
  void AddCustomer(const std::string& numeric_id, const std::string& email);
  // Adds or replaces (by id) an order the orders and order queries answer with.
  void AddOrder(const nlohmann::json& graphql_order_node);
  void AddOrder(const FakeShopifyOrder& order);
  void InjectFault(FakeFault fault, int count, int64_t param = 0);  // param: seconds or ms
  // Sets the bucket's current level (e.g. 0 to make the next request THROTTLED).
  void SetCurrentlyAvailable(double points);

  // --- What the API created, for tests ---
  std::vector<FakeDiscount> discounts() const;
  // The discount with this code (case-insensitive, as Shopify matches codes), or false.
  bool discount(const std::string& code, FakeDiscount* out) const;
  std::vector<FakeStoreCreditTransaction> store_credits(const std::string& customer_id) const;
  std::vector<std::string> customer_tags(const std::string& customer_id) const;
  std::vector<FakeMetafield> metafields(const std::string& customer_id) const;
  int graphql_requests() const;  // requests that reached the GraphQL handler, faults included
  int order_queries() const;     // `orders` listings answered (pages)

 private:
  struct Customer {
    std::string email;
    std::vector<std::string> tags;                       // in insertion order, unique
    std::map<std::string, FakeMetafield> metafields;     // by namespace + "." + key
    std::map<std::string, std::string> credit_accounts;  // currency -> account gid
  };
  struct PendingFault {
    FakeFault fault;
    int remaining;
    int64_t param;
  };

  void HandleGraphql(const std::string& version, const std::string& token, const std::string& body,
                     httplib::Response& res);
  void HandleControl(const std::string& what, const std::string& method, const std::string& body,
                     httplib::Response& res);
  // Runs one GraphQL document against the state (validation, cost, then each root field in
  // document order) and returns the response body. mu_ held.
  nlohmann::json RunDocument(const std::string& query, const nlohmann::json& variables,
                             int64_t now_ms);
  nlohmann::json RunField(const std::string& field, const std::string& query,
                          const std::map<std::string, nlohmann::json>& args,
                          const nlohmann::json& variables, int64_t now_ms);           // mu_ held
  nlohmann::json ListOrdersField(const std::map<std::string, nlohmann::json>& args);  // mu_ held
  nlohmann::json CostExtension(int requested, bool charged) const;                    // mu_ held
  void RefillBucket(int64_t now_ms);                                                  // mu_ held
  std::string NextId(const std::string& type);                                        // mu_ held

  const FakeShopifyOptions options_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;

  mutable std::mutex mu_;
  std::map<std::string, Customer> customers_;        // guarded by mu_; by numeric id
  std::map<std::string, FakeDiscount> discounts_;    // guarded by mu_; by upper-case code
  std::vector<FakeStoreCreditTransaction> credits_;  // guarded by mu_
  std::vector<PendingFault> faults_;                 // guarded by mu_
  double available_ = 0;                             // guarded by mu_
  int64_t bucket_updated_ms_ = 0;                    // guarded by mu_
  int64_t next_id_ = 1001;                           // guarded by mu_
  int graphql_requests_ = 0;                         // guarded by mu_
  std::map<std::string, nlohmann::json> orders_;     // guarded by mu_; by numeric id
  int order_queries_ = 0;                            // guarded by mu_
  int order_queries_rejected_ = 0;                   // guarded by mu_
};

}  // namespace loyaltyd::fakes
