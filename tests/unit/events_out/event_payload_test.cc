// The events-out body (src/events_out/event_payload.h): its envelope, key order and nulls.
#include "events_out/event_payload.h"

#include <gtest/gtest.h>

#include <set>

namespace loyaltyd::event_payload_test {
namespace {

using nlohmann::json;

EventEnvelope Envelope() {
  EventEnvelope e;
  e.event_id = "evt_00112233445566778899aabbccddeeff";
  e.topic = "points.earned";
  e.created_at_ms = 1'767'225'600'123;  // 2026-01-01T00:00:00.123Z
  e.shop = {"demo", "shopify", "demo.myshopify.com"};
  e.customer.id = 42;
  e.customer.email = "ada@example.com";
  e.customer.first_name = "Ada";
  e.customer.last_name = "Lovelace";
  e.customer.platform_customer_id = "9007199254740993";  // above 2^53: kept as a string
  return e;
}

TEST(EventPayloadTest, BuildsTheDocumentedEnvelopeInOrder) {
  const std::string body = BuildEventBody(Envelope(), json{{"points", 49}, {"balance_after", 149}});
  EXPECT_EQ(body, R"({"id":"evt_00112233445566778899aabbccddeeff","topic":"points.earned",)"
                  R"("created_at":"2026-01-01T00:00:00.123Z",)"
                  R"("shop":{"id":"demo","platform":"shopify","domain":"demo.myshopify.com"},)"
                  R"("customer":{"id":42,"email":"ada@example.com","first_name":"Ada",)"
                  R"("last_name":"Lovelace","platform_customer_id":"9007199254740993"},)"
                  R"("data":{"balance_after":149,"points":49}})");
}

TEST(EventPayloadTest, GuestsAndUnknownShopsAreNull) {
  EventEnvelope e = Envelope();
  e.customer.platform_customer_id.clear();
  e.shop.platform.clear();
  e.shop.domain.clear();
  const json body = json::parse(BuildEventBody(e, json::object()));
  EXPECT_TRUE(body["customer"]["platform_customer_id"].is_null());
  EXPECT_TRUE(body["shop"]["platform"].is_null());
  EXPECT_TRUE(body["shop"]["domain"].is_null());
  EXPECT_EQ(body["shop"]["id"], "demo");
  EXPECT_TRUE(body["data"].is_object());
}

TEST(EventPayloadTest, InvalidUtf8FromAPlatformIsReplacedNotThrown) {
  EventEnvelope e = Envelope();
  e.customer.first_name = std::string("Ad\xff", 3);
  const std::string body = BuildEventBody(e, json::object());
  const json parsed = json::parse(body, nullptr, false);
  ASSERT_FALSE(parsed.is_discarded());
  EXPECT_EQ(parsed["customer"]["first_name"], "Ad\xEF\xBF\xBD");  // U+FFFD
}

TEST(EventPayloadTest, EventIdsAreUniqueAndWellFormed) {
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = NewEventId();
    ASSERT_EQ(id.size(), 36u);
    ASSERT_EQ(id.rfind("evt_", 0), 0u);
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 1000u);
}

}  // namespace
}  // namespace loyaltyd::event_payload_test
