// The real ShopifyAdminClient against the real fake Admin GraphQL server over loopback.
#include "connectors/shopify/shopify_admin_client.h"

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#define CPPHTTPLIB_OPENSSL_SUPPORT 1
#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "fakes/fake_shopify_admin.h"

namespace loyaltyd::shopify_admin_client_test {
namespace {

using fakes::FakeDiscount;
using fakes::FakeFault;
using fakes::FakeShopifyAdmin;
using json = nlohmann::json;

// Above 2^53: must survive exactly (never through a double).
constexpr const char* kCustomerId = "7001234567890123457";
constexpr const char* kCustomerGid = "gid://shopify/Customer/7001234567890123457";
constexpr int64_t kStartsAtMs = 1767225600000;  // 2026-01-01T00:00:00Z
constexpr int64_t kEndsAtMs = kStartsAtMs + 30LL * 24 * 3600 * 1000;

class FixedClock final : public Clock {
 public:
  int64_t NowMillis() const override { return kStartsAtMs; }
};

class ShopifyAdminClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fake_.AddCustomer(kCustomerId, "ann@example.com");
    ASSERT_TRUE(fake_.Start());
    client_ = MakeClient(fake_.options().access_token);
  }

  std::unique_ptr<ShopifyAdminClient> MakeClient(const std::string& token,
                                                 const std::string& version = "2025-07",
                                                 int timeout_seconds = 2) {
    shop_.id = "demo";
    shop_.domain = "demo.myshopify.com";
    shop_.api.configured = true;
    shop_.api.base_url = fake_.base_url();
    shop_.api.access_token = token;
    shop_.api.api_version = version;
    shop_.api.timeout_seconds = timeout_seconds;
    return std::make_unique<ShopifyAdminClient>(shop_, clock_);
  }

  static RewardRequest FixedCode(const std::string& code) {
    RewardRequest r;
    r.idempotency_key = code;
    r.kind = RewardKind::kFixedDiscount;
    r.code = code;
    r.title = "$5 off your next order";
    r.currency = "USD";
    r.amount_minor = 500;
    r.minimum_order_minor = 5000;
    r.starts_at_ms = kStartsAtMs;
    r.ends_at_ms = kEndsAtMs;
    r.customer_platform_id = kCustomerId;
    return r;
  }

  static RewardRequest StoreCredit(const std::string& key, int64_t amount_minor) {
    RewardRequest r;
    r.idempotency_key = key;
    r.kind = RewardKind::kStoreCredit;
    r.title = "Loyalty store credit";
    r.currency = "USD";
    r.amount_minor = amount_minor;
    r.customer_platform_id = kCustomerId;
    return r;
  }

  FakeDiscount Discount(const std::string& code) {
    FakeDiscount d;
    EXPECT_TRUE(fake_.discount(code, &d)) << code << " was not created";
    return d;
  }

  FakeShopifyAdmin fake_;
  FixedClock clock_;
  ShopConfig shop_;
  std::unique_ptr<ShopifyAdminClient> client_;
};

TEST_F(ShopifyAdminClientTest, CreatesFixedAmountCodeWithExactFields) {
  PlatformResponse r = client_->CreateReward(FixedCode("LOYAL-FIXED1"));
  ASSERT_TRUE(r.status.ok()) << r.status.ToString() << " " << r.error_detail;
  const FakeDiscount d = Discount("LOYAL-FIXED1");
  EXPECT_EQ(r.platform_reward_id, d.id);
  EXPECT_EQ(r.platform_reward_id.rfind("gid://shopify/DiscountCodeNode/", 0), 0u);
  EXPECT_EQ(r.code, "LOYAL-FIXED1");
  EXPECT_EQ(d.type, "DiscountCodeBasic");
  const json& in = d.input;
  EXPECT_EQ(in["code"], "LOYAL-FIXED1");
  EXPECT_EQ(in["title"], "$5 off your next order");
  EXPECT_EQ(in["customerGets"]["value"], json::parse(R"({"discountAmount":
      {"amount": "5.00", "appliesOnEachItem": false}})"));
  EXPECT_EQ(in["customerGets"]["items"], json::parse(R"({"all": true})"));
  EXPECT_EQ(in["context"],
            json::parse(std::string(R"({"customers": {"add": [")") + kCustomerGid + R"("]}})"));
  EXPECT_FALSE(in.contains("customerSelection"));
  EXPECT_EQ(in["usageLimit"], 1);
  EXPECT_EQ(in["appliesOncePerCustomer"], true);
  EXPECT_EQ(in["minimumRequirement"]["subtotal"]["greaterThanOrEqualToSubtotal"], "50.00");
  EXPECT_EQ(in["startsAt"], "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(in["endsAt"], "2026-01-31T00:00:00.000Z");
}

TEST_F(ShopifyAdminClientTest, CreatesPercentageCodeAsFractionForAnyCustomer) {
  RewardRequest req = FixedCode("LOYAL-PCT10");
  req.kind = RewardKind::kPercentageDiscount;
  req.amount_minor = 0;
  req.percentage = 10;
  req.minimum_order_minor = 0;
  req.ends_at_ms = 0;
  req.starts_at_ms = 0;  // the clock's now
  req.restrict_to_customer = false;
  PlatformResponse r = client_->CreateReward(req);
  ASSERT_TRUE(r.status.ok()) << r.error_detail;
  const json& in = Discount("LOYAL-PCT10").input;
  EXPECT_EQ(in["customerGets"]["value"], json::parse(R"({"percentage": 0.1})"));
  EXPECT_EQ(in["context"], json::parse(R"({"all": "ALL"})"));
  EXPECT_FALSE(in.contains("minimumRequirement"));
  EXPECT_FALSE(in.contains("endsAt"));
  EXPECT_EQ(in["startsAt"], "2026-01-01T00:00:00.000Z");
}

TEST_F(ShopifyAdminClientTest, CreatesFreeShippingCode) {
  RewardRequest req = FixedCode("LOYAL-SHIP1");
  req.kind = RewardKind::kFreeShipping;
  req.amount_minor = 0;
  req.minimum_order_minor = 2500;
  PlatformResponse r = client_->CreateReward(req);
  ASSERT_TRUE(r.status.ok()) << r.error_detail;
  const FakeDiscount d = Discount("LOYAL-SHIP1");
  EXPECT_EQ(r.platform_reward_id, d.id);
  EXPECT_EQ(d.type, "DiscountCodeFreeShipping");
  EXPECT_EQ(d.input["destination"], json::parse(R"({"all": true})"));
  EXPECT_FALSE(d.input.contains("customerGets"));
  EXPECT_EQ(d.input["minimumRequirement"]["subtotal"]["greaterThanOrEqualToSubtotal"], "25.00");
  EXPECT_EQ(d.input["context"]["customers"]["add"][0], kCustomerGid);
  EXPECT_EQ(d.input["usageLimit"], 1);
}

TEST_F(ShopifyAdminClientTest, CreatesStoreCreditWithItsMarker) {
  PlatformResponse r = client_->CreateReward(StoreCredit("redemption-41", 1234));
  ASSERT_TRUE(r.status.ok()) << r.error_detail;
  const auto credits = fake_.store_credits(kCustomerId);
  ASSERT_EQ(credits.size(), 1u);
  EXPECT_EQ(r.platform_reward_id, credits[0].id);
  EXPECT_EQ(credits[0].amount, "12.34");
  EXPECT_EQ(credits[0].currency, "USD");
  EXPECT_EQ(credits[0].expires_at, "");
  const auto metafields = fake_.metafields(kCustomerId);
  ASSERT_EQ(metafields.size(), 1u);
  EXPECT_EQ(metafields[0].namespace_, "loyaltyd");
  EXPECT_EQ(metafields[0].key, ShopifyAdminClient::StoreCreditMarkerKey("redemption-41"));
  EXPECT_EQ(metafields[0].value, "redemption-41");
}

TEST_F(ShopifyAdminClientTest, StoreCreditAccumulatesPerCustomer) {
  ASSERT_TRUE(client_->CreateReward(StoreCredit("r-1", 500)).status.ok());
  ASSERT_TRUE(client_->CreateReward(StoreCredit("r-2", 250)).status.ok());
  const auto credits = fake_.store_credits(kCustomerId);
  ASSERT_EQ(credits.size(), 2u);
  EXPECT_EQ(credits[0].amount, "5.00");
  EXPECT_EQ(credits[1].amount, "2.50");
}

TEST_F(ShopifyAdminClientTest, StoreCreditInZeroDecimalCurrencyIsExact) {
  RewardRequest req = StoreCredit("r-jpy", 1500);
  req.currency = "JPY";
  req.currency_exponent = 0;
  ASSERT_TRUE(client_->CreateReward(req).status.ok());
  const auto credits = fake_.store_credits(kCustomerId);
  ASSERT_EQ(credits.size(), 1u);
  EXPECT_EQ(credits[0].amount, "1500");
  EXPECT_EQ(credits[0].currency, "JPY");
}

TEST_F(ShopifyAdminClientTest, DuplicateCodeIsFailedPreconditionWithShopifysMessage) {
  ASSERT_TRUE(client_->CreateReward(FixedCode("LOYAL-DUP")).status.ok());
  PlatformResponse r = client_->CreateReward(FixedCode("loyal-dup"));  // codes ignore case
  EXPECT_EQ(r.status.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(r.error_detail,
            "basicCodeDiscount.code: Code must be unique. Please try a different code. [TAKEN]");
  EXPECT_EQ(fake_.discounts().size(), 1u);
}

TEST_F(ShopifyAdminClientTest, UnknownCustomerIsFailedPrecondition) {
  RewardRequest credit = StoreCredit("r-x", 100);
  credit.customer_platform_id = "999";
  PlatformResponse r = client_->CreateReward(credit);
  EXPECT_EQ(r.status.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(r.error_detail, "id: Owner does not exist [OWNER_NOT_FOUND]");
  RewardRequest code = FixedCode("LOYAL-NOBODY");
  code.customer_platform_id = "999";
  r = client_->CreateReward(code);
  EXPECT_EQ(r.status.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.error_detail.find("gid://shopify/Customer/999 does not exist"), std::string::npos)
      << r.error_detail;
  EXPECT_TRUE(fake_.discounts().empty());
  EXPECT_TRUE(fake_.store_credits("999").empty());
}

TEST_F(ShopifyAdminClientTest, ServerErrorIsUnavailableThenSucceeds) {
  fake_.InjectFault(FakeFault::kHttp500, 1);
  PlatformResponse first = client_->CreateReward(FixedCode("LOYAL-500"));
  EXPECT_EQ(first.status.code(), StatusCode::kUnavailable);
  EXPECT_EQ(first.error_detail.rfind("HTTP 500: ", 0), 0u) << first.error_detail;
  EXPECT_TRUE(fake_.discounts().empty());
  PlatformResponse second = client_->CreateReward(FixedCode("LOYAL-500"));
  ASSERT_TRUE(second.status.ok()) << second.error_detail;
  EXPECT_EQ(second.platform_reward_id, Discount("LOYAL-500").id);
}

TEST_F(ShopifyAdminClientTest, TooManyRequestsIsUnavailableWithRetryAfter) {
  fake_.InjectFault(FakeFault::kHttp429, 1, /*retry_after_seconds=*/3);
  PlatformResponse r = client_->CreateReward(FixedCode("LOYAL-429"));
  EXPECT_EQ(r.status.code(), StatusCode::kUnavailable);
  EXPECT_EQ(r.retry_after_ms, 3000);
  EXPECT_TRUE(fake_.discounts().empty());
}

TEST_F(ShopifyAdminClientTest, ThrottledIsUnavailableWithRetryFromTheCostBucket) {
  fake_.SetCurrentlyAvailable(0);  // a mutation costs 10; the bucket refills 50 per second
  PlatformResponse r = client_->CreateReward(FixedCode("LOYAL-THROTTLED"));
  EXPECT_EQ(r.status.code(), StatusCode::kUnavailable);
  EXPECT_NE(r.error_detail.find("THROTTLED"), std::string::npos) << r.error_detail;
  EXPECT_GE(r.retry_after_ms, 150);
  EXPECT_LE(r.retry_after_ms, 200);
  EXPECT_TRUE(fake_.discounts().empty());
  // Waiting as long as told is enough.
  std::this_thread::sleep_for(std::chrono::milliseconds(r.retry_after_ms + 20));
  PlatformResponse retry = client_->CreateReward(FixedCode("LOYAL-THROTTLED"));
  EXPECT_TRUE(retry.status.ok()) << retry.error_detail;
}

TEST_F(ShopifyAdminClientTest, WrongTokenIsUnauthenticatedAndNeverEchoed) {
  auto client = MakeClient("shpat_wrong_secret_token");
  PlatformResponse r = client->CreateReward(FixedCode("LOYAL-AUTH"));
  EXPECT_EQ(r.status.code(), StatusCode::kUnauthenticated);
  EXPECT_NE(r.error_detail.find("[API] Invalid API key or access token"), std::string::npos)
      << r.error_detail;
  EXPECT_EQ(r.error_detail.find("shpat_wrong_secret_token"), std::string::npos);
  EXPECT_EQ(r.status.message().find("shpat_wrong_secret_token"), std::string::npos);
  EXPECT_TRUE(fake_.discounts().empty());
}

TEST_F(ShopifyAdminClientTest, UnsupportedApiVersionIsFailedPrecondition) {
  auto client = MakeClient(fake_.options().access_token, "2019-04");
  PlatformResponse r = client->CreateReward(FixedCode("LOYAL-VERSION"));
  EXPECT_EQ(r.status.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(r.error_detail.rfind("HTTP 404", 0), 0u) << r.error_detail;
}

TEST_F(ShopifyAdminClientTest, DroppedAfterApplyIsUnavailableAndFindRewardSeesTheCode) {
  fake_.InjectFault(FakeFault::kDropAfterApply, 1);
  PlatformResponse r = client_->CreateReward(FixedCode("LOYAL-LOST"));
  EXPECT_EQ(r.status.code(), StatusCode::kUnavailable);
  const FakeDiscount d = Discount("LOYAL-LOST");  // Shopify did create it
  PlatformResponse found = client_->FindReward(FixedCode("LOYAL-LOST"));
  ASSERT_TRUE(found.status.ok()) << found.error_detail;
  EXPECT_EQ(found.platform_reward_id, d.id);
}

TEST_F(ShopifyAdminClientTest, DroppedBeforeApplyFindRewardSaysAbsent) {
  fake_.InjectFault(FakeFault::kDropBeforeApply, 1);
  PlatformResponse r = client_->CreateReward(FixedCode("LOYAL-NEVER"));
  EXPECT_EQ(r.status.code(), StatusCode::kUnavailable);
  PlatformResponse found = client_->FindReward(FixedCode("LOYAL-NEVER"));
  ASSERT_TRUE(found.status.ok()) << found.error_detail;
  EXPECT_EQ(found.platform_reward_id, "");
  EXPECT_TRUE(fake_.discounts().empty());
}

TEST_F(ShopifyAdminClientTest, DroppedStoreCreditIsFoundSoARetryWouldNotPayTwice) {
  fake_.InjectFault(FakeFault::kDropAfterApply, 1);
  PlatformResponse r = client_->CreateReward(StoreCredit("redemption-77", 1000));
  EXPECT_EQ(r.status.code(), StatusCode::kUnavailable);
  const auto credits = fake_.store_credits(kCustomerId);
  ASSERT_EQ(credits.size(), 1u);  // Shopify paid once
  PlatformResponse found = client_->FindReward(StoreCredit("redemption-77", 1000));
  ASSERT_TRUE(found.status.ok()) << found.error_detail;
  EXPECT_EQ(found.platform_reward_id, credits[0].id);
  // Another redemption of the same amount was never credited.
  PlatformResponse other = client_->FindReward(StoreCredit("redemption-78", 1000));
  ASSERT_TRUE(other.status.ok()) << other.error_detail;
  EXPECT_EQ(other.platform_reward_id, "");
}

TEST_F(ShopifyAdminClientTest, StoreCreditMarkerWithoutACreditIsNotFound) {
  // The credit fails (expiry in the past) but the marker in the same document is still written.
  RewardRequest req = StoreCredit("redemption-88", 700);
  req.ends_at_ms = 1577836800000;  // 2020-01-01
  PlatformResponse r = client_->CreateReward(req);
  EXPECT_EQ(r.status.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(r.error_detail,
            "creditInput.expiresAt: The expiry date must be in the future. [EXPIRES_AT_IN_PAST]");
  ASSERT_EQ(fake_.metafields(kCustomerId).size(), 1u);
  EXPECT_TRUE(fake_.store_credits(kCustomerId).empty());
  PlatformResponse found = client_->FindReward(req);
  ASSERT_TRUE(found.status.ok()) << found.error_detail;
  EXPECT_EQ(found.platform_reward_id, "");
}

TEST_F(ShopifyAdminClientTest, FindRewardForUnknownCodeIsEmpty) {
  PlatformResponse found = client_->FindReward(FixedCode("LOYAL-NOPE"));
  ASSERT_TRUE(found.status.ok()) << found.error_detail;
  EXPECT_EQ(found.platform_reward_id, "");
}

TEST_F(ShopifyAdminClientTest, AddsAndRemovesCustomerTags) {
  CustomerTagsRequest req;
  req.idempotency_key = "tier-1";
  req.customer_platform_id = kCustomerId;
  req.add = {"vip-gold", "loyalty"};
  ASSERT_TRUE(client_->UpdateCustomerTags(req).status.ok());
  EXPECT_EQ(fake_.customer_tags(kCustomerId), (std::vector<std::string>{"vip-gold", "loyalty"}));
  req.add = {"vip-platinum", "vip-gold"};  // vip-gold already there: no change
  req.remove = {"loyalty"};
  PlatformResponse r = client_->UpdateCustomerTags(req);
  ASSERT_TRUE(r.status.ok()) << r.error_detail;
  EXPECT_EQ(fake_.customer_tags(kCustomerId),
            (std::vector<std::string>{"vip-gold", "vip-platinum"}));
  req.add.clear();
  req.remove = {"vip-gold"};
  ASSERT_TRUE(client_->UpdateCustomerTags(req).status.ok());
  EXPECT_EQ(fake_.customer_tags(kCustomerId), (std::vector<std::string>{"vip-platinum"}));
}

TEST_F(ShopifyAdminClientTest, TagsForUnknownCustomerAreFailedPrecondition) {
  CustomerTagsRequest req;
  req.customer_platform_id = "42";
  req.add = {"vip"};
  PlatformResponse r = client_->UpdateCustomerTags(req);
  EXPECT_EQ(r.status.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(r.error_detail, "tagsAdd: id: Customer does not exist");
}

TEST_F(ShopifyAdminClientTest, InvalidRequestIsRejectedWithoutACall) {
  RewardRequest req = FixedCode("LOYAL-BAD");
  req.kind = RewardKind::kPercentageDiscount;
  req.percentage = 0;
  EXPECT_EQ(client_->CreateReward(req).status.code(), StatusCode::kInvalidArgument);
  req = FixedCode("LOYAL-BAD");
  req.customer_platform_id = "1e20";
  EXPECT_EQ(client_->CreateReward(req).status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(fake_.graphql_requests(), 0);
}

TEST_F(ShopifyAdminClientTest, TimeoutIsUnavailable) {
  auto client = MakeClient(fake_.options().access_token, "2025-07", /*timeout_seconds=*/1);
  fake_.InjectFault(FakeFault::kSlow, 1, /*delay_ms=*/1300);
  PlatformResponse r = client->CreateReward(FixedCode("LOYAL-SLOW"));
  EXPECT_EQ(r.status.code(), StatusCode::kUnavailable);
  EXPECT_NE(r.error_detail.find("transport error"), std::string::npos) << r.error_detail;
}

// The fake must be as strict as Shopify, or the tests above prove nothing: requests sent
// directly, bypassing the client.
class FakeShopifyAdminStrictnessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fake_.AddCustomer("1", "a@example.com");
    ASSERT_TRUE(fake_.Start());
  }
  json Post(const json& request, int* status = nullptr) {
    httplib::Client http(fake_.base_url());
    auto res = http.Post("/admin/api/2025-07/graphql.json",
                         {{"X-Shopify-Access-Token", fake_.options().access_token}}, request.dump(),
                         "application/json");
    EXPECT_TRUE(res);
    if (!res) return json();
    if (status) *status = res->status;
    return json::parse(res->body);
  }
  FakeShopifyAdmin fake_;
};

constexpr const char* kBasicCreateDoc =
    "mutation M($basicCodeDiscount: DiscountCodeBasicInput!) { discountCodeBasicCreate("
    "basicCodeDiscount: $basicCodeDiscount) { codeDiscountNode { id } userErrors { field "
    "message } } }";

json ValidBasicInput() {
  return json::parse(R"({"code": "X1", "title": "t", "startsAt": "2026-01-01T00:00:00Z",
      "context": {"all": "ALL"},
      "customerGets": {"value": {"percentage": 0.2}, "items": {"all": true}}})");
}

TEST_F(FakeShopifyAdminStrictnessTest, AcceptsTheDocumentedShape) {
  const json body =
      Post({{"query", kBasicCreateDoc}, {"variables", {{"basicCodeDiscount", ValidBasicInput()}}}});
  EXPECT_FALSE(body.contains("errors")) << body.dump();
  EXPECT_TRUE(body["data"]["discountCodeBasicCreate"]["userErrors"].empty()) << body.dump();
  EXPECT_EQ(body["extensions"]["cost"]["requestedQueryCost"], 10);
  EXPECT_EQ(body["extensions"]["cost"]["throttleStatus"]["maximumAvailable"], 1000.0);
  EXPECT_EQ(fake_.discounts().size(), 1u);
}

TEST_F(FakeShopifyAdminStrictnessTest, RejectsAnUnknownInputField) {
  json input = ValidBasicInput();
  input["customerGets"]["value"]["bogus"] = 1;
  int status = 0;
  const json body =
      Post({{"query", kBasicCreateDoc}, {"variables", {{"basicCodeDiscount", input}}}}, &status);
  EXPECT_EQ(status, 200);  // as Shopify: errors travel in a 200
  ASSERT_TRUE(body.contains("errors")) << body.dump();
  EXPECT_EQ(body["errors"][0]["message"],
            "Variable $basicCodeDiscount of type DiscountCodeBasicInput! was provided invalid "
            "value for customerGets.value.bogus (Field is not defined on "
            "DiscountCustomerGetsValueInput)");
  EXPECT_EQ(body["errors"][0]["extensions"]["code"], "INVALID_VARIABLE");
  EXPECT_FALSE(body.contains("data"));
  EXPECT_TRUE(fake_.discounts().empty());
}

TEST_F(FakeShopifyAdminStrictnessTest, RejectsAMissingRequiredField) {
  const json body = Post({{"query",
                           "mutation C($id: ID!, $creditInput: StoreCreditAccountCreditInput!) { "
                           "storeCreditAccountCredit(id: $id, creditInput: $creditInput) { "
                           "userErrors { message } } }"},
                          {"variables",
                           {{"id", "gid://shopify/Customer/1"},
                            {"creditInput", {{"creditAmount", {{"amount", "5.00"}}}}}}}});
  ASSERT_TRUE(body.contains("errors")) << body.dump();
  EXPECT_EQ(body["errors"][0]["extensions"]["code"], "INVALID_VARIABLE");
  EXPECT_EQ(body["errors"][0]["extensions"]["problems"][0]["path"],
            json::parse(R"(["creditAmount", "currencyCode"])"));
  EXPECT_TRUE(fake_.store_credits("1").empty());
}

TEST_F(FakeShopifyAdminStrictnessTest, RejectsInlineLiteralsAndWrongVariableTypes) {
  json body = Post({{"query",
                     "mutation { tagsAdd(id: \"gid://shopify/Customer/1\", tags: [\"x\"]) { "
                     "userErrors { message } } }"}});
  ASSERT_TRUE(body.contains("errors")) << body.dump();
  EXPECT_EQ(body["errors"][0]["extensions"]["code"], "INLINE_LITERAL");
  body = Post({{"query",
                "mutation T($id: String!, $tags: [String!]!) { tagsAdd(id: $id, tags: $tags) { "
                "userErrors { message } } }"},
               {"variables", {{"id", "gid://shopify/Customer/1"}, {"tags", {"x"}}}}});
  ASSERT_TRUE(body.contains("errors")) << body.dump();
  EXPECT_EQ(body["errors"][0]["extensions"]["code"], "variableMismatch");
  EXPECT_TRUE(fake_.customer_tags("1").empty());
}

TEST_F(FakeShopifyAdminStrictnessTest, RejectsContextTogetherWithCustomerSelection) {
  json input = ValidBasicInput();
  input["customerSelection"] = {{"all", true}};
  const json body =
      Post({{"query", kBasicCreateDoc}, {"variables", {{"basicCodeDiscount", input}}}});
  EXPECT_EQ(body["data"]["discountCodeBasicCreate"]["userErrors"][0]["message"],
            "Only one of context or customerSelection can be provided.");
  EXPECT_TRUE(fake_.discounts().empty());
}

TEST_F(FakeShopifyAdminStrictnessTest, WrongTokenGetsShopifys401) {
  httplib::Client http(fake_.base_url());
  auto res = http.Post("/admin/api/2025-07/graphql.json", {{"X-Shopify-Access-Token", "nope"}},
                       json{{"query", kBasicCreateDoc}}.dump(), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  EXPECT_EQ(
      res->body,
      R"x({"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"})x");
}

}  // namespace
}  // namespace loyaltyd::shopify_admin_client_test
