// Property test of the order lifecycle: random histories of orders, delivered as webhooks in a
// random order with redeliveries, end in the ledger a simple reference calculation predicts,
// and replaying the whole inbox into a fresh database gives the identical ledger.
//
// Each seed builds a small world: a Shopify shop and a WooCommerce shop, a few customers each
// (one a guest), one to three orders per customer with random lines (gift cards, discounts,
// taxes included or not, shipping). Each order has a true history — created, maybe paid (at
// checkout or later), maybe completed, up to three partial or full refunds, maybe cancelled —
// and every step becomes the webhooks the platform sends for it: Shopify's orders/create,
// orders/paid, orders/updated after each change (a new body each time), refunds/create and
// orders/cancelled; WooCommerce's order.created and order.updated, each carrying the order as
// it is then (a late delivery may carry a later state). Some deliveries are redelivered
// byte for byte, some Shopify events replayed under a new event id, and then everything is
// shuffled. The deliveries go through the real verifiers into a real SqliteStorage inbox, in a
// few group-commit-like chunks, and the real EventProcessor (normalisers, Ledger, storage
// commit) processes them between chunks.
//
// The reference knows only the final facts and the delivery order:
//   E(order)  = 0 unless some delivery says the order is paid (and not cancelled or fully
//               refunded in that body); then units(eligible spend) * points, capped, plus the
//               first-order bonus if this is the customer's first such delivery (in the order
//               the inbox received them) of an order with eligible spend;
//   C(order)  = the eligible amount of the distinct refunds any delivery carried;
//   clawback  = E when any delivery says cancelled or fully refunded, or C >= eligible spend;
//               otherwise floor(E * C / eligible spend) (docs/storage.md);
//   balance   = sum over the customer's orders of E - clawback.
// Checked per seed: every event processed (none failed, none pending), each customer's
// balance equals the reference and the sum of their ledger, each order's earn and clawback
// totals equal the reference, no (order, rule, kind, refund) twice; then the inbox is copied
// into a fresh database and processed again (another batch size): the ledger is identical.
//
// The seeds are fixed (kSeeds from 1): a failure names its seed and prints the world.
// LOYALTYD_PROPERTY_SEED=N runs seed N alone.
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "config/config_source.h"
#include "connectors/shopify/shopify_connector.h"
#include "connectors/shopify/shopify_samples.h"
#include "connectors/woocommerce/woocommerce_connector.h"
#include "connectors/woocommerce/woocommerce_samples.h"
#include "core/crypto.h"
#include "core/money.h"
#include "storage/sqlite_storage.h"
#include "support/sqlite_file.h"
#include "support/temp_dir.h"
#include "webhooks/event_processor.h"
#include "webhooks/webhook_ingest.h"

namespace loyaltyd::ledger_property_test {
namespace {

using nlohmann::json;

constexpr int kSeeds = 200;
constexpr const char* kShopifyShop = "shop-s";
constexpr const char* kShopifyDomain = "prop.myshopify.com";
constexpr const char* kShopifySecret = "prop-shopify-secret-0123456789";
constexpr const char* kWooShop = "shop-w";
constexpr const char* kWooDomain = "prop-woo.example.com";
constexpr const char* kWooSecret = "prop-woo-secret-0123456789";
constexpr int64_t kTaxPercent = 20;

class FixedClock final : public Clock {
 public:
  int64_t NowMillis() const override { return 1'767'261'600'000; }
};

// splitmix64: the same sequence on every platform and standard library (the std::
// distributions are implementation-defined), so a seed means the same world everywhere.
class Random {
 public:
  explicit Random(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  int64_t Between(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(Next() % static_cast<uint64_t>(hi - lo + 1));
  }
  bool Percent(int percent) { return Between(1, 100) <= percent; }
  template <typename T>
  void Shuffle(std::vector<T>& items) {
    for (size_t i = items.size(); i > 1; --i) {
      std::swap(items[i - 1], items[static_cast<size_t>(Between(0, static_cast<int64_t>(i) - 1))]);
    }
  }

 private:
  uint64_t state_;
};

// ---------------------------------------------------------------------------------------------
// The world: customers, orders and their true histories.

struct ModelCustomer {
  bool woo = false;
  uint64_t platform_id = 0;  // 0: a guest, known by email
  std::string email;
};

struct ModelLine {
  uint64_t id = 0;
  int64_t unit_minor = 0;
  int64_t quantity = 0;
  int64_t discount_minor = 0;  // on the whole line
  int64_t tax_minor = 0;       // on the whole line, after the discount
  bool gift_card = false;      // Shopify only (WooCommerce payloads cannot say)
};

struct ModelRefundLine {
  size_t line = 0;
  int64_t quantity = 0;
  int64_t subtotal_minor = 0;  // Shopify: after discounts, with tax when taxes are included
  int64_t tax_minor = 0;
};

struct ModelRefund {
  uint64_t id = 0;
  std::vector<ModelRefundLine> lines;  // Shopify
  int64_t amount_minor = 0;            // WooCommerce: the refund's total
};

struct ModelOrder {
  size_t customer = 0;
  uint64_t id = 0;
  bool woo = false;
  bool taxes_included = false;
  int64_t shipping_minor = 0;
  std::vector<ModelLine> lines;
  std::vector<ModelRefund> refunds;  // in the order they happened
  bool paid_at_checkout = false;
  bool paid = false;
  bool completed = false;  // WooCommerce: completed after payment
  bool cancelled = false;

  // The merchandise after discounts of one line: with tax when taxes are included (Shopify).
  int64_t LineNet(const ModelLine& line) const {
    return line.unit_minor * line.quantity - line.discount_minor;
  }
  // What the earn rules count of one line: no gift cards, no tax.
  int64_t LineEligible(const ModelLine& line) const {
    if (line.gift_card) return 0;
    if (woo) return LineNet(line);  // WooCommerce's line `total` excludes tax
    return std::max<int64_t>(LineNet(line) - (taxes_included ? line.tax_minor : 0), 0);
  }
  int64_t Eligible() const {
    int64_t sum = 0;
    for (const ModelLine& line : lines) sum += LineEligible(line);
    return sum;
  }
  // WooCommerce's order total: lines with their tax, and shipping.
  int64_t WooTotal() const {
    int64_t sum = shipping_minor;
    for (const ModelLine& line : lines) sum += LineNet(line) + line.tax_minor;
    return sum;
  }
  // The refunded eligible amount of one refund, by the documented rule (docs/storage.md).
  int64_t RefundEligible(const ModelRefund& refund) const {
    if (woo) {
      const int64_t total = WooTotal();
      return MulDivFloor(std::min(refund.amount_minor, total), Eligible(), total);
    }
    int64_t merchandise = 0, tax = 0;
    for (const ModelRefundLine& rl : refund.lines) {
      if (lines[rl.line].gift_card) continue;
      merchandise += rl.subtotal_minor;
      tax += rl.tax_minor;
    }
    return std::max<int64_t>(merchandise - (taxes_included ? tax : 0), 0);
  }
  // Whether the first `count` refunds refund the whole order.
  bool FullyRefundedAfter(size_t count) const {
    if (woo) {
      int64_t sum = 0;
      for (size_t i = 0; i < count; ++i) sum += refunds[i].amount_minor;
      return sum >= WooTotal();
    }
    std::vector<int64_t> refunded(lines.size(), 0);
    for (size_t i = 0; i < count; ++i) {
      for (const ModelRefundLine& rl : refunds[i].lines) refunded[rl.line] += rl.quantity;
    }
    for (size_t i = 0; i < lines.size(); ++i) {
      if (refunded[i] < lines[i].quantity) return false;
    }
    return true;
  }
};

// The order as one webhook body shows it.
struct Snapshot {
  bool paid = false;
  bool completed = false;
  size_t refunds = 0;  // the first `refunds` refunds have happened
  bool cancelled = false;
  int second = 0;  // updated_at / date_modified_gmt: later states are later
};

// One webhook delivery, and what its body says (for the reference).
struct Delivery {
  size_t order = 0;
  std::string topic;
  std::string body;
  std::string event_id;  // Shopify: X-Shopify-Event-Id
  std::string delivery_id;
  bool earns = false;           // the body says paid, and neither cancelled nor fully refunded
  bool full = false;            // the body says cancelled or fully refunded
  std::vector<size_t> refunds;  // the refunds the body carries
  bool late_state = false;      // WooCommerce: carries a later state than its change
};

struct ProgramModel {
  int64_t points = 1;
  int64_t per_minor = 100;
  bool nearest = false;
  int64_t cap = 0;    // 0: none
  int64_t bonus = 0;  // 0: no first_order rule
  bool allow_negative = false;
};

struct World {
  ProgramModel program;
  std::vector<ModelCustomer> customers;
  std::vector<ModelOrder> orders;
  std::vector<Delivery> deliveries;  // in arrival order
  size_t chunks = 1;                 // inbox commits the deliveries arrive in
  size_t batch_size = 64;
  size_t replay_batch_size = 64;
};

std::string Amount(int64_t minor) { return FormatMinor(minor, 2); }

json MoneySet(int64_t minor) {
  const json money = {{"amount", Amount(minor)}, {"currency_code", "USD"}};
  return {{"shop_money", money}, {"presentment_money", money}};
}

std::string TwoDigits(int n) { return (n < 10 ? "0" : "") + std::to_string(n); }

// ---------------------------------------------------------------------------------------------
// Bodies, built on the sample builders so that their shape is the platforms'.

json ShopifyLine(const ModelOrder& order, const ModelLine& line, const json& line_template) {
  json l = line_template;
  l["id"] = line.id;
  l["admin_graphql_api_id"] = "gid://shopify/LineItem/" + std::to_string(line.id);
  l["product_id"] = line.id + 500;
  l["variant_id"] = line.id + 900;
  l["sku"] = line.gift_card ? "GIFT-CARD" : "SKU-" + std::to_string(line.id % 7);
  l["quantity"] = line.quantity;
  l["price"] = Amount(line.unit_minor);
  l["price_set"] = MoneySet(line.unit_minor);
  l["total_discount"] = Amount(line.discount_minor);
  l["total_discount_set"] = MoneySet(line.discount_minor);
  l["gift_card"] = line.gift_card;
  l["requires_shipping"] = !line.gift_card;
  l["taxable"] = !line.gift_card;
  l["discount_allocations"] = json::array();
  if (line.discount_minor > 0) {
    l["discount_allocations"].push_back({{"amount", Amount(line.discount_minor)},
                                         {"amount_set", MoneySet(line.discount_minor)},
                                         {"discount_application_index", 0}});
  }
  l["tax_lines"] = json::array();
  if (line.tax_minor > 0) {
    l["tax_lines"].push_back({{"price", Amount(line.tax_minor)},
                              {"price_set", MoneySet(line.tax_minor)},
                              {"rate", 0.2},
                              {"title", "VAT"}});
  }
  (void)order;
  return l;
}

// The REST Refund resource, as refunds/create sends it and as order payloads list it.
json ShopifyRefund(const ModelOrder& order, const ModelRefund& refund, const json& line_template) {
  json lines = json::array();
  for (size_t i = 0; i < refund.lines.size(); ++i) {
    const ModelRefundLine& rl = refund.lines[i];
    const ModelLine& line = order.lines[rl.line];
    lines.push_back({{"id", refund.id * 10 + i},
                     {"line_item_id", line.id},
                     {"quantity", rl.quantity},
                     {"restock_type", "no_restock"},
                     // Shopify sends these two as JSON numbers, and their *_set as strings.
                     {"subtotal", json::parse(Amount(rl.subtotal_minor))},
                     {"subtotal_set", MoneySet(rl.subtotal_minor)},
                     {"total_tax", json::parse(Amount(rl.tax_minor))},
                     {"total_tax_set", MoneySet(rl.tax_minor)},
                     {"line_item", ShopifyLine(order, line, line_template)}});
  }
  return {{"id", refund.id},
          {"admin_graphql_api_id", "gid://shopify/Refund/" + std::to_string(refund.id)},
          {"order_id", order.id},
          {"created_at", "2026-01-02T09:00:00-05:00"},
          {"note", "property test"},
          {"restock", false},
          {"refund_line_items", lines},
          {"transactions", json::array()},
          {"order_adjustments", json::array()}};
}

// A line item of the Shopify sample order, to be filled in with a model line.
const json& ShopifyLineTemplate() {
  static const json line = [] {
    ShopifySampleOptions options;
    options.order_id = 1;
    options.customer_id = 1;
    options.email = "template@example.com";
    return json::parse(*ShopifySampleBody("orders/paid", options))["line_items"][0];
  }();
  return line;
}

std::string ShopifyOrderBody(const World& world, const ModelOrder& order, const Snapshot& s) {
  const ModelCustomer& customer = world.customers[order.customer];
  ShopifySampleOptions options;
  options.order_id = order.id;
  options.customer_id = customer.platform_id;
  options.email = customer.email;
  Result<std::string> sample = ShopifySampleBody("orders/updated", options);
  EXPECT_TRUE(sample.ok());
  json body = json::parse(*sample);
  const json line_template = body["line_items"][0];

  const bool fully_refunded = order.FullyRefundedAfter(s.refunds);
  std::string financial = s.paid ? "paid" : "pending";
  if (s.refunds > 0) financial = fully_refunded ? "refunded" : "partially_refunded";
  if (s.cancelled) financial = s.paid ? "refunded" : "voided";
  body["financial_status"] = financial;
  body["taxes_included"] = order.taxes_included;
  body["cancelled_at"] = s.cancelled ? json("2026-01-03T10:00:00-05:00") : json(nullptr);
  body["cancel_reason"] = s.cancelled ? json("customer") : json(nullptr);
  body["updated_at"] = "2026-01-01T10:00:" + TwoDigits(s.second) + "-05:00";

  int64_t subtotal = 0, tax = 0, discounts = 0;
  body["line_items"] = json::array();
  for (const ModelLine& line : order.lines) {
    body["line_items"].push_back(ShopifyLine(order, line, line_template));
    subtotal += order.LineNet(line);
    tax += line.tax_minor;
    discounts += line.discount_minor;
  }
  const int64_t total = subtotal + (order.taxes_included ? 0 : tax) + order.shipping_minor;
  for (const auto& [key, minor] : {std::pair<const char*, int64_t>{"subtotal_price", subtotal},
                                   {"total_line_items_price", subtotal + discounts},
                                   {"total_price", total},
                                   {"total_tax", tax},
                                   {"total_discounts", discounts}}) {
    body[key] = Amount(minor);
    body[std::string(key) + "_set"] = MoneySet(minor);
  }
  body["total_shipping_price_set"] = MoneySet(order.shipping_minor);
  body["refunds"] = json::array();
  for (size_t i = 0; i < s.refunds; ++i) {
    body["refunds"].push_back(ShopifyRefund(order, order.refunds[i], line_template));
  }
  return body.dump();
}

std::string WooOrderBody(const World& world, const ModelOrder& order, const Snapshot& s,
                         const std::string& topic) {
  const ModelCustomer& customer = world.customers[order.customer];
  const bool fully_refunded = order.FullyRefundedAfter(s.refunds);
  WooCommerceSampleOptions options;
  options.order_id = order.id;
  options.customer_id = customer.platform_id;
  options.email = customer.email;
  options.status = s.cancelled      ? "cancelled"
                   : fully_refunded ? "refunded"
                   : !s.paid        ? "pending"
                   : s.completed    ? "completed"
                                    : "processing";
  options.date_modified_gmt = "2026-01-01T10:00:" + TwoDigits(s.second);
  Result<std::string> sample = WooCommerceSampleBody(topic, options);
  EXPECT_TRUE(sample.ok());
  json body = json::parse(*sample);
  const json line_template = body["line_items"][0];

  body["prices_include_tax"] = order.taxes_included;
  int64_t tax = 0, discounts = 0;
  body["line_items"] = json::array();
  for (const ModelLine& line : order.lines) {
    json l = line_template;
    const int64_t subtotal = line.unit_minor * line.quantity;
    l["id"] = line.id;
    l["product_id"] = line.id + 500;
    l["variation_id"] = 0;
    l["sku"] = "SKU-" + std::to_string(line.id % 7);
    l["quantity"] = line.quantity;
    l["subtotal"] = Amount(subtotal);
    l["subtotal_tax"] = Amount(subtotal * kTaxPercent / 100);
    l["total"] = Amount(order.LineNet(line));
    l["total_tax"] = Amount(line.tax_minor);
    l.erase("price");  // a PHP float the normaliser never reads
    body["line_items"].push_back(l);
    tax += line.tax_minor;
    discounts += line.discount_minor;
  }
  body["total"] = Amount(order.WooTotal());
  body["total_tax"] = Amount(tax);
  body["cart_tax"] = Amount(tax);
  body["discount_total"] = Amount(discounts);
  body["shipping_total"] = Amount(order.shipping_minor);
  body["refunds"] = json::array();
  for (size_t i = s.refunds; i > 0; --i) {  // WooCommerce lists the newest refund first
    const ModelRefund& refund = order.refunds[i - 1];
    body["refunds"].push_back(
        {{"id", refund.id}, {"reason", ""}, {"total", "-" + Amount(refund.amount_minor)}});
  }
  return WooCommerceEscapeSlashes(body.dump(-1, ' ', /*ensure_ascii=*/true));
}

// ---------------------------------------------------------------------------------------------
// Generating a world.

ModelOrder MakeOrder(Random& random, size_t customer, bool woo, uint64_t id) {
  ModelOrder order;
  order.customer = customer;
  order.id = id;
  order.woo = woo;
  order.taxes_included = random.Percent(40);
  order.shipping_minor = random.Percent(50) ? random.Between(1, 12) * 100 : 0;
  const int64_t line_count = random.Between(1, 3);
  for (int64_t i = 0; i < line_count; ++i) {
    ModelLine line;
    line.id = id * 10 + static_cast<uint64_t>(i) + 1;
    line.quantity = random.Between(1, 3);
    line.unit_minor = random.Between(1, 80) * 25 + random.Between(0, 24);
    const int64_t gross = line.unit_minor * line.quantity;
    line.discount_minor = random.Percent(30) ? random.Between(0, gross / 4) : 0;
    const int64_t net = gross - line.discount_minor;
    line.gift_card = !woo && random.Percent(15);
    if (!line.gift_card) {
      line.tax_minor = !woo && order.taxes_included ? net * kTaxPercent / (100 + kTaxPercent)
                                                    : net * kTaxPercent / 100;
    }
    order.lines.push_back(line);
  }

  order.paid_at_checkout = random.Percent(30);
  order.paid = order.paid_at_checkout || random.Percent(75);
  order.completed = woo && order.paid && random.Percent(40);
  if (order.paid) {
    const int64_t refund_count = random.Between(0, 3);
    std::vector<int64_t> remaining;
    for (const ModelLine& line : order.lines) remaining.push_back(line.quantity);
    int64_t woo_remaining = order.WooTotal();
    for (int64_t r = 0; r < refund_count; ++r) {
      ModelRefund refund;
      refund.id = id * 100 + static_cast<uint64_t>(r) + 1;
      if (woo) {
        if (woo_remaining <= 0) break;
        refund.amount_minor = random.Percent(25) ? woo_remaining : random.Between(1, woo_remaining);
        woo_remaining -= refund.amount_minor;
      } else {
        for (size_t l = 0; l < order.lines.size(); ++l) {
          if (remaining[l] == 0 || (!refund.lines.empty() && random.Percent(50))) continue;
          const ModelLine& line = order.lines[l];
          ModelRefundLine rl;
          rl.line = l;
          rl.quantity = random.Percent(40) ? remaining[l] : random.Between(1, remaining[l]);
          remaining[l] -= rl.quantity;
          rl.subtotal_minor = order.LineNet(line) * rl.quantity / line.quantity;
          rl.tax_minor = line.tax_minor * rl.quantity / line.quantity;
          refund.lines.push_back(rl);
        }
        if (refund.lines.empty()) break;
      }
      order.refunds.push_back(refund);
    }
  }
  order.cancelled = random.Percent(order.paid ? 15 : 35);
  return order;
}

// The webhooks one order's history makes, in the order the platform sends them.
void AddDeliveries(World& world, size_t order_index, Random& random) {
  const ModelOrder& order = world.orders[order_index];
  std::vector<Snapshot> states;  // every state the order goes through, oldest first
  std::vector<Delivery> out;
  int second = 0;
  auto snapshot = [&](bool paid, bool completed, size_t refunds, bool cancelled) {
    states.push_back(Snapshot{paid, completed, refunds, cancelled, ++second});
    return states.back();
  };
  int event = 0;
  std::vector<size_t> state_of;  // per delivery in `out`: the index in `states` it shows
  auto emit = [&](const std::string& topic, const Snapshot& s) {
    state_of.push_back(static_cast<size_t>(s.second - 1));
    Delivery d;
    d.order = order_index;
    d.topic = topic;
    d.event_id = "evt-" + std::to_string(order.id) + "-" + std::to_string(++event);
    d.delivery_id = "dlv-" + std::to_string(order.id) + "-" + std::to_string(event);
    const bool fully_refunded = order.FullyRefundedAfter(s.refunds);
    d.full = s.cancelled || fully_refunded;
    for (size_t i = 0; i < s.refunds; ++i) d.refunds.push_back(i);
    if (order.woo) {
      d.body = WooOrderBody(world, order, s, topic);
      d.earns = s.paid && !d.full;  // processing or completed: the shop's earn_on_status
    } else {
      d.body = ShopifyOrderBody(world, order, s);
      d.earns = topic == "orders/paid" && !d.full;
    }
    out.push_back(std::move(d));
  };

  if (order.woo) {
    emit("order.created", snapshot(order.paid_at_checkout, false, 0, false));
    if (order.paid && !order.paid_at_checkout)
      emit("order.updated", snapshot(true, false, 0, false));
    if (order.completed) emit("order.updated", snapshot(true, true, 0, false));
    for (size_t r = 0; r < order.refunds.size(); ++r) {
      emit("order.updated", snapshot(true, order.completed, r + 1, false));
    }
    if (order.cancelled) {
      emit("order.updated", snapshot(order.paid, order.completed, order.refunds.size(), true));
    }
    // A delivery runs after the fact and serialises the order as it is then: now and again
    // one carries a later state than the change that queued it.
    for (size_t i = 0; i < out.size(); ++i) {
      Delivery& d = out[i];
      if (!random.Percent(10)) continue;
      const Snapshot& later = states[static_cast<size_t>(random.Between(
          static_cast<int64_t>(state_of[i]), static_cast<int64_t>(states.size()) - 1))];
      const bool fully_refunded = order.FullyRefundedAfter(later.refunds);
      d.full = later.cancelled || fully_refunded;
      d.earns = later.paid && !d.full;
      d.refunds.clear();
      for (size_t i = 0; i < later.refunds; ++i) d.refunds.push_back(i);
      d.body = WooOrderBody(world, order, later, d.topic);
      d.late_state = later.second - 1 != static_cast<int>(state_of[i]);
    }
  } else {
    const Snapshot created = snapshot(order.paid_at_checkout, false, 0, false);
    emit("orders/create", created);
    if (order.paid) {
      const Snapshot paid = order.paid_at_checkout ? created : snapshot(true, false, 0, false);
      emit("orders/paid", paid);
      if (!order.paid_at_checkout) emit("orders/updated", paid);
    }
    for (size_t r = 0; r < order.refunds.size(); ++r) {
      Delivery refund;
      refund.order = order_index;
      refund.topic = "refunds/create";
      refund.event_id = "evt-" + std::to_string(order.id) + "-" + std::to_string(++event);
      refund.delivery_id = "dlv-" + std::to_string(order.id) + "-" + std::to_string(event);
      refund.refunds = {r};
      refund.body = ShopifyRefund(order, order.refunds[r], ShopifyLineTemplate()).dump();
      out.push_back(std::move(refund));
      state_of.push_back(0);
      emit("orders/updated", snapshot(true, false, r + 1, false));
    }
    if (order.cancelled) {
      const Snapshot cancelled = snapshot(order.paid, false, order.refunds.size(), true);
      emit("orders/cancelled", cancelled);
      emit("orders/updated", cancelled);
    }
    // A store event replayed under a new event id: a new inbox row with a known body.
    for (size_t i = 0, n = out.size(); i < n; ++i) {
      if (!random.Percent(5)) continue;
      Delivery replayed = out[i];
      replayed.event_id += "-replayed";
      replayed.delivery_id += "-replayed";
      out.push_back(std::move(replayed));
    }
  }
  for (Delivery& d : out) world.deliveries.push_back(std::move(d));
}

World MakeWorld(uint64_t seed) {
  Random random(seed);
  World world;
  ProgramModel& p = world.program;
  p.points = std::vector<int64_t>{1, 2, 5}[static_cast<size_t>(random.Between(0, 2))];
  p.per_minor = std::vector<int64_t>{100, 250, 1000}[static_cast<size_t>(random.Between(0, 2))];
  p.nearest = random.Percent(50);
  p.cap = random.Percent(25) ? random.Between(5, 60) : 0;
  p.bonus = random.Percent(70) ? random.Between(1, 10) * 10 : 0;
  p.allow_negative = random.Percent(50);

  uint64_t next_order = 1000 + seed * 100;
  for (bool woo : {false, true}) {
    const int64_t customer_count = random.Between(2, 4);
    for (int64_t c = 0; c < customer_count; ++c) {
      ModelCustomer customer;
      customer.woo = woo;
      customer.platform_id = c == 0 && random.Percent(50) ? 0 : 7000 + static_cast<uint64_t>(c);
      customer.email = (woo ? "w" : "s") + std::to_string(c) + "@example.com";
      world.customers.push_back(customer);
      const int64_t order_count = random.Between(1, 3);
      for (int64_t o = 0; o < order_count; ++o) {
        world.orders.push_back(MakeOrder(random, world.customers.size() - 1, woo, ++next_order));
      }
    }
  }
  for (size_t o = 0; o < world.orders.size(); ++o) AddDeliveries(world, o, random);
  // Redeliveries: the same delivery again, byte for byte (same headers, same body).
  for (size_t i = 0, n = world.deliveries.size(); i < n; ++i) {
    if (random.Percent(15)) world.deliveries.push_back(world.deliveries[i]);
  }
  random.Shuffle(world.deliveries);
  world.chunks = static_cast<size_t>(random.Between(1, 4));
  world.batch_size = static_cast<size_t>(random.Between(1, 64));
  world.replay_batch_size = static_cast<size_t>(random.Between(1, 64));
  return world;
}

Config MakeConfig(const ProgramModel& p) {
  json earn = json::array();
  json spend = {{"type", "spend"},
                {"points", p.points},
                {"per", Amount(p.per_minor)},
                {"rounding", p.nearest ? "nearest" : "floor"}};
  if (p.cap > 0) spend["max_points_per_order"] = p.cap;
  earn.push_back(spend);
  if (p.bonus > 0) earn.push_back({{"type", "first_order"}, {"points", p.bonus}});
  const json config = {{"admin", {{"token", "property-admin-token-0123456789"}}},
                       {"shops",
                        {{{"id", kShopifyShop},
                          {"platform", "shopify"},
                          {"domain", kShopifyDomain},
                          {"webhook_secret", kShopifySecret}},
                         {{"id", kWooShop},
                          {"platform", "woocommerce"},
                          {"domain", kWooDomain},
                          {"webhook_secret", kWooSecret}}}},
                       {"program",
                        {{"currency", "USD"},
                         {"earn", earn},
                         {"refunds", {{"allow_negative_balance", p.allow_negative}}}}}};
  ConfigLoadResult loaded = ParseConfig(config.dump());
  EXPECT_TRUE(loaded.ok()) << loaded.problems[0].ToString();
  return loaded.config;
}

// ---------------------------------------------------------------------------------------------
// The reference calculation.

struct OrderReference {
  int64_t earned = 0;
  int64_t clawed = 0;
  bool bonus = false;
  bool refund_before_earn = false;  // a refund arrived before the delivery that earned
};

int64_t SpendPoints(const ProgramModel& p, int64_t eligible) {
  int64_t units = eligible / p.per_minor;
  const int64_t remainder = eligible % p.per_minor;
  if (p.nearest && 2 * remainder >= p.per_minor) ++units;
  int64_t points = units * p.points;
  if (p.cap > 0) points = std::min(points, p.cap);
  return points;
}

std::vector<OrderReference> Reference(const World& world) {
  const size_t n = world.orders.size();
  std::vector<bool> earns(n, false), full(n, false);
  std::vector<std::set<size_t>> refunds(n);
  std::vector<OrderReference> out(n);
  std::set<size_t> bonus_taken;                 // customers
  for (const Delivery& d : world.deliveries) {  // in the order the inbox received them
    const ModelOrder& order = world.orders[d.order];
    full[d.order] = full[d.order] || d.full;
    refunds[d.order].insert(d.refunds.begin(), d.refunds.end());
    if (!earns[d.order] && !refunds[d.order].empty()) out[d.order].refund_before_earn = true;
    if (!d.earns) continue;
    if (!earns[d.order] && world.program.bonus > 0 && order.Eligible() > 0 &&
        bonus_taken.insert(order.customer).second) {
      out[d.order].bonus = true;
    }
    earns[d.order] = true;
  }
  for (size_t o = 0; o < n; ++o) {
    const ModelOrder& order = world.orders[o];
    if (!earns[o]) continue;
    const int64_t eligible = order.Eligible();
    const int64_t e =
        SpendPoints(world.program, eligible) + (out[o].bonus ? world.program.bonus : 0);
    out[o].earned = e;
    int64_t refunded = 0;
    for (size_t r : refunds[o]) refunded += order.RefundEligible(order.refunds[r]);
    if (e == 0) continue;
    out[o].clawed = full[o] || refunded >= eligible ? e : MulDivFloor(e, refunded, eligible);
  }
  return out;
}

// What the worlds exercised, summed over the seeds: a test whose generator stopped producing
// the hard cases would still pass, so the test checks that each case occurred.
struct Coverage {
  int worlds = 0;
  int orders = 0;
  int deliveries = 0;
  int redeliveries = 0;  // deliveries the inbox recognised as duplicates
  int orders_earning = 0;
  int refund_before_earn = 0;    // a refund waited for its order to earn
  int partial_clawbacks = 0;     // 0 < clawback < earned
  int whole_clawbacks = 0;       // everything taken back (cancelled or fully refunded)
  int bonus_to_later_order = 0;  // the first-order bonus went to a later-created order
  int woo_late_states = 0;
  int gift_card_orders_earning = 0;
  int taxes_included_clawbacks = 0;

  void Count(const World& world, const std::vector<OrderReference>& reference) {
    ++worlds;
    orders += static_cast<int>(world.orders.size());
    deliveries += static_cast<int>(world.deliveries.size());
    for (const Delivery& d : world.deliveries) woo_late_states += d.late_state;
    std::set<size_t> customers_seen;  // whose earliest-created earning order was seen
    for (size_t o = 0; o < world.orders.size(); ++o) {
      const ModelOrder& order = world.orders[o];
      const OrderReference& r = reference[o];
      if (r.earned == 0) continue;
      ++orders_earning;
      refund_before_earn += r.refund_before_earn && r.clawed > 0;
      partial_clawbacks += r.clawed > 0 && r.clawed < r.earned;
      whole_clawbacks += r.clawed == r.earned;
      const bool first_created = customers_seen.insert(order.customer).second;
      bonus_to_later_order += r.bonus && !first_created;
      for (const ModelLine& line : order.lines) {
        if (line.gift_card) {
          ++gift_card_orders_earning;
          break;
        }
      }
      taxes_included_clawbacks += order.taxes_included && r.clawed > 0;
    }
  }
  std::string Summary() const {
    std::ostringstream out;
    out << worlds << " worlds: " << orders << " orders (" << orders_earning << " earning, "
        << gift_card_orders_earning << " with gift cards), " << deliveries << " deliveries ("
        << redeliveries << " redeliveries, " << woo_late_states
        << " late WooCommerce states); clawbacks: " << partial_clawbacks << " partial, "
        << whole_clawbacks << " whole, " << refund_before_earn << " of refunds that came before "
        << "the earn, " << taxes_included_clawbacks << " with taxes included; "
        << bonus_to_later_order << " first-order bonuses paid to a later-created order";
    return out.str();
  }
};

// ---------------------------------------------------------------------------------------------
// Running the pipeline.

// One delivery through its platform's real verifier, into the inbox row it becomes.
NewInboxEvent ToInboxEvent(const World& world, const Delivery& d, const WebhookVerifier& shopify,
                           const WebhookVerifier& woo, int64_t received_at_ms) {
  const bool is_woo = world.orders[d.order].woo;
  std::map<std::string, std::string> headers;
  if (is_woo) {
    headers = {{"X-WC-Webhook-Source", std::string("https://") + kWooDomain + "/"},
               {"X-WC-Webhook-Topic", d.topic},
               {"X-WC-Webhook-Signature", HmacSha256Base64(kWooSecret, d.body)},
               {"X-WC-Webhook-ID", "3"},
               {"X-WC-Webhook-Delivery-ID", d.delivery_id}};
  } else {
    headers = {{"X-Shopify-Topic", d.topic},
               {"X-Shopify-Shop-Domain", kShopifyDomain},
               {"X-Shopify-Hmac-Sha256", HmacSha256Base64(kShopifySecret, d.body)},
               {"X-Shopify-Event-Id", d.event_id},
               {"X-Shopify-Webhook-Id", d.delivery_id}};
  }
  const WebhookRequest request{[&headers](std::string_view name) {
                                 auto it = headers.find(std::string(name));
                                 return it == headers.end() ? std::string() : it->second;
                               },
                               d.body};
  Result<VerifiedWebhook> verified = (is_woo ? woo : shopify).Verify(request);
  EXPECT_TRUE(verified.ok()) << verified.status().ToString();
  if (!verified.ok()) return {};
  return WebhookIngest::InboxEventFor(is_woo ? Platform::kWooCommerce : Platform::kShopify,
                                      *verified, d.body, received_at_ms);
}

struct Pipeline {
  std::shared_ptr<ConfigSource> config;
  FixedClock clock;
  std::unique_ptr<ShopifyConnector> shopify;
  std::unique_ptr<WooCommerceConnector> woo;

  explicit Pipeline(Config c)
      : config(std::make_shared<ConfigSource>(std::move(c))),
        shopify(std::make_unique<ShopifyConnector>(config)),
        woo(std::make_unique<WooCommerceConnector>(config)) {}

  EventProcessor Processor(Storage& storage, size_t batch_size) {
    return EventProcessor(
        config, storage, clock,
        {{"shopify", &shopify->normaliser()}, {"woocommerce", &woo->normaliser()}}, batch_size);
  }
};

// A customer's ledger, oldest first, one line per entry without timestamps.
struct CustomerLedger {
  bool found = false;
  int64_t balance = 0;
  std::vector<LedgerEntryRecord> entries;
};

CustomerLedger LedgerOf(SqliteStorage& storage, const ModelCustomer& customer) {
  CustomerLedger out;
  Result<std::vector<CustomerRecord>> found = storage.FindCustomersByEmail(customer.email);
  EXPECT_TRUE(found.ok());
  const std::string shop = customer.woo ? kWooShop : kShopifyShop;
  const std::string platform_id =
      customer.platform_id == 0 ? "" : std::to_string(customer.platform_id);
  for (const CustomerRecord& record : *found) {
    if (record.shop_id != shop || record.platform_customer_id != platform_id) continue;
    out.found = true;
    out.balance = record.points_balance;
    Result<std::vector<LedgerEntryRecord>> entries = storage.ListLedger(record.id, 0, 100000);
    EXPECT_TRUE(entries.ok());
    out.entries.assign(entries->rbegin(), entries->rend());
  }
  return out;
}

std::string EntryLine(const LedgerEntryRecord& e) {
  return "order " + e.order_platform_id + " " + e.kind + " rule=" + e.rule_id +
         " refund=" + e.refund_key + " points=" + std::to_string(e.points) +
         " balance_after=" + std::to_string(e.balance_after) +
         " event=" + std::to_string(e.source_event_id) + " " + e.source_topic + ": " +
         e.description;
}

std::map<std::string, std::vector<std::string>> WholeLedger(SqliteStorage& storage,
                                                            const World& world) {
  std::map<std::string, std::vector<std::string>> out;
  for (const ModelCustomer& customer : world.customers) {
    std::vector<std::string>& lines = out[customer.email];
    for (const LedgerEntryRecord& e : LedgerOf(storage, customer).entries) {
      lines.push_back(EntryLine(e));
    }
  }
  return out;
}

std::string Describe(const World& world, const std::vector<OrderReference>& reference) {
  std::ostringstream out;
  const ProgramModel& p = world.program;
  out << "program: " << p.points << " point(s) per " << Amount(p.per_minor)
      << (p.nearest ? " nearest" : " floor") << ", cap " << p.cap << ", first order bonus "
      << p.bonus << ", allow_negative " << p.allow_negative << "; " << world.chunks
      << " inbox chunk(s), batch " << world.batch_size << ", replay batch "
      << world.replay_batch_size << "\n";
  for (size_t o = 0; o < world.orders.size(); ++o) {
    const ModelOrder& order = world.orders[o];
    out << "order " << order.id << (order.woo ? " woo" : " shopify") << " customer "
        << world.customers[order.customer].email << " eligible " << order.Eligible()
        << (order.taxes_included ? " taxes-included" : "") << (order.paid ? " paid" : "")
        << (order.cancelled ? " cancelled" : "") << " refunds:";
    for (const ModelRefund& r : order.refunds) {
      out << " " << r.id << "=" << order.RefundEligible(r);
    }
    out << " | reference earned " << reference[o].earned << (reference[o].bonus ? " (bonus)" : "")
        << ", clawed " << reference[o].clawed << "\n";
  }
  out << "deliveries in arrival order:\n";
  for (const Delivery& d : world.deliveries) {
    out << "  " << world.orders[d.order].id << " " << d.topic << " " << d.event_id
        << (d.earns ? " earns" : "") << (d.full ? " full" : "") << " refunds:";
    for (size_t r : d.refunds) out << " " << world.orders[d.order].refunds[r].id;
    out << "\n";
  }
  return out.str();
}

// Each seed opens three databases and commits a few inbox chunks, each commit an fsync: on a
// disk that is most of a minute for the 200 seeds. This test checks logic, not durability, so
// its databases live on a tmpfs where there is one.
std::filesystem::path ScratchBase() {
  if (access("/dev/shm", W_OK | X_OK) == 0) return "/dev/shm";
  return std::filesystem::temp_directory_path();
}

// Copies every inbox event and body of `from` into the empty database `to`, all pending again:
// the whole event history, as a replay would see it. (A second connection: the storage that
// has `to` open is idle meanwhile, and WAL lets its readers see the rows afterwards.)
void CopyInbox(const std::string& from, const std::string& to) {
  static constexpr const char* kCopy =
      "INSERT INTO inbox_events (id, shop_id, platform, topic, dedupe_key, delivery_id, "
      "received_at_ms) SELECT id, shop_id, platform, topic, dedupe_key, delivery_id, "
      "received_at_ms FROM old.inbox_events ORDER BY id; "
      "INSERT INTO inbox_bodies (event_id, body) SELECT event_id, body FROM old.inbox_bodies; "
      "DETACH DATABASE old;";
  ASSERT_TRUE(testing::ExecSql(to, "ATTACH DATABASE '" + from + "' AS old; " + kCopy));
}

// Runs one seed; adds failures (with the seed in the trace) when a property does not hold.
void CheckSeed(uint64_t seed, Coverage& coverage) {
  SCOPED_TRACE("seed " + std::to_string(seed) +
               " (rerun alone: LOYALTYD_PROPERTY_SEED=" + std::to_string(seed) + ")");
  const World world = MakeWorld(seed);
  const std::vector<OrderReference> reference = Reference(world);
  testing::TempDir dir(ScratchBase());
  Pipeline pipeline(MakeConfig(world.program));

  auto opened = SqliteStorage::Open(dir.File("first.db"));
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  std::unique_ptr<SqliteStorage> storage = std::move(opened).value();
  EventProcessor processor = pipeline.Processor(*storage, world.batch_size);

  // Arrival: the deliveries in order, committed in a few chunks with processing in between.
  std::set<std::string> distinct_keys;
  std::vector<NewInboxEvent> chunk;
  size_t stored = 0;
  for (size_t i = 0; i < world.deliveries.size(); ++i) {
    chunk.push_back(ToInboxEvent(world, world.deliveries[i], pipeline.shopify->verifier(),
                                 pipeline.woo->verifier(), 1'767'261'600'000 + int64_t(i)));
    distinct_keys.insert(chunk.back().dedupe_key);
    const bool last = i + 1 == world.deliveries.size();
    if (!last && (i + 1) % (world.deliveries.size() / world.chunks + 1) != 0) continue;
    Result<std::vector<InboxAppendOutcome>> appended = storage->AppendToInbox(chunk);
    ASSERT_TRUE(appended.ok()) << appended.status().ToString();
    for (InboxAppendOutcome outcome : *appended) stored += outcome == InboxAppendOutcome::kStored;
    chunk.clear();
    ASSERT_TRUE(processor.ProcessPending().ok());
  }
  EXPECT_EQ(stored, distinct_keys.size()) << "a redelivery was stored twice, or a delivery lost";
  coverage.Count(world, reference);
  coverage.redeliveries += static_cast<int>(world.deliveries.size() - stored);

  Result<InboxCounts> counts = storage->CountInbox();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->pending, 0);
  EXPECT_EQ(counts->failed, 0);
  if (counts->failed > 0) {
    auto failed = storage->ListEvents(EventStatus::kFailed, 0, 10);
    for (const InboxEvent& e : *failed) ADD_FAILURE() << e.topic << ": " << e.status_reason;
  }

  // Per order and per customer, against the reference.
  std::map<std::string, int64_t> earned, clawed;  // by platform order id
  for (size_t c = 0; c < world.customers.size(); ++c) {
    const ModelCustomer& customer = world.customers[c];
    const CustomerLedger ledger = LedgerOf(*storage, customer);
    int64_t expected = 0;
    for (size_t o = 0; o < world.orders.size(); ++o) {
      if (world.orders[o].customer == c) expected += reference[o].earned - reference[o].clawed;
    }
    EXPECT_TRUE(ledger.found) << customer.email << " was never recorded";
    int64_t sum = 0;
    std::set<std::string> keys;
    for (const LedgerEntryRecord& e : ledger.entries) {
      sum += e.points;
      (e.kind == "earn" ? earned : clawed)[e.order_platform_id] += e.points;
      EXPECT_TRUE(
          keys.insert(e.order_platform_id + "|" + e.rule_id + "|" + e.kind + "|" + e.refund_key)
              .second)
          << "twice: " << EntryLine(e);
      EXPECT_TRUE(e.kind == "earn" || e.kind == "clawback") << EntryLine(e);
    }
    EXPECT_EQ(ledger.balance, expected) << customer.email;
    EXPECT_EQ(sum, ledger.balance) << customer.email << ": balance is not the sum of its ledger";
  }
  for (size_t o = 0; o < world.orders.size(); ++o) {
    const std::string id = std::to_string(world.orders[o].id);
    EXPECT_EQ(earned[id], reference[o].earned) << "order " << id << " earned";
    EXPECT_EQ(-clawed[id], reference[o].clawed) << "order " << id << " clawed back";
  }

  // Replay: the same inbox, pending again, in a fresh database.
  const auto ledger_before = WholeLedger(*storage, world);
  auto replay_opened = SqliteStorage::Open(dir.File("replay.db"));
  ASSERT_TRUE(replay_opened.ok()) << replay_opened.status().ToString();
  std::unique_ptr<SqliteStorage> replay = std::move(replay_opened).value();
  CopyInbox(dir.File("first.db"), dir.File("replay.db"));
  EventProcessor replayer = pipeline.Processor(*replay, world.replay_batch_size);
  Result<size_t> replayed = replayer.ProcessPending();
  ASSERT_TRUE(replayed.ok());
  EXPECT_EQ(*replayed, stored);
  EXPECT_EQ(WholeLedger(*replay, world), ledger_before) << "replaying the inbox changed the ledger";

  if (::testing::Test::HasFailure())
    ADD_FAILURE() << "the world of seed " << seed << ":\n" << Describe(world, reference);
}

TEST(LedgerPropertyTest, ShuffledRedeliveredHistoriesEndInTheReferenceLedgerAndReplayIdentically) {
  Coverage coverage;
  if (const char* only = std::getenv("LOYALTYD_PROPERTY_SEED"); only != nullptr) {
    CheckSeed(std::strtoull(only, nullptr, 10), coverage);
    std::printf("%s\n", coverage.Summary().c_str());
    return;
  }
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    CheckSeed(seed, coverage);
    if (::testing::Test::HasFailure()) return;  // one world to read, not two hundred
  }
  std::printf("%s\n", coverage.Summary().c_str());
  // Each hard case occurred in some world.
  EXPECT_GT(coverage.redeliveries, 0);
  EXPECT_GT(coverage.woo_late_states, 0);
  EXPECT_GT(coverage.refund_before_earn, 0);
  EXPECT_GT(coverage.partial_clawbacks, 0);
  EXPECT_GT(coverage.whole_clawbacks, 0);
  EXPECT_GT(coverage.bonus_to_later_order, 0);
  EXPECT_GT(coverage.gift_card_orders_earning, 0);
  EXPECT_GT(coverage.taxes_included_clawbacks, 0);
}

}  // namespace
}  // namespace loyaltyd::ledger_property_test
