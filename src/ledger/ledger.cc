#include "ledger/ledger.h"

#include <algorithm>

#include "core/money.h"
#include "rules/earn_rules.h"

namespace loyaltyd {
namespace {

EventOutcome Outcome(const InboxEvent& event, EventStatus status, std::string reason) {
  EventOutcome outcome;
  outcome.event_id = event.id;
  outcome.status = status;
  outcome.reason = std::move(reason);
  outcome.received_at_ms = event.received_at_ms;
  return outcome;
}

// Who an order's points go to, or nullopt for a guest with no email.
std::optional<CustomerIdentity> OrderOwner(const std::string& shop_id, const Order& order) {
  CustomerIdentity who;
  who.shop_id = shop_id;
  if (order.customer) {
    who.platform_customer_id = order.customer->platform_customer_id;
    who.email = order.customer->email.empty() ? order.email : order.customer->email;
    who.first_name = order.customer->first_name;
    who.last_name = order.customer->last_name;
  } else {
    who.email = order.email;
  }
  who.email_normalised = NormaliseEmail(who.email);
  if (who.platform_customer_id.empty() && who.email_normalised.empty()) return std::nullopt;
  return who;
}

// What each refund in the event gives back, on the lines that earn (the earn rules' definition
// of eligible spend: no gift cards). Shopify says it per line; WooCommerce's order payload has
// only each refund's total, which is taken as the same share of the eligible spend as of the
// order's total. A cancellation or full refund adds the "full" record, which takes back the rest.
std::vector<RefundRecord> RefundRecordsOf(const Order& order, bool full) {
  std::vector<RefundRecord> records;
  for (const Refund& refund : order.refunds) {
    RefundRecord record;
    record.refund_key = refund.platform_refund_id;
    for (const RefundLine& line : refund.lines) {
      bool gift_card = line.is_gift_card;
      for (const LineItem& item : order.line_items) {
        if (item.platform_line_id == line.platform_line_id) gift_card = item.is_gift_card;
      }
      if (gift_card) continue;
      record.merchandise_minor += std::max<int64_t>(line.subtotal_minor, 0);
      record.tax_minor += std::max<int64_t>(line.tax_minor, 0);
    }
    if (refund.lines.empty() && refund.amount_minor > 0 && order.total_minor > 0) {
      // amount <= total, so the share is at most the eligible spend.
      record.merchandise_minor = MulDivFloor(std::min(refund.amount_minor, order.total_minor),
                                             EligibleSpendMinor(order), order.total_minor);
    }
    records.push_back(std::move(record));
  }
  if (full) records.push_back(RefundRecord{"full", 0, 0, true});
  return records;
}

}  // namespace

EventOutcome Ledger::Decide(const InboxEvent& event,
                            const Result<NormalisedEvent>& normalised) const {
  if (!normalised.ok()) {
    return Outcome(event, EventStatus::kFailed, normalised.status().message());
  }
  if (const auto* order_event = std::get_if<OrderEvent>(&*normalised)) {
    return DecideOrder(event, *order_event);
  }
  if (const auto* customer_event = std::get_if<CustomerEvent>(&*normalised)) {
    return DecideCustomer(event, *customer_event);
  }
  return Outcome(event, EventStatus::kIgnored, std::get<IgnoredEvent>(*normalised).reason);
}

EventOutcome Ledger::DecideCustomer(const InboxEvent& event,
                                    const CustomerEvent& customer_event) const {
  const Customer& c = customer_event.customer;
  if (c.platform_customer_id.empty()) {
    return Outcome(event, EventStatus::kFailed, "customer payload has no id");
  }
  EventOutcome outcome = Outcome(event, EventStatus::kProcessed, "customer recorded");
  outcome.customer = CustomerIdentity{event.shop_id,           c.platform_customer_id, c.email,
                                      NormaliseEmail(c.email), c.first_name,           c.last_name};
  return outcome;
}

EventOutcome Ledger::DecideOrder(const InboxEvent& event, const OrderEvent& order_event) const {
  const Order& order = order_event.order;
  const bool paid_event = order_event.kind == OrderEventKind::kPaid;
  // The award point (program.award.on): the paid event, or any order payload that says the
  // order is fulfilled (Shopify orders/fulfilled or an update with fulfillment_status
  // "fulfilled"; WooCommerce status "completed"). Earning stays once per (order, rule).
  const bool fulfilment_awards = config_.program.award.on == AwardOn::kFulfilled;
  const bool award_event = fulfilment_awards
                               ? order.fulfilled && order_event.kind != OrderEventKind::kRefunded
                               : paid_event;

  EventOutcome outcome = Outcome(event, EventStatus::kProcessed, "");
  outcome.allow_negative_balance = config_.program.refunds.allow_negative_balance;
  if (order_event.kind == OrderEventKind::kRefunded) {
    // A refund on its own names its order and nothing else: the order row is only created when
    // absent, and the refund waits there until the order earns (storage applies it then).
    outcome.order = OrderRecord{event.shop_id, order.platform_order_id, "", "", 0, 0, false, ""};
    outcome.order->placeholder = true;
    outcome.refunds = RefundRecordsOf(order, false);
    outcome.reason = "refund recorded; it takes back its share of the order's points";
    return outcome;
  }

  outcome.customer = OrderOwner(event.shop_id, order);
  outcome.order =
      OrderRecord{event.shop_id,     order.platform_order_id,   order.name, order.currency,
                  order.total_minor, EligibleSpendMinor(order), paid_event, order.created_at};
  outcome.order->taxes_included = order.taxes_included;
  const bool full = order.cancelled || order.financial_status == FinancialStatus::kRefunded ||
                    order_event.kind == OrderEventKind::kCancelled;
  outcome.refunds = RefundRecordsOf(order, full);
  const std::string refunds_note =
      full ? "; the order is cancelled or fully refunded: the points it earned are taken back"
      : outcome.refunds.empty() ? ""
                                : "; " + std::to_string(outcome.refunds.size()) +
                                      " refund(s) take back their share of the order's points";

  if (!award_event) {
    switch (order_event.kind) {
      case OrderEventKind::kCreated:
        outcome.reason = std::string("order recorded; points are earned when it is ") +
                         (fulfilment_awards ? "fulfilled" : "paid") + refunds_note;
        return outcome;
      case OrderEventKind::kPaid:  // under program.award.on = "fulfilled"
        outcome.reason = "order paid; points are earned when it is fulfilled" + refunds_note;
        return outcome;
      case OrderEventKind::kUpdated:
      case OrderEventKind::kCancelled:
      case OrderEventKind::kRefunded:
        if (outcome.refunds.empty()) {
          outcome.status = EventStatus::kIgnored;
          outcome.reason = "order recorded; " + event.topic + " changes no points";
        } else {
          outcome.reason = "order recorded" + refunds_note;
        }
        return outcome;
    }
  }

  if (!outcome.customer) {
    outcome.status = EventStatus::kIgnored;
    outcome.reason = "guest order with neither a customer nor an email: no points earned";
    return outcome;
  }
  if (full) {
    outcome.reason = "order is cancelled or refunded: no points earned";
    return outcome;
  }
  Result<std::vector<EarnAward>> awards = ComputeEarnAwards(config_.program, order);
  if (!awards.ok()) {
    // Record nothing: a failed event must leave the books as they were.
    return Outcome(event, EventStatus::kFailed, awards.status().message());
  }
  int64_t total = 0;
  std::string notes;  // rules that earned nothing, and why (below their minimum order)
  for (const EarnAward& award : *awards) {
    outcome.points.push_back(PointsChange{award.rule_id, "earn", award.points, award.description,
                                          award.once_per_customer_key});
    total += award.points;
    if (award.points == 0) notes += "; rule " + award.rule_id + ": " + award.description;
  }
  // A once-per-customer award (first order bonus) is offered on every paid order; storage keeps
  // only the customer's first, so the total here counts it as offered.
  const std::string award_point = fulfilment_awards ? "order fulfilled" : "order paid";
  outcome.reason =
      (awards->empty() ? award_point + "; eligible spend earns no points"
                       : award_point + "; " + std::to_string(total) + " point(s) earned") +
      refunds_note;
  if (config_.program.award.hold_days > 0 && !outcome.points.empty()) {
    // Pending until the hold (a returns window) has passed since the award point; the event's
    // own time, so that a replay holds until the same moment.
    outcome.hold_until_ms =
        event.received_at_ms + int64_t{config_.program.award.hold_days} * 86'400'000;
    outcome.reason += "; pending until " + FormatIso8601Millis(outcome.hold_until_ms);
  }
  outcome.reason += notes;

  // Cashback: store credit, a balance and ledger of its own, earned with the points.
  Result<std::vector<CreditAward>> credits = ComputeCashbackAwards(config_.program, order);
  if (!credits.ok()) return Outcome(event, EventStatus::kFailed, credits.status().message());
  for (const CreditAward& credit : *credits) {
    if (credit.amount_minor == 0) {
      outcome.reason += "; rule " + credit.rule_id + ": " + credit.description;
      continue;  // below the minimum order: said in the reason, nothing to book
    }
    outcome.credits.push_back(CreditChange{credit.rule_id, "earn", credit.amount_minor,
                                           config_.program.currency, credit.description});
    outcome.reason += "; " + FormatMinor(credit.amount_minor, config_.program.currency_exponent) +
                      " " + config_.program.currency + " store credit earned";
  }
  return outcome;
}

}  // namespace loyaltyd
