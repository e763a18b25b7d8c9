// Reports end to end through the real loyaltyd binary: signed orders make customers, points and
// a tier; the customer manager report, the points liability and the tier report answer them as
// JSON and CSV behind the admin token; bad parameters get a 400 that says why; and the customer
// CSV streams a store larger than one page.
#include <gtest/gtest.h>

#include <climits>
#include <set>

#include "connectors/shopify/shopify_samples.h"
#include "integration/daemon_harness.h"
#include "support/sqlite_file.h"

namespace loyaltyd::testing::reports_test {
namespace {

using nlohmann::json;

constexpr uint64_t kAda = 7101;
constexpr uint64_t kBob = 7102;

class ReportsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    json& config = daemon_.config();
    // 1.00 per 100 points and 8.00 per 1,000: the second is the cheaper rate (0.8 cents).
    config["program"]["rewards"] = json::array(
        {{{"id", "five-off"}, {"points", 500}, {"kind", "fixed_discount"}, {"amount", "5.00"}},
         {{"id", "eight-off"}, {"points", 1000}, {"kind", "fixed_discount"}, {"amount", "8.00"}},
         {{"id", "free-ship"}, {"points", 200}, {"kind", "free_shipping"}}});
    config["program"]["expiry"] = {{"lot_age_days", 365}};
    config["program"]["tiers"] = json::parse(R"({
      "metric": "spend",
      "window": {"kind": "rolling", "days": 365},
      "levels": [
        {"id": "silver", "name": "Silver", "threshold": "500.00"},
        {"id": "gold", "name": "Gold", "threshold": "1500.00"}
      ]
    })");
    daemon_.Start();
  }

  void Order(uint64_t customer, const std::string& email, const std::string& subtotal) {
    ShopifySampleOptions options;
    options.order_id = 6'100'000'000'000'000 + ++orders_;
    options.customer_id = customer;
    options.email = email;
    options.subtotal = subtotal;
    Result<std::string> body = ShopifySampleBody("orders/paid", options);
    ASSERT_TRUE(body.ok());
    HttpAnswer ack =
        daemon_.PostShopifyWebhook("orders/paid", *body, "evt-rep-" + std::to_string(orders_));
    ASSERT_EQ(ack.status, 200) << ack.body;
    ASSERT_TRUE(daemon_.WaitUntilProcessed());
  }

  // GET with extra headers (the harness's Get sends only the token).
  HttpAnswer GetWith(const std::string& path, const httplib::Headers& extra) {
    httplib::Client client("127.0.0.1", daemon_.port());
    client.set_read_timeout(30, 0);
    httplib::Headers headers = extra;
    headers.emplace("Authorization", std::string("Bearer ") + kAdminToken);
    auto res = client.Get(path.c_str(), headers);
    if (!res) return {};
    HttpAnswer answer{res->status, res->body};
    content_type_ = res->get_header_value("Content-Type");
    return answer;
  }

  static std::vector<std::string> Lines(const std::string& body) {
    std::vector<std::string> lines;
    size_t start = 0;
    for (size_t at = body.find("\r\n"); at != std::string::npos; at = body.find("\r\n", start)) {
      lines.push_back(body.substr(start, at - start));
      start = at + 2;
    }
    EXPECT_EQ(start, body.size()) << "the body must end with CRLF";
    return lines;
  }

  DaemonHarness daemon_;
  int orders_ = 0;
  std::string content_type_;
};

TEST_F(ReportsTest, ReportsAnswerTheLedgerAsJsonAndCsv) {
  Order(kAda, "ada@example.com", "600.00");  // 600 points and Silver
  Order(kBob, "bob@example.com", "49.00");   // 49 points

  // Customer manager report: newest customer first, one page at a time.
  HttpAnswer page = daemon_.Get("/api/v1/reports/customers?limit=1");
  ASSERT_EQ(page.status, 200) << page.body;
  json body = page.Json();
  ASSERT_EQ(body["customers"].size(), 1u) << page.body;
  const json bob = body["customers"][0];
  EXPECT_EQ(bob["email"], "bob@example.com");
  EXPECT_EQ(bob["points_balance"], 49);
  EXPECT_EQ(bob["tier"], nullptr);
  EXPECT_EQ(bob["paid_orders"], 1);
  EXPECT_EQ(bob["paid_total"]["currency"], "USD");
  EXPECT_TRUE(bob["last_order_at"].is_string()) << bob.dump();
  ASSERT_TRUE(body["next_before"].is_number()) << page.body;
  page = daemon_.Get("/api/v1/reports/customers?limit=1&before=" +
                     std::to_string(body["next_before"].get<int64_t>()));
  ASSERT_EQ(page.status, 200) << page.body;
  const json ada = page.Json()["customers"][0];
  EXPECT_EQ(ada["email"], "ada@example.com");
  EXPECT_EQ(ada["points_balance"], 600);
  EXPECT_EQ(ada["tier"]["level_id"], "silver");
  EXPECT_EQ(ada["tier"]["name"], "Silver");
  EXPECT_EQ(ada["credit_balance"]["amount"], "0.00");
  EXPECT_EQ(ada["referrals_converted"], 0);

  // The same as CSV, asked for by ?format=csv or by the Accept header.
  HttpAnswer csv = GetWith("/api/v1/reports/customers?format=csv", {});
  ASSERT_EQ(csv.status, 200) << csv.body;
  EXPECT_EQ(content_type_, "text/csv; charset=utf-8");
  std::vector<std::string> lines = Lines(csv.body);
  ASSERT_EQ(lines.size(), 3u) << csv.body;
  EXPECT_EQ(lines[0],
            "customer_id,shop_id,platform_customer_id,email,first_name,last_name,tier,"
            "tier_reached_at,points,store_credit,currency,referrals_converted,paid_orders,"
            "paid_total,last_order_at,created_at");
  EXPECT_NE(lines[1].find(",it,7102,bob@example.com,"), std::string::npos) << lines[1];
  EXPECT_NE(lines[1].find(",,,49,0.00,USD,0,1,"), std::string::npos) << lines[1];
  EXPECT_NE(lines[2].find(",it,7101,ada@example.com,"), std::string::npos) << lines[2];
  EXPECT_NE(lines[2].find(",silver,"), std::string::npos) << lines[2];
  EXPECT_EQ(GetWith("/api/v1/reports/customers", {{"Accept", "text/csv"}}).body, csv.body);

  // Liability: 649 points open, worth 5.19 at the cheapest rate (649 x 8.00 / 1,000 = 5.192);
  // the lots expire in a year, so nothing within 90 days.
  HttpAnswer liability = daemon_.Get("/api/v1/reports/liability");
  ASSERT_EQ(liability.status, 200) << liability.body;
  body = liability.Json();
  EXPECT_EQ(body["outstanding"]["points"], 649) << liability.body;
  EXPECT_EQ(body["outstanding"]["value"]["amount"], "5.19");
  EXPECT_EQ(body["outstanding"]["open_lots"], 2);
  EXPECT_EQ(body["valuation"]["reward_id"], "eight-off");
  EXPECT_EQ(body["time_zone"], "UTC");
  ASSERT_EQ(body["expiring"].size(), 3u);
  EXPECT_EQ(body["expiring"][0]["within_days"], 30);
  EXPECT_EQ(body["expiring"][2]["within_days"], 90);
  for (const json& bucket : body["expiring"]) EXPECT_EQ(bucket["points"], 0);
  EXPECT_EQ(body["months"].size(), 12u);
  EXPECT_EQ(body["totals"]["earned"], 649);
  EXPECT_EQ(body["totals"]["expired"], 0);
  EXPECT_EQ(body["totals"]["breakage_percent"], "0.00");
  EXPECT_EQ(body["totals"]["net"], 649);

  csv = daemon_.Get("/api/v1/reports/liability?format=csv");
  ASSERT_EQ(csv.status, 200) << csv.body;
  lines = Lines(csv.body);
  ASSERT_EQ(lines.size(), 13u) << csv.body;
  EXPECT_EQ(lines[0],
            "month,earned,redeemed,expired,clawed_back,adjusted,net,breakage_percent,entries");
  csv = daemon_.Get("/api/v1/reports/liability?format=csv&table=summary");
  ASSERT_EQ(csv.status, 200) << csv.body;
  lines = Lines(csv.body);
  ASSERT_EQ(lines.size(), 2u) << csv.body;
  EXPECT_EQ(lines[0],
            "as_of,currency,outstanding_points,outstanding_value,valuation_reward,"
            "valuation_points,valuation_amount,pending_points,never_expiring_points,"
            "expiring_30d_points,expiring_30d_value,expiring_60d_points,expiring_60d_value,"
            "expiring_90d_points,expiring_90d_value");
  EXPECT_NE(lines[1].find(",USD,649,5.19,eight-off,1000,8.00,0,0,0,0.00,0,0.00,0,0.00"),
            std::string::npos)
      << lines[1];

  // Tiers: one customer without a tier, one in Silver, none in Gold; Ada's move into Silver is
  // in this month's movement.
  HttpAnswer tiers = daemon_.Get("/api/v1/reports/tiers");
  ASSERT_EQ(tiers.status, 200) << tiers.body;
  body = tiers.Json();
  EXPECT_EQ(body["customers"], 2);
  ASSERT_EQ(body["distribution"].size(), 3u) << tiers.body;
  EXPECT_EQ(body["distribution"][0]["level_id"], nullptr);
  EXPECT_EQ(body["distribution"][0]["customers"], 1);
  EXPECT_EQ(body["distribution"][1]["level_id"], "silver");
  EXPECT_EQ(body["distribution"][1]["customers"], 1);
  EXPECT_EQ(body["distribution"][2]["level_id"], "gold");
  EXPECT_EQ(body["distribution"][2]["customers"], 0);
  int64_t upgraded_into_silver = 0;
  for (const json& month : body["movement"]) {
    for (const json& level : month["levels"]) {
      if (level["level_id"] == "silver") upgraded_into_silver += level["upgraded_in"].get<int>();
    }
  }
  EXPECT_EQ(upgraded_into_silver, 1) << tiers.body;

  csv = daemon_.Get("/api/v1/reports/tiers?format=csv&table=distribution");
  ASSERT_EQ(csv.status, 200) << csv.body;
  EXPECT_EQ(csv.body,
            "level_id,name,customers\r\n,No tier,1\r\nsilver,Silver,1\r\ngold,Gold,0\r\n");
  csv = daemon_.Get("/api/v1/reports/tiers?format=csv");
  ASSERT_EQ(csv.status, 200) << csv.body;
  lines = Lines(csv.body);
  ASSERT_EQ(lines.size(), 3u) << csv.body;  // header, "" (left), silver (entered)
  EXPECT_EQ(lines[0],
            "month,level_id,entered,upgraded_in,downgraded_in,left,upgraded_out,downgraded_out");
  EXPECT_NE(lines[1].find(",,0,0,0,1,1,0"), std::string::npos) << lines[1];
  EXPECT_NE(lines[2].find(",silver,1,1,0,0,0,0"), std::string::npos) << lines[2];
}

TEST_F(ReportsTest, ReportsNeedTheAdminToken) {
  for (const std::string path : {"/api/v1/reports/customers", "/api/v1/reports/liability",
                                 "/api/v1/reports/tiers", "/api/v1/reports/customers?format=csv"}) {
    HttpAnswer none = daemon_.Get(path, "");
    EXPECT_EQ(none.status, 401) << path;
    EXPECT_NE(none.body.find("missing bearer token"), std::string::npos) << none.body;
    HttpAnswer wrong = daemon_.Get(path, "not-the-token-0123456789abcdef0123456");
    EXPECT_EQ(wrong.status, 401) << path;
    EXPECT_NE(wrong.body.find("invalid bearer token"), std::string::npos) << wrong.body;
  }
}

TEST_F(ReportsTest, BadParametersAreRefusedWithTheReason) {
  struct Case {
    std::string path;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {"/api/v1/reports/customers?format=xml", "format must be \"json\" or \"csv\""},
      {"/api/v1/reports/customers?limit=0", "limit must be an integer between 1 and 500"},
      {"/api/v1/reports/customers?limit=501", "limit must be an integer between 1 and 500"},
      {"/api/v1/reports/customers?before=x", "before must be a positive id"},
      {"/api/v1/reports/customers?format=csv&limit=10", "limit applies to JSON pages"},
      {"/api/v1/reports/liability?from=2026-13", "from must be a month as YYYY-MM"},
      {"/api/v1/reports/liability?to=2026", "to must be a month as YYYY-MM"},
      {"/api/v1/reports/liability?from=2026-05&to=2026-04", "from must not be after to"},
      {"/api/v1/reports/liability?from=2000-01&to=2026-01", "a report spans at most 120 months"},
      {"/api/v1/reports/liability?table=summary", "table applies to CSV"},
      {"/api/v1/reports/liability?format=csv&table=weeks",
       "table must be one of \"months\", \"summary\""},
      {"/api/v1/reports/tiers?format=csv&table=levels",
       "table must be one of \"movement\", \"distribution\""},
      {"/api/v1/reports/tiers?from=26-01", "from must be a month as YYYY-MM"},
  };
  for (const Case& c : cases) {
    HttpAnswer answer = daemon_.Get(c.path);
    EXPECT_EQ(answer.status, 400) << c.path << ": " << answer.body;
    const json body = answer.Json();
    ASSERT_TRUE(body.is_object() && body["error"].is_string()) << c.path << ": " << answer.body;
    EXPECT_NE(body["error"].get<std::string>().find(c.reason), std::string::npos)
        << c.path << ": " << answer.body;
  }
  // A valid explicit range answers one row per month.
  HttpAnswer ok = daemon_.Get("/api/v1/reports/liability?from=2025-11&to=2026-02");
  ASSERT_EQ(ok.status, 200) << ok.body;
  const json months = ok.Json()["months"];
  ASSERT_EQ(months.size(), 4u);
  EXPECT_EQ(months[0]["month"], "2025-11");
  EXPECT_EQ(months[3]["month"], "2026-02");
  EXPECT_EQ(months[2]["starts_at"], "2026-01-01T00:00:00.000Z");
}

// More customers than one CSV page (1,000): the stream carries every one, newest first, each
// once; a hostile name is quoted and kept from running as a formula. JSON pages walk the same.
TEST_F(ReportsTest, CustomerCsvStreamsMoreThanOnePage) {
  constexpr int kCustomers = 2345;
  {
    std::string sql = "BEGIN;";
    for (int i = 1; i <= kCustomers; ++i) {
      const std::string n = std::to_string(i);
      sql +=
          "INSERT INTO customers (shop_id, platform_customer_id, email, email_normalised, "
          "first_name, last_name, points_balance, created_at_ms, updated_at_ms) VALUES "
          "('it', '" +
          n + "', 'c" + n + "@example.com', 'c" + n + "@example.com', " +
          (i == 7 ? std::string("'=HYPERLINK(\"x\")', 'Doe, \"J\"'") : "'F', 'L'") + ", " + n +
          ", 0, 0);";
    }
    sql += "COMMIT;";
    // The daemon is running: its writer may hold the file for a moment.
    ASSERT_TRUE(ExecSql(daemon_.dir() + "/loyaltyd.db", sql, /*busy_ms=*/10000));
  }

  HttpAnswer csv = GetWith("/api/v1/reports/customers?format=csv", {});
  ASSERT_EQ(csv.status, 200) << csv.body.substr(0, 500);
  const std::vector<std::string> lines = Lines(csv.body);
  ASSERT_EQ(lines.size(), static_cast<size_t>(kCustomers) + 1);
  std::set<int64_t> seen;
  int64_t previous = INT64_MAX;
  for (size_t i = 1; i < lines.size(); ++i) {
    const int64_t id = std::stoll(lines[i].substr(0, lines[i].find(',')));
    EXPECT_LT(id, previous) << lines[i];
    previous = id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(kCustomers));
  EXPECT_NE(csv.body.find(",c7@example.com,\"'=HYPERLINK(\"\"x\"\")\",\"Doe, \"\"J\"\"\",,,7,"),
            std::string::npos);

  // JSON pages of 500 reach the same customers.
  size_t total = 0;
  std::string path = "/api/v1/reports/customers?limit=500";
  for (int pages = 0; pages < 10; ++pages) {
    HttpAnswer page = daemon_.Get(path);
    ASSERT_EQ(page.status, 200) << page.body.substr(0, 300);
    const json body = page.Json();
    total += body["customers"].size();
    if (body["next_before"].is_null()) break;
    path = "/api/v1/reports/customers?limit=500&before=" +
           std::to_string(body["next_before"].get<int64_t>());
  }
  EXPECT_EQ(total, static_cast<size_t>(kCustomers));
}

}  // namespace
}  // namespace loyaltyd::testing::reports_test
