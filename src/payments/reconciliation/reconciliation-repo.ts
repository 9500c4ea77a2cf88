/**
 * The reconciliation tables: runs (one per Beijing day) and their items (the differences). What
 * a run stages for the merge join is in ledger-repo.ts.
 */
import type { Insertable, Selectable } from 'kysely';
import type { ReconciliationItemsTable, ReconciliationRunsTable } from '../../store/schema.js';
import type { Db } from '../lib/db.js';

export type RunRow = Selectable<ReconciliationRunsTable>;
export type ItemRow = Selectable<ReconciliationItemsTable>;

/** A run left `running` longer than this was abandoned (a crash): it may be claimed again. */
const STALE_RUN_MS = 3600_000;
/** Items per INSERT: 11 columns each stays under SQLite's limit of bound values. */
const INSERT_ROWS = 500;

/**
 * Marks the day's run `running`; resolves which attempt it is, or null when another run of the
 * day is in progress.
 */
export async function claimRun(
  db: Db,
  day: string,
  now: Date,
): Promise<{ day: string; attempt: number; startedAt: string } | null> {
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
    .returning('attempts')
    .executeTakeFirst();
  return result ? { day, attempt: result.attempts, startedAt } : null;
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

/**
 * Ends the day's run `attempt`; false when that run is no longer the day's (it was abandoned
 * and claimed again). A failed or waiting run keeps the totals of the last one that finished.
 */
export async function finishRun(
  db: Db,
  run: { day: string; attempt: number },
  outcome: RunOutcome,
  now: Date,
): Promise<boolean> {
  const finished = outcome.status === 'matched' || outcome.status === 'differences';
  const result = await db
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
    .where('day', '=', run.day)
    .where('attempts', '=', run.attempt)
    .where('status', '=', 'running')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
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
