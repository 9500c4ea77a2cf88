/** The sandbox's trades (unifiedorder) and their prepay_ids, one table each. */
import type Database from 'better-sqlite3';
import { insertRow } from './insert-row.js';

/**
 * Stored trade states; REFUND is derived (a paid trade with a live refund). A mini program
 * (JSAPI) trade never reads USERPAYING or PAYERROR: WeChat documents them for payment codes.
 */
export type StoredTradeState = 'NOTPAY' | 'SUCCESS' | 'CLOSED';

export interface TradeRow {
  mch_id: string;
  out_trade_no: string;
  appid: string;
  openid: string;
  body: string;
  attach: string | null;
  device_info: string | null;
  total_fee: number;
  fee_type: string;
  trade_type: string;
  notify_url: string;
  sign_type: string;
  /** Canonical JSON of the business parameters, for the re-entry check. */
  params: string;
  created_at: number;
  /** `time_expire`, if the merchant gave one. */
  expires_at: number | null;
  prepay_id: string;
  prepay_expires_at: number;
  state: StoredTradeState;
  closed_at: number | null;
  transaction_id: string | null;
  paid_at: number | null;
  bank_type: string | null;
  is_subscribe: string | null;
}

export interface PrepayRow {
  prepay_id: string;
  mch_id: string;
  out_trade_no: string;
  expires_at: number;
}

export const TRADE_SCHEMA = `
CREATE TABLE IF NOT EXISTS trades (
  mch_id TEXT NOT NULL, out_trade_no TEXT NOT NULL, appid TEXT NOT NULL, openid TEXT NOT NULL,
  body TEXT NOT NULL, attach TEXT, device_info TEXT, total_fee INTEGER NOT NULL,
  fee_type TEXT NOT NULL, trade_type TEXT NOT NULL, notify_url TEXT NOT NULL,
  sign_type TEXT NOT NULL, params TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER,
  prepay_id TEXT NOT NULL, prepay_expires_at INTEGER NOT NULL, state TEXT NOT NULL,
  closed_at INTEGER, transaction_id TEXT UNIQUE, paid_at INTEGER, bank_type TEXT,
  is_subscribe TEXT,
  PRIMARY KEY (mch_id, out_trade_no));
CREATE TABLE IF NOT EXISTS prepays (
  prepay_id TEXT PRIMARY KEY, mch_id TEXT NOT NULL, out_trade_no TEXT NOT NULL,
  created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL);
`;

export class TradeStore {
  constructor(private readonly db: Database.Database) {}

  get(mchId: string, outTradeNo: string): TradeRow | undefined {
    return this.db
      .prepare('SELECT * FROM trades WHERE mch_id = ? AND out_trade_no = ?')
      .get(mchId, outTradeNo) as TradeRow | undefined;
  }

  byTransactionId(mchId: string, transactionId: string): TradeRow | undefined {
    return this.db
      .prepare('SELECT * FROM trades WHERE mch_id = ? AND transaction_id = ?')
      .get(mchId, transactionId) as TradeRow | undefined;
  }

  prepay(prepayId: string): PrepayRow | undefined {
    return this.db.prepare('SELECT * FROM prepays WHERE prepay_id = ?').get(prepayId) as
      | PrepayRow
      | undefined;
  }

  insert(row: TradeRow): void {
    this.db.transaction(() => {
      insertRow(this.db, 'trades', row);
      this.insertPrepay(
        row.prepay_id,
        row.mch_id,
        row.out_trade_no,
        row.created_at,
        row.prepay_expires_at,
      );
    })();
  }

  /** Gives a trade a fresh prepay_id (the previous one expired). */
  renewPrepay(
    mchId: string,
    outTradeNo: string,
    prepayId: string,
    at: number,
    expiresAt: number,
  ): void {
    this.db.transaction(() => {
      this.db
        .prepare(
          'UPDATE trades SET prepay_id = ?, prepay_expires_at = ? WHERE mch_id = ? AND out_trade_no = ?',
        )
        .run(prepayId, expiresAt, mchId, outTradeNo);
      this.insertPrepay(prepayId, mchId, outTradeNo, at, expiresAt);
    })();
  }

  /** Ends the validity of a trade's current prepay_id now. */
  expirePrepay(mchId: string, outTradeNo: string, at: number): void {
    this.db.transaction(() => {
      const trade = this.get(mchId, outTradeNo);
      if (!trade) return;
      this.db
        .prepare('UPDATE trades SET prepay_expires_at = ? WHERE mch_id = ? AND out_trade_no = ?')
        .run(at, mchId, outTradeNo);
      this.db
        .prepare('UPDATE prepays SET expires_at = ? WHERE prepay_id = ?')
        .run(at, trade.prepay_id);
    })();
  }

  private insertPrepay(
    prepayId: string,
    mchId: string,
    outTradeNo: string,
    at: number,
    expiresAt: number,
  ) {
    insertRow(this.db, 'prepays', {
      prepay_id: prepayId,
      mch_id: mchId,
      out_trade_no: outTradeNo,
      created_at: at,
      expires_at: expiresAt,
    });
  }

  /**
   * Moves a trade from one of `from` to `to` with the given extra columns; false when the
   * trade was not in one of `from` (someone else moved it first).
   */
  transition(
    mchId: string,
    outTradeNo: string,
    from: readonly StoredTradeState[],
    to: StoredTradeState,
    set: Partial<
      Pick<TradeRow, 'closed_at' | 'transaction_id' | 'paid_at' | 'bank_type' | 'is_subscribe'>
    > = {},
  ): boolean {
    const columns = Object.keys(set);
    const sql =
      `UPDATE trades SET state = @to${columns.map((c) => `, ${c} = @${c}`).join('')} ` +
      `WHERE mch_id = @mchId AND out_trade_no = @outTradeNo AND state IN (${from.map((_, i) => `@from${i}`).join(', ')})`;
    const params: Record<string, unknown> = { ...set, to, mchId, outTradeNo };
    from.forEach((s, i) => {
      params[`from${i}`] = s;
    });
    return this.db.prepare(sql).run(params).changes === 1;
  }

  /** Trades paid (time_end) within [from, to). */
  paidBetween(mchId: string, from: number, to: number): TradeRow[] {
    return this.db
      .prepare(
        'SELECT * FROM trades WHERE mch_id = ? AND paid_at >= ? AND paid_at < ? ORDER BY paid_at, out_trade_no',
      )
      .all(mchId, from, to) as TradeRow[];
  }
}
