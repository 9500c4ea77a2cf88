/**
 * The four sorted inputs of `matchDay` for a day. The bill arrives in time order and the
 * matcher wants key order, so its rows are handed to a bill sorter (bill-sorter.ts: a worker
 * thread with a private temporary SQLite database, whatever the store) and read back sorted by
 * (src, key, seq); the ledger is read in key order straight from `orders` and `refunds`, each
 * input one query held open while the join runs. Nothing staged outlives the run, even a crash:
 * the sorter's database is a file SQLite deletes. Keys compare in code-unit order on both stores
 * and in the sorter (SQLite's binary collation; `COLLATE "C"` on PostgreSQL).
 *
 * This path uses the drivers directly (`storeDriver`): Kysely builds, compiles and awaits every
 * statement, and a day can have a million rows (BENCHMARKS.md, "Reconciliation: the engine").
 * SQLite: the store's own connection, held (`db.connection()`) for the whole join. PostgreSQL:
 * a pooled connection of its own in one transaction, cursors FETCHed a page at a time. The
 * ledger's rows are the matcher's entries as the driver builds them (columns named as fields).
 */
import type SQLite from 'better-sqlite3';
import type { Kysely } from 'kysely';
import type pg from 'pg';
import { storeDriver } from '../../store/index.js';
import type { Database } from '../../store/schema.js';
import { BillSorter } from './bill-sorter.js';
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

/**
 * Rows a page holds (one FETCH on PostgreSQL; between two yields of the event loop on SQLite;
 * one message of the bill sorter). Pages of 5,000 lived long enough to be promoted out of V8's
 * young generation and grew the heap by tens of MiB before each full collection.
 */
const PAGE = 1_000;

const COLUMNS =
  'src, key, seq, trade_no, wechat_no, app_id, mch_id, currency, amount, settle, fee, at';

/** One of the bill's inputs in key order, in the bill sorter's database (its src the parameter). */
const BILL_QUERY = `SELECT key, seq, trade_no, wechat_no, app_id, mch_id, currency, amount, settle, fee, at
  FROM bill WHERE src = ? ORDER BY key, seq`;

/**
 * The ledger's two inputs: orders paid and refunds succeeded within the day, each row the
 * matcher's entry as the driver builds it (`LedgerPayment`, `LedgerRefund`), not mapped again.
 */
const LEDGER_QUERY = {
  payments: `SELECT out_trade_no AS "outTradeNo", transaction_id AS "transactionId",
    total_fen AS "amountFen", currency, id AS "orderId" FROM orders
    WHERE paid_at >= {start} AND paid_at < {end} ORDER BY out_trade_no{C}`,
  refunds: `SELECT r.out_refund_no AS "outRefundNo", o.out_trade_no AS "outTradeNo",
    r.amount_fen AS "amountFen", r.order_id AS "orderId"
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

/** The ledger's two queries of a day, with the collation and the day's bounds (as SQL literals). */
function ledgerQueries(collate: string, start: string, end: string) {
  const text = (q: string) =>
    q.replaceAll('{C}', collate).replace('{start}', start).replace('{end}', end);
  return { payments: text(LEDGER_QUERY.payments), refunds: text(LEDGER_QUERY.refunds) };
}

type Bill = Inputs['bill'];
type Ledger = Inputs['ledger'];

/**
 * Stages `batches` (the bill's rows), then hands `match` the day's four inputs. `range` is the
 * day, or a function asked once the bill is staged (a bill from elsewhere tells its day by its
 * rows). Resolves what `match` resolves; nothing staged stays behind, whatever happens.
 */
export async function matchStaged<T>(
  db: Kysely<Database>,
  batches: AsyncIterable<StagedRow[]>,
  range: DayRange | (() => DayRange),
  match: (inputs: Inputs) => Promise<T>,
): Promise<T> {
  const sorter = new BillSorter({ columns: COLUMNS, query: BILL_QUERY, page: PAGE });
  try {
    const stage = async (): Promise<Bill> => {
      for await (const rows of batches) await sorter.add(rows);
      sorter.sort([SRC.billPayments, SRC.billRefunds]);
      return {
        payments: { pages: mapped(sorter.pages(SRC.billPayments), billPayment) },
        refunds: { pages: mapped(sorter.pages(SRC.billRefunds), billRefund) },
      };
    };
    const driver = storeDriver(db);
    if (driver.dialect === 'postgres')
      return await ledgerOnPostgres(driver.pool, range, stage, match);
    const bill = await stage();
    const day = typeof range === 'function' ? range() : range;
    return await ledgerOnSqlite(db, driver.database, day, (ledger) => match({ bill, ledger }));
  } finally {
    await sorter.close();
  }
}

async function* mapped<T>(pages: AsyncIterable<Raw[]>, entry: (row: Raw) => T) {
  for await (const page of pages) yield page.map(entry);
}

/** SQLite cache size, in KiB (negative): the main one's while the ledger's sorts run. */
const SORT_CACHE = -4000;

/** The ledger's inputs on SQLite: the store's one connection, held while the join reads them. */
function ledgerOnSqlite<T>(
  db: Kysely<Database>,
  database: SQLite.Database,
  { start, end }: DayRange,
  match: (ledger: Ledger) => Promise<T>,
): Promise<T> {
  // Kysely runs every query on this one connection: hold it while using it directly.
  return db.connection().execute(async () => {
    // Each ORDER BY sorts in up to the main cache's size before spilling to a file, and two
    // run at once: a smaller cache while the join holds the connection bounds the memory.
    const cache = database.pragma('cache_size', { simple: true });
    database.pragma(`cache_size = ${SORT_CACHE}`);
    const q = ledgerQueries('', '?', '?');
    const open: Iterator<unknown>[] = [];
    const rows = <E>(text: string) => {
      const iterator = database.prepare(text).iterate(start, end);
      open.push(iterator);
      return iterator as IterableIterator<E>;
    };
    try {
      return await match({
        payments: paged(rows<LedgerPayment>(q.payments)),
        refunds: paged(rows<LedgerRefund>(q.refunds)),
      });
    } finally {
      // An iterator left open keeps the connection busy.
      for (const iterator of open) iterator.return?.();
      database.pragma(`cache_size = ${cache}`);
    }
  });
}

/**
 * Pages of a synchronous cursor, a yield of the event loop between two: the join holds the
 * connection, but the process still answers what does not need it.
 */
function paged<T>(rows: Iterator<T>): Paged<T> {
  return {
    pages: {
      async *[Symbol.asyncIterator]() {
        for (;;) {
          const page: T[] = [];
          for (let next = rows.next(); !next.done; next = rows.next()) {
            page.push(next.value);
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

/**
 * The ledger's inputs on PostgreSQL: two cursors of one transaction on a pooled connection. A
 * day known before the bill is staged has its cursors opened and their first pages asked for
 * first, so that the server sorts the ledger while this process reads the bill.
 */
async function ledgerOnPostgres<T>(
  pool: pg.Pool,
  range: DayRange | (() => DayRange),
  stage: () => Promise<Bill>,
  match: (inputs: Inputs) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  const query = inTurn(client);
  let broken: Error | undefined;
  try {
    await query('BEGIN');
    // A day's ledger is sorted in memory, not in files of the default 4 MB runs.
    await query(`SET LOCAL work_mem = '${SORT_WORK_MEM}'`);
    const open = (day: DayRange) => {
      const { start, end } = day;
      const q = ledgerQueries(
        ' COLLATE "C"',
        client.escapeLiteral(start),
        client.escapeLiteral(end),
      );
      // Queued on the connection in order: each DECLARE before its first FETCH.
      const ledger = {
        payments: fetched<LedgerPayment>(query, 'payments', q.payments),
        refunds: fetched<LedgerRefund>(query, 'refunds', q.refunds),
      };
      return ledger;
    };
    const early = typeof range === 'function' ? undefined : open(range);
    const bill = await stage();
    const ledger = early ?? open((range as () => DayRange)());
    const result = await match({ bill, ledger });
    await query('COMMIT');
    return result;
  } catch (err) {
    // After any query still queued (a cursor's first page when the bill failed first).
    await query('ROLLBACK').catch((rollback: Error) => {
      broken = rollback;
    });
    throw err;
  } finally {
    // A connection that could not even roll back is not given back to the pool.
    client.release(broken);
  }
}

type InTurn = <R extends object = object>(text: string) => Promise<pg.QueryResult<R>>;

/**
 * The client's queries one after another, in the order asked: `pg` deprecates a query sent
 * while another runs on the same client (the two cursors are read side by side).
 */
function inTurn(client: pg.PoolClient): InTurn {
  let last: Promise<unknown> = Promise.resolve();
  return <R extends object>(text: string) => {
    const next = last.then(() => client.query<R>(text));
    last = next.catch(() => undefined);
    return next;
  };
}

/** PostgreSQL's memory for one sort of the ledger (a million rows a side fit). */
const SORT_WORK_MEM = '64MB';

/**
 * A cursor declared now and its first page asked for now (the server sorts meanwhile), read a
 * page at a time. Its queries fail, if they do, when its pages are read.
 */
function fetched<E extends object>(query: InTurn, name: string, text: string): Paged<E> {
  const declared = query(`DECLARE ${name} NO SCROLL CURSOR FOR ${text}`);
  const fetch = () => query<E>(`FETCH ${PAGE} FROM ${name}`);
  const first = fetch();
  // Read later, or never when the bill fails first: not an unhandled rejection meanwhile.
  declared.catch(() => undefined);
  first.catch(() => undefined);
  return {
    pages: {
      async *[Symbol.asyncIterator]() {
        await declared;
        for (let next = first; ; next = fetch()) {
          const { rows } = await next;
          yield rows;
          if (rows.length < PAGE) return;
        }
      },
    },
  };
}
