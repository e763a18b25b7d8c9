// Internal to the SQLite storage: the statement helpers every sqlite_*.cc file of
// SqliteStorage shares (one class, its implementation split by subject so that each file
// reads as one part of the schema: inbox and events, redemptions and the outbox, ...).
// Not part of the storage interface; nothing outside src/storage includes it.
#pragma once

#include <sqlite3.h>

#include <cerrno>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>

#include "core/status.h"
#include "storage/sqlite_storage.h"

namespace loyaltyd {

// A connection's prepared statements, kept for its life: preparing a statement costs more than
// running most of ours (the event processor runs about ten per event; an admin read of a
// customer spent half its instructions parsing SQL). The writer has one, used under write_mu_;
// each reader has one, used by whoever holds that reader's lease.
class SqliteStorage::StatementCache {
 public:
  explicit StatementCache(sqlite3* db) : db_(db) {}
  ~StatementCache() {
    for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
  }
  StatementCache(const StatementCache&) = delete;
  StatementCache& operator=(const StatementCache&) = delete;

  sqlite3* db() const { return db_; }
  // SQLITE_OK and the statement, or the error code of preparing it.
  int Get(const char* sql, sqlite3_stmt** out) {
    auto it = statements_.find(sql);
    if (it != statements_.end()) {
      *out = it->second;
      return SQLITE_OK;
    }
    const int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, out, nullptr);
    if (rc == SQLITE_OK) statements_.emplace(sql, *out);
    return rc;
  }

 private:
  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> statements_;
};

// A read connection borrowed from the pool for one call.
class SqliteStorage::ReadLease {
 public:
  explicit ReadLease(SqliteStorage& storage) : storage_(storage), db_(storage.AcquireReader()) {}
  ~ReadLease() { storage_.ReleaseReader(db_); }
  sqlite3* db() const { return db_; }
  StatementCache& statements() const { return storage_.StatementsFor(db_); }

 private:
  SqliteStorage& storage_;
  sqlite3* db_;
};

namespace sqlite_internal {

// SQLite result codes that mean "try again later" rather than "this input is wrong".
// `os_error`: errno as it was right after the failed call (0: unknown).
inline Status SqliteError(sqlite3* db, int rc, std::string_view what, int os_error = 0) {
  std::string message = std::string(what) + ": " + sqlite3_errstr(rc);
  if (db != nullptr && sqlite3_errmsg(db) != nullptr) {
    message += " (";
    message += sqlite3_errmsg(db);
    message += ")";
  }
  // SQLite says "disk I/O error" alike for a file size limit (EFBIG), a file system gone
  // read-only (EROFS) or a failing disk (EIO); the operator needs the OS's reason to know
  // which, so it goes into the message (and the log line that quotes it). SQLite 3.40 leaves
  // sqlite3_system_errno() at 0 for a failed WAL write, hence the errno the caller saw.
  const int primary = rc & 0xFF;
  if (os_error == 0 && db != nullptr && (primary == SQLITE_IOERR || primary == SQLITE_CANTOPEN)) {
    os_error = sqlite3_system_errno(db);
  }
  if (os_error != 0 && (primary == SQLITE_IOERR || primary == SQLITE_CANTOPEN ||
                        primary == SQLITE_FULL || primary == SQLITE_READONLY)) {
    message += ": " + std::system_category().message(os_error);
  }
  switch (primary) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
    case SQLITE_READONLY:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_NOMEM:
      return Unavailable(message);
    case SQLITE_CONSTRAINT:
      return FailedPrecondition(message);
    default:
      return Internal(message);
  }
}

// A prepared statement for one use. Bind indices are 1-based. Either prepared here and
// finalised on scope exit, or borrowed from a StatementCache and reset on scope exit (which
// also ends any read it holds open).
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
  }
  Stmt(SqliteStorage::StatementCache& cache, const char* sql) : db_(cache.db()), cached_(true) {
    rc_ = cache.Get(sql, &stmt_);
  }
  ~Stmt() {
    if (!cached_) {
      sqlite3_finalize(stmt_);
    } else if (stmt_ != nullptr) {
      sqlite3_reset(stmt_);
      sqlite3_clear_bindings(stmt_);
    }
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Status prepare_status() const {
    return rc_ == SQLITE_OK ? Status::Ok() : SqliteError(db_, rc_, "preparing statement");
  }
  Stmt& Bind(int i, int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  // SQLITE_STATIC: SQLite reads the caller's bytes at step time, so `v` must outlive the step.
  Stmt& Bind(int i, const std::string& v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    return *this;
  }
  // A temporary would be gone by then (ASan found one); BindCopy makes SQLite keep a copy.
  Stmt& Bind(int i, std::string&& v) = delete;
  Stmt& BindCopy(int i, std::string_view v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& BindBlob(int i, const std::string& v) {
    sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    return *this;
  }
  Stmt& BindNullIfEmpty(int i, const std::string& v) {
    if (v.empty()) {
      sqlite3_bind_null(stmt_, i);
    } else {
      Bind(i, v);
    }
    return *this;
  }
  // SQLITE_ROW, SQLITE_DONE, or an error code.
  int Step() { return sqlite3_step(stmt_); }
  void Reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  std::string Text(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_blob(stmt_, col));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col))) : "";
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  bool cached_ = false;
  int rc_ = SQLITE_OK;
};

// Runs a statement without results (SAVEPOINT and the like) from the cache.
inline Status ExecCached(SqliteStorage::StatementCache& cache, const char* sql) {
  Stmt s(cache, sql);
  LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
  errno = 0;  // what a failed write leaves here says why (SqliteError)
  const int rc = s.Step();
  const int os_error = errno;
  return rc == SQLITE_DONE || rc == SQLITE_ROW ? Status::Ok()
                                               : SqliteError(cache.db(), rc, sql, os_error);
}

// COMMIT goes through here: in WAL mode that is where a transaction's writes reach the disk.
inline Status Exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  errno = 0;  // what a failed write leaves here says why (SqliteError)
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
  const int os_error = errno;
  sqlite3_free(err);
  return rc == SQLITE_OK ? Status::Ok() : SqliteError(db, rc, sql, os_error);
}

// One snapshot for the statements of a read: BEGIN (deferred: a read transaction from the
// first read on) ... ROLLBACK when it goes (it read only: nothing to keep), whether the read
// finished or stopped at an error. On a reader already in a transaction (a pinned snapshot,
// Storage::PinReadSnapshot) it joins that one and leaves it open: the pin ends it.
class ReadTransaction {
 public:
  explicit ReadTransaction(SqliteStorage::StatementCache& cache)
      : cache_(cache),
        began_(sqlite3_get_autocommit(cache.db()) != 0),
        status_(began_ ? ExecCached(cache, "BEGIN") : Status::Ok()) {}
  ~ReadTransaction() {
    // ROLLBACK ends a read transaction even with a statement still stepping (SQLite aborts it).
    if (began_ && status_.ok()) (void)ExecCached(cache_, "ROLLBACK");
  }
  ReadTransaction(const ReadTransaction&) = delete;
  ReadTransaction& operator=(const ReadTransaction&) = delete;
  const Status& status() const { return status_; }

 private:
  SqliteStorage::StatementCache& cache_;
  bool began_;
  Status status_;
};

inline Result<sqlite3*> OpenConnection(const std::string& path, bool read_only) {
  sqlite3* db = nullptr;
  const int flags =
      (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
      SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    Status st = SqliteError(db, rc, "opening database '" + path + "'");
    sqlite3_close(db);
    return st;
  }
  // busy_timeout covers other processes (a backup, the sqlite3 shell); in-process writers queue
  // on write_mu_ instead.
  sqlite3_busy_timeout(db, 5000);
  sqlite3_extended_result_codes(db, 1);
  return db;
}

// Runs `body` inside BEGIN IMMEDIATE ... COMMIT, rolling back on any error.
template <typename Fn>
Status InTransaction(sqlite3* db, Fn&& body) {
  LOYALTYD_RETURN_IF_ERROR(Exec(db, "BEGIN IMMEDIATE"));
  Status st = body();
  if (st.ok()) st = Exec(db, "COMMIT");
  if (!st.ok()) {
    (void)Exec(db, "ROLLBACK");
  }
  return st;
}

// Runs one statement that must change exactly `expected` rows (or any number when < 0).
inline Status StepDone(Stmt& s, sqlite3* db, std::string_view what) {
  LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
  const int rc = s.Step();
  return rc == SQLITE_DONE ? Status::Ok() : SqliteError(db, rc, what);
}

// A customers row selected as kCustomerRowColumns, or as kCustomerRowColumnsOfC where a query
// joins and names the customers table c (the same columns, qualified).
constexpr const char* kCustomerRowColumns =
    "id, shop_id, platform_customer_id, email, first_name, last_name, points_balance, "
    "created_at_ms, updated_at_ms, credit_balance_minor";
constexpr const char* kCustomerRowColumnsOfC =
    "c.id, c.shop_id, c.platform_customer_id, c.email, c.first_name, c.last_name, "
    "c.points_balance, c.created_at_ms, c.updated_at_ms, c.credit_balance_minor";
inline CustomerRecord ReadCustomerRow(const Stmt& s) {
  CustomerRecord c;
  c.id = s.Int(0);
  c.shop_id = s.Text(1);
  c.platform_customer_id = s.Text(2);
  c.email = s.Text(3);
  c.first_name = s.Text(4);
  c.last_name = s.Text(5);
  c.points_balance = s.Int(6);
  c.created_at_ms = s.Int(7);
  c.updated_at_ms = s.Int(8);
  c.credit_balance_minor = s.Int(9);
  return c;
}

}  // namespace sqlite_internal

template <typename Fn>
Status SqliteStorage::InTransaction(sqlite3* db, Fn&& body) {
  Status status = sqlite_internal::InTransaction(db, std::forward<Fn>(body));
  if (db == writer_) NoteWriteOutcome(status);
  return status;
}

}  // namespace loyaltyd
