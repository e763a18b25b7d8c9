// docs/openapi.yaml as the tests read it: the document (tests/support/yaml_subset.h), its
// operations, and the top-level fields of a documented JSON answer. Shared by
// tests/unit/http/openapi_routes_test.cc (routes both ways) and
// tests/integration/openapi_test.cc (real answers against the document).
#pragma once

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "support/yaml_subset.h"

namespace loyaltyd::test_support {

// The operations an OpenAPI path item may hold; any other key of a path item that is not one of
// kPathItemFields is an error (a typo such as "gett" must not hide an operation).
inline const std::vector<std::string>& OpenApiMethods() {
  static const std::vector<std::string> kMethods = {"get",     "put",  "post",  "delete",
                                                    "options", "head", "patch", "trace"};
  return kMethods;
}

struct OpenApiDocument {
  nlohmann::json doc;
  std::string error;  // empty when read
};

inline OpenApiDocument ReadOpenApiDocument(const std::string& path) {
  OpenApiDocument out;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    out.error = "cannot open " + path;
    return out;
  }
  std::stringstream text;
  text << in.rdbuf();
  YamlResult yaml = ParseYamlSubset(text.str());
  if (!yaml.ok()) {
    out.error = path + ": " + yaml.error;
    return out;
  }
  out.doc = std::move(yaml.value);
  if (!out.doc.is_object() || !out.doc.contains("paths") || !out.doc["paths"].is_object()) {
    out.error = path + ": no 'paths' mapping";
  }
  return out;
}

// "/api/v1/customers/{id}/ledger" -> "/api/v1/customers/{}/ledger": path parameters compared by
// position, not name (the route patterns have no names).
inline std::string NormalisePathTemplate(std::string_view path) {
  std::string out;
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '{') {
      const size_t close = path.find('}', i);
      if (close == path.npos) return std::string(path);
      out += "{}";
      i = close;
    } else {
      out += path[i];
    }
  }
  return out;
}

// "METHOD path" for every operation of the document, path as written; errors for path items
// with keys that are neither operations nor path-item fields.
inline std::set<std::string> DocumentedOperations(const nlohmann::json& doc,
                                                  std::vector<std::string>& errors) {
  static const std::set<std::string> kPathItemFields = {"summary", "description", "parameters",
                                                        "servers", "$ref"};
  std::set<std::string> out;
  for (const auto& [path, item] : doc["paths"].items()) {
    if (!item.is_object()) {
      errors.push_back(path + ": not a mapping");
      continue;
    }
    for (const auto& [key, op] : item.items()) {
      (void)op;
      const auto& methods = OpenApiMethods();
      if (std::find(methods.begin(), methods.end(), key) != methods.end()) {
        std::string method = key;
        for (char& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        out.insert(method + " " + path);
      } else if (!kPathItemFields.count(key)) {
        errors.push_back(path + ": unknown key '" + key + "'");
      }
    }
  }
  return out;
}

// Follows "$ref": "#/a/b/c" (local references only); null when it leads nowhere.
inline const nlohmann::json* ResolveRef(const nlohmann::json& doc, const nlohmann::json* node) {
  for (int depth = 0; node != nullptr && node->is_object() && node->contains("$ref"); ++depth) {
    if (depth > 20) return nullptr;
    const std::string ref = (*node)["$ref"].get<std::string>();
    if (!ref.starts_with("#/")) return nullptr;
    const nlohmann::json* at = &doc;
    std::string_view rest = std::string_view(ref).substr(2);
    while (!rest.empty()) {
      const size_t slash = rest.find('/');
      const std::string part(rest.substr(0, slash));
      if (!at->is_object() || !at->contains(part)) return nullptr;
      at = &(*at)[part];
      rest = slash == rest.npos ? std::string_view() : rest.substr(slash + 1);
    }
    node = at;
  }
  return node;
}

// The operation's documented response for `status`, resolved; null when not documented.
inline const nlohmann::json* DocumentedResponse(const nlohmann::json& doc, const std::string& path,
                                                const std::string& method, int status) {
  const nlohmann::json& paths = doc["paths"];
  if (!paths.contains(path) || !paths[path].contains(method)) return nullptr;
  const nlohmann::json& responses = paths[path][method]["responses"];
  const std::string code = std::to_string(status);
  if (!responses.is_object() || !responses.contains(code)) return nullptr;
  return ResolveRef(doc, &responses[code]);
}

inline std::vector<int> DocumentedStatuses(const nlohmann::json& doc, const std::string& path,
                                           const std::string& method) {
  std::vector<int> out;
  const nlohmann::json& paths = doc["paths"];
  if (!paths.contains(path) || !paths[path].contains(method)) return out;
  for (const auto& [code, response] : paths[path][method]["responses"].items()) {
    (void)response;
    out.push_back(std::stoi(code));
  }
  return out;
}

// The top-level fields an object schema documents: its properties (with those of allOf parts),
// which are required, and for oneOf/anyOf the union of the object branches' properties and the
// fields every object branch requires. Null branches are skipped.
struct SchemaFields {
  std::set<std::string> properties;
  std::set<std::string> required;
  bool object = false;  // some branch is an object schema
};

inline bool CollectSchemaFields(const nlohmann::json& doc, const nlohmann::json* schema,
                                SchemaFields& out, std::string& error, int depth = 0) {
  schema = ResolveRef(doc, schema);
  if (schema == nullptr || depth > 20) {
    error = "unresolvable schema";
    return false;
  }
  if (!schema->is_object()) {
    error = "schema is not a mapping";
    return false;
  }
  const nlohmann::json& s = *schema;
  if (s.contains("type") && s["type"] == "null") return true;
  if (s.contains("properties") || (s.contains("type") && s["type"] == "object")) out.object = true;
  if (s.contains("properties")) {
    for (const auto& [name, p] : s["properties"].items()) {
      (void)p;
      out.properties.insert(name);
    }
  }
  if (s.contains("required")) {
    for (const auto& r : s["required"]) out.required.insert(r.get<std::string>());
  }
  if (s.contains("allOf")) {
    for (const auto& part : s["allOf"]) {
      if (!CollectSchemaFields(doc, &part, out, error, depth + 1)) return false;
    }
  }
  for (const char* alternatives : {"oneOf", "anyOf"}) {
    if (!s.contains(alternatives)) continue;
    bool first = true;
    std::set<std::string> common;
    for (const auto& branch : s[alternatives]) {
      SchemaFields b;
      if (!CollectSchemaFields(doc, &branch, b, error, depth + 1)) return false;
      if (!b.object) continue;
      out.object = true;
      out.properties.insert(b.properties.begin(), b.properties.end());
      if (first) {
        common = b.required;
        first = false;
      } else {
        std::set<std::string> both;
        for (const std::string& r : common) {
          if (b.required.count(r)) both.insert(r);
        }
        common = both;
      }
    }
    out.required.insert(common.begin(), common.end());
  }
  return true;
}

// Checks a JSON body against the documented answer of (path, method, status): the status is
// documented, and when the body is a JSON object its top-level fields are the documented
// properties (every required one present, none undocumented). Returns "" or what is wrong.
inline std::string CheckAnswerAgainstDocument(const nlohmann::json& doc, const std::string& path,
                                              const std::string& method, int status,
                                              const std::string& body) {
  const std::string what = method + " " + path + " -> " + std::to_string(status);
  const nlohmann::json* response = DocumentedResponse(doc, path, method, status);
  if (response == nullptr) {
    std::string listed;
    for (int s : DocumentedStatuses(doc, path, method)) listed += " " + std::to_string(s);
    return what + ": status not documented (documented:" + listed + ")";
  }
  const bool has_json =
      response->contains("content") && (*response)["content"].contains("application/json");
  if (!has_json) {
    return body.empty() ? "" : what + ": body '" + body + "' but the document lists no content";
  }
  const nlohmann::json parsed = nlohmann::json::parse(body, nullptr, false);
  if (parsed.is_discarded()) return what + ": body is not JSON: " + body;
  SchemaFields fields;
  std::string error;
  if (!CollectSchemaFields(doc, &(*response)["content"]["application/json"]["schema"], fields,
                           error)) {
    return what + ": " + error;
  }
  if (!parsed.is_object()) {
    return fields.object ? what + ": body is not an object but the schema is" : "";
  }
  std::string problems;
  for (const std::string& r : fields.required) {
    if (!parsed.contains(r)) problems += " missing required '" + r + "';";
  }
  for (const auto& [key, value] : parsed.items()) {
    (void)value;
    if (!fields.properties.count(key)) problems += " undocumented field '" + key + "';";
  }
  return problems.empty() ? "" : what + ":" + problems;
}

}  // namespace loyaltyd::test_support
