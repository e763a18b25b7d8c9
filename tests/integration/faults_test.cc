// Fault tests: the real loyaltyd binary under kill -9 at random moments of a webhook load, a
// full disk, a read-only database, platform APIs that are down, and a hundred redemptions
// racing for one balance. Each ends by comparing the books with what the rules say they must
// hold (an oracle computed here), through the admin API and the fake stores (tests/fakes), over
// loopback only. The faults are real where a test can make them real without root: kill -9, a
// file size limit on the daemon (RLIMIT_FSIZE: writes fail with EFBIG, as they fail with ENOSPC
// on a full disk; it binds root too), permissions or a read-only mount, stores that refuse
// connections. docs/operations.md ("Faults") states the guarantees tested.
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <latch>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "connectors/woocommerce/woocommerce_samples.h"
#include "core/crypto.h"
#include "fakes/fake_shopify_admin.h"
#include "fakes/fake_woocommerce_rest.h"
#include "integration/daemon_harness.h"

namespace loyaltyd::testing::faults_test {
namespace {

using fakes::FakeShopifyAdmin;
using fakes::FakeWooCommerceRest;
using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;

json Money(const std::string& amount) {
  const json m = {{"amount", amount}, {"currency_code", "USD"}};
  return {{"shop_money", m}, {"presentment_money", m}};
}

// An orders/paid body shaped like Shopify's (REST order resource): one line of `quantity`
// items at `price`, line item id order_id + 1.
std::string OrderBody(uint64_t order_id, uint64_t customer_id, const std::string& email,
                      const std::string& price, int quantity) {
  const std::string total = std::to_string(std::stoll(price) * quantity) + ".00";
  return json{{"id", order_id},
              {"admin_graphql_api_id", "gid://shopify/Order/" + std::to_string(order_id)},
              {"name", "#" + std::to_string(order_id)},
              {"email", email},
              {"currency", "USD"},
              {"presentment_currency", "USD"},
              {"taxes_included", false},
              {"financial_status", "paid"},
              {"cancelled_at", nullptr},
              {"test", false},
              {"created_at", "2026-11-24T10:00:00-05:00"},
              {"updated_at", "2026-11-24T10:00:05-05:00"},
              {"subtotal_price", total},
              {"subtotal_price_set", Money(total)},
              {"total_price", total},
              {"total_price_set", Money(total)},
              {"total_tax", "0.00"},
              {"total_tax_set", Money("0.00")},
              {"total_discounts", "0.00"},
              {"total_discounts_set", Money("0.00")},
              {"total_shipping_price_set", Money("0.00")},
              {"line_items",
               {{{"id", order_id + 1},
                 {"product_id", 632910392},
                 {"variant_id", 808950810},
                 {"sku", "FAULT-1"},
                 {"title", "Fault tolerance"},
                 {"quantity", quantity},
                 {"price", price + ".00"},
                 {"price_set", Money(price + ".00")},
                 {"gift_card", false},
                 {"requires_shipping", true},
                 {"taxable", true},
                 {"discount_allocations", json::array()},
                 {"tax_lines", json::array()}}}},
              {"shipping_lines", json::array()},
              {"refunds", json::array()},
              {"customer",
               {{"id", customer_id},
                {"email", email},
                {"first_name", "Fay"},
                {"last_name", "Ult"},
                {"tags", ""}}}}
      .dump();
}

// A refunds/create body (REST Refund resource) giving back one item of the order's line.
// Shopify sends the refund line's subtotal as a JSON number.
std::string RefundBody(uint64_t refund_id, uint64_t order_id, const std::string& price,
                       int quantity) {
  json line = {{"id", refund_id + 1},
               {"quantity", 1},
               {"line_item_id", order_id + 1},
               {"restock_type", "return"},
               {"subtotal", std::stod(price)},
               {"total_tax", 0.0},
               {"subtotal_set", Money(price + ".00")},
               {"total_tax_set", Money("0.00")},
               {"line_item", {{"id", order_id + 1}, {"gift_card", false}, {"quantity", quantity}}}};
  return json{{"id", refund_id},
              {"order_id", order_id},
              {"created_at", "2026-11-24T12:00:00-05:00"},
              {"refund_line_items", json::array({line})},
              {"transactions", json::array()}}
      .dump();
}

// The seed of a randomised test: LOYALTYD_FAULTS_SEED to replay one, else a fresh one.
uint64_t FaultSeed() {
  if (const char* fixed = std::getenv("LOYALTYD_FAULTS_SEED")) {
    return std::strtoull(fixed, nullptr, 10);
  }
  return std::random_device{}();
}

// One signed Shopify delivery, as the platform sends it.
struct Delivery {
  std::string topic;
  std::string body;
  std::string event_id;
};

httplib::Result Send(httplib::Client& client, const Delivery& d) {
  return client.Post("/webhooks/shopify",
                     {{"X-Shopify-Topic", d.topic},
                      {"X-Shopify-Shop-Domain", kShopDomain},
                      {"X-Shopify-Hmac-Sha256", HmacSha256Base64(kWebhookSecret, d.body)},
                      {"X-Shopify-Event-Id", d.event_id},
                      {"X-Shopify-Webhook-Id", "wh-" + d.event_id}},
                     d.body, "application/json");
}

// GET with the admin token on a client of the caller's (the harness's is for one thread).
httplib::Headers AdminHeaders(const std::string& idempotency_key = "") {
  httplib::Headers h{{"Authorization", std::string("Bearer ") + kAdminToken}};
  if (!idempotency_key.empty()) h.emplace("Idempotency-Key", idempotency_key);
  return h;
}

// The shop's API settings for a fake store at `base_url`, and a one-reward catalogue.
void UseFakeStores(json& config, const std::string& shopify_url, const std::string& woo_url) {
  config["shops"][0]["api"] = {{"base_url", shopify_url},
                               {"access_token", fakes::FakeShopifyOptions().access_token},
                               {"api_version", "2025-07"},
                               {"timeout_seconds", 2}};
  config["shops"][1]["api"] = {{"base_url", woo_url},
                               {"consumer_key", fakes::FakeWooCommerceOptions().consumer_key},
                               {"consumer_secret", fakes::FakeWooCommerceOptions().consumer_secret},
                               {"timeout_seconds", 2}};
  config["program"]["rewards"] = json::array({{{"id", "five-off"},
                                               {"name", "$5 off"},
                                               {"points", 500},
                                               {"kind", "fixed_discount"},
                                               {"amount", "5.00"}}});
  // Retried often and never given up within a test: an outage must end with the reward issued.
  config["outbox"] = {{"max_attempts", 1000},
                      {"initial_backoff_ms", 20},
                      {"max_backoff_ms", 200},
                      {"poll_interval_ms", 20}};
}

// The customer id the daemon gave the one customer with this email; -1 when none.
int64_t CustomerId(DaemonHarness& daemon, const std::string& email) {
  const json found = daemon.Get("/api/v1/customers?email=" + email).Json();
  if (!found.is_object() || found["customers"].size() != 1) return -1;
  return found["customers"][0]["id"];
}

json Ledger(DaemonHarness& daemon, int64_t customer) {
  return daemon.Get("/api/v1/customers/" + std::to_string(customer) + "/ledger?limit=500")
      .Json()["entries"];
}

// Polls until every redemption of the customer has left `pending`; returns them.
json WaitRedemptionsSettled(DaemonHarness& daemon, int64_t customer, size_t expected,
                            seconds timeout = seconds(30)) {
  const auto deadline = steady_clock::now() + timeout;
  json list;
  while (steady_clock::now() < deadline) {
    list = daemon.Get("/api/v1/customers/" + std::to_string(customer) + "/redemptions?limit=500")
               .Json()["redemptions"];
    size_t settled = 0;
    for (const json& r : list) settled += r["status"] != "pending";
    if (list.size() == expected && settled == expected) return list;
    std::this_thread::sleep_for(milliseconds(20));
  }
  return list;
}

// ---------------------------------------------------------------------------------------------
// kill -9 at random moments of a load, five times; the platform re-sends what was not
// acknowledged (and some of what was); the books end exactly as the rules say.

TEST(FaultsTest, Kill9AtRandomMomentsUnderLoadEndsWithTheOraclesLedger) {
  const uint64_t seed = FaultSeed();
  SCOPED_TRACE("seed " + std::to_string(seed) +
               " (replay: LOYALTYD_FAULTS_SEED=" + std::to_string(seed) + ")");
  std::mt19937_64 rng(seed);

  constexpr int kCustomers = 8;
  constexpr int kOrders = 600;
  constexpr int kRounds = 5;
  constexpr int kSenders = 4;

  // The load and its oracle: each order has three items at a whole-dollar price and earns 1
  // point per dollar; a third of them get a refund of one item, which takes its price back
  // (program.refunds' default). Arrival order is shuffled: a refund may overtake its order.
  std::vector<Delivery> deliveries;
  std::map<int, int64_t> balance;       // customer -> points
  std::map<int, int> earns, clawbacks;  // customer -> ledger entries of each kind
  for (int o = 0; o < kOrders; ++o) {
    const int c = static_cast<int>(rng() % kCustomers);
    const uint64_t order_id = 710000 + 10 * static_cast<uint64_t>(o);
    const std::string price = std::to_string(1 + rng() % 40);
    const std::string email = "c" + std::to_string(c) + "@faults.example";
    deliveries.push_back({"orders/paid", OrderBody(order_id, 9100 + c, email, price, 3),
                          "evt-paid-" + std::to_string(o)});
    balance[c] += 3 * std::stoll(price);
    earns[c]++;
    if (rng() % 3 == 0) {
      deliveries.push_back({"refunds/create", RefundBody(order_id + 5, order_id, price, 3),
                            "evt-refund-" + std::to_string(o)});
      balance[c] -= std::stoll(price);
      clawbacks[c]++;
    }
  }
  std::shuffle(deliveries.begin(), deliveries.end(), rng);

  DaemonHarness daemon;
  daemon.Start();
  const int port = daemon.port();

  // The platform: senders take deliveries from a queue; what gets no 2xx goes back into it, as
  // does one in ten of those that did (platforms redeliver acknowledged webhooks too).
  std::mutex mu;
  std::deque<size_t> queue;                           // GUARDED_BY(mu)
  std::vector<bool> acked(deliveries.size(), false);  // GUARDED_BY(mu)
  size_t acked_count = 0;                             // GUARDED_BY(mu)
  int refused = 0;                                    // GUARDED_BY(mu): deliveries sent again
  std::atomic<bool> stop{false};
  std::vector<std::thread> senders;
  for (int t = 0; t < kSenders; ++t) {
    senders.emplace_back([&, t] {
      std::mt19937_64 local(seed + 1 + static_cast<uint64_t>(t));
      httplib::Client client("127.0.0.1", port);
      client.set_connection_timeout(1, 0);
      client.set_read_timeout(5, 0);
      while (!stop.load()) {
        size_t i;
        {
          std::lock_guard<std::mutex> lock(mu);
          if (queue.empty())
            i = deliveries.size();
          else {
            i = queue.front();
            queue.pop_front();
          }
        }
        if (i == deliveries.size()) {
          std::this_thread::sleep_for(milliseconds(2));
          continue;
        }
        httplib::Result res = Send(client, deliveries[i]);
        const bool ok = res && res->status >= 200 && res->status < 300;
        {
          std::lock_guard<std::mutex> lock(mu);
          if (ok) {
            if (!acked[i]) acked_count++;
            acked[i] = true;
            if (local() % 10 == 0) queue.push_back(i);
          } else {
            refused++;
            queue.push_back(i);
          }
        }
        if (!ok) std::this_thread::sleep_for(milliseconds(5));  // the daemon is down
      }
    });
  }

  const size_t per_round = (deliveries.size() + kRounds - 1) / kRounds;
  for (int round = 0; round < kRounds; ++round) {
    {
      std::lock_guard<std::mutex> lock(mu);
      for (size_t i = round * per_round; i < std::min(deliveries.size(), (round + 1) * per_round);
           ++i) {
        queue.push_back(i);
      }
    }
    std::this_thread::sleep_for(milliseconds(5 + rng() % 150));
    daemon.Kill9();
    std::this_thread::sleep_for(milliseconds(rng() % 50));  // down a moment; senders keep trying
    daemon.Start();
    if (::testing::Test::HasFatalFailure()) break;
  }
  // The platform keeps re-sending until everything has been acknowledged.
  const auto deadline = steady_clock::now() + seconds(40);
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (acked_count == deliveries.size() && queue.empty()) break;
    }
    if (steady_clock::now() > deadline) break;
    std::this_thread::sleep_for(milliseconds(10));
  }
  stop = true;
  for (std::thread& s : senders) s.join();
  ASSERT_EQ(acked_count, deliveries.size()) << "deliveries never acknowledged";
  std::printf("[ faults   ] %zu deliveries, %d kill -9 rounds, %d sends refused or cut\n",
              deliveries.size(), kRounds, refused);

  ASSERT_TRUE(daemon.WaitUntilProcessed(seconds(30)));
  const json stats = daemon.Get("/api/v1/stats").Json();
  EXPECT_EQ(stats["inbox"]["failed"], 0) << stats.dump();
  EXPECT_EQ(stats["inbox"]["processed"].get<size_t>() + stats["inbox"]["ignored"].get<size_t>(),
            deliveries.size())
      << "each delivery is stored once, whatever the redeliveries: " << stats.dump();
  for (int c = 0; c < kCustomers; ++c) {
    if (earns[c] == 0) continue;
    SCOPED_TRACE("customer c" + std::to_string(c));
    const int64_t id = CustomerId(daemon, "c" + std::to_string(c) + "@faults.example");
    ASSERT_GT(id, 0);
    EXPECT_EQ(daemon.Get("/api/v1/customers/" + std::to_string(id)).Json()["points_balance"],
              balance[c]);
    const json entries = Ledger(daemon, id);
    std::map<std::string, int> kinds;
    std::set<std::string> seen;
    for (const json& e : entries) {
      kinds[e["kind"]]++;
      const std::string key =
          e["kind"].get<std::string>() + "|" + e["order"]["platform_order_id"].get<std::string>();
      EXPECT_TRUE(seen.insert(key).second) << "duplicate ledger entry " << key;
    }
    EXPECT_EQ(kinds["earn"], earns[c]);
    EXPECT_EQ(kinds["clawback"], clawbacks[c]);
    EXPECT_EQ(entries.size(), static_cast<size_t>(earns[c] + clawbacks[c]));
  }
}

// ---------------------------------------------------------------------------------------------
// A full disk: writes answer 503 with Retry-After and /healthz says so; reads go on; nothing
// acknowledged before is lost; once there is room the daemon serves again without a restart.

TEST(FaultsTest, DiskFullAnswers503AndServesAgainOnceThereIsRoom) {
  FakeShopifyAdmin store;
  store.AddCustomer("9301", "full@faults.example");
  ASSERT_TRUE(store.Start());
  DaemonHarness daemon;
  UseFakeStores(daemon.config(), store.base_url(), "http://127.0.0.1:9");
  daemon.set_log_through_pipe(true);
  daemon.Start();
  httplib::Client client("127.0.0.1", daemon.port());
  client.set_read_timeout(10, 0);

  auto order = [](int n) {
    return Delivery{
        "orders/paid",
        OrderBody(720000 + 10 * static_cast<uint64_t>(n), 9301, "full@faults.example", "200", 3),
        "evt-full-" + std::to_string(n)};
  };
  for (int n = 0; n < 3; ++n) ASSERT_EQ(Send(client, order(n))->status, 200);
  ASSERT_TRUE(daemon.WaitUntilProcessed());
  const int64_t id = CustomerId(daemon, "full@faults.example");
  ASSERT_GT(id, 0);
  const std::string redeem_path = "/api/v1/customers/" + std::to_string(id) + "/redemptions";
  const std::string five_off = R"({"reward":"five-off"})";
  httplib::Result first =
      client.Post(redeem_path, AdminHeaders("full-1"), five_off, "application/json");
  ASSERT_EQ(first->status, 201) << first->body;
  ASSERT_EQ(WaitRedemptionsSettled(daemon, id, 1)[0]["status"], "issued");
  ASSERT_EQ(daemon.BalanceOf("full@faults.example"), 1800 - 500);

  // The disk is full: no file of the daemon's may grow (or be written at all) any more.
  rlimit before{};
  ASSERT_EQ(prlimit(daemon.pid(), RLIMIT_FSIZE, nullptr, &before), 0);
  const rlimit full{0, before.rlim_max};
  ASSERT_EQ(prlimit(daemon.pid(), RLIMIT_FSIZE, &full, nullptr), 0);

  httplib::Result hook = Send(client, order(3));
  ASSERT_TRUE(hook) << "no answer: the daemon hung or died";
  EXPECT_EQ(hook->status, 503) << hook->body;
  EXPECT_EQ(hook->get_header_value("Retry-After"), "5");
  httplib::Result redeem =
      client.Post(redeem_path, AdminHeaders("full-2"), five_off, "application/json");
  ASSERT_TRUE(redeem);
  EXPECT_EQ(redeem->status, 503) << redeem->body;
  EXPECT_EQ(redeem->get_header_value("Retry-After"), "5");
  httplib::Result health = client.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 503) << health->body;
  EXPECT_EQ(json::parse(health->body)["status"], "unavailable");
  // The log and /api/v1/stats say what is wrong: the OS's own reason, not just "I/O error".
  EXPECT_TRUE(daemon.WaitForLog("inbox commit of 1 webhook(s) failed")) << daemon.ReadLog();
  EXPECT_TRUE(daemon.WaitForLog("File too large")) << daemon.ReadLog();
  const json stats = daemon.Get("/api/v1/stats").Json();
  EXPECT_EQ(stats["storage"]["writable"], false) << stats.dump();
  EXPECT_NE(stats["storage"]["error"].get<std::string>().find("File too large"), std::string::npos)
      << stats.dump();
  // Reads go on, and show nothing half-done.
  EXPECT_EQ(daemon.BalanceOf("full@faults.example"), 1300);
  EXPECT_EQ(kill(daemon.pid(), 0), 0) << "the daemon died of the file size limit (SIGXFSZ)";

  // Room again: the daemon notices by itself (/healthz probes) and takes writes, no restart.
  ASSERT_EQ(prlimit(daemon.pid(), RLIMIT_FSIZE, &before, nullptr), 0);
  const auto deadline = steady_clock::now() + seconds(10);
  int health_status = 0;
  while (steady_clock::now() < deadline) {
    httplib::Result h = client.Get("/healthz");
    health_status = h ? h->status : 0;
    if (health_status == 200) break;
    std::this_thread::sleep_for(milliseconds(100));
  }
  EXPECT_EQ(health_status, 200);
  EXPECT_EQ(daemon.Get("/api/v1/stats").Json()["storage"]["writable"], true);
  // The platform re-sends the refused delivery; the merchant's client retries with its key.
  httplib::Result again = Send(client, order(3));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200) << again->body;
  EXPECT_EQ(json::parse(again->body)["status"], "stored");
  httplib::Result redeemed =
      client.Post(redeem_path, AdminHeaders("full-2"), five_off, "application/json");
  ASSERT_TRUE(redeemed);
  EXPECT_EQ(redeemed->status, 201)
      << "the refused redemption left something behind: " << redeemed->body;
  EXPECT_TRUE(daemon.WaitForLog("inbox commits succeed again after"));
  ASSERT_TRUE(daemon.WaitUntilProcessed());
  EXPECT_EQ(daemon.BalanceOf("full@faults.example"), 1300 + 600 - 500);

  // Nothing acknowledged is lost, through a crash too.
  daemon.Kill9();
  daemon.Start();
  ASSERT_TRUE(daemon.WaitUntilProcessed());
  EXPECT_EQ(daemon.BalanceOf("full@faults.example"), 1400);
  const json settled = WaitRedemptionsSettled(daemon, id, 2);
  ASSERT_EQ(settled.size(), 2u);
  for (const json& r : settled) EXPECT_EQ(r["status"], "issued") << r.dump();
  EXPECT_EQ(store.discounts().size(), 2u);
  const json entries = Ledger(daemon, id);
  int earned = 0, redeemed_entries = 0;
  for (const json& e : entries) {
    earned += e["kind"] == "earn";
    redeemed_entries += e["kind"] == "redeem";
  }
  EXPECT_EQ(earned, 4);
  EXPECT_EQ(redeemed_entries, 2);
}

// A database that cannot be written at start (a read-only mount, wrong permissions): the
// daemon refuses to start and says why, instead of answering every webhook 503; once the cause
// is gone it starts with everything acknowledged before. (A running daemon's database cannot
// turn read-only by chmod, which open files ignore, nor by a remount, which Linux refuses while
// files are open for writing; a file system's emergency read-only remount fails its writes like
// the full disk above.)

// Runs `command` through the shell; returns its exit code and fills `output`.
int RunShell(const std::string& command, std::string& output) {
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return -1;
  char buf[4096];
  size_t n;
  output.clear();
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) output.append(buf, n);
  const int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(FaultsTest, ReadOnlyDatabaseAtStartIsRefusedWithTheReason) {
  DaemonHarness daemon;
  daemon.Start();
  ASSERT_EQ(daemon
                .PostShopifyWebhook("orders/paid",
                                    OrderBody(750000, 9601, "ro@faults.example", "10", 3), "evt-ro")
                .status,
            200);
  ASSERT_TRUE(daemon.WaitUntilProcessed());
  ASSERT_EQ(daemon.Stop(), 0);

  const std::string dir = daemon.dir();
  const std::string serve =
      std::string("timeout 20 ") + LOYALTYD_BINARY + " serve --config " + dir + "/config.json";
  std::string output;
  int code = 0;
  std::string reason;
  if (geteuid() == 0) {
    // Root writes through any permission bits, so the directory is made read-only the way a
    // read-only file system is: a read-only bind mount, in a mount namespace of the daemon's
    // own (nothing outside it sees the mount).
    code = RunShell("unshare --mount --propagation private sh -c 'mount --bind " + dir + " " + dir +
                        " && mount -o remount,bind,ro " + dir + " && exec " + serve + "'",
                    output);
    if (output.rfind("unshare:", 0) == 0 || output.rfind("mount:", 0) == 0) {
      GTEST_SKIP() << "cannot make a read-only mount here (unshare/mount not permitted): "
                   << output;
    }
    reason = "Read-only file system";
  } else {
    ASSERT_EQ(chmod((dir + "/loyaltyd.db").c_str(), 0444), 0);
    ASSERT_EQ(chmod(dir.c_str(), 0555), 0);
    code = RunShell(serve, output);
    chmod(dir.c_str(), 0755);
    chmod((dir + "/loyaltyd.db").c_str(), 0644);
    reason = "Permission denied";
  }
  EXPECT_EQ(code, 1) << output;
  EXPECT_NE(output.find("is not writable"), std::string::npos) << output;
  EXPECT_NE(output.find(reason), std::string::npos) << output;

  daemon.Start();
  ASSERT_TRUE(daemon.WaitUntilProcessed());
  EXPECT_EQ(daemon.BalanceOf("ro@faults.example"), 30);
}

// ---------------------------------------------------------------------------------------------
// The platforms' APIs refuse connections for the whole run, then come back on the same port:
// the outbox drains with exactly one reward per redemption, and no points move meanwhile.

TEST(FaultsTest, PlatformApisDownForTheWholeRunThenBackIssueExactlyOneRewardEach) {
  constexpr int kEach = 4;
  const int shopify_port = FreePort();
  const int woo_port = FreePort();
  FakeShopifyAdmin store;  // not listening yet: connections are refused
  store.AddCustomer("9401", "down@faults.example");
  FakeWooCommerceRest woo;
  woo.AddCustomer(41, "woo-down@faults.example");

  DaemonHarness daemon;
  UseFakeStores(daemon.config(), "http://127.0.0.1:" + std::to_string(shopify_port),
                "http://127.0.0.1:" + std::to_string(woo_port));
  daemon.Start();
  ASSERT_EQ(daemon
                .PostShopifyWebhook("orders/paid",
                                    OrderBody(730000, 9401, "down@faults.example", "1000", 3),
                                    "evt-down-1")
                .status,
            200);
  WooCommerceSampleOptions woo_order;
  woo_order.order_id = 4101;
  woo_order.customer_id = 41;
  woo_order.email = "woo-down@faults.example";
  woo_order.subtotal = "3000.00";
  woo_order.status = "completed";
  Result<std::string> woo_body = WooCommerceSampleBody("order.updated", woo_order);
  ASSERT_TRUE(woo_body.ok());
  ASSERT_EQ(daemon.PostWooCommerceWebhook("order.updated", *woo_body, "d-4101").status, 200);
  ASSERT_TRUE(daemon.WaitUntilProcessed());
  const int64_t shopify_customer = CustomerId(daemon, "down@faults.example");
  const int64_t woo_customer = CustomerId(daemon, "woo-down@faults.example");
  ASSERT_GT(shopify_customer, 0);
  ASSERT_GT(woo_customer, 0);

  for (int64_t customer : {shopify_customer, woo_customer}) {
    for (int i = 0; i < kEach; ++i) {
      HttpAnswer created = daemon.Post(
          "/api/v1/customers/" + std::to_string(customer) + "/redemptions",
          R"({"reward":"five-off"})",
          {{"Idempotency-Key", "down-" + std::to_string(customer) + "-" + std::to_string(i)}});
      ASSERT_EQ(created.status, 201) << created.body;
      EXPECT_EQ(created.Json()["status"], "pending");
    }
  }
  // Every job has met the refused connection a few times, and nothing was given up.
  const auto deadline = steady_clock::now() + seconds(20);
  json jobs;
  bool retried = false;
  while (!retried && steady_clock::now() < deadline) {
    jobs = daemon.Get("/api/v1/jobs?limit=500").Json()["jobs"];
    retried = jobs.size() == 2 * kEach;
    for (const json& j : jobs) retried = retried && j["attempts"].get<int>() >= 3;
    if (!retried) std::this_thread::sleep_for(milliseconds(50));
  }
  ASSERT_TRUE(retried) << jobs.dump();
  for (const json& j : jobs) {
    EXPECT_EQ(j["status"], "pending") << j.dump();
    EXPECT_FALSE(j["last_error"].get<std::string>().empty()) << j.dump();
  }
  EXPECT_EQ(
      daemon.Get("/api/v1/customers/" + std::to_string(shopify_customer)).Json()["points_balance"],
      3000 - kEach * 500);

  // The stores are back, where they were.
  ASSERT_TRUE(store.Start(shopify_port));
  ASSERT_TRUE(woo.Start(woo_port));
  const json shopify_redemptions = WaitRedemptionsSettled(daemon, shopify_customer, kEach);
  const json woo_redemptions = WaitRedemptionsSettled(daemon, woo_customer, kEach);
  std::set<std::string> codes;
  for (const json* list : {&shopify_redemptions, &woo_redemptions}) {
    ASSERT_EQ(list->size(), static_cast<size_t>(kEach));
    for (const json& r : *list) {
      EXPECT_EQ(r["status"], "issued") << r.dump();
      if (r["code"].is_string()) codes.insert(r["code"].get<std::string>());
    }
  }
  EXPECT_EQ(codes.size(), static_cast<size_t>(2 * kEach)) << "codes are not one per redemption";
  ASSERT_EQ(store.discounts().size(), static_cast<size_t>(kEach));
  for (const fakes::FakeDiscount& d : store.discounts()) EXPECT_EQ(codes.count(d.code), 1u);
  ASSERT_EQ(woo.coupons().size(), static_cast<size_t>(kEach));
  for (const json& c : woo.coupons()) EXPECT_EQ(codes.count(c["code"].get<std::string>()), 1u);

  for (int64_t customer : {shopify_customer, woo_customer}) {
    EXPECT_EQ(daemon.Get("/api/v1/customers/" + std::to_string(customer)).Json()["points_balance"],
              3000 - kEach * 500);
    int redeems = 0, refunds = 0;
    for (const json& e : Ledger(daemon, customer)) {
      redeems += e["kind"] == "redeem";
      refunds += e["kind"] == "refund";
    }
    EXPECT_EQ(redeems, kEach);
    EXPECT_EQ(refunds, 0) << "points were returned for a reward that was issued";
  }
  // Held in a variable: a range-for over a member of a temporary reads freed memory (ASan).
  const json final_jobs = daemon.Get("/api/v1/jobs?limit=500").Json()["jobs"];
  for (const json& j : final_jobs) {
    EXPECT_EQ(j["status"], "done") << j.dump();
  }
}

// ---------------------------------------------------------------------------------------------
// A hundred redemptions at once against a balance that pays for seven: seven succeed, the rest
// are refused with 409, and the store gets seven codes.

TEST(FaultsTest, HundredConcurrentRedemptionsSpendOneBalanceOnce) {
  constexpr int kRequests = 100;
  constexpr int kAffordable = 7;
  FakeShopifyAdmin store;
  store.AddCustomer("9501", "race@faults.example");
  ASSERT_TRUE(store.Start());
  DaemonHarness daemon;
  UseFakeStores(daemon.config(), store.base_url(), "http://127.0.0.1:9");
  daemon.config()["server"]["threads"] = 128;  // every request in flight at once
  daemon.Start();
  // 3 x 1333 = 3999 points: seven rewards of 500, and 499 left.
  ASSERT_EQ(
      daemon
          .PostShopifyWebhook("orders/paid",
                              OrderBody(740000, 9501, "race@faults.example", "1333", 3), "evt-race")
          .status,
      200);
  ASSERT_TRUE(daemon.WaitUntilProcessed());
  const int64_t id = CustomerId(daemon, "race@faults.example");
  ASSERT_GT(id, 0);
  ASSERT_EQ(daemon.BalanceOf("race@faults.example"), 3999);

  std::vector<int> statuses(kRequests, 0);
  std::vector<std::string> bodies(kRequests);
  std::latch start(kRequests);
  std::vector<std::thread> threads;
  for (int i = 0; i < kRequests; ++i) {
    threads.emplace_back([&, i] {
      httplib::Client client("127.0.0.1", daemon.port());
      client.set_read_timeout(30, 0);
      start.arrive_and_wait();
      httplib::Result res = client.Post("/api/v1/customers/" + std::to_string(id) + "/redemptions",
                                        AdminHeaders("race-" + std::to_string(i)),
                                        R"({"reward":"five-off"})", "application/json");
      statuses[i] = res ? res->status : 0;
      if (res) bodies[i] = res->body;
    });
  }
  for (std::thread& t : threads) t.join();
  int created = 0, refused = 0;
  for (int i = 0; i < kRequests; ++i) {
    if (statuses[i] == 201) {
      created++;
    } else {
      EXPECT_EQ(statuses[i], 409) << bodies[i];
      refused++;
      if (statuses[i] == 409) {
        EXPECT_NE(bodies[i].find("not enough points"), std::string::npos) << bodies[i];
      }
    }
  }
  EXPECT_EQ(created, kAffordable);
  EXPECT_EQ(refused, kRequests - kAffordable);
  EXPECT_EQ(daemon.BalanceOf("race@faults.example"), 3999 - kAffordable * 500);

  const json entries = Ledger(daemon, id);
  int debits = 0;
  for (const json& e : entries) {
    debits += e["kind"] == "redeem";
    EXPECT_GE(e["balance_after"].get<int64_t>(), 0) << e.dump();
  }
  EXPECT_EQ(debits, kAffordable);
  const json settled = WaitRedemptionsSettled(daemon, id, kAffordable);
  ASSERT_EQ(settled.size(), static_cast<size_t>(kAffordable));
  for (const json& r : settled) EXPECT_EQ(r["status"], "issued") << r.dump();
  EXPECT_EQ(store.discounts().size(), static_cast<size_t>(kAffordable));
}

}  // namespace
}  // namespace loyaltyd::testing::faults_test
