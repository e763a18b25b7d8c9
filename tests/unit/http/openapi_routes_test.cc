// docs/openapi.yaml against the routes the daemon really registers, in both directions: every
// (method, path) the daemon's RouteTable holds after Daemon::Create is an operation of the
// document, and every operation of the document is registered. Also pins the strict YAML
// subset reader the comparison relies on (tests/support/yaml_subset.h).
//
// The document is read with that reader: only its subset is allowed in docs/openapi.yaml (the
// file's header says which), so a construct the reader does not know fails here instead of
// being misread. Path parameters are compared by position: "/api/v1/customers/{id}" in the
// document and R"(/api/v1/customers/(\d+))" in the code are both "/api/v1/customers/{}".
#include <gtest/gtest.h>
#include <signal.h>

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "app/daemon.h"
#include "config/config.h"
#include "http/route_table.h"
#include "support/openapi_document.h"
#include "support/temp_dir.h"

namespace loyaltyd::openapi_routes_test {
namespace {

using nlohmann::json;
using test_support::DocumentedOperations;
using test_support::NormalisePathTemplate;
using test_support::ParseYamlSubset;
using test_support::ReadOpenApiDocument;

const std::string kDocumentPath = std::string(LOYALTYD_SOURCE_DIR) + "/docs/openapi.yaml";

// The daemon's routes from its real registration: Create builds every component (its database
// in a temporary directory) and registers the routes; nothing listens, no thread of the daemon
// is started. Create blocks SIGTERM/SIGINT/SIGHUP on the calling thread for its signal
// watcher; the test thread's mask is put back.
std::vector<RouteEntry> RegisteredRoutes(std::string& error) {
  testing::TempDir dir;
  const json config = {
      {"server", {{"listen", "127.0.0.1:0"}}},
      {"storage", {{"sqlite", {{"path", dir.File("loyaltyd.db")}}}}},
      {"admin", {{"token", "openapi-test-admin-token-0123456789abcdef"}}},
      {"shops",
       {{{"id", "s"},
         {"platform", "shopify"},
         {"domain", "s.myshopify.com"},
         {"webhook_secret", "openapi-test-secret-0123456789abcdef"}}}},
      {"program",
       {{"currency", "USD"}, {"earn", {{{"type", "spend"}, {"points", 1}, {"per", "1.00"}}}}}}};
  ConfigLoadResult loaded = ParseConfig(config.dump());
  if (!loaded.ok()) {
    error = "config: " + loaded.problems.front().message;
    return {};
  }
  sigset_t saved;
  pthread_sigmask(SIG_SETMASK, nullptr, &saved);
  Result<std::unique_ptr<Daemon>> daemon = Daemon::Create(std::move(loaded.config));
  pthread_sigmask(SIG_SETMASK, &saved, nullptr);
  if (!daemon.ok()) {
    error = "Daemon::Create: " + daemon.status().ToString();
    return {};
  }
  return (*daemon)->routes();
}

// "METHOD /normalised/path" -> how it is spelled where it came from, for the messages.
std::map<std::string, std::string> CodeOperations(const std::vector<RouteEntry>& routes,
                                                  std::vector<std::string>& errors) {
  std::map<std::string, std::string> out;
  for (const RouteEntry& route : routes) {
    Result<std::vector<std::string>> paths = RoutePathTemplates(route.pattern);
    if (!paths.ok()) {
      errors.push_back(paths.status().message());
      continue;
    }
    for (const std::string& path : *paths) {
      const std::string key = route.method + " " + path;
      if (out.count(key)) errors.push_back("registered twice: " + key);
      out[key] = route.method + " " + route.pattern;
    }
  }
  return out;
}

std::map<std::string, std::string> DocumentOperations(const json& doc,
                                                      std::vector<std::string>& errors) {
  std::map<std::string, std::string> out;
  for (const std::string& op : DocumentedOperations(doc, errors)) {
    const size_t space = op.find(' ');
    const std::string key = op.substr(0, space) + " " + NormalisePathTemplate(op.substr(space + 1));
    if (out.count(key)) errors.push_back("documented twice: " + op + " and " + out[key]);
    out[key] = op;
  }
  return out;
}

std::string Lines(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) out += "\n  " + item;
  return out;
}

TEST(OpenApiRoutesTest, EveryRegisteredRouteIsDocumentedAndEveryDocumentedOneRegistered) {
  const test_support::OpenApiDocument document = ReadOpenApiDocument(kDocumentPath);
  ASSERT_TRUE(document.error.empty()) << document.error;
  std::string error;
  const std::vector<RouteEntry> routes = RegisteredRoutes(error);
  ASSERT_TRUE(error.empty()) << error;
  ASSERT_FALSE(routes.empty());

  std::vector<std::string> errors;
  const std::map<std::string, std::string> code = CodeOperations(routes, errors);
  const std::map<std::string, std::string> documented = DocumentOperations(document.doc, errors);
  EXPECT_TRUE(errors.empty()) << Lines(errors);

  std::vector<std::string> undocumented;
  for (const auto& [key, pattern] : code) {
    if (!documented.count(key)) undocumented.push_back(key + "   (registered as " + pattern + ")");
  }
  std::vector<std::string> unregistered;
  for (const auto& [key, spelled] : documented) {
    if (!code.count(key)) unregistered.push_back(spelled);
  }
  EXPECT_TRUE(undocumented.empty())
      << "registered by the daemon but missing from docs/openapi.yaml ({} is a path parameter):"
      << Lines(undocumented);
  EXPECT_TRUE(unregistered.empty())
      << "in docs/openapi.yaml but not registered by the daemon:" << Lines(unregistered);
}

// Every operation says what it answers, and names the path's parameters; every $ref resolves.
TEST(OpenApiRoutesTest, EveryOperationHasResponsesAndItsPathParameters) {
  const test_support::OpenApiDocument document = ReadOpenApiDocument(kDocumentPath);
  ASSERT_TRUE(document.error.empty()) << document.error;
  const json& doc = document.doc;
  EXPECT_TRUE(doc["openapi"].is_string() && doc["openapi"].get<std::string>().starts_with("3."));
  std::vector<std::string> problems;
  std::function<void(const json&, const std::string&)> check_refs = [&](const json& node,
                                                                        const std::string& at) {
    if (node.is_object()) {
      if (node.contains("$ref") && test_support::ResolveRef(doc, &node) == nullptr) {
        problems.push_back(at + ": $ref " + node["$ref"].dump() + " leads nowhere");
      }
      for (const auto& [k, v] : node.items()) check_refs(v, at + "/" + k);
    } else if (node.is_array()) {
      for (size_t i = 0; i < node.size(); ++i) check_refs(node[i], at + "/" + std::to_string(i));
    }
  };
  check_refs(doc, "#");
  for (const auto& [path, item] : doc["paths"].items()) {
    std::set<std::string> in_path;
    for (size_t open = path.find('{'); open != std::string::npos; open = path.find('{', open)) {
      const size_t close = path.find('}', open);
      in_path.insert(path.substr(open + 1, close - open - 1));
      open = close;
    }
    for (const auto& [method, op] : item.items()) {
      const auto& methods = test_support::OpenApiMethods();
      if (std::find(methods.begin(), methods.end(), method) == methods.end()) continue;
      if (!op.is_object() || !op.contains("responses")) {
        problems.push_back(method + " " + path + ": no responses");
        continue;
      }
      std::set<std::string> declared;
      if (op.contains("parameters")) {
        for (const json& p : op["parameters"]) {
          const json* param = test_support::ResolveRef(doc, &p);
          if (param != nullptr && (*param)["in"] == "path") {
            declared.insert((*param)["name"].get<std::string>());
          }
        }
      }
      if (declared != in_path) {
        problems.push_back(method + " " + path + ": path parameters declared do not match");
      }
    }
  }
  EXPECT_TRUE(problems.empty()) << Lines(problems);
}

// --- The YAML subset reader ---

TEST(YamlSubsetTest, ReadsTheConstructsTheDocumentUses) {
  const test_support::YamlResult r = ParseYamlSubset(
      "# a comment\n"
      "openapi: 3.1.0\n"
      "count: 42\n"
      "flag: true\n"
      "none: null\n"
      "quoted: '#/components/schemas/Id'  # trailing comment\n"
      "double: \"a \\\"b\\\" c\"\n"
      "flow: [a, 'b, c', 7]\n"
      "empty: {}\n"
      "paths:\n"
      "  /x/{id}:\n"
      "    get:\n"
      "      security: []\n"
      "      list:\n"
      "        - $ref: '#/a'\n"
      "          extra: 1\n"
      "        - plain item\n"
      "        -\n"
      "          nested: yes\n"
      "  '200':\n"
      "    description: >\n"
      "      folded\n"
      "      text\n"
      "    literal: |-\n"
      "      line one\n"
      "      # not a comment\n");
  ASSERT_TRUE(r.ok()) << r.error;
  const json& v = r.value;
  EXPECT_EQ(v["openapi"], "3.1.0");
  EXPECT_EQ(v["count"], 42);
  EXPECT_EQ(v["flag"], true);
  EXPECT_TRUE(v["none"].is_null());
  EXPECT_EQ(v["quoted"], "#/components/schemas/Id");
  EXPECT_EQ(v["double"], "a \"b\" c");
  EXPECT_EQ(v["flow"], json::array({"a", "b, c", 7}));
  EXPECT_EQ(v["empty"], json::object());
  const json& list = v["paths"]["/x/{id}"]["get"]["list"];
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0], json({{"$ref", "#/a"}, {"extra", 1}}));
  EXPECT_EQ(list[1], "plain item");
  EXPECT_EQ(list[2], json({{"nested", "yes"}}));
  EXPECT_EQ(v["paths"]["/x/{id}"]["get"]["security"], json::array());
  EXPECT_EQ(v["paths"]["200"]["description"], "folded text\n");
  EXPECT_EQ(v["paths"]["200"]["literal"], "line one\n# not a comment");
}

TEST(YamlSubsetTest, RefusesWhatIsOutsideTheSubsetNamingTheLine) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"a: 1\n\tb: 2\n", "line 2: tab"},
      {"a:\n  b: 1\n   c: 2\n", "line 3: unexpected indentation"},
      {"a: 1\na: 2\n", "line 2: duplicate key 'a'"},
      {"a: &anchor 1\n", "line 1: '&'"},
      {"a: *alias\n", "line 1: '*'"},
      {"a: {b: 1}\n", "line 1: flow mappings"},
      {"a: [b, [c]]\n", "line 1: nested flow"},
      {"a: b: c\n", "line 1: ': ' in a plain scalar"},
      {"a: one\n  two\n", "line 2: unexpected indentation"},
      {"---\na: 1\n", "line 1: document markers"},
      {"a:\n- b\n", "line 2: indent a sequence under its key"},
      {"a: \"x\\q\"\n", "line 1: escape \\q"},
      {"a: 'x' y\n", "line 1: text after a single-quoted scalar"},
      {"  a: 1\n", "line 1: the document must start at column 1"},
      {"a:\n  - b\n  c: d\n", "line 3: a mapping entry inside a sequence"},
  };
  for (const auto& [text, expected] : cases) {
    const test_support::YamlResult r = ParseYamlSubset(text);
    EXPECT_FALSE(r.ok()) << text;
    EXPECT_TRUE(r.error.starts_with(expected) || r.error.find(expected) != std::string::npos)
        << "for " << json(text).dump() << " got '" << r.error << "', expected '" << expected << "'";
  }
}

// The comparison itself: the two directions report what they should.
TEST(OpenApiRoutesTest, NormalisesPathParametersByPosition) {
  EXPECT_EQ(NormalisePathTemplate("/api/v1/shops/{shop_id}/redact"), "/api/v1/shops/{}/redact");
  EXPECT_EQ(NormalisePathTemplate("/healthz"), "/healthz");
  std::vector<std::string> errors;
  const json doc = {
      {"paths", {{"/a/{id}", {{"get", {{"responses", json::object()}}}, {"gett", 1}}}}}};
  const std::set<std::string> ops = DocumentedOperations(doc, errors);
  EXPECT_EQ(ops, std::set<std::string>({"GET /a/{id}"}));
  EXPECT_EQ(errors, std::vector<std::string>({"/a/{id}: unknown key 'gett'"}));
}

}  // namespace
}  // namespace loyaltyd::openapi_routes_test
