#include "core/identity.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace loyaltyd::identity_test {
namespace {

TEST(IdentityTest, CanonicalEmailReachesTheSameInbox) {
  struct Case {
    std::string email;
    std::string canonical;
  };
  const std::vector<Case> cases = {
      {"", ""},
      {"   ", ""},
      {"no-at-sign", ""},
      {"@example.com", ""},
      {"ada@", ""},
      {"Ada@Example.com", "ada@example.com"},
      {"  Ada.Lovelace+shop@Example.COM \t", "ada.lovelace@example.com"},  // dots kept
      {"ada+a+b@example.com", "ada@example.com"},
      {"ada+@example.com", "ada@example.com"},
      {"A.d.a+promo@GMail.com", "ada@gmail.com"},
      {"a.d.a@googlemail.com", "ada@gmail.com"},
      {"ada@gmail.com", "ada@gmail.com"},
      // Only Gmail ignores dots; a look-alike domain keeps them.
      {"a.da@gmail.com.example.net", "a.da@gmail.com.example.net"},
      {"a.da@mygmail.com", "a.da@mygmail.com"},
      // Rules that would empty the local part leave it whole: no collapse into "@domain".
      {"+tag@example.com", "+tag@example.com"},
      {"...@gmail.com", "...@gmail.com"},
      {".+x@googlemail.com", ".+x@gmail.com"},
      // Non-ASCII: bytes kept, ASCII lower-cased (NormaliseEmail).
      {"Jos\u00e9+Promo@Ex\u00e4mple.com", "jos\u00e9@ex\u00e4mple.com"},
      {"\u00e9.l\u00e8ve@gmail.com", "\u00e9l\u00e8ve@gmail.com"},
      // A quoted local part may hold an '@': the domain is after the last one.
      {"\"a.b@c\"@gmail.com", "\"ab@c\"@gmail.com"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.email);
    EXPECT_EQ(CanonicalEmail(c.email), c.canonical);
  }
  EXPECT_EQ(CanonicalEmail("Ada.Lovelace+ref@googlemail.com"),
            CanonicalEmail("adalovelace@gmail.com"));
  EXPECT_NE(CanonicalEmail("ada.lovelace@example.com"), CanonicalEmail("adalovelace@example.com"));
}

TEST(IdentityTest, PhoneKeyIgnoresFormattingAndCountryPrefixes) {
  struct Case {
    std::string phone;
    std::string key;
  };
  const std::vector<Case> cases = {
      {"", ""},
      {"n/a", ""},
      {"123456", ""},  // too short to mean anything
      {"1234567", "1234567"},
      {"+1 (613) 612-0707", "6136120707"},
      {"613-612-0707", "6136120707"},
      {"16136120707", "6136120707"},
      {"+16136120707", "6136120707"},
      {"+44 20 7946 0000", "2079460000"},
      {"020 7946 0000", "2079460000"},
      {"0044 20 7946 0000", "2079460000"},
      {"(555) 555-5555", "5555555555"},
      // Only ASCII digits count: full-width digits are not read.
      {"\uff16\uff11\uff13\uff16\uff11\uff12\uff10\uff17\uff10\uff17", ""},
      {"t\u00e9l: 613.612.0707", "6136120707"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.phone);
    EXPECT_EQ(PhoneKey(c.phone), c.key);
  }
}

TEST(IdentityTest, AddressKeyMatchesTheSameDoorDespiteCaseAndPunctuation) {
  struct Case {
    Address address;
    std::string key;
  };
  const std::vector<Case> cases = {
      {Address{}, ""},
      {Address{"", "Apt 5", "London", "", "SW1Y 4JH", "GB"}, ""},
      {Address{"--- / ---", "", "London", "", "SW1Y 4JH", "GB"}, ""},
      {Address{"12 St. James's Sq", "", "London", "", "sw1y 4jh", "gb"}, "12stjamesssq|SW1Y4JH|GB"},
      // address2, city and province are not part of the key.
      {Address{"12 ST JAMES'S SQ", "Flat 2", "LONDON", "LND", " SW1Y\t4JH ", "GB"},
       "12stjamesssq|SW1Y4JH|GB"},
      {Address{"969 Market", "", "San Francisco", "CA", "94103", "US"}, "969market|94103|US"},
      {Address{"969 Market", "", "", "", "", ""}, "969market||"},
      // Non-ASCII letters are kept as sent.
      {Address{"Stra\u00dfe 5", "", "Berlin", "", "10115", "de"}, "stra\u00dfe5|10115|DE"},
      {Address{"\u6771\u4eac\u90fd1-2-3", "", "", "", "100-0001", "JP"},
       "\u6771\u4eac\u90fd123|100-0001|JP"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.address.address1);
    EXPECT_EQ(AddressKey(c.address), c.key);
  }
  EXPECT_NE(AddressKey(Address{"\u6771\u4eac\u90fd1-2-3", "", "", "", "100-0001", "JP"}),
            AddressKey(Address{"\u5927\u962a1-2-3", "", "", "", "100-0001", "JP"}));
}

TEST(IdentityTest, RefCodesAreReadFromTheQuery) {
  struct Case {
    std::string landing_site;
    std::string parameter;
    std::vector<std::string> codes;
  };
  const std::vector<Case> cases = {
      {"", "ref", {}},
      {"/", "ref", {}},
      {"/products/tee", "ref", {}},
      {"/?ref=ABC123", "ref", {"ABC123"}},
      {"https://shop.example.com/products/tee?utm_source=mail&ref=ABC123", "ref", {"ABC123"}},
      {"/?ref=A%20B&x=1&ref=C+D", "ref", {"A B", "C D"}},
      {"/?ref=&ref=X", "ref", {"X"}},
      {"/?ref", "ref", {}},
      {"/?a=1&&ref=X&", "ref", {"X"}},
      {"/?ref=a=b", "ref", {"a=b"}},
      // The fragment is not the query.
      {"/?ref=X#ref=Y", "ref", {"X"}},
      {"/#/?ref=X", "ref", {}},
      {"/?x=1#", "ref", {}},
      // The name matches exactly: case and look-alikes do not.
      {"/?REF=X&Ref=Y&referrer=Z&xref=W&ref_=V", "ref", {}},
      {"/?r%65f=X", "ref", {"X"}},  // the name is decoded before it is compared
      // Percent-decoding, UTF-8 and malformed escapes (kept literally).
      {"/?ref=caf%C3%A9", "ref", {"caf\u00e9"}},
      {"/?ref=%E2%9C%93", "ref", {"\u2713"}},
      {"/?ref=caf\u00e9", "ref", {"caf\u00e9"}},
      {"/?ref=100%", "ref", {"100%"}},
      {"/?ref=%zz", "ref", {"%zz"}},
      {"/?ref=%4", "ref", {"%4"}},
      {"/?ref=%2B1", "ref", {"+1"}},
      {"/?utm_source=r&source=S", "source", {"S"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.landing_site);
    EXPECT_EQ(RefCodesFromLandingSite(c.landing_site, c.parameter), c.codes);
  }
}

}  // namespace
}  // namespace loyaltyd::identity_test
