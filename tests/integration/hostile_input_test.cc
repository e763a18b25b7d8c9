// Hostile input against the real daemon: oversized and slow requests, many idle connections,
// invalid UTF-8, deeply nested JSON, huge and non-numeric numbers, replayed signatures, wrong
// admin tokens and SQL injection attempts. Whatever arrives, the daemon keeps serving, credits
// nothing it should not, and says why it refused. (The signature, 413 and token basics are in
// shopify_ingest_test.cc and woocommerce_ingest_test.cc; these go further.)
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "connectors/shopify/shopify_samples.h"
#include "connectors/woocommerce/woocommerce_samples.h"
#include "core/crypto.h"
#include "integration/daemon_harness.h"

namespace loyaltyd::testing::hostile_input_test {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using SteadyTime = std::chrono::steady_clock;

// A TCP connection to the daemon written byte by byte, for requests no HTTP client would send.
class RawConnection {
 public:
  explicit RawConnection(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    connected_ = fd_ >= 0 && connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~RawConnection() {
    if (fd_ >= 0) close(fd_);
  }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return connected_; }

  // False once the daemon has closed the connection.
  bool Send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // True when the daemon has sent something (or closed): the next Read will not wait.
  bool Readable(milliseconds wait = milliseconds(0)) const {
    pollfd p{fd_, POLLIN, 0};
    return poll(&p, 1, static_cast<int>(wait.count())) > 0;
  }

  // Everything the daemon sends until it closes the connection or `timeout` passes.
  std::string ReadUntilClosed(seconds timeout, bool* closed = nullptr) {
    std::string out;
    const auto deadline = SteadyTime::now() + timeout;
    if (closed != nullptr) *closed = false;
    while (SteadyTime::now() < deadline) {
      if (!Readable(milliseconds(50))) continue;
      char buf[4096];
      const ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        if (closed != nullptr) *closed = true;
        break;
      }
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }

  // Shuts the sending half: the daemon sees the end of the request.
  void FinishSending() { shutdown(fd_, SHUT_WR); }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

// "HTTP/1.1 413 Payload Too Large ..." -> 413; 0 when there is no status line.
int StatusOf(const std::string& response) {
  if (response.rfind("HTTP/1.1 ", 0) != 0 || response.size() < 12) return 0;
  return std::stoi(response.substr(9, 3));
}

// The headers of a signed Shopify delivery for `body`, as a raw request's header block.
std::string ShopifyHeaders(const std::string& body, const std::string& event_id) {
  return "X-Shopify-Topic: orders/paid\r\nX-Shopify-Shop-Domain: " + std::string(kShopDomain) +
         "\r\nX-Shopify-Hmac-Sha256: " + HmacSha256Base64(kWebhookSecret, body) +
         "\r\nX-Shopify-Event-Id: " + event_id + "\r\nContent-Type: application/json\r\n";
}

// A Shopify orders/* body (shopify_samples: the REST order resource).
std::string ShopifyOrder(uint64_t order_id, uint64_t customer_id, const std::string& email,
                         const std::string& subtotal = "10.00") {
  ShopifySampleOptions options;
  options.order_id = order_id;
  options.customer_id = customer_id;
  options.email = email;
  options.subtotal = subtotal;
  Result<std::string> body = ShopifySampleBody("orders/paid", options);
  EXPECT_TRUE(body.ok()) << body.status().message();
  return body.ok() ? *body : std::string();
}

std::string WooOrder(uint64_t order_id, uint64_t customer_id, const std::string& email,
                     const std::string& subtotal = "10.00") {
  WooCommerceSampleOptions options;
  options.order_id = order_id;
  options.customer_id = customer_id;
  options.email = email;
  options.status = "processing";
  options.subtotal = subtotal;
  Result<std::string> body = WooCommerceSampleBody("order.updated", options);
  EXPECT_TRUE(body.ok()) << body.status().message();
  return body.ok() ? *body : std::string();
}

// Replaces every occurrence of `from` in `text`.
std::string ReplaceAll(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

class HostileInputTest : public ::testing::Test {
 protected:
  json Stats() { return daemon_.Get("/api/v1/stats").Json(); }

  // The daemon is alive and answering, and has taken no webhook since `before`.
  void ExpectNothingStored(const json& before) {
    const json after = Stats();
    ASSERT_TRUE(after.is_object()) << "the daemon stopped answering";
    EXPECT_EQ(after["inbox"], before["inbox"]);
  }

  // Reasons of the failed events, newest first.
  std::vector<std::string> FailedReasons() {
    std::vector<std::string> reasons;
    const json events = daemon_.Get("/api/v1/events?status=failed&limit=500").Json()["events"];
    for (const json& e : events) reasons.push_back(e["reason"].get<std::string>());
    return reasons;
  }

  DaemonHarness daemon_;
};

// --- Oversized bodies ---

TEST_F(HostileInputTest, AnnouncedHugeBodyIs413WithoutReadingIt) {
  daemon_.config()["server"]["read_timeout_seconds"] = 1;
  daemon_.Start();
  const json before = Stats();
  RawConnection c(daemon_.port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Send("POST /webhooks/shopify HTTP/1.1\r\nHost: x\r\n" + ShopifyHeaders("{}", "e1") +
                     "Content-Length: 1000000000000\r\n\r\n{\"id\":1"));
  const std::string answer = c.ReadUntilClosed(seconds(20));
  EXPECT_EQ(StatusOf(answer), 413) << answer;
  ExpectNothingStored(before);
}

TEST_F(HostileInputTest, OversizedChunkedBodyIs413AndNotBuffered) {
  daemon_.Start();  // max_body_bytes 65536
  const json before = Stats();
  RawConnection c(daemon_.port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Send("POST /webhooks/shopify HTTP/1.1\r\nHost: x\r\n" + ShopifyHeaders("{}", "e2") +
                     "Transfer-Encoding: chunked\r\n\r\n"));
  // 1 MB in 8 KB chunks: far past the limit, sent until the daemon stops listening.
  std::thread sender([&c] {
    const std::string chunk = "2000\r\n" + std::string(0x2000, ' ') + "\r\n";
    for (int i = 0; i < 128 && c.Send(chunk); ++i) {
    }
  });
  const std::string answer = c.ReadUntilClosed(seconds(20));
  sender.join();
  EXPECT_EQ(StatusOf(answer), 413) << answer;
  EXPECT_NE(answer.find("exceeds"), std::string::npos) << answer;
  ExpectNothingStored(before);
  // The admin API's POST routes have the same limit.
  RawConnection admin(daemon_.port());
  ASSERT_TRUE(
      admin.Send("POST /api/v1/referrals/clicks HTTP/1.1\r\nHost: x\r\nAuthorization: "
                 "Bearer " +
                 std::string(kAdminToken) + "\r\nTransfer-Encoding: chunked\r\n\r\n"));
  std::thread admin_sender([&admin] {
    const std::string chunk = "2000\r\n" + std::string(0x2000, '[') + "\r\n";
    for (int i = 0; i < 128 && admin.Send(chunk); ++i) {
    }
  });
  const std::string admin_answer = admin.ReadUntilClosed(seconds(20));
  admin_sender.join();
  EXPECT_EQ(StatusOf(admin_answer), 413) << admin_answer;
}

TEST_F(HostileInputTest, OversizedBodyWithoutContentLengthIs413) {
  daemon_.Start();
  const json before = Stats();
  RawConnection c(daemon_.port());
  ASSERT_TRUE(c.connected());
  // No Content-Length and not chunked: the body runs until the client closes its half.
  ASSERT_TRUE(c.Send("POST /webhooks/shopify HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" +
                     ShopifyHeaders("{}", "e3") + "\r\n"));
  std::thread sender([&c] {
    const std::string block(0x2000, ' ');
    for (int i = 0; i < 128 && c.Send(block); ++i) {
    }
    c.FinishSending();
  });
  const std::string answer = c.ReadUntilClosed(seconds(20));
  sender.join();
  EXPECT_EQ(StatusOf(answer), 413) << answer;
  ExpectNothingStored(before);
}

// --- Slow requests (slowloris) ---

// Sends `request` one byte every `pause` until the daemon answers or closes; returns what the
// daemon sent and how many bytes went out.
std::string Dribble(RawConnection& c, const std::string& request, milliseconds pause,
                    size_t* sent) {
  *sent = 0;
  for (char byte : request) {
    if (c.Readable()) break;
    if (!c.Send(std::string_view(&byte, 1))) break;
    ++*sent;
    std::this_thread::sleep_for(pause);
  }
  return c.ReadUntilClosed(seconds(10));
}

TEST_F(HostileInputTest, SlowHeadersAreCutOffAndOthersAreServed) {
  daemon_.config()["server"]["request_timeout_seconds"] = 2;
  daemon_.Start();
  const std::string body = ShopifyOrder(91001, 7001, "slow@example.com");
  // At 10 bytes/s the headers alone would take over 30 s: each byte comes well within the read
  // timeout (5 s), so only the request deadline (2 s) stops it.
  // The request line goes at once (a connection cut during it gets no answer at all), the rest
  // byte by byte.
  const std::string request = ShopifyHeaders(body, "evt-slow") +
                              "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  RawConnection slow(daemon_.port());
  ASSERT_TRUE(slow.connected());
  ASSERT_TRUE(slow.Send("POST /webhooks/shopify HTTP/1.1\r\nHost: x\r\n"));
  size_t sent = 0;
  std::string answer;
  std::thread dribbler([&] { answer = Dribble(slow, request, milliseconds(100), &sent); });
  // Meanwhile a webhook on another connection is served.
  const HttpAnswer ok = daemon_.PostShopifyWebhook(
      "orders/paid", ShopifyOrder(91002, 7002, "fast@example.com"), "evt-fast");
  EXPECT_EQ(ok.status, 200) << ok.body;
  dribbler.join();
  EXPECT_LT(sent, request.size() / 2) << "the daemon let a slow request run on";
  EXPECT_EQ(StatusOf(answer), 408) << answer;
  ASSERT_TRUE(daemon_.WaitUntilProcessed());
  EXPECT_EQ(daemon_.BalanceOf("fast@example.com"), 10);
  EXPECT_EQ(daemon_.BalanceOf("slow@example.com"), -1) << "the cut-off request was stored";
}

TEST_F(HostileInputTest, SlowBodyIsCutOff) {
  daemon_.config()["server"]["request_timeout_seconds"] = 2;
  daemon_.Start();
  const json before = Stats();
  const std::string body = ShopifyOrder(91003, 7003, "slowbody@example.com");
  RawConnection slow(daemon_.port());
  ASSERT_TRUE(slow.connected());
  ASSERT_TRUE(slow.Send("POST /webhooks/shopify HTTP/1.1\r\nHost: x\r\n" +
                        ShopifyHeaders(body, "evt-slow-body") +
                        "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n"));
  size_t sent = 0;
  const std::string answer = Dribble(slow, body, milliseconds(100), &sent);
  EXPECT_LT(sent, body.size() / 2);
  EXPECT_EQ(StatusOf(answer), 408) << answer;
  ExpectNothingStored(before);
}

// --- Many connections ---

TEST_F(HostileInputTest, HundredsOfIdleConnectionsDoNotStarveAWebhook) {
  // The default pool, and idle connections that are kept a whole minute: with a fixed pool of
  // 256 threads the webhook below would wait for one of them to time out (60 s).
  daemon_.config()["server"].erase("threads");
  daemon_.config()["server"]["keep_alive_timeout_seconds"] = 60;
  daemon_.Start();
  std::vector<std::unique_ptr<RawConnection>> idle;
  for (int i = 0; i < 300; ++i) {
    idle.push_back(std::make_unique<RawConnection>(daemon_.port()));
    ASSERT_TRUE(idle.back()->connected()) << "connection " << i;
  }
  // Half of them also start a request and stop.
  for (size_t i = 0; i < idle.size(); i += 2) ASSERT_TRUE(idle[i]->Send("POST /webhooks/sho"));
  const HttpAnswer ok = daemon_.PostShopifyWebhook(
      "orders/paid", ShopifyOrder(92001, 7101, "busy@example.com"), "evt-busy");
  EXPECT_EQ(ok.status, 200) << ok.body;
  ASSERT_TRUE(daemon_.WaitUntilProcessed());
  EXPECT_EQ(daemon_.BalanceOf("busy@example.com"), 10);
}

// --- Invalid UTF-8 ---

TEST_F(HostileInputTest, InvalidUtf8InBodiesAndHeadersIsRefusedOrStoredNeverACrash) {
  // JSON log lines, which quote some header values: they must stay valid JSON.
  daemon_.config()["logging"]["format"] = "json";
  daemon_.Start();
  // In a signed body: nlohmann refuses it, so the event is failed where the merchant sees it.
  const std::string bad = "\xff\xfe\xc3\x28";
  // (Spliced in after the samples are built: nlohmann will not write invalid UTF-8.)
  const std::string shopify_body =
      ReplaceAll(ShopifyOrder(93001, 7201, "utfBAD@example.com"), "BAD", bad);
  ASSERT_EQ(daemon_.PostShopifyWebhook("orders/paid", shopify_body, "evt-utf8").status, 200);
  const std::string woo_body = ReplaceAll(WooOrder(93002, 31, "wooBAD@example.com"), "BAD", bad);
  ASSERT_EQ(daemon_.PostWooCommerceWebhook("order.updated", woo_body).status, 200);
  // In headers: an event id and a topic with invalid bytes, on a valid body.
  ASSERT_EQ(daemon_
                .PostShopifyWebhook("orders/paid", ShopifyOrder(93003, 7203, "hdr@example.com"),
                                    "evt-" + bad)
                .status,
            200);
  ASSERT_EQ(daemon_.PostShopifyWebhook("orders/" + bad, "{\"id\":1}", "evt-topic").status, 200);
  // In a header that names the shop: refused, nothing learnt.
  EXPECT_EQ(daemon_
                .PostShopifyWebhook("orders/paid", shopify_body, "evt-dom", kWebhookSecret,
                                    "shop" + bad + ".myshopify.com")
                .status,
            401);
  ASSERT_TRUE(daemon_.WaitUntilProcessed());

  // Every answer about them is valid JSON (invalid bytes replaced), and nothing was credited
  // from a body that could not be read.
  const HttpAnswer failed = daemon_.Get("/api/v1/events?status=failed");
  ASSERT_EQ(failed.status, 200);
  ASSERT_FALSE(failed.Json().is_discarded()) << failed.body;
  EXPECT_EQ(failed.Json()["events"].size(), 2u) << failed.body;
  for (const std::string& reason : FailedReasons()) {
    EXPECT_NE(reason.find("JSON"), std::string::npos) << reason;
  }
  const HttpAnswer ignored = daemon_.Get("/api/v1/events?status=ignored");
  ASSERT_EQ(ignored.status, 200);
  ASSERT_FALSE(ignored.Json().is_discarded()) << ignored.body;
  EXPECT_EQ(daemon_.BalanceOf("hdr@example.com"), 10);
  // The admin API: an email query and JSON bodies with invalid bytes.
  const HttpAnswer search = daemon_.Get("/api/v1/customers?email=utf%FF%FE@example.com");
  EXPECT_EQ(search.status, 200);
  EXPECT_EQ(search.Json()["customers"].size(), 0u);
  const HttpAnswer click = daemon_.Post("/api/v1/referrals/clicks", "{\"code\":\"" + bad + "\"}");
  EXPECT_EQ(click.status / 100, 4) << click.body;
  ASSERT_FALSE(click.Json().is_discarded()) << click.body;
  EXPECT_EQ(daemon_.Get("/healthz", "").status, 200);
  ASSERT_EQ(daemon_.Stop(), 0);
  const std::string log = daemon_.ReadLog();
  EXPECT_NE(log.find("unknown shop domain"), std::string::npos) << log;
  size_t lines = 0;
  for (size_t start = 0, end; (end = log.find('\n', start)) != std::string::npos; start = end + 1) {
    const std::string line = log.substr(start, end - start);
    EXPECT_FALSE(json::parse(line, nullptr, false).is_discarded()) << line;
    ++lines;
  }
  EXPECT_GT(lines, 3u);
}

// --- Deeply nested JSON ---

TEST_F(HostileInputTest, DeeplyNestedJsonDoesNotCrashTheDaemon) {
  daemon_.config()["server"]["max_body_bytes"] = 1048576;
  daemon_.Start();
  constexpr size_t kDepth = 100000;
  const std::string arrays = std::string(kDepth, '[') + std::string(kDepth, ']');
  std::string objects;
  for (size_t i = 0; i < kDepth; ++i) objects += "{\"a\":";
  objects += "1" + std::string(kDepth, '}');
  // Where the normalisers read (line_items), at the top, and unterminated.
  const std::vector<std::string> bodies = {
      "{\"id\":1,\"currency\":\"USD\",\"line_items\":" + arrays + "}",
      "{\"id\":2,\"currency\":\"USD\",\"customer\":" + objects + "}",
      arrays,
      std::string(kDepth, '['),
  };
  int n = 0;
  for (const std::string& body : bodies) {
    const std::string id = std::to_string(++n);
    EXPECT_EQ(daemon_.PostShopifyWebhook("orders/paid", body, "evt-deep-" + id).status, 200);
    // WooCommerce's verifier parses the body on the request path.
    EXPECT_EQ(daemon_.PostWooCommerceWebhook("order.updated", body, "deep-" + id).status, 200);
  }
  // The admin API parses request bodies.
  EXPECT_EQ(daemon_.Post("/api/v1/referrals/clicks", arrays).status, 400);
  EXPECT_EQ(daemon_.Post("/api/v1/referrals", objects).status / 100, 4);
  ASSERT_TRUE(daemon_.WaitUntilProcessed(seconds(30)));
  EXPECT_EQ(FailedReasons().size(), 2 * bodies.size());
  EXPECT_EQ(daemon_.Get("/healthz", "").status, 200);
}

// --- Huge numbers and non-numeric money ---

TEST_F(HostileInputTest, HugeNumbersAndNonNumericMoneyAreRefusedAndCreditNothing) {
  daemon_.Start();
  const std::string email = "money@example.com";
  const std::string good = ShopifyOrder(94000, 7300, email, "10.00");
  // Amounts as strings, in every money field of the order (the sample writes "10.00" in each).
  const std::vector<std::string> amounts = {"99999999999999999999.99",
                                            "12,50",
                                            "NaN",
                                            "1e3",
                                            "",
                                            " 5",
                                            "5 ",
                                            "+5",
                                            "0x10",
                                            "Infinity",
                                            "-0.001",
                                            "10.001",
                                            "١٠٫٠٠"};
  int n = 0;
  for (const std::string& amount : amounts) {
    const std::string body = ReplaceAll(ReplaceAll(good, "\"10.00\"", json(amount).dump()), "94000",
                                        std::to_string(94100 + ++n));
    ASSERT_EQ(
        daemon_.PostShopifyWebhook("orders/paid", body, "evt-amt-" + std::to_string(n)).status,
        200);
  }
  // Amounts and ids as JSON numbers beyond any integer or double.
  const std::vector<std::pair<std::string, std::string>> raw = {
      {"\"10.00\"", "1e400"},
      {"\"10.00\"", "99999999999999999999999999"},
      {"94000", "18446744073709551616"},  // 2^64
      {"94000", "-9223372036854775809"},  // below int64
      {"94000", "1e400"},
      {"94000", "94000.5"},
      {"\"" + email + "\"", "1e400"},
  };
  for (const auto& [from, to] : raw) {
    const std::string body = ReplaceAll(good, from, to);
    ASSERT_EQ(
        daemon_.PostShopifyWebhook("orders/paid", body, "evt-raw-" + std::to_string(++n)).status,
        200);
  }
  // WooCommerce, whose money is strings too.
  const std::string woo_good = WooOrder(94500, 41, "woomoney@example.com", "10.00");
  for (const char* amount : {"12,50", "NaN", "1e3", "99999999999999999999.99"}) {
    const std::string body = ReplaceAll(woo_good, "\"10.00\"", json(amount).dump());
    ASSERT_EQ(
        daemon_.PostWooCommerceWebhook("order.updated", body, "woo-" + std::to_string(++n)).status,
        200);
  }
  ASSERT_TRUE(daemon_.WaitUntilProcessed());
  const std::vector<std::string> reasons = FailedReasons();
  EXPECT_EQ(reasons.size(), amounts.size() + raw.size() + 4);
  for (const std::string& reason : reasons) {
    // Each names what was wrong: the field, or the JSON that could not be read.
    EXPECT_TRUE(reason.find("amount") != std::string::npos ||
                reason.find("decimal") != std::string::npos ||
                reason.find("id") != std::string::npos || reason.find("JSON") != std::string::npos)
        << reason;
  }
  EXPECT_LE(daemon_.BalanceOf(email), 0);
  EXPECT_LE(daemon_.BalanceOf("woomoney@example.com"), 0);
  // The good order still earns.
  ASSERT_EQ(daemon_.PostShopifyWebhook("orders/paid", good, "evt-good").status, 200);
  ASSERT_TRUE(daemon_.WaitUntilProcessed());
  EXPECT_EQ(daemon_.BalanceOf(email), 10);
}

// --- Replayed signatures ---

TEST_F(HostileInputTest, ReplayedSignatureOnAChangedBodyIs401) {
  daemon_.Start();
  const json before = Stats();
  const std::string body = ShopifyOrder(95001, 7401, "replay@example.com", "10.00");
  const std::string signature = HmacSha256Base64(kWebhookSecret, body);
  httplib::Client client("127.0.0.1", daemon_.port());
  auto post = [&](const std::string& sent) {
    auto res = client.Post("/webhooks/shopify",
                           {{"X-Shopify-Topic", "orders/paid"},
                            {"X-Shopify-Shop-Domain", kShopDomain},
                            {"X-Shopify-Hmac-Sha256", signature},
                            {"X-Shopify-Event-Id", "evt-replay"}},
                           sent, "application/json");
    return res ? res->status : 0;
  };
  EXPECT_EQ(post(ReplaceAll(body, "\"10.00\"", "\"9999.00\"")), 401);
  EXPECT_EQ(post(body + " "), 401);
  EXPECT_EQ(post(body.substr(0, body.size() - 1)), 401);
  EXPECT_EQ(post(""), 401);
  // WooCommerce's signature, replayed the same way.
  const std::string woo_body = WooOrder(95002, 51, "wooreplay@example.com");
  auto woo = client.Post("/webhooks/woocommerce",
                         {{"X-WC-Webhook-Source", "https://" + std::string(kWooDomain) + "/"},
                          {"X-WC-Webhook-Topic", "order.updated"},
                          {"X-WC-Webhook-Signature", HmacSha256Base64(kWooSecret, woo_body)}},
                         ReplaceAll(woo_body, "\"10.00\"", "\"9999.00\""), "application/json");
  ASSERT_TRUE(woo);
  EXPECT_EQ(woo->status, 401);
  ExpectNothingStored(before);
  // The signature was genuine: with the body it was made for, the delivery is taken.
  EXPECT_EQ(post(body), 200);
}

// --- Admin API tokens ---

TEST_F(HostileInputTest, AdminApiRefusesMissingWrongAndNearlyRightTokens) {
  daemon_.Start();
  const std::string token = kAdminToken;
  std::string last_byte = token;
  last_byte.back() = static_cast<char>(last_byte.back() ^ 0x01);
  std::string first_byte = token;
  first_byte.front() = static_cast<char>(first_byte.front() ^ 0x01);
  const std::vector<std::string> wrong = {"",
                                          "wrong",
                                          last_byte,
                                          first_byte,
                                          token.substr(0, token.size() - 1),
                                          token + "x",
                                          std::string(token.size(), 'a')};
  httplib::Client client("127.0.0.1", daemon_.port());
  for (const std::string& presented : wrong) {
    EXPECT_EQ(daemon_.Get("/api/v1/stats", presented).status, 401) << presented;
    EXPECT_EQ(daemon_.Get("/api/v1/customers/1", presented).status, 401) << presented;
    const HttpAnswer post = daemon_.Post("/api/v1/referrals/clicks", R"({"code":"X"})",
                                         {{"Idempotency-Key", "k"}}, presented);
    EXPECT_EQ(post.status, 401) << presented;
    EXPECT_EQ(post.Json()["error"], presented.empty() ? json("missing bearer token: send "
                                                             "'Authorization: Bearer "
                                                             "<admin.token>'")
                                                      : json("invalid bearer token"));
  }
  // Other schemes and spellings of the header.
  for (const std::string& header :
       {"Basic " + token, token, "Bearer  " + token, "Bearer\t" + token, "Bearer" + token}) {
    auto res = client.Get("/api/v1/stats", {{"Authorization", header}});
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 401) << header;
  }
  EXPECT_EQ(daemon_.Get("/api/v1/stats").status, 200);
}

// --- SQL injection ---

TEST_F(HostileInputTest, SqlInjectionInEveryStringFieldIsStoredLiterally) {
  daemon_.config()["program"]["earn"].push_back(
      {{"type", "action"}, {"action", "review"}, {"points", 5}, {"limit", "once"}});
  daemon_.config()["program"]["rewards"] = json::array(
      {{{"id", "free-ship"}, {"name", "Free shipping"}, {"points", 1}, {"kind", "free_shipping"}}});
  daemon_.config()["program"]["referrals"] = {
      {"advocate_reward", {{"kind", "points"}, {"points", 10}}}};
  daemon_.Start();
  // A bystander whose records must survive everything below.
  ASSERT_EQ(daemon_
                .PostShopifyWebhook("orders/paid", ShopifyOrder(96000, 7500, "keep@example.com"),
                                    "evt-keep")
                .status,
            200);
  ASSERT_TRUE(daemon_.WaitUntilProcessed());
  ASSERT_EQ(daemon_.BalanceOf("keep@example.com"), 10);

  const std::vector<std::string> injections = {
      "x'); DROP TABLE customers; --",
      "x\" OR \"1\"=\"1",
      "' OR '1'='1' --",
      "x'; UPDATE customers SET points_balance = 1000000; --",
      "x%' OR email LIKE '%",
      "x\\'; DELETE FROM ledger_entries; --",
  };
  int n = 0;
  for (const std::string& sql : injections) {
    ++n;
    const std::string email =
        "inj" + std::to_string(n) + "+" + ReplaceAll(sql, " ", "") + "@example.com";
    // Shopify: email, names, tags, discount codes, note attributes, landing site, order name.
    json order = json::parse(
        ShopifyOrder(96000 + static_cast<uint64_t>(n), 7500 + static_cast<uint64_t>(n), email));
    order["name"] = sql;
    order["landing_site"] = "/?ref=" + sql;
    order["note_attributes"] = json::array({{{"name", sql}, {"value", sql}}});
    order["discount_codes"] =
        json::array({{{"code", sql}, {"amount", "0.00"}, {"type", "fixed_amount"}}});
    order["customer"]["first_name"] = sql;
    order["customer"]["last_name"] = sql;
    order["customer"]["tags"] = sql;
    order["line_items"][0]["sku"] = sql;
    order["line_items"][0]["title"] = sql;
    order["line_items"][0]["vendor"] = sql;
    ASSERT_EQ(daemon_.PostShopifyWebhook("orders/paid", order.dump(), "evt-" + sql, kWebhookSecret)
                  .status,
              200);
    // WooCommerce: billing email and names, coupon codes, meta data.
    json woo = json::parse(
        WooOrder(97000 + static_cast<uint64_t>(n), 60 + static_cast<uint64_t>(n), "woo" + email));
    woo["billing"]["first_name"] = sql;
    woo["billing"]["last_name"] = sql;
    woo["coupon_lines"] = json::array({{{"id", 1}, {"code", sql}, {"discount", "0.00"}}});
    woo["meta_data"] = json::array({{{"id", 1}, {"key", sql}, {"value", sql}}});
    ASSERT_EQ(daemon_.PostWooCommerceWebhook("order.updated", woo.dump(), sql).status, 200);
  }
  ASSERT_TRUE(daemon_.WaitUntilProcessed());
  EXPECT_TRUE(FailedReasons().empty());

  n = 0;
  for (const std::string& sql : injections) {
    ++n;
    const std::string email =
        "inj" + std::to_string(n) + "+" + ReplaceAll(sql, " ", "") + "@example.com";
    // Found by its own literal email, and only by it; its names are stored as sent.
    const HttpAnswer found =
        daemon_.Get("/api/v1/customers?email=" + httplib::detail::encode_query_param(email));
    ASSERT_EQ(found.status, 200) << found.body;
    ASSERT_EQ(found.Json()["customers"].size(), 1u) << sql;
    const json customer = found.Json()["customers"][0];
    EXPECT_EQ(customer["first_name"], sql);
    EXPECT_EQ(customer["last_name"], sql);
    EXPECT_EQ(customer["points_balance"], 10);
    const std::string id = std::to_string(customer["id"].get<int64_t>());

    // Admin API: idempotency keys, action names and references, reward ids, referral codes
    // and emails, and query parameters.
    // Idempotency keys are printable ASCII without spaces: one with spaces is refused as such,
    // the same without them is taken.
    const std::string key = ReplaceAll(sql, " ", "");
    EXPECT_EQ(
        daemon_
            .Post("/api/v1/customers/" + id + "/actions",
                  json{{"action", "review"}, {"reference", sql}}.dump(), {{"Idempotency-Key", sql}})
            .status,
        sql == key ? 201 : 422);
    const HttpAnswer review = daemon_.Post("/api/v1/customers/" + id + "/actions",
                                           json{{"action", "review"}, {"reference", sql}}.dump(),
                                           {{"Idempotency-Key", key}});
    EXPECT_EQ(review.status, sql == key ? 200 : 201) << review.body;
    EXPECT_EQ(daemon_.Post("/api/v1/customers/" + id + "/actions",
                           json{{"action", sql}, {"reference", sql}}.dump(),
                           {{"Idempotency-Key", key + "2"}})
                      .status /
                  100,
              4);
    EXPECT_EQ(daemon_.Post("/api/v1/customers/" + id + "/redemptions", json{{"reward", sql}}.dump(),
                           {{"Idempotency-Key", key + "r"}})
                      .status /
                  100,
              4);
    EXPECT_EQ(daemon_.Post("/api/v1/referrals/clicks", json{{"code", sql}}.dump()).status, 404);
    EXPECT_EQ(daemon_.Post("/api/v1/referrals",
                           json{{"friend_email", sql}, {"referrer_code", sql}}.dump())
                      .status /
                  100,
              4);
    EXPECT_EQ(daemon_.Post("/api/v1/referrals",
                           json{{"friend_email", "f" + std::to_string(n) + "@example.com"},
                                {"referrer_code", sql}}
                               .dump())
                      .status /
                  100,
              4);
    EXPECT_EQ(
        daemon_.Get("/api/v1/events?status=" + httplib::detail::encode_query_param(sql)).status,
        400);
    EXPECT_EQ(daemon_.Get("/api/v1/jobs?status=" + httplib::detail::encode_query_param(sql)).status,
              400);
    EXPECT_EQ(daemon_.Get("/api/v1/customers?email=" + httplib::detail::encode_query_param(sql))
                  .Json()["customers"]
                  .size(),
              0u);
    // The review (with the injected reference) paid its 5 points once.
    EXPECT_EQ(daemon_.Get("/api/v1/customers/" + id).Json()["points_balance"], 15);
  }
  // Nothing else changed: the bystander and the inbox are intact.
  EXPECT_EQ(daemon_.BalanceOf("keep@example.com"), 10);
  const json stats = Stats();
  EXPECT_EQ(stats["inbox"]["processed"], 1 + 2 * injections.size());
  EXPECT_EQ(stats["inbox"]["failed"], 0);
  const json ledger =
      daemon_.Get("/api/v1/customers/1/ledger").Json();  // the bystander is customer 1
  ASSERT_TRUE(ledger.contains("entries")) << ledger.dump();
  EXPECT_EQ(ledger["entries"].size(), 1u);
}

}  // namespace
}  // namespace loyaltyd::testing::hostile_input_test
