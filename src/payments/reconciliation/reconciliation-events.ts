/**
 * The events a finished reconciliation run writes to the outbox (docs/http-api.md "Event"):
 * `reconciliation.completed` for every run that finished (matched or with differences), and
 * `reconciliation.mismatch` when the run left differences open that are not the ones the day's
 * previous run left: a re-run that finds the same differences does not report them again.
 * Each event's id is derived from the run (the day, its attempt and when it started), so
 * writing a run's events twice adds nothing.
 */
import { createHash } from 'node:crypto';
import type { ReconciliationItem, ReconciliationRun } from '../../contract/index.js';
import type { EventType } from '../events/events.js';
import type { Db } from '../lib/db.js';
import { findRun } from './reconciliation-repo.js';
import { itemView, runView } from './reconciliation-view.js';

/** Open differences a mismatch event lists at most; the rest are in the admin API. */
export const MISMATCH_ITEMS = 100;

/** One run of a day: the attempt `claimRun` counted and when it started. */
export interface RunClaim {
  day: string;
  attempt: number;
  startedAt: string;
}

/** The run as events carry it: the admin API's run, with the run's id. */
export type RunEventData = ReconciliationRun & { id: string };

/** `2026-12-03.2`: the day and which run of it. */
export function runId(claim: RunClaim): string {
  return `${claim.day}.${claim.attempt}`;
}

function eventId(type: EventType, claim: RunClaim): string {
  const key = `${type}\n${runId(claim)}\n${claim.startedAt}`;
  return `evt_${createHash('sha256').update(key).digest('base64url').slice(0, 22)}`;
}

/**
 * What the day's open differences are, as one digest (kind, key and detail of each): the
 * mismatch event is written when it changes.
 */
export async function openDigest(db: Db, day: string): Promise<string> {
  const rows = await db
    .selectFrom('reconciliation_items')
    .select(['kind', 'key', 'detail'])
    .where('day', '=', day)
    .where('status', '=', 'open')
    .orderBy('kind')
    .orderBy('key')
    .orderBy('detail')
    .execute();
  const hash = createHash('sha256');
  for (const r of rows) hash.update(`${r.kind}\t${r.key}\t${r.detail}\n`);
  return hash.digest('hex');
}

async function openItems(db: Db, day: string): Promise<ReconciliationItem[]> {
  const rows = await db
    .selectFrom('reconciliation_items')
    .selectAll()
    .where('day', '=', day)
    .where('status', '=', 'open')
    .orderBy('kind')
    .orderBy('key')
    .orderBy('id')
    .limit(MISMATCH_ITEMS)
    .execute();
  return rows.map(itemView);
}

/**
 * Writes the finished run's events (inside the transaction that finished it). `digestBefore`
 * is `openDigest` of the day before the run changed its items.
 */
export async function writeRunEvents(
  trx: Db,
  claim: RunClaim,
  digestBefore: string,
  now: Date,
): Promise<EventType[]> {
  const row = await findRun(trx, claim.day);
  if (!row) throw new Error(`the reconciliation run of ${claim.day} is gone`);
  const run: RunEventData = { id: runId(claim), ...runView(row) };
  const written: EventType[] = ['reconciliation.completed'];
  const payloads: Record<string, unknown>[] = [{ reconciliation: run }];
  const open = row.differences - row.repaired;
  if (open > 0 && (await openDigest(trx, claim.day)) !== digestBefore) {
    written.push('reconciliation.mismatch');
    payloads.push({
      reconciliation: run,
      differences: { open, items: await openItems(trx, claim.day) },
    });
  }
  await trx
    .insertInto('order_events')
    .values(
      written.map((type, i) => ({
        id: eventId(type, claim),
        order_id: null,
        type,
        payload: JSON.stringify(payloads[i]),
        created_at: now.toISOString(),
      })),
    )
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
  return written;
}
