// Redemption end to end: the real loyaltyd binary earns points from signed webhooks, redeems
// them through the admin API, and its outbox writes the rewards into fake stores that are real
// HTTP servers (tests/fakes), through faults, permanent rejections and a kill -9.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "connectors/shopify/shopify_samples.h"
#include "connectors/woocommerce/woocommerce_samples.h"
#include "fakes/fake_shopify_admin.h"
#include "fakes/fake_woocommerce_rest.h"
#include "integration/daemon_harness.h"

namespace loyaltyd::testing::redemption_test {
namespace {

using fakes::FakeFault;
using fakes::FakeShopifyAdmin;
using nlohmann::json;

constexpr uint64_t kCustomer = 7001;  // known to the fake store
constexpr uint64_t kStranger = 7002;  // earns points, but the fake store has never heard of them

class RedemptionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(store_.Start());
    store_.AddCustomer(std::to_string(kCustomer), "ada@example.com");
    ASSERT_TRUE(woo_.Start());
    woo_.AddCustomer(12, "cleo@example.com");
    json& config = daemon_.config();
    config["shops"][1]["api"] = {{"base_url", woo_.base_url()},
                                 {"consumer_key", woo_.options().consumer_key},
                                 {"consumer_secret", woo_.options().consumer_secret},
                                 {"timeout_seconds", 1}};
    config["shops"][0]["api"] = {{"base_url", store_.base_url()},
                                 {"access_token", store_.options().access_token},
                                 {"api_version", "2025-07"},
                                 {"timeout_seconds", 1}};
    config["program"]["rewards"] =
        json::array({{{"id", "five-off"},
                      {"name", "$5 off"},
                      {"points", 500},
                      {"kind", "fixed_discount"},
                      {"amount", "5.00"},
                      {"minimum_order", "20.00"},
                      {"expires_after_days", 30}},
                     {{"id", "free-ship"}, {"points", 200}, {"kind", "free_shipping"}},
                     {{"id", "credit"},
                      {"name", "$10 store credit"},
                      {"points", 1000},
                      {"kind", "store_credit"},
                      {"amount", "10.00"}}});
    config["outbox"] = {{"max_attempts", 5},
                        {"initial_backoff_ms", 50},
                        {"max_backoff_ms", 200},
                        {"poll_interval_ms", 20}};
    daemon_.Start();
  }

  // Earns `points` for a customer through a signed orders/paid webhook; returns their id.
  int64_t Earn(uint64_t customer, const std::string& email, int points) {
    ShopifySampleOptions options;
    options.order_id = 5'000'000'000'000'000 + ++orders_;
    options.customer_id = customer;
    options.email = email;
    options.subtotal = std::to_string(points) + ".00";
    Result<std::string> body = ShopifySampleBody("orders/paid", options);
    EXPECT_TRUE(body.ok());
    HttpAnswer ack =
        daemon_.PostShopifyWebhook("orders/paid", *body, "evt-earn-" + std::to_string(orders_));
    EXPECT_EQ(ack.status, 200) << ack.body;
    EXPECT_TRUE(daemon_.WaitUntilProcessed());
    HttpAnswer found = daemon_.Get("/api/v1/customers?email=" + email);
    EXPECT_EQ(found.status, 200);
    return found.Json()["customers"][0]["id"];
  }

  HttpAnswer Redeem(int64_t customer, const std::string& reward, const std::string& key) {
    return daemon_.Post("/api/v1/customers/" + std::to_string(customer) + "/redemptions",
                        json{{"reward", reward}}.dump(), {{"Idempotency-Key", key}});
  }

  // Polls the redemption until it leaves `pending` (or the timeout passes).
  json WaitSettled(int64_t redemption, std::chrono::seconds timeout = std::chrono::seconds(15)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    json r;
    while (std::chrono::steady_clock::now() < deadline) {
      r = daemon_.Get("/api/v1/redemptions/" + std::to_string(redemption)).Json();
      if (r.is_object() && r["status"] != "pending") return r;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return r;
  }

  int64_t Balance(int64_t customer) {
    return daemon_.Get("/api/v1/customers/" + std::to_string(customer)).Json()["points_balance"];
  }

  FakeShopifyAdmin store_;
  fakes::FakeWooCommerceRest woo_;
  DaemonHarness daemon_;
  int orders_ = 0;
};

TEST_F(RedemptionTest, ARedeemedCodeExistsInTheStoreRestrictedToTheCustomer) {
  const int64_t id = Earn(kCustomer, "ada@example.com", 1200);
  HttpAnswer created = Redeem(id, "five-off", "key-1");
  ASSERT_EQ(created.status, 201) << created.body;
  const json pending = created.Json();
  EXPECT_EQ(pending["status"], "pending");
  EXPECT_TRUE(pending["code"].is_null()) << "no code before the store has it";
  EXPECT_EQ(pending["points_balance"], 700);
  EXPECT_EQ(pending["value"], (json{{"amount", "5.00"}, {"currency", "USD"}}));

  const json issued = WaitSettled(pending["id"]);
  ASSERT_EQ(issued["status"], "issued") << issued.dump();
  const std::string code = issued["code"];
  EXPECT_EQ(code.rfind("LOYAL-", 0), 0u);

  fakes::FakeDiscount discount;
  ASSERT_TRUE(store_.discount(code, &discount)) << "the code is not in the store";
  EXPECT_EQ(issued["platform_reward_id"], discount.id);
  EXPECT_EQ(discount.type, "DiscountCodeBasic");
  EXPECT_EQ(discount.input["code"], code);
  EXPECT_EQ(discount.input["usageLimit"], 1);
  EXPECT_EQ(discount.input["customerGets"]["value"]["discountAmount"]["amount"], "5.00");
  EXPECT_EQ(discount.input["minimumRequirement"]["subtotal"]["greaterThanOrEqualToSubtotal"],
            "20.00");
  EXPECT_EQ(discount.input["context"]["customers"]["add"],
            json::array({"gid://shopify/Customer/7001"}));
  EXPECT_TRUE(discount.input.contains("endsAt"));

  // The same request again (a client retry) is the same redemption and changes nothing.
  HttpAnswer replay = Redeem(id, "five-off", "key-1");
  ASSERT_EQ(replay.status, 200) << replay.body;
  EXPECT_EQ(replay.Json()["id"], pending["id"]);
  EXPECT_EQ(replay.Json()["code"], code);
  EXPECT_EQ(store_.discounts().size(), 1u);
  EXPECT_EQ(Balance(id), 700);

  const json ledger = daemon_.Get("/api/v1/customers/" + std::to_string(id) + "/ledger").Json();
  ASSERT_EQ(ledger["entries"].size(), 2u);
  EXPECT_EQ(ledger["entries"][0]["kind"], "redeem");
  EXPECT_EQ(ledger["entries"][0]["points"], -500);
  EXPECT_EQ(ledger["entries"][0]["balance_after"], 700);
}

TEST_F(RedemptionTest, StoreCreditAndFreeShippingReachTheStore) {
  const int64_t id = Earn(kCustomer, "ada@example.com", 1500);
  HttpAnswer credit = Redeem(id, "credit", "credit-1");
  ASSERT_EQ(credit.status, 201) << credit.body;
  EXPECT_EQ(WaitSettled(credit.Json()["id"])["status"], "issued");
  const auto credits = store_.store_credits(std::to_string(kCustomer));
  ASSERT_EQ(credits.size(), 1u);
  EXPECT_EQ(credits[0].amount, "10.00");
  EXPECT_EQ(credits[0].currency, "USD");

  HttpAnswer ship = Redeem(id, "free-ship", "ship-1");
  ASSERT_EQ(ship.status, 201) << ship.body;
  const json issued = WaitSettled(ship.Json()["id"]);
  ASSERT_EQ(issued["status"], "issued");
  fakes::FakeDiscount discount;
  ASSERT_TRUE(store_.discount(issued["code"], &discount));
  EXPECT_EQ(discount.type, "DiscountCodeFreeShipping");
  EXPECT_EQ(Balance(id), 300);
}

TEST_F(RedemptionTest, NotEnoughPointsIs409AndNothingReachesTheStore) {
  const int64_t id = Earn(kCustomer, "ada@example.com", 300);
  HttpAnswer refused = Redeem(id, "five-off", "key-x");
  EXPECT_EQ(refused.status, 409);
  EXPECT_EQ(refused.Json()["error"],
            "not enough points: reward 'five-off' costs 500 points and the balance is 300");
  HttpAnswer no_key = daemon_.Post("/api/v1/customers/" + std::to_string(id) + "/redemptions",
                                   R"({"reward":"five-off"})");
  EXPECT_EQ(no_key.status, 400);
  EXPECT_EQ(Redeem(id, "nope", "key-y").status, 422);
  EXPECT_EQ(Redeem(id, "five-off", "key-z").status, 409);
  EXPECT_EQ(Balance(id), 300);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(store_.graphql_requests(), 0);
}

TEST_F(RedemptionTest, MalformedRequestsAreRefusedAndSayWhatToSend) {
  const int64_t id = Earn(kCustomer, "ada@example.com", 600);
  const std::string path = "/api/v1/customers/" + std::to_string(id) + "/redemptions";
  const httplib::Headers key{{"Idempotency-Key", "k"}};
  HttpAnswer not_json = daemon_.Post(path, "reward=five-off", key);
  EXPECT_EQ(not_json.status, 400);
  EXPECT_NE(not_json.Json()["error"].get<std::string>().find("JSON object"), std::string::npos);
  HttpAnswer stray = daemon_.Post(path, R"({"reward":"five-off","points":1})", key);
  EXPECT_EQ(stray.status, 400);
  EXPECT_EQ(stray.Json()["error"], "unknown key 'points'; send {\"reward\": ID}");
  EXPECT_EQ(daemon_.Post(path, R"({"reward":5})", key).status, 400);
  EXPECT_EQ(
      daemon_.Post("/api/v1/customers/999/redemptions", R"({"reward":"five-off"})", key).status,
      404);
  EXPECT_EQ(daemon_.Post(path, R"({"reward":"five-off"})", key, "wrong-token").status, 401);
  EXPECT_EQ(daemon_.Get("/api/v1/jobs?status=stuck").status, 400);
  EXPECT_EQ(daemon_.Post("/api/v1/jobs/999/retry", "").status, 404);
  EXPECT_EQ(daemon_.Get("/api/v1/redemptions/999").status, 404);
  EXPECT_EQ(Balance(id), 600);
  EXPECT_TRUE(daemon_.Get("/api/v1/jobs").Json()["jobs"].empty());
}

TEST_F(RedemptionTest, FaultsAreRetriedIntoExactlyOneCode) {
  const int64_t id = Earn(kCustomer, "ada@example.com", 600);
  // The first call is applied but its answer is lost; the next answers 500 and 429.
  store_.InjectFault(FakeFault::kDropAfterApply, 1);
  store_.InjectFault(FakeFault::kHttp500, 1);
  store_.InjectFault(FakeFault::kHttp429, 1, /*retry_after_seconds=*/1);
  HttpAnswer created = Redeem(id, "five-off", "key-faults");
  ASSERT_EQ(created.status, 201) << created.body;
  const json issued = WaitSettled(created.Json()["id"]);
  ASSERT_EQ(issued["status"], "issued") << issued.dump();
  ASSERT_EQ(store_.discounts().size(), 1u) << "a retry created a second code";
  EXPECT_EQ(store_.discounts()[0].code, issued["code"]);
  EXPECT_EQ(Balance(id), 100);
  const json jobs = daemon_.Get("/api/v1/jobs").Json()["jobs"];
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0]["status"], "done");
  EXPECT_GE(jobs[0]["attempts"], 4);
}

TEST_F(RedemptionTest, APermanentRejectionReturnsThePointsAndShowsTheReason) {
  const int64_t id = Earn(kStranger, "bob@example.com", 800);
  HttpAnswer created = Redeem(id, "five-off", "key-stranger");
  ASSERT_EQ(created.status, 201) << created.body;
  const json failed = WaitSettled(created.Json()["id"]);
  ASSERT_EQ(failed["status"], "failed") << failed.dump();
  EXPECT_FALSE(failed["failure_reason"].get<std::string>().empty());
  EXPECT_TRUE(failed["code"].is_null());
  EXPECT_EQ(Balance(id), 800);
  EXPECT_TRUE(store_.discounts().empty());

  const json ledger = daemon_.Get("/api/v1/customers/" + std::to_string(id) + "/ledger").Json();
  ASSERT_EQ(ledger["entries"].size(), 3u);
  EXPECT_EQ(ledger["entries"][0]["kind"], "refund");
  EXPECT_EQ(ledger["entries"][0]["points"], 500);
  EXPECT_NE(ledger["entries"][0]["description"].get<std::string>().find(
                failed["failure_reason"].get<std::string>()),
            std::string::npos);

  const json jobs = daemon_.Get("/api/v1/jobs?status=failed").Json()["jobs"];
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0]["last_error"], failed["failure_reason"]);
  // A rejected job is settled: retrying it cannot issue a second reward.
  HttpAnswer retry = daemon_.Post("/api/v1/jobs/" + jobs[0]["id"].dump() + "/retry", "");
  EXPECT_EQ(retry.status, 409) << retry.body;
}

TEST_F(RedemptionTest, Kill9WhileTheStoreIsAnsweringStillEndsWithExactlyOneReward) {
  const int64_t id = Earn(kCustomer, "ada@example.com", 1000);
  // The store takes 1.5 s to answer; the daemon dies while it waits. The store applies the
  // credit anyway: the daemon never learns that it did.
  store_.InjectFault(FakeFault::kSlow, 1, /*delay_ms=*/1500);
  HttpAnswer created = Redeem(id, "credit", "key-crash");
  ASSERT_EQ(created.status, 201) << created.body;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (store_.graphql_requests() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(store_.graphql_requests(), 1) << "the outbox never called the store";
  daemon_.Kill9();
  std::this_thread::sleep_for(std::chrono::milliseconds(1700));
  ASSERT_EQ(store_.store_credits(std::to_string(kCustomer)).size(), 1u);

  daemon_.Start();
  const json issued = WaitSettled(created.Json()["id"]);
  ASSERT_EQ(issued["status"], "issued") << issued.dump();
  EXPECT_EQ(store_.store_credits(std::to_string(kCustomer)).size(), 1u)
      << "the restarted outbox paid the credit twice";
  EXPECT_EQ(Balance(id), 0);
}

TEST_F(RedemptionTest, WooCommerceRewardsAreSingleUseCouponsForTheCustomersEmail) {
  WooCommerceSampleOptions order;
  order.order_id = 901;
  order.customer_id = 12;
  order.email = "cleo@example.com";
  order.subtotal = "1500.00";
  order.status = "completed";
  Result<std::string> body = WooCommerceSampleBody("order.updated", order);
  ASSERT_TRUE(body.ok());
  ASSERT_EQ(daemon_.PostWooCommerceWebhook("order.updated", *body, "d-901").status, 200);
  ASSERT_TRUE(daemon_.WaitUntilProcessed());
  const json customers = daemon_.Get("/api/v1/customers?email=cleo@example.com").Json();
  ASSERT_EQ(customers["customers"].size(), 1u);
  const int64_t id = customers["customers"][0]["id"];
  ASSERT_EQ(Balance(id), 1500);

  woo_.InjectFault(fakes::FakeWooFault::kDropAfterApply, 1);
  HttpAnswer code = Redeem(id, "five-off", "woo-1");
  ASSERT_EQ(code.status, 201) << code.body;
  const json issued = WaitSettled(code.Json()["id"]);
  ASSERT_EQ(issued["status"], "issued") << issued.dump();
  // WooCommerce keeps codes lower-cased; the redemption shows the code the store has.
  const std::string issued_code = issued["code"];
  EXPECT_EQ(issued_code.rfind("loyal-", 0), 0u) << issued_code;
  ASSERT_EQ(woo_.coupons().size(), 1u) << "the lost answer led to a second coupon";
  const json coupon = woo_.coupon(issued_code);
  EXPECT_EQ(coupon["discount_type"], "fixed_cart");
  EXPECT_EQ(coupon["amount"], "5.00");
  EXPECT_EQ(coupon["minimum_amount"], "20.00");
  EXPECT_EQ(coupon["usage_limit"], 1);
  EXPECT_EQ(coupon["email_restrictions"], json::array({"cleo@example.com"}));

  HttpAnswer credit = Redeem(id, "credit", "woo-2");
  ASSERT_EQ(credit.status, 201) << credit.body;
  const json credited = WaitSettled(credit.Json()["id"]);
  ASSERT_EQ(credited["status"], "issued") << credited.dump();
  const std::string credit_code = credited["code"];
  EXPECT_EQ(credit_code.rfind("credit-", 0), 0u) << credit_code;
  EXPECT_EQ(woo_.coupon(credit_code)["amount"], "10.00");
  EXPECT_EQ(Balance(id), 0);
}

}  // namespace
}  // namespace loyaltyd::testing::redemption_test
