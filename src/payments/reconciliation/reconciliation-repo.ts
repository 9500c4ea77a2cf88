/**
 * The reconciliation tables: runs (one per Beijing day), their items (the differences) and the
 * entries a run stages for the merge join. The bill arrives in time order and the matcher wants
 * key order, so both sides are staged in `reconciliation_entries` and read back a page at a time
 * along its primary key (day, src, key, seq): memory stays flat however long the day, and keys
 * compare in code-unit order on both databases (the column is `COLLATE "C"` on PostgreSQL).
 */
import { type Insertable, type Selectable, sql } from 'kysely';
import type {
  ReconciliationEntriesTable,
  ReconciliationItemsTable,
  ReconciliationRunsTable,
} from '../../store/schema.js';
import type { Db } from '../lib/db.js';
import type { BillPayment, BillRefund, LedgerPayment, LedgerRefund } from './match.js';

export type RunRow = Selectable<ReconciliationRunsTable>;
export type ItemRow = Selectable<ReconciliationItemsTable>;
export type Entry = Insertable<ReconciliationEntriesTable>;

/** Which input an entry belongs to. */
export const SRC = { billPayments: 1, billRefunds: 2, ledgerPayments: 3, ledgerRefunds: 4 };

/** A run left `running` longer than this was abandoned (a crash): it may be claimed again. */
const STALE_RUN_MS = 3600_000;
const PAGE = 2000;
/** Rows per INSERT: 15 columns each stays under SQLite's limit of bound values. */
const INSERT_ROWS = 500;

/** Marks the day's run `running`; false when another run of the day is in progress. */
export async function claimRun(db: Db, day: string, now: Date): Promise<boolean> {
  const startedAt = now.toISOString();
  const staleBefore = new Date(now.getTime() - STALE_RUN_MS).toISOString();
  const result = await db
    .insertInto('reconciliation_runs')
    .values({
      day,
      status: 'running',
      attempts: 1,
      failures: 0,
      started_at: startedAt,
      differences: 0,
      repaired: 0,
    })
    .onConflict((oc) =>
      oc
        .column('day')
        .doUpdateSet((eb) => ({
          status: 'running',
          attempts: eb('reconciliation_runs.attempts', '+', 1),
          started_at: startedAt,
          error: null,
        }))
        .where((eb) =>
          eb.or([
            eb('reconciliation_runs.status', '<>', 'running'),
            eb('reconciliation_runs.started_at', '<', staleBefore),
          ]),
        ),
    )
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
}

export interface RunOutcome {
  status: 'matched' | 'differences' | 'failed' | 'waiting';
  totals?: unknown;
  differences?: number;
  repaired?: number;
  billSha256?: string | null;
  fundFlowSha256?: string | null;
  error?: string | null;
}

/** Ends the day's run. A failed or waiting run keeps the totals of the last one that finished. */
export async function finishRun(db: Db, day: string, outcome: RunOutcome, now: Date) {
  const finished = outcome.status === 'matched' || outcome.status === 'differences';
  await db
    .updateTable('reconciliation_runs')
    .set((eb) => ({
      status: outcome.status,
      error: outcome.error ?? null,
      failures:
        outcome.status === 'failed'
          ? eb('failures', '+', 1)
          : outcome.status === 'waiting'
            ? eb.ref('failures')
            : 0,
      finished_at: now.toISOString(),
      ...(finished && {
        totals: JSON.stringify(outcome.totals),
        differences: outcome.differences ?? 0,
        repaired: outcome.repaired ?? 0,
        bill_sha256: outcome.billSha256 ?? null,
        fund_flow_sha256: outcome.fundFlowSha256 ?? null,
      }),
    }))
    .where('day', '=', day)
    .execute();
}

export function findRun(db: Db, day: string): Promise<RunRow | undefined> {
  return db.selectFrom('reconciliation_runs').selectAll().where('day', '=', day).executeTakeFirst();
}

/** Runs, newest day first, after `before` (a day) when given. */
export function listRuns(db: Db, limit: number, before?: string): Promise<RunRow[]> {
  let query = db.selectFrom('reconciliation_runs').selectAll();
  if (before !== undefined) query = query.where('day', '<', before);
  return query.orderBy('day', 'desc').limit(limit).execute();
}

/**
 * The days among `days` the daily job leaves alone: their run finished (matched or with
 * differences), or failed `maxFailures` times in a row (a person runs it again).
 */
export async function settledDays(
  db: Db,
  days: readonly string[],
  maxFailures: number,
): Promise<Set<string>> {
  if (days.length === 0) return new Set();
  const rows = await db
    .selectFrom('reconciliation_runs')
    .select('day')
    .where('day', 'in', days)
    .where((eb) =>
      eb.or([
        eb('status', 'in', ['matched', 'differences']),
        eb.and([eb('status', '=', 'failed'), eb('failures', '>=', maxFailures)]),
      ]),
    )
    .execute();
  return new Set(rows.map((r) => r.day));
}

/** When the first order was made (reconciliation has nothing to catch up before it). */
export async function firstOrderAt(db: Db): Promise<string | null> {
  const row = await db
    .selectFrom('orders')
    .select((eb) => eb.fn.min('created_at').as('first'))
    .executeTakeFirst();
  return (row?.first as string | null | undefined) ?? null;
}

/** A day's items, by kind then key, `kind` only when given; `after` pages by id. */
export function listItems(
  db: Db,
  day: string,
  options: { kind?: string; limit: number; after?: { kind: string; key: string; id: string } },
): Promise<ItemRow[]> {
  let query = db.selectFrom('reconciliation_items').selectAll().where('day', '=', day);
  if (options.kind !== undefined) query = query.where('kind', '=', options.kind);
  const after = options.after;
  if (after) {
    query = query.where((eb) =>
      eb.or([
        eb('kind', '>', after.kind),
        eb.and([eb('kind', '=', after.kind), eb('key', '>', after.key)]),
        eb.and([eb('kind', '=', after.kind), eb('key', '=', after.key), eb('id', '>', after.id)]),
      ]),
    );
  }
  return query.orderBy('kind').orderBy('key').orderBy('id').limit(options.limit).execute();
}

/** Keys of the day's items already repaired (a re-run keeps them). */
export async function repairedKeys(db: Db, day: string): Promise<Set<string>> {
  const rows = await db
    .selectFrom('reconciliation_items')
    .select('key')
    .where('day', '=', day)
    .where('status', '=', 'repaired')
    .execute();
  return new Set(rows.map((r) => r.key));
}

/** Replaces the day's open items with `items` (repaired items stay: they are history). */
export async function replaceItems(
  db: Db,
  day: string,
  items: Insertable<ReconciliationItemsTable>[],
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx
      .deleteFrom('reconciliation_items')
      .where('day', '=', day)
      .where('status', '<>', 'repaired')
      .execute();
    for (let i = 0; i < items.length; i += INSERT_ROWS) {
      await trx
        .insertInto('reconciliation_items')
        .values(items.slice(i, i + INSERT_ROWS))
        .execute();
    }
  });
}

/** Stages entries (a batch of the bill's rows). */
export async function stageEntries(db: Db, entries: Entry[]): Promise<void> {
  for (let i = 0; i < entries.length; i += INSERT_ROWS) {
    await db
      .insertInto('reconciliation_entries')
      .values(entries.slice(i, i + INSERT_ROWS))
      .execute();
  }
}

const LEDGER_COLUMNS = [
  ...['day', 'src', 'key', 'seq', 'trade_no', 'wechat_no', 'app_id', 'mch_id'],
  ...['currency', 'amount', 'settle', 'fee', 'order_id'],
] as const;

/** Stages the ledger of `[start, end)`: orders paid, refunds succeeded; one statement each. */
export async function stageLedger(db: Db, day: string, start: string, end: string) {
  await db
    .insertInto('reconciliation_entries')
    .columns(LEDGER_COLUMNS)
    .expression((eb) =>
      eb
        .selectFrom('orders')
        .select([
          sql<string>`cast(${day} as text)`.as('day'),
          sql<number>`cast(${SRC.ledgerPayments} as integer)`.as('src'),
          'out_trade_no as key',
          sql<number>`0`.as('seq'),
          'out_trade_no as trade_no',
          'transaction_id as wechat_no',
          sql<string>`''`.as('app_id'),
          sql<string>`''`.as('mch_id'),
          'currency',
          'total_fen as amount',
          sql<number>`0`.as('settle'),
          sql<number>`0`.as('fee'),
          'id as order_id',
        ])
        .where('paid_at', '>=', start)
        .where('paid_at', '<', end),
    )
    .execute();
  await db
    .insertInto('reconciliation_entries')
    .columns(LEDGER_COLUMNS)
    .expression((eb) =>
      eb
        .selectFrom('refunds as r')
        .innerJoin('orders as o', 'o.id', 'r.order_id')
        .select([
          sql<string>`cast(${day} as text)`.as('day'),
          sql<number>`cast(${SRC.ledgerRefunds} as integer)`.as('src'),
          'r.out_refund_no as key',
          sql<number>`0`.as('seq'),
          'o.out_trade_no as trade_no',
          'r.refund_id as wechat_no',
          sql<string>`''`.as('app_id'),
          sql<string>`''`.as('mch_id'),
          'o.currency',
          'r.amount_fen as amount',
          sql<number>`0`.as('settle'),
          sql<number>`0`.as('fee'),
          'r.order_id',
        ])
        .where('r.status', '=', 'SUCCESS')
        .where('r.succeeded_at', '>=', start)
        .where('r.succeeded_at', '<', end),
    )
    .execute();
}

export async function clearEntries(db: Db, day: string): Promise<void> {
  await db.deleteFrom('reconciliation_entries').where('day', '=', day).execute();
}

type EntryRow = Selectable<ReconciliationEntriesTable>;

/** One input's entries in (key, seq) order, a page at a time. */
async function* entries(db: Db, day: string, src: number): AsyncGenerator<EntryRow> {
  let last: { key: string; seq: number } | undefined;
  for (;;) {
    let query = db
      .selectFrom('reconciliation_entries')
      .selectAll()
      .where('day', '=', day)
      .where('src', '=', src);
    if (last) {
      const { key, seq } = last;
      // A row-value comparison: both databases read on along the primary key from it.
      query = query.where((eb) => eb(eb.refTuple('key', 'seq'), '>', eb.tuple(key, seq)));
    }
    const page = await query.orderBy('key').orderBy('seq').limit(PAGE).execute();
    yield* page;
    if (page.length < PAGE) return;
    const end = page.at(-1)!;
    last = { key: end.key, seq: end.seq };
  }
}

async function* mapped<T>(rows: AsyncIterable<EntryRow>, entry: (row: EntryRow) => T) {
  for await (const row of rows) yield entry(row);
}

/** The four sorted inputs of `matchDay`, from the staged entries. */
export function stagedInputs(db: Db, day: string) {
  return {
    bill: {
      payments: mapped(
        entries(db, day, SRC.billPayments),
        (r): BillPayment => ({
          outTradeNo: r.key,
          transactionId: r.wechat_no ?? '',
          appId: r.app_id,
          mchId: r.mch_id,
          currency: r.currency,
          amountFen: Number(r.amount),
          settlementFen: Number(r.settle),
          feeMilliFen: Number(r.fee),
          ...(r.at !== null && { paidAt: r.at }),
          row: r.seq,
        }),
      ),
      refunds: mapped(
        entries(db, day, SRC.billRefunds),
        (r): BillRefund => ({
          outRefundNo: r.key,
          outTradeNo: r.trade_no,
          refundId: r.wechat_no ?? '',
          appId: r.app_id,
          mchId: r.mch_id,
          amountFen: Number(r.amount),
          refundFen: Number(r.settle),
          feeMilliFen: Number(r.fee),
          row: r.seq,
        }),
      ),
    },
    ledger: {
      payments: mapped(
        entries(db, day, SRC.ledgerPayments),
        (r): LedgerPayment => ({
          outTradeNo: r.key,
          transactionId: r.wechat_no,
          amountFen: Number(r.amount),
          currency: r.currency,
          ...(r.order_id !== null && { orderId: r.order_id }),
        }),
      ),
      refunds: mapped(
        entries(db, day, SRC.ledgerRefunds),
        (r): LedgerRefund => ({
          outRefundNo: r.key,
          outTradeNo: r.trade_no,
          amountFen: Number(r.amount),
          ...(r.order_id !== null && { orderId: r.order_id }),
        }),
      ),
    },
  };
}
