#include "config/config.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/money.h"

namespace loyaltyd {
namespace {

using nlohmann::json;

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Edit distance, for "did you mean" on unknown keys. Keys are short, so O(n*m) is fine.
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      const size_t substitution = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      row[j] = std::min({above + 1, row[j - 1] + 1, substitution});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string TypeName(const json& value) {
  if (value.is_null()) return "null";
  if (value.is_boolean()) return "a boolean";
  if (value.is_number_integer()) return "an integer";
  if (value.is_number()) return "a number";
  if (value.is_string()) return "a string";
  if (value.is_array()) return "an array";
  return "an object";
}

// Walks one JSON object of the config. Each Take* call names a key the object may hold; what
// is left over when the reader finishes is reported as unknown, with the closest known key.
// Problems are collected into a shared list so that one run reports all of them.
class ObjectReader {
 public:
  ObjectReader(const json& object, std::string path, std::vector<ConfigProblem>& problems)
      : object_(object), path_(std::move(path)), problems_(problems) {}

  ~ObjectReader() { ReportUnknownKeys(); }

  const std::string& path() const { return path_; }
  std::string PathOf(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  }
  void Problem(const std::string& path, const std::string& message) {
    problems_.push_back({path, message});
  }

  // The value under key, or nullptr when absent (a required key is then reported missing).
  const json* Find(std::string_view key, bool required) {
    known_.emplace(key);
    auto it = object_.find(std::string(key));
    if (it == object_.end()) {
      if (required) Problem(PathOf(key), "required key is missing");
      return nullptr;
    }
    return &*it;
  }

  void String(std::string_view key, std::string& out, bool required = false) {
    const json* value = Find(key, required);
    if (value == nullptr) return;
    if (!value->is_string()) {
      Problem(PathOf(key), "must be a string, not " + TypeName(*value));
      return;
    }
    out = value->get<std::string>();
  }

  void Boolean(std::string_view key, bool& out) {
    const json* value = Find(key, false);
    if (value == nullptr) return;
    if (!value->is_boolean()) {
      Problem(PathOf(key), "must be true or false, not " + TypeName(*value));
      return;
    }
    out = value->get<bool>();
  }

  template <typename Int>
  void Integer(std::string_view key, Int& out, int64_t min, int64_t max, bool required = false) {
    const json* value = Find(key, required);
    if (value == nullptr) return;
    if (!value->is_number_integer()) {
      Problem(PathOf(key), "must be an integer, not " + TypeName(*value));
      return;
    }
    // Unsigned values above int64 range are out of every range we accept.
    if (value->is_number_unsigned() &&
        value->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      Problem(PathOf(key),
              "must be between " + std::to_string(min) + " and " + std::to_string(max));
      return;
    }
    const int64_t v = value->get<int64_t>();
    if (v < min || v > max) {
      Problem(PathOf(key), "must be between " + std::to_string(min) + " and " +
                               std::to_string(max) + ", not " + std::to_string(v));
      return;
    }
    out = static_cast<Int>(v);
  }

  // A nested object; calls read(reader) when present and an object.
  void Object(std::string_view key, bool required, const std::function<void(ObjectReader&)>& read) {
    const json* value = Find(key, required);
    if (value == nullptr) return;
    if (!value->is_object()) {
      Problem(PathOf(key), "must be an object, not " + TypeName(*value));
      return;
    }
    ObjectReader nested(*value, PathOf(key), problems_);
    read(nested);
  }

  // An array of objects; calls read(reader, index) for each element.
  void ObjectArray(std::string_view key, bool required,
                   const std::function<void(ObjectReader&, size_t)>& read) {
    const json* value = Find(key, required);
    if (value == nullptr) return;
    if (!value->is_array()) {
      Problem(PathOf(key), "must be an array, not " + TypeName(*value));
      return;
    }
    for (size_t i = 0; i < value->size(); ++i) {
      const std::string element_path = PathOf(key) + "[" + std::to_string(i) + "]";
      const json& element = (*value)[i];
      if (!element.is_object()) {
        Problem(element_path, "must be an object, not " + TypeName(element));
        continue;
      }
      ObjectReader nested(element, element_path, problems_);
      read(nested, i);
    }
  }

 private:
  void ReportUnknownKeys() {
    for (const auto& [key, value] : object_.items()) {
      (void)value;
      if (known_.count(key) != 0) continue;
      std::string message = "unknown key '" + key + "'";
      std::string best;
      size_t best_distance = std::numeric_limits<size_t>::max();
      for (const std::string& candidate : known_) {
        const size_t d = EditDistance(Lower(key), candidate);
        if (d < best_distance) {
          best_distance = d;
          best = candidate;
        }
      }
      // Close enough to be a typo: within a third of the key's length, at least one edit.
      if (!best.empty() && best_distance <= std::max<size_t>(1, best.size() / 3)) {
        message += ", did you mean '" + best + "'?";
      } else if (!known_.empty()) {
        message += "; known keys:";
        for (const std::string& candidate : known_) message += " " + candidate;
      }
      Problem(path_, message);
    }
  }

  const json& object_;
  std::string path_;
  std::vector<ConfigProblem>& problems_;
  std::set<std::string, std::less<>> known_;
};

// "host:port"; host is an IPv4 address or a name, port 0..65535 (0 picks a free port).
bool ParseListen(const std::string& text, std::string& host, int& port) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) return false;
  const std::string port_text = text.substr(colon + 1);
  if (port_text.size() > 5 || !std::all_of(port_text.begin(), port_text.end(),
                                           [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  const int value = std::stoi(port_text);
  if (value > 65535) return false;
  host = text.substr(0, colon);
  port = value;
  return true;
}

bool IsShopId(const std::string& id) {
  return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
}

bool IsHostName(const std::string& name) {
  return !name.empty() && name.size() <= 253 && name.find('.') != std::string::npos &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.';
         });
}

void ReadServer(ObjectReader& r, ServerConfig& server) {
  std::string listen;
  r.String("listen", listen);
  if (!listen.empty() && !ParseListen(listen, server.host, server.port)) {
    r.Problem(r.PathOf("listen"),
              "must be \"host:port\" with a port from 0 to 65535, e.g. \"127.0.0.1:8080\"");
  }
  r.Integer("max_body_bytes", server.max_body_bytes, 1024, int64_t{1} << 30);
  r.Integer("threads", server.threads, 1, 4096);
  r.Integer("keep_alive_max_requests", server.keep_alive_max_requests, 1, 10'000'000);
  r.Integer("keep_alive_timeout_seconds", server.keep_alive_timeout_seconds, 1, 3600);
  r.Integer("read_timeout_seconds", server.read_timeout_seconds, 1, 3600);
  r.Integer("request_timeout_seconds", server.request_timeout_seconds, 1, 3600);
  r.Integer("listen_backlog", server.listen_backlog, 1, 65535);
}

void ReadStorage(ObjectReader& r, StorageConfig& storage) {
  r.Object("sqlite", false, [&](ObjectReader& sqlite) {
    sqlite.String("path", storage.sqlite_path, true);
    if (storage.sqlite_path.empty()) {
      sqlite.Problem(sqlite.PathOf("path"), "must name a database file, e.g. \"var/loyaltyd.db\"");
    }
    sqlite.Integer("cache_mb", storage.sqlite_cache_mb, 2, 65536);
  });
  r.Integer("group_commit_max_batch", storage.group_commit_max_batch, 1, 100'000);
}

void ReadLogging(ObjectReader& r, LoggingConfig& logging) {
  r.String("level", logging.level);
  static const std::set<std::string> kLevels = {"trace", "debug", "info", "warn", "error"};
  if (kLevels.count(logging.level) == 0) {
    r.Problem(r.PathOf("level"), "must be one of trace, debug, info, warn, error");
  }
  r.String("format", logging.format);
  if (logging.format != "text" && logging.format != "json") {
    r.Problem(r.PathOf("format"), "must be \"text\" or \"json\"");
  }
}

void ReadAdmin(ObjectReader& r, AdminConfig& admin) {
  r.String("token", admin.token, true);
  if (r.Find("token", false) == nullptr || !r.Find("token", false)->is_string()) return;
  // The token guards every customer's data; a guessable one is as good as none.
  if (admin.token == "change-me") {
    r.Problem(r.PathOf("token"),
              "is the placeholder 'change-me'; set a random secret, e.g. `openssl rand -hex 32`");
  } else if (admin.token.size() < 16) {
    r.Problem(r.PathOf("token"), "must be at least 16 characters (use `openssl rand -hex 32`)");
  }
}

// --- Storefront (issue 7) ---
// "https://host[:port]" as a browser sends it in Origin: scheme and host, no path.
bool IsOrigin(const std::string& origin) {
  const size_t scheme_end = origin.find("://");
  if (scheme_end == std::string::npos) return false;
  const std::string scheme = origin.substr(0, scheme_end);
  if (scheme != "https" && scheme != "http") return false;
  const std::string rest = origin.substr(scheme_end + 3);
  return !rest.empty() && std::all_of(rest.begin(), rest.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == ':';
  });
}

void ReadStorefront(ObjectReader& r, StorefrontConfig& storefront, const AdminConfig& admin) {
  storefront.enabled = true;
  r.String("token_secret", storefront.token_secret, true);
  const json* secret = r.Find("token_secret", false);
  if (secret != nullptr && secret->is_string()) {
    // Anyone with the secret can read every customer's balance and history.
    if (storefront.token_secret.size() < 32) {
      r.Problem(r.PathOf("token_secret"),
                "must be at least 32 characters (use `openssl rand -hex 32`)");
    } else if (storefront.token_secret == admin.token) {
      r.Problem(r.PathOf("token_secret"),
                "must differ from admin.token: a customer token must never be an admin one");
    }
  }
  r.Integer("token_ttl_seconds", storefront.token_ttl_seconds, 60, 30 * 86400);
  const json* origins = r.Find("allowed_origins", false);
  if (origins == nullptr) return;
  if (!origins->is_array()) {
    r.Problem(r.PathOf("allowed_origins"),
              "must be an array of origins, not " + TypeName(*origins));
    return;
  }
  for (size_t i = 0; i < origins->size(); ++i) {
    const json& origin = (*origins)[i];
    const std::string path = r.PathOf("allowed_origins") + "[" + std::to_string(i) + "]";
    if (!origin.is_string() ||
        (origin.get<std::string>() != "*" && !IsOrigin(origin.get<std::string>()))) {
      r.Problem(path,
                "must be an origin such as \"https://shop.example.com\" (scheme and host, no "
                "path or trailing slash) or \"*\"");
      continue;
    }
    storefront.allowed_origins.push_back(origin.get<std::string>());
  }
}

// "scheme://host[:port]" without a path: http is accepted for loopback fakes and the demo.
bool IsBaseUrl(const std::string& url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return false;
  const std::string scheme = url.substr(0, scheme_end);
  if (scheme != "https" && scheme != "http") return false;
  const std::string rest = url.substr(scheme_end + 3);
  return !rest.empty() && rest.find('/') == std::string::npos &&
         std::all_of(rest.begin(), rest.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == ':';
         });
}

// A storefront address for share links: http(s)://host[:port][/path], no query, fragment or
// trailing slash (the link appends "/?ref=CODE").
bool IsStoreUrl(const std::string& url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return false;
  const size_t path_start = url.find('/', scheme_end + 3);
  if (!IsBaseUrl(url.substr(0, path_start))) return false;
  if (path_start == std::string::npos) return true;
  const std::string path = url.substr(path_start);
  return path.size() > 1 && path.back() != '/' && std::all_of(path.begin(), path.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '-' || c == '_' ||
                  c == '.' || c == '~';
         });
}

void ReadShopApi(ObjectReader& r, ShopConfig& shop) {
  ShopApiConfig& api = shop.api;
  api.configured = true;
  r.String("base_url", api.base_url);
  if (r.Find("base_url", false) != nullptr && !IsBaseUrl(api.base_url)) {
    r.Problem(r.PathOf("base_url"),
              "must be \"https://host[:port]\" without a path, e.g. \"https://" +
                  (shop.domain.empty() ? std::string("shop.example.com") : shop.domain) + "\"");
  }
  if (api.base_url.empty() && !shop.domain.empty()) api.base_url = "https://" + shop.domain;
  r.Integer("timeout_seconds", api.timeout_seconds, 1, 120);
  if (shop.platform == Platform::kShopify) {
    r.String("access_token", api.access_token, true);
    if (r.Find("access_token", false) != nullptr && api.access_token.empty()) {
      r.Problem(r.PathOf("access_token"),
                "must be the app's Admin API access token (X-Shopify-Access-Token)");
    }
    r.String("api_version", api.api_version);
    // Shopify versions are quarterly: YYYY-01, -04, -07, -10.
    const std::string& v = api.api_version;
    const bool version_ok =
        v.size() == 7 && v[4] == '-' &&
        std::all_of(v.begin(), v.begin() + 4, [](char c) { return c >= '0' && c <= '9'; }) &&
        (v.substr(5) == "01" || v.substr(5) == "04" || v.substr(5) == "07" || v.substr(5) == "10");
    if (!version_ok) {
      r.Problem(r.PathOf("api_version"),
                "must be a Shopify API version such as \"2025-07\" (YYYY-01, -04, -07 or -10)");
    }
  } else {
    r.String("consumer_key", api.consumer_key, true);
    r.String("consumer_secret", api.consumer_secret, true);
    if (r.Find("consumer_key", false) != nullptr && api.consumer_key.rfind("ck_", 0) != 0) {
      r.Problem(r.PathOf("consumer_key"),
                "must be a WooCommerce REST API consumer key (starts with \"ck_\")");
    }
    if (r.Find("consumer_secret", false) != nullptr && api.consumer_secret.rfind("cs_", 0) != 0) {
      r.Problem(r.PathOf("consumer_secret"),
                "must be a WooCommerce REST API consumer secret (starts with \"cs_\")");
    }
  }
}

void ReadEarnOnStatus(ObjectReader& r, ShopConfig& shop) {
  const json* value = r.Find("earn_on_status", false);
  if (value == nullptr) return;
  static const std::set<std::string> kStatuses = {"pending",   "processing", "on-hold", "completed",
                                                  "cancelled", "refunded",   "failed"};
  const std::string path = r.PathOf("earn_on_status");
  if (!value->is_array() || value->empty()) {
    r.Problem(path,
              "must be a non-empty array of order statuses, e.g. [\"processing\", "
              "\"completed\"]");
    return;
  }
  shop.earn_on_status.clear();
  for (size_t i = 0; i < value->size(); ++i) {
    const json& status = (*value)[i];
    const std::string element = path + "[" + std::to_string(i) + "]";
    if (!status.is_string()) {
      r.Problem(element, "must be a string, not " + TypeName(status));
    } else if (status == "cancelled" || status == "refunded" || status == "failed" ||
               kStatuses.count(status.get<std::string>()) == 0) {
      r.Problem(element,
                "must be an order status at which an order is paid for: "
                "\"pending\", \"processing\", \"on-hold\" or \"completed\"");
    } else {
      shop.earn_on_status.push_back(status.get<std::string>());
    }
  }
}

void ReadShop(ObjectReader& r, ShopConfig& shop) {
  r.String("id", shop.id, true);
  if (r.Find("id", false) != nullptr && !IsShopId(shop.id)) {
    r.Problem(r.PathOf("id"), "must be 1-64 letters, digits, '-' or '_'");
  }
  std::string platform;
  r.String("platform", platform, true);
  if (platform == "shopify") {
    shop.platform = Platform::kShopify;
  } else if (platform == "woocommerce") {
    shop.platform = Platform::kWooCommerce;
  } else if (r.Find("platform", false) != nullptr && r.Find("platform", false)->is_string()) {
    r.Problem(r.PathOf("platform"), "must be \"shopify\" or \"woocommerce\"");
  }
  r.String("domain", shop.domain, true);
  shop.domain = Lower(shop.domain);
  if (r.Find("domain", false) != nullptr && !IsHostName(shop.domain)) {
    r.Problem(r.PathOf("domain"),
              "must be the shop's host name as the platform sends it, e.g. "
              "\"demo.myshopify.com\"");
  }
  r.String("webhook_secret", shop.webhook_secret, true);
  if (r.Find("webhook_secret", false) != nullptr && shop.webhook_secret.size() < 8) {
    r.Problem(r.PathOf("webhook_secret"),
              "must be the app's webhook signing secret (at least 8 characters)");
  }
  r.String("previous_webhook_secret", shop.previous_webhook_secret);
  r.String("store_url", shop.store_url);
  if (r.Find("store_url", false) != nullptr && !IsStoreUrl(shop.store_url)) {
    r.Problem(r.PathOf("store_url"),
              "must be the storefront's address, \"https://host\" with an optional path and no "
              "trailing slash or query, e.g. \"https://shop.example.com\"");
  }
  if (shop.store_url.empty() && !shop.domain.empty()) shop.store_url = "https://" + shop.domain;
  r.Object("api", false, [&](ObjectReader& api) { ReadShopApi(api, shop); });
  if (shop.platform == Platform::kWooCommerce) {
    ReadEarnOnStatus(r, shop);
  } else if (r.Find("earn_on_status", false) != nullptr) {
    r.Problem(r.PathOf("earn_on_status"),
              "applies to WooCommerce shops only; Shopify orders earn when paid");
  }
}

// A positive decimal amount in the program currency, or 0 with a problem reported.
int64_t ReadAmount(ObjectReader& r, std::string_view key, const ProgramConfig& program,
                   bool currency_ok, bool required) {
  const json* value = r.Find(key, required);
  if (value == nullptr) return 0;
  if (!value->is_string()) {
    r.Problem(r.PathOf(key), "must be a decimal string such as \"5.00\", not " + TypeName(*value));
    return 0;
  }
  if (!currency_ok) return 0;
  Result<int64_t> minor = ParseDecimalToMinor(value->get<std::string>(), program.currency_exponent);
  if (!minor.ok() || *minor <= 0) {
    r.Problem(r.PathOf(key),
              "must be a positive amount in " + program.currency + " such as \"5.00\"" +
                  (minor.ok() ? std::string() : " (" + minor.status().message() + ")"));
    return 0;
  }
  return *minor;
}

// The options of every discount code reward: the minimum order, the days until the code
// expires and the code's prefix. `read_minimum` false leaves minimum_order to the caller.
void ReadCodeOptions(ObjectReader& r, const ProgramConfig& program, bool currency_ok,
                     bool read_minimum, int64_t& minimum_order_minor, int& expires_after_days,
                     std::string& code_prefix, std::string_view example_prefix) {
  if (read_minimum && r.Find("minimum_order", false) != nullptr) {
    minimum_order_minor = ReadAmount(r, "minimum_order", program, currency_ok, false);
  }
  r.Integer("expires_after_days", expires_after_days, 0, 3650);
  r.String("code_prefix", code_prefix);
  // Codes are typed by customers and WooCommerce lower-cases them: keep the prefix plain.
  if (code_prefix.size() > 20 || !std::all_of(code_prefix.begin(), code_prefix.end(), [](char c) {
        return std::isupper(static_cast<unsigned char>(c)) ||
               std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '_';
      })) {
    r.Problem(r.PathOf("code_prefix"),
              "must be at most 20 upper-case letters, digits, '-' or '_', e.g. \"" +
                  std::string(example_prefix) + "\"");
  }
}

void ReadReward(ObjectReader& r, RewardConfig& reward, const ProgramConfig& program,
                bool currency_ok) {
  r.String("id", reward.id, true);
  if (r.Find("id", false) != nullptr && !IsShopId(reward.id)) {
    r.Problem(r.PathOf("id"), "must be 1-64 letters, digits, '-' or '_'");
  }
  r.String("name", reward.name);
  r.Integer("points", reward.points, 1, 1'000'000'000, true);
  std::string kind;
  r.String("kind", kind, true);
  const std::optional<RewardKind> parsed = ParseRewardKind(kind);
  if (parsed) {
    reward.kind = *parsed;
  } else if (r.Find("kind", false) != nullptr && r.Find("kind", false)->is_string()) {
    r.Problem(r.PathOf("kind"),
              "must be one of fixed_discount, percentage_discount, free_shipping, store_credit");
  }
  const bool has_amount =
      reward.kind == RewardKind::kFixedDiscount || reward.kind == RewardKind::kStoreCredit;
  if (parsed && has_amount) {
    reward.amount_minor = ReadAmount(r, "amount", program, currency_ok, true);
  } else if (r.Find("amount", false) != nullptr && parsed) {
    r.Problem(r.PathOf("amount"), "applies to fixed_discount and store_credit rewards only");
  }
  if (parsed && reward.kind == RewardKind::kPercentageDiscount) {
    r.Integer("percentage", reward.percentage, 1, 100, true);
  } else if (r.Find("percentage", false) != nullptr && parsed) {
    r.Problem(r.PathOf("percentage"), "applies to percentage_discount rewards only");
  }
  const bool is_code = parsed && reward.kind != RewardKind::kStoreCredit;
  if (!is_code && parsed && r.Find("minimum_order", false) != nullptr) {
    r.Problem(r.PathOf("minimum_order"), "applies to discount code rewards only");
  }
  ReadCodeOptions(r, program, currency_ok, /*read_minimum=*/is_code || !parsed,
                  reward.minimum_order_minor, reward.expires_after_days, reward.code_prefix,
                  "LOYAL-");
  const json* restrict_value = r.Find("restrict_to_customer", false);
  if (restrict_value != nullptr) {
    if (!restrict_value->is_boolean()) {
      r.Problem(r.PathOf("restrict_to_customer"),
                "must be true or false, not " + TypeName(*restrict_value));
    } else {
      reward.restrict_to_customer = restrict_value->get<bool>();
    }
  }
  if (reward.name.empty()) reward.name = reward.id;
}

void ReadOutbox(ObjectReader& r, OutboxConfig& outbox) {
  r.Integer("max_attempts", outbox.max_attempts, 1, 1000);
  r.Integer("initial_backoff_ms", outbox.initial_backoff_ms, 1, 3'600'000);
  r.Integer("max_backoff_ms", outbox.max_backoff_ms, 1, 86'400'000);
  r.Integer("poll_interval_ms", outbox.poll_interval_ms, 10, 60'000);
  if (outbox.max_backoff_ms < outbox.initial_backoff_ms) {
    r.Problem(r.PathOf("max_backoff_ms"), "must be at least initial_backoff_ms (" +
                                              std::to_string(outbox.initial_backoff_ms) + ")");
  }
}

void ReadReconcile(ObjectReader& r, ReconcileConfig& reconcile,
                   const std::vector<ShopConfig>& shops) {
  r.Boolean("enabled", reconcile.enabled);
  r.Integer("interval_minutes", reconcile.interval_minutes, 1, 10'080);
  r.Integer("lookback_hours", reconcile.lookback_hours, 1, 8'760);
  const bool any_api = std::any_of(shops.begin(), shops.end(),
                                   [](const ShopConfig& shop) { return shop.api.configured; });
  if (reconcile.enabled && !shops.empty() && !any_api) {
    r.Problem(r.PathOf("enabled"),
              "needs a shop with an `api` block: orders are listed through the platform's admin "
              "API (shops[].api)");
  }
}

// A list of non-empty strings under key (exclusions). Product ids may also be JSON integers:
// nlohmann keeps integers exact, and merchants copy them from admin URLs.
void ReadStringList(ObjectReader& r, std::string_view key, std::vector<std::string>& out,
                    bool product_ids) {
  const json* value = r.Find(key, false);
  if (value == nullptr) return;
  const std::string path = r.PathOf(key);
  const char* example = product_ids ? "[\"632910392\"]" : "[\"GIFT-WRAP\"]";
  if (!value->is_array()) {
    r.Problem(path, "must be an array of strings such as " + std::string(example) + ", not " +
                        TypeName(*value));
    return;
  }
  std::set<std::string> seen;
  for (size_t i = 0; i < value->size(); ++i) {
    const json& element = (*value)[i];
    const std::string element_path = path + "[" + std::to_string(i) + "]";
    std::string text;
    if (product_ids && element.is_number_unsigned()) {
      text = std::to_string(element.get<uint64_t>());
    } else if (element.is_string()) {
      text = element.get<std::string>();
    } else {
      r.Problem(element_path, "must be a string, not " + TypeName(element));
      continue;
    }
    if (product_ids && (text.empty() || !std::all_of(text.begin(), text.end(), [](char c) {
                          return c >= '0' && c <= '9';
                        }))) {
      r.Problem(element_path, "must be a product id of digits such as \"632910392\"");
      continue;
    }
    if (text.empty()) {
      r.Problem(element_path, "must not be empty");
      continue;
    }
    if (!seen.insert(product_ids ? text : Lower(text)).second) {
      r.Problem(element_path, "'" + text + "' is listed twice");
      continue;
    }
    out.push_back(std::move(text));
  }
}

// Keys that only a spend rule takes; a first_order rule that sets one is told so.
constexpr std::string_view kSpendOnlyKeys[] = {"per",
                                               "rounding",
                                               "exclude_product_ids",
                                               "exclude_skus",
                                               "exclude_vendors",
                                               "minimum_order",
                                               "max_points_per_order"};

// --- Action rules (program.earn[] with "type": "action") ---

// Keys that only an action rule takes; other rules that set one are told so.
constexpr std::string_view kActionOnlyKeys[] = {"action", "limit", "period", "max_per_period"};

// ^[a-z][a-z0-9_]{0,63}$: the built-in names (signup, birthday, newsletter, review,
// social_follow) and the merchant's own share one form, because they are part of ledger keys.
bool IsActionName(const std::string& name) {
  return !name.empty() && name.size() <= 64 && name[0] >= 'a' && name[0] <= 'z' &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
         });
}

void ReadActionRule(ObjectReader& r, EarnRule& rule) {
  r.String("action", rule.action, true);
  const json* action = r.Find("action", false);
  if (action != nullptr && action->is_string() && !IsActionName(rule.action)) {
    r.Problem(r.PathOf("action"),
              "must be 1-64 lower-case letters, digits or '_' starting with a letter: signup, "
              "birthday, newsletter, review, social_follow, or a name of your own such as "
              "\"app_download\"");
  }
  // Without an id the rule is named after its action (one rule per action, so it is unique).
  if (r.Find("id", false) == nullptr) rule.id = rule.action;

  std::string limit;
  r.String("limit", limit, true);
  const json* limit_value = r.Find("limit", false);
  const bool limit_known = limit == "once" || limit == "per_period";
  if (limit == "once") {
    rule.limit = ActionLimit::kOnce;
  } else if (limit == "per_period") {
    rule.limit = ActionLimit::kPerPeriod;
  } else if (limit_value != nullptr && limit_value->is_string()) {
    r.Problem(r.PathOf("limit"),
              "must be \"once\" (once ever per customer) or \"per_period\" (up to "
              "max_per_period times per day, week, month or year), not \"" +
                  limit + "\"");
  }

  const json* period = r.Find("period", false);
  const json* max = r.Find("max_per_period", false);
  if (rule.limit == ActionLimit::kPerPeriod && limit_known) {
    std::string name;
    r.String("period", name, false);
    if (period == nullptr) {
      r.Problem(r.PathOf("period"),
                "is required with \"limit\": \"per_period\": \"day\", \"week\", \"month\" or "
                "\"year\"");
    } else if (name == "day") {
      rule.period = CalendarPeriod::kDay;
    } else if (name == "week") {
      rule.period = CalendarPeriod::kWeek;
    } else if (name == "month") {
      rule.period = CalendarPeriod::kMonth;
    } else if (name == "year") {
      rule.period = CalendarPeriod::kYear;
    } else if (period->is_string()) {
      r.Problem(r.PathOf("period"),
                "must be \"day\", \"week\" (ISO, Monday to Sunday), "
                "\"month\" or \"year\" (UTC), not \"" +
                    name + "\"");
    }
    r.Integer("max_per_period", rule.max_per_period, 1, 1000);
  } else if (limit_known) {
    for (const auto& [key, value] : {std::pair{"period", period}, {"max_per_period", max}}) {
      if (value == nullptr) continue;
      r.Problem(r.PathOf(key),
                "applies to \"limit\": \"per_period\" only; \"once\" pays once ever per customer");
    }
  }

  // loyaltyd does not know birthdays; the caller reports the day. What it can guarantee is
  // "once a year": "once" would pay a birthday once in a lifetime, and more than one a year is
  // not a birthday, so either is a mistake in the config rather than a choice.
  if (rule.action == "birthday" && limit_known) {
    const std::string hint =
        "a birthday comes once a year: use \"limit\": \"per_period\", \"period\": \"year\" "
        "(max_per_period 1)";
    if (rule.limit == ActionLimit::kOnce) {
      r.Problem(r.PathOf("limit"), hint);
    } else if (period != nullptr && rule.period != CalendarPeriod::kYear) {
      r.Problem(r.PathOf("period"), hint);
    } else if (rule.max_per_period != 1) {
      r.Problem(r.PathOf("max_per_period"), hint);
    }
  }
}

// --- Campaigns (program.campaigns[]) ---

// An instant of a campaign window: ISO-8601 in UTC with "Z", so that a window reads the same
// to every merchant and machine. 0 with a problem reported otherwise.
int64_t ReadUtcInstant(ObjectReader& r, std::string_view key) {
  std::string text;
  r.String(key, text, true);
  const json* value = r.Find(key, false);
  if (value == nullptr || !value->is_string()) return 0;
  Result<int64_t> ms = ParseIso8601Millis(text);
  if (!ms.ok() || text.empty() || text.back() != 'Z') {
    r.Problem(r.PathOf(key),
              "must be an ISO-8601 time in UTC ending in Z, such as "
              "\"2026-11-27T00:00:00Z\", not \"" +
                  text + "\"");
    return 0;
  }
  return *ms;
}

// "2" -> 20000 basis points; at most 2 decimals, more than 1 and at most 100. 0 with a problem.
int64_t ReadMultiplier(ObjectReader& r, const json& value) {
  const std::string path = r.PathOf("multiplier");
  if (!value.is_string()) {
    // As with amounts: a JSON number may be a binary float, and "1.1" must stay exactly 1.1.
    r.Problem(path, "must be a decimal string such as \"2\" or \"1.5\", not " + TypeName(value));
    return 0;
  }
  Result<int64_t> hundredths = ParseDecimalToMinor(value.get<std::string>(), 2);
  if (!hundredths.ok() || *hundredths <= 100 || *hundredths > 10'000) {
    r.Problem(path,
              "must be a decimal more than 1 and at most 100 with at most 2 decimals, "
              "such as \"2\" or \"1.25\", not \"" +
                  value.get<std::string>() + "\"");
    return 0;
  }
  return *hundredths * 100;
}

void ReadCampaign(ObjectReader& r, CampaignConfig& campaign) {
  r.String("id", campaign.id, true);
  if (r.Find("id", false) != nullptr && !IsShopId(campaign.id)) {
    r.Problem(r.PathOf("id"), "must be 1-64 letters, digits, '-' or '_'");
  }
  r.String("name", campaign.name);
  if (campaign.name.empty()) campaign.name = campaign.id;
  campaign.starts_at_ms = ReadUtcInstant(r, "starts_at");
  campaign.ends_at_ms = ReadUtcInstant(r, "ends_at");
  if (campaign.starts_at_ms != 0 && campaign.ends_at_ms != 0 &&
      campaign.ends_at_ms <= campaign.starts_at_ms) {
    r.Problem(r.PathOf("ends_at"),
              "must be after starts_at: the window runs from starts_at (included) to ends_at "
              "(excluded)");
  }

  const json* multiplier = r.Find("multiplier", false);
  const json* bonus = r.Find("bonus_points", false);
  if (multiplier != nullptr && bonus != nullptr) {
    r.Problem(r.path(), "give either \"multiplier\" or \"bonus_points\", not both");
  } else if (multiplier == nullptr && bonus == nullptr) {
    r.Problem(r.path(),
              "needs \"multiplier\" (e.g. \"2\" for double points) or \"bonus_points\" (a fixed "
              "bonus per order)");
  }
  if (multiplier != nullptr) campaign.multiplier_basis_points = ReadMultiplier(r, *multiplier);
  if (bonus != nullptr) r.Integer("bonus_points", campaign.bonus_points, 1, 1'000'000'000);

  // Their form here; that each names a level of program.tiers, in ReadProgram once the tiers
  // are read.
  const json* tiers = r.Find("tiers", false);
  if (tiers != nullptr) {
    ReadStringList(r, "tiers", campaign.tiers, false);
    for (size_t i = 0; i < campaign.tiers.size(); ++i) {
      if (!IsShopId(campaign.tiers[i])) {
        r.Problem(r.PathOf("tiers") + "[" + std::to_string(i) + "]",
                  "must be a tier id: 1-64 letters, digits, '-' or '_'");
      }
    }
    if (tiers->is_array() && tiers->empty()) {
      r.Problem(r.PathOf("tiers"), "must list at least one tier; leave it out for every customer");
    }
  }
  ReadStringList(r, "product_ids", campaign.product_ids, true);
  ReadStringList(r, "skus", campaign.skus, false);
  // As for exclusions: order webhooks carry no product tags or collections.
  for (const auto& [key, what] :
       {std::pair<std::string_view, std::string_view>{"product_tags", "product tags"},
        {"collections", "collections"}}) {
    if (r.Find(key, false) == nullptr) continue;
    r.Problem(r.PathOf(key), "cannot be applied: order webhooks do not carry " + std::string(what) +
                                 "; name the products by product_ids or skus instead");
  }
}

// --- Cashback rules (type "cashback": a percentage of eligible spend in store credit) ---

// Keys only a cashback rule takes, and keys of a points rule that a cashback rule refuses.
constexpr std::string_view kCashbackOnlyKeys[] = {"percent", "max_per_order"};
constexpr std::string_view kPointsOnlyKeys[] = {"points", "per", "rounding",
                                                "max_points_per_order"};

// Tells a spend or first_order rule that sets a cashback key what the key is for, and a
// cashback rule that sets a points key; the keys stay known keys either way.
void RejectKeysOfOtherRuleTypes(ObjectReader& r, EarnRuleType type) {
  if (type == EarnRuleType::kCashback) {
    for (std::string_view key : kPointsOnlyKeys) {
      if (r.Find(key, false) == nullptr) continue;
      r.Problem(r.PathOf(key),
                "applies to points rules only; a cashback rule gives `percent` of the eligible "
                "spend in store credit");
    }
    return;
  }
  for (std::string_view key : kCashbackOnlyKeys) {
    if (r.Find(key, false) == nullptr) continue;
    r.Problem(r.PathOf(key), "applies to cashback rules only (\"type\": \"cashback\")");
  }
}

// "10" -> 1000 basis points: two decimals of a percent are whole basis points, so the loader
// takes the percentage exactly, like an amount with two minor digits.
void ReadCashbackRule(ObjectReader& r, EarnRule& rule, const ProgramConfig& program,
                      bool currency_ok) {
  const json* percent = r.Find("percent", true);
  if (percent != nullptr) {
    Result<int64_t> basis_points = InvalidArgument("");
    if (percent->is_string()) basis_points = ParseDecimalToMinor(percent->get<std::string>(), 2);
    if (!percent->is_string() || !basis_points.ok() || *basis_points <= 0 ||
        *basis_points > 10'000) {
      r.Problem(r.PathOf("percent"),
                "must be a decimal string above 0 and at most 100 with at most 2 decimals, such "
                "as \"10\" or \"2.5\"" +
                    (percent->is_string() ? std::string() : ", not " + TypeName(*percent)));
    } else {
      rule.percent_basis_points = *basis_points;
    }
  }
  ReadStringList(r, "exclude_product_ids", rule.exclude_product_ids, true);
  ReadStringList(r, "exclude_skus", rule.exclude_skus, false);
  ReadStringList(r, "exclude_vendors", rule.exclude_vendors, false);
  rule.minimum_order_minor = ReadAmount(r, "minimum_order", program, currency_ok, false);
  rule.max_credit_per_order_minor = ReadAmount(r, "max_per_order", program, currency_ok, false);
}

void ReadEarnRule(ObjectReader& r, EarnRule& rule, const ProgramConfig& program, bool currency_ok) {
  std::string type;
  r.String("type", type, true);
  bool spend = false;
  bool cashback = false;
  if (type == "spend") {
    rule.type = EarnRuleType::kSpend;
    rule.id = "spend";
    spend = true;
  } else if (type == "first_order") {
    rule.type = EarnRuleType::kFirstOrder;
    rule.id = "first_order";
  } else if (type == "action") {
    rule.type = EarnRuleType::kAction;  // the id defaults to the action's name (ReadActionRule)
  } else if (type == "cashback") {
    rule.type = EarnRuleType::kCashback;
    rule.id = "cashback";
    cashback = true;
  } else if (r.Find("type", false) != nullptr && r.Find("type", false)->is_string()) {
    r.Problem(
        r.PathOf("type"),
        "must be \"spend\", \"first_order\", \"action\" or \"cashback\", not \"" + type + "\"");
  }
  r.String("id", rule.id);
  // Without an id the rule is named after its type; with an unknown type the type's problem
  // is the one to report, not the missing default.
  if (r.Find("id", false) != nullptr && !IsShopId(rule.id)) {
    r.Problem(r.PathOf("id"), "must be 1-64 letters, digits, '-' or '_'");
  }
  if (!cashback) r.Integer("points", rule.points, 1, 1'000'000'000, true);

  // Order webhooks (Shopify and WooCommerce alike) carry no product tags or collections; an
  // exclusion by them could never match, so it is refused rather than silently ignored.
  for (const auto& [key, what] :
       {std::pair<std::string_view, std::string_view>{"exclude_product_tags", "product tags"},
        {"exclude_collections", "collections"}}) {
    if (r.Find(key, false) == nullptr) continue;
    r.Problem(r.PathOf(key), "cannot be applied: order webhooks do not carry " + std::string(what) +
                                 "; exclude by exclude_product_ids, exclude_skus or "
                                 "exclude_vendors instead");
  }

  // Action rules (a separate block: see ReadActionRule).
  const bool known_type = spend || cashback || type == "first_order" || type == "action";
  if (rule.type == EarnRuleType::kAction) {
    ReadActionRule(r, rule);
  } else {
    for (std::string_view key : kActionOnlyKeys) {
      if (r.Find(key, false) != nullptr && known_type) {
        r.Problem(r.PathOf(key), "applies to action rules only (\"type\": \"action\")");
      }
    }
  }

  if (known_type) {
    RejectKeysOfOtherRuleTypes(r, rule.type);
  } else {
    for (std::string_view key : kCashbackOnlyKeys) r.Find(key, false);  // known, type unknown
  }
  if (cashback) {
    ReadCashbackRule(r, rule, program, currency_ok);
    return;
  }
  if (!spend) {
    // With an unknown type the type's problem is enough; the keys are still known keys.
    for (std::string_view key : kSpendOnlyKeys) {
      if (r.Find(key, false) != nullptr && rule.type == EarnRuleType::kFirstOrder) {
        r.Problem(r.PathOf(key),
                  "applies to spend rules only; a first_order rule gives a fixed bonus of "
                  "`points`");
      } else if (r.Find(key, false) != nullptr && rule.type == EarnRuleType::kAction) {
        r.Problem(r.PathOf(key),
                  "applies to spend rules only; an action rule gives a fixed `points` per action");
      }
    }
    return;
  }

  std::string rounding = "floor";
  r.String("rounding", rounding);
  if (rounding == "floor") {
    rule.rounding = EarnRounding::kFloor;
  } else if (rounding == "nearest") {
    rule.rounding = EarnRounding::kNearest;
  } else {
    r.Problem(r.PathOf("rounding"),
              "must be \"floor\" (round down) or \"nearest\" (half up), not \"" + rounding + "\"");
  }
  ReadStringList(r, "exclude_product_ids", rule.exclude_product_ids, true);
  ReadStringList(r, "exclude_skus", rule.exclude_skus, false);
  ReadStringList(r, "exclude_vendors", rule.exclude_vendors, false);
  rule.minimum_order_minor = ReadAmount(r, "minimum_order", program, currency_ok, false);
  r.Integer("max_points_per_order", rule.max_points_per_order, 1, 1'000'000'000'000);

  const json* per = r.Find("per", true);
  if (per == nullptr) return;
  if (!per->is_string()) {
    // Amounts are decimal strings so that they are exact; a JSON number may be a binary float.
    r.Problem(r.PathOf("per"), "must be a decimal string such as \"1.00\", not " + TypeName(*per));
    return;
  }
  if (!currency_ok) return;  // the currency problem is reported already
  Result<int64_t> minor = ParseDecimalToMinor(per->get<std::string>(), program.currency_exponent);
  if (!minor.ok() || *minor <= 0) {
    r.Problem(r.PathOf("per"),
              "must be a positive amount in " + program.currency + " such as \"1.00\"" +
                  (minor.ok() ? std::string() : " (" + minor.status().message() + ")"));
    return;
  }
  rule.per_minor = *minor;
}

// --- program.tiers (VIP tiers) ---

// A tier threshold: a decimal amount of program.currency for spend, a whole number for points
// and orders. Returns -1 with a problem reported.
int64_t ReadTierThreshold(ObjectReader& r, const ProgramConfig& program, TierMetric metric,
                          bool currency_ok) {
  const json* value = r.Find("threshold", true);
  if (value == nullptr) return -1;
  const std::string path = r.PathOf("threshold");
  if (metric == TierMetric::kSpend) {
    if (!value->is_string()) {
      r.Problem(path, "must be a decimal string in " + program.currency +
                          " such as \"500.00\" (the metric is spend), not " + TypeName(*value));
      return -1;
    }
    if (!currency_ok) return -1;
    Result<int64_t> minor =
        ParseDecimalToMinor(value->get<std::string>(), program.currency_exponent);
    if (!minor.ok() || *minor < 0) {
      r.Problem(path, "must be an amount of at least 0 in " + program.currency +
                          " such as \"500.00\"" +
                          (minor.ok() ? std::string() : " (" + minor.status().message() + ")"));
      return -1;
    }
    return *minor;
  }
  const char* what = metric == TierMetric::kOrders ? "orders" : "points";
  if (!value->is_number_integer()) {
    r.Problem(path, std::string("must be a whole number of ") + what + " such as 10, not " +
                        TypeName(*value));
    return -1;
  }
  if (value->is_number_unsigned()
          ? value->get<uint64_t>() > 1'000'000'000'000ULL
          : (value->get<int64_t>() < 0 || value->get<int64_t>() > 1'000'000'000'000)) {
    r.Problem(path, std::string("must be between 0 and 1000000000000 ") + what);
    return -1;
  }
  return value->get<int64_t>();
}

// "1.25" -> 12500 basis points, exactly; at least 1 (no multiplier), at most 100.
void ReadTierMultiplier(ObjectReader& r, TierLevel& level) {
  const json* value = r.Find("multiplier", false);
  if (value == nullptr) return;
  const std::string path = r.PathOf("multiplier");
  if (!value->is_string()) {
    r.Problem(path, "must be a decimal string such as \"1.25\", not " + TypeName(*value));
    return;
  }
  Result<int64_t> bp = ParseDecimalToMinor(value->get<std::string>(), 4);
  if (!bp.ok() || *bp < 10000 || *bp > 1'000'000) {
    r.Problem(path,
              "must be a decimal from \"1\" to \"100\" with at most 4 decimals, such as "
              "\"1.25\"" +
                  (bp.ok() ? std::string() : " (" + bp.status().message() + ")"));
    return;
  }
  level.multiplier_bp = *bp;
}

// Customer tags: Shopify keeps a customer's tags as one comma-separated string of at most 255
// characters per tag, so a tag with a comma would come back as two.
void CheckTagList(ObjectReader& r, std::string_view key, const std::vector<std::string>& tags) {
  for (size_t i = 0; i < tags.size(); ++i) {
    if (tags[i].find(',') != std::string::npos || tags[i].size() > 255 ||
        tags[i].find_first_not_of(" \t") == std::string::npos || tags[i].front() == ' ' ||
        tags[i].back() == ' ') {
      r.Problem(r.PathOf(key) + "[" + std::to_string(i) + "]",
                "must be a tag of at most 255 characters without commas or surrounding spaces");
    }
  }
}

void ReadTierLevel(ObjectReader& r, TierLevel& level, const ProgramConfig& program,
                   TierMetric metric, bool metric_ok, bool currency_ok) {
  r.String("id", level.id, true);
  if (r.Find("id", false) != nullptr && !IsShopId(level.id)) {
    r.Problem(r.PathOf("id"), "must be 1-64 letters, digits, '-' or '_'");
  }
  r.String("name", level.name);
  if (level.name.empty()) level.name = level.id;
  if (metric_ok) {
    level.threshold = ReadTierThreshold(r, program, metric, currency_ok);
  } else {
    r.Find("threshold", true);
  }
  ReadTierMultiplier(r, level);
  ReadStringList(r, "tags", level.tags, false);
  CheckTagList(r, "tags", level.tags);
  ReadStringList(r, "customer_tags", level.customer_tags, false);
  CheckTagList(r, "customer_tags", level.customer_tags);
  r.Object("membership", false, [&](ObjectReader& m) {
    TierMembership membership;
    ReadStringList(m, "product_ids", membership.product_ids, true);
    ReadStringList(m, "skus", membership.skus, false);
    m.Integer("days", membership.days, 1, 3660, true);
    if (membership.product_ids.empty() && membership.skus.empty()) {
      m.Problem(m.path(), "must name the membership product by product_ids or skus");
    }
    level.membership = std::move(membership);
  });
}

void ReadTiers(ObjectReader& r, ProgramConfig& program, bool currency_ok) {
  TiersConfig& tiers = program.tiers;
  tiers.enabled = true;
  std::string metric;
  r.String("metric", metric, true);
  bool metric_ok = true;
  if (metric == "spend") {
    tiers.metric = TierMetric::kSpend;
  } else if (metric == "points_earned") {
    tiers.metric = TierMetric::kPointsEarned;
  } else if (metric == "orders") {
    tiers.metric = TierMetric::kOrders;
  } else {
    metric_ok = false;
    if (r.Find("metric", false) != nullptr && r.Find("metric", false)->is_string()) {
      r.Problem(r.PathOf("metric"),
                "must be \"spend\", \"points_earned\" or \"orders\", not \"" + metric + "\"");
    }
  }
  r.Object("window", true, [&](ObjectReader& w) {
    std::string kind;
    w.String("kind", kind, true);
    if (kind == "rolling") {
      tiers.window_kind = TierWindowKind::kRolling;
      w.Integer("days", tiers.window_days, 1, 3660, true);
    } else if (kind == "calendar_year") {
      tiers.window_kind = TierWindowKind::kCalendarYear;
      if (w.Find("days", false) != nullptr) {
        w.Problem(w.PathOf("days"), "applies to rolling windows only");
      }
    } else if (w.Find("kind", false) != nullptr && w.Find("kind", false)->is_string()) {
      w.Problem(w.PathOf("kind"), "must be \"rolling\" or \"calendar_year\", not \"" + kind + "\"");
    }
  });
  r.Object("keep_for", false, [&](ObjectReader& k) {
    std::string kind;
    k.String("kind", kind, true);
    if (kind == "days") {
      tiers.keep_kind = TierKeepKind::kDays;
      k.Integer("days", tiers.keep_days, 0, 3660, true);
    } else if (kind == "until_end_of_next_year") {
      tiers.keep_kind = TierKeepKind::kUntilEndOfNextYear;
      if (k.Find("days", false) != nullptr) {
        k.Problem(k.PathOf("days"), "applies to keep_for of kind \"days\" only");
      }
    } else if (k.Find("kind", false) != nullptr && k.Find("kind", false)->is_string()) {
      k.Problem(k.PathOf("kind"),
                "must be \"days\" or \"until_end_of_next_year\", not \"" + kind + "\"");
    }
  });
  std::set<std::string> ids;
  std::map<std::string, std::string> tag_owner;  // lower-cased tag -> path of its level
  r.ObjectArray("levels", true, [&](ObjectReader& lr, size_t i) {
    TierLevel level;
    ReadTierLevel(lr, level, program, tiers.metric, metric_ok, currency_ok);
    if (!level.id.empty() && !ids.insert(level.id).second) {
      lr.Problem(lr.PathOf("id"), "duplicate level id '" + level.id + "'");
    }
    // Levels are ordered: each asks for more than the one before, so "the highest level
    // reached" is one level, never two with the same threshold.
    if (i > 0 && !tiers.levels.empty() && level.threshold >= 0 &&
        tiers.levels.back().threshold >= 0 && level.threshold <= tiers.levels.back().threshold) {
      lr.Problem(lr.PathOf("threshold"),
                 "must be greater than the threshold of the level before (" +
                     tiers.levels.back().id +
                     "): list levels from the lowest threshold to the highest, without ties");
    }
    // A tag belongs to one level: a change of level removes the old level's tags and adds the
    // new one's, and a tag the tiers write must never be read back as a tag that grants a tier.
    for (const auto* list : {&level.tags, &level.customer_tags}) {
      for (const std::string& tag : *list) {
        auto [it, inserted] = tag_owner.emplace(Lower(tag), lr.path());
        if (!inserted) {
          lr.Problem(lr.PathOf(list == &level.tags ? "tags" : "customer_tags"),
                     "tag '" + tag + "' is already used by " + it->second +
                         "; each tag may appear once across all levels' tags and customer_tags");
        }
      }
    }
    tiers.levels.push_back(std::move(level));
  });
  const json* levels = r.Find("levels", false);
  if (levels != nullptr && levels->is_array() && levels->empty()) {
    r.Problem(r.PathOf("levels"), "must list at least one level");
  }
}

// --- program.referrals (docs/configuration.md, "Referrals") ---

// A referral reward: "points", or a reward the store creates (discount kinds; store_credit when
// `codes_only` is false). The friend's welcome reward must be a code the friend can use.
void ReadReferralReward(ObjectReader& r, ReferralRewardConfig& reward, const ProgramConfig& program,
                        bool currency_ok, bool codes_only) {
  std::string kind;
  r.String("kind", kind, true);
  r.String("name", reward.name);
  const bool kind_present = r.Find("kind", false) != nullptr;
  std::optional<RewardKind> parsed;
  if (kind == "points" && !codes_only) {
    reward.is_points = true;
    r.Integer("points", reward.points, 1, 1'000'000'000, true);
  } else {
    parsed = ParseRewardKind(kind);
    if (parsed && codes_only && *parsed == RewardKind::kStoreCredit) parsed.reset();
    if (!parsed) {
      if (kind_present && r.Find("kind", false)->is_string()) {
        r.Problem(r.PathOf("kind"),
                  codes_only ? "must be fixed_discount, percentage_discount or free_shipping (a "
                               "code the friend uses on their first order), not \"" +
                                   kind + "\""
                             : "must be points, fixed_discount, percentage_discount, "
                               "free_shipping or store_credit, not \"" +
                                   kind + "\"");
      }
      return;
    }
    reward.kind = *parsed;
  }
  if (!reward.is_points && r.Find("points", false) != nullptr) {
    r.Problem(r.PathOf("points"), "applies to \"kind\": \"points\" only");
  }
  const bool has_amount =
      parsed && (*parsed == RewardKind::kFixedDiscount || *parsed == RewardKind::kStoreCredit);
  if (has_amount) {
    reward.amount_minor = ReadAmount(r, "amount", program, currency_ok, true);
  } else if (r.Find("amount", false) != nullptr) {
    r.Problem(r.PathOf("amount"), "applies to fixed_discount and store_credit rewards only");
  }
  if (parsed && *parsed == RewardKind::kPercentageDiscount) {
    r.Integer("percentage", reward.percentage, 1, 100, true);
  } else if (r.Find("percentage", false) != nullptr) {
    r.Problem(r.PathOf("percentage"), "applies to percentage_discount rewards only");
  }
  const bool is_code = parsed && *parsed != RewardKind::kStoreCredit;
  for (const char* key : {"minimum_order", "expires_after_days", "code_prefix"}) {
    if (!is_code && r.Find(key, false) != nullptr) {
      r.Problem(r.PathOf(key), "applies to discount code rewards only");
    }
  }
  if (!is_code) return;
  const std::string default_prefix = reward.code_prefix;  // "FRIEND-" or "REF-"
  ReadCodeOptions(r, program, currency_ok, /*read_minimum=*/true, reward.minimum_order_minor,
                  reward.expires_after_days, reward.code_prefix, default_prefix);
}

// Fills in a reward's default name from its terms: "500 points", "10% off", "10.00 USD off".
void NameReferralReward(ReferralRewardConfig& reward, const ProgramConfig& program) {
  if (!reward.name.empty()) return;
  if (reward.is_points) {
    reward.name = std::to_string(reward.points) + " points";
    return;
  }
  const std::string amount =
      FormatMinor(reward.amount_minor, program.currency_exponent) + " " + program.currency;
  switch (reward.kind) {
    case RewardKind::kFixedDiscount:
      reward.name = amount + " off";
      break;
    case RewardKind::kPercentageDiscount:
      reward.name = std::to_string(reward.percentage) + "% off";
      break;
    case RewardKind::kFreeShipping:
      reward.name = "free shipping";
      break;
    case RewardKind::kStoreCredit:
      reward.name = amount + " store credit";
      break;
  }
}

void ReadReferralGuards(ObjectReader& r, ReferralGuardsConfig& guards) {
  r.Boolean("same_email", guards.same_email);
  r.Boolean("same_address", guards.same_address);
  r.Boolean("same_phone", guards.same_phone);
  r.Boolean("new_friend_only", guards.new_friend_only);
  r.Integer("max_referrals_per_day", guards.max_referrals_per_day, 0, 1'000'000);
  r.Integer("max_advocate_rewards", guards.max_advocate_rewards, 0, 1'000'000);
  const json* period = r.Find("advocate_rewards_period", false);
  if (period == nullptr) return;
  std::string name;
  r.String("advocate_rewards_period", name);
  if (!period->is_string()) return;
  if (name == "day") {
    guards.advocate_rewards_period = CalendarPeriod::kDay;
  } else if (name == "week") {
    guards.advocate_rewards_period = CalendarPeriod::kWeek;
  } else if (name == "month") {
    guards.advocate_rewards_period = CalendarPeriod::kMonth;
  } else if (name == "year") {
    guards.advocate_rewards_period = CalendarPeriod::kYear;
  } else {
    r.Problem(r.PathOf("advocate_rewards_period"),
              "must be \"day\", \"week\", \"month\" or \"year\" (UTC), not \"" + name + "\"");
  }
  if (guards.max_advocate_rewards == 0) {
    r.Problem(r.PathOf("advocate_rewards_period"),
              "applies with \"max_advocate_rewards\" only; set the cap or leave the period out");
  }
}

void ReadReferrals(ObjectReader& r, ProgramConfig& program, bool currency_ok) {
  ReferralsConfig& referrals = program.referrals;
  referrals.enabled = true;
  r.Integer("attribution_window_days", referrals.attribution_window_days, 1, 365);
  r.String("parameter", referrals.parameter);
  if (referrals.parameter.empty() || referrals.parameter.size() > 40 ||
      !std::all_of(referrals.parameter.begin(), referrals.parameter.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
      })) {
    r.Problem(r.PathOf("parameter"),
              "must be 1-40 letters, digits, '_' or '-' (a URL query parameter), e.g. \"ref\"");
  }
  if (r.Find("minimum_order", false) != nullptr) {
    referrals.minimum_order_minor = ReadAmount(r, "minimum_order", program, currency_ok, false);
  }
  r.Integer("hold_days", referrals.hold_days, 0, 365);
  r.Object("friend_reward", false, [&](ObjectReader& reward_reader) {
    ReferralRewardConfig reward;
    reward.code_prefix = "FRIEND-";
    ReadReferralReward(reward_reader, reward, program, currency_ok, true);
    NameReferralReward(reward, program);
    referrals.friend_reward = std::move(reward);
  });
  r.Object("advocate_reward", true, [&](ObjectReader& reward_reader) {
    ReadReferralReward(reward_reader, referrals.advocate_reward, program, currency_ok, false);
    NameReferralReward(referrals.advocate_reward, program);
  });
  int previous = 0;
  r.ObjectArray("milestones", false, [&](ObjectReader& milestone_reader, size_t) {
    ReferralMilestone milestone;
    milestone_reader.Integer("referrals", milestone.referrals, 1, 100'000, true);
    if (milestone.referrals != 0 && milestone.referrals <= previous) {
      milestone_reader.Problem(milestone_reader.PathOf("referrals"),
                               "must be greater than the previous milestone's (" +
                                   std::to_string(previous) + "); list milestones in order");
    }
    previous = std::max(previous, milestone.referrals);
    milestone_reader.Object("reward", true, [&](ObjectReader& reward_reader) {
      ReadReferralReward(reward_reader, milestone.reward, program, currency_ok, false);
      NameReferralReward(milestone.reward, program);
    });
    referrals.milestones.push_back(std::move(milestone));
  });
  r.Object("guards", false, [&](ObjectReader& guards_reader) {
    ReadReferralGuards(guards_reader, referrals.guards);
  });
}

void ReadProgram(ObjectReader& r, ProgramConfig& program) {
  r.String("currency", program.currency, true);
  bool currency_ok = false;
  if (r.Find("currency", false) != nullptr) {
    Result<int> exponent = CurrencyExponent(program.currency);
    if (exponent.ok()) {
      program.currency_exponent = *exponent;
      currency_ok = true;
    } else {
      r.Problem(r.PathOf("currency"),
                "must be an ISO-4217 code such as \"USD\"; " + exponent.status().message());
    }
  }
  std::set<std::string> rule_ids;
  int first_order_rules = 0;
  r.ObjectArray("earn", false, [&](ObjectReader& rule_reader, size_t) {
    EarnRule rule;
    ReadEarnRule(rule_reader, rule, program, currency_ok);
    if (!rule.id.empty() && !rule_ids.insert(rule.id).second) {
      rule_reader.Problem(rule_reader.PathOf("id"),
                          "duplicate rule id '" + rule.id + "'; give each rule its own \"id\"");
    }
    // The bonus is once per customer whatever the rule's id; a second rule could never pay.
    if (rule.type == EarnRuleType::kFirstOrder && ++first_order_rules > 1) {
      rule_reader.Problem(rule_reader.PathOf("type"),
                          "only one first_order rule is allowed; a customer has one first order");
    }
    program.earn.push_back(std::move(rule));
  });
  std::set<std::string> reward_ids;
  r.ObjectArray("rewards", false, [&](ObjectReader& reward_reader, size_t) {
    RewardConfig reward;
    ReadReward(reward_reader, reward, program, currency_ok);
    if (!reward.id.empty() && !reward_ids.insert(reward.id).second) {
      reward_reader.Problem(reward_reader.PathOf("id"), "duplicate reward id '" + reward.id + "'");
    }
    program.rewards.push_back(std::move(reward));
  });
  // One rule per action: two would race for the same limit.
  std::map<std::string, std::pair<size_t, std::string>> action_rules;  // action -> (index, id)
  for (size_t i = 0; i < program.earn.size(); ++i) {
    const EarnRule& rule = program.earn[i];
    if (rule.type != EarnRuleType::kAction || rule.action.empty()) continue;
    auto [it, inserted] = action_rules.emplace(rule.action, std::pair{i, rule.id});
    if (inserted) continue;
    const std::string first = "program.earn[" + std::to_string(it->second.first) + "]";
    r.Problem("program.earn[" + std::to_string(i) + "].action",
              "two rules for action '" + rule.action + "': " + first + " (id '" +
                  it->second.second + "') and this one (id '" + rule.id + "'); keep one");
  }
  std::set<std::string> campaign_ids;
  r.ObjectArray("campaigns", false, [&](ObjectReader& campaign_reader, size_t) {
    CampaignConfig campaign;
    ReadCampaign(campaign_reader, campaign);
    if (!campaign.id.empty() && !campaign_ids.insert(campaign.id).second) {
      campaign_reader.Problem(campaign_reader.PathOf("id"),
                              "duplicate campaign id '" + campaign.id + "'");
    }
    program.campaigns.push_back(std::move(campaign));
  });
  r.Object("refunds", false, [&](ObjectReader& refunds_reader) {
    const json* allow = refunds_reader.Find("allow_negative_balance", false);
    if (allow == nullptr) return;
    if (!allow->is_boolean()) {
      refunds_reader.Problem(refunds_reader.PathOf("allow_negative_balance"),
                             "must be a boolean, not " + TypeName(*allow));
      return;
    }
    program.refunds.allow_negative_balance = allow->get<bool>();
  });
  r.Object("tiers", false,
           [&](ObjectReader& tiers_reader) { ReadTiers(tiers_reader, program, currency_ok); });
  // A campaign's tiers name levels of program.tiers: an id that names none would never apply.
  for (size_t i = 0; i < program.campaigns.size(); ++i) {
    const std::vector<std::string>& campaign_tiers = program.campaigns[i].tiers;
    for (size_t j = 0; j < campaign_tiers.size(); ++j) {
      const std::string& id = campaign_tiers[j];
      if (!IsShopId(id) || program.tiers.FindLevel(id) != nullptr) continue;  // form: above
      const std::string path =
          r.PathOf("campaigns") + "[" + std::to_string(i) + "].tiers[" + std::to_string(j) + "]";
      if (!program.tiers.enabled) {
        r.Problem(path, "names tier '" + id +
                            "' but program.tiers is not configured; configure the tiers or "
                            "leave \"tiers\" out to run the campaign for every customer");
        continue;
      }
      std::string known;
      for (const TierLevel& level : program.tiers.levels) {
        known += (known.empty() ? "" : ", ") + level.id;
      }
      r.Problem(path, "unknown tier '" + id + "'; program.tiers.levels has: " + known);
    }
  }
  // Point lots and award timing (docs/configuration.md, "Expiry" and "Award timing").
  r.Object("expiry", false, [&](ObjectReader& expiry_reader) {
    expiry_reader.Integer("lot_age_days", program.expiry.lot_age_days, 1, 3650);
    expiry_reader.Integer("inactivity_days", program.expiry.inactivity_days, 1, 3650);
    expiry_reader.Integer("warn_days", program.expiry.warn_days, 1, 365);  // events out
  });
  r.Object("award", false, [&](ObjectReader& award_reader) {
    std::string on = "paid";
    award_reader.String("on", on);
    if (on == "paid") {
      program.award.on = AwardOn::kPaid;
    } else if (on == "fulfilled") {
      program.award.on = AwardOn::kFulfilled;
    } else {
      award_reader.Problem(award_reader.PathOf("on"),
                           "must be \"paid\" or \"fulfilled\", not \"" + on + "\"");
    }
    award_reader.Integer("hold_days", program.award.hold_days, 0, 365);
  });
  r.Object("referrals", false, [&](ObjectReader& referrals_reader) {
    ReadReferrals(referrals_reader, program, currency_ok);
  });
}

// --- Shared membership (issue 7; docs/configuration.md, "Several stores, one program") ---
// program.shared_by: at least two distinct ids of shops[]; program.shared_trust_woocommerce_email.
void ReadSharing(ObjectReader& r, SharingConfig& sharing, const std::vector<ShopConfig>& shops) {
  const json* list = r.Find("shared_by", false);
  r.Boolean("shared_trust_woocommerce_email", sharing.trust_woocommerce_email);
  if (list == nullptr) {
    if (sharing.trust_woocommerce_email) {
      r.Problem(r.PathOf("shared_trust_woocommerce_email"),
                "applies only to shops sharing one membership; name them in "
                "program.shared_by or leave this key out");
    }
    return;
  }
  const std::string path = r.PathOf("shared_by");
  if (!list->is_array()) {
    r.Problem(path,
              "must be an array of the ids of the shops (from shops[]) that share one "
              "membership, such as [\"shop-a\", \"shop-b\"], not " +
                  TypeName(*list));
    return;
  }
  std::string known;
  for (const ShopConfig& shop : shops) known += (known.empty() ? "" : ", ") + shop.id;
  for (size_t i = 0; i < list->size(); ++i) {
    const json& element = (*list)[i];
    const std::string element_path = path + "[" + std::to_string(i) + "]";
    if (!element.is_string()) {
      r.Problem(element_path, "must be a shop id (a string), not " + TypeName(element));
      continue;
    }
    const std::string id = element.get<std::string>();
    if (std::none_of(shops.begin(), shops.end(),
                     [&](const ShopConfig& shop) { return shop.id == id; })) {
      r.Problem(element_path, "unknown shop '" + id + "'; shops[] has: " + known);
      continue;
    }
    if (sharing.Shares(id)) {
      r.Problem(element_path, "shop '" + id + "' is listed twice");
      continue;
    }
    sharing.shop_ids.push_back(id);
  }
  if (list->size() < 2) {
    r.Problem(path,
              "must name at least two shops: a shop alone shares its membership with no "
              "other (leave the key out)");
  }
}
// --- end shared membership ---

// --- Events out (events_out[]; docs/events.md) ---

// http(s)://host[:port][/path][?query]: no user info, fragment, spaces or control characters.
bool IsEventsOutUrl(const std::string& url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return false;
  const std::string scheme = url.substr(0, scheme_end);
  if (scheme != "https" && scheme != "http") return false;
  const size_t authority_end = url.find_first_of("/?", scheme_end + 3);
  const std::string authority = url.substr(scheme_end + 3, authority_end == std::string::npos
                                                               ? std::string::npos
                                                               : authority_end - scheme_end - 3);
  if (authority.empty() || authority.front() == ':') return false;
  const size_t colon = authority.find(':');
  if (colon != std::string::npos) {
    const std::string port = authority.substr(colon + 1);
    if (port.empty() || port.size() > 5 ||
        !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        std::stoi(port) < 1 || std::stoi(port) > 65535) {
      return false;
    }
  }
  const std::string host = authority.substr(0, colon);
  if (host.empty() || !std::all_of(host.begin(), host.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.';
      })) {
    return false;
  }
  if (authority_end == std::string::npos) return true;
  const std::string rest = url.substr(authority_end);
  return std::all_of(rest.begin(), rest.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u < 0x7f && c != '#';
  });
}

bool IsEventsOutId(const std::string& id) {
  return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

void ReadEventsOutEndpoint(ObjectReader& r, EventsOutEndpoint& endpoint) {
  r.String("id", endpoint.id, true);
  if (r.Find("id", false) != nullptr && !IsEventsOutId(endpoint.id)) {
    r.Problem(r.PathOf("id"),
              "must be 1 to 64 lower-case letters, digits, '-' or '_', not '" + endpoint.id + "'");
  }
  r.String("url", endpoint.url, true);
  if (const json* url = r.Find("url", false);
      url != nullptr && url->is_string() && !IsEventsOutUrl(endpoint.url)) {
    r.Problem(r.PathOf("url"),
              "must be an http:// or https:// URL such as https://hooks.example.com/loyalty "
              "(host, optional port, path and query; no user info or fragment)");
  }
  // The secret is never echoed in a problem: check-config output ends up in logs and tickets.
  r.String("secret", endpoint.secret, true);
  if (r.Find("secret", false) != nullptr && r.Find("secret", false)->is_string() &&
      endpoint.secret.size() < 16) {
    r.Problem(r.PathOf("secret"), "must be at least 16 characters (use `openssl rand -hex 32`)");
  }
  r.Boolean("enabled", endpoint.enabled);
  r.Integer("timeout_seconds", endpoint.timeout_seconds, 1, 30);
  const json* topics = r.Find("topics", true);
  if (topics == nullptr) return;
  const std::string path = r.PathOf("topics");
  if (!topics->is_array() || topics->empty()) {
    r.Problem(path, "must be a non-empty array of topics such as [\"points.earned\"]");
    return;
  }
  std::string known;
  for (const char* topic : kEventTopics) known += (known.empty() ? "" : ", ") + std::string(topic);
  for (size_t i = 0; i < topics->size(); ++i) {
    const json& element = (*topics)[i];
    const std::string element_path = path + "[" + std::to_string(i) + "]";
    if (!element.is_string()) {
      r.Problem(element_path, "must be a string, not " + TypeName(element));
      continue;
    }
    const std::string topic = element.get<std::string>();
    if (std::none_of(std::begin(kEventTopics), std::end(kEventTopics),
                     [&](const char* t) { return topic == t; })) {
      r.Problem(element_path, "unknown topic '" + topic + "'; topics are: " + known);
      continue;
    }
    if (std::find(endpoint.topics.begin(), endpoint.topics.end(), topic) != endpoint.topics.end()) {
      r.Problem(element_path, "'" + topic + "' is listed twice");
      continue;
    }
    endpoint.topics.push_back(topic);
  }
}

// --- end events out ---

// "line L column C" of the byte at `offset` in `text`: merchants edit files by line and column.
std::string LineAndColumn(std::string_view text, size_t offset) {
  offset = std::min(offset, text.size());
  size_t line = 1, column = 1;
  for (size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return "line " + std::to_string(line) + " column " + std::to_string(column);
}

// nlohmann's message without its "[json.exception.parse_error.101] parse error at line 1,
// column 3: " prefix.
std::string WithoutNlohmannPrefix(const std::string& what) {
  const size_t colon = what.find(": ");
  if (colon != std::string::npos) return what.substr(colon + 2);
  const size_t bracket = what.find("] ");
  return bracket == std::string::npos ? what : what.substr(bracket + 2);
}

std::string DescribeParseError(std::string_view text, const json::parse_error& error) {
  // nlohmann reports a byte offset (1-based, just past the offending byte).
  const size_t offset = error.byte == 0 ? 0 : error.byte - 1;
  return "malformed JSON at " + LineAndColumn(text, offset) + ": " +
         WithoutNlohmannPrefix(error.what());
}

// The other errors nlohmann's parser throws carry no position: a number beyond a double
// (out_of_range 406, "number overflow parsing '1e400'") is found by the text it quotes.
std::string DescribeOtherJsonError(std::string_view text, const json::exception& error) {
  const std::string what = WithoutNlohmannPrefix(error.what());
  const size_t open = what.find('\'');
  const size_t close = what.rfind('\'');
  if (open != std::string::npos && close > open + 1) {
    const size_t at = text.find(std::string_view(what).substr(open + 1, close - open - 1));
    if (at != std::string_view::npos) {
      return "malformed JSON at " + LineAndColumn(text, at) + ": " + what;
    }
  }
  return "malformed JSON: " + what;
}

}  // namespace

const ShopConfig* Config::FindShopByDomain(std::string_view platform_domain,
                                           Platform platform) const {
  // Domains are stored lower-cased; compare without allocating on the request path.
  for (const ShopConfig& shop : shops) {
    if (shop.platform != platform || shop.domain.size() != platform_domain.size()) continue;
    bool equal = true;
    for (size_t i = 0; i < platform_domain.size() && equal; ++i) {
      equal = std::tolower(static_cast<unsigned char>(platform_domain[i])) ==
              static_cast<unsigned char>(shop.domain[i]);
    }
    if (equal) return &shop;
  }
  return nullptr;
}

const RewardConfig* ProgramConfig::FindReward(std::string_view id) const {
  for (const RewardConfig& reward : rewards) {
    if (reward.id == id) return &reward;
  }
  return nullptr;
}

const TierLevel* TiersConfig::FindLevel(std::string_view id) const {
  const int index = IndexOf(id);
  return index < 0 ? nullptr : &levels[static_cast<size_t>(index)];
}

int TiersConfig::IndexOf(std::string_view id) const {
  for (size_t i = 0; i < levels.size(); ++i) {
    if (levels[i].id == id) return static_cast<int>(i);
  }
  return -1;
}

const EarnRule* ProgramConfig::FindActionRule(std::string_view action) const {
  for (const EarnRule& rule : earn) {
    if (rule.type == EarnRuleType::kAction && rule.action == action) return &rule;
  }
  return nullptr;
}

// Events out.
bool EventsOutEndpoint::Subscribes(std::string_view topic) const {
  return std::find(topics.begin(), topics.end(), topic) != topics.end();
}

const EventsOutEndpoint* Config::FindEventsOutEndpoint(std::string_view id) const {
  for (const EventsOutEndpoint& endpoint : events_out) {
    if (endpoint.id == id) return &endpoint;
  }
  return nullptr;
}

const ShopConfig* Config::FindShopById(std::string_view id) const {
  for (const ShopConfig& shop : shops) {
    if (shop.id == id) return &shop;
  }
  return nullptr;
}

ConfigLoadResult ParseConfig(std::string_view json_text) {
  ConfigLoadResult result;
  json root;
  try {
    root = json::parse(json_text.begin(), json_text.end());
  } catch (const json::parse_error& error) {
    result.problems.push_back({"", DescribeParseError(json_text, error)});
    return result;
  } catch (const json::exception& error) {
    // Not a parse_error, but the parser's all the same (a number overflowing a double).
    result.problems.push_back({"", DescribeOtherJsonError(json_text, error)});
    return result;
  }
  if (!root.is_object()) {
    result.problems.push_back(
        {"", "the configuration must be a JSON object, not " + TypeName(root)});
    return result;
  }

  Config& config = result.config;
  std::vector<ConfigProblem>& problems = result.problems;
  {
    ObjectReader top(root, "", problems);
    top.Object("server", false, [&](ObjectReader& r) { ReadServer(r, config.server); });
    top.Object("storage", false, [&](ObjectReader& r) { ReadStorage(r, config.storage); });
    top.Object("logging", false, [&](ObjectReader& r) { ReadLogging(r, config.logging); });
    top.Object("admin", true, [&](ObjectReader& r) { ReadAdmin(r, config.admin); });
    std::set<std::string> ids, domains;
    top.ObjectArray("shops", true, [&](ObjectReader& r, size_t) {
      ShopConfig shop;
      ReadShop(r, shop);
      if (!shop.id.empty() && !ids.insert(shop.id).second) {
        r.Problem(r.PathOf("id"), "duplicate shop id '" + shop.id + "'");
      }
      if (!shop.domain.empty() &&
          !domains.insert(std::string(PlatformName(shop.platform)) + "|" + shop.domain).second) {
        r.Problem(r.PathOf("domain"), "another shop already has domain '" + shop.domain + "'");
      }
      config.shops.push_back(std::move(shop));
    });
    const json* shops = root.find("shops") == root.end() ? nullptr : &root["shops"];
    if (shops != nullptr && shops->is_array() && shops->empty()) {
      problems.push_back({"shops", "at least one shop is required; loyaltyd has nothing to serve"});
    }
    top.Object("program", true, [&](ObjectReader& r) {
      ReadProgram(r, config.program);
      ReadSharing(r, config.program.sharing, config.shops);  // shared membership (issue 7)
    });
    top.Object("outbox", false, [&](ObjectReader& r) { ReadOutbox(r, config.outbox); });
    top.Object("reconcile", false,
               [&](ObjectReader& r) { ReadReconcile(r, config.reconcile, config.shops); });
    top.Object("storefront", false,  // issue 7
               [&](ObjectReader& r) { ReadStorefront(r, config.storefront, config.admin); });
    // Events out (docs/events.md).
    std::set<std::string> endpoint_ids;
    top.ObjectArray("events_out", false, [&](ObjectReader& r, size_t) {
      EventsOutEndpoint endpoint;
      ReadEventsOutEndpoint(r, endpoint);
      if (!endpoint.id.empty() && !endpoint_ids.insert(endpoint.id).second) {
        r.Problem(r.PathOf("id"), "duplicate events_out id '" + endpoint.id + "'");
      }
      config.events_out.push_back(std::move(endpoint));
    });
  }
  // Problems arrive in the order keys were read; sort by path so the output reads like the file.
  std::stable_sort(problems.begin(), problems.end(),
                   [](const ConfigProblem& a, const ConfigProblem& b) { return a.path < b.path; });
  return result;
}

ConfigLoadResult LoadConfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ConfigLoadResult result;
    result.problems.push_back({"", "cannot read config file '" + path + "'"});
    return result;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return ParseConfig(text.str());
}

}  // namespace loyaltyd
