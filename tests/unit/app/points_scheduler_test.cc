#include "app/points_scheduler.h"

#include <gtest/gtest.h>

#include "storage/sqlite_storage.h"
#include "support/temp_dir.h"

namespace loyaltyd::points_scheduler_test {
namespace {

constexpr int64_t kDay = 86'400'000;
constexpr int64_t kT0 = 1'767'225'600'000;  // 2026-01-01T00:00:00Z

class FixedClock final : public Clock {
 public:
  int64_t NowMillis() const override { return kT0; }
};

TEST(PointsSchedulerTest, PolicyIsTheConfigInMilliseconds) {
  ProgramConfig program;
  program.expiry.lot_age_days = 365;
  program.expiry.inactivity_days = 180;
  const PointsPolicy policy = PointsPolicyFrom(program);
  EXPECT_EQ(policy.lot_age_ms, 365 * kDay);
  EXPECT_EQ(policy.inactivity_ms, 180 * kDay);
  EXPECT_EQ(PointsPolicyFrom(ProgramConfig{}).lot_age_ms, 0);  // absent: never
}

// Release runs before expiry: points held past their own expiry date (a run after long
// downtime) are credited and expired in the same pass, each once.
TEST(PointsSchedulerTest, ARunReleasesThenExpires) {
  testing::TempDir dir;
  auto opened = SqliteStorage::Open(dir.File("points.db"));
  ASSERT_TRUE(opened.ok());
  SqliteStorage& storage = **opened;
  storage.SetPointsPolicy(PointsPolicy{30 * kDay, 0});
  ASSERT_TRUE(
      storage.AppendToInbox({NewInboxEvent{"demo", "shopify", "orders/paid", "k", "k", "{}", kT0}})
          .ok());
  EventOutcome paid;
  paid.event_id = (*storage.LoadPendingEvents(0, 1))[0].id;
  paid.customer = CustomerIdentity{"demo", "7001", "a@example.com", "a@example.com", "", ""};
  paid.order = OrderRecord{"demo", "1001", "#1001", "USD", 4900, 4900, true, ""};
  paid.points.push_back(PointsChange{"spend", "earn", 49, "spend"});
  paid.received_at_ms = kT0;
  paid.hold_until_ms = kT0 + 14 * kDay;
  ASSERT_TRUE(storage.CommitEventOutcomes({paid}, kT0).ok());

  FixedClock clock;
  PointsScheduler scheduler(storage, clock, std::chrono::hours(1));
  ASSERT_TRUE(scheduler.RunOnce(kT0 + 100 * kDay).ok());
  ASSERT_TRUE(scheduler.RunOnce(kT0 + 100 * kDay).ok());
  const int64_t customer = (*storage.FindCustomersByEmail("a@example.com"))[0].id;
  EXPECT_EQ((*storage.GetCustomer(customer))->points_balance, 0);
  auto ledger = storage.ListLedger(customer, 0, 10);
  ASSERT_EQ(ledger->size(), 2u);
  EXPECT_EQ((*ledger)[1].kind, "earn");
  EXPECT_EQ((*ledger)[0].kind, "expire");
  EXPECT_EQ((*ledger)[0].points, -49);
}

}  // namespace
}  // namespace loyaltyd::points_scheduler_test
