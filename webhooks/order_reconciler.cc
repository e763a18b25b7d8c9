#include "webhooks/order_reconciler.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "core/crypto.h"

namespace loyaltyd {
namespace {

constexpr int64_t kFirstBackoffMs = 1000;
constexpr int64_t kMaxBackoffMs = 30'000;
// A platform that asks for longer than this is treated as down for this run.
constexpr int64_t kMaxRetryAfterMs = 120'000;
constexpr size_t kMaxProblems = 20;

// Calls `call` until it succeeds, fails for good, or kMaxAttempts transient failures passed.
// The answer's status, retry_after_ms and error_detail say which.
template <typename Answer, typename Call>
Answer CallWithRetries(const OrderReconciler::Sleep& sleep, const std::string& what, Call call) {
  int64_t backoff_ms = kFirstBackoffMs;
  for (int attempt = 1;; ++attempt) {
    Answer answer = call();
    if (answer.status.ok() || answer.status.code() != StatusCode::kUnavailable ||
        attempt >= OrderReconciler::kMaxAttempts) {
      return answer;
    }
    const int64_t wait_ms =
        std::min(answer.retry_after_ms > 0 ? answer.retry_after_ms : backoff_ms, kMaxRetryAfterMs);
    backoff_ms = std::min(backoff_ms * 2, kMaxBackoffMs);
    spdlog::info("reconcile: {} failed ({}{}{}); retrying in {} ms", what, answer.status.message(),
                 answer.error_detail.empty() ? "" : ": ", answer.error_detail, wait_ms);
    if (!sleep(wait_ms)) {
      answer.status = Unavailable("stopped while waiting to retry " + what);
      return answer;
    }
  }
}

}  // namespace

std::string OrderReconciler::DedupeKey(const ShopConfig& shop, const PlatformOrder& order) {
  // The state the ledger cares about; refunds sorted so the digest does not depend on the
  // order the platform lists them in. A digest keeps the key short with many refunds.
  std::vector<std::string> refunds = order.state.refund_ids;
  std::sort(refunds.begin(), refunds.end());
  std::string state = std::string(order.state.paid ? "p" : "-") +
                      (order.state.fulfilled ? "f" : "-") + (order.state.cancelled ? "c" : "-");
  for (const std::string& id : refunds) state += "," + id;
  const std::string digest = HexEncode(HmacSha256("loyaltyd-reconcile", state)).substr(0, 16);
  std::string key(PlatformName(shop.platform));
  key.append("|").append(shop.id).append("|").append(order.topic).append("|reconcile:");
  key.append(order.platform_order_id).append("@").append(order.updated_at).append("#");
  key.append(digest);
  return key;
}

bool OrderReconciler::LedgerReflects(const OrderLedgerFacts& ledger, const OrderState& state,
                                     AwardOn award_on) {
  if (!ledger.known) return false;
  if (state.cancelled) {
    // Cancelled or fully refunded: the order earns nothing, and whatever it earned is taken
    // back once its "full" refund is recorded.
    if (ledger.refund_keys.count("full") == 0) return false;
  } else if (award_on == AwardOn::kPaid ? state.paid && !ledger.paid
                                        : state.fulfilled && !ledger.earned) {
    return false;
  }
  return std::all_of(state.refund_ids.begin(), state.refund_ids.end(),
                     [&](const std::string& id) { return ledger.refund_keys.count(id) > 0; });
}

ReconcileReport OrderReconciler::Run(const Config& config, const ShopConfig& shop,
                                     OrderSource& source, int64_t since_ms) {
  ReconcileReport report;
  report.shop_id = shop.id;
  report.platform = std::string(PlatformName(shop.platform));
  report.since_ms = since_ms;
  report.started_at_ms = clock_.NowMillis();
  std::string cursor;
  for (;;) {
    const OrderPage page = CallWithRetries<OrderPage>(
        sleep_, "listing " + report.platform + " orders of shop " + shop.id,
        [&] { return source.ListOrders(since_ms, cursor); });
    if (!page.status.ok()) {
      report.status = page.status;
      report.error_detail = page.error_detail;
      return report;
    }
    ++report.pages;
    for (const PlatformOrder& order : page.orders) {
      ++report.orders_listed;
      report.listed_up_to_ms = std::max(report.listed_up_to_ms, order.updated_at_ms);
      Result<OrderLedgerFacts> ledger =
          storage_.GetOrderLedgerFacts(shop.id, order.platform_order_id);
      if (!ledger.ok()) {
        report.status = ledger.status().WithContext("reading order " + order.platform_order_id);
        return report;
      }
      if (LedgerReflects(*ledger, order.state, config.program.award.on)) {
        ++report.already_seen;
        continue;
      }
      const OrderBody body =
          CallWithRetries<OrderBody>(sleep_, "reading order " + order.platform_order_id,
                                     [&] { return source.FetchOrderBody(order); });
      if (!body.status.ok()) {
        if (body.status.code() != StatusCode::kFailedPrecondition) {
          report.status = body.status;
          report.error_detail = body.error_detail;
          return report;
        }
        // This order alone cannot be read; the others can.
        ++report.skipped;
        if (report.problems.size() < kMaxProblems) {
          report.problems.push_back(body.status.message() +
                                    (body.error_detail.empty() ? "" : ": " + body.error_detail));
        }
        spdlog::warn("reconcile: shop {}: {}", shop.id, body.status.message());
        continue;
      }
      NewInboxEvent event;
      event.shop_id = shop.id;
      event.platform = report.platform;
      event.topic = order.topic;
      event.dedupe_key = DedupeKey(shop, order);
      event.delivery_id = "reconcile";
      event.body = body.body;
      event.received_at_ms = clock_.NowMillis();
      Result<InboxAppendOutcome> stored = append_(std::move(event));
      if (!stored.ok()) {
        report.status = stored.status().WithContext("storing order " + order.platform_order_id);
        return report;
      }
      if (*stored == InboxAppendOutcome::kStored) {
        ++report.fed;
        spdlog::debug("reconcile: shop {} order {} ({}) fed as {}", shop.id,
                      order.platform_order_id, order.updated_at, order.topic);
      } else {
        ++report.already_seen;  // an earlier run fed this very state; not processed yet
      }
    }
    if (page.next_cursor.empty()) break;
    cursor = page.next_cursor;
  }
  report.complete = true;
  return report;
}

}  // namespace loyaltyd
