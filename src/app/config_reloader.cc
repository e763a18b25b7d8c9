#include "app/config_reloader.h"

#include <spdlog/spdlog.h>

#include <set>
#include <utility>

#include "app/logging.h"

namespace loyaltyd {
namespace {

// A restart-only setting: its path in the file and its value as the log shows it. The daemon
// builds the listener, the HTTP worker pool, the storage and the inbox writer, and the log
// sink once, at start; these keys configure them. None of them is a secret.
struct RestartOnlyKey {
  const char* path;
  std::string (*value)(const Config&);
};

constexpr RestartOnlyKey kRestartOnlyKeys[] = {
    {"server.listen",
     [](const Config& c) { return c.server.host + ":" + std::to_string(c.server.port); }},
    {"server.max_body_bytes",
     [](const Config& c) { return std::to_string(c.server.max_body_bytes); }},
    {"server.threads", [](const Config& c) { return std::to_string(c.server.threads); }},
    {"server.keep_alive_max_requests",
     [](const Config& c) { return std::to_string(c.server.keep_alive_max_requests); }},
    {"server.keep_alive_timeout_seconds",
     [](const Config& c) { return std::to_string(c.server.keep_alive_timeout_seconds); }},
    {"server.read_timeout_seconds",
     [](const Config& c) { return std::to_string(c.server.read_timeout_seconds); }},
    {"server.request_timeout_seconds",
     [](const Config& c) { return std::to_string(c.server.request_timeout_seconds); }},
    {"server.listen_backlog",
     [](const Config& c) { return std::to_string(c.server.listen_backlog); }},
    {"storage.sqlite.path", [](const Config& c) { return c.storage.sqlite_path; }},
    {"storage.sqlite.cache_mb",
     [](const Config& c) { return std::to_string(c.storage.sqlite_cache_mb); }},
    {"storage.group_commit_max_batch",
     [](const Config& c) { return std::to_string(c.storage.group_commit_max_batch); }},
    // spdlog's default logger cannot be swapped while other threads log through it.
    {"logging.format", [](const Config& c) { return c.logging.format; }},
};

std::string Join(const std::vector<std::string>& parts, const char* separator) {
  std::string out;
  for (const std::string& part : parts) out += (out.empty() ? "" : separator) + part;
  return out;
}

// What changed in a shop, by name only: secrets are never logged.
std::vector<std::string> ShopChanges(const ShopConfig& a, const ShopConfig& b) {
  std::vector<std::string> changes;
  if (a.platform != b.platform) changes.push_back("platform");
  if (a.domain != b.domain) changes.push_back("domain");
  if (a.webhook_secret != b.webhook_secret ||
      a.previous_webhook_secret != b.previous_webhook_secret) {
    changes.push_back("webhook secret");
  }
  if (!(a.api == b.api)) changes.push_back("api");
  if (a.earn_on_status != b.earn_on_status) changes.push_back("earn_on_status");
  if (changes.empty() && !(a == b)) changes.push_back("settings");
  return changes;
}

}  // namespace

std::vector<std::string> RestartOnlyChanges(const Config& running, const Config& next) {
  std::vector<std::string> lines;
  for (const RestartOnlyKey& key : kRestartOnlyKeys) {
    const std::string kept = key.value(running);
    const std::string wanted = key.value(next);
    if (kept == wanted) continue;
    lines.push_back(std::string(key.path) + ": changes need a restart; kept " + kept +
                    ", the file has " + wanted);
  }
  return lines;
}

std::string DescribeReload(const Config& running, const Config& next) {
  std::vector<std::string> parts;
  if (!(running.program == next.program)) parts.push_back("program changed");
  if (!(running.admin == next.admin)) parts.push_back("admin.token changed");
  if (!(running.outbox == next.outbox)) parts.push_back("outbox changed");
  if (!(running.reconcile == next.reconcile)) parts.push_back("reconcile changed");
  if (!(running.events_out == next.events_out)) parts.push_back("events_out changed");
  if (running.logging.level != next.logging.level) {
    parts.push_back("logging.level " + running.logging.level + " -> " + next.logging.level);
  }

  std::vector<std::string> added, removed, changed;
  for (const ShopConfig& shop : next.shops) {
    const ShopConfig* before = running.FindShopById(shop.id);
    if (before == nullptr) {
      added.push_back(shop.id);
    } else if (!(*before == shop)) {
      changed.push_back(shop.id + " [" + Join(ShopChanges(*before, shop), ", ") + "]");
    }
  }
  for (const ShopConfig& shop : running.shops) {
    if (next.FindShopById(shop.id) == nullptr) removed.push_back(shop.id);
  }
  std::vector<std::string> shop_details;
  if (!added.empty()) shop_details.push_back("added: " + Join(added, ", "));
  if (!removed.empty()) shop_details.push_back("removed: " + Join(removed, ", "));
  if (!changed.empty()) shop_details.push_back("changed: " + Join(changed, ", "));
  // Sections this function does not name (added to Config later) still count as a change.
  const bool shops_changed = !shop_details.empty() || !(running.shops == next.shops);
  if (parts.empty() && !shops_changed && !(running == next)) parts.push_back("settings changed");

  std::string shops =
      std::to_string(next.shops.size()) + (next.shops.size() == 1 ? " shop" : " shops");
  if (!shop_details.empty()) shops += " (" + Join(shop_details, "; ") + ")";
  if (parts.empty() && !shops_changed) return "no changes, " + shops;
  parts.push_back(shops);
  return Join(parts, ", ");
}

ConfigReloader::ConfigReloader(std::string path, std::shared_ptr<ConfigSource> source,
                               std::function<void(const Config&, const Config&)> on_applied)
    : path_(std::move(path)), source_(std::move(source)), on_applied_(std::move(on_applied)) {}

ReloadResult ConfigReloader::Reload() {
  ReloadResult result;
  ConfigLoadResult loaded = LoadConfigFile(path_);
  if (!loaded.ok()) {
    result.outcome = ReloadResult::Outcome::kInvalid;
    spdlog::error("config reload from {} refused: {} problem(s); keeping the running config", path_,
                  loaded.problems.size());
    for (const ConfigProblem& problem : loaded.problems) {
      result.problems.push_back(problem.ToString());
      spdlog::error("config reload: {}", problem.ToString());
    }
    return result;
  }

  const std::shared_ptr<const Config> running = source_->Current();
  result.problems = RestartOnlyChanges(*running, loaded.config);
  if (!result.problems.empty()) {
    result.outcome = ReloadResult::Outcome::kNeedsRestart;
    for (const std::string& line : result.problems) spdlog::error("config reload: {}", line);
    spdlog::error(
        "config reload from {} refused: {} setting(s) need a restart; nothing changed (restart "
        "loyaltyd to apply the file, or put those settings back and send SIGHUP again)",
        path_, result.problems.size());
    return result;
  }

  auto next = std::make_shared<const Config>(std::move(loaded.config));
  result.summary = DescribeReload(*running, *next);
  source_->Replace(next);
  if (running->logging.level != next->logging.level) {
    // Validated by the loader, so this cannot fail; the level is the one thing held outside
    // the ConfigSource.
    Status level = SetLogLevel(next->logging.level);
    if (!level.ok()) spdlog::error("config reload: {}", level.message());
  }
  spdlog::info("config reloaded from {}: {}", path_, result.summary);
  if (on_applied_) on_applied_(*running, *next);
  return result;
}

}  // namespace loyaltyd
