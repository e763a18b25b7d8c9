// RouteTable: the one way HTTP routes are added to the daemon's server, so that the list of
// routes it serves can be inspected (tests/unit/http/openapi_routes_test.cc compares it with
// docs/openapi.yaml in both directions) and cannot drift from the real registration.
//
// Each Get/Post/Options call records {method, pattern} and hands the handler to the
// httplib::Server unchanged: matching and dispatch stay cpp-httplib's own (a pattern is a
// std::regex matched against the whole path, its groups in Request::matches).
// Thread-safety: register from one thread before the server listens; routes() may be read by
// any thread afterwards.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "http/server_tuning.h"

namespace loyaltyd {

struct RouteEntry {
  std::string method;   // "GET", "POST", "OPTIONS"
  std::string pattern;  // as registered: a literal path or a cpp-httplib regex
};

class RouteTable {
 public:
  // `server` must outlive the table.
  explicit RouteTable(httplib::Server& server) : server_(server) {}

  RouteTable& Get(const std::string& pattern, httplib::Server::Handler handler);
  RouteTable& Post(const std::string& pattern, httplib::Server::Handler handler);
  RouteTable& Options(const std::string& pattern, httplib::Server::Handler handler);

  // In registration order.
  const std::vector<RouteEntry>& routes() const { return routes_; }

 private:
  httplib::Server& server_;
  std::vector<RouteEntry> routes_;
};

// The OpenAPI path templates a route pattern matches, with "{}" for each path parameter:
// R"(/api/v1/customers/(\d+)/ledger)" -> {"/api/v1/customers/{}/ledger"}, and a group of
// literal alternatives expands, R"(/api/v1/me(/ledger|/rewards)?)" -> {"/api/v1/me",
// "/api/v1/me/ledger", "/api/v1/me/rewards"}. Understood: literal characters (and "\." style
// escapes), a capture of one path segment ("(\d+)", "([A-Za-z0-9._:-]+)": a group whose body is
// one character class or \d with "+"), and a group of "|"-separated literals, optionally
// followed by "?". Anything else is InvalidArgument naming the pattern, so that a new kind of
// route is noticed by the test rather than compared wrongly.
Result<std::vector<std::string>> RoutePathTemplates(std::string_view pattern);

}  // namespace loyaltyd
