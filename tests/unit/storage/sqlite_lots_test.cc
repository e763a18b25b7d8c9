// Point lots, expiry and pending awards (src/storage/sqlite_lots.cc) against a real SQLite file.
// Every test ends by checking the invariant: the open lots sum to max(balance, 0) and the
// ledger entries sum to the balance.
#include <gtest/gtest.h>

#include <map>
#include <thread>

#include "storage/sqlite_storage.h"
#include "support/temp_dir.h"

namespace loyaltyd::sqlite_lots_test {
namespace {

constexpr int64_t kDay = 86'400'000;
constexpr int64_t kT0 = 1'767'225'600'000;  // 2026-01-01T00:00:00Z

int64_t Day(int64_t n) { return kT0 + n * kDay; }

class SqliteLotsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = SqliteStorage::Open(dir_.File("loyaltyd.db"));
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    storage_ = std::move(opened).value();
    storage_->SetPointsPolicy(PointsPolicy{365 * kDay, 0});
  }
  void TearDown() override {
    for (const auto& [email, platform_id] : customers_) CheckInvariant(platform_id);
  }

  int64_t Store(const std::string& key, int64_t received_at_ms) {
    NewInboxEvent e{"demo", "shopify", "orders/paid", key, "d-" + key, "{}", received_at_ms};
    auto r = storage_->AppendToInbox({e});
    EXPECT_TRUE(r.ok());
    auto pending = storage_->LoadPendingEvents(0, 1000);
    for (const auto& p : *pending) {
      if (p.dedupe_key == key) return p.id;
    }
    ADD_FAILURE() << "event " << key << " not pending";
    return 0;
  }
  CustomerIdentity Who(const std::string& platform_id) {
    const std::string email = "c" + platform_id + "@example.com";
    customers_[email] = platform_id;
    return CustomerIdentity{"demo", platform_id, email, email, "", ""};
  }
  // An order of 49.00 eligible spend earning `points` at `at` (the event's received_at_ms).
  EventOutcome Paid(const std::string& order_id, int64_t points, int64_t at,
                    const std::string& customer = "7001", int64_t hold_until = 0) {
    EventOutcome o;
    o.event_id = Store("paid-" + order_id + "-" + std::to_string(at), at);
    o.reason = "paid";
    o.customer = Who(customer);
    o.order = OrderRecord{"demo", order_id, "#" + order_id, "USD", 4900, 4900, true, ""};
    o.points.push_back(PointsChange{"spend", "earn", points, "spend"});
    o.received_at_ms = at;
    o.hold_until_ms = hold_until;
    return o;
  }
  EventOutcome Refund(const std::string& order_id, const std::string& key, int64_t merchandise,
                      int64_t at, bool allow_negative = false) {
    EventOutcome o;
    o.event_id = Store("refund-" + order_id + "-" + key, at);
    o.reason = "refund";
    o.order = OrderRecord{"demo", order_id, "", "", 0, 0, false, ""};
    o.order->placeholder = true;
    o.refunds.push_back(RefundRecord{key, merchandise, 0, key == "full"});
    o.allow_negative_balance = allow_negative;
    o.received_at_ms = at;
    return o;
  }
  void Commit(const EventOutcome& o) {
    ASSERT_TRUE(storage_->CommitEventOutcomes({o}, o.received_at_ms).ok());
    auto events = storage_->ListEvents(EventStatus::kFailed, 0, 10);
    ASSERT_TRUE(events->empty()) << (*events)[0].status_reason;
  }
  int64_t CustomerId(const std::string& platform_id = "7001") {
    auto found = storage_->FindCustomersByEmail("c" + platform_id + "@example.com");
    EXPECT_EQ(found->size(), 1u);
    return found->empty() ? 0 : (*found)[0].id;
  }
  int64_t Balance(const std::string& platform_id = "7001") {
    return (*storage_->GetCustomer(CustomerId(platform_id)))->points_balance;
  }
  void Redeem(int64_t points, const std::string& key, int64_t at,
              const std::string& platform_id = "7001") {
    NewRedemption r;
    r.customer_id = CustomerId(platform_id);
    r.shop_id = "demo";
    r.idempotency_key = key;
    r.reward_id = "reward";
    r.reward_kind = "fixed_discount";
    r.reward_name = "reward";
    r.points = points;
    r.currency = "USD";
    auto created = storage_->CreateRedemption(r, at);
    ASSERT_TRUE(created.ok());
    ASSERT_EQ(created->outcome, CreateRedemptionResult::Outcome::kCreated);
  }
  // Remaining points per lot, oldest lot first.
  std::vector<int64_t> Remaining(const std::string& platform_id = "7001") {
    auto lots = storage_->ListLots(CustomerId(platform_id), false, 0, 100);
    std::vector<int64_t> out;
    for (auto it = lots->rbegin(); it != lots->rend(); ++it) out.push_back(it->remaining);
    return out;
  }
  std::vector<LedgerEntryRecord> Entries(const std::string& kind,
                                         const std::string& platform_id = "7001") {
    auto ledger = storage_->ListLedger(CustomerId(platform_id), 0, 500);
    std::vector<LedgerEntryRecord> out;
    for (const auto& e : *ledger) {
      if (e.kind == kind) out.push_back(e);
    }
    return out;
  }
  void CheckInvariant(const std::string& platform_id) {
    const int64_t balance = Balance(platform_id);
    int64_t lots = 0;
    for (int64_t r : Remaining(platform_id)) {
      EXPECT_GE(r, 0);
      lots += r;
    }
    EXPECT_EQ(lots, std::max<int64_t>(balance, 0)) << "customer " << platform_id;
    int64_t ledger = 0;
    auto entries = storage_->ListLedger(CustomerId(platform_id), 0, 500);
    ASSERT_TRUE(entries.ok());
    for (const auto& e : *entries) ledger += e.points;
    EXPECT_EQ(ledger, balance) << "customer " << platform_id;
  }

  testing::TempDir dir_;
  std::unique_ptr<SqliteStorage> storage_;
  std::map<std::string, std::string> customers_;
};

// --- FIFO consumption ---

struct FifoStep {
  char op;  // 'e' earn (order id = step index), 'r' redeem
  int64_t points;
  int64_t day;
};
struct FifoCase {
  std::string name;
  std::vector<FifoStep> steps;
  std::vector<int64_t> remaining;  // per lot, oldest first
};

TEST_F(SqliteLotsTest, SpendingTakesTheOldestExpiryFirst) {
  const std::vector<FifoCase> cases = {
      {"one redemption across two lots", {{'e', 100, 0}, {'e', 50, 10}, {'r', 120, 20}}, {0, 30}},
      {"exactly the first lot", {{'e', 100, 0}, {'e', 50, 10}, {'r', 100, 20}}, {0, 50}},
      {"partial then across", {{'e', 100, 0}, {'r', 30, 5}, {'e', 50, 10}, {'r', 80, 20}}, {0, 40}},
      {"three lots, one untouched",
       {{'e', 10, 0}, {'e', 20, 1}, {'e', 30, 2}, {'r', 15, 3}},
       {0, 15, 30}},
  };
  int n = 0;
  for (const FifoCase& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string customer = std::to_string(8000 + n++);
    int step = 0;
    for (const FifoStep& s : c.steps) {
      ++step;
      if (s.op == 'e') {
        Commit(Paid(customer + "-" + std::to_string(step), s.points, Day(s.day), customer));
      } else {
        Redeem(s.points, "r" + std::to_string(step), Day(s.day), customer);
      }
    }
    EXPECT_EQ(Remaining(customer), c.remaining);
    CheckInvariant(customer);
  }
}

// A customer's lots page newest first, `before` a lot id, open only or all; another customer's
// lots in between (ids interleave) and spent lots must neither appear nor break the pages.
TEST_F(SqliteLotsTest, ACustomersLotsPageNewestFirstAmongAnotherCustomersLots) {
  for (int i = 1; i <= 7; ++i) {
    Commit(Paid("a-" + std::to_string(i), 10 * i, Day(i), "7001"));
    Commit(Paid("b-" + std::to_string(i), 1, Day(i), "7002"));
  }
  Redeem(30, "spend-two", Day(8), "7001");  // the lots of 10 and 20 points, all of them
  const auto all = storage_->ListLots(CustomerId("7001"), false, 0, 100);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 7u);
  for (size_t i = 0; i < all->size(); ++i) {
    EXPECT_EQ((*all)[i].points, 10 * static_cast<int64_t>(7 - i));  // newest first
    EXPECT_EQ((*all)[i].customer_id, CustomerId("7001"));
    if (i > 0) {
      EXPECT_LT((*all)[i].id, (*all)[i - 1].id);
    }
  }
  for (const bool open_only : {false, true}) {
    SCOPED_TRACE(open_only ? "open lots" : "all lots");
    std::vector<int64_t> paged;
    int64_t before = 0;
    for (int page = 0; page < 10; ++page) {
      const auto lots = storage_->ListLots(CustomerId("7001"), open_only, before, 2);
      ASSERT_TRUE(lots.ok()) << lots.status().ToString();
      for (const PointLotRecord& lot : *lots) paged.push_back(lot.points);
      if (lots->size() < 2) break;
      before = lots->back().id;
    }
    std::vector<int64_t> expected = {70, 60, 50, 40, 30};
    if (!open_only) expected.insert(expected.end(), {20, 10});
    EXPECT_EQ(paged, expected);
  }
  // Before the customer's oldest lot, and before the very first lot of the database: nothing.
  EXPECT_TRUE(storage_->ListLots(CustomerId("7001"), false, all->back().id, 10)->empty());
  EXPECT_TRUE(storage_->ListLots(CustomerId("7001"), false, 1, 10)->empty());
}

TEST_F(SqliteLotsTest, LotsExpireAYearAfterTheEventThatCreditedThem) {
  Commit(Paid("1001", 100, Day(0)));
  auto lots = storage_->ListLots(CustomerId(), false, 0, 10);
  ASSERT_EQ(lots->size(), 1u);
  EXPECT_EQ((*lots)[0].earned_at_ms, Day(0));  // the event's time, not the commit's
  EXPECT_EQ((*lots)[0].expires_at_ms, Day(365));
  EXPECT_EQ((*lots)[0].kind, "earn");
  EXPECT_EQ((*lots)[0].order_name, "#1001");
}

TEST_F(SqliteLotsTest, AClawbackTakesItsOwnOrdersLotFirst) {
  Commit(Paid("1001", 100, Day(0)));
  Commit(Paid("1002", 50, Day(10)));
  Commit(Refund("1002", "full", 0, Day(11)));
  // FIFO would have taken the older lot of order 1001 and left 1002's points to live longer.
  EXPECT_EQ(Remaining(), (std::vector<int64_t>{100, 0}));
  EXPECT_EQ(Balance(), 100);
}

// Lots that never expire (earned while the program had no expiry) go last, after newer lots
// that do; a clawback larger than what its own order's lot has left goes on in that order and
// never takes its own lot twice.
TEST_F(SqliteLotsTest, LotsThatNeverExpireGoLastAndAClawbackGoesOnPastItsOwnLot) {
  storage_->SetPointsPolicy(PointsPolicy{0, 0});
  Commit(Paid("1001", 100, Day(0)));  // never expires
  storage_->SetPointsPolicy(PointsPolicy{365 * kDay, 0});
  Commit(Paid("1002", 50, Day(1)));
  Commit(Paid("1003", 30, Day(2)));
  Redeem(60, "r1", Day(3));  // 1002's 50, then 10 of 1003's
  EXPECT_EQ(Remaining(), (std::vector<int64_t>{100, 0, 20}));
  Commit(Refund("1003", "full", 0, Day(4)));  // 30 back: 1003's 20, then 10 of 1001's
  EXPECT_EQ(Remaining(), (std::vector<int64_t>{90, 0, 0}));
  EXPECT_EQ(Balance(), 90);
}

// --- Expiry ---

TEST_F(SqliteLotsTest, ExpiryWritesOneEntryPerLotAndRepeatsWriteNothing) {
  Commit(Paid("1001", 100, Day(0)));
  Commit(Paid("1002", 50, Day(100)));
  Redeem(30, "spend", Day(200));

  struct Run {
    int64_t day;
    int64_t lots;
    int64_t points;
    int64_t balance;
  };
  const std::vector<Run> runs = {
      {364, 0, 0, 120},  // nothing due yet
      {365, 1, 70, 50},  // the first lot, what is left of it
      {365, 0, 0, 50},   // the same run again
      {400, 0, 0, 50},   // a later run, nothing new due
      {466, 1, 50, 0},   // the second lot
      {900, 0, 0, 0},    // nothing left
  };
  for (const Run& run : runs) {
    SCOPED_TRACE("day " + std::to_string(run.day));
    auto r = storage_->ExpirePoints(Day(run.day));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->lots_expired, run.lots);
    EXPECT_EQ(r->points_expired, run.points);
    EXPECT_EQ(Balance(), run.balance);
  }
  auto expired = Entries("expire");
  ASSERT_EQ(expired.size(), 2u);
  EXPECT_EQ(expired[1].points, -70);
  EXPECT_EQ(expired[1].description,
            "70 point(s) expired, left of 100 from earn on order #1001 of 2026-01-01: lot reached "
            "its expiry on 2027-01-01");
  EXPECT_EQ(expired[0].points, -50);
  auto lots = storage_->ListLots(CustomerId(), false, 0, 10);
  for (const auto& lot : *lots) EXPECT_EQ(lot.expired_reason, "lot age");
}

TEST_F(SqliteLotsTest, ConcurrentExpiryRunsExpireEachLotOnce) {
  for (int i = 0; i < 40; ++i) {
    Commit(Paid(std::to_string(2000 + i), 10 + i, Day(i), std::to_string(9000 + i % 4)));
  }
  ExpiryRunResult a, b;
  std::thread t1([&] { a = *storage_->ExpirePoints(Day(800)); });
  std::thread t2([&] { b = *storage_->ExpirePoints(Day(800)); });
  t1.join();
  t2.join();
  EXPECT_EQ(a.lots_expired + b.lots_expired, 40);
  int64_t entries = 0;
  for (int c = 0; c < 4; ++c) {
    entries += static_cast<int64_t>(Entries("expire", std::to_string(9000 + c)).size());
    EXPECT_EQ(Balance(std::to_string(9000 + c)), 0);
  }
  EXPECT_EQ(entries, 40);
}

TEST_F(SqliteLotsTest, InactivityExpiresEveryLotOfAnInactiveCustomerOnly) {
  storage_->SetPointsPolicy(PointsPolicy{0, 180 * kDay});
  Commit(Paid("1001", 100, Day(0)));            // 7001: earns at day 0 and 10
  Commit(Paid("1002", 50, Day(10)));            //
  Commit(Paid("1003", 70, Day(0), "7002"));     // 7002: earns at day 0, redeems at day 100
  Redeem(20, "spend", Day(100), "7002");        //
  Commit(Paid("1004", 30, Day(10), "7003"));    // 7003: a refund is not activity
  Commit(Refund("1004", "r1", 490, Day(120)));  //

  auto early = storage_->ExpirePoints(Day(189));
  ASSERT_TRUE(early.ok());
  EXPECT_EQ(early->lots_expired, 0);

  auto due = storage_->ExpirePoints(Day(190));
  ASSERT_TRUE(due.ok());
  EXPECT_EQ(due->lots_expired, 3);  // 7001's two lots and 7003's one (last earns on day 10)
  EXPECT_EQ(Balance("7001"), 0);
  EXPECT_EQ(Balance("7002"), 50);
  EXPECT_EQ(Balance("7003"), 0);
  auto expired = Entries("expire", "7001");
  ASSERT_EQ(expired.size(), 2u);
  EXPECT_EQ(expired[0].description,
            "50 point(s) expired, left of 50 from earn on order #1002 of 2026-01-11: no points "
            "activity since 2026-01-11 (180 days)");

  auto again = storage_->ExpirePoints(Day(190));
  EXPECT_EQ(again->lots_expired, 0);
  EXPECT_EQ(storage_->ExpirePoints(Day(280))->lots_expired, 1);  // 7002, 180 days after day 100
}

TEST_F(SqliteLotsTest, ANegativeBalanceIsADebtThatTheNextCreditPaysFirst) {
  Commit(Paid("1001", 49, Day(0)));
  Redeem(40, "spend", Day(1));
  Commit(Refund("1001", "full", 0, Day(2), /*allow_negative=*/true));
  EXPECT_EQ(Balance(), -40);
  EXPECT_EQ(Remaining(), (std::vector<int64_t>{0}));
  CheckInvariant("7001");

  Commit(Paid("1002", 30, Day(3)));  // all of it pays the debt
  EXPECT_EQ(Balance(), -10);
  EXPECT_EQ(Remaining(), (std::vector<int64_t>{0, 0}));
  CheckInvariant("7001");

  Commit(Paid("1003", 100, Day(4)));  // 10 pay the rest of the debt, 90 stay spendable
  EXPECT_EQ(Balance(), 90);
  EXPECT_EQ(Remaining(), (std::vector<int64_t>{0, 0, 90}));
  // A lot that paid a debt has nothing to expire.
  EXPECT_EQ(storage_->ExpirePoints(Day(400))->points_expired, 90);
}

// --- Pending awards (program.award.hold_days) ---

TEST_F(SqliteLotsTest, HeldPointsArePendingUntilReleasedAndReleasedOnce) {
  Commit(Paid("1001", 49, Day(0), "7001", /*hold_until=*/Day(14)));
  EXPECT_EQ(Balance(), 0);
  auto outlook = storage_->GetPointsOutlook(CustomerId(), Day(30));
  ASSERT_TRUE(outlook.ok());
  EXPECT_EQ(outlook->pending_points, 49);
  auto awards = storage_->ListPendingAwards(CustomerId(), 10);
  ASSERT_EQ(awards->size(), 1u);
  EXPECT_EQ((*awards)[0].status, PendingAwardStatus::kPending);
  EXPECT_EQ((*awards)[0].release_at_ms, Day(14));

  // A redelivery of the award event (new event id) adds nothing.
  Commit(Paid("1001", 49, Day(1), "7001", Day(15)));
  EXPECT_EQ(storage_->ListPendingAwards(CustomerId(), 10)->size(), 1u);

  EXPECT_EQ(storage_->ReleasePendingPoints(Day(13))->released, 0);
  auto released = storage_->ReleasePendingPoints(Day(14));
  ASSERT_TRUE(released.ok());
  EXPECT_EQ(released->released, 1);
  EXPECT_EQ(released->points_released, 49);
  EXPECT_EQ(Balance(), 49);
  EXPECT_EQ(storage_->ReleasePendingPoints(Day(20))->released, 0);
  EXPECT_EQ(Entries("earn").size(), 1u);
  EXPECT_EQ(storage_->GetPointsOutlook(CustomerId(), Day(30))->pending_points, 0);
  // The lot counts from the release.
  EXPECT_EQ((*storage_->ListLots(CustomerId(), false, 0, 10))[0].expires_at_ms, Day(14 + 365));
  EXPECT_EQ((*storage_->ListPendingAwards(CustomerId(), 10))[0].status,
            PendingAwardStatus::kReleased);
}

TEST_F(SqliteLotsTest, ConcurrentReleaseRunsCreditOnce) {
  for (int i = 0; i < 30; ++i) {
    Commit(Paid(std::to_string(3000 + i), 10, Day(0), "7001", Day(14)));
  }
  ReleaseRunResult a, b;
  std::thread t1([&] { a = *storage_->ReleasePendingPoints(Day(20)); });
  std::thread t2([&] { b = *storage_->ReleasePendingPoints(Day(20)); });
  t1.join();
  t2.join();
  EXPECT_EQ(a.released + b.released, 30);
  EXPECT_EQ(Balance(), 300);
}

TEST_F(SqliteLotsTest, CancellationWithinTheHoldVoidsThePendingAward) {
  Commit(Paid("1001", 49, Day(0), "7001", Day(14)));
  Commit(Refund("1001", "full", 0, Day(3)));
  auto awards = storage_->ListPendingAwards(CustomerId(), 10);
  ASSERT_EQ(awards->size(), 1u);
  EXPECT_EQ((*awards)[0].status, PendingAwardStatus::kVoided);
  EXPECT_NE((*awards)[0].status_reason.find("order cancelled or fully refunded before release"),
            std::string::npos)
      << (*awards)[0].status_reason;
  EXPECT_EQ((*awards)[0].net_points, 0);
  EXPECT_EQ(storage_->ReleasePendingPoints(Day(30))->released, 0);
  EXPECT_EQ(Balance(), 0);
  EXPECT_TRUE(Entries("earn").empty());
  EXPECT_TRUE(Entries("clawback").empty());
}

// Partial refunds within the hold reduce what is released by exactly what they would have
// clawed back from points credited at once (the same formula, the same entries).
TEST_F(SqliteLotsTest, PartialRefundsWithinTheHoldGiveTheSameNetAsWithoutAHold) {
  struct Case {
    std::string name;
    std::vector<std::pair<std::string, int64_t>> refunds;  // key, merchandise
    int64_t net;
  };
  const std::vector<Case> cases = {
      {"none", {}, 49},
      {"half", {{"r1", 2450}}, 25},
      {"three thirds", {{"r1", 1633}, {"r2", 1633}, {"r3", 1634}}, 0},
      {"gift card only", {{"r1", 0}}, 49},
  };
  int n = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string held = std::to_string(9100 + n), direct = std::to_string(9200 + n);
    const std::string held_order = "h" + std::to_string(n), direct_order = "d" + std::to_string(n);
    ++n;
    Commit(Paid(held_order, 49, Day(0), held, Day(14)));
    Commit(Paid(direct_order, 49, Day(0), direct));
    for (const auto& [key, amount] : c.refunds) {
      Commit(Refund(held_order, key, amount, Day(2)));
      Commit(Refund(direct_order, key, amount, Day(2)));
    }
    EXPECT_EQ(storage_->GetPointsOutlook(CustomerId(held), Day(30))->pending_points, c.net);
    EXPECT_EQ((*storage_->ListPendingAwards(CustomerId(held), 10))[0].net_points, c.net);
    ASSERT_TRUE(storage_->ReleasePendingPoints(Day(14)).ok());
    EXPECT_EQ(Balance(held), c.net);
    EXPECT_EQ(Balance(direct), c.net);
    EXPECT_EQ(Entries("clawback", held).size(), Entries("clawback", direct).size());
  }
}

TEST_F(SqliteLotsTest, ARefundAfterReleaseClawsBackAsUsual) {
  Commit(Paid("1001", 49, Day(0), "7001", Day(14)));
  ASSERT_TRUE(storage_->ReleasePendingPoints(Day(14)).ok());
  Commit(Refund("1001", "r1", 2450, Day(20)));
  EXPECT_EQ(Balance(), 25);
}

}  // namespace
}  // namespace loyaltyd::sqlite_lots_test
