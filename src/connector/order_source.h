// The read half of a connector used by reconciliation (webhooks/order_reconciler.h): lists a
// store's orders changed since a time, one page at a time, each as the webhook body its
// normaliser reads.
//
// Why: Shopify retries a failing webhook for a few hours only and may then delete the
// subscription; WooCommerce disables a webhook after a few failed deliveries. Orders changed
// meanwhile are found again by listing them through the admin API, and fed through the same
// inbox as a webhook, so that dedupe, processing and the ledger are exactly the webhooks'.
//
// A listing is cheap: each order comes with its state (OrderState) and the topic it would be
// fed as; the reconciler compares the state with the ledger and asks for the webhook body
// (FetchOrderBody) only of the orders whose state the ledger lacks. The topic is decided by the
// state: Shopify orders/cancelled for a cancelled order, orders/paid for one that was paid
// (paid, partially or fully refunded), otherwise orders/updated; WooCommerce order.updated,
// whose status the normaliser reads. The body has the shape of that topic's webhook (Shopify's
// REST Order resource, built from the GraphQL Order; WooCommerce's REST order, which is the
// webhook body).
// Outcome classes as in reward_client.h: Unavailable (transport, 5xx, 429, THROTTLED; with
// retry_after_ms when the platform said), Unauthenticated (401/403, ACCESS_DENIED),
// FailedPrecondition (anything the platform refuses for good). error_detail quotes the
// platform's own error.
// Thread-safety: one call at a time per source; no state between calls but connections.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace loyaltyd {

// What the platform says about an order, in the terms of the ledger (ledger/ledger.h).
struct OrderState {
  bool paid = false;       // paid (Shopify) or a status in earn_on_status (WooCommerce)
  bool fulfilled = false;  // every line shipped (Shopify) or status completed (WooCommerce)
  bool cancelled = false;  // cancelled or fully refunded: the order earns nothing
  std::vector<std::string> refund_ids;
};

struct PlatformOrder {
  std::string platform_order_id;  // decimal, exact (64-bit)
  std::string updated_at;         // as the platform wrote it
  int64_t updated_at_ms = 0;
  std::string topic;  // the webhook topic the order is fed as
  OrderState state;
  std::string body;  // the webhook body when the listing has it (WooCommerce); else ""
};

struct OrderBody {
  Status status;
  int64_t retry_after_ms = 0;
  std::string error_detail;
  std::string body;
};

struct OrderPage {
  Status status;
  int64_t retry_after_ms = 0;
  std::string error_detail;
  std::vector<PlatformOrder> orders;
  std::string next_cursor;  // empty: this was the last page
};

class OrderSource {
 public:
  virtual ~OrderSource() = default;
  // Orders whose updated_at is at or after since_ms, oldest change first; `cursor` is "" for
  // the first page, then the previous page's next_cursor.
  virtual OrderPage ListOrders(int64_t since_ms, const std::string& cursor) = 0;
  // The webhook body of a listed order (order.body when the listing had it). FailedPrecondition
  // when the order cannot be represented whole (error_detail says why).
  virtual OrderBody FetchOrderBody(const PlatformOrder& order) = 0;
};

}  // namespace loyaltyd
