// ConfigReloader: what SIGHUP does. It reads the config file again and, if the new config is
// valid and changes nothing that only a restart can apply, makes it the running config in one
// step (ConfigSource::Replace): each unit of work that starts afterwards (a processing batch, a
// request, an outbox job) uses the new config, and no unit ever mixes the two.
//
// All or nothing. A reload either applies the whole file or changes nothing:
//   * an invalid file is refused, and every problem is logged at error level with its JSON
//     path, as `check-config` prints them; the daemon keeps serving with the config it has;
//   * a valid file that changes a restart-only setting (RestartOnlyChanges: the listener, the
//     worker threads, the database, the log format) is refused too, with one error line per
//     such key ("server.listen: changes need a restart; kept 127.0.0.1:8080, the file has
//     127.0.0.1:9090"). Applying the rest would leave the daemon running a config that no
//     version of the file describes, and what "reloaded" means would depend on reading the log
//     closely; refusing keeps "the running config is the file as of the last successful reload"
//     true. The restart that the key needs applies the whole file anyway.
// Everything else applies on reload: the program (earn rules, rewards, refunds and any other
// program section), the shops (secrets and their rotation, API credentials, earn_on_status,
// adding or removing a shop), admin.token (so that a leaked token can be revoked without
// downtime), the outbox retry settings, and logging.level.
// A successful reload logs one summary line: "config reloaded from F: program changed,
// 2 shops (added: b)".
//
// Thread-safety: Reload runs on one thread at a time (the daemon's signal watcher); the
// ConfigSource it replaces is safe to read from any thread meanwhile.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/config_source.h"

namespace loyaltyd {

struct ReloadResult {
  enum class Outcome {
    kApplied,       // the file is the running config now
    kInvalid,       // the file has problems; nothing changed
    kNeedsRestart,  // the file is valid but changes restart-only settings; nothing changed
  };
  Outcome outcome = Outcome::kApplied;
  // kInvalid: "json.path: reason"; kNeedsRestart: "key: changes need a restart; kept ...".
  std::vector<std::string> problems;
  // kApplied: what changed, e.g. "program changed, 2 shops (added: b)".
  std::string summary;
};

class ConfigReloader {
 public:
  // `on_applied(previous, next)` runs after a successful Replace, on the reloading thread (the
  // daemon logs which shops can issue rewards).
  ConfigReloader(std::string path, std::shared_ptr<ConfigSource> source,
                 std::function<void(const Config& previous, const Config& next)> on_applied = {});

  // Reads and validates the file, applies it or refuses it, and logs what happened.
  ReloadResult Reload();

  const std::string& path() const { return path_; }

 private:
  const std::string path_;
  const std::shared_ptr<ConfigSource> source_;
  const std::function<void(const Config&, const Config&)> on_applied_;
};

// The restart-only settings that differ between the two configs, one line per key:
// "server.threads: changes need a restart; kept 32, the file has 64". Empty when none do.
std::vector<std::string> RestartOnlyChanges(const Config& running, const Config& next);

// What a reload from `running` to `next` changes, for the log: "program changed, admin.token
// changed, 2 shops (added: b; changed: a [webhook secret])", or "no changes, 1 shop". Never
// contains a secret.
std::string DescribeReload(const Config& running, const Config& next);

}  // namespace loyaltyd
