#include "app/daemon.h"

#include <pthread.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <thread>

#include "actions/action_service.h"
#include "app/points_scheduler.h"
#include "app/reward_clients.h"
#include "app/tier_scheduler.h"
#include "connectors/shopify/shopify_connector.h"
#include "connectors/woocommerce/woocommerce_connector.h"
#include "http/admin_api.h"
#include "http/server_tuning.h"
#include "ledger/config_tier_policy.h"
#include "ledger/ledger.h"
#include "outbox/outbox_worker.h"
#include "rewards/redemption_service.h"
#include "storage/sqlite_storage.h"
#include "webhooks/event_processor.h"
#include "webhooks/group_committer.h"
#include "webhooks/webhook_ingest.h"

namespace loyaltyd {

struct Daemon::Components {
  std::unique_ptr<SqliteStorage> storage;
  std::unique_ptr<Ledger> ledger;
  std::unique_ptr<ShopifyConnector> shopify;
  std::unique_ptr<WooCommerceConnector> woocommerce;
  std::unique_ptr<EventProcessor> processor;
  std::unique_ptr<GroupCommitter> committer;
  std::unique_ptr<WebhookIngest> shopify_ingest;
  std::unique_ptr<WebhookIngest> woocommerce_ingest;
  std::map<std::string, std::unique_ptr<RewardClient>> reward_clients;
  std::unique_ptr<OutboxWorker> outbox;
  std::unique_ptr<RedemptionService> redemptions;
  std::unique_ptr<ActionService> actions;
  std::unique_ptr<AdminApi> admin_api;
  std::unique_ptr<TunedServer> server;
  std::unique_ptr<TierScheduler> tiers;  // VIP tiers' daily re-evaluation
  std::unique_ptr<PointsScheduler> points_scheduler;
  std::atomic<bool> stop_requested{false};
};

namespace {

sigset_t StopSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  return signals;
}

ServerTuning TuningFrom(const ServerConfig& server) {
  ServerTuning t;
  t.threads = server.threads;
  t.keep_alive_max_requests = server.keep_alive_max_requests;
  t.keep_alive_timeout_seconds = server.keep_alive_timeout_seconds;
  t.read_timeout_seconds = server.read_timeout_seconds;
  t.write_timeout_seconds = server.read_timeout_seconds;
  t.listen_backlog = server.listen_backlog;
  t.max_body_bytes = static_cast<size_t>(server.max_body_bytes);
  return t;
}

void RegisterWebhookRoute(httplib::Server& server, const std::string& path,
                          const WebhookIngest& ingest) {
  server.Post(path, [&ingest](const httplib::Request& req, httplib::Response& res) {
    WebhookRequest request{
        [&req](std::string_view name) { return req.get_header_value(std::string(name).c_str()); },
        req.body};
    IngestResponse answer = ingest.Handle(request);
    res.status = answer.http_status;
    if (answer.http_status == 503) res.set_header("Retry-After", "5");
    res.set_content(std::move(answer.body), "application/json");
  });
}

}  // namespace

Daemon::Daemon(Config config)
    : config_(std::move(config)), parts_(std::make_unique<Components>()) {}

Daemon::~Daemon() = default;

Result<std::unique_ptr<Daemon>> Daemon::Create(Config config) {
  // Block SIGTERM and SIGINT before the first thread starts (storage's checkpointer starts in
  // Open): threads inherit the mask, so only the signal watcher in Run() ever receives them.
  // A thread with them unblocked would take the default action and kill the process undrained.
  const sigset_t stop_signals = StopSignals();
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  std::unique_ptr<Daemon> daemon(new Daemon(std::move(config)));
  const Config& cfg = daemon->config_;
  Components& p = *daemon->parts_;

  Result<std::unique_ptr<SqliteStorage>> storage = SqliteStorage::Open(cfg.storage.sqlite_path);
  if (!storage.ok()) return storage.status().WithContext("opening storage");
  p.storage = std::move(storage).value();
  p.storage->SetPointsPolicy(PointsPolicyFrom(cfg.program));
  p.ledger = std::make_unique<Ledger>(cfg, *p.storage, daemon->clock_);
  p.shopify = std::make_unique<ShopifyConnector>(cfg);
  p.woocommerce = std::make_unique<WooCommerceConnector>(cfg);
  p.processor = std::make_unique<EventProcessor>(
      cfg, *p.storage, *p.ledger,
      std::map<std::string, const Normaliser*>{
          {std::string(PlatformName(Platform::kShopify)), &p.shopify->normaliser()},
          {std::string(PlatformName(Platform::kWooCommerce)), &p.woocommerce->normaliser()}});
  EventProcessor* processor = p.processor.get();
  p.committer = std::make_unique<GroupCommitter>(
      *p.storage, static_cast<size_t>(cfg.storage.group_commit_max_batch),
      [processor] { processor->Notify(); });
  p.shopify_ingest = std::make_unique<WebhookIngest>(
      Platform::kShopify, p.shopify->verifier(), *p.committer, daemon->clock_,
      static_cast<size_t>(cfg.server.max_body_bytes));
  p.woocommerce_ingest = std::make_unique<WebhookIngest>(
      Platform::kWooCommerce, p.woocommerce->verifier(), *p.committer, daemon->clock_,
      static_cast<size_t>(cfg.server.max_body_bytes));
  p.reward_clients = MakeRewardClients(cfg, daemon->clock_);
  for (const ShopConfig& shop : cfg.shops) {
    if (p.reward_clients.count(shop.id) != 0) {
      spdlog::info("shop {}: rewards are issued through {}", shop.id, shop.api.base_url);
    } else if (!cfg.program.rewards.empty()) {
      spdlog::warn("shop {}: no shops[].api credentials, so its customers cannot redeem rewards",
                   shop.id);
    }
  }
  std::map<std::string, RewardClient*> clients;
  for (auto& [shop_id, client] : p.reward_clients) clients.emplace(shop_id, client.get());
  p.outbox = std::make_unique<OutboxWorker>(cfg, *p.storage, daemon->clock_, std::move(clients));
  OutboxWorker* outbox = p.outbox.get();
  p.redemptions = std::make_unique<RedemptionService>(
      cfg, *p.storage, daemon->clock_,
      [outbox](const std::string& shop_id) { return outbox->HasClientFor(shop_id); },
      [outbox] { outbox->Wake(); });
  p.points_scheduler =
      std::make_unique<PointsScheduler>(*p.storage, daemon->clock_, std::chrono::hours(1));
  p.actions = std::make_unique<ActionService>(cfg, *p.storage, daemon->clock_);
  p.admin_api = std::make_unique<AdminApi>(
      cfg, *p.storage, daemon->clock_, *p.redemptions, [outbox] { outbox->Wake(); }, *p.actions);

  p.tiers = std::make_unique<TierScheduler>(
      *p.storage, daemon->clock_, ConfigTierPolicy::FromConfig(cfg), [outbox] { outbox->Wake(); });

  p.server = std::make_unique<TunedServer>(TuningFrom(cfg.server));
  httplib::Server& server = p.server->server();
  server.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("{\"status\":\"ok\"}", "application/json");
  });
  RegisterWebhookRoute(server, "/webhooks/shopify", *p.shopify_ingest);
  RegisterWebhookRoute(server, "/webhooks/woocommerce", *p.woocommerce_ingest);
  p.admin_api->Register(server);
  server.set_exception_handler(
      [](const httplib::Request& req, httplib::Response& res, std::exception_ptr) {
        spdlog::error("unhandled exception serving {} {}", req.method, req.path);
        res.status = 500;
        res.set_content("{\"error\":\"internal error\"}", "application/json");
      });
  return daemon;
}

void Daemon::RequestStop() {
  if (parts_->stop_requested.exchange(true)) return;
  parts_->server->Stop();
}

Status Daemon::Run() {
  Components& p = *parts_;
  // Create() blocked the stop signals before any thread started; one thread waits for them.
  const sigset_t stop_signals = StopSignals();

  Result<int> port = p.server->Bind(config_.server.host, config_.server.port);
  if (!port.ok()) return port.status();

  p.processor->Start();
  p.committer->Start();
  p.outbox->Start();
  p.tiers->Start();
  p.points_scheduler->Start();

  std::thread signal_watcher([this, stop_signals] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    if (parts_->stop_requested.load()) return;  // woken by our own kill at shutdown
    spdlog::info("received {}, draining in-flight requests", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    RequestStop();
  });

  spdlog::info("loyaltyd listening on {}:{} with {} shop(s), database {}", config_.server.host,
               *port, config_.shops.size(), config_.storage.sqlite_path);
  const bool served = p.server->ListenAfterBind();

  // The listener has closed and cpp-httplib's pool has finished every in-flight request.
  // Wake the signal watcher if no signal came (the server stopped for another reason).
  p.stop_requested.store(true);
  pthread_kill(signal_watcher.native_handle(), SIGTERM);
  signal_watcher.join();
  p.committer->Stop();
  p.processor->Stop();
  p.outbox->Stop();
  p.tiers->Stop();
  p.points_scheduler->Stop();
  GroupCommitter::Stats stats = p.committer->stats();
  const OutboxWorker::Stats outbox = p.outbox->stats();
  spdlog::info(
      "loyaltyd stopped: {} webhook(s) stored in {} commit(s), {} event(s) processed; outbox: {} "
      "reward(s) issued, {} rejected, {} retried, {} given up",
      stats.events, stats.batches, p.processor->processed_total(), outbox.issued, outbox.rejected,
      outbox.retried, outbox.abandoned);
  return served ? Status::Ok() : Internal("HTTP server stopped unexpectedly");
}

}  // namespace loyaltyd
