#include "http/route_table.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace loyaltyd::route_table_test {
namespace {

using Paths = std::vector<std::string>;

Paths Templates(std::string_view pattern) {
  Result<Paths> paths = RoutePathTemplates(pattern);
  EXPECT_TRUE(paths.ok()) << paths.status().ToString();
  return paths.ok() ? *paths : Paths{};
}

TEST(RouteTableTest, RecordsEachRouteAndRegistersItOnTheServer) {
  httplib::Server server;
  RouteTable routes(server);
  routes.Get("/healthz", [](const httplib::Request&, httplib::Response&) {})
      .Post(R"(/api/v1/jobs/(\d+)/retry)", [](const httplib::Request&, httplib::Response&) {})
      .Options("/api/v1/me", [](const httplib::Request&, httplib::Response&) {});
  ASSERT_EQ(routes.routes().size(), 3u);
  EXPECT_EQ(routes.routes()[0].method, "GET");
  EXPECT_EQ(routes.routes()[0].pattern, "/healthz");
  EXPECT_EQ(routes.routes()[1].method, "POST");
  EXPECT_EQ(routes.routes()[1].pattern, R"(/api/v1/jobs/(\d+)/retry)");
  EXPECT_EQ(routes.routes()[2].method, "OPTIONS");
}

TEST(RouteTableTest, TurnsPatternsIntoPathTemplates) {
  EXPECT_EQ(Templates("/api/v1/customers"), Paths({"/api/v1/customers"}));
  EXPECT_EQ(Templates(R"(/api/v1/customers/(\d+)/ledger)"), Paths({"/api/v1/customers/{}/ledger"}));
  EXPECT_EQ(Templates(R"(/api/v1/shops/([A-Za-z0-9._:-]+)/redact)"),
            Paths({"/api/v1/shops/{}/redact"}));
  EXPECT_EQ(Templates(R"(/api/v1/me(/ledger|/rewards)?)"),
            Paths({"/api/v1/me/ledger", "/api/v1/me/rewards", "/api/v1/me"}));
  EXPECT_EQ(Templates(R"(/a/(x|y)/b)"), Paths({"/a/x/b", "/a/y/b"}));
  EXPECT_EQ(Templates(R"(/file\.csv)"), Paths({"/file.csv"}));
}

TEST(RouteTableTest, RefusesPatternsItCannotTurnIntoPaths) {
  for (std::string_view pattern :
       {"/a/.*", "/a/(.*)", R"(/a/(\d+)?)", "/a/[0-9]+", "/a+", R"(/a/\w)", "/a/((b))", "/a/(b"}) {
    Result<Paths> paths = RoutePathTemplates(pattern);
    EXPECT_FALSE(paths.ok()) << pattern;
    if (!paths.ok()) {
      EXPECT_NE(paths.status().message().find(std::string(pattern)), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace loyaltyd::route_table_test
