/**
 * The thread a `DayMatcher` starts (day-matcher.ts, through day-match-worker.mjs): it stages the
 * day's bill rows in a private temporary SQLite database (a file SQLite deletes on close, and at
 * once on a crash), then runs `matchDay` with the bill read back in key order here and the
 * ledger's pages asked of the main thread, which reads them from the store meanwhile. Only the
 * differences and the totals go back: the bill's rows never cross again.
 *
 * Messages in: `{ rows }` (staged, answered `{ ack }`), `{ match: merchant }` (no more rows: match
 * now), `{ ledger, page }` (the page of a ledger input asked for, fewer than `PAGE` rows at its
 * end). Out: `{ pull: input }`, `{ differences }` (a page at a time), `{ done: totals }`, and
 * `{ error }` for any failure, after which the thread does nothing more.
 */
import { parentPort, workerData } from 'node:worker_threads';
import SQLite from 'better-sqlite3';
import {
  billPayment,
  billRefund,
  type LedgerInput,
  ledgerPayment,
  ledgerRefund,
  PAGE,
  type Party,
  SRC,
  STAGED_COLUMNS,
  type StagedRow,
} from './day-rows.js';
import { type Difference, type Merchant, matchDay, type Paged } from './match.js';

export type ToThread =
  | { rows: StagedRow[]; parties?: Party[] }
  | { match: Merchant }
  | { ledger: LedgerInput; page: unknown[][] };

export type FromThread =
  | { ack: true }
  | { pull: LedgerInput }
  | { differences: Difference[] }
  | { done: ReturnType<typeof matchDay>['totals'] }
  | { error: { message: string; code?: string; name?: string } };

/** The thread's SQLite page cache, in KiB: its sort spills to a file past it. */
const { cacheKiB } = workerData as { cacheKiB: number };
const port = parentPort!;
const send = (message: FromThread) => port.postMessage(message);

// '' is a temporary database: in SQLite's page cache while small, spilled to a deleted file.
const db = new SQLite('');
db.pragma('journal_mode = OFF');
db.pragma('synchronous = OFF');
db.pragma(`cache_size = ${-cacheKiB}`);
db.exec(`CREATE TABLE bill (src INTEGER, key TEXT, seq INTEGER, trade_no TEXT, wechat_no TEXT,
  party INTEGER, amount INTEGER, settle INTEGER, fee INTEGER, at TEXT)`);
const insert = db.prepare(
  `INSERT INTO bill (${STAGED_COLUMNS}) VALUES (${STAGED_COLUMNS.split(',').fill('?').join(',')})`,
);
// One statement per row: a statement of 50 rows was no faster (binding is the cost).
const stage = db.transaction((rows: StagedRow[]) => {
  for (const row of rows) insert.run(row);
});
const billQuery = db
  .prepare(`SELECT key, seq, trade_no, wechat_no, party, amount, settle, fee, at
  FROM bill WHERE src = ? ORDER BY key, seq`)
  .raw(true);

/** The parties the staged rows name (day-rows.ts), as the main thread numbered them. */
const parties: Party[] = [];

/** One input of the bill in key order, sorted on its first step. */
function* sortedBill<T>(
  src: number,
  entry: (row: unknown[], parties: readonly Party[]) => T,
): Generator<T> {
  for (const row of billQuery.iterate(src) as IterableIterator<unknown[]>) {
    yield entry(row, parties);
  }
}

/** Who waits for the page of a ledger input asked for (one at a time per input). */
const asked = new Map<LedgerInput, (page: unknown[][]) => void>();

function ask(input: LedgerInput): Promise<unknown[][]> {
  return new Promise((resolve) => {
    asked.set(input, resolve);
    send({ pull: input });
  });
}

/** A ledger input from the main thread, the next page asked for while this one is matched. */
function ledger<R, T>(input: LedgerInput, entry: (row: R) => T): Paged<T> {
  return {
    pages: {
      async *[Symbol.asyncIterator]() {
        for (let next = ask(input); ; ) {
          const page = (await next) as R[];
          const last = page.length < PAGE;
          if (!last) next = ask(input);
          if (page.length > 0) yield page.map(entry);
          if (last) return;
        }
      },
    },
  };
}

async function match(merchant: Merchant) {
  const day = matchDay({
    merchant,
    bill: {
      payments: sortedBill(SRC.billPayments, billPayment),
      refunds: sortedBill(SRC.billRefunds, billRefund),
    },
    ledger: {
      payments: ledger('payments', ledgerPayment),
      refunds: ledger('refunds', ledgerRefund),
    },
  });
  let found: Difference[] = [];
  for await (const difference of day) {
    found.push(difference);
    if (found.length === PAGE) {
      send({ differences: found });
      found = [];
    }
  }
  if (found.length > 0) send({ differences: found });
  send({ done: day.totals });
}

let failed = false;

/** The first failure is told, in words (a thrown SqliteError would arrive as a bare object). */
function fail(err: unknown) {
  if (failed) return;
  failed = true;
  const e = err as { message?: unknown; code?: unknown; name?: unknown };
  const code = typeof e?.code === 'string' ? e.code : undefined;
  const name = typeof e?.name === 'string' ? e.name : undefined;
  send({ error: { message: String(e?.message ?? err), code, name } });
}

port.on('message', (message: ToThread) => {
  if (failed) return;
  try {
    if ('rows' in message) {
      if (message.parties) parties.push(...message.parties);
      stage(message.rows);
      send({ ack: true });
    } else if ('match' in message) {
      match(message.match).catch(fail);
    } else {
      asked.get(message.ledger)?.(message.page);
      asked.delete(message.ledger);
    }
  } catch (err) {
    fail(err);
  }
});
