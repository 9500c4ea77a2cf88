/** Reconciliation rows as the admin API shows them (contract/reconciliation.ts). */
import type {
  ReconciliationItem,
  ReconciliationRun,
  ReconciliationStatus,
  ReconciliationTotals,
} from '../../contract/index.js';
import type { ItemRow, RunRow } from './reconciliation-repo.js';

export function runView(row: RunRow): ReconciliationRun {
  return {
    date: row.day,
    status: row.status as ReconciliationStatus,
    totals: row.totals === null ? null : (JSON.parse(row.totals) as ReconciliationTotals),
    differences: row.differences,
    repaired: row.repaired,
    billSha256: row.bill_sha256,
    fundFlowSha256: row.fund_flow_sha256,
    error: row.error,
    attempts: row.attempts,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}

export function itemView(row: ItemRow): ReconciliationItem {
  return {
    id: row.id,
    kind: row.kind,
    key: row.key,
    status: row.status as ReconciliationItem['status'],
    orderId: row.order_id,
    outTradeNo: row.out_trade_no,
    detail: row.detail,
    bill: row.bill === null ? null : JSON.parse(row.bill),
    ledger: row.ledger === null ? null : JSON.parse(row.ledger),
    createdAt: row.created_at,
  };
}
