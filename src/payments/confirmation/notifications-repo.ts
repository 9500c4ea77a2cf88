/**
 * The notifications repository: every payment and refund notify WeChat sent, one row per kind
 * and identity (a repeat counts up `received_count`), with the order it was about and what we
 * answered. The order timeline shows them.
 */
import { preparedQuery } from '../../store/prepared-query.js';
import type { Db } from '../lib/db.js';
import { newId } from '../lib/ids.js';

export type NotifyKind = 'payment' | 'refund';

/** A payment notify: its identity, the order, what we answered and when it came. */
export type PaymentNotifyRecord = {
  identity: string;
  orderId: string | null;
  outTradeNo: string;
  outcome: string;
  detail: string;
  at: string;
};

/**
 * Records a payment notify, or counts a repeat up and keeps what was answered last; a repeat
 * without an order keeps the order already recorded. Resolves true when it was seen before.
 */
export async function recordPaymentNotify(db: Db, notify: PaymentNotifyRecord): Promise<boolean> {
  const [row] = await upsertPaymentNotify(db, { id: newId('ntf'), ...notify });
  return (row?.received_count ?? 1) > 1;
}

/** Compiled once: every payment notify writes one. */
const upsertPaymentNotify = preparedQuery<
  PaymentNotifyRecord & { id: string },
  { received_count: number }
>((db, p) =>
  db
    .insertInto('notifications')
    .values({
      id: p('id'),
      kind: 'payment',
      identity: p('identity'),
      order_id: p('orderId'),
      out_trade_no: p('outTradeNo'),
      outcome: p('outcome'),
      detail: p('detail'),
      received_count: 1,
      created_at: p('at'),
      updated_at: p('at'),
    })
    .onConflict((oc) =>
      oc.columns(['kind', 'identity']).doUpdateSet((eb) => ({
        received_count: eb('notifications.received_count', '+', 1),
        order_id: eb.fn.coalesce('excluded.order_id', 'notifications.order_id'),
        outcome: eb.ref('excluded.outcome'),
        detail: eb.ref('excluded.detail'),
        updated_at: eb.ref('excluded.updated_at'),
      })),
    )
    .returning('received_count'),
);

/** A refund notify arrived (`received`, no order yet), or arrived again (counted). */
export async function recordRefundNotify(
  db: Db,
  identity: string,
  outTradeNo: string,
  at: string,
): Promise<void> {
  await db
    .insertInto('notifications')
    .values({
      id: newId('ntf'),
      kind: 'refund',
      identity,
      order_id: null,
      out_trade_no: outTradeNo,
      outcome: 'received',
      detail: null,
      received_count: 1,
      created_at: at,
      updated_at: at,
    })
    .onConflict((oc) =>
      oc.columns(['kind', 'identity']).doUpdateSet((eb) => ({
        received_count: eb('notifications.received_count', '+', 1),
        updated_at: at,
      })),
    )
    .execute();
}

/** The order a recorded notify turned out to be about. */
export async function linkNotify(
  db: Db,
  kind: NotifyKind,
  identity: string,
  orderId: string,
): Promise<void> {
  await db
    .updateTable('notifications')
    .set({ order_id: orderId })
    .where('kind', '=', kind)
    .where('identity', '=', identity)
    .execute();
}

/** What a recorded notify was answered. */
export async function answerNotify(
  db: Db,
  kind: NotifyKind,
  identity: string,
  answer: { outcome: string; detail: string; at: string },
): Promise<void> {
  await db
    .updateTable('notifications')
    .set({ outcome: answer.outcome, detail: answer.detail, updated_at: answer.at })
    .where('kind', '=', kind)
    .where('identity', '=', identity)
    .execute();
}
