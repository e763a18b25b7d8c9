// The merchant's configuration, loaded from JSON and validated in full before anything uses it.
//
// Validation follows one table of keys, types, defaults and ranges (config.cc). Every problem
// is reported with its JSON path and the reason ("program.earn[0].per: must be a positive
// amount", "shops[0]: unknown key 'secret', did you mean 'webhook_secret'?"); unknown keys and
// out-of-range values are rejected, never clamped. Components receive a Config that is already
// valid and need not re-check it.
// Thread-safety: a loaded Config is an immutable value; share it by const reference.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/model.h"
#include "core/status.h"

namespace loyaltyd {

struct ServerConfig {
  std::string host = "127.0.0.1";
  int port = 8080;
  int64_t max_body_bytes = 1048576;
  // Worker threads serving connections. cpp-httplib holds one thread per keep-alive connection,
  // so this is also the number of connections served at once.
  int threads = 256;
  int keep_alive_max_requests = 10000;
  int keep_alive_timeout_seconds = 5;
  int read_timeout_seconds = 5;
  int listen_backlog = 1024;
};

struct StorageConfig {
  std::string sqlite_path = "var/loyaltyd.db";
  // Largest number of webhooks committed in one transaction by the group committer.
  int group_commit_max_batch = 512;
};

struct LoggingConfig {
  std::string level = "info";   // trace, debug, info, warn, error
  std::string format = "text";  // text | json
};

struct AdminConfig {
  std::string token;
};

struct ShopConfig {
  std::string id;
  Platform platform = Platform::kShopify;
  std::string domain;  // e.g. demo.myshopify.com
  // Accepts both while a secret rotation is under way (Shopify may sign with the old secret
  // for up to an hour). previous_webhook_secret is optional.
  std::string webhook_secret;
  std::string previous_webhook_secret;
};

enum class EarnRuleType { kSpend };

struct EarnRule {
  std::string id;  // stable identifier, part of the ledger's once-only key; default "spend"
  EarnRuleType type = EarnRuleType::kSpend;
  int64_t points = 0;     // points per `per`
  int64_t per_minor = 0;  // amount of eligible spend, in minor units of program.currency
};

struct ProgramConfig {
  std::string currency = "USD";
  int currency_exponent = 2;
  std::vector<EarnRule> earn;
};

struct Config {
  ServerConfig server;
  StorageConfig storage;
  LoggingConfig logging;
  AdminConfig admin;
  std::vector<ShopConfig> shops;
  ProgramConfig program;

  // The shop whose domain matches (case-insensitively), or nullptr.
  const ShopConfig* FindShopByDomain(std::string_view platform_domain, Platform platform) const;
  const ShopConfig* FindShopById(std::string_view id) const;
};

// One problem found in a configuration: where, and why.
struct ConfigProblem {
  std::string path;     // JSON path, e.g. "program.earn[0].per"
  std::string message;  // e.g. "must be a positive amount"
  std::string ToString() const { return path.empty() ? message : path + ": " + message; }
};

struct ConfigLoadResult {
  Config config;
  std::vector<ConfigProblem> problems;  // empty when config is valid
  bool ok() const { return problems.empty(); }
};

// Parses and validates JSON text. Collects every problem rather than stopping at the first.
ConfigLoadResult ParseConfig(std::string_view json_text);

// Reads the file and parses it. A missing or unreadable file is one problem with an empty path.
ConfigLoadResult LoadConfigFile(const std::string& path);

}  // namespace loyaltyd
