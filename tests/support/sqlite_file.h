// Raw SQL on a database file, from a connection of the test's own, for what the storage
// interface does not show (the schema, a column no read returns, rows a test plants). A failing
// open, statement or step is a test failure, with SQLite's message.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>
#include <vector>

namespace loyaltyd::testing {

// Every row of a query, each column as text ("NULL" for NULL), on a read-only connection.
inline std::vector<std::vector<std::string>> QueryRows(const std::string& path,
                                                       const std::string& sql) {
  std::vector<std::vector<std::string>> rows;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << "cannot open " << path << ": " << sqlite3_errmsg(db);
    sqlite3_close(db);
    return rows;
  }
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << sqlite3_errmsg(db) << "\n" << sql;
  }
  int rc = SQLITE_DONE;
  while (stmt != nullptr && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    std::vector<std::string> row;
    for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
      const auto* text = sqlite3_column_text(stmt, i);
      row.push_back(text != nullptr ? reinterpret_cast<const char*>(text) : "NULL");
    }
    rows.push_back(std::move(row));
  }
  if (rc != SQLITE_DONE) ADD_FAILURE() << sqlite3_errmsg(db) << "\n" << sql;
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return rows;
}

// The first column of a query's first row ("" when it has none).
inline std::string QueryValue(const std::string& path, const std::string& sql) {
  const std::vector<std::vector<std::string>> rows = QueryRows(path, sql);
  return rows.empty() || rows[0].empty() ? std::string() : rows[0][0];
}

// Runs statements that return nothing, on a writable connection that waits up to `busy_ms` for
// the storage's writer. A failure is a test failure; false tells the caller to stop
// (ASSERT_TRUE(ExecSql(...))) where what follows needs the change.
inline bool ExecSql(const std::string& path, const std::string& sql, int busy_ms = 5000) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    ADD_FAILURE() << "cannot open " << path << ": " << sqlite3_errmsg(db);
    sqlite3_close(db);  // sqlite3_open makes a handle even when it fails
    return false;
  }
  sqlite3_busy_timeout(db, busy_ms);
  char* error = nullptr;
  const bool ok = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) == SQLITE_OK;
  if (!ok) ADD_FAILURE() << (error != nullptr ? error : sqlite3_errmsg(db)) << "\n" << sql;
  sqlite3_free(error);
  sqlite3_close(db);
  return ok;
}

}  // namespace loyaltyd::testing
