/**
 * Reconciling one day end to end, as proposed for phase 2 of issue 18 and measured by
 * bench/reconciliation.bench.ts. The bill comes in time order, the matcher wants key order:
 *
 * 1. the bill is streamed (`readTradeBill`: gunzip, parse, summary check) into a temporary
 *    table of the job's own connection, a chunk of rows per transaction or statement;
 * 2. the matcher's four inputs are read in key order, each by one query held open while the
 *    merge join runs: the staged bill rows, and the day's ledger straight from `orders` and
 *    `refunds` (found by the indexes orders_paid_at and refunds_status_succeeded);
 * 3. `matchDay` merge-joins them; the temporary table goes with the connection (SQLite) or
 *    the transaction (PostgreSQL).
 *
 * SQLite: a better-sqlite3 connection of its own on the store's file (WAL lets it read while
 * the server's connection writes; Kysely's single connection cannot hold two queries open), a
 * TEMP table keyed (src, key, seq) WITHOUT ROWID (bill keys arrive nearly sorted, so inserts
 * mostly append), iterators read as raw arrays. PostgreSQL: one pooled connection in one
 * transaction, a TEMP table ON COMMIT DROP loaded through unnest(), NO SCROLL cursors FETCHed a
 * page at a time. Keys sort in code-unit order as the matcher requires: SQLite's binary
 * collation, `COLLATE "C"` on PostgreSQL whatever the database's locale.
 */
import SQLite from 'better-sqlite3';
import { CompiledQuery, type Kysely, sql } from 'kysely';
import { LEDGER_QUERY } from '../../src/payments/reconciliation/ledger-repo.js';
import {
  type BillPayment,
  type BillRefund,
  type DayTotals,
  type Difference,
  type LedgerPayment,
  type LedgerRefund,
  type Merchant,
  matchDay,
  type Sorted,
} from '../../src/payments/reconciliation/match.js';
import type { Store } from '../../src/store/index.js';
import type { BillRow, BillSummary, TradeBillReader } from '../../src/wechatpay/index.js';

export interface Day {
  /** ISO times: the day's first instant and the next day's. */
  start: string;
  end: string;
  merchant: Merchant;
}

export interface DayResult {
  summary: BillSummary;
  totals: DayTotals;
  differences: Difference[];
}

/** The staged columns: which input (1 payment, 2 refund), key, row number, then values. */
const STAGED = 'src, key, seq, trade_no, wechat_no, app_id, mch_id, currency, amount, settle, fee';
type Staged = [
  number,
  string,
  number,
  string,
  string,
  string,
  string,
  string,
  number,
  number,
  number,
];

/** A bill row as staged: payments and refunds, with the amounts each side asked for. */
function staged(row: BillRow, seq: number): Staged {
  const refund = row.tradeState === 'REFUND';
  if (!refund && row.tradeState !== 'SUCCESS') {
    throw new Error(`a ${row.tradeState} row: not a payment or a refund`);
  }
  return [
    refund ? 2 : 1,
    refund ? row.outRefundNo! : row.outTradeNo,
    seq,
    row.outTradeNo,
    refund ? row.refundId! : row.transactionId,
    row.appId,
    row.mchId,
    row.currency,
    refund ? row.requestedRefundFen : row.orderFen,
    refund ? row.refundFen : row.settlementFen,
    row.feeMilliFen,
  ];
}

const BILL = {
  payments: `SELECT key, seq, trade_no, wechat_no, app_id, mch_id, currency, amount, settle, fee
    FROM bill_rows WHERE src = 1 ORDER BY key{C}, seq`,
  refunds: `SELECT key, seq, trade_no, wechat_no, app_id, mch_id, currency, amount, settle, fee
    FROM bill_rows WHERE src = 2 ORDER BY key{C}, seq`,
};

const billPayment = (r: Raw): BillPayment => ({
  outTradeNo: r[0] as string,
  transactionId: r[3] as string,
  appId: r[4] as string,
  mchId: r[5] as string,
  currency: r[6] as string,
  amountFen: Number(r[7]),
  settlementFen: Number(r[8]),
  feeMilliFen: Number(r[9]),
  row: r[1] as number,
});
const billRefund = (r: Raw): BillRefund => ({
  outRefundNo: r[0] as string,
  outTradeNo: r[2] as string,
  refundId: r[3] as string,
  appId: r[4] as string,
  mchId: r[5] as string,
  amountFen: Number(r[7]),
  refundFen: Number(r[8]),
  feeMilliFen: Number(r[9]),
  row: r[1] as number,
});

async function match(
  day: Day,
  bill: { payments: Sorted<BillPayment>; refunds: Sorted<BillRefund> },
  ledger: { payments: Sorted<LedgerPayment>; refunds: Sorted<LedgerRefund> },
): Promise<Omit<DayResult, 'summary'>> {
  const run = matchDay({ merchant: day.merchant, bill, ledger });
  const differences: Difference[] = [];
  for await (const difference of run) differences.push(difference);
  return { totals: run.totals, differences };
}

type Raw = unknown[];

function query(text: string, collate: string, start = '', end = ''): string {
  return text.replaceAll('{C}', collate).replace('{start}', start).replace('{end}', end);
}

const ledgerPayment = (r: Raw): LedgerPayment => ({
  outTradeNo: r[0] as string,
  transactionId: r[1] as string | null,
  amountFen: Number(r[2]),
  currency: r[3] as string,
  orderId: r[4] as string,
});
const ledgerRefund = (r: Raw): LedgerRefund => ({
  outRefundNo: r[0] as string,
  outTradeNo: r[1] as string,
  amountFen: Number(r[2]),
  orderId: r[3] as string,
});

function* mapped<T>(rows: Iterable<Raw>, entry: (row: Raw) => T): Generator<T> {
  for (const row of rows) yield entry(row);
}

/** Reconciles a day on SQLite, on a connection of its own to the store's `file`. */
export async function reconcileSqlite(
  file: string,
  bill: TradeBillReader,
  day: Day,
): Promise<DayResult> {
  const db = new SQLite(file);
  try {
    db.exec(`CREATE TEMP TABLE bill_rows (src INTEGER, key TEXT, seq INTEGER, trade_no TEXT,
      wechat_no TEXT, app_id TEXT, mch_id TEXT, currency TEXT, amount INTEGER, settle INTEGER,
      fee INTEGER, PRIMARY KEY (src, key, seq)) WITHOUT ROWID`);
    const insert = db.prepare(`INSERT INTO bill_rows (${STAGED}) VALUES (?,?,?,?,?,?,?,?,?,?,?)`);
    let seq = 0;
    const stage = db.transaction((rows: BillRow[]) => {
      for (const row of rows) insert.run(staged(row, ++seq));
    });
    for await (const rows of bill.batches()) stage(rows);
    const rows = (text: string, ...params: string[]) =>
      db
        .prepare(query(text, '', '?', '?'))
        .raw(true)
        .iterate(...params) as Iterable<Raw>;
    const result = await match(
      day,
      {
        payments: mapped(rows(BILL.payments), billPayment),
        refunds: mapped(rows(BILL.refunds), billRefund),
      },
      {
        payments: mapped(rows(LEDGER_QUERY.payments, day.start, day.end), ledgerPayment),
        refunds: mapped(rows(LEDGER_QUERY.refunds, day.start, day.end), ledgerRefund),
      },
    );
    return { summary: bill.summary!, ...result };
  } finally {
    db.close();
  }
}

const PAGE = 2_000;

/** Reconciles a day on PostgreSQL: the ledger through cursors of one transaction. */
export function reconcilePostgres(
  store: Store,
  bill: TradeBillReader,
  day: Day,
): Promise<DayResult> {
  return store.db.transaction().execute(async (trx) => {
    const db = trx as unknown as Kysely<unknown>;
    const run = (text: string, parameters: unknown[] = []) =>
      db.executeQuery<Record<string, unknown>>(CompiledQuery.raw(text, parameters));
    await run(`CREATE TEMP TABLE bill_rows (src int2, key text COLLATE "C", seq int4,
      trade_no text, wechat_no text, app_id text, mch_id text, currency text, amount int8,
      settle int8, fee int8) ON COMMIT DROP`);
    const types = 'int2 text int4 text text text text text int8 int8 int8'.split(' ');
    const unnest = types.map((type, i) => `$${i + 1}::${type}[]`).join(', ');
    const insert = `INSERT INTO bill_rows (${STAGED}) SELECT * FROM unnest(${unnest})`;
    let seq = 0;
    for await (const rows of bill.batches()) {
      const tuples = rows.map((row) => staged(row, ++seq));
      await run(
        insert,
        types.map((_, c) => tuples.map((t) => t[c])),
      );
    }
    const literal = (value: string) => sql.lit(value).compile(db).sql;
    const cursors = {
      bp: query(BILL.payments, ' COLLATE "C"'),
      br: query(BILL.refunds, ' COLLATE "C"'),
      lp: query(LEDGER_QUERY.payments, ' COLLATE "C"', literal(day.start), literal(day.end)),
      lr: query(LEDGER_QUERY.refunds, ' COLLATE "C"', literal(day.start), literal(day.end)),
    };
    for (const [name, text] of Object.entries(cursors)) {
      await run(`DECLARE ${name} NO SCROLL CURSOR FOR ${text}`);
    }
    async function* fetched<T>(name: string, entry: (row: Raw) => T): AsyncGenerator<T> {
      for (;;) {
        const { rows } = await run(`FETCH ${PAGE} FROM ${name}`);
        for (const row of rows) yield entry(Object.values(row));
        if (rows.length < PAGE) return;
      }
    }
    const result = await match(
      day,
      { payments: fetched('bp', billPayment), refunds: fetched('br', billRefund) },
      { payments: fetched('lp', ledgerPayment), refunds: fetched('lr', ledgerRefund) },
    );
    return { summary: bill.summary!, ...result };
  });
}
