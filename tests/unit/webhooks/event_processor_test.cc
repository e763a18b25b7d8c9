#include "webhooks/event_processor.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <functional>
#include <memory>
#include <string>

#include "connectors/shopify/shopify_normaliser.h"
#include "connectors/shopify/shopify_samples.h"
#include "storage/sqlite_storage.h"
#include "support/temp_dir.h"

namespace loyaltyd::event_processor_test {
namespace {

class FixedClock final : public Clock {
 public:
  int64_t NowMillis() const override { return 1'767'261'600'000; }
};

// The Shopify normaliser, with a hook that runs before each event it normalises: a way to make
// a reload land in the middle of a batch.
class HookedNormaliser final : public Normaliser {
 public:
  Result<NormalisedEvent> Normalise(const ShopConfig& shop, std::string_view topic,
                                    std::string_view body) const override {
    if (before_each) before_each();
    return shopify.Normalise(shop, topic, body);
  }
  std::function<void()> before_each;
  ShopifyNormaliser shopify;
};

Config ConfigEarning(int64_t points_per_dollar) {
  Config config;
  ShopConfig shop;
  shop.id = "main";
  shop.domain = "main.myshopify.com";
  shop.webhook_secret = "secret";
  config.shops.push_back(shop);
  config.program.currency = "USD";
  config.program.earn.push_back(EarnRule{"spend", EarnRuleType::kSpend, points_per_dollar, 100});
  return config;
}

class EventProcessorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = SqliteStorage::Open(dir_.File("loyaltyd.db"));
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    storage_ = std::move(opened).value();
  }
  // Stores an orders/paid of 10.00 for customer `n` (n@example.com).
  void StorePaidOrder(int n) {
    ShopifySampleOptions options;
    options.order_id = 5000 + static_cast<uint64_t>(n);
    options.customer_id = 7000 + static_cast<uint64_t>(n);
    options.email = std::to_string(n) + "@example.com";
    options.subtotal = "10.00";
    Result<std::string> body = ShopifySampleBody("orders/paid", options);
    ASSERT_TRUE(body.ok());
    const std::string key = "shopify|main|orders/paid|evt-" + std::to_string(n);
    ASSERT_TRUE(storage_
                    ->AppendToInbox({NewInboxEvent{"main", "shopify", "orders/paid", key, key,
                                                   *body, 1'767'261'600'000}})
                    .ok());
  }
  int64_t Balance(int n) {
    auto found = storage_->FindCustomersByEmail(std::to_string(n) + "@example.com");
    EXPECT_TRUE(found.ok());
    return found->size() == 1 ? (*found)[0].points_balance : -1;
  }

  testing::TempDir dir_;
  FixedClock clock_;
  std::unique_ptr<SqliteStorage> storage_;
};

TEST_F(EventProcessorTest, AReloadDuringABatchAppliesFromTheNextBatch) {
  auto source = std::make_shared<ConfigSource>(ConfigEarning(1));
  HookedNormaliser normaliser;
  bool reloaded = false;
  normaliser.before_each = [&] {
    if (reloaded) return;
    reloaded = true;  // SIGHUP lands while the first batch is being decided
    source->Replace(std::make_shared<const Config>(ConfigEarning(10)));
  };
  for (int n = 1; n <= 3; ++n) StorePaidOrder(n);
  EventProcessor processor(source, *storage_, clock_, {{"shopify", &normaliser}},
                           /*batch_size=*/2);

  Result<size_t> processed = processor.ProcessPending();
  ASSERT_TRUE(processed.ok());
  EXPECT_EQ(*processed, 3u);
  // The first batch (orders 1 and 2) started under 1 point per dollar and keeps it throughout;
  // the second batch is the first to see the new rate.
  EXPECT_EQ(Balance(1), 10);
  EXPECT_EQ(Balance(2), 10);
  EXPECT_EQ(Balance(3), 100);
}

TEST_F(EventProcessorTest, AnEventOfAShopRemovedByAReloadFailsSayingSo) {
  auto source = std::make_shared<ConfigSource>(ConfigEarning(1));
  HookedNormaliser normaliser;
  EventProcessor processor(source, *storage_, clock_, {{"shopify", &normaliser}});
  Config without_shop = ConfigEarning(1);
  without_shop.shops.clear();
  source->Replace(std::make_shared<const Config>(without_shop));
  StorePaidOrder(1);
  ASSERT_TRUE(processor.ProcessPending().ok());
  auto failed = storage_->ListEvents(EventStatus::kFailed, 0, 10);
  ASSERT_TRUE(failed.ok());
  ASSERT_EQ(failed->size(), 1u);
  EXPECT_NE(failed->front().status_reason.find("shop 'main' is no longer in the config"),
            std::string::npos)
      << failed->front().status_reason;
}

// The inbox and the processor share the one database writer: while webhooks are being
// committed a batch is kept short, so that the next inbox commit waits less behind it; with the
// inbox quiet, batches are full again.
TEST_F(EventProcessorTest, BatchesAreShortWhileWebhooksAreBeingCommitted) {
  auto source = std::make_shared<ConfigSource>(ConfigEarning(1));
  HookedNormaliser normaliser;
  EventProcessor processor(source, *storage_, clock_, {{"shopify", &normaliser}},
                           /*batch_size=*/64);
  for (int n = 1; n <= 150; ++n) StorePaidOrder(n);

  processor.NotifyInboxCommit();
  Result<size_t> first = processor.ProcessBatch();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(*first, EventProcessor::kBatchSizeWhileIngesting);
  // No inbox commit since that batch began: the inbox is quiet.
  Result<size_t> second = processor.ProcessBatch();
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, 64u);
  // Several commits count as one sign; Notify alone (privacy work) is none.
  processor.NotifyInboxCommit();
  processor.NotifyInboxCommit();
  Result<size_t> third = processor.ProcessBatch();
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(*third, EventProcessor::kBatchSizeWhileIngesting);
  processor.Notify();
  Result<size_t> rest = processor.ProcessBatch();
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(*rest, 150u - 16u - 64u - 16u);
  EXPECT_EQ(Balance(150), 10);  // every event applied, the last one too
}

// SQLite keeps what a savepoint or statement would roll back in a sub-journal, spilled to a
// temporary file past a threshold (SQLite's default 64 KiB; loyaltyd's 8 MiB): every batch of
// events passed the default, and 57 pwrite calls per processed event went to such files. The
// files are unlinked as soon as they are opened, so the test points SQLite's temporary
// directory at one of its own and watches it for created files.
TEST_F(EventProcessorTest, ProcessingWritesNoTemporaryFiles) {
  testing::TempDir temp_dir;
  const int watch_fd = inotify_init1(IN_NONBLOCK);
  ASSERT_GE(watch_fd, 0);
  ASSERT_GE(inotify_add_watch(watch_fd, temp_dir.path().c_str(), IN_CREATE), 0);
  char* const saved = sqlite3_temp_directory;
  sqlite3_temp_directory = sqlite3_mprintf("%s", temp_dir.path().c_str());

  auto source = std::make_shared<ConfigSource>(ConfigEarning(1));
  HookedNormaliser normaliser;
  EventProcessor processor(source, *storage_, clock_, {{"shopify", &normaliser}});
  for (int n = 1; n <= 200; ++n) StorePaidOrder(n);
  Result<size_t> processed = processor.ProcessPending();

  sqlite3_free(sqlite3_temp_directory);
  sqlite3_temp_directory = saved;
  alignas(inotify_event) char events[4096];
  const ssize_t bytes = read(watch_fd, events, sizeof(events));
  close(watch_fd);
  ASSERT_TRUE(processed.ok()) << processed.status().ToString();
  EXPECT_EQ(*processed, 200u);
  EXPECT_EQ(Balance(200), 10);
  // Nothing to read (EAGAIN): no file was created there.
  EXPECT_LT(bytes, 0) << "SQLite created temporary files while processing events";
}

}  // namespace
}  // namespace loyaltyd::event_processor_test
