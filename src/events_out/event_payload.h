// Events out: the JSON body of an outbound event webhook (docs/events.md, "Payload").
//
// Every event has the same envelope — id, topic, created_at, shop, customer — and a topic's
// own `data` object. The body is built once, when the event is queued (in the transaction of
// the ledger change that causes it), and stored: every delivery attempt to every endpoint
// sends the very same bytes, so a receiver that dedupes on the event id never sees two
// versions of one event.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace loyaltyd {

struct EventShop {
  std::string id;        // shops[].id
  std::string platform;  // "shopify", "woocommerce"; empty when the shop left the config
  std::string domain;
};

struct EventCustomer {
  int64_t id = 0;  // loyaltyd's customer id (GET /api/v1/customers/{id})
  std::string email;
  std::string first_name;
  std::string last_name;
  std::string platform_customer_id;  // empty for a guest: sent as null
};

struct EventEnvelope {
  std::string event_id;  // "evt_" + 32 hex digits; X-Loyaltyd-Event-Id
  std::string topic;     // one of kEventTopics (config/config.h)
  int64_t created_at_ms = 0;
  EventShop shop;
  EventCustomer customer;
};

// The body: {"id", "topic", "created_at", "shop", "customer", "data"}, compact, keys in that
// order, non-ASCII kept as UTF-8 (invalid UTF-8 replaced, never an exception).
std::string BuildEventBody(const EventEnvelope& envelope, const nlohmann::json& data);

// "evt_" followed by 32 random hex digits (128 bits): unique without coordination.
std::string NewEventId();

}  // namespace loyaltyd
