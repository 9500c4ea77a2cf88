/**
 * A day's ledger, read for the day matcher. The bill arrives in time order and the matcher wants
 * key order, so its rows are handed to a day matcher (day-matcher.ts: a thread with a private
 * temporary SQLite database, whatever the store), which sorts them and runs the merge join; this
 * thread reads the ledger in key order straight from `orders` and `refunds`, each input one query
 * held open, and hands the matcher a page whenever it asks. Nothing staged outlives the run, even
 * a crash: the matcher's database is a file SQLite deletes. Keys compare in code-unit order on
 * both stores and in the matcher (SQLite's binary collation; `COLLATE "C"` on PostgreSQL).
 *
 * This path uses the drivers directly (`storeDriver`): Kysely builds, compiles and awaits every
 * statement, and a day can have a million rows (BENCHMARKS.md, "Reconciliation: the engine").
 * SQLite: the store's own connection, held (`db.connection()`) for the whole join. PostgreSQL:
 * a pooled connection of its own in one transaction, cursors FETCHed a page at a time. The
 * ledger's rows are arrays (`LedgerPaymentRow`, `LedgerRefundRow`), as the thread wants them.
 */
import type SQLite from 'better-sqlite3';
import type { Kysely } from 'kysely';
import type pg from 'pg';
import { storeDriver } from '../../store/index.js';
import type { Database } from '../../store/schema.js';
import { type DayMatch, DayMatcher, type NextPage } from './day-matcher.js';
import { type LedgerInput, PAGE, type Parties, type StagedRow } from './day-rows.js';
import type { Merchant } from './match.js';

export interface DayRange {
  start: string;
  end: string;
}

/**
 * The ledger's two inputs: orders paid and refunds succeeded within the day, each row an array
 * in the order `ledgerPayment` and `ledgerRefund` (day-rows.ts) read it. `{start}` and `{end}`
 * are the day's bounds, `{C}` the code-unit collation on PostgreSQL (the benchmark's phase-1
 * pipeline runs the same text).
 */
export const LEDGER_QUERY: Record<LedgerInput, string> = {
  payments: `SELECT out_trade_no, transaction_id, total_fen, currency, id FROM orders
    WHERE paid_at >= {start} AND paid_at < {end} ORDER BY out_trade_no{C}`,
  refunds: `SELECT r.out_refund_no, o.out_trade_no, r.amount_fen, r.order_id
    FROM refunds r JOIN orders o ON o.id = r.order_id
    WHERE r.status = 'SUCCESS' AND r.succeeded_at >= {start} AND r.succeeded_at < {end}
    ORDER BY r.out_refund_no{C}`,
};

/** The ledger's two queries of a day, with the collation and the day's bounds (as SQL literals). */
function ledgerQueries(collate: string, start: string, end: string): Record<LedgerInput, string> {
  const text = (q: string) =>
    q.replaceAll('{C}', collate).replace('{start}', start).replace('{end}', end);
  return { payments: text(LEDGER_QUERY.payments), refunds: text(LEDGER_QUERY.refunds) };
}

type Ledger = Record<LedgerInput, NextPage>;

/** A day's bill as staged rows, in batches, and the parties their numbers name. */
export interface StagedBill {
  batches: AsyncIterable<StagedRow[]>;
  parties: Parties;
}

/**
 * Stages the bill's rows, then matches them against the ledger of `range`: the day,
 * or a function asked once the bill is staged (a bill from elsewhere tells its day by its rows).
 * Nothing staged stays behind, whatever happens.
 */
export async function matchWithLedger(
  db: Kysely<Database>,
  bill: StagedBill,
  range: DayRange | (() => DayRange),
  merchant: Merchant,
): Promise<DayMatch> {
  const matcher = new DayMatcher();
  try {
    const stage = async () => {
      for await (const rows of bill.batches) await matcher.add(rows, bill.parties);
    };
    const match = (ledger: Ledger) => matcher.match(merchant, ledger);
    const driver = storeDriver(db);
    if (driver.dialect === 'postgres') {
      return await ledgerOnPostgres(driver.pool, range, stage, match);
    }
    await stage();
    const day = typeof range === 'function' ? range() : range;
    return await ledgerOnSqlite(db, driver.database, day, match);
  } finally {
    await matcher.close();
  }
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
    const rows = (text: string) => {
      const iterator = database.prepare(text).raw(true).iterate(start, end);
      open.push(iterator);
      return pagesOf(iterator as Iterator<unknown[]>);
    };
    try {
      return await match({ payments: rows(q.payments), refunds: rows(q.refunds) });
    } finally {
      // An iterator left open keeps the connection busy.
      for (const iterator of open) iterator.return?.();
      database.pragma(`cache_size = ${cache}`);
    }
  });
}

/**
 * Pages of a synchronous cursor. Each is read when the matcher asks for it, so the event loop
 * turns between two: the join holds the connection, but the process still answers what does
 * not need it.
 */
function pagesOf(rows: Iterator<unknown[]>): NextPage {
  return async () => {
    const page: unknown[][] = [];
    for (let next = rows.next(); !next.done; next = rows.next()) {
      page.push(next.value);
      if (page.length === PAGE) break;
    }
    return page;
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
  stage: () => Promise<void>,
  match: (ledger: Ledger) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  const query = inTurn(client);
  let broken: Error | undefined;
  try {
    await query('BEGIN');
    // A day's ledger is sorted in memory, not in files of the default 4 MB runs.
    await query(`SET LOCAL work_mem = '${SORT_WORK_MEM}'`);
    const open = ({ start, end }: DayRange): Ledger => {
      const q = ledgerQueries(
        ' COLLATE "C"',
        client.escapeLiteral(start),
        client.escapeLiteral(end),
      );
      // Queued on the connection in order: each DECLARE before its first FETCH.
      return {
        payments: fetched(query, 'payments', q.payments),
        refunds: fetched(query, 'refunds', q.refunds),
      };
    };
    const early = typeof range === 'function' ? undefined : open(range);
    await stage();
    const result = await match(early ?? open((range as () => DayRange)()));
    await query.end('COMMIT');
    return result;
  } catch (err) {
    // After any query still queued (a cursor's first page when the bill failed first).
    await query.end('ROLLBACK').catch((rollback: Error) => {
      broken = rollback;
    });
    throw err;
  } finally {
    // A connection that could not even roll back is not given back to the pool.
    client.release(broken);
  }
}

interface InTurn {
  (query: string | pg.QueryArrayConfig): Promise<pg.QueryResult>;
  /** Ends the transaction: a page read ahead that asks later is refused, never sent. */
  end(sql: 'COMMIT' | 'ROLLBACK'): Promise<pg.QueryResult>;
}

/**
 * The client's queries one after another, in the order asked: `pg` deprecates a query sent
 * while another runs on the same client (the two cursors are read side by side). Once the
 * transaction ends nothing more is sent: a late FETCH on a client back in the pool would run on
 * someone else's connection.
 */
function inTurn(client: pg.PoolClient): InTurn {
  let last: Promise<unknown> = Promise.resolve();
  let ended = false;
  const send = (query: string | pg.QueryArrayConfig) => {
    const next = last.then(() =>
      typeof query === 'string' ? client.query(query) : client.query(query),
    );
    last = next.catch(() => undefined);
    return next;
  };
  const query = (q: string | pg.QueryArrayConfig) =>
    ended ? Promise.reject(new Error('the ledger transaction has ended')) : send(q);
  return Object.assign(query, {
    end(sql: 'COMMIT' | 'ROLLBACK') {
      ended = true;
      return send(sql);
    },
  });
}

/** PostgreSQL's memory for one sort of the ledger (a million rows a side fit). */
const SORT_WORK_MEM = '64MB';

/**
 * A cursor declared now and its first page asked for now (the server sorts meanwhile), read a
 * page at a time as arrays. Its queries fail, if they do, when its pages are read.
 */
function fetched(query: InTurn, name: string, text: string): NextPage {
  const declared = query(`DECLARE ${name} NO SCROLL CURSOR FOR ${text}`);
  const fetch = () => query({ text: `FETCH ${PAGE} FROM ${name}`, rowMode: 'array' });
  let next: Promise<pg.QueryResult> | undefined = fetch();
  // Read later, or never when the bill fails first: not an unhandled rejection meanwhile.
  declared.catch(() => undefined);
  next.catch(() => undefined);
  return async () => {
    await declared;
    const { rows } = await (next ?? fetch());
    next = undefined;
    return rows;
  };
}
