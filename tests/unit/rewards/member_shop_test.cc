// FindMemberShop (shared membership): the member's books pay, the reward is for the member's
// account on the store it is issued in; a store the member has no account on is refused.
#include "rewards/member_shop.h"

#include <gtest/gtest.h>

#include "core/model.h"
#include "storage/sqlite_storage.h"
#include "support/temp_dir.h"

namespace loyaltyd::member_shop_test {
namespace {

Config ThreeShops() {
  ConfigLoadResult loaded = ParseConfig(R"({
    "admin": {"token": "0123456789abcdef0123"},
    "shops": [
      {"id": "shop-a", "platform": "shopify", "domain": "a.myshopify.com",
       "webhook_secret": "secret-a-123"},
      {"id": "woo-b", "platform": "woocommerce", "domain": "b.example.com",
       "webhook_secret": "secret-b-123"},
      {"id": "shop-c", "platform": "shopify", "domain": "c.myshopify.com",
       "webhook_secret": "secret-c-123"}],
    "program": {"currency": "USD", "shared_by": ["shop-a", "woo-b"],
                "shared_trust_woocommerce_email": true}
  })");
  EXPECT_TRUE(loaded.ok()) << (loaded.problems.empty() ? "" : loaded.problems[0].ToString());
  return loaded.config;
}

class MemberShopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = SqliteStorage::Open(dir_.File("loyaltyd.db"));
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    storage_ = std::move(opened).value();
  }

  // An account seen through a customer event; returns its customer id.
  int64_t Seen(const std::string& shop, const std::string& platform_id, bool verified) {
    const std::string key = "evt-" + shop + "-" + platform_id;
    EXPECT_TRUE(
        storage_->AppendToInbox({{shop, "shopify", "customers/update", key, key, "{}", 1}}).ok());
    auto pending = storage_->LoadPendingEvents(0, 100);
    EXPECT_TRUE(pending.ok());
    EventOutcome o;
    for (const InboxEvent& e : *pending) {
      if (e.dedupe_key == key) o.event_id = e.id;
    }
    o.customer =
        CustomerIdentity{shop, platform_id, "ada@example.com", "ada@example.com", "Ada", ""};
    o.customer->link_by_email = verified;
    EXPECT_TRUE(storage_->CommitEventOutcomes({o}, ++now_).ok());
    auto found = storage_->FindCustomersByEmail("ada@example.com");
    for (const CustomerRecord& c : *found) {
      if (c.shop_id == shop && c.platform_customer_id == platform_id) return c.id;
    }
    ADD_FAILURE() << "account not recorded";
    return 0;
  }

  testing::TempDir dir_;
  std::unique_ptr<SqliteStorage> storage_;
  Config config_ = ThreeShops();
  int64_t now_ = 1000;
};

TEST_F(MemberShopTest, TheMemberPaysAndTheRewardIsForItsAccountOnTheStore) {
  const int64_t a = Seen("shop-a", "7001", true);
  const int64_t b = Seen("woo-b", "12", true);

  // Through the WooCommerce account, without a shop: issued there, paid by the member.
  Result<MemberShop> on_b = FindMemberShop(*storage_, config_, b, "");
  ASSERT_TRUE(on_b.ok()) << on_b.status().ToString();
  EXPECT_EQ(on_b->member.id, a);
  EXPECT_EQ(on_b->account.id, b);
  EXPECT_EQ(on_b->shop->id, "woo-b");
  EXPECT_EQ(on_b->accounts.size(), 2u);

  // The same member names the Shopify store.
  Result<MemberShop> on_a = FindMemberShop(*storage_, config_, b, "shop-a");
  ASSERT_TRUE(on_a.ok()) << on_a.status().ToString();
  EXPECT_EQ(on_a->member.id, a);
  EXPECT_EQ(on_a->account.platform_customer_id, "7001");
  EXPECT_EQ(on_a->shop->id, "shop-a");
}

TEST_F(MemberShopTest, AStoreWithoutAnAccountOrUnknownIsRefused) {
  const int64_t a = Seen("shop-a", "7001", true);
  Result<MemberShop> none = FindMemberShop(*storage_, config_, a, "shop-c");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(none.status().message(),
            "customer " + std::to_string(a) +
                " has no account on shop 'shop-c' (accounts on: shop-a); a reward is issued in "
                "a store the customer has an account on");
  Result<MemberShop> unknown = FindMemberShop(*storage_, config_, a, "nope");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().message(),
            "'shop_id': no shop 'nope' in the config; shops: shop-a, woo-b, shop-c");
  EXPECT_EQ(FindMemberShop(*storage_, config_, 999, "").status().code(), StatusCode::kNotFound);
}

TEST_F(MemberShopTest, AnUnverifiedAccountIsAMemberOfOne) {
  Seen("shop-a", "7001", true);
  const int64_t b = Seen("woo-b", "12", false);
  Result<MemberShop> on_b = FindMemberShop(*storage_, config_, b, "");
  ASSERT_TRUE(on_b.ok());
  EXPECT_EQ(on_b->member.id, b);
  EXPECT_EQ(on_b->accounts.size(), 1u);
  EXPECT_FALSE(FindMemberShop(*storage_, config_, b, "shop-a").ok());
}

}  // namespace
}  // namespace loyaltyd::member_shop_test
