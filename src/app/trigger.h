// `loyaltyd trigger`: sends a signed sample webhook to a running daemon, as Shopify CLI's
// `app webhook trigger` does, so a merchant can watch points arrive without a real shop.
#pragma once

#include <map>
#include <string>

namespace loyaltyd {

const char* TriggerUsage();

// Exit code: 0 when the daemon answered 2xx, 1 when it answered otherwise or could not be
// reached, 2 for bad usage.
int RunTrigger(const std::map<std::string, std::string>& flags);

}  // namespace loyaltyd
