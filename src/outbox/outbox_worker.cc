#include "outbox/outbox_worker.h"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

namespace loyaltyd {
namespace {

constexpr size_t kJobsPerRound = 16;

std::string Describe(const PlatformResponse& response) {
  std::string text = response.status.ToString();
  if (!response.error_detail.empty() &&
      response.status.message().find(response.error_detail) == std::string::npos) {
    text += " (" + response.error_detail + ")";
  }
  return text;
}

bool IsTransient(const Status& status) {
  return status.code() == StatusCode::kUnavailable || status.code() == StatusCode::kUnauthenticated;
}

RewardRequest BuildRequest(const RedemptionRecord& redemption, const CustomerRecord& customer,
                           const OutboxJob& job, int currency_exponent) {
  RewardRequest request;
  request.idempotency_key = job.idempotency_key;
  request.kind = ParseRewardKind(redemption.reward_kind).value_or(RewardKind::kFixedDiscount);
  request.code = redemption.code;
  request.title =
      redemption.reward_name + " (loyalty redemption " + std::to_string(redemption.id) + ")";
  request.currency = redemption.currency;
  request.currency_exponent = currency_exponent;
  request.amount_minor = redemption.value_minor;
  request.percentage = redemption.percentage;
  request.minimum_order_minor = redemption.minimum_order_minor;
  request.starts_at_ms = redemption.created_at_ms;
  request.ends_at_ms = redemption.expires_at_ms;
  request.restrict_to_customer = redemption.restrict_to_customer;
  request.customer_platform_id = customer.platform_customer_id;
  request.customer_email = customer.email;
  return request;
}

// Shared membership: the account of `member_id` on `shop_id` (the member's own row when it is
// on that shop, as for every customer of one store); nullopt when it has none there.
Result<std::optional<CustomerRecord>> OutboxAccountOnShop(Storage& storage, int64_t member_id,
                                                          const std::string& shop_id) {
  Result<std::optional<MembershipRecord>> membership = storage.GetMembership(member_id);
  if (!membership.ok()) return membership.status();
  if (!membership->has_value()) return std::optional<CustomerRecord>();
  for (CustomerRecord& account : (*membership)->accounts) {
    if (account.shop_id == shop_id) return std::optional<CustomerRecord>(std::move(account));
  }
  return std::optional<CustomerRecord>();
}
}  // namespace

OutboxWorker::OutboxWorker(std::shared_ptr<const ConfigSource> config, Storage& storage,
                           const Clock& clock, RewardClientFactory make_clients)
    : config_(std::move(config)),
      storage_(storage),
      clock_(clock),
      make_clients_(std::move(make_clients)),
      random_(std::random_device{}()) {
  RefreshClients(config_->Current());
}

OutboxWorker::OutboxWorker(const Config& config, Storage& storage, const Clock& clock,
                           std::map<std::string, RewardClient*> clients)
    : config_(ConfigSource::Unowned(config)),
      storage_(storage),
      clock_(clock),
      clients_(std::move(clients)),
      random_(std::random_device{}()) {}

OutboxWorker::~OutboxWorker() { Stop(); }

void OutboxWorker::Start() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = false;
  }
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "ld-outbox");
    Loop();
  });
}

void OutboxWorker::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void OutboxWorker::Wake() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

bool OutboxWorker::HasClientFor(const std::string& shop_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  return clients_.count(shop_id) != 0;
}

void OutboxWorker::RefreshClients(const std::shared_ptr<const Config>& config) {
  if (!make_clients_ || config == clients_config_) return;
  std::map<std::string, std::unique_ptr<RewardClient>> owned = make_clients_(*config);
  std::map<std::string, RewardClient*> clients;
  for (auto& [shop_id, client] : owned) clients.emplace(shop_id, client.get());
  {
    std::lock_guard<std::mutex> lock(mu_);
    clients_config_ = config;
    clients_.swap(clients);
    owned_clients_.swap(owned);
  }
  // The previous clients (now in `owned`) are destroyed here, after the swap: no job is using
  // them, since jobs run on this thread.
}

OutboxWorker::Stats OutboxWorker::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

int64_t OutboxWorker::BackoffMs(int attempts, int64_t initial_ms, int64_t max_ms,
                                int64_t retry_after_ms, double unit_random) {
  int64_t delay = initial_ms;
  for (int i = 1; i < attempts && delay < max_ms; ++i) delay *= 2;
  delay = std::min(delay, max_ms);
  const int64_t half = delay / 2;
  delay = half + static_cast<int64_t>(static_cast<double>(delay - half) * unit_random);
  return std::max(delay, retry_after_ms);
}

void OutboxWorker::Loop() {
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
      woken_ = false;
    }
    Result<int> handled = RunOnce();
    if (!handled.ok()) {
      spdlog::warn("outbox: cannot load due jobs: {}", handled.status().ToString());
    }
    if (handled.ok() && *handled > 0) continue;  // there may be more due
    const int poll_interval_ms = config_->Current()->outbox.poll_interval_ms;
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(poll_interval_ms),
                 [&] { return stopping_ || woken_; });
  }
}

Result<int> OutboxWorker::RunOnce() {
  Result<std::vector<OutboxJob>> due = storage_.LoadDueJobs(clock_.NowMillis(), kJobsPerRound);
  if (!due.ok()) return due.status();
  int handled = 0;
  for (const OutboxJob& job : *due) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) break;
    }
    if (HandleJob(job)) ++handled;
  }
  return handled;
}

bool OutboxWorker::HandleJob(const OutboxJob& job) {
  const int64_t now = clock_.NowMillis();
  if (job.kind == "update_tags") return HandleTagJob(job);
  if (job.kind == "event_out") return HandleEventJob(job);  // events out (outbox_events.cc)
  if (job.kind != "issue_reward") {
    Status st = storage_.AbandonJob(job.id, "unknown job kind '" + job.kind + "'", now);
    if (!st.ok()) spdlog::error("outbox: job {}: {}", job.id, st.ToString());
    return st.ok();
  }
  // One snapshot for the whole job: its shop, its client and the retry settings.
  const std::shared_ptr<const Config> config = config_->Current();
  RefreshClients(config);
  const ShopConfig* shop = config->FindShopById(job.shop_id);
  auto client_it = clients_.find(job.shop_id);
  if (shop == nullptr || client_it == clients_.end()) {
    // The config changed under a queued job. Keep it (and its points) for the merchant.
    const std::string why = "shop '" + job.shop_id +
                            "' has no admin API client (missing from the config or without "
                            "shops[].api); fix the config, reload it (SIGHUP) or restart, then "
                            "retry the job";
    spdlog::error("outbox: job {}: {}", job.id, why);
    Status st = storage_.AbandonJob(job.id, why, now);
    if (!st.ok()) spdlog::error("outbox: job {}: {}", job.id, st.ToString());
    return st.ok();
  }
  RewardClient& client = *client_it->second;

  Result<std::optional<RedemptionRecord>> redemption = storage_.GetRedemption(job.redemption_id);
  // Shared membership (rewards/member_shop.h): the redemption is the member's; the reward is
  // for the member's account on the redemption's shop.
  Result<std::optional<CustomerRecord>> customer =
      redemption.ok() && redemption->has_value()
          ? OutboxAccountOnShop(storage_, (*redemption)->customer_id, (*redemption)->shop_id)
          : Result<std::optional<CustomerRecord>>(std::optional<CustomerRecord>());
  if (!redemption.ok() || !customer.ok()) {
    spdlog::warn("outbox: job {}: cannot read its redemption; will retry", job.id);
    return false;  // still pending and due: the next poll tries again
  }
  if (!redemption->has_value() || !customer->has_value()) {
    Status st = storage_.AbandonJob(job.id, "its redemption or customer is missing", now);
    if (!st.ok()) spdlog::error("outbox: job {}: {}", job.id, st.ToString());
    return st.ok();
  }
  const RewardRequest request =
      BuildRequest(**redemption, **customer, job, config->program.currency_exponent);

  // After a crash the job is due again once the lease passes. In this process the lease never
  // matters: the one worker thread settles the job before it looks for due jobs again.
  const int64_t lease_ms = int64_t{shop->api.timeout_seconds} * 1000 + 1000;
  Result<int> attempt = storage_.BeginJobAttempt(job.id, now + lease_ms, now);
  if (!attempt.ok()) {
    spdlog::warn("outbox: job {}: cannot start attempt: {}", job.id, attempt.status().ToString());
    return false;
  }

  if (*attempt > 1) {
    PlatformResponse found = client.FindReward(request);
    if (found.status.ok() && !found.platform_reward_id.empty()) {
      spdlog::info("outbox: job {}: reward already exists in shop {} ({}); not creating it again",
                   job.id, job.shop_id, found.platform_reward_id);
      if (found.code.empty()) found.code = request.code;
      Settle(job, *attempt, found, config->outbox);
      return true;
    }
    if (!found.status.ok()) {
      // Not knowing is never a reason to refund: the reward may exist. Retry, and in the end
      // leave it to the merchant.
      if (!IsTransient(found.status)) {
        found.status = Unavailable("cannot tell whether an earlier attempt created the reward: " +
                                   found.status.message());
      }
      Settle(job, *attempt, found, config->outbox);
      return true;
    }
  }
  PlatformResponse created = client.CreateReward(request);
  if (created.status.ok() && created.code.empty()) created.code = request.code;
  Settle(job, *attempt, created, config->outbox);
  return true;
}

// VIP tier tags. Adding and removing tags is idempotent on the platform, so a retry simply
// sends again; the tags sent are those of the customer's newest tag job (Storage::GetTagUpdate),
// so that an older job retried after a newer one never puts back a tier the customer has left.
// A rejection fails the job (visible in GET /api/v1/jobs?status=failed); nothing is refunded.
bool OutboxWorker::HandleTagJob(const OutboxJob& job) {
  const int64_t now = clock_.NowMillis();
  // One snapshot for the whole job, as for rewards.
  const std::shared_ptr<const Config> config = config_->Current();
  RefreshClients(config);
  auto client_it = clients_.find(job.shop_id);
  const ShopConfig* shop = config->FindShopById(job.shop_id);
  if (shop == nullptr || client_it == clients_.end()) {
    const std::string why =
        "shop '" + job.shop_id +
        "' has no admin API client (missing from the config or without "
        "shops[].api); fix the config, reload it (SIGHUP) or restart, then retry the job";
    Status st = storage_.AbandonJob(job.id, why, now);
    if (!st.ok()) spdlog::error("outbox: job {}: {}", job.id, st.ToString());
    return st.ok();
  }
  Result<std::optional<TagUpdate>> update = storage_.GetTagUpdate(job.id);
  if (!update.ok()) {
    spdlog::warn("outbox: job {}: cannot read its tags; will retry", job.id);
    return false;
  }
  if (!update->has_value() || (*update)->platform_customer_id.empty()) {
    Status st = storage_.AbandonJob(job.id, "its tags or platform customer are missing", now);
    if (!st.ok()) spdlog::error("outbox: job {}: {}", job.id, st.ToString());
    return st.ok();
  }
  const int64_t lease_ms = int64_t{shop->api.timeout_seconds} * 1000 + 1000;
  Result<int> attempt = storage_.BeginJobAttempt(job.id, now + lease_ms, now);
  if (!attempt.ok()) {
    spdlog::warn("outbox: job {}: cannot start attempt: {}", job.id, attempt.status().ToString());
    return false;
  }
  CustomerTagsRequest request;
  request.idempotency_key = job.idempotency_key;
  request.customer_platform_id = (*update)->platform_customer_id;
  request.add = (*update)->add;
  request.remove = (*update)->remove;
  const PlatformResponse response = client_it->second->UpdateCustomerTags(request);
  Status st;
  const int64_t settled_at = clock_.NowMillis();
  if (response.status.ok()) {
    st = storage_.CompleteTagJob(job.id, settled_at);
    spdlog::info("outbox: job {} done: tier tags of customer {} updated in shop {}", job.id,
                 request.customer_platform_id, job.shop_id);
  } else if (IsTransient(response.status) && *attempt < config->outbox.max_attempts) {
    const double unit = std::uniform_real_distribution<double>(0.0, 1.0)(random_);
    const int64_t delay = BackoffMs(*attempt, config->outbox.initial_backoff_ms,
                                    config->outbox.max_backoff_ms, response.retry_after_ms, unit);
    st = storage_.RescheduleJob(job.id, settled_at + delay, Describe(response), settled_at);
    spdlog::warn("outbox: job {} attempt {} failed: {}; retrying in {} ms", job.id, *attempt,
                 Describe(response), delay);
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.retried;
  } else {
    st = storage_.AbandonJob(job.id, Describe(response), settled_at);
    spdlog::error("outbox: job {}: shop {} did not take the tier tags: {}", job.id, job.shop_id,
                  Describe(response));
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.abandoned;
  }
  if (!st.ok()) spdlog::error("outbox: job {}: cannot record outcome: {}", job.id, st.ToString());
  return true;
}

void OutboxWorker::Settle(const OutboxJob& job, int attempt, const PlatformResponse& response,
                          const OutboxConfig& retry) {
  const int64_t now = clock_.NowMillis();
  Status st;
  if (response.status.ok()) {
    st = storage_.CompleteRewardJob(job.id, response.platform_reward_id, response.code, now);
    if (st.ok()) {
      spdlog::info("outbox: job {} done: redemption {} issued in shop {} as {}", job.id,
                   job.redemption_id, job.shop_id,
                   response.code.empty() ? response.platform_reward_id : response.code);
      std::lock_guard<std::mutex> lock(mu_);
      ++stats_.issued;
    }
  } else if (IsTransient(response.status)) {
    const std::string error = Describe(response);
    if (attempt >= retry.max_attempts) {
      st = storage_.AbandonJob(job.id, error, now);
      spdlog::error(
          "outbox: job {} given up after {} attempts: {}; the redemption keeps its points (or "
          "credit) until the job is retried (POST /api/v1/jobs/{}/retry)",
          job.id, attempt, error, job.id);
      std::lock_guard<std::mutex> lock(mu_);
      ++stats_.abandoned;
    } else {
      const double unit = std::uniform_real_distribution<double>(0.0, 1.0)(random_);
      const int64_t delay = BackoffMs(attempt, retry.initial_backoff_ms, retry.max_backoff_ms,
                                      response.retry_after_ms, unit);
      st = storage_.RescheduleJob(job.id, now + delay, error, now);
      spdlog::warn("outbox: job {} attempt {} failed: {}; retrying in {} ms", job.id, attempt,
                   error, delay);
      std::lock_guard<std::mutex> lock(mu_);
      ++stats_.retried;
    }
  } else {
    const std::string reason =
        response.error_detail.empty() ? response.status.message() : response.error_detail;
    st = storage_.FailRewardJob(job.id, reason, now);
    spdlog::warn(
        "outbox: job {}: shop {} rejected redemption {}: {}; points (or store credit) returned",
        job.id, job.shop_id, job.redemption_id, reason);
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.rejected;
  }
  // The job stays pending with its lease: it is retried once the lease passes.
  if (!st.ok()) spdlog::error("outbox: job {}: cannot record outcome: {}", job.id, st.ToString());
}

}  // namespace loyaltyd
