// The point-lot invariant that reading a customer's lots relies on (SqliteStorage::ListLots
// and the privacy export find them through the customer's ledger entries): each lot belongs to
// a positive ledger entry of the same customer, and lots in id order are their entries in id
// order. Read over a second connection (WAL: the storage's committed rows are visible).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>

namespace loyaltyd::testing {

// How many lots break the invariant in the database at `path`; -1 when it cannot be read.
inline int64_t LotsNotFollowingTheirEntries(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return -1;
  }
  // A lot whose entry is another customer's or not a credit, or whose entry comes before the
  // entry of the lot made just before it.
  const char* sql =
      "SELECT COUNT(*) FROM point_lots l JOIN ledger_entries e ON e.id = l.ledger_entry_id "
      "WHERE l.customer_id != e.customer_id OR e.points <= 0 OR l.ledger_entry_id <= "
      "(SELECT p.ledger_entry_id FROM point_lots p WHERE p.id < l.id ORDER BY p.id DESC LIMIT 1)";
  sqlite3_stmt* stmt = nullptr;
  int64_t count = -1;
  if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW) {
    count = sqlite3_column_int64(stmt, 0);
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return count;
}

}  // namespace loyaltyd::testing
