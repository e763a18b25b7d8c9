#include "app/trigger.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <random>

#include "config/config.h"
#include "connectors/shopify/shopify_samples.h"
#include "connectors/woocommerce/woocommerce_samples.h"
#include "core/crypto.h"
#include "http/server_tuning.h"

namespace loyaltyd {
namespace {

std::string Flag(const std::map<std::string, std::string>& flags, const std::string& name,
                 const std::string& fallback = "") {
  auto it = flags.find(name);
  return it == flags.end() ? fallback : it->second;
}

bool ParseU64(const std::string& text, uint64_t& out) {
  if (text.empty() || text.size() > 19) return false;
  out = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    out = out * 10 + static_cast<uint64_t>(c - '0');
  }
  return true;
}

// "2026-01-01T10:00:05": now, in UTC, as WooCommerce writes date_modified_gmt. Each trigger is
// then a new state of the order (a new idempotency key), as a real status change would be.
std::string NowGmt() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  return text;
}

int Send(const std::string& url, const std::string& path, const httplib::Headers& headers,
         const std::string& body, const std::string& what, const std::string& email) {
  httplib::Client client(url);
  client.set_connection_timeout(5, 0);
  client.set_read_timeout(10, 0);
  auto res = client.Post(path, headers, body, "application/json");
  if (!res) {
    std::fprintf(stderr, "loyaltyd trigger: cannot reach %s (%s); is `loyaltyd serve` running?\n",
                 url.c_str(), httplib::to_string(res.error()).c_str());
    return 1;
  }
  std::printf("sent %s to %s\n", what.c_str(), url.c_str());
  std::printf("loyaltyd answered %d %s\n", res->status, res->body.c_str());
  if (res->status / 100 != 2) return 1;
  std::printf(
      "see the balance: curl -H \"Authorization: Bearer <admin.token>\" "
      "\"%s/api/v1/customers?email=%s\"\n",
      url.c_str(), email.c_str());
  return 0;
}

// The shop of `platform` named `shop_id` (or the first one when empty); says why on stderr when
// there is none.
const ShopConfig* FindShop(const Config& config, Platform platform, const std::string& shop_id,
                           const char* platform_title, const std::string& config_path) {
  for (const ShopConfig& s : config.shops) {
    if (s.platform == platform && (shop_id.empty() || s.id == shop_id)) return &s;
  }
  const std::string named = shop_id.empty() ? "" : " '" + shop_id + "'";
  std::fprintf(stderr, "loyaltyd trigger: no %s shop%s in %s\n", platform_title, named.c_str(),
               config_path.c_str());
  return nullptr;
}

// Whether there is a sample body for `topic`; lists the topics on stderr when not.
bool HasSample(const std::string& topic, const std::vector<std::string>& topics) {
  if (std::find(topics.begin(), topics.end(), topic) != topics.end()) return true;
  std::fprintf(stderr, "loyaltyd trigger: no sample for topic '%s'; choose one of:", topic.c_str());
  for (const std::string& t : topics) std::fprintf(stderr, " %s", t.c_str());
  std::fprintf(stderr, "\n");
  return false;
}

// `--platform woocommerce`: a signed delivery shaped as WC_Webhook::deliver sends it.
int RunWooCommerceTrigger(const std::map<std::string, std::string>& flags, const Config& config,
                          const std::string& config_path) {
  const ShopConfig* shop =
      FindShop(config, Platform::kWooCommerce, Flag(flags, "shop"), "WooCommerce", config_path);
  if (shop == nullptr) return 2;
  const std::string topic = Flag(flags, "topic", "order.updated");
  if (!HasSample(topic, WooCommerceSampleTopics())) return 2;
  std::random_device entropy;
  std::mt19937_64 random(entropy());
  WooCommerceSampleOptions options;
  // WooCommerce ids are small integers (WordPress post or order-table ids).
  options.order_id = 1000 + random() % 1'000'000;
  options.customer_id = 7001;
  if ((flags.count("order-id") && !ParseU64(Flag(flags, "order-id"), options.order_id)) ||
      (flags.count("customer-id") && !ParseU64(Flag(flags, "customer-id"), options.customer_id))) {
    std::fprintf(stderr, "loyaltyd trigger: --order-id and --customer-id take integers\n");
    return 2;
  }
  options.email = Flag(flags, "email", "ada@example.com");
  options.subtotal = Flag(flags, "total", "49.00");
  options.currency = config.program.currency;
  options.status = Flag(flags, "status");
  options.date_modified_gmt = NowGmt();
  Result<std::string> body = WooCommerceSampleBody(topic, options);
  if (!body.ok()) {
    std::fprintf(stderr, "loyaltyd trigger: %s\n", body.status().message().c_str());
    return 2;
  }
  const size_t dot = topic.find('.');
  const std::string delivery_id = RandomHex(16);
  httplib::Headers headers{
      {"X-WC-Webhook-Source", "https://" + shop->domain + "/"},
      {"X-WC-Webhook-Topic", topic},
      {"X-WC-Webhook-Resource", topic.substr(0, dot)},
      {"X-WC-Webhook-Event", topic.substr(dot + 1)},
      {"X-WC-Webhook-Signature", HmacSha256Base64(shop->webhook_secret, *body)},
      {"X-WC-Webhook-ID", "1"},
      {"X-WC-Webhook-Delivery-ID", delivery_id}};
  const std::string url =
      Flag(flags, "url", "http://" + config.server.host + ":" + std::to_string(config.server.port));
  const std::string what = topic + " for shop " + shop->id + " (order " +
                           std::to_string(options.order_id) + ", customer " +
                           std::to_string(options.customer_id) + ", " + options.email +
                           ", delivery " + delivery_id + ")";
  return Send(url, "/webhooks/woocommerce", headers, *body, what, options.email);
}

}  // namespace

const char* TriggerUsage() {
  return R"(Usage: loyaltyd trigger --config FILE [--topic TOPIC] [options]

Sends a signed sample Shopify or WooCommerce webhook to a running loyaltyd, the way the
platform would, so you can watch points arrive without a real shop. The body is signed with
the shop's webhook_secret from FILE; the daemon's address comes from server.listen unless
--url is given.

Options:
  --platform NAME      shopify (default) or woocommerce
  --topic TOPIC        shopify: orders/paid (default), orders/create, orders/updated,
                         orders/cancelled, customers/create, customers/update
                       woocommerce: order.updated (default), order.created, order.deleted,
                         order.restored, customer.created, customer.updated
  --shop ID            shop id from the config (default: the first shop of the platform)
  --url URL            daemon base URL (default: http://<server.listen>)
  --order-id N         order id (default: random); reuse it to send create then paid
  --customer-id N      customer id (default: 7001); woocommerce: 0 sends a guest order
  --email ADDRESS      customer (woocommerce: billing) email (default: ada@example.com)
  --total AMOUNT       order subtotal as a decimal string (default: 49.00)
  --event-id ID        shopify: X-Shopify-Event-Id (default: random); reuse it to see a
                       redelivery
  --status STATUS      woocommerce: the order's status (default: pending for order.created,
                       processing otherwise); points are earned at the shop's earn_on_status

Examples:
  loyaltyd trigger --config config/example.json --topic orders/paid --email ada@example.com
  loyaltyd trigger --config config/example.json --platform woocommerce --order-id 1234 \
       --topic order.updated --status processing
  curl -H "Authorization: Bearer <admin.token>" \
       "http://127.0.0.1:8080/api/v1/customers?email=ada@example.com"
)";
}

int RunTrigger(const std::map<std::string, std::string>& flags) {
  const std::string config_path = Flag(flags, "config");
  if (config_path.empty()) {
    std::fprintf(stderr, "loyaltyd trigger: --config FILE is required\n\n%s", TriggerUsage());
    return 2;
  }
  ConfigLoadResult loaded = LoadConfigFile(config_path);
  if (!loaded.ok()) {
    std::fprintf(stderr, "loyaltyd trigger: %s is invalid; run `loyaltyd check-config %s`\n",
                 config_path.c_str(), config_path.c_str());
    return 2;
  }
  const Config& config = loaded.config;
  const std::string platform = Flag(flags, "platform", "shopify");
  if (platform == "woocommerce") return RunWooCommerceTrigger(flags, config, config_path);
  if (platform != "shopify") {
    std::fprintf(stderr, "loyaltyd trigger: --platform must be shopify or woocommerce\n");
    return 2;
  }

  const ShopConfig* shop =
      FindShop(config, Platform::kShopify, Flag(flags, "shop"), "Shopify", config_path);
  if (shop == nullptr) return 2;
  const std::string topic = Flag(flags, "topic", "orders/paid");
  if (!HasSample(topic, ShopifySampleTopics())) return 2;

  std::random_device entropy;
  std::mt19937_64 random(entropy());
  ShopifySampleOptions options;
  // Shopify ids are above 2^53; the demo's are too, so that they exercise the same path.
  options.order_id = (uint64_t{1} << 53) + random() % 1'000'000'000;
  options.customer_id = 7001;
  if ((flags.count("order-id") && !ParseU64(Flag(flags, "order-id"), options.order_id)) ||
      (flags.count("customer-id") && !ParseU64(Flag(flags, "customer-id"), options.customer_id))) {
    std::fprintf(stderr, "loyaltyd trigger: --order-id and --customer-id take positive integers\n");
    return 2;
  }
  options.email = Flag(flags, "email", "ada@example.com");
  options.subtotal = Flag(flags, "total", "49.00");
  options.currency = config.program.currency;
  const std::string event_id = Flag(flags, "event-id", RandomHex(16));

  Result<std::string> body = ShopifySampleBody(topic, options);
  if (!body.ok()) {
    std::fprintf(stderr, "loyaltyd trigger: %s\n", body.status().message().c_str());
    return 2;
  }
  const std::string url =
      Flag(flags, "url", "http://" + config.server.host + ":" + std::to_string(config.server.port));
  httplib::Headers headers{{"X-Shopify-Topic", topic},
                           {"X-Shopify-Shop-Domain", shop->domain},
                           {"X-Shopify-Hmac-Sha256", HmacSha256Base64(shop->webhook_secret, *body)},
                           {"X-Shopify-Event-Id", event_id},
                           {"X-Shopify-Webhook-Id", RandomHex(16)},
                           {"X-Shopify-API-Version", "2025-10"},
                           {"X-Shopify-Triggered-At", "2026-01-01T00:00:00Z"}};
  const std::string what = topic + " for shop " + shop->id + " (order " +
                           std::to_string(options.order_id) + ", customer " +
                           std::to_string(options.customer_id) + ", " + options.email + ", event " +
                           event_id + ")";
  return Send(url, "/webhooks/shopify", headers, *body, what, options.email);
}

}  // namespace loyaltyd
