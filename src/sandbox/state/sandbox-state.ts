/**
 * Everything the sandbox remembers, in one SQLite database: a file when `stateFile` is given
 * (so a long-lived sandbox survives restarts, undelivered notifications included), memory
 * otherwise. better-sqlite3 directly rather than Kysely: it is synchronous, so each simulated
 * WeChat operation runs as one uninterrupted transaction without locks, and the sandbox needs
 * none of Kysely's dialect portability (it never runs on PostgreSQL).
 */
import Database from 'better-sqlite3';

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
}

export type DeliveryKind = 'payment' | 'refund';
/** pending: more attempts to come; delivered: answered SUCCESS; failed: gave up; suppressed: never sent (fault). */
export type DeliveryStatus = 'pending' | 'delivered' | 'failed' | 'suppressed';

export interface DeliveryRow {
  id: number;
  kind: DeliveryKind;
  out_trade_no: string;
  out_refund_no: string | null;
  url: string;
  body: string;
  status: DeliveryStatus;
  attempts: number;
  next_at: number | null;
  created_at: number;
  delivered_at: number | null;
}

export type AttemptOutcome = 'success' | 'fail' | 'timeout' | 'error' | 'dropped';

export interface AttemptRow {
  delivery_id: number;
  attempt: number;
  copy: number;
  due_at: number;
  started_at: number;
  duration_ms: number;
  outcome: AttemptOutcome;
  http_status: number | null;
  reply: string | null;
  error: string | null;
}

export interface LoginCodeRow {
  code: string;
  openid: string;
  session_key: string;
  created_at: number;
  used_at: number | null;
}

const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS login_codes (
  code TEXT PRIMARY KEY, openid TEXT NOT NULL, session_key TEXT NOT NULL,
  created_at INTEGER NOT NULL, used_at INTEGER);
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
CREATE TABLE IF NOT EXISTS refunds (
  refund_id TEXT PRIMARY KEY, mch_id TEXT NOT NULL, out_refund_no TEXT NOT NULL,
  out_trade_no TEXT NOT NULL, transaction_id TEXT NOT NULL, total_fee INTEGER NOT NULL,
  refund_fee INTEGER NOT NULL, refund_desc TEXT, refund_account TEXT NOT NULL,
  source TEXT NOT NULL, status TEXT NOT NULL, notify_url TEXT, params TEXT NOT NULL,
  created_at INTEGER NOT NULL, settle_at INTEGER NOT NULL, outcome TEXT NOT NULL,
  settled_at INTEGER, recv_account TEXT NOT NULL,
  UNIQUE (mch_id, out_refund_no));
CREATE INDEX IF NOT EXISTS refunds_by_trade ON refunds (mch_id, out_trade_no, created_at);
CREATE TABLE IF NOT EXISTS deliveries (
  id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, out_trade_no TEXT NOT NULL,
  out_refund_no TEXT, url TEXT NOT NULL, body TEXT NOT NULL, status TEXT NOT NULL,
  attempts INTEGER NOT NULL, next_at INTEGER, created_at INTEGER NOT NULL, delivered_at INTEGER);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (status, next_at);
CREATE TABLE IF NOT EXISTS attempts (
  delivery_id INTEGER NOT NULL, attempt INTEGER NOT NULL, copy INTEGER NOT NULL,
  due_at INTEGER NOT NULL, started_at INTEGER NOT NULL, duration_ms INTEGER NOT NULL,
  outcome TEXT NOT NULL, http_status INTEGER, reply TEXT, error TEXT);
CREATE INDEX IF NOT EXISTS attempts_by_delivery ON attempts (delivery_id, attempt, copy);
`;

/** The sandbox's database. One instance per running sandbox. */
export class SandboxState {
  readonly db: Database.Database;

  constructor(file?: string) {
    this.db = new Database(file ?? ':memory:');
    if (file) this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      throw new Error(
        `state file ${file} was written by a newer minipay (schema ${version}); use that version or a new file`,
      );
    }
    this.db.exec(SCHEMA);
    this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }

  /** Runs `fn` in one transaction. */
  tx<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  getMeta(key: string): string | undefined {
    const row = this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as
      | { value: string }
      | undefined;
    return row?.value;
  }

  setMeta(key: string, value: string): void {
    this.db
      .prepare(
        'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      )
      .run(key, value);
  }

  // login codes

  insertLoginCode(row: LoginCodeRow): void {
    this.db
      .prepare(
        'INSERT INTO login_codes (code, openid, session_key, created_at, used_at) VALUES (@code, @openid, @session_key, @created_at, @used_at)',
      )
      .run(row);
  }

  getLoginCode(code: string): LoginCodeRow | undefined {
    return this.db.prepare('SELECT * FROM login_codes WHERE code = ?').get(code) as
      | LoginCodeRow
      | undefined;
  }

  /** Marks a code used; false when it was already used (the check and the write are one step). */
  useLoginCode(code: string, at: number): boolean {
    return (
      this.db
        .prepare('UPDATE login_codes SET used_at = ? WHERE code = ? AND used_at IS NULL')
        .run(at, code).changes === 1
    );
  }

  // trades

  getTrade(mchId: string, outTradeNo: string): TradeRow | undefined {
    return this.db
      .prepare('SELECT * FROM trades WHERE mch_id = ? AND out_trade_no = ?')
      .get(mchId, outTradeNo) as TradeRow | undefined;
  }

  getTradeByTransactionId(mchId: string, transactionId: string): TradeRow | undefined {
    return this.db
      .prepare('SELECT * FROM trades WHERE mch_id = ? AND transaction_id = ?')
      .get(mchId, transactionId) as TradeRow | undefined;
  }

  getPrepay(
    prepayId: string,
  ): { prepay_id: string; mch_id: string; out_trade_no: string; expires_at: number } | undefined {
    return this.db.prepare('SELECT * FROM prepays WHERE prepay_id = ?').get(prepayId) as
      | { prepay_id: string; mch_id: string; out_trade_no: string; expires_at: number }
      | undefined;
  }

  insertTrade(row: TradeRow): void {
    this.tx(() => {
      this.db
        .prepare(
          `INSERT INTO trades (${TRADE_COLUMNS.join(', ')}) VALUES (${TRADE_COLUMNS.map((c) => `@${c}`).join(', ')})`,
        )
        .run(row);
      this.insertPrepay(
        row.prepay_id,
        row.mch_id,
        row.out_trade_no,
        row.created_at,
        row.prepay_expires_at,
      );
    });
  }

  /** Gives a trade a fresh prepay_id (the previous one expired). */
  renewPrepay(
    mchId: string,
    outTradeNo: string,
    prepayId: string,
    at: number,
    expiresAt: number,
  ): void {
    this.tx(() => {
      this.db
        .prepare(
          'UPDATE trades SET prepay_id = ?, prepay_expires_at = ? WHERE mch_id = ? AND out_trade_no = ?',
        )
        .run(prepayId, expiresAt, mchId, outTradeNo);
      this.insertPrepay(prepayId, mchId, outTradeNo, at, expiresAt);
    });
  }

  /** Ends the validity of a trade's current prepay_id now. */
  expirePrepay(mchId: string, outTradeNo: string, at: number): void {
    this.tx(() => {
      const trade = this.getTrade(mchId, outTradeNo);
      if (!trade) return;
      this.db
        .prepare('UPDATE trades SET prepay_expires_at = ? WHERE mch_id = ? AND out_trade_no = ?')
        .run(at, mchId, outTradeNo);
      this.db
        .prepare('UPDATE prepays SET expires_at = ? WHERE prepay_id = ?')
        .run(at, trade.prepay_id);
    });
  }

  private insertPrepay(
    prepayId: string,
    mchId: string,
    outTradeNo: string,
    at: number,
    expiresAt: number,
  ) {
    this.db
      .prepare(
        'INSERT INTO prepays (prepay_id, mch_id, out_trade_no, created_at, expires_at) VALUES (?, ?, ?, ?, ?)',
      )
      .run(prepayId, mchId, outTradeNo, at, expiresAt);
  }

  /**
   * Moves a trade from one of `from` to `to` with the given extra columns; false when the
   * trade was not in one of `from` (someone else moved it first).
   */
  transitionTrade(
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
  tradesPaidBetween(mchId: string, from: number, to: number): TradeRow[] {
    return this.db
      .prepare(
        'SELECT * FROM trades WHERE mch_id = ? AND paid_at >= ? AND paid_at < ? ORDER BY paid_at, out_trade_no',
      )
      .all(mchId, from, to) as TradeRow[];
  }

  // refunds

  getRefund(mchId: string, outRefundNo: string): RefundRow | undefined {
    return this.db
      .prepare('SELECT * FROM refunds WHERE mch_id = ? AND out_refund_no = ?')
      .get(mchId, outRefundNo) as RefundRow | undefined;
  }

  getRefundById(mchId: string, refundId: string): RefundRow | undefined {
    return this.db
      .prepare('SELECT * FROM refunds WHERE mch_id = ? AND refund_id = ?')
      .get(mchId, refundId) as RefundRow | undefined;
  }

  refundsOfTrade(mchId: string, outTradeNo: string): RefundRow[] {
    return this.db
      .prepare(
        'SELECT * FROM refunds WHERE mch_id = ? AND out_trade_no = ? ORDER BY created_at, rowid',
      )
      .all(mchId, outTradeNo) as RefundRow[];
  }

  insertRefund(row: RefundRow): void {
    this.db
      .prepare(
        `INSERT INTO refunds (${REFUND_COLUMNS.join(', ')}) VALUES (${REFUND_COLUMNS.map((c) => `@${c}`).join(', ')})`,
      )
      .run(row);
  }

  /** Settles a PROCESSING refund; false when it was already settled. */
  settleRefund(refundId: string, status: RefundStatus, at: number): boolean {
    return (
      this.db
        .prepare(
          "UPDATE refunds SET status = ?, settled_at = ? WHERE refund_id = ? AND status = 'PROCESSING'",
        )
        .run(status, at, refundId).changes === 1
    );
  }

  /** Changes when and how a PROCESSING refund will settle. */
  rescheduleRefund(refundId: string, settleAt: number, outcome: RefundStatus): void {
    this.db
      .prepare(
        "UPDATE refunds SET settle_at = ?, outcome = ? WHERE refund_id = ? AND status = 'PROCESSING'",
      )
      .run(settleAt, outcome, refundId);
  }

  nextRefundSettleAt(): number | undefined {
    const row = this.db
      .prepare("SELECT MIN(settle_at) AS at FROM refunds WHERE status = 'PROCESSING'")
      .get() as { at: number | null };
    return row.at ?? undefined;
  }

  refundsDueBy(at: number): RefundRow[] {
    return this.db
      .prepare(
        "SELECT * FROM refunds WHERE status = 'PROCESSING' AND settle_at <= ? ORDER BY settle_at, rowid",
      )
      .all(at) as RefundRow[];
  }

  /** Refunds that succeeded within [from, to): a refund enters the bill of the day it succeeded. */
  refundsForBill(mchId: string, from: number, to: number): RefundRow[] {
    return this.db
      .prepare(
        `SELECT * FROM refunds WHERE mch_id = ? AND status = 'SUCCESS' AND settled_at >= ? AND settled_at < ?
         ORDER BY settled_at, rowid`,
      )
      .all(mchId, from, to) as RefundRow[];
  }

  // deliveries

  insertDelivery(row: Omit<DeliveryRow, 'id'>): number {
    const result = this.db
      .prepare(
        `INSERT INTO deliveries (kind, out_trade_no, out_refund_no, url, body, status, attempts, next_at, created_at, delivered_at)
         VALUES (@kind, @out_trade_no, @out_refund_no, @url, @body, @status, @attempts, @next_at, @created_at, @delivered_at)`,
      )
      .run(row);
    return Number(result.lastInsertRowid);
  }

  getDelivery(id: number): DeliveryRow | undefined {
    return this.db.prepare('SELECT * FROM deliveries WHERE id = ?').get(id) as
      | DeliveryRow
      | undefined;
  }

  updateDelivery(
    id: number,
    set: Pick<DeliveryRow, 'status' | 'attempts' | 'next_at' | 'delivered_at'>,
  ): void {
    this.db
      .prepare(
        'UPDATE deliveries SET status = @status, attempts = @attempts, next_at = @next_at, delivered_at = @delivered_at WHERE id = @id',
      )
      .run({ ...set, id });
  }

  /** Moves the first attempt of never-tried pending deliveries to `at` (reorder hold). */
  holdUntried(at: number): void {
    this.db
      .prepare("UPDATE deliveries SET next_at = ? WHERE status = 'pending' AND attempts = 0")
      .run(at);
  }

  nextDeliveryAt(): number | undefined {
    const row = this.db
      .prepare("SELECT MIN(next_at) AS at FROM deliveries WHERE status = 'pending'")
      .get() as { at: number | null };
    return row.at ?? undefined;
  }

  deliveriesDueBy(at: number): DeliveryRow[] {
    return this.db
      .prepare(
        "SELECT * FROM deliveries WHERE status = 'pending' AND next_at <= ? ORDER BY next_at, id",
      )
      .all(at) as DeliveryRow[];
  }

  deliveries(): DeliveryRow[] {
    return this.db.prepare('SELECT * FROM deliveries ORDER BY id').all() as DeliveryRow[];
  }

  insertAttempt(row: AttemptRow): void {
    this.db
      .prepare(
        `INSERT INTO attempts (delivery_id, attempt, copy, due_at, started_at, duration_ms, outcome, http_status, reply, error)
         VALUES (@delivery_id, @attempt, @copy, @due_at, @started_at, @duration_ms, @outcome, @http_status, @reply, @error)`,
      )
      .run(row);
  }

  attempts(): AttemptRow[] {
    return this.db
      .prepare('SELECT * FROM attempts ORDER BY delivery_id, attempt, copy')
      .all() as AttemptRow[];
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

const TRADE_COLUMNS: readonly (keyof TradeRow)[] = [
  'mch_id',
  'out_trade_no',
  'appid',
  'openid',
  'body',
  'attach',
  'device_info',
  'total_fee',
  'fee_type',
  'trade_type',
  'notify_url',
  'sign_type',
  'params',
  'created_at',
  'expires_at',
  'prepay_id',
  'prepay_expires_at',
  'state',
  'closed_at',
  'transaction_id',
  'paid_at',
  'bank_type',
  'is_subscribe',
];

const REFUND_COLUMNS: readonly (keyof RefundRow)[] = [
  'refund_id',
  'mch_id',
  'out_refund_no',
  'out_trade_no',
  'transaction_id',
  'total_fee',
  'refund_fee',
  'refund_desc',
  'refund_account',
  'source',
  'status',
  'notify_url',
  'params',
  'created_at',
  'settle_at',
  'outcome',
  'settled_at',
  'recv_account',
];
