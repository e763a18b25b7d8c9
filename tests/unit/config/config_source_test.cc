#include "config/config_source.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace loyaltyd::config_source_test {
namespace {

// A config whose two fields say which version it is, so that a torn read would show.
std::shared_ptr<const Config> Version(int n) {
  Config config;
  config.admin.token = "token-" + std::to_string(n);
  config.outbox.max_attempts = n;
  return std::make_shared<const Config>(std::move(config));
}

TEST(ConfigSourceTest, ASnapshotKeepsItsConfigAfterAReplace) {
  ConfigSource source(Version(1));
  EXPECT_EQ(source.generation(), 0u);
  const std::shared_ptr<const Config> during = source.Current();
  source.Replace(Version(2));
  EXPECT_EQ(during->admin.token, "token-1") << "a unit under way keeps the config it started with";
  EXPECT_EQ(source.Current()->admin.token, "token-2");
  EXPECT_EQ(source.generation(), 1u);
}

TEST(ConfigSourceTest, UnownedServesTheCallersConfigAndNeverFreesIt) {
  Config config;
  config.admin.token = "caller-owned";
  {
    std::shared_ptr<ConfigSource> source = ConfigSource::Unowned(config);
    EXPECT_EQ(source->Current().get(), &config);
  }
  // The source and its snapshots are gone; the caller's config is intact (ASan checks this).
  EXPECT_EQ(config.admin.token, "caller-owned");
}

TEST(ConfigSourceTest, ReadersNeverSeeAMixOfTwoVersions) {
  ConfigSource source(Version(1));
  std::atomic<bool> done{false};
  std::atomic<int> torn{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < 4; ++i) {
    readers.emplace_back([&] {
      while (!done.load()) {
        const std::shared_ptr<const Config> c = source.Current();
        if (c->admin.token != "token-" + std::to_string(c->outbox.max_attempts)) ++torn;
      }
    });
  }
  for (int n = 2; n <= 2000; ++n) source.Replace(Version(n));
  done.store(true);
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(torn.load(), 0);
  EXPECT_EQ(source.Current()->outbox.max_attempts, 2000);
  EXPECT_EQ(source.generation(), 1999u);
}

}  // namespace
}  // namespace loyaltyd::config_source_test
