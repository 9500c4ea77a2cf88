/**
 * The subscribe messages (`subscribe_messages`): one per event, queued with the message as built
 * then, sent by the job. An attempt is claimed by a compare-and-set on `attempts`, so two
 * instances never send the same attempt; a claim lapses (a crash mid-call) at `next_attempt_at`.
 */
import type { Selectable } from 'kysely';
import type { SubscribeMessagesTable } from '../../store/schema.js';
import type { Db } from '../lib/db.js';
import { newIds } from '../lib/ids.js';

export type MessageRow = Selectable<SubscribeMessagesTable>;

export type MessageOutcome = 'pending' | 'sent' | 'refused' | 'failed';

export interface NewMessage {
  eventId: string;
  orderId: string;
  kind: string;
  templateId: string;
  openid: string;
  at: Date;
  /** JSON of the message to send; null when it could not be built (`outcome` says why). */
  message: string | null;
  outcome: MessageOutcome;
  code?: string;
  detail?: string;
}

/**
 * Queues the events' messages in one statement; resolves the event ids queued now (an event
 * seen before, as events come again, queues nothing).
 */
export async function queueMessages(db: Db, messages: readonly NewMessage[]): Promise<Set<string>> {
  if (messages.length === 0) return new Set();
  const ids = newIds('msg', messages.length);
  const rows = await db
    .insertInto('subscribe_messages')
    .values(
      messages.map((m, i) => {
        const iso = m.at.toISOString();
        return {
          id: ids[i]!,
          event_id: m.eventId,
          order_id: m.orderId,
          kind: m.kind,
          template_id: m.templateId,
          openid: m.openid,
          outcome: m.outcome,
          code: m.code ?? null,
          detail: m.detail ?? null,
          created_at: iso,
          message: m.message,
          attempts: 0,
          next_attempt_at: m.outcome === 'pending' ? iso : null,
          updated_at: iso,
        };
      }),
    )
    .onConflict((oc) => oc.column('event_id').doNothing())
    .returning('event_id')
    .execute();
  return new Set(rows.map((r) => r.event_id));
}

/** Pending messages whose attempt is due, oldest first. */
export async function dueMessages(db: Db, now: Date, limit: number): Promise<MessageRow[]> {
  return db
    .selectFrom('subscribe_messages')
    .selectAll()
    .where('outcome', '=', 'pending')
    .where('next_attempt_at', '<=', now.toISOString())
    .orderBy('next_attempt_at')
    .limit(limit)
    .execute();
}

/**
 * Claims the next attempt of `row` until `until`; the row after the claim, or undefined when
 * another instance claimed it (or it is no longer pending).
 */
export async function claimAttempt(
  db: Db,
  row: MessageRow,
  now: Date,
  until: Date,
): Promise<MessageRow | undefined> {
  return db
    .updateTable('subscribe_messages')
    .set({
      attempts: row.attempts + 1,
      next_attempt_at: until.toISOString(),
      updated_at: now.toISOString(),
    })
    .where('id', '=', row.id)
    .where('outcome', '=', 'pending')
    .where('attempts', '=', row.attempts)
    .returningAll()
    .executeTakeFirst();
}

/** What an attempt came to: final (`nextAttemptAt` null) or pending another attempt. */
export interface AttemptResult {
  outcome: MessageOutcome;
  code: string | null;
  detail: string | null;
  nextAttemptAt: Date | null;
}

/** Records the claimed attempt's result, if the claim still holds. */
export async function recordAttempt(
  db: Db,
  row: MessageRow,
  result: AttemptResult,
  now: Date,
): Promise<void> {
  await db
    .updateTable('subscribe_messages')
    .set({
      outcome: result.outcome,
      code: result.code,
      detail: result.detail,
      next_attempt_at: result.nextAttemptAt?.toISOString() ?? null,
      updated_at: now.toISOString(),
    })
    .where('id', '=', row.id)
    .where('outcome', '=', 'pending')
    .where('attempts', '=', row.attempts)
    .execute();
}

/** The messages of one outcome, or one order, or all: for a newest-first page. */
export function messagesQuery(db: Db, filter: { outcome?: string; orderId?: string }) {
  let q = db.selectFrom('subscribe_messages').selectAll();
  if (filter.outcome) q = q.where('outcome', '=', filter.outcome);
  if (filter.orderId) q = q.where('order_id', '=', filter.orderId);
  return q;
}
