// Customer tools end to end on the real loyaltyd binary: CSV import of opening balances,
// customer search and its cursors, the customer detail, manual adjustments, and the signed
// read-only customer token with the /api/v1/me routes it opens (and nothing else).
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "core/crypto.h"
#include "integration/daemon_harness.h"

namespace loyaltyd::testing::customers_test {
namespace {

using nlohmann::json;

constexpr const char* kStorefrontSecret = "it-storefront-secret-0123456789abcdef0123";

class CustomersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    json& config = daemon_.config();
    config["program"]["rewards"] = json::array(
        {{{"id", "five-off"},
          {"name", "$5 off"},
          {"points", 500},
          {"kind", "fixed_discount"},
          {"amount", "5.00"}},
         {{"id", "ship"}, {"name", "Free shipping"}, {"points", 100}, {"kind", "free_shipping"}}});
    config["storefront"] = {{"token_secret", kStorefrontSecret},
                            {"token_ttl_seconds", 3600},
                            {"allowed_origins", {"https://shop.example.com"}}};
  }

  httplib::Client Client() {
    httplib::Client client("127.0.0.1", daemon_.port());
    client.set_connection_timeout(2, 0);
    client.set_read_timeout(20, 0);
    return client;
  }

  HttpAnswer PostCsv(const std::string& csv, const std::string& query = "",
                     const std::string& type = "text/csv") {
    httplib::Client client = Client();
    httplib::Headers headers{{"Authorization", std::string("Bearer ") + kAdminToken}};
    auto res = client.Post(("/api/v1/imports/balances" + query).c_str(), headers, csv, type);
    if (!res) return {};
    return {res->status, res->body};
  }

  int64_t IdOf(const std::string& email) {
    const json found = daemon_.Get("/api/v1/customers?email=" + email).Json();
    if (!found.contains("customers") || found["customers"].size() != 1u) return 0;
    return found["customers"][0]["id"].get<int64_t>();
  }

  HttpAnswer Adjust(int64_t customer, const json& body) {
    return daemon_.Post("/api/v1/customers/" + std::to_string(customer) + "/adjustments",
                        body.dump());
  }

  // A token as the documented format makes it, for expiries the API would not issue.
  static std::string ForgeToken(int64_t customer, int64_t expires_at_s) {
    std::string b64 = Base64Encode(
        HmacSha256(kStorefrontSecret, "loyaltyd customer token v1\n" + std::to_string(customer) +
                                          "\n" + std::to_string(expires_at_s)));
    for (char& c : b64) c = c == '+' ? '-' : c == '/' ? '_' : c;
    b64.erase(b64.find('='));
    return "lct1." + std::to_string(customer) + "." + std::to_string(expires_at_s) + "." + b64;
  }

  DaemonHarness daemon_;
};

constexpr const char* kFile =
    "email,points,shop_id,platform_customer_id,first_name,last_name\n"
    "ada@example.com,700,it,7001,Ada,Lovelace\n"
    "alan@example.com,50,it,7002,Alan,Turing\n"
    "grace@navy.example,0,it,7003,Grace,Hopper\n"
    "not-an-email,10,it,,,\n"
    "edsger@example.com,1.5,it,,,\n"
    "barbara@example.com,20,nowhere,,,\n"
    "ken@example.com,30,it,,Ken,\n"
    "KEN@example.com,31,it,,Ken,\n"
    "cleo@example.com,40,it-woo,12,Cleo,\n";

TEST_F(CustomersTest, ImportReportsEachRejectedRowAndRepostingChangesNothing) {
  daemon_.Start();
  HttpAnswer first = PostCsv(kFile);
  ASSERT_EQ(first.status, 200) << first.body;
  json report = first.Json();
  EXPECT_EQ(report["rows"], 9);
  EXPECT_EQ(report["applied"], 4);
  EXPECT_EQ(report["customers_created"], 4);
  EXPECT_EQ(report["points_imported"], 790);
  EXPECT_EQ(report["rejected"], 5);
  ASSERT_EQ(report["rejections"].size(), 5u) << report.dump();
  EXPECT_EQ(
      report["rejections"][0],
      json({{"line", 5}, {"email", "not-an-email"}, {"reason", "email: not an email address"}}));
  EXPECT_EQ(report["rejections"][1]["line"], 6);
  EXPECT_EQ(report["rejections"][2]["reason"], "shop_id: unknown shop 'nowhere'");
  EXPECT_EQ(report["rejections"][3]["line"], 8);
  EXPECT_EQ(report["rejections"][4]["reason"],
            "duplicate: the file names this customer (by shop and email) on lines 8, 9");

  const int64_t ada = IdOf("ada@example.com");
  ASSERT_NE(ada, 0);
  const json ledger = daemon_.Get("/api/v1/customers/" + std::to_string(ada) + "/ledger").Json();
  ASSERT_EQ(ledger["entries"].size(), 1u);
  EXPECT_EQ(ledger["entries"][0]["kind"], "opening_balance");
  EXPECT_EQ(ledger["entries"][0]["points"], 700);
  EXPECT_EQ(IdOf("ken@example.com"), 0);  // a rejected row changes nothing

  HttpAnswer again = PostCsv(kFile);
  ASSERT_EQ(again.status, 200);
  report = again.Json();
  EXPECT_EQ(report["applied"], 0);
  EXPECT_EQ(report["unchanged"], 4);
  EXPECT_EQ(report["customers_created"], 0);
  EXPECT_EQ(report["rejected"], 5);
  EXPECT_EQ(daemon_.BalanceOf("ada@example.com"), 700);

  // The merchant fixes Ken's rows and Ada's points: Ken applies now; Ada's balance was already
  // imported, and the row says how to correct it.
  HttpAnswer fixed = PostCsv(
      "email,points,shop_id,platform_customer_id\n"
      "ada@example.com,750,it,7001\n"
      "ken@example.com,30,it,\n");
  ASSERT_EQ(fixed.status, 200);
  report = fixed.Json();
  EXPECT_EQ(report["applied"], 1);
  ASSERT_EQ(report["rejections"].size(), 1u);
  EXPECT_EQ(report["rejections"][0]["line"], 2);
  EXPECT_NE(report["rejections"][0]["reason"].get<std::string>().find(
                "already has an imported opening balance of 700 points"),
            std::string::npos);
  EXPECT_EQ(daemon_.BalanceOf("ada@example.com"), 700);
  EXPECT_EQ(daemon_.BalanceOf("ken@example.com"), 30);

  // Refused whole: a header that cannot be used, another media type, a body over
  // server.max_body_bytes (65536 in the harness), an unknown ?shop_id.
  HttpAnswer header = PostCsv("mail,points\nada@example.com,1\n");
  EXPECT_EQ(header.status, 400);
  EXPECT_EQ(header.Json()["error"],
            "line 1: unknown column 'mail'; the columns are email, points, shop_id, "
            "platform_customer_id, first_name, last_name");
  EXPECT_EQ(PostCsv(kFile, "", "application/json").status, 415);
  std::string big = "email,points\n";
  while (big.size() < 70'000) big += "someone" + std::to_string(big.size()) + "@example.com,1\n";
  EXPECT_EQ(PostCsv(big).status, 413);
  HttpAnswer shop = PostCsv("email,points\nx@example.com,1\n", "?shop_id=nowhere");
  EXPECT_EQ(shop.status, 400);
  EXPECT_EQ(shop.Json()["field"], "shop_id");
  EXPECT_EQ(IdOf("x@example.com"), 0);
}

TEST_F(CustomersTest, SearchByEmailTextWithCursorsAndNamedErrors) {
  daemon_.Start();
  ASSERT_EQ(PostCsv(kFile).status, 200);
  const int64_t ada = IdOf("ada@example.com");
  const int64_t alan = IdOf("alan@example.com");
  const int64_t grace = IdOf("grace@navy.example");
  const int64_t cleo = IdOf("cleo@example.com");

  // The first version's callers: exact email, normalised, each with its tier (none here).
  json found = daemon_.Get("/api/v1/customers?email=%20ADA@Example.COM").Json();
  ASSERT_EQ(found["customers"].size(), 1u);
  EXPECT_EQ(found["customers"][0]["id"], ada);
  EXPECT_EQ(found["customers"][0]["points_balance"], 700);
  EXPECT_EQ(found["customers"][0]["tier"], nullptr);
  EXPECT_EQ(found["next"], nullptr);
  EXPECT_EQ(daemon_.Get("/api/v1/customers?email=nobody").Json()["customers"].size(), 0u);

  // Part of the name or email, any case, pages of two in id order.
  json page = daemon_.Get("/api/v1/customers?q=A&limit=2").Json();
  ASSERT_EQ(page["customers"].size(), 2u) << page.dump();
  EXPECT_EQ(page["customers"][0]["id"], ada);
  EXPECT_EQ(page["customers"][1]["id"], alan);
  EXPECT_EQ(page["next"], alan);
  EXPECT_EQ(page["prev"], nullptr);
  page = daemon_.Get("/api/v1/customers?q=A&limit=2&after=" + std::to_string(alan)).Json();
  ASSERT_EQ(page["customers"].size(), 2u) << page.dump();
  EXPECT_EQ(page["customers"][0]["id"], grace);
  EXPECT_EQ(page["customers"][1]["id"], cleo);
  EXPECT_EQ(page["next"], nullptr);
  EXPECT_EQ(page["prev"], grace);
  page = daemon_.Get("/api/v1/customers?q=A&limit=2&before=" + std::to_string(grace)).Json();
  ASSERT_EQ(page["customers"].size(), 2u);
  EXPECT_EQ(page["customers"][0]["id"], ada);
  EXPECT_EQ(page["prev"], nullptr);
  EXPECT_EQ(daemon_.Get("/api/v1/customers?q=hopper").Json()["customers"][0]["id"], grace);

  for (const auto& [query, field] :
       std::vector<std::pair<std::string, std::string>>{{"q=a&limit=0", "limit"},
                                                        {"q=a&limit=201", "limit"},
                                                        {"q=a&after=x", "after"},
                                                        {"q=a&after=1&before=9", "before"},
                                                        {"q=%20", "q"},
                                                        {"tier=gold", "tier"},
                                                        {"q=a&page=2", "page"}}) {
    HttpAnswer bad = daemon_.Get("/api/v1/customers?" + query);
    EXPECT_EQ(bad.status, 400) << query;
    EXPECT_EQ(bad.Json()["field"], field) << query << " " << bad.body;
  }
  EXPECT_EQ(daemon_.Get("/api/v1/customers").status, 400);
}

TEST_F(CustomersTest, DetailShowsBalancesOpenLotsAndTheReferralCodeWithoutMakingOne) {
  daemon_.config()["program"]["referrals"] = {
      {"advocate_reward", {{"kind", "points"}, {"points", 100}}}};
  daemon_.Start();
  ASSERT_EQ(PostCsv(kFile).status, 200);
  const int64_t ada = IdOf("ada@example.com");
  const std::string path = "/api/v1/customers/" + std::to_string(ada);
  json detail = daemon_.Get(path).Json();
  EXPECT_EQ(detail["points_balance"], 700);
  EXPECT_EQ(detail["pending_points"], 0);
  EXPECT_EQ(detail["credit_balance"], json({{"amount", "0.00"}, {"currency", "USD"}}));
  ASSERT_EQ(detail["open_lots"]["lots"].size(), 1u);
  EXPECT_EQ(detail["open_lots"]["lots"][0]["remaining"], 700);
  EXPECT_EQ(detail["open_lots"]["lots"][0]["source"]["kind"], "opening_balance");
  EXPECT_EQ(detail["open_lots"]["lots"][0]["expires_at"], nullptr);
  EXPECT_EQ(detail["open_lots"]["more"], false);
  EXPECT_EQ(detail["open_lots"]["href"], path + "/lots?status=open");
  EXPECT_EQ(detail["referral_code"], nullptr);
  EXPECT_EQ(daemon_.Get(path).Json()["referral_code"], nullptr);  // still none: GET wrote nothing

  HttpAnswer link = daemon_.Get(path + "/referral");
  ASSERT_EQ(link.status, 200) << link.body;
  EXPECT_EQ(daemon_.Get(path).Json()["referral_code"], link.Json()["code"]);
}

TEST_F(CustomersTest, AdjustmentsAreLedgerVisibleIdempotentAndNeverOverdraw) {
  daemon_.Start();
  ASSERT_EQ(PostCsv(kFile).status, 200);
  const int64_t alan = IdOf("alan@example.com");  // 50 points
  const json good = {
      {"points", 25}, {"reason", "late parcel"}, {"actor", "ann@shop"}, {"idempotency_key", "k1"}};

  for (const auto& [edit, field] :
       std::vector<std::pair<json, std::string>>{{{{"points", 0}}, "points"},
                                                 {{{"points", 1.5}}, "points"},
                                                 {{{"points", "25"}}, "points"},
                                                 {{{"points", 1'000'000'001}}, "points"},
                                                 {{{"reason", "  "}}, "reason"},
                                                 {{{"reason", std::string(501, 'x')}}, "reason"},
                                                 {{{"actor", 7}}, "actor"},
                                                 {{{"idempotency_key", ""}}, "idempotency_key"},
                                                 {{{"note", "x"}}, "note"}}) {
    json body = good;
    body.update(edit);
    HttpAnswer bad = Adjust(alan, body);
    EXPECT_EQ(bad.status, 400) << body.dump();
    EXPECT_EQ(bad.Json()["field"], field) << body.dump() << " " << bad.body;
  }
  json missing = good;
  missing.erase("actor");
  EXPECT_EQ(Adjust(alan, missing).Json()["field"], "actor");
  EXPECT_EQ(daemon_.BalanceOf("alan@example.com"), 50);  // none of them changed anything

  HttpAnswer created = Adjust(alan, good);
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.Json()["points_balance"], 75);
  EXPECT_EQ(created.Json()["ledger_entry"]["kind"], "adjustment");
  HttpAnswer replay = Adjust(alan, good);
  EXPECT_EQ(replay.status, 200);
  EXPECT_EQ(replay.Json()["id"], created.Json()["id"]);
  EXPECT_EQ(replay.Json()["ledger_entry"]["id"], created.Json()["ledger_entry"]["id"]);
  json changed = good;
  changed["points"] = 26;
  HttpAnswer conflict = Adjust(alan, changed);
  EXPECT_EQ(conflict.status, 409);
  EXPECT_EQ(conflict.Json()["field"], "idempotency_key");
  EXPECT_EQ(conflict.Json()["adjustment"]["points"], 25);
  EXPECT_EQ(daemon_.BalanceOf("alan@example.com"), 75);

  json overdraw = {
      {"points", -76}, {"reason", "fraud"}, {"actor", "ann@shop"}, {"idempotency_key", "k2"}};
  HttpAnswer refused = Adjust(alan, overdraw);
  EXPECT_EQ(refused.status, 409);
  EXPECT_EQ(refused.Json()["points_balance"], 75);
  overdraw["points"] = -75;
  EXPECT_EQ(Adjust(alan, overdraw).status, 201);
  EXPECT_EQ(daemon_.BalanceOf("alan@example.com"), 0);

  const json ledger = daemon_.Get("/api/v1/customers/" + std::to_string(alan) + "/ledger").Json();
  ASSERT_EQ(ledger["entries"].size(), 3u);
  EXPECT_EQ(ledger["entries"][0]["kind"], "adjustment");
  EXPECT_EQ(ledger["entries"][0]["points"], -75);
  EXPECT_EQ(ledger["entries"][0]["description"], "adjustment by ann@shop: fraud");
  EXPECT_EQ(ledger["entries"][1]["description"], "adjustment by ann@shop: late parcel");
  EXPECT_EQ(Adjust(999999, good).status, 404);
}

TEST_F(CustomersTest, CustomerTokenOpensOnlyThatCustomersReadOnlyView) {
  daemon_.Start();
  ASSERT_EQ(PostCsv(kFile).status, 200);
  const int64_t ada = IdOf("ada@example.com");
  const int64_t alan = IdOf("alan@example.com");
  ASSERT_EQ(Adjust(ada, {{"points", -100},
                         {"reason", "internal note"},
                         {"actor", "ann@shop"},
                         {"idempotency_key", "a1"}})
                .status,
            201);
  HttpAnswer issued = daemon_.Post("/api/v1/customers/" + std::to_string(ada) + "/token", "");
  ASSERT_EQ(issued.status, 201) << issued.body;
  const std::string token = issued.Json()["token"];
  EXPECT_EQ(issued.Json()["customer_id"], ada);
  EXPECT_EQ(daemon_.Post("/api/v1/customers/999999/token", "").status, 404);

  HttpAnswer me = daemon_.Get("/api/v1/me", token);
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(me.Json()["customer_id"], ada);
  EXPECT_EQ(me.Json()["first_name"], "Ada");
  EXPECT_EQ(me.Json()["points_balance"], 600);
  EXPECT_FALSE(me.Json().contains("email"));
  const json ledger = daemon_.Get("/api/v1/me/ledger", token).Json();
  ASSERT_EQ(ledger["entries"].size(), 2u) << ledger.dump();
  EXPECT_EQ(ledger["entries"][0]["description"], "points adjustment");  // not the staff note
  EXPECT_EQ(ledger["entries"][1]["kind"], "opening_balance");
  const json rewards = daemon_.Get("/api/v1/me/rewards", token).Json();
  ASSERT_EQ(rewards["rewards"].size(), 2u);
  EXPECT_EQ(rewards["rewards"][0]["id"], "five-off");
  EXPECT_EQ(rewards["rewards"][0]["affordable"], true);
  EXPECT_EQ(rewards["rewards"][1]["points_needed"], 0);

  // Another customer's token sees that customer only; the path has no id to change.
  HttpAnswer other = daemon_.Post("/api/v1/customers/" + std::to_string(alan) + "/token", "");
  EXPECT_EQ(daemon_.Get("/api/v1/me", other.Json()["token"]).Json()["points_balance"], 50);

  // Neither token works in the other's place.
  EXPECT_EQ(daemon_.Get("/api/v1/me", kAdminToken).status, 401);
  EXPECT_EQ(daemon_.Get("/api/v1/customers/" + std::to_string(ada), token).status, 401);
  EXPECT_EQ(
      daemon_.Post("/api/v1/customers/" + std::to_string(ada) + "/token", "", {}, token).status,
      401);

  // Tampered, expired, missing: 401 with the reason.
  const std::string signature = token.substr(token.rfind('.') + 1);
  const std::string expiry = token.substr(0, token.rfind('.')).substr(token.find('.', 5) + 1);
  HttpAnswer tampered =
      daemon_.Get("/api/v1/me", "lct1." + std::to_string(alan) + "." + expiry + "." + signature);
  EXPECT_EQ(tampered.status, 401);
  EXPECT_EQ(tampered.Json()["error"], "invalid customer token: the signature does not match");
  HttpAnswer expired = daemon_.Get("/api/v1/me", ForgeToken(ada, 1'000'000'000));
  EXPECT_EQ(expired.status, 401);
  EXPECT_EQ(expired.Json()["error"], "customer token expired; ask the store for a new one");
  EXPECT_EQ(daemon_.Get("/api/v1/me/ledger", ForgeToken(ada, 4'000'000'000)).status, 200);
  EXPECT_EQ(daemon_.Get("/api/v1/me", "").status, 401);
  EXPECT_EQ(daemon_.Get("/api/v1/me/ledger?limit=0", token).Json()["field"], "limit");

  // CORS for the configured storefront origin only.
  httplib::Client client = Client();
  auto allowed = client.Get(
      "/api/v1/me", {{"Authorization", "Bearer " + token}, {"Origin", "https://shop.example.com"}});
  ASSERT_TRUE(allowed);
  EXPECT_EQ(allowed->get_header_value("Access-Control-Allow-Origin"), "https://shop.example.com");
  auto foreign = client.Get(
      "/api/v1/me", {{"Authorization", "Bearer " + token}, {"Origin", "https://evil.example.com"}});
  ASSERT_TRUE(foreign);
  EXPECT_FALSE(foreign->has_header("Access-Control-Allow-Origin"));
  auto preflight = client.Options("/api/v1/me/ledger", {{"Origin", "https://shop.example.com"}});
  ASSERT_TRUE(preflight);
  EXPECT_EQ(preflight->status, 204);
  EXPECT_EQ(preflight->get_header_value("Access-Control-Allow-Headers"), "Authorization");

  // The token is a credential: it never reaches the log.
  EXPECT_EQ(daemon_.ReadLog().find(signature), std::string::npos);
}

TEST_F(CustomersTest, ImportBalancesCommandSharesTheImportAndItsOnceRule) {
  daemon_.WriteConfig();
  const std::string csv_path = daemon_.dir() + "/balances.csv";
  std::ofstream(csv_path) << kFile;
  const std::string args =
      "import-balances --config " + daemon_.dir() + "/config.json --file " + csv_path;
  std::string out;
  ASSERT_EQ(DaemonHarness::RunCli(args, out), 0) << out;
  json report = json::parse(out, nullptr, false);
  ASSERT_TRUE(report.is_object()) << out;
  EXPECT_EQ(report["applied"], 4);
  EXPECT_EQ(report["rejected"], 5);
  ASSERT_EQ(DaemonHarness::RunCli(args, out), 0) << out;
  EXPECT_EQ(json::parse(out, nullptr, false)["unchanged"], 4) << out;

  // The API then finds the same once-only entries.
  daemon_.Start();
  EXPECT_EQ(daemon_.BalanceOf("ada@example.com"), 700);
  EXPECT_EQ(PostCsv(kFile).Json()["unchanged"], 4);

  std::ofstream(csv_path) << "email,balance\n";
  EXPECT_EQ(DaemonHarness::RunCli(args, out), 2);
  EXPECT_NE(out.find("unknown column 'balance'"), std::string::npos) << out;
  EXPECT_EQ(
      DaemonHarness::RunCli("import-balances --config " + daemon_.dir() + "/config.json", out), 2);
}

TEST_F(CustomersTest, TokensNeedAStorefrontBlock) {
  daemon_.config().erase("storefront");
  daemon_.Start();
  ASSERT_EQ(PostCsv(kFile).status, 200);
  HttpAnswer refused =
      daemon_.Post("/api/v1/customers/" + std::to_string(IdOf("ada@example.com")) + "/token", "");
  EXPECT_EQ(refused.status, 409);
  EXPECT_EQ(daemon_.Get("/api/v1/me", ForgeToken(1, 4'000'000'000)).status, 401);
}

}  // namespace
}  // namespace loyaltyd::testing::customers_test
