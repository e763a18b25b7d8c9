#include "events_out/event_payload.h"

#include "core/clock.h"
#include "core/crypto.h"

namespace loyaltyd {

std::string BuildEventBody(const EventEnvelope& e, const nlohmann::json& data) {
  // ordered_json keeps the keys in the documented order, which makes bodies easy to read in a
  // receiver's log; receivers must not depend on it (docs/events.md).
  nlohmann::ordered_json body;
  body["id"] = e.event_id;
  body["topic"] = e.topic;
  body["created_at"] = FormatIso8601Millis(e.created_at_ms);
  body["shop"] = {{"id", e.shop.id},
                  {"platform", e.shop.platform.empty() ? nlohmann::ordered_json(nullptr)
                                                       : nlohmann::ordered_json(e.shop.platform)},
                  {"domain", e.shop.domain.empty() ? nlohmann::ordered_json(nullptr)
                                                   : nlohmann::ordered_json(e.shop.domain)}};
  body["customer"] = {
      {"id", e.customer.id},
      {"email", e.customer.email},
      {"first_name", e.customer.first_name},
      {"last_name", e.customer.last_name},
      {"platform_customer_id", e.customer.platform_customer_id.empty()
                                   ? nlohmann::ordered_json(nullptr)
                                   : nlohmann::ordered_json(e.customer.platform_customer_id)}};
  body["data"] = nlohmann::ordered_json::parse(data.dump());
  // Customer names and emails come from the platforms: replace bytes that are not UTF-8 rather
  // than throw (nlohmann's default for dump).
  return body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::string NewEventId() { return "evt_" + RandomHex(16); }

}  // namespace loyaltyd
