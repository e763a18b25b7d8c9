#include "app/daemon.h"

#include <pthread.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <thread>

#include "actions/action_service.h"
#include "app/config_reloader.h"
#include "app/events_out_policy.h"
#include "app/points_scheduler.h"
#include "app/reconcile_scheduler.h"
#include "app/reward_clients.h"
#include "app/tier_scheduler.h"
#include "connectors/shopify/shopify_connector.h"
#include "connectors/woocommerce/woocommerce_connector.h"
#include "http/admin_api.h"
#include "http/privacy_api.h"
#include "http/route_table.h"
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
  std::unique_ptr<ShopifyConnector> shopify;
  std::unique_ptr<WooCommerceConnector> woocommerce;
  std::unique_ptr<EventProcessor> processor;
  std::unique_ptr<GroupCommitter> committer;
  std::unique_ptr<WebhookIngest> shopify_ingest;
  std::unique_ptr<WebhookIngest> woocommerce_ingest;
  std::unique_ptr<OutboxWorker> outbox;
  std::unique_ptr<RedemptionService> redemptions;
  std::unique_ptr<ActionService> actions;
  std::unique_ptr<ReferralService> referrals;
  std::unique_ptr<AdminApi> admin_api;
  std::unique_ptr<PrivacyApi> privacy_api;  // issue 7: exports, redaction, shop state
  std::unique_ptr<TunedServer> server;
  std::unique_ptr<RouteTable> routes;        // every route added to `server`, for routes()
  std::unique_ptr<TierScheduler> tiers;      // VIP tiers' daily re-evaluation
  std::unique_ptr<ConfigReloader> reloader;  // null without a config file
  std::unique_ptr<PointsScheduler> points_scheduler;
  std::unique_ptr<ReconcileScheduler> reconcile;  // missed webhooks (config `reconcile`)
  std::atomic<bool> stop_requested{false};
};

namespace {

// The signals the signal watcher waits for: SIGTERM and SIGINT stop, SIGHUP reloads.
sigset_t WatchedSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  return signals;
}

// One line per shop: whether its customers can redeem rewards, and through which API.
void LogRewardAvailability(const Config& config, const ShopConfig& shop) {
  if (shop.api.configured) {
    spdlog::info("shop {}: rewards are issued through {}", shop.id, shop.api.base_url);
  } else if (!config.program.rewards.empty()) {
    spdlog::warn("shop {}: no shops[].api credentials, so its customers cannot redeem rewards",
                 shop.id);
  }
}

ServerTuning TuningFrom(const ServerConfig& server) {
  ServerTuning t;
  t.threads = server.threads;
  t.keep_alive_max_requests = server.keep_alive_max_requests;
  t.keep_alive_timeout_seconds = server.keep_alive_timeout_seconds;
  t.read_timeout_seconds = server.read_timeout_seconds;
  t.write_timeout_seconds = server.read_timeout_seconds;
  t.request_timeout_seconds = server.request_timeout_seconds;
  t.listen_backlog = server.listen_backlog;
  t.max_body_bytes = static_cast<size_t>(server.max_body_bytes);
  return t;
}

void RegisterWebhookRoute(RouteTable& server, const std::string& path,
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

Daemon::Daemon(Config config, std::string config_path)
    : boot_config_(std::make_shared<const Config>(std::move(config))),
      config_source_(std::make_shared<ConfigSource>(boot_config_)),
      config_path_(std::move(config_path)),
      parts_(std::make_unique<Components>()) {}

Daemon::~Daemon() = default;

Result<std::unique_ptr<Daemon>> Daemon::Create(Config config, std::string config_path) {
  // Block SIGTERM, SIGINT and SIGHUP before the first thread starts (storage's checkpointer
  // starts in Open): threads inherit the mask, so only the signal watcher in Run() ever
  // receives them. A thread with them unblocked would take the default action and kill the
  // process undrained (SIGHUP's default action is to terminate, too). A SIGHUP that comes
  // before the watcher runs stays pending and is handled when it starts.
  const sigset_t watched = WatchedSignals();
  pthread_sigmask(SIG_BLOCK, &watched, nullptr);
  // A file size limit (RLIMIT_FSIZE, systemd's LimitFSIZE=) must fail the write (EFBIG, which
  // storage reports as unavailable: 503 and a log line), like a full disk; by default SIGXFSZ
  // would kill the daemon instead.
  signal(SIGXFSZ, SIG_IGN);

  std::unique_ptr<Daemon> daemon(new Daemon(std::move(config), std::move(config_path)));
  // Restart-only settings (storage, server) are read from the boot config; everything else
  // takes a snapshot of the source per unit of work.
  const Config& cfg = *daemon->boot_config_;
  const std::shared_ptr<ConfigSource>& source = daemon->config_source_;
  Components& p = *daemon->parts_;

  Result<std::unique_ptr<SqliteStorage>> storage = SqliteStorage::Open(
      cfg.storage.sqlite_path, /*read_connections=*/4, cfg.storage.sqlite_cache_mb);
  if (!storage.ok()) return storage.status().WithContext("opening storage");
  p.storage = std::move(storage).value();
  // The points policy (program.expiry) is held by storage, outside the ConfigSource: set here
  // and again by every applied reload (below).
  p.storage->SetPointsPolicy(PointsPolicyFrom(cfg.program));
  p.storage->SetEventsOutPolicy(EventsOutPolicyFrom(cfg));  // events out, likewise
  p.shopify = std::make_unique<ShopifyConnector>(source);
  p.woocommerce = std::make_unique<WooCommerceConnector>(source);
  p.processor = std::make_unique<EventProcessor>(
      source, *p.storage, daemon->clock_,
      std::map<std::string, const Normaliser*>{
          {std::string(PlatformName(Platform::kShopify)), &p.shopify->normaliser()},
          {std::string(PlatformName(Platform::kWooCommerce)), &p.woocommerce->normaliser()}});
  EventProcessor* processor = p.processor.get();
  p.committer = std::make_unique<GroupCommitter>(
      *p.storage, static_cast<size_t>(cfg.storage.group_commit_max_batch),
      [processor] { processor->NotifyInboxCommit(); });
  p.shopify_ingest = std::make_unique<WebhookIngest>(
      Platform::kShopify, p.shopify->verifier(), *p.committer, daemon->clock_,
      static_cast<size_t>(cfg.server.max_body_bytes));
  p.woocommerce_ingest = std::make_unique<WebhookIngest>(
      Platform::kWooCommerce, p.woocommerce->verifier(), *p.committer, daemon->clock_,
      static_cast<size_t>(cfg.server.max_body_bytes));
  for (const ShopConfig& shop : cfg.shops) LogRewardAvailability(cfg, shop);
  // The worker builds each config's clients (MakeRewardClients) when it first uses that config.
  const Clock& clock = daemon->clock_;
  p.outbox = std::make_unique<OutboxWorker>(
      source, *p.storage, clock,
      [&clock](const Config& config) { return MakeRewardClients(config, clock); });
  OutboxWorker* outbox = p.outbox.get();
  p.redemptions = std::make_unique<RedemptionService>(
      source, *p.storage, clock,
      // MakeRewardClients builds a client for exactly the shops with shops[].api.
      [](const ShopConfig& shop) { return shop.api.configured; }, [outbox] { outbox->Wake(); });
  p.referrals = std::make_unique<ReferralService>(source, *p.storage, clock);
  p.points_scheduler = std::make_unique<PointsScheduler>(*p.storage, clock, std::chrono::hours(1),
                                                         p.referrals.get());
  p.actions = std::make_unique<ActionService>(source, *p.storage, clock);
  p.admin_api = std::make_unique<AdminApi>(
      source, *p.storage, clock, *p.redemptions, [outbox] { outbox->Wake(); }, *p.actions,
      *p.referrals);
  p.privacy_api =
      std::make_unique<PrivacyApi>(source, *p.storage, clock, [processor] { processor->Notify(); });
  if (!daemon->config_path_.empty()) {
    SqliteStorage* storage_ptr = p.storage.get();
    p.reloader = std::make_unique<ConfigReloader>(
        daemon->config_path_, source,
        [outbox, storage_ptr](const Config& previous, const Config& next) {
          // Lots made from now on, and the next expiry run, take the reloaded program.expiry
          // (program.award is read by each processing batch from its own snapshot).
          storage_ptr->SetPointsPolicy(PointsPolicyFrom(next.program));
          // Events out: events queued from now on go to the reloaded endpoints.
          storage_ptr->SetEventsOutPolicy(EventsOutPolicyFrom(next));
          for (const ShopConfig& shop : next.shops) {
            const ShopConfig* before = previous.FindShopById(shop.id);
            if (before == nullptr || !(before->api == shop.api)) LogRewardAvailability(next, shop);
          }
          outbox->Wake();  // jobs waiting for a shop's new credentials go now
        });
  }

  // Reconciled orders go through the webhooks' own inbox writer, which wakes the processor.
  GroupCommitter* committer = p.committer.get();
  p.reconcile = std::make_unique<ReconcileScheduler>(
      source, *p.storage, clock,
      [committer](NewInboxEvent event) { return committer->Append(std::move(event)); });

  p.tiers = std::make_unique<TierScheduler>(
      *p.storage, daemon->clock_,
      [source] { return ConfigTierPolicy::FromConfig(*source->Current()); },
      [outbox] { outbox->Wake(); });

  p.server = std::make_unique<TunedServer>(TuningFrom(cfg.server));
  p.routes = std::make_unique<RouteTable>(p.server->server());
  RouteTable& server = *p.routes;  // adds each route to the server and records it
  // 503 while the database refuses writes (disk full, read-only): webhooks and admin writes
  // then answer 503 too, and a monitor or load balancer should see it. The reason is in the
  // log (and in /api/v1/stats), not here: /healthz needs no token.
  SqliteStorage* storage_ptr = p.storage.get();
  server.Get("/healthz", [storage_ptr](const httplib::Request&, httplib::Response& res) {
    if (storage_ptr->CheckWritable().writable) {
      res.set_content("{\"status\":\"ok\"}", "application/json");
      return;
    }
    res.status = 503;
    res.set_header("Retry-After", "5");
    res.set_content("{\"status\":\"unavailable\",\"storage\":\"not writable\"}",
                    "application/json");
  });
  RegisterWebhookRoute(server, "/webhooks/shopify", *p.shopify_ingest);
  RegisterWebhookRoute(server, "/webhooks/woocommerce", *p.woocommerce_ingest);
  p.admin_api->Register(server);
  p.privacy_api->Register(server);
  p.server->server().set_exception_handler(
      [](const httplib::Request& req, httplib::Response& res, std::exception_ptr) {
        spdlog::error("unhandled exception serving {} {}", req.method, req.path);
        res.status = 500;
        res.set_content("{\"error\":\"internal error\"}", "application/json");
      });
  return daemon;
}

const std::vector<RouteEntry>& Daemon::routes() const { return parts_->routes->routes(); }

void Daemon::Reload() {
  if (!parts_->reloader) {
    spdlog::warn("received SIGHUP, but the daemon was not started from a config file");
    return;
  }
  spdlog::info("received SIGHUP, reloading {}", parts_->reloader->path());
  try {
    (void)parts_->reloader->Reload();
  } catch (const std::exception& e) {
    // The signal watcher must survive a reload gone wrong: it is also what stops the daemon.
    spdlog::error("config reload failed: {}; keeping the running config", e.what());
  }
}

void Daemon::RequestStop() {
  if (parts_->stop_requested.exchange(true)) return;
  parts_->server->Stop();
}

Status Daemon::Run() {
  Components& p = *parts_;
  // Create() blocked the watched signals before any thread started; one thread waits for them.
  const sigset_t watched = WatchedSignals();
  const Config& boot = *boot_config_;

  Result<int> port = p.server->Bind(boot.server.host, boot.server.port);
  if (!port.ok()) return port.status();

  p.processor->Start();
  p.committer->Start();
  p.outbox->Start();
  p.tiers->Start();
  p.points_scheduler->Start();
  p.reconcile->Start();

  std::thread signal_watcher([this, watched] {
    pthread_setname_np(pthread_self(), "ld-signals");
    for (;;) {
      int sig = 0;
      sigwait(&watched, &sig);
      if (parts_->stop_requested.load()) return;  // woken by our own kill at shutdown
      if (sig == SIGHUP) {
        Reload();
        continue;
      }
      spdlog::info("received {}, draining in-flight requests",
                   sig == SIGTERM ? "SIGTERM" : "SIGINT");
      RequestStop();
      return;
    }
  });

  spdlog::info("loyaltyd listening on {}:{} with {} shop(s), database {}", boot.server.host, *port,
               boot.shops.size(), boot.storage.sqlite_path);
  const bool served = p.server->ListenAfterBind();

  // The listener has closed and cpp-httplib's pool has finished every in-flight request.
  // Wake the signal watcher if no signal came (the server stopped for another reason).
  p.stop_requested.store(true);
  pthread_kill(signal_watcher.native_handle(), SIGTERM);
  signal_watcher.join();
  // Before the inbox writer: a pass in hand stops at its next order or wait, and what it fed
  // is committed by the writer's own stop.
  p.reconcile->Stop();
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
