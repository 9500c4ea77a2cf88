/**
 * Reading orders and changing their state. A transition is ONE conditional UPDATE
 * (compare-and-set on the current status) plus its outbox event, in one transaction: two
 * racing transitions cannot both win, and no transition exists without its event. A move into
 * CLOSED or FAILED also gives back the stock the order took at checkout: those states are
 * final, so it happens once.
 */

import { type Kysely, type Selectable, sql, type Transaction, type Updateable } from 'kysely';
import type { Order } from '../../contract/index.js';
import { preparedQuery } from '../../store/prepared-query.js';
import type { Database, OrderItemsTable, OrderStatus, OrdersTable } from '../../store/schema.js';
import { crashPoint } from '../lib/crash-points.js';
import { newId } from '../lib/ids.js';
import { canTransition, eventTypeFor } from './order-states.js';
import { type OrderItemRow, type OrderRow, orderView } from './order-view.js';

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

const orderItems = preparedQuery<{ orderId: string }, Selectable<OrderItemsTable>>((db, p) =>
  db.selectFrom('order_items').selectAll().where('order_id', '=', p('orderId')),
);

export async function loadOrderView(db: Db, order: OrderRow): Promise<Order> {
  return orderView(order, await orderItems(db, { orderId: order.id }));
}

/** The statuses in which an order no longer holds the stock it took. */
const GIVES_STOCK_BACK: ReadonlySet<OrderStatus> = new Set(['CLOSED', 'FAILED']);

/**
 * Puts each line's reserved units back (unless the product became unlimited meanwhile), in
 * product id order like checkout's reservation, so PostgreSQL row locks are taken in one order.
 */
async function releaseStock(trx: Db, items: OrderItemRow[], at: Date): Promise<void> {
  const reserved = items.filter((i) => i.stock_reserved > 0);
  reserved.sort((a, b) => (a.product_id < b.product_id ? -1 : a.product_id > b.product_id ? 1 : 0));
  for (const item of reserved) {
    await trx
      .updateTable('products')
      .set((eb) => ({ stock: eb('stock', '+', item.stock_reserved), updated_at: at.toISOString() }))
      .where('id', '=', item.product_id)
      .where('stock', 'is not', null)
      .execute();
  }
}

const insertEvent = preparedQuery<
  { id: string; orderId: string; type: string; payload: string; at: string },
  never
>((db, p) =>
  db.insertInto('order_events').values({
    id: p('id'),
    order_id: p('orderId'),
    type: p('type'),
    payload: p('payload'),
    created_at: p('at'),
  }),
);

/** Appends an outbox event for an order (inside the caller's transaction). */
export async function appendEvent(
  trx: Db,
  orderId: string,
  type: string,
  data: Record<string, unknown>,
  at: Date,
): Promise<string> {
  const id = newId('evt');
  await insertEvent(trx, {
    id,
    orderId,
    type,
    payload: JSON.stringify(data),
    at: at.toISOString(),
  });
  return id;
}

export interface TransitionResult {
  order: OrderRow;
  view: Order;
}

/**
 * Moves order `id` from one of `from` to `to`, applying `set`, and records the event.
 * Resolves `null` when the order was not in `from` (someone else moved it first).
 */
export function transition(
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
  // RETURNING gives the row as updated: no second read of it.
  const update = (trx: Db) =>
    trx
      .updateTable('orders')
      .set({ ...set, status: to, version: sql<number>`version + 1`, updated_at: at.toISOString() })
      .where('id', '=', id)
      .where('status', 'in', [...from])
      .returningAll()
      .executeTakeFirst();
  return changeStatus(db, update, to, at, extra);
}

/** The open (PENDING or CLOSING) order with this out_trade_no, for exactly this money. */
export type PendingPaymentMatch = {
  outTradeNo: string;
  totalFen: number;
  currency: string;
};

/**
 * PENDING/CLOSING → PAID for the order `match` names, in ONE statement: the compare-and-set also
 * requires the amount and currency to be the order's. A payment notify's usual case needs no
 * read of the order first. Resolves `null` when no order matched (unknown, already settled or
 * other money): the caller reads the order to say which.
 */
export function payPendingOrder(
  db: Db,
  match: PendingPaymentMatch,
  at: Date,
  paid: { transactionId: string; paidAt: Date },
  extra: Record<string, unknown>,
): Promise<TransitionResult | null> {
  const update = async (trx: Db) => {
    const [order] = await payPending(trx, {
      ...match,
      transactionId: paid.transactionId,
      paidAt: paid.paidAt.toISOString(),
      at: at.toISOString(),
    });
    return order;
  };
  return changeStatus(db, update, 'PAID', at, extra);
}

const payPending = preparedQuery<
  PendingPaymentMatch & { transactionId: string; paidAt: string; at: string },
  OrderRow
>((db, p) =>
  db
    .updateTable('orders')
    .set({
      transaction_id: p('transactionId'),
      paid_at: p('paidAt'),
      next_query_at: null,
      status: 'PAID',
      version: sql<number>`version + 1`,
      updated_at: p('at'),
    })
    .where('out_trade_no', '=', p('outTradeNo'))
    .where('status', 'in', ['PENDING', 'CLOSING'])
    .where('total_fen', '=', p('totalFen'))
    .where('currency', '=', p('currency'))
    .returningAll(),
);

/** Runs `update` (the compare-and-set); when it changed a row, records the event with the order's view. */
async function changeStatus(
  db: Db,
  update: (trx: Db) => Promise<OrderRow | undefined>,
  to: OrderStatus,
  at: Date,
  extra: Record<string, unknown>,
): Promise<TransitionResult | null> {
  const done = await inTransaction(db, async (trx) => {
    const order = await update(trx);
    if (order === undefined) return null;
    const items = await orderItems(trx, { orderId: order.id });
    if (GIVES_STOCK_BACK.has(to)) await releaseStock(trx, items, at);
    const view = orderView(order, items);
    await appendEvent(trx, order.id, eventTypeFor(to), { order: view, ...extra }, at);
    if (to === 'PAID') crashPoint('order-paid-before-commit');
    return { order, view };
  });
  // Inside a caller's transaction this is before ITS commit; the notify path passes none.
  if (done && to === 'PAID' && !db.isTransaction) crashPoint('order-paid-after-commit');
  return done;
}
