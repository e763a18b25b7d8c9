// Process-wide logging setup: spdlog to stderr, as text or as JSON lines.
//
// What is logged never includes a secret (webhook secrets, the admin token) or a payload body:
// log lines name events by shop, topic and id. tests/integration greps a full run's log to keep
// it that way.
// Thread-safety: call ConfigureLogging once at start-up, before other threads log. SetLogLevel
// may be called from any thread at any time (a reload); the format is fixed at start-up.
#pragma once

#include "config/config.h"
#include "core/status.h"

namespace loyaltyd {

Status ConfigureLogging(const LoggingConfig& logging);

// Changes the level of the logger ConfigureLogging installed (logging.level on reload).
// InvalidArgument for an unknown level; the level is then unchanged.
Status SetLogLevel(const std::string& level);

}  // namespace loyaltyd
