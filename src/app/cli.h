// The `loyaltyd` command line: serve, check-config, trigger, help, version.
// Returns the process exit code: 0 success, 1 runtime failure, 2 usage or invalid config.
#pragma once

namespace loyaltyd {

int RunCli(int argc, char** argv);

}  // namespace loyaltyd
