/**
 * Reading orders and changing their state. A transition is ONE conditional UPDATE
 * (compare-and-set on the current status) plus its outbox event, in one transaction: two
 * racing transitions cannot both win, and no transition exists without its event.
 */
import { type Kysely, sql, type Transaction, type Updateable } from 'kysely';
import type { Database, OrderStatus, OrdersTable } from '../store/schema.js';
import { newId } from './ids.js';
import { canTransition, eventTypeFor } from './order-states.js';
import { type OrderRow, type OrderView, orderView } from './order-view.js';

export type Db = Kysely<Database> | Transaction<Database>;

/** Runs `work` in the caller's transaction when `db` is one, else in a new transaction. */
export function inTransaction<T>(
  db: Db,
  work: (trx: Transaction<Database>) => Promise<T>,
): Promise<T> {
  return db.isTransaction ? work(db as Transaction<Database>) : db.transaction().execute(work);
}

export async function findOrder(db: Db, id: string): Promise<OrderRow | undefined> {
  return db.selectFrom('orders').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findOrderByOutTradeNo(
  db: Db,
  outTradeNo: string,
): Promise<OrderRow | undefined> {
  return db
    .selectFrom('orders')
    .selectAll()
    .where('out_trade_no', '=', outTradeNo)
    .executeTakeFirst();
}

export async function loadOrderView(db: Db, order: OrderRow): Promise<OrderView> {
  const items = await db
    .selectFrom('order_items')
    .selectAll()
    .where('order_id', '=', order.id)
    .execute();
  return orderView(order, items);
}

/** Appends an outbox event for an order (inside the caller's transaction). */
export async function appendEvent(
  trx: Db,
  orderId: string,
  type: string,
  data: Record<string, unknown>,
  at: Date,
): Promise<string> {
  const id = newId('evt');
  await trx
    .insertInto('order_events')
    .values({
      id,
      order_id: orderId,
      type,
      payload: JSON.stringify(data),
      created_at: at.toISOString(),
    })
    .execute();
  return id;
}

export interface TransitionResult {
  order: OrderRow;
  view: OrderView;
}

/**
 * Moves order `id` from one of `from` to `to`, applying `set`, and records the event.
 * Resolves `null` when the order was not in `from` (someone else moved it first).
 */
export async function transition(
  db: Db,
  id: string,
  from: readonly OrderStatus[],
  to: OrderStatus,
  at: Date,
  set: Updateable<OrdersTable> = {},
  extra: Record<string, unknown> = {},
): Promise<TransitionResult | null> {
  for (const f of from) {
    if (!canTransition(f, to)) throw new Error(`order transition ${f} → ${to} is not allowed`);
  }
  return inTransaction(db, async (trx) => {
    // RETURNING gives the row as updated: no second read of it.
    const order = await trx
      .updateTable('orders')
      .set({
        ...set,
        status: to,
        version: sql<number>`version + 1`,
        updated_at: at.toISOString(),
      })
      .where('id', '=', id)
      .where('status', 'in', [...from])
      .returningAll()
      .executeTakeFirst();
    if (order === undefined) return null;
    const view = await loadOrderView(trx, order);
    await appendEvent(trx, id, eventTypeFor(to), { order: view, ...extra }, at);
    return { order, view };
  });
}
