#include "ledger/ledger.h"

#include "rules/earn_rules.h"

namespace loyaltyd {
namespace {

EventOutcome Outcome(const InboxEvent& event, EventStatus status, std::string reason) {
  EventOutcome outcome;
  outcome.event_id = event.id;
  outcome.status = status;
  outcome.reason = std::move(reason);
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

  EventOutcome outcome = Outcome(event, EventStatus::kProcessed, "");
  outcome.customer = OrderOwner(event.shop_id, order);
  outcome.order =
      OrderRecord{event.shop_id,     order.platform_order_id,   order.name, order.currency,
                  order.total_minor, EligibleSpendMinor(order), paid_event, order.created_at};

  switch (order_event.kind) {
    case OrderEventKind::kCreated:
      outcome.reason = "order recorded; points are earned when it is paid";
      return outcome;
    case OrderEventKind::kUpdated:
    case OrderEventKind::kCancelled:
      outcome.status = EventStatus::kIgnored;
      outcome.reason = "order recorded; " + event.topic + " does not change points yet";
      return outcome;
    case OrderEventKind::kPaid:
      break;
  }

  if (!outcome.customer) {
    outcome.status = EventStatus::kIgnored;
    outcome.reason = "guest order with neither a customer nor an email: no points earned";
    return outcome;
  }
  if (order.cancelled) {
    outcome.reason = "order is cancelled: no points earned";
    return outcome;
  }
  Result<std::vector<EarnAward>> awards = ComputeEarnAwards(config_.program, order);
  if (!awards.ok()) {
    // Record nothing: a failed event must leave the books as they were.
    return Outcome(event, EventStatus::kFailed, awards.status().message());
  }
  int64_t total = 0;
  for (const EarnAward& award : *awards) {
    outcome.points.push_back(PointsChange{award.rule_id, "earn", award.points, award.description});
    total += award.points;
  }
  outcome.reason = awards->empty() ? "order paid; eligible spend earns no points"
                                   : "order paid; " + std::to_string(total) + " point(s) earned";
  return outcome;
}

}  // namespace loyaltyd
