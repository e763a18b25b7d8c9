// `loyaltyd import-balances`: the CSV import of opening balances (customers/balance_import.h)
// run on the config's database without the HTTP API and its body limit, for a migration's
// large file. Shares the parser, the checks and the once-per-customer rule with
// POST /api/v1/imports/balances, so a file can go through either, or both, safely.
#pragma once

#include <map>
#include <string>

namespace loyaltyd {

const char* ImportBalancesUsage();

// Exit code: 0 when the file was read (rejected rows are reported, not failures), 1 on a
// storage error or an unreadable file, 2 for bad usage, an invalid config or a bad header.
int RunImportBalances(const std::map<std::string, std::string>& flags);

}  // namespace loyaltyd
