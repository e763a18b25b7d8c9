// Internal to the Shopify connector: one Admin GraphQL call and how its failures map to the
// outcome classes of connector/reward_client.h (transport errors, 5xx, 429 and THROTTLED are
// Unavailable with retry_after_ms; 401/403 and ACCESS_DENIED Unauthenticated; other GraphQL
// errors FailedPrecondition). Shared by the write-back client and the order source; defined in
// shopify_admin_client.cc. Not part of the connector's interface.
// Thread-safety: as the httplib::Client passed in (one call at a time per client).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "connector/reward_client.h"

namespace httplib {
class Client;
}  // namespace httplib

namespace loyaltyd::shopify_internal {

struct GraphqlOutcome {
  PlatformResponse failure;  // status not ok when the call did not produce data
  nlohmann::json data;
  bool ok() const { return failure.status.ok(); }
};

// POSTs {query, variables} to `path` with the access token. Never throws.
GraphqlOutcome Execute(httplib::Client& http, const std::string& path, const std::string& token,
                       const char* query, const nlohmann::json& variables);

}  // namespace loyaltyd::shopify_internal
