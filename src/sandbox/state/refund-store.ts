/** The sandbox's refunds: accepted (PROCESSING), then settled at `settle_at` (refunds.ts). */
import type Database from 'better-sqlite3';
import { DueRows } from './due-rows.js';
import { insertRow } from './insert-row.js';

export type RefundStatus = 'PROCESSING' | 'SUCCESS' | 'CHANGE' | 'REFUNDCLOSE';
export type RefundSource = 'API' | 'VENDOR_PLATFORM';

export interface RefundRow {
  refund_id: string;
  mch_id: string;
  out_refund_no: string;
  out_trade_no: string;
  transaction_id: string;
  total_fee: number;
  refund_fee: number;
  refund_desc: string | null;
  refund_account: string;
  source: RefundSource;
  status: RefundStatus;
  /** Where the refund notify goes (`notify_url` of the request, else the portal setting). */
  notify_url: string | null;
  /** Canonical JSON of the request's business parameters, for the idempotency check. */
  params: string;
  created_at: number;
  /** When WeChat finishes processing (sandbox time). */
  settle_at: number;
  /** The outcome it will have when it settles. */
  outcome: RefundStatus;
  settled_at: number | null;
  recv_account: string;
  /** The API that made it (the portal's: its trade's), and so the format of its notification. */
  api: RefundApi;
}

export type RefundApi = 'v2' | 'v3';

export const REFUND_SCHEMA = `
CREATE TABLE IF NOT EXISTS refunds (
  refund_id TEXT PRIMARY KEY, mch_id TEXT NOT NULL, out_refund_no TEXT NOT NULL,
  out_trade_no TEXT NOT NULL, transaction_id TEXT NOT NULL, total_fee INTEGER NOT NULL,
  refund_fee INTEGER NOT NULL, refund_desc TEXT, refund_account TEXT NOT NULL,
  source TEXT NOT NULL, status TEXT NOT NULL, notify_url TEXT, params TEXT NOT NULL,
  created_at INTEGER NOT NULL, settle_at INTEGER NOT NULL, outcome TEXT NOT NULL,
  settled_at INTEGER, recv_account TEXT NOT NULL, api TEXT NOT NULL DEFAULT 'v2',
  UNIQUE (mch_id, out_refund_no));
CREATE INDEX IF NOT EXISTS refunds_by_trade ON refunds (mch_id, out_trade_no, created_at);
`;

export class RefundStore {
  /** PROCESSING refunds by when they settle. */
  readonly processing: DueRows<RefundRow>;

  constructor(private readonly db: Database.Database) {
    this.processing = new DueRows(db, 'refunds', 'settle_at', "status = 'PROCESSING'");
  }

  get(mchId: string, outRefundNo: string): RefundRow | undefined {
    return this.db
      .prepare('SELECT * FROM refunds WHERE mch_id = ? AND out_refund_no = ?')
      .get(mchId, outRefundNo) as RefundRow | undefined;
  }

  byRefundId(mchId: string, refundId: string): RefundRow | undefined {
    return this.db
      .prepare('SELECT * FROM refunds WHERE mch_id = ? AND refund_id = ?')
      .get(mchId, refundId) as RefundRow | undefined;
  }

  ofTrade(mchId: string, outTradeNo: string): RefundRow[] {
    return this.db
      .prepare(
        'SELECT * FROM refunds WHERE mch_id = ? AND out_trade_no = ? ORDER BY created_at, rowid',
      )
      .all(mchId, outTradeNo) as RefundRow[];
  }

  insert(row: RefundRow): void {
    insertRow(this.db, 'refunds', row);
  }

  /** Settles a PROCESSING refund; false when it was already settled. */
  settle(refundId: string, status: RefundStatus, at: number): boolean {
    return (
      this.db
        .prepare(
          "UPDATE refunds SET status = ?, settled_at = ? WHERE refund_id = ? AND status = 'PROCESSING'",
        )
        .run(status, at, refundId).changes === 1
    );
  }

  /** Changes when and how a PROCESSING refund will settle. */
  reschedule(refundId: string, settleAt: number, outcome: RefundStatus): void {
    this.db
      .prepare(
        "UPDATE refunds SET settle_at = ?, outcome = ? WHERE refund_id = ? AND status = 'PROCESSING'",
      )
      .run(settleAt, outcome, refundId);
  }

  /** Refunds that succeeded within [from, to): a refund enters the bill of the day it succeeded. */
  forBill(mchId: string, from: number, to: number): RefundRow[] {
    return this.db
      .prepare(
        `SELECT * FROM refunds WHERE mch_id = ? AND status = 'SUCCESS' AND settled_at >= ? AND settled_at < ?
         ORDER BY settled_at, rowid`,
      )
      .all(mchId, from, to) as RefundRow[];
  }
}
