/**
 * A day's bill staged for the merge join, and the four sorted inputs of `matchDay`. The bill
 * arrives in time order and the matcher wants key order, so its rows go into a temporary table
 * and are read back sorted by (src, key, seq); the ledger is read in key order straight
 * from `orders` and `refunds`. Each input is one query held open while the join runs. The
 * temporary table leaves nothing behind, even after a crash: it goes with the connection
 * (SQLite) or the transaction (PostgreSQL). Keys compare in code-unit order on both databases
 * (SQLite's binary collation; `COLLATE "C"` on PostgreSQL).
 *
 * This path uses the drivers directly (`storeDriver`): Kysely builds, compiles and awaits every
 * statement, and a day can have a million rows (BENCHMARKS.md, "Reconciliation: the engine").
 * SQLite: the store's own connection, held (`db.connection()`) for each batch of the bill and
 * for the whole join, statements prepared once, rows as arrays. PostgreSQL: a pooled connection
 * of its own in one transaction, the bill loaded by `unnest()`, cursors FETCHed a page at a time.
 */
import type SQLite from 'better-sqlite3';
import type { Kysely } from 'kysely';
import type pg from 'pg';
import { storeDriver } from '../../store/index.js';
import type { Database } from '../../store/schema.js';
import type {
  BillPayment,
  BillRefund,
  DayInput,
  LedgerPayment,
  LedgerRefund,
  Paged,
} from './match.js';

/** Which input a staged row belongs to. */
export const SRC = { billPayments: 1, billRefunds: 2 } as const;

/** A bill row as staged: src, key, seq (its row number), then the values the matcher reads. */
export type StagedRow = [
  src: number,
  key: string,
  seq: number,
  tradeNo: string,
  wechatNo: string | null,
  appId: string,
  mchId: string,
  currency: string,
  amount: number,
  settle: number,
  fee: number,
  at: string | null,
];

export interface DayRange {
  start: string;
  end: string;
}

export type Inputs = Omit<DayInput, 'merchant'>;

/** Rows a page holds (one FETCH on PostgreSQL; between two yields of the event loop on SQLite). */
const PAGE = 5_000;

const COLUMNS =
  'src, key, seq, trade_no, wechat_no, app_id, mch_id, currency, amount, settle, fee, at';

/** The bill's two inputs; `{C}` is the code-unit collation on PostgreSQL. */
const BILL_QUERY = (table: string, src: number) =>
  `SELECT key, seq, trade_no, wechat_no, app_id, mch_id, currency, amount, settle, fee, at
    FROM ${table} WHERE src = ${src} ORDER BY key{C}, seq`;

/** The ledger's two inputs: orders paid and refunds succeeded within the day. */
const LEDGER_QUERY = {
  payments: `SELECT out_trade_no, transaction_id, total_fen, currency, id FROM orders
    WHERE paid_at >= {start} AND paid_at < {end} ORDER BY out_trade_no{C}`,
  refunds: `SELECT r.out_refund_no, o.out_trade_no, r.amount_fen, r.order_id
    FROM refunds r JOIN orders o ON o.id = r.order_id
    WHERE r.status = 'SUCCESS' AND r.succeeded_at >= {start} AND r.succeeded_at < {end}
    ORDER BY r.out_refund_no{C}`,
};

type Raw = unknown[];

const billPayment = (r: Raw): BillPayment => ({
  outTradeNo: r[0] as string,
  transactionId: (r[3] as string | null) ?? '',
  appId: r[4] as string,
  mchId: r[5] as string,
  currency: r[6] as string,
  amountFen: Number(r[7]),
  settlementFen: Number(r[8]),
  feeMilliFen: Number(r[9]),
  // Always there: a payment is staged with its 交易时间.
  paidAt: r[10] as string,
  row: r[1] as number,
});

const billRefund = (r: Raw): BillRefund => ({
  outRefundNo: r[0] as string,
  outTradeNo: r[2] as string,
  refundId: (r[3] as string | null) ?? '',
  appId: r[4] as string,
  mchId: r[5] as string,
  amountFen: Number(r[7]),
  refundFen: Number(r[8]),
  feeMilliFen: Number(r[9]),
  row: r[1] as number,
});

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

/** The four queries of a day, with the collation and the day's bounds (as SQL literals). */
function queries(table: string, collate: string, start: string, end: string) {
  const text = (q: string) =>
    q.replaceAll('{C}', collate).replace('{start}', start).replace('{end}', end);
  return {
    billPayments: text(BILL_QUERY(table, SRC.billPayments)),
    billRefunds: text(BILL_QUERY(table, SRC.billRefunds)),
    ledgerPayments: text(LEDGER_QUERY.payments),
    ledgerRefunds: text(LEDGER_QUERY.refunds),
  };
}

/**
 * Stages `batches` (the bill's rows), then hands `match` the day's four inputs; the range is
 * asked for once the bill is staged (a bill from elsewhere tells its day by its rows).
 * Resolves what `match` resolves; nothing staged stays behind, whatever happens.
 */
export function matchStaged<T>(
  db: Kysely<Database>,
  batches: AsyncIterable<StagedRow[]>,
  range: () => DayRange,
  match: (inputs: Inputs) => Promise<T>,
): Promise<T> {
  const driver = storeDriver(db);
  return driver.dialect === 'sqlite'
    ? matchOnSqlite(db, driver.database, batches, range, match)
    : matchOnPostgres(driver.pool, batches, range, match);
}

let tables = 0;
/** SQLite cache sizes, in KiB (negative): the temporary tables', the main one's while sorting. */
const TEMP_CACHE = -2000;
const SORT_CACHE = -4000;

async function matchOnSqlite<T>(
  db: Kysely<Database>,
  database: SQLite.Database,
  batches: AsyncIterable<StagedRow[]>,
  range: () => DayRange,
  match: (inputs: Inputs) => Promise<T>,
): Promise<T> {
  // Kysely runs every query on this one connection: hold it while using it directly.
  const holding = <R>(work: () => R | Promise<R>) => db.connection().execute(async () => work());
  // A name per run: runs of two days may stage at the same time on the one connection. A
  // table without a key, sorted when read: rows in random key order inserted into a key's
  // B-tree cost about 7 times as much as appended and sorted once.
  const table = `reconciliation_bill_${++tables}`;
  await holding(() =>
    database.exec(`PRAGMA temp.cache_size = ${TEMP_CACHE};
      CREATE TEMP TABLE ${table} (src INTEGER, key TEXT, seq INTEGER, trade_no TEXT,
      wechat_no TEXT, app_id TEXT, mch_id TEXT, currency TEXT, amount INTEGER, settle INTEGER,
      fee INTEGER, at TEXT)`),
  );
  try {
    const insert = database.prepare(
      `INSERT INTO temp.${table} (${COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`,
    );
    // One statement per row: a statement of 50 rows was no faster (binding is the cost).
    const stage = database.transaction((rows: StagedRow[]) => {
      for (const row of rows) insert.run(row);
    });
    for await (const rows of batches) await holding(() => stage(rows));
    const { start, end } = range();
    return await holding(async () => {
      // Each ORDER BY sorts in up to the main cache's size before spilling to a file, and two
      // run at once: a smaller cache while the join holds the connection bounds the memory.
      const cache = database.pragma('cache_size', { simple: true });
      database.pragma(`cache_size = ${SORT_CACHE}`);
      const q = queries(`temp.${table}`, '', '?', '?');
      const open: Iterator<unknown>[] = [];
      const rows = (text: string, ...params: string[]) => {
        const iterator = database
          .prepare(text)
          .raw(true)
          .iterate(...params);
        open.push(iterator);
        return iterator as IterableIterator<Raw>;
      };
      try {
        return await match({
          bill: {
            payments: paged(rows(q.billPayments), billPayment),
            refunds: paged(rows(q.billRefunds), billRefund),
          },
          ledger: {
            payments: paged(rows(q.ledgerPayments, start, end), ledgerPayment),
            refunds: paged(rows(q.ledgerRefunds, start, end), ledgerRefund),
          },
        });
      } finally {
        // An iterator left open keeps the connection busy.
        for (const iterator of open) iterator.return?.();
        database.pragma(`cache_size = ${cache}`);
      }
    });
  } finally {
    await holding(() => database.exec(`DROP TABLE IF EXISTS temp.${table}`));
  }
}

/**
 * Pages of a synchronous cursor, a yield of the event loop between two: the join holds the
 * connection, but the process still answers what does not need it.
 */
function paged<T>(rows: Iterator<Raw>, entry: (row: Raw) => T): Paged<T> {
  return {
    pages: {
      async *[Symbol.asyncIterator]() {
        for (;;) {
          const page: T[] = [];
          for (let next = rows.next(); !next.done; next = rows.next()) {
            page.push(entry(next.value));
            if (page.length === PAGE) break;
          }
          if (page.length > 0) yield page;
          if (page.length < PAGE) return;
          await new Promise((resolve) => setImmediate(resolve));
        }
      },
    },
  };
}

/** The bill's columns as `unnest()` takes them: one array per column, of its type. */
const PG_TYPES = 'int2 text int4 text text text text text int8 int8 int8 text'.split(' ');

async function matchOnPostgres<T>(
  pool: pg.Pool,
  batches: AsyncIterable<StagedRow[]>,
  range: () => DayRange,
  match: (inputs: Inputs) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    await client.query(`CREATE TEMP TABLE reconciliation_bill (src int2, key text COLLATE "C",
      seq int4, trade_no text, wechat_no text, app_id text, mch_id text, currency text,
      amount int8, settle int8, fee int8, at text) ON COMMIT DROP`);
    const unnest = PG_TYPES.map((type, i) => `$${i + 1}::${type}[]`).join(', ');
    const insert = `INSERT INTO reconciliation_bill (${COLUMNS}) SELECT * FROM unnest(${unnest})`;
    for await (const rows of batches) {
      if (rows.length === 0) continue;
      await client.query(
        insert,
        PG_TYPES.map((_, c) => rows.map((row) => row[c])),
      );
    }
    const { start, end } = range();
    const q = queries(
      'reconciliation_bill',
      ' COLLATE "C"',
      client.escapeLiteral(start),
      client.escapeLiteral(end),
    );
    for (const [name, text] of Object.entries(q)) {
      await client.query(`DECLARE ${name} NO SCROLL CURSOR FOR ${text}`);
    }
    const fetched = <E>(name: string, entry: (row: Raw) => E): Paged<E> => ({
      pages: {
        async *[Symbol.asyncIterator]() {
          for (;;) {
            const { rows } = await client.query<Raw>({
              text: `FETCH ${PAGE} FROM ${name}`,
              rowMode: 'array',
            });
            yield rows.map(entry);
            if (rows.length < PAGE) return;
          }
        },
      },
    });
    const result = await match({
      bill: {
        payments: fetched('billPayments', billPayment),
        refunds: fetched('billRefunds', billRefund),
      },
      ledger: {
        payments: fetched('ledgerPayments', ledgerPayment),
        refunds: fetched('ledgerRefunds', ledgerRefund),
      },
    });
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch((rollback: Error) => {
      broken = rollback;
    });
    throw err;
  } finally {
    // A connection that could not even roll back is not given back to the pool.
    client.release(broken);
  }
}
