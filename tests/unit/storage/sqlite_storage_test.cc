#include "storage/sqlite_storage.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/model.h"
#include "support/sqlite_file.h"
#include "support/temp_dir.h"

namespace loyaltyd::sqlite_storage_test {
namespace {

NewInboxEvent Delivery(const std::string& key, const std::string& topic = "orders/paid") {
  return NewInboxEvent{"demo", "shopify", topic, key, "delivery-" + key, "{\"id\":1}", 1000};
}

class SqliteStorageTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }
  void Reopen() {
    storage_.reset();
    auto opened = SqliteStorage::Open(dir_.File("loyaltyd.db"));
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    storage_ = std::move(opened).value();
  }
  int64_t StoreOne(const std::string& key) {
    auto r = storage_->AppendToInbox({Delivery(key)});
    EXPECT_TRUE(r.ok());
    auto pending = storage_->LoadPendingEvents(0, 1000);
    EXPECT_TRUE(pending.ok());
    for (const auto& e : *pending) {
      if (e.dedupe_key == key) return e.id;
    }
    ADD_FAILURE() << "event " << key << " not pending";
    return 0;
  }
  EventOutcome PaidOrder(int64_t event_id, const std::string& order_id, int64_t points) {
    EventOutcome o;
    o.event_id = event_id;
    o.status = EventStatus::kProcessed;
    o.reason = "paid";
    o.customer =
        CustomerIdentity{"demo", "7001", "Ada@Example.com", "ada@example.com", "Ada", "Lovelace"};
    o.order = OrderRecord{"demo", order_id, "#" + order_id, "USD", 5000, 4900, true, ""};
    o.points.push_back(PointsChange{"spend", "earn", points, "1 point per 1.00 USD"});
    return o;
  }

  testing::TempDir dir_;
  std::unique_ptr<SqliteStorage> storage_;
};

// A full disk (here a file size limit of 0, which fails writes with EFBIG as a full disk fails
// them with ENOSPC): the write fails Unavailable with the OS's reason and changes nothing,
// CheckWritable says so, and once a write succeeds again it says writable. Run in a child
// process (the limit and SIGXFSZ's disposition are the whole process's); each step that fails
// exits with its own code, which the failure message shows.
int FullDiskScenario(const std::string& path) {
  signal(SIGXFSZ, SIG_IGN);
  auto opened = SqliteStorage::Open(path);
  if (!opened.ok()) return 10;
  SqliteStorage& storage = **opened;
  if (!storage.AppendToInbox({Delivery("before")}).ok()) return 11;
  if (!storage.CheckWritable().writable) return 12;
  rlimit before{};
  getrlimit(RLIMIT_FSIZE, &before);
  const rlimit full{0, before.rlim_max};
  if (setrlimit(RLIMIT_FSIZE, &full) != 0) return 13;
  auto refused = storage.AppendToInbox({Delivery("during")});
  if (refused.ok() || refused.status().code() != StatusCode::kUnavailable) return 14;
  if (refused.status().message().find("File too large") == std::string::npos) return 15;
  const StorageWriteHealth health = storage.CheckWritable();
  if (health.writable || health.error.find("File too large") == std::string::npos) return 16;
  if (setrlimit(RLIMIT_FSIZE, &before) != 0) return 17;
  if (!storage.AppendToInbox({Delivery("after")}).ok()) return 18;
  if (!storage.CheckWritable().writable) return 19;
  auto pending = storage.LoadPendingEvents(0, 10);
  if (!pending.ok() || pending->size() != 2) return 20;
  return 0;
}

TEST(SqliteStorageWriteHealthTest, AFullDiskIsReportedUntilAWriteSucceeds) {
  testing::TempDir dir;
  const std::string path = dir.File("loyaltyd.db");
  // _Exit: the child skips the parent's exit handlers (and the leak check of its half state).
  EXPECT_EXIT(std::_Exit(FullDiskScenario(path)), ::testing::ExitedWithCode(0), "");
}

TEST_F(SqliteStorageTest, AppendReportsDuplicatesWithinAndAcrossBatches) {
  auto first = storage_->AppendToInbox({Delivery("a"), Delivery("b"), Delivery("a")});
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first, (std::vector<InboxAppendOutcome>{InboxAppendOutcome::kStored,
                                                     InboxAppendOutcome::kStored,
                                                     InboxAppendOutcome::kDuplicate}));
  auto second = storage_->AppendToInbox({Delivery("b"), Delivery("c")});
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, (std::vector<InboxAppendOutcome>{InboxAppendOutcome::kDuplicate,
                                                      InboxAppendOutcome::kStored}));
  auto counts = storage_->CountInbox();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->pending, 3);
}

TEST_F(SqliteStorageTest, StoredEventsSurviveReopenWithTheirBodies) {
  NewInboxEvent e = Delivery("k1");
  e.body = std::string("not json \x01\xff", 11);  // bodies are bytes, stored as received
  ASSERT_TRUE(storage_->AppendToInbox({e}).ok());
  Reopen();
  auto pending = storage_->LoadPendingEvents(0, 10);
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ((*pending)[0].body, e.body);
  EXPECT_EQ((*pending)[0].topic, "orders/paid");
  EXPECT_EQ((*pending)[0].delivery_id, "delivery-k1");
}

TEST_F(SqliteStorageTest, OutcomeCreditsPointsAndMarksEvent) {
  const int64_t id = StoreOne("e1");
  ASSERT_TRUE(storage_->CommitEventOutcomes({PaidOrder(id, "9007199254740993", 49)}, 2000).ok());

  auto customers = storage_->FindCustomersByEmail("ada@example.com");
  ASSERT_TRUE(customers.ok());
  ASSERT_EQ(customers->size(), 1u);
  const CustomerRecord& c = (*customers)[0];
  EXPECT_EQ(c.points_balance, 49);
  EXPECT_EQ(c.platform_customer_id, "7001");
  EXPECT_EQ(c.email, "Ada@Example.com");

  auto ledger = storage_->ListLedger(c.id, 0, 10);
  ASSERT_TRUE(ledger.ok());
  ASSERT_EQ(ledger->size(), 1u);
  EXPECT_EQ((*ledger)[0].points, 49);
  EXPECT_EQ((*ledger)[0].balance_after, 49);
  EXPECT_EQ((*ledger)[0].source_event_id, id);
  EXPECT_EQ((*ledger)[0].source_topic, "orders/paid");
  EXPECT_EQ((*ledger)[0].order_platform_id, "9007199254740993");

  auto processed = storage_->ListEvents(EventStatus::kProcessed, 0, 10);
  ASSERT_TRUE(processed.ok());
  ASSERT_EQ(processed->size(), 1u);
  EXPECT_EQ((*processed)[0].status_reason, "paid");
  EXPECT_EQ((*processed)[0].processed_at_ms, 2000);
}

TEST_F(SqliteStorageTest, SameOrderAndRuleEarnsOnceAcrossEvents) {
  const int64_t first = StoreOne("e1");
  const int64_t second = StoreOne("e2");  // e.g. orders/paid redelivered under a new event id
  ASSERT_TRUE(storage_->CommitEventOutcomes({PaidOrder(first, "1001", 10)}, 2000).ok());
  ASSERT_TRUE(storage_->CommitEventOutcomes({PaidOrder(second, "1001", 10)}, 3000).ok());
  auto customers = storage_->FindCustomersByEmail("ada@example.com");
  ASSERT_TRUE(customers.ok());
  EXPECT_EQ((*customers)[0].points_balance, 10);
  auto ledger = storage_->ListLedger((*customers)[0].id, 0, 10);
  EXPECT_EQ(ledger->size(), 1u);
}

TEST_F(SqliteStorageTest, OncePerCustomerKeyHoldsAcrossOrdersAndRedeliveries) {
  auto with_bonus = [this](const std::string& key, const std::string& order_id) {
    EventOutcome o = PaidOrder(StoreOne(key), order_id, 10);
    o.points.push_back(
        PointsChange{"first_order", "earn", 250, "first order bonus", "first_order"});
    return o;
  };
  // Same batch: two orders both offering the bonus; then a redelivery and a third order.
  ASSERT_TRUE(
      storage_->CommitEventOutcomes({with_bonus("e1", "1001"), with_bonus("e2", "1002")}, 2000)
          .ok());
  ASSERT_TRUE(storage_->CommitEventOutcomes({with_bonus("e3", "1001")}, 3000).ok());
  ASSERT_TRUE(storage_->CommitEventOutcomes({with_bonus("e4", "1003")}, 4000).ok());
  Reopen();  // the key is durable, not a cache
  ASSERT_TRUE(storage_->CommitEventOutcomes({with_bonus("e5", "1004")}, 5000).ok());

  auto customers = storage_->FindCustomersByEmail("ada@example.com");
  ASSERT_TRUE(customers.ok());
  ASSERT_EQ(customers->size(), 1u);
  EXPECT_EQ((*customers)[0].points_balance, 4 * 10 + 250);  // each order's spend, one bonus
  auto ledger = storage_->ListLedger((*customers)[0].id, 0, 100);
  ASSERT_TRUE(ledger.ok());
  int bonuses = 0;
  for (const LedgerEntryRecord& e : *ledger) {
    if (e.rule_id != "first_order") continue;
    ++bonuses;
    EXPECT_EQ(e.order_platform_id, "1001");
  }
  EXPECT_EQ(bonuses, 1);
  EXPECT_EQ(ledger->size(), 5u);

  // Another customer has a bonus of their own.
  EventOutcome other = with_bonus("e6", "2001");
  other.customer =
      CustomerIdentity{"demo", "7002", "Bea@Example.com", "bea@example.com", "Bea", ""};
  ASSERT_TRUE(storage_->CommitEventOutcomes({other}, 6000).ok());
  auto bea = storage_->FindCustomersByEmail("bea@example.com");
  ASSERT_EQ(bea->size(), 1u);
  EXPECT_EQ((*bea)[0].points_balance, 10 + 250);
}

TEST_F(SqliteStorageTest, OutcomeForAnEventNoLongerPendingIsSkipped) {
  const int64_t id = StoreOne("e1");
  ASSERT_TRUE(storage_->CommitEventOutcomes({PaidOrder(id, "1001", 10)}, 2000).ok());
  // Re-processing the same event after a crash: a different decision must not apply.
  ASSERT_TRUE(storage_->CommitEventOutcomes({PaidOrder(id, "1002", 99)}, 3000).ok());
  auto customers = storage_->FindCustomersByEmail("ada@example.com");
  EXPECT_EQ((*customers)[0].points_balance, 10);
}

TEST_F(SqliteStorageTest, GuestsAreKeyedByNormalisedEmailPerShop) {
  const int64_t a = StoreOne("g1");
  const int64_t b = StoreOne("g2");
  auto guest_order = [](int64_t event, const std::string& order, const std::string& email) {
    EventOutcome o;
    o.event_id = event;
    o.customer = CustomerIdentity{"demo", "", email, NormaliseEmail(email), "", ""};
    o.order = OrderRecord{"demo", order, "#" + order, "USD", 1000, 1000, true, ""};
    o.points.push_back(PointsChange{"spend", "earn", 10, "guest"});
    return o;
  };
  ASSERT_TRUE(storage_
                  ->CommitEventOutcomes({guest_order(a, "1", "Guest@Example.com"),
                                         guest_order(b, "2", "guest@example.com")},
                                        2000)
                  .ok());
  auto customers = storage_->FindCustomersByEmail("guest@example.com");
  ASSERT_TRUE(customers.ok());
  ASSERT_EQ(customers->size(), 1u);
  EXPECT_EQ((*customers)[0].points_balance, 20);
  EXPECT_EQ((*customers)[0].platform_customer_id, "");
}

TEST_F(SqliteStorageTest, FailedOutcomeChangesNothingButItsStatus) {
  const int64_t id = StoreOne("bad");
  EventOutcome failed;
  failed.event_id = id;
  failed.status = EventStatus::kFailed;
  failed.reason = "malformed JSON at byte 3";
  ASSERT_TRUE(storage_->CommitEventOutcomes({failed}, 2000).ok());
  auto events = storage_->ListEvents(EventStatus::kFailed, 0, 10);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].status_reason, "malformed JSON at byte 3");
  EXPECT_TRUE(storage_->FindCustomersByEmail("ada@example.com")->empty());
  EXPECT_EQ(storage_->CountInbox()->pending, 0);
}

TEST_F(SqliteStorageTest, InconsistentOutcomeIsRecordedAsFailedAndOthersStillApply) {
  const int64_t bad = StoreOne("bad");
  const int64_t good = StoreOne("good");
  EventOutcome broken = PaidOrder(bad, "1", 5);
  broken.order.reset();  // points without an order: an internal inconsistency
  ASSERT_TRUE(storage_->CommitEventOutcomes({broken, PaidOrder(good, "2", 7)}, 2000).ok());
  auto failed = storage_->ListEvents(EventStatus::kFailed, 0, 10);
  ASSERT_EQ(failed->size(), 1u);
  EXPECT_EQ((*failed)[0].id, bad);
  // The broken event's customer upsert was rolled back with it; the good one applied.
  EXPECT_EQ((*storage_->FindCustomersByEmail("ada@example.com"))[0].points_balance, 7);
}

TEST_F(SqliteStorageTest, LedgerPagesNewestFirst) {
  for (int i = 0; i < 5; ++i) {
    const int64_t id = StoreOne("p" + std::to_string(i));
    ASSERT_TRUE(
        storage_->CommitEventOutcomes({PaidOrder(id, std::to_string(100 + i), i + 1)}, 2000).ok());
  }
  const int64_t customer = (*storage_->FindCustomersByEmail("ada@example.com"))[0].id;
  auto page1 = storage_->ListLedger(customer, 0, 2);
  ASSERT_EQ(page1->size(), 2u);
  EXPECT_EQ((*page1)[0].points, 5);
  EXPECT_EQ((*page1)[0].balance_after, 15);
  auto page2 = storage_->ListLedger(customer, page1->back().id, 10);
  ASSERT_EQ(page2->size(), 3u);
  EXPECT_EQ((*page2)[2].points, 1);
  EXPECT_EQ((*page2)[2].balance_after, 1);
}

// A pinned snapshot: the reads of a page agree with each other even when an event commits
// between them (the ledger page's balance is its newest entry's balance_after), and the reads
// after the pin see the commit.
TEST_F(SqliteStorageTest, PinnedReadsSeeOneSnapshotUntilReleased) {
  ASSERT_TRUE(storage_->CommitEventOutcomes({PaidOrder(StoreOne("a"), "100", 10)}, 2000).ok());
  const int64_t customer = (*storage_->FindCustomersByEmail("ada@example.com"))[0].id;
  const int64_t second_event = StoreOne("b");
  {
    auto pin = storage_->PinReadSnapshot();
    ASSERT_TRUE(pin.ok()) << pin.status().ToString();
    auto before = storage_->GetCustomer(customer);
    ASSERT_TRUE(before.ok() && before->has_value());
    EXPECT_EQ((*before)->points_balance, 10);
    // Another award commits (on the writer) while the page is being read.
    ASSERT_TRUE(storage_->CommitEventOutcomes({PaidOrder(second_event, "101", 5)}, 3000).ok());
    auto entries = storage_->ListLedger(customer, 0, 10);
    ASSERT_TRUE(entries.ok());
    ASSERT_EQ(entries->size(), 1u);
    EXPECT_EQ((*entries)[0].balance_after, (*before)->points_balance);
    // A nested pin shares the outer snapshot (and does not release it when it goes).
    {
      auto nested = storage_->PinReadSnapshot();
      ASSERT_TRUE(nested.ok());
      EXPECT_EQ((*storage_->GetCustomer(customer))->points_balance, 10);
    }
    EXPECT_EQ((*storage_->GetCustomer(customer))->points_balance, 10);
    // A read with a transaction of its own (the privacy export; the reports) joins the pin's
    // and leaves it open.
    auto exported = storage_->ExportCustomer(customer, 4000);
    ASSERT_TRUE(exported.ok()) << exported.status().ToString();
    ASSERT_TRUE(exported->has_value());
    EXPECT_NE((*exported)->find("\"points_balance\":10"), std::string::npos) << **exported;
    EXPECT_EQ((*storage_->GetCustomer(customer))->points_balance, 10);
  }
  EXPECT_EQ((*storage_->GetCustomer(customer))->points_balance, 15);
  EXPECT_EQ(storage_->ListLedger(customer, 0, 10)->size(), 2u);
}

// The pin leases one reader for all the reads it covers, and keeps it until it ends: with a
// pool of one reader, a page of several reads completes (were each read to take a lease from
// the pool, the first would wait for the pinned reader for good: the test then hangs until
// ctest's timeout), another thread's read waits for the pin to end (were a read under the pin
// to hand the reader back, that thread would get it mid-page), then gets the reader.
TEST(SqliteStoragePinTest, PinnedReadsUseTheOneLeasedReaderUntilThePinEnds) {
  testing::TempDir dir;
  auto opened = SqliteStorage::Open(dir.File("loyaltyd.db"), /*read_connections=*/1);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  SqliteStorage& storage = **opened;
  std::future<bool> other_thread_read;
  {
    auto pin = storage.PinReadSnapshot();
    ASSERT_TRUE(pin.ok());
    for (int i = 0; i < 3; ++i) {
      auto customer = storage.GetCustomer(1);
      ASSERT_TRUE(customer.ok());
      EXPECT_FALSE(customer->has_value());
      ASSERT_TRUE(storage.ListLedger(1, 0, 10).ok());
    }
    other_thread_read =
        std::async(std::launch::async, [&storage] { return storage.GetCustomer(1).ok(); });
    EXPECT_EQ(other_thread_read.wait_for(std::chrono::milliseconds(200)),
              std::future_status::timeout);
  }
  ASSERT_EQ(other_thread_read.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  EXPECT_TRUE(other_thread_read.get());
}

}  // namespace
}  // namespace loyaltyd::sqlite_storage_test

namespace loyaltyd::sqlite_storage_test {
namespace {

// Regression: the checkpointer's connection had never read the database, so SQLite treated it
// as not in WAL mode and every checkpoint was a silent no-op; the WAL grew without bound and
// the database file stayed empty.
TEST_F(SqliteStorageTest, WalIsCheckpointedIntoTheDatabaseFile) {
  const std::string body(6000, 'x');
  // Batches of 64 bodies of 6 KB until past the checkpointer's threshold, and 10 more.
  const int64_t batches = SqliteStorage::kCheckpointWalBytes / (64 * 6000) + 10;
  for (int64_t batch = 0; batch < batches; ++batch) {
    std::vector<NewInboxEvent> events;
    for (int i = 0; i < 64; ++i) {
      const std::string key = std::to_string(batch) + "-" + std::to_string(i);
      events.push_back(NewInboxEvent{"demo", "shopify", "orders/paid", key, key, body, 1000});
    }
    ASSERT_TRUE(storage_->AppendToInbox(events).ok());
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  uintmax_t db_bytes = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    db_bytes = std::filesystem::file_size(dir_.File("loyaltyd.db"));
    if (db_bytes > 4u << 20) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_GT(db_bytes, 4u << 20) << "the WAL was not checkpointed into the database file";
}

// The names of the tables and indexes, among `names`, with pages among the WAL's frames. The WAL
// format (sqlite.org/fileformat2, "WAL File Format"): a 32-byte header whose salts (bytes 16..23)
// every valid frame repeats in its 24-byte header (bytes 8..15), page number first; the page
// follows.
std::set<std::string> TreesInWal(const std::string& db_path,
                                 const std::vector<std::string>& names) {
  std::ifstream file(db_path + "-wal", std::ios::binary);
  const std::string wal((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  std::set<int64_t> pages;
  const auto u32 = [&wal](size_t at) {
    return (int64_t{static_cast<unsigned char>(wal[at])} << 24) |
           (int64_t{static_cast<unsigned char>(wal[at + 1])} << 16) |
           (int64_t{static_cast<unsigned char>(wal[at + 2])} << 8) |
           int64_t{static_cast<unsigned char>(wal[at + 3])};
  };
  if (wal.size() >= 32) {
    const size_t page_size = static_cast<size_t>(u32(8));
    for (size_t at = 32; at + 24 + page_size <= wal.size(); at += 24 + page_size) {
      if (wal.compare(at + 8, 8, wal, 16, 8) != 0) break;  // past the last valid frame
      pages.insert(u32(at));
    }
  }
  std::set<std::string> found;
  for (const auto& row : testing::QueryRows(db_path, "SELECT name, pageno FROM dbstat")) {
    if (pages.count(std::stoll(row[1])) != 0 &&
        std::find(names.begin(), names.end(), row[0]) != names.end()) {
      found.insert(row[0]);
    }
  }
  return found;
}

// Empties the WAL into the database file, from a connection of the test's own.
void TruncateWal(const std::string& db_path) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  // A connection that has not read the database yet does not know it is in WAL mode, and its
  // checkpoint is a silent no-op (log_frames -1).
  ASSERT_EQ(sqlite3_exec(db, "SELECT count(*) FROM sqlite_schema", nullptr, nullptr, nullptr),
            SQLITE_OK);
  int log_frames = -1;
  ASSERT_EQ(
      sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_TRUNCATE, &log_frames, nullptr),
      SQLITE_OK)
      << sqlite3_errmsg(db);
  EXPECT_EQ(log_frames, 0);
  sqlite3_close(db);
}

// The order's owner and paid flag as stored: "customer_id paid" ("NULL 1" without a customer).
std::string OrderOwner(const std::string& db_path, const std::string& platform_order_id) {
  return testing::QueryValue(db_path,
                             "SELECT coalesce(customer_id, 'NULL') || ' ' || paid FROM orders "
                             "WHERE platform_order_id = '" +
                                 platform_order_id + "'");
}

// A redelivered order (another event id, the same order and customer) writes no entry of the
// customer's or the order's indexes, only their rows: SQLite rewrites an index entry whenever
// the UPDATE assigns its column, equal or not, and on a large store each is a page of its own
// for the WAL and the checkpoint. What changed is still written: a new email, then the order's
// new customer; an order without a customer keeps its owner, and a paid order stays paid.
TEST_F(SqliteStorageTest, ARedeliveredOrderRewritesNoIndexOfItsCustomerOrOrder) {
  const std::string path = dir_.File("loyaltyd.db");
  // The two tables are in the list to show the commit reached the WAL (updated_at_ms).
  const std::vector<std::string> trees = {"customers", "orders", "customers_email",
                                          "orders_customer"};
  ASSERT_TRUE(storage_->CommitEventOutcomes({PaidOrder(StoreOne("a"), "100", 10)}, 2000).ok());
  const std::string first_owner = OrderOwner(path, "100");
  EXPECT_EQ(first_owner.substr(first_owner.find(' ')), " 1");
  const int64_t redelivery = StoreOne("b");
  TruncateWal(path);
  ASSERT_TRUE(storage_->CommitEventOutcomes({PaidOrder(redelivery, "100", 10)}, 3000).ok());
  EXPECT_EQ(TreesInWal(path, trees), (std::set<std::string>{"customers", "orders"}));

  // The email changed: its index entry is rewritten, and the customer is found by it.
  EventOutcome renamed = PaidOrder(StoreOne("c"), "100", 10);
  renamed.customer->email = "Ada@Engine.org";
  renamed.customer->email_normalised = "ada@engine.org";
  TruncateWal(path);
  ASSERT_TRUE(storage_->CommitEventOutcomes({renamed}, 4000).ok());
  EXPECT_EQ(TreesInWal(path, trees),
            (std::set<std::string>{"customers", "orders", "customers_email"}));
  auto found = storage_->FindCustomersByEmail("ada@engine.org");
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ((*found)[0].email, "Ada@Engine.org");
  EXPECT_TRUE(storage_->FindCustomersByEmail("ada@example.com")->empty());
  EXPECT_EQ(OrderOwner(path, "100"), first_owner);

  // The same order now names another customer: orders_customer follows.
  EventOutcome moved = PaidOrder(StoreOne("d"), "100", 10);
  moved.customer->platform_customer_id = "7002";
  moved.customer->email_normalised = "grace@example.com";
  TruncateWal(path);
  ASSERT_TRUE(storage_->CommitEventOutcomes({moved}, 5000).ok());
  EXPECT_EQ(TreesInWal(path, trees).count("orders_customer"), 1u);
  const int64_t grace = (*storage_->FindCustomersByEmail("grace@example.com"))[0].id;
  EXPECT_EQ(OrderOwner(path, "100"), std::to_string(grace) + " 1");

  // An update without a customer and not (yet) paid, as a late orders/create: nothing changes.
  EventOutcome late = PaidOrder(StoreOne("e"), "100", 0);
  late.customer.reset();
  late.points.clear();
  late.order->paid = false;
  ASSERT_TRUE(storage_->CommitEventOutcomes({late}, 6000).ok());
  EXPECT_EQ(OrderOwner(path, "100"), std::to_string(grace) + " 1");
}

// Shopify sends the customer's tags with every order: the same tags rewrite nothing of the
// customer's tier row (a scattered page per order otherwise); changed ones are stored.
TEST_F(SqliteStorageTest, UnchangedPlatformTagsRewriteNoTierRow) {
  const std::string path = dir_.File("loyaltyd.db");
  const auto tagged = [this](const std::string& key, const std::string& order_id,
                             std::vector<std::string> tags) {
    EventOutcome o = PaidOrder(StoreOne(key), order_id, 10);
    o.platform_tags = std::move(tags);
    return o;
  };
  ASSERT_TRUE(storage_->CommitEventOutcomes({tagged("a", "100", {"vip"})}, 2000).ok());
  const std::string stored = "SELECT platform_tags, updated_at_ms FROM customer_tiers";
  EXPECT_EQ(testing::QueryRows(path, stored),
            (std::vector<std::vector<std::string>>{{"vip", "2000"}}));

  TruncateWal(path);
  ASSERT_TRUE(storage_->CommitEventOutcomes({tagged("b", "101", {"vip"})}, 3000).ok());
  // customers is there to show the commit reached the WAL.
  EXPECT_EQ(TreesInWal(path, {"customers", "customer_tiers"}),
            (std::set<std::string>{"customers"}));
  EXPECT_EQ(testing::QueryRows(path, stored),
            (std::vector<std::vector<std::string>>{{"vip", "2000"}}));

  TruncateWal(path);
  ASSERT_TRUE(storage_->CommitEventOutcomes({tagged("c", "102", {"vip", "wholesale"})}, 4000).ok());
  EXPECT_EQ(TreesInWal(path, {"customers", "customer_tiers"}),
            (std::set<std::string>{"customers", "customer_tiers"}));
  EXPECT_EQ(testing::QueryRows(path, stored),
            (std::vector<std::vector<std::string>>{{"vip\nwholesale", "4000"}}));
}

// Deleting a row (a customer's erasure, a shop's redaction) makes SQLite look up every table
// whose foreign key references it: each child column needs an index it leads, or every deletion
// scans that whole table under the writer lock. point_lots_customer was dropped once for ingest
// speed and erasure became a scan of every lot; a shop redaction scanned the ledger for each
// inbox event. A partial index serves when its condition is `column IS NOT NULL` (the lookup's
// `column = ?` implies it; measured: 100 parent deletions over 10^6 children, 4.8 s unindexed,
// under 10 ms with it); any other partial index does not.
TEST_F(SqliteStorageTest, EveryForeignKeyHasAnIndex) {
  const auto rows = [this](const std::string& sql) {
    return testing::QueryRows(dir_.File("loyaltyd.db"), sql);
  };
  std::vector<std::string> unindexed;
  int checked = 0;
  for (const auto& table :
       rows("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")) {
    const std::string& t = table[0];
    // Columns an index of the table starts with (full, or partial on `column IS NOT NULL`), and
    // the rowid alias.
    std::set<std::string> leading;
    for (const auto& index :
         rows("PRAGMA index_list('" + t + "')")) {  // seq name unique origin partial
      const auto columns = rows("PRAGMA index_info('" + index[1] + "')");
      if (columns.empty()) continue;
      const std::string& column = columns[0][2];
      if (index[4] != "0") {
        const auto sql = rows("SELECT sql FROM sqlite_master WHERE name = '" + index[1] + "'");
        const std::string not_null = " WHERE " + column + " IS NOT NULL";
        if (sql.empty() || !sql[0][0].ends_with(not_null)) continue;
      }
      leading.insert(column);
    }
    for (const auto& column :
         rows("PRAGMA table_info('" + t + "')")) {  // cid name type notnull dflt pk
      if (column[5] == "1" && column[2] == "INTEGER") leading.insert(column[1]);
    }
    // id seq table from to on_update on_delete match
    for (const auto& fk : rows("PRAGMA foreign_key_list('" + t + "')")) {
      ++checked;
      if (leading.count(fk[3]) == 0) unindexed.push_back(t + "." + fk[3]);
    }
  }
  EXPECT_GT(checked, 40);  // the schema has 50 odd; none found means the pragmas were misread
  EXPECT_TRUE(unindexed.empty()) << "foreign keys without an index: "
                                 << ::testing::PrintToString(unindexed);
}

// A refund of `merchandise` on order `order_id` sent on its own (refunds/create).
EventOutcome RefundOutcome(int64_t event_id, const std::string& order_id, const std::string& key,
                           int64_t merchandise, bool allow_negative = false) {
  EventOutcome o;
  o.event_id = event_id;
  o.reason = "refund";
  o.order = OrderRecord{"demo", order_id, "", "", 0, 0, false, ""};
  o.order->placeholder = true;
  o.refunds.push_back(RefundRecord{key, merchandise, 0, false});
  o.allow_negative_balance = allow_negative;
  return o;
}

TEST_F(SqliteStorageTest, EachRefundClawsBackOnceWhateverTheRedeliveries) {
  ASSERT_TRUE(storage_->CommitEventOutcomes({PaidOrder(StoreOne("paid"), "1001", 49)}, 2000).ok());
  // 24.50 of the 49.00 eligible: half the points. The same refund id again, in a refund webhook
  // or inside a later order payload, takes nothing more.
  ASSERT_TRUE(
      storage_->CommitEventOutcomes({RefundOutcome(StoreOne("r1"), "1001", "77", 2450)}, 3000)
          .ok());
  ASSERT_TRUE(
      storage_->CommitEventOutcomes({RefundOutcome(StoreOne("r1-again"), "1001", "77", 2450)}, 4000)
          .ok());
  EventOutcome updated = PaidOrder(StoreOne("updated"), "1001", 49);
  updated.refunds.push_back(RefundRecord{"77", 2450, 0, false});
  ASSERT_TRUE(storage_->CommitEventOutcomes({updated}, 5000).ok());

  auto customers = storage_->FindCustomersByEmail("ada@example.com");
  ASSERT_EQ(customers->size(), 1u);
  EXPECT_EQ((*customers)[0].points_balance, 49 - 24);
  auto ledger = storage_->ListLedger((*customers)[0].id, 0, 10);
  ASSERT_EQ(ledger->size(), 2u);
  EXPECT_EQ((*ledger)[0].kind, "clawback");
  EXPECT_EQ((*ledger)[0].refund_key, "77");
  EXPECT_EQ((*ledger)[0].points, -24);
  EXPECT_EQ((*ledger)[0].balance_after, 25);
  EXPECT_EQ((*ledger)[0].order_platform_id, "1001");
  EXPECT_EQ((*ledger)[0].description,
            "refund 77: 24 of the 49 point(s) the order earned taken back");
}

TEST_F(SqliteStorageTest, ClawbackBeyondTheBalanceTakesWhatIsThereAndRecordsTheShortfall) {
  ASSERT_TRUE(storage_->CommitEventOutcomes({PaidOrder(StoreOne("paid"), "1001", 49)}, 2000).ok());
  auto customers = storage_->FindCustomersByEmail("ada@example.com");
  const int64_t customer_id = (*customers)[0].id;
  NewRedemption spend;
  spend.customer_id = customer_id;
  spend.shop_id = "demo";
  spend.idempotency_key = "spend-40";
  spend.reward_id = "five";
  spend.reward_kind = "fixed_discount";
  spend.reward_name = "$5 off";
  spend.points = 40;
  spend.currency = "USD";
  ASSERT_TRUE(storage_->CreateRedemption(spend, 2500).ok());

  ASSERT_TRUE(
      storage_->CommitEventOutcomes({RefundOutcome(StoreOne("r1"), "1001", "77", 4900)}, 3000)
          .ok());
  auto after = storage_->GetCustomer(customer_id);
  EXPECT_EQ((*after)->points_balance, 0);
  auto ledger = storage_->ListLedger(customer_id, 0, 10);
  ASSERT_EQ((*ledger)[0].kind, "clawback");
  EXPECT_EQ((*ledger)[0].points, -9);
  EXPECT_EQ((*ledger)[0].description,
            "refund 77: 49 of the 49 point(s) the order earned taken back; shortfall of 40 "
            "point(s) already spent: the balance held 9");
}

TEST_F(SqliteStorageTest, ClawbackMayGoNegativeWhenTheProgramAllowsIt) {
  ASSERT_TRUE(storage_->CommitEventOutcomes({PaidOrder(StoreOne("paid"), "1001", 49)}, 2000).ok());
  auto customers = storage_->FindCustomersByEmail("ada@example.com");
  const int64_t customer_id = (*customers)[0].id;
  NewRedemption spend;
  spend.customer_id = customer_id;
  spend.shop_id = "demo";
  spend.idempotency_key = "spend-40";
  spend.reward_id = "five";
  spend.reward_kind = "fixed_discount";
  spend.reward_name = "$5 off";
  spend.points = 40;
  spend.currency = "USD";
  ASSERT_TRUE(storage_->CreateRedemption(spend, 2500).ok());

  ASSERT_TRUE(
      storage_
          ->CommitEventOutcomes(
              {RefundOutcome(StoreOne("r1"), "1001", "77", 4900, /*allow_negative=*/true)}, 3000)
          .ok());
  auto after = storage_->GetCustomer(customer_id);
  EXPECT_EQ((*after)->points_balance, -40);
  auto ledger = storage_->ListLedger(customer_id, 0, 10);
  EXPECT_EQ((*ledger)[0].points, -49);
  EXPECT_EQ((*ledger)[0].balance_after, -40);
}

TEST_F(SqliteStorageTest, RefundBeforeTheOrderIsKeptAndAppliedWhenItEarns) {
  ASSERT_TRUE(
      storage_->CommitEventOutcomes({RefundOutcome(StoreOne("r1"), "1001", "77", 2450)}, 1000)
          .ok());
  EXPECT_TRUE(storage_->FindCustomersByEmail("ada@example.com")->empty());
  ASSERT_TRUE(storage_->CommitEventOutcomes({PaidOrder(StoreOne("paid"), "1001", 49)}, 2000).ok());
  auto customers = storage_->FindCustomersByEmail("ada@example.com");
  ASSERT_EQ(customers->size(), 1u);
  EXPECT_EQ((*customers)[0].points_balance, 49 - 24);
  auto ledger = storage_->ListLedger((*customers)[0].id, 0, 10);
  ASSERT_EQ(ledger->size(), 2u);
  EXPECT_EQ((*ledger)[0].kind, "clawback");
  EXPECT_EQ((*ledger)[1].kind, "earn");
  EXPECT_EQ((*ledger)[1].order_platform_id, "1001");  // the placeholder row became the order
}

}  // namespace
}  // namespace loyaltyd::sqlite_storage_test
