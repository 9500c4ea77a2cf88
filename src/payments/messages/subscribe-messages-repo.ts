/** The subscribe messages sent (`subscribe_messages`): one per event, claimed before sending. */
import type { Db } from '../lib/db.js';
import { newId } from '../lib/ids.js';

export interface NewMessage {
  eventId: string;
  orderId: string;
  kind: string;
  templateId: string;
  openid: string;
  at: Date;
}

/** Claims the event's message; false when it was claimed before (the event came again). */
export async function claimMessage(db: Db, m: NewMessage): Promise<boolean> {
  const result = await db
    .insertInto('subscribe_messages')
    .values({
      id: newId('msg'),
      event_id: m.eventId,
      order_id: m.orderId,
      kind: m.kind,
      template_id: m.templateId,
      openid: m.openid,
      outcome: 'sending',
      code: null,
      detail: null,
      created_at: m.at.toISOString(),
    })
    .onConflict((oc) => oc.column('event_id').doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
}

export async function recordOutcome(
  db: Db,
  eventId: string,
  outcome: 'sent' | 'refused' | 'failed',
  code: string | null,
  detail: string | null,
): Promise<void> {
  await db
    .updateTable('subscribe_messages')
    .set({ outcome, code, detail })
    .where('event_id', '=', eventId)
    .execute();
}
