// docs/openapi.yaml against the real daemon's answers: a customer with an order, a tier and an
// adjustment is made through the public routes, then a representative set of documented
// operations is called and each answer must have a status the document lists for that
// operation and, for a JSON body, exactly the top-level fields of the documented schema (every
// required one present, none undocumented). tests/unit/http/openapi_routes_test.cc checks
// that the document and the registered routes name the same operations.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "connectors/shopify/shopify_samples.h"
#include "integration/daemon_harness.h"
#include "support/openapi_document.h"

namespace loyaltyd::testing::openapi_test {
namespace {

using nlohmann::json;

constexpr const char* kStorefrontSecret = "it-openapi-storefront-secret-0123456789abcdef";

class OpenApiAnswersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const test_support::OpenApiDocument document =
        test_support::ReadOpenApiDocument(std::string(LOYALTYD_SOURCE_DIR) + "/docs/openapi.yaml");
    ASSERT_TRUE(document.error.empty()) << document.error;
    doc_ = document.doc;

    json& config = daemon_.config();
    config["program"]["rewards"] = json::array(
        {{{"id", "five-off"},
          {"name", "$5 off"},
          {"points", 500},
          {"kind", "fixed_discount"},
          {"amount", "5.00"},
          {"minimum_order", "25.00"}},
         {{"id", "tenpct"},
          {"name", "10% off"},
          {"points", 800},
          {"kind", "percentage_discount"},
          {"percentage", 10}},
         {{"id", "ship"}, {"name", "Free shipping"}, {"points", 100}, {"kind", "free_shipping"}}});
    config["program"]["tiers"] = json::parse(R"({
      "metric": "spend",
      "window": {"kind": "rolling", "days": 365},
      "keep_for": {"kind": "until_end_of_next_year"},
      "levels": [
        {"id": "silver", "name": "Silver", "threshold": "500.00", "multiplier": "1.25"},
        {"id": "gold", "name": "Gold", "threshold": "1500.00", "multiplier": "1.5"}
      ]
    })");
    config["storefront"] = {{"token_secret", kStorefrontSecret},
                            {"token_ttl_seconds", 3600},
                            {"allowed_origins", {"https://shop.example.com"}}};
    daemon_.Start();

    ShopifySampleOptions options;
    options.order_id = 910001;
    options.customer_id = 7001;
    options.email = "ada@example.com";
    options.subtotal = "600.00";
    Result<std::string> body = ShopifySampleBody("orders/paid", options);
    ASSERT_TRUE(body.ok()) << body.status().ToString();
    CheckPost("/webhooks/shopify", 200,
              daemon_.PostShopifyWebhook("orders/paid", *body, "evt-openapi-1"));
    ASSERT_TRUE(daemon_.WaitUntilProcessed());
    const json found = daemon_.Get("/api/v1/customers?email=ada@example.com").Json();
    ASSERT_EQ(found["customers"].size(), 1u) << found.dump();
    id_ = std::to_string(found["customers"][0]["id"].get<int64_t>());
  }

  // Records a problem when the answer's status is not `expected` or does not match the document
  // for (path template, method).
  void Check(const std::string& method, const std::string& path_template, int expected,
             const HttpAnswer& answer) {
    const std::string what = method + " " + path_template;
    if (answer.status != expected) {
      problems_.push_back(what + ": status " + std::to_string(answer.status) + ", expected " +
                          std::to_string(expected) + ": " + answer.body);
    }
    const std::string mismatch = test_support::CheckAnswerAgainstDocument(
        doc_, path_template, method, answer.status, answer.body);
    if (!mismatch.empty()) problems_.push_back(mismatch);
    ++checked_;
  }
  void CheckGet(const std::string& path_template, const std::string& url, int expected,
                const std::string& token = kAdminToken) {
    Check("get", path_template, expected, daemon_.Get(url, token));
  }
  void CheckPost(const std::string& path_template, int expected, const HttpAnswer& answer) {
    Check("post", path_template, expected, answer);
  }

  std::string Problems() const {
    std::string out;
    for (const std::string& p : problems_) out += "\n  " + p;
    return out;
  }

  DaemonHarness daemon_;
  json doc_;
  std::string id_;  // the customer's id
  std::vector<std::string> problems_;
  int checked_ = 0;
};

TEST_F(OpenApiAnswersTest, AnswersHaveADocumentedStatusAndExactlyTheDocumentedFields) {
  // Writes first, so that the reads below have a token, an adjustment and a lot to show.
  CheckPost("/api/v1/customers/{id}/adjustments", 201,
            daemon_.Post("/api/v1/customers/" + id_ + "/adjustments",
                         json({{"points", 25},
                               {"reason", "goodwill"},
                               {"actor", "ann@shop.example"},
                               {"idempotency_key", "openapi-adj-1"}})
                             .dump()));
  const HttpAnswer token = daemon_.Post("/api/v1/customers/" + id_ + "/token", "");
  CheckPost("/api/v1/customers/{id}/token", 201, token);
  const std::string customer_token = token.Json().value("token", "");

  const std::string c = "/api/v1/customers/" + id_;
  // Customers and points.
  CheckGet("/api/v1/customers", "/api/v1/customers?email=ada@example.com", 200);
  CheckGet("/api/v1/customers", "/api/v1/customers?tier=silver", 200);
  CheckGet("/api/v1/customers", "/api/v1/customers?email=ada@example.com&limit=0", 400);
  CheckGet("/api/v1/customers", "/api/v1/customers", 400);
  CheckGet("/api/v1/customers/{id}", c, 200);
  CheckGet("/api/v1/customers/{id}", "/api/v1/customers/999999", 404);
  CheckGet("/api/v1/customers/{id}/ledger", c + "/ledger", 200);
  CheckGet("/api/v1/customers/{id}/ledger", c + "/ledger?limit=501", 400);
  CheckGet("/api/v1/customers/{id}/lots", c + "/lots?status=open", 200);
  CheckGet("/api/v1/customers/{id}/credit", c + "/credit", 200);
  CheckGet("/api/v1/customers/{id}/redemptions", c + "/redemptions", 200);
  CheckGet("/api/v1/customers/{id}/referrals", c + "/referrals", 200);
  CheckGet("/api/v1/customers/{id}/referral", c + "/referral", 409);  // no referral program
  CheckGet("/api/v1/customers/{id}/export", c + "/export", 200);
  CheckGet("/api/v1/redemptions/{id}", "/api/v1/redemptions/999999", 404);
  CheckGet("/api/v1/rewards", "/api/v1/rewards", 200);
  // Operations.
  CheckGet("/api/v1/stats", "/api/v1/stats", 200);
  CheckGet("/api/v1/stats", "/api/v1/stats", 401, "not-the-admin-token");
  CheckGet("/api/v1/jobs", "/api/v1/jobs", 200);
  CheckGet("/api/v1/jobs", "/api/v1/jobs?status=stuck", 400);
  CheckGet("/api/v1/events", "/api/v1/events", 200);
  CheckGet("/api/v1/events-out", "/api/v1/events-out", 200);
  CheckGet("/api/v1/shops", "/api/v1/shops", 200);
  CheckGet("/api/v1/privacy/requests", "/api/v1/privacy/requests", 200);
  CheckGet("/healthz", "/healthz", 200, "");
  // Reports.
  CheckGet("/api/v1/reports/customers", "/api/v1/reports/customers", 200);
  CheckGet("/api/v1/reports/liability", "/api/v1/reports/liability", 200);
  CheckGet("/api/v1/reports/liability", "/api/v1/reports/liability?format=xml", 400);
  CheckGet("/api/v1/reports/tiers", "/api/v1/reports/tiers", 200);
  CheckGet("/api/v1/reports/referrals", "/api/v1/reports/referrals", 200);
  // Storefront: the customer token only.
  CheckGet("/api/v1/me", "/api/v1/me", 200, customer_token);
  CheckGet("/api/v1/me/ledger", "/api/v1/me/ledger", 200, customer_token);
  CheckGet("/api/v1/me/rewards", "/api/v1/me/rewards", 200, customer_token);
  CheckGet("/api/v1/me", "/api/v1/me", 401);  // the admin token is refused here

  EXPECT_TRUE(problems_.empty()) << "answers that do not match docs/openapi.yaml:" << Problems();
  EXPECT_GE(checked_, 30);
}

}  // namespace
}  // namespace loyaltyd::testing::openapi_test
