/** The pushes WeChat sent (`wechat_pushes`): recorded once each, by their content's key. */
import type { Selectable } from 'kysely';
import type { WechatPushesTable } from '../../store/schema.js';
import type { Db } from '../lib/db.js';
import { newId } from '../lib/ids.js';

export type PushRow = Selectable<WechatPushesTable>;

/** Records a push; false when one with the same key was recorded before (a repeat). */
export async function recordPush(db: Db, row: Omit<PushRow, 'id'>): Promise<boolean> {
  const result = await db
    .insertInto('wechat_pushes')
    .values({ id: newId('psh'), ...row })
    .onConflict((oc) => oc.column('dedupe_key').doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
}

export async function setPushOutcome(
  db: Db,
  dedupeKey: string,
  outcome: string,
  orderId: string | null,
): Promise<void> {
  await db
    .updateTable('wechat_pushes')
    .set({ outcome, order_id: orderId })
    .where('dedupe_key', '=', dedupeKey)
    .execute();
}

/** The pushes of one order (the console shows them), oldest first. */
export async function pushesOfOrder(db: Db, orderId: string): Promise<PushRow[]> {
  return db
    .selectFrom('wechat_pushes')
    .selectAll()
    .where('order_id', '=', orderId)
    .orderBy('received_at')
    .execute();
}
