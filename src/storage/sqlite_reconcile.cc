// SqliteStorage, reconciliation (webhooks/order_reconciler.h): what the ledger holds of an
// order, and each shop's high-water mark (docs/storage.md, "Reconciliation").
#include <sqlite3.h>

#include "storage/sqlite_statement.h"
#include "storage/sqlite_storage.h"

namespace loyaltyd {

using sqlite_internal::SqliteError;
using sqlite_internal::StepDone;
using sqlite_internal::Stmt;

Result<OrderLedgerFacts> SqliteStorage::GetOrderLedgerFacts(const std::string& shop_id,
                                                            const std::string& platform_order_id) {
  ReadLease lease(*this);
  OrderLedgerFacts facts;
  // A refund's placeholder row has no currency: only an order payload writes one.
  Stmt order(lease.statements(),
             "SELECT o.id, o.currency <> '', o.paid, "
             "EXISTS (SELECT 1 FROM ledger_entries l WHERE l.order_id = o.id AND l.kind = 'earn') "
             "OR EXISTS (SELECT 1 FROM pending_awards p WHERE p.order_id = o.id) "
             "FROM orders o WHERE o.shop_id = ?1 AND o.platform_order_id = ?2");
  LOYALTYD_RETURN_IF_ERROR(order.prepare_status());
  order.Bind(1, shop_id).Bind(2, platform_order_id);
  int rc = order.Step();
  if (rc == SQLITE_DONE) return facts;
  if (rc != SQLITE_ROW) return SqliteError(lease.db(), rc, "reading order");
  const int64_t order_id = order.Int(0);
  facts.known = order.Int(1) != 0;
  facts.paid = order.Int(2) != 0;
  facts.earned = order.Int(3) != 0;

  Stmt refunds(lease.statements(), "SELECT refund_key FROM order_refunds WHERE order_id = ?1");
  LOYALTYD_RETURN_IF_ERROR(refunds.prepare_status());
  refunds.Bind(1, order_id);
  while ((rc = refunds.Step()) == SQLITE_ROW) facts.refund_keys.insert(refunds.Text(0));
  if (rc != SQLITE_DONE) return SqliteError(lease.db(), rc, "reading refunds");
  return facts;
}

Result<std::optional<int64_t>> SqliteStorage::GetReconcileMark(const std::string& shop_id) {
  ReadLease lease(*this);
  Stmt s(lease.statements(), "SELECT high_water_ms FROM reconcile_marks WHERE shop_id = ?1");
  LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
  s.Bind(1, shop_id);
  const int rc = s.Step();
  if (rc == SQLITE_ROW) return std::optional<int64_t>(s.Int(0));
  if (rc == SQLITE_DONE) return std::optional<int64_t>();
  return SqliteError(lease.db(), rc, "reading reconcile mark");
}

Status SqliteStorage::SetReconcileMark(const std::string& shop_id, int64_t high_water_ms,
                                       int64_t now_ms) {
  std::lock_guard<std::mutex> lock(write_mu_);
  Stmt s(*writer_statements_,
         "INSERT INTO reconcile_marks (shop_id, high_water_ms, last_run_at_ms) VALUES (?1, ?2, ?3) "
         "ON CONFLICT(shop_id) DO UPDATE SET "
         "high_water_ms = MAX(high_water_ms, excluded.high_water_ms), "
         "last_run_at_ms = excluded.last_run_at_ms");
  LOYALTYD_RETURN_IF_ERROR(s.prepare_status());
  s.Bind(1, shop_id).Bind(2, high_water_ms).Bind(3, now_ms);
  return StepDone(s, writer_, "writing reconcile mark");
}

}  // namespace loyaltyd
