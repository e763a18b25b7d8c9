#include "config/config_source.h"

#include <utility>

namespace loyaltyd {

ConfigSource::ConfigSource(Config config)
    : current_(std::make_shared<const Config>(std::move(config))) {}

ConfigSource::ConfigSource(std::shared_ptr<const Config> config) : current_(std::move(config)) {}

std::shared_ptr<ConfigSource> ConfigSource::Unowned(const Config& config) {
  // The aliasing constructor with an empty owner: a non-null pointer that owns nothing, so the
  // snapshots never delete the caller's Config.
  return std::make_shared<ConfigSource>(
      std::shared_ptr<const Config>(std::shared_ptr<const Config>(), &config));
}

std::shared_ptr<const Config> ConfigSource::Current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_;
}

void ConfigSource::Replace(std::shared_ptr<const Config> next) {
  std::shared_ptr<const Config> previous;
  {
    std::lock_guard<std::mutex> lock(mu_);
    previous = std::exchange(current_, std::move(next));
    ++generation_;
  }
  // `previous` is released here, outside the lock: when this was its last snapshot, freeing a
  // whole Config must not hold up readers.
}

uint64_t ConfigSource::generation() const {
  std::lock_guard<std::mutex> lock(mu_);
  return generation_;
}

}  // namespace loyaltyd
