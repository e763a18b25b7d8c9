// Cashback end to end: the real loyaltyd binary turns a signed paid order into store credit
// (its own balance and ledger), pays the credit out through the admin API, and its outbox
// issues it as Shopify store credit in a fake store that is a real HTTP server (tests/fakes).
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "connectors/shopify/shopify_samples.h"
#include "fakes/fake_shopify_admin.h"
#include "integration/daemon_harness.h"

namespace loyaltyd::testing::credit_test {
namespace {

using fakes::FakeShopifyAdmin;
using nlohmann::json;

constexpr uint64_t kCustomer = 7001;  // known to the fake store
constexpr uint64_t kStranger = 7002;  // earns credit, but the fake store has never heard of them

class CreditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(store_.Start());
    store_.AddCustomer(std::to_string(kCustomer), "ada@example.com");
    json& config = daemon_.config();
    config["shops"][0]["api"] = {{"base_url", store_.base_url()},
                                 {"access_token", store_.options().access_token},
                                 {"api_version", "2025-07"},
                                 {"timeout_seconds", 1}};
    config["program"]["earn"].push_back({{"id", "cashback"},
                                         {"type", "cashback"},
                                         {"percent", "10"},
                                         {"max_per_order", "50.00"},
                                         {"minimum_order", "20.00"}});
    config["outbox"] = {{"max_attempts", 5},
                        {"initial_backoff_ms", 50},
                        {"max_backoff_ms", 200},
                        {"poll_interval_ms", 20}};
    daemon_.Start();
  }

  // A signed orders/paid webhook with `subtotal` of merchandise; returns the customer's id.
  int64_t PaidOrder(uint64_t customer, const std::string& email, const std::string& subtotal) {
    ShopifySampleOptions options;
    options.order_id = 6'000'000'000'000'000 + ++orders_;
    options.customer_id = customer;
    options.email = email;
    options.subtotal = subtotal;
    Result<std::string> body = ShopifySampleBody("orders/paid", options);
    EXPECT_TRUE(body.ok());
    HttpAnswer ack =
        daemon_.PostShopifyWebhook("orders/paid", *body, "evt-paid-" + std::to_string(orders_));
    EXPECT_EQ(ack.status, 200) << ack.body;
    EXPECT_TRUE(daemon_.WaitUntilProcessed());
    HttpAnswer found = daemon_.Get("/api/v1/customers?email=" + email);
    EXPECT_EQ(found.status, 200);
    return found.Json()["customers"][0]["id"];
  }

  HttpAnswer Payout(int64_t customer, const json& body, const std::string& key) {
    return daemon_.Post("/api/v1/customers/" + std::to_string(customer) + "/credit/payouts",
                        body.dump(), {{"Idempotency-Key", key}});
  }

  json Credit(int64_t customer) {
    return daemon_.Get("/api/v1/customers/" + std::to_string(customer) + "/credit").Json();
  }

  // Polls the payout (a redemption) until it leaves `pending`.
  json WaitSettled(int64_t redemption) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    json r;
    while (std::chrono::steady_clock::now() < deadline) {
      r = daemon_.Get("/api/v1/redemptions/" + std::to_string(redemption)).Json();
      if (r.is_object() && r["status"] != "pending") return r;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return r;
  }

  FakeShopifyAdmin store_;
  DaemonHarness daemon_;
  int orders_ = 0;
};

TEST_F(CreditTest, APaidOrderEarnsCreditAndAPayoutBecomesStoreCreditInTheStore) {
  const int64_t id = PaidOrder(kCustomer, "ada@example.com", "123.45");
  const json customer = daemon_.Get("/api/v1/customers/" + std::to_string(id)).Json();
  EXPECT_EQ(customer["points_balance"], 123);
  EXPECT_EQ(customer["credit_balance"], (json{{"amount", "12.34"}, {"currency", "USD"}}));

  json credit = Credit(id);
  EXPECT_EQ(credit["credit_balance"]["amount"], "12.34");
  ASSERT_EQ(credit["entries"].size(), 1u);
  EXPECT_EQ(credit["entries"][0]["kind"], "earn");
  EXPECT_EQ(credit["entries"][0]["amount"], "12.34");
  EXPECT_EQ(credit["entries"][0]["rule_id"], "cashback");
  EXPECT_EQ(credit["entries"][0]["source_event"]["topic"], "orders/paid");
  EXPECT_EQ(credit["entries"][0]["description"],
            "10.00% cashback on eligible spend of 123.45 USD: 12.34 USD in store credit, rounded "
            "down");

  HttpAnswer created = Payout(id, {{"amount", "10.00"}}, "payout-1");
  ASSERT_EQ(created.status, 201) << created.body;
  const json pending = created.Json();
  EXPECT_EQ(pending["status"], "pending");
  EXPECT_EQ(pending["paid_with"], "credit");
  EXPECT_EQ(pending["points"], 0);
  EXPECT_EQ(pending["value"], (json{{"amount", "10.00"}, {"currency", "USD"}}));
  EXPECT_EQ(pending["credit_balance"]["amount"], "2.34");

  const json issued = WaitSettled(pending["id"]);
  ASSERT_EQ(issued["status"], "issued") << issued.dump();
  const auto credits = store_.store_credits(std::to_string(kCustomer));
  ASSERT_EQ(credits.size(), 1u);
  EXPECT_EQ(credits[0].amount, "10.00");
  EXPECT_EQ(credits[0].currency, "USD");

  // The same request again changes nothing; more than the balance is refused with it.
  HttpAnswer replay = Payout(id, {{"amount", "10.00"}}, "payout-1");
  ASSERT_EQ(replay.status, 200) << replay.body;
  EXPECT_EQ(replay.Json()["id"], pending["id"]);
  HttpAnswer too_much = Payout(id, {{"amount", "5.00"}}, "payout-2");
  ASSERT_EQ(too_much.status, 409) << too_much.body;
  EXPECT_EQ(too_much.Json()["credit_balance"]["amount"], "2.34");
  EXPECT_EQ(store_.store_credits(std::to_string(kCustomer)).size(), 1u);

  credit = Credit(id);
  EXPECT_EQ(credit["credit_balance"]["amount"], "2.34");
  ASSERT_EQ(credit["entries"].size(), 2u);
  EXPECT_EQ(credit["entries"][0]["kind"], "payout");
  EXPECT_EQ(credit["entries"][0]["amount"], "-10.00");
  EXPECT_EQ(credit["entries"][0]["payout_id"], pending["id"]);
  // Points were not spent.
  EXPECT_EQ(daemon_.Get("/api/v1/customers/" + std::to_string(id)).Json()["points_balance"], 123);
}

TEST_F(CreditTest, APayoutTheStoreRejectsReturnsTheCredit) {
  const int64_t id = PaidOrder(kStranger, "bob@example.com", "80.00");
  HttpAnswer created = Payout(id, {{"amount", "8.00"}}, "payout-stranger");
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.Json()["credit_balance"]["amount"], "0.00");
  const json failed = WaitSettled(created.Json()["id"]);
  ASSERT_EQ(failed["status"], "failed") << failed.dump();

  const json credit = Credit(id);
  EXPECT_EQ(credit["credit_balance"]["amount"], "8.00");
  ASSERT_EQ(credit["entries"].size(), 3u);
  EXPECT_EQ(credit["entries"][0]["kind"], "payout_refund");
  EXPECT_EQ(credit["entries"][0]["amount"], "8.00");
  EXPECT_NE(credit["entries"][0]["description"].get<std::string>().find(
                failed["failure_reason"].get<std::string>()),
            std::string::npos);
  EXPECT_TRUE(store_.store_credits(std::to_string(kStranger)).empty());
}

TEST_F(CreditTest, MalformedPayoutRequestsSayWhatToSend) {
  const int64_t id = PaidOrder(kCustomer, "ada@example.com", "50.00");
  const std::string path = "/api/v1/customers/" + std::to_string(id) + "/credit/payouts";
  EXPECT_EQ(daemon_.Post(path, R"({"amount": "1.00"})").status, 400);  // no Idempotency-Key
  EXPECT_EQ(Payout(id, {{"amount", 1.0}}, "k").status, 400);           // a number, not a string
  EXPECT_EQ(Payout(id, {{"amount", "1.00"}, {"currency", "USD"}}, "k").status, 400);
  EXPECT_EQ(Payout(id, {{"amount", "1.001"}}, "k").status, 422);
  EXPECT_EQ(Payout(id, {{"amount", "0"}}, "k").status, 422);
  EXPECT_EQ(Payout(999, {{"amount", "1.00"}}, "k").status, 404);
  EXPECT_EQ(daemon_.Get("/api/v1/customers/999/credit").status, 404);
  EXPECT_EQ(Credit(id)["credit_balance"]["amount"], "5.00");
}

}  // namespace
}  // namespace loyaltyd::testing::credit_test
