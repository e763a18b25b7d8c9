#include "ledger/ledger.h"

#include <algorithm>

#include "core/calendar.h"
#include "core/identity.h"
#include "core/money.h"
#include "ledger/config_tier_policy.h"
#include "ledger/referral_policy.h"
#include "rules/earn_rules.h"
#include "rules/tier_rules.h"

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

// Shared membership (issue 7; docs/configuration.md, "Several stores, one program"): whether
// this account may join the member with the same email on another sharing shop. Only an
// account (never a guest) on a sharing shop whose email the platform vouches for: a false
// merge would let one person spend another's points. WooCommerce vouches for nothing, so its
// registered accounts' emails count only when the merchant says so.
bool LinksByEmail(const Config& config, const InboxEvent& event, const std::string& account_id,
                  const std::string& email_normalised, bool email_verified) {
  if (account_id.empty() || email_normalised.empty() || !email_verified) return false;
  if (!config.program.sharing.Shares(event.shop_id)) return false;
  return event.platform != "woocommerce" || config.program.sharing.trust_woocommerce_email;
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

Ledger::Ledger(const Config& config, Storage& storage, const Clock& clock)
    : config_(config),
      storage_(storage),
      clock_(clock),
      tiers_(ConfigTierPolicy::FromConfig(config)),
      referrals_(MakeReferralPolicy(config)) {}

void Ledger::AddReferralInputs(EventOutcome& outcome, const InboxEvent& event, const Order& order,
                               bool paid_order) const {
  if (!referrals_ || !outcome.customer) return;
  outcome.referrals = referrals_;
  IdentityKeys keys;
  keys.email_key = CanonicalEmail(outcome.customer->email);
  keys.phone_key = PhoneKey(order.phone);
  if (order.shipping_address) keys.address_key = AddressKey(*order.shipping_address);
  outcome.identity_keys = keys;
  if (!paid_order) return;
  ReferralOrderFacts facts;
  // Precedence (issue 5): a friend code used on the order, then a ref code the storefront
  // carried — the landing page's query, then a note attribute / order meta it set.
  for (const std::string& code : order.discount_codes) {
    if (!code.empty()) facts.candidates.push_back({code, "discount_code"});
  }
  const std::string& parameter = config_.program.referrals.parameter;
  for (const std::string& code : RefCodesFromLandingSite(order.landing_site, parameter)) {
    facts.candidates.push_back({code, "landing_site"});
  }
  const bool woo = event.platform == "woocommerce";
  for (const OrderAttribute& attribute : order.attributes) {
    // WooCommerce plugins keep their own meta behind a leading '_' (hidden in the admin).
    if (attribute.value.empty() ||
        (attribute.name != parameter && !(woo && attribute.name == "_" + parameter))) {
      continue;
    }
    facts.candidates.push_back({attribute.value, woo ? "order_meta" : "note_attribute"});
  }
  facts.friend_email = outcome.customer->email;
  facts.friend_keys = keys;
  facts.total_minor = order.total_minor;
  Result<int64_t> created = ParseIso8601Millis(order.created_at);
  facts.created_at_ms = created.ok() ? *created : 0;
  outcome.referral_order = std::move(facts);
}

void Ledger::AddTierInputs(EventOutcome& outcome) const {
  // Storage evaluates tiers as of outcome.received_at_ms (set by Outcome), and records paid
  // orders with that time even without tiers, so that tiers configured later count them.
  outcome.tiers = tiers_;
}

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
  if (const auto* privacy_event = std::get_if<PrivacyEvent>(&*normalised)) {
    return DecidePrivacy(event, *privacy_event);
  }
  return Outcome(event, EventStatus::kIgnored, std::get<IgnoredEvent>(*normalised).reason);
}

// Privacy (issue 7): what the request means is decided by storage, which finds the customer
// and applies it in the event's transaction; the event's reason says which request it was
// (storage's summary replaces it once applied).
EventOutcome Ledger::DecidePrivacy(const InboxEvent& event, const PrivacyEvent& privacy) const {
  PrivacyAction action;
  action.shop_id = event.shop_id;
  action.platform_customer_id = privacy.platform_customer_id;
  action.email = privacy.email;
  action.phone = privacy.phone;
  action.platform_order_ids = privacy.platform_order_ids;
  action.platform_request_id = privacy.platform_request_id;
  action.source = "webhook";
  std::string reason;
  switch (privacy.kind) {
    case PrivacyEvent::Kind::kCustomerDataRequest:
      action.kind = PrivacyAction::Kind::kDataRequest;
      reason = "customer data request";
      break;
    case PrivacyEvent::Kind::kCustomerRedact:
      action.kind = PrivacyAction::Kind::kCustomerRedact;
      reason = "customer redaction";
      break;
    case PrivacyEvent::Kind::kShopRedact:
      action.kind = PrivacyAction::Kind::kShopRedact;
      reason = "shop redaction";
      break;
    case PrivacyEvent::Kind::kShopUninstalled:
      action.kind = PrivacyAction::Kind::kShopDeactivate;
      reason = "app uninstalled: shop deactivated";
      break;
  }
  EventOutcome outcome = Outcome(event, EventStatus::kProcessed, std::move(reason));
  outcome.privacy = std::move(action);
  return outcome;
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
  outcome.customer->link_by_email = LinksByEmail(
      config_, event, c.platform_customer_id, outcome.customer->email_normalised, c.email_verified);
  AddTierInputs(outcome);
  if (referrals_) {
    outcome.referrals = referrals_;
    outcome.identity_keys = IdentityKeys{CanonicalEmail(c.email), PhoneKey(c.phone), ""};
  }
  // Only Shopify has customer tags (WooCommerce customers have none to grant a tier by).
  if (event.platform == "shopify") outcome.platform_tags = c.tags;
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
  AddTierInputs(outcome);
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
  // Only the account's own email vouched for by the platform (never an order's contact email).
  if (outcome.customer && order.customer && outcome.customer->email == order.customer->email) {
    outcome.customer->link_by_email =
        LinksByEmail(config_, event, outcome.customer->platform_customer_id,
                     outcome.customer->email_normalised, order.customer->email_verified);
  }
  if (order.customer && event.platform == "shopify") outcome.platform_tags = order.customer->tags;
  outcome.order =
      OrderRecord{event.shop_id,     order.platform_order_id,   order.name, order.currency,
                  order.total_minor, EligibleSpendMinor(order), paid_event, order.created_at};
  outcome.order->taxes_included = order.taxes_included;
  const bool full = order.cancelled || order.financial_status == FinancialStatus::kRefunded ||
                    order_event.kind == OrderEventKind::kCancelled;
  outcome.refunds = RefundRecordsOf(order, full);
  AddReferralInputs(outcome, event, order, paid_event && !full);
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
  if (tiers_) {
    // The earn under each tier; storage posts the one for the tier the customer holds when the
    // event is applied (see the header). Base `points` are for no tier.
    for (const TierLevel& level : config_.program.tiers.levels) {
      Result<std::vector<EarnAward>> tiered =
          ComputeEarnAwards(config_.program, order, EarnContext{level.id});
      if (!tiered.ok()) return Outcome(event, EventStatus::kFailed, tiered.status().message());
      std::vector<PointsChange>& changes = outcome.points_by_tier[level.id];
      for (const EarnAward& award : *tiered) {
        changes.push_back(PointsChange{award.rule_id, "earn", award.points, award.description,
                                       award.once_per_customer_key});
      }
    }
    outcome.tier_grants = MembershipGrants(config_.program.tiers, order);
  }
  // A once-per-customer award (first order bonus) is offered on every paid order; storage keeps
  // only the customer's first, so the total here counts it as offered.
  const std::string award_point = fulfilment_awards ? "order fulfilled" : "order paid";
  outcome.reason =
      (awards->empty() ? award_point + "; eligible spend earns no points"
                       : award_point + "; " + std::to_string(total) + " point(s) earned") +
      refunds_note;
  // The hold applies to whichever changes storage picks: the base ones or a tier's.
  const bool earns_something =
      !outcome.points.empty() ||
      std::any_of(outcome.points_by_tier.begin(), outcome.points_by_tier.end(),
                  [](const auto& tier) { return !tier.second.empty(); });
  if (config_.program.award.hold_days > 0 && earns_something) {
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
  if (tiers_) outcome.reason += "; a VIP tier's multiplier applies to spend rules";
  return outcome;
}

}  // namespace loyaltyd
