// The body of both normaliser fuzz targets. Input: the topic on the first line, then the raw
// webhook body ("orders/paid\n{...}"); tests/fuzz/seed_corpus.sh makes seeds from the fixtures
// in tests/data. Beyond what the sanitizers catch, an event the normaliser accepts must be one
// the ledger can use: an order has an id and a known currency (a refund without amounts may
// have none), a customer has an id.
// Thread-safety: pure functions.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <variant>

#include "connector/connector.h"
#include "core/money.h"
#include "fuzz/fuzz_message.h"

namespace loyaltyd::fuzz {

inline void NormaliseOne(const Normaliser& normaliser, const ShopConfig& shop, const uint8_t* data,
                         size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t eol = input.find('\n');
  const std::string_view topic = input.substr(0, eol);
  const std::string_view body =
      eol == std::string_view::npos ? std::string_view() : input.substr(eol + 1);
  Result<NormalisedEvent> event = normaliser.Normalise(shop, topic, body);
  if (!event.ok()) {
    if (event.status().code() != StatusCode::kInvalidArgument) {
      InvariantBroken("a refused body is not InvalidArgument");
    }
    if (event.status().message().empty()) InvariantBroken("an error without a message");
    return;
  }
  if (const auto* order = std::get_if<OrderEvent>(&*event)) {
    if (order->order.platform_order_id.empty()) InvariantBroken("an order without an id");
    // Shopify's refunds/create names no currency; it takes one from its lines' amounts, so a
    // refund without lines (nothing read as money) has none.
    const bool moneyless_refund =
        order->kind == OrderEventKind::kRefunded && order->order.currency.empty() &&
        std::all_of(order->order.refunds.begin(), order->order.refunds.end(),
                    [](const Refund& r) { return r.lines.empty() && r.amount_minor == 0; });
    if (!moneyless_refund && !CurrencyExponent(order->order.currency).ok()) {
      InvariantBroken("an order in an unknown currency");
    }
  } else if (const auto* customer = std::get_if<CustomerEvent>(&*event)) {
    if (customer->customer.platform_customer_id.empty()) {
      InvariantBroken("a customer without an id");
    }
  }
}

}  // namespace loyaltyd::fuzz
