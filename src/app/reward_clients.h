// Builds each shop's write-back client (connectors/<platform>/..._client) from its config.
// Thread-safety: a plain function; the clients it returns are used by the outbox worker only.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "config/config.h"
#include "connector/reward_client.h"
#include "core/clock.h"

namespace loyaltyd {

// One client per shop that has `api` credentials; shops without are absent from the map and
// cannot issue rewards (the redemption API says so). `config` and `clock` must outlive them.
std::map<std::string, std::unique_ptr<RewardClient>> MakeRewardClients(const Config& config,
                                                                       const Clock& clock);

}  // namespace loyaltyd
