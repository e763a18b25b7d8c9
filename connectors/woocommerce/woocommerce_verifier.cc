#include "connectors/woocommerce/woocommerce_verifier.h"

#include <algorithm>
#include <cctype>
#include <string>

#include <nlohmann/json.hpp>

#include "core/crypto.h"

namespace loyaltyd {
namespace {

using nlohmann::json;

// Header values are echoed into error messages and logs; bound what a caller can make us print.
std::string Shown(const std::string& value) {
  constexpr size_t kMax = 100;
  return value.size() <= kMax ? value : value.substr(0, kMax) + "...";
}

// WC_Webhook::deliver_ping posts exactly "webhook_id=<id>".
bool IsPingBody(std::string_view body) {
  constexpr std::string_view kPrefix = "webhook_id=";
  if (!body.starts_with(kPrefix)) return false;
  const std::string_view id = body.substr(kPrefix.size());
  return !id.empty() && id.size() <= 20 &&
         std::all_of(id.begin(), id.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// What the idempotency key needs from the body; empty fields when absent or unreadable.
struct BodyIdentity {
  std::string id;
  std::string modified;  // date_modified_gmt, else date_modified
};

bool IsDateText(const std::string& text) {
  return !text.empty() && text.size() <= 32 && std::all_of(text.begin(), text.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == ':' || c == 'T' ||
           c == 'Z' || c == '+' || c == '.';
  });
}

BodyIdentity ReadIdentity(std::string_view body) {
  BodyIdentity identity;
  try {
    // Keep only the top-level keys the key needs; everything else is tokenized and dropped.
    const json root = json::parse(
        body,
        [](int depth, json::parse_event_t event, json& parsed) {
          if (event != json::parse_event_t::key || depth != 1) return true;
          const std::string& key = parsed.get_ref<const std::string&>();
          return key == "id" || key == "date_modified_gmt" || key == "date_modified";
        },
        /*allow_exceptions=*/false);
    if (!root.is_object()) return identity;
    if (auto it = root.find("id"); it != root.end()) {
      if (it->is_number_unsigned()) {
        identity.id = std::to_string(it->get<uint64_t>());
      } else if (it->is_number_integer() && it->get<int64_t>() >= 0) {
        identity.id = std::to_string(it->get<int64_t>());
      } else if (it->is_string()) {
        const std::string& text = it->get_ref<const std::string&>();
        if (!text.empty() && text.size() <= 20 &&
            text.find_first_not_of("0123456789") == std::string::npos) {
          identity.id = text;
        }
      }
    }
    for (const char* key : {"date_modified_gmt", "date_modified"}) {
      auto it = root.find(key);
      if (it != root.end() && it->is_string() && IsDateText(it->get_ref<const std::string&>())) {
        identity.modified = it->get<std::string>();
        break;
      }
    }
  } catch (const json::exception&) {
    // Unreadable: the key falls back to the digest; the normaliser reports the problem.
    return BodyIdentity{};
  }
  return identity;
}

}  // namespace

std::string WooCommerceSourceHost(std::string_view source) {
  std::string_view rest;
  for (std::string_view scheme : {"https://", "http://"}) {
    if (source.size() >= scheme.size() &&
        std::equal(scheme.begin(), scheme.end(), source.begin(), [](char a, char b) {
          return a == std::tolower(static_cast<unsigned char>(b));
        })) {
      rest = source.substr(scheme.size());
      break;
    }
  }
  if (rest.empty()) return "";
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (const size_t at = rest.rfind('@'); at != std::string_view::npos) rest.remove_prefix(at + 1);
  if (const size_t colon = rest.find(':'); colon != std::string_view::npos) {
    rest = rest.substr(0, colon);
  }
  return std::string(rest);
}

Result<VerifiedWebhook> WooCommerceVerifier::Verify(const WebhookRequest& request) const {
  const std::string source = request.header("X-WC-Webhook-Source");
  const std::string signature = request.header("X-WC-Webhook-Signature");
  const std::string topic = request.header("X-WC-Webhook-Topic");
  if (source.empty() && signature.empty() && topic.empty() && IsPingBody(request.body)) {
    VerifiedWebhook ping;
    ping.handshake = true;
    return ping;
  }

  if (source.empty()) return Unauthenticated("missing X-WC-Webhook-Source");
  const std::string host = WooCommerceSourceHost(source);
  if (host.empty()) {
    return Unauthenticated("X-WC-Webhook-Source '" + Shown(source) + "' is not an http(s) URL");
  }
  std::shared_ptr<const Config> config = config_->Current();
  const ShopConfig* shop = config->FindShopByDomain(host, Platform::kWooCommerce);
  if (shop == nullptr) {
    return Unauthenticated("unknown shop domain '" + Shown(host) +
                           "'; add it to `shops` in the config");
  }

  if (signature.empty()) return Unauthenticated("missing X-WC-Webhook-Signature");
  // The digest doubles as the body's fingerprint in the idempotency key (see the header).
  const std::string digest = HmacSha256Base64(shop->webhook_secret, request.body);
  const bool current = ConstantTimeEquals(digest, signature);
  // During a secret rotation a webhook may still sign with the previous secret; accept both.
  const bool previous =
      !current && !shop->previous_webhook_secret.empty() &&
      ConstantTimeEquals(HmacSha256Base64(shop->previous_webhook_secret, request.body), signature);
  if (!current && !previous) {
    // The caller is not authenticated: tell it nothing about the shop.
    return Unauthenticated("signature does not match the body");
  }

  VerifiedWebhook verified;
  verified.shop = shop;
  verified.config = std::move(config);
  verified.topic = topic;
  if (verified.topic.empty()) return InvalidArgument("missing X-WC-Webhook-Topic");
  if (verified.topic.size() > 100) return InvalidArgument("X-WC-Webhook-Topic is too long");
  verified.delivery_id = request.header("X-WC-Webhook-Delivery-ID");
  if (verified.delivery_id.size() > 100) {
    return InvalidArgument("X-WC-Webhook-Delivery-ID is too long");
  }

  const BodyIdentity identity = ReadIdentity(request.body);
  // 22 base64 characters: 132 bits of the HMAC, ample to tell two bodies apart.
  const std::string fingerprint = "#" + digest.substr(0, 22);
  if (!identity.modified.empty() && !identity.id.empty()) {
    verified.event_id = identity.id + "@" + identity.modified + fingerprint;
  } else {
    verified.event_id = identity.id + "~" + verified.delivery_id + fingerprint;
  }
  return verified;
}

}  // namespace loyaltyd
