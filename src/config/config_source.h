// ConfigSource: the configuration the daemon runs with now, replaced whole when a reload
// (SIGHUP) brings a valid new one.
//
// Components never keep a `const Config&` across units of work. Each takes a snapshot with
// Current() when a unit starts (a processing batch, an HTTP request, an outbox job) and uses
// only that snapshot until the unit ends, so a reload never mixes two configs inside one unit:
// a batch decided under the old earn rate is committed under the old earn rate, and the next
// batch sees the new one. A snapshot keeps its Config alive, so Replace() never pulls a config
// from under a unit that is still using it; the old Config is freed when its last snapshot is.
//
// Thread-safety: Current() and Replace() may be called from any thread. Current() costs a short
// mutex hold and one reference-count increment: cheap enough for every webhook.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>

#include "config/config.h"

namespace loyaltyd {

class ConfigSource {
 public:
  explicit ConfigSource(Config config);
  explicit ConfigSource(std::shared_ptr<const Config> config);

  ConfigSource(const ConfigSource&) = delete;
  ConfigSource& operator=(const ConfigSource&) = delete;

  // A source that always serves `config`, which the caller owns and keeps alive and unchanged
  // for as long as the source is used (components constructed from a plain `const Config&`).
  static std::shared_ptr<ConfigSource> Unowned(const Config& config);

  // The configuration to use for one unit of work. Never null.
  std::shared_ptr<const Config> Current() const;

  // Makes `next` (already validated, never null) the configuration of every unit that starts
  // from now on. Units under way keep the snapshot they took.
  void Replace(std::shared_ptr<const Config> next);

  // How many times Replace() has been called: 0 for the configuration loaded at start.
  uint64_t generation() const;

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const Config> current_;  // GUARDED_BY(mu_)
  uint64_t generation_ = 0;                // GUARDED_BY(mu_)
};

}  // namespace loyaltyd
