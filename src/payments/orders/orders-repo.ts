/**
 * The orders repository: the ONE writer of `orders` rows. Every write bumps `version` and
 * `updated_at` the same way (`stamp`), and every change of status is ONE conditional UPDATE
 * (compare-and-set on the current status, or on the version) plus its outbox event, in one
 * transaction: two racing changes cannot both win, and no change exists without its event. A
 * move into CLOSED or FAILED also gives back the stock the order took at checkout: those states
 * are final, so it happens once. The statements of the hot paths (checkout, notify) are
 * compiled once (store/prepared-query.ts).
 */
import { PostgresAdapter, type QueryCreator, type Selectable, sql, type Updateable } from 'kysely';
import type { Order } from '../../contract/index.js';
import { preparedQuery } from '../../store/prepared-query.js';
import type {
  Database,
  OrderItemsTable,
  OrderStatus,
  OrdersTable,
  WechatPayApiName,
} from '../../store/schema.js';
import { crashPoint } from '../lib/crash-points.js';
import { type Db, inTransaction } from '../lib/db.js';
import { newId } from '../lib/ids.js';
import { canTransition, eventTypeFor } from './order-states.js';
import { type OrderItemRow, type OrderRow, orderView } from './order-view.js';

/** What every write of an order sets besides its own columns: one more version, and when. */
function stamp(at: string) {
  return { version: sql<number>`version + 1`, updated_at: at };
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

/** The items of several orders in one query, by order id (an order without items: absent). */
export async function itemsOfOrders(
  db: Db,
  orderIds: readonly string[],
): Promise<Map<string, OrderItemRow[]>> {
  const byOrder = new Map<string, OrderItemRow[]>();
  if (orderIds.length === 0) return byOrder;
  const items = await db
    .selectFrom('order_items')
    .selectAll()
    .where('order_id', 'in', [...orderIds])
    .execute();
  for (const item of items) {
    const list = byOrder.get(item.order_id);
    if (list) list.push(item);
    else byOrder.set(item.order_id, [item]);
  }
  return byOrder;
}

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
      .set({ ...set, status: to, ...stamp(at.toISOString()) })
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

/** The PENDING (or CLOSING) order of this trade and amount made PAID: the usual notify's write. */
function payPendingUpdate(
  qc: QueryCreator<Database>,
  p: <K extends keyof PayPendingParams>(name: K) => PayPendingParams[K],
) {
  return qc
    .updateTable('orders')
    .set({
      transaction_id: p('transactionId'),
      paid_at: p('paidAt'),
      next_query_at: null,
      status: 'PAID',
      ...stamp(p('at')),
    })
    .where('out_trade_no', '=', p('outTradeNo'))
    .where('status', 'in', ['PENDING', 'CLOSING'])
    .where('total_fen', '=', p('totalFen'))
    .where('currency', '=', p('currency'))
    .returningAll();
}

type PayPendingParams = PendingPaymentMatch & { transactionId: string; paidAt: string; at: string };

const payPending = preparedQuery<PayPendingParams, OrderRow>((db, p) => payPendingUpdate(db, p));

/** A payment notify's record (the notifications table), as `recordPaymentNotify` writes it. */
export type PaidNotifyRecord = {
  id: string;
  identity: string;
  outcome: string;
  detail: string;
  receivedAt: string;
};

/** Whether `payPendingOrdersRecorded` runs as one statement here: PostgreSQL, whose CTEs may write. */
export function paysInOneStatement(db: Db): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

/** `orderView` in SQL, over the row `paid` and its items. */
const PAID_ORDER_VIEW = sql`json_build_object(
  'id', paid.id, 'outTradeNo', paid.out_trade_no, 'status', paid.status,
  'description', paid.description, 'totalFen', paid.total_fen, 'currency', paid.currency,
  'items', coalesce((
    SELECT json_agg(json_build_object(
      'productId', i.product_id, 'name', i.name, 'unitPriceFen', i.unit_price_fen,
      'quantity', i.quantity, 'amountFen', i.amount_fen) ORDER BY i.line_no)
    FROM order_items i WHERE i.order_id = paid.id), '[]'::json),
  'attach', paid.attach, 'createdAt', paid.created_at, 'updatedAt', paid.updated_at,
  'expiresAt', paid.expires_at, 'paidAt', paid.paid_at, 'closedAt', paid.closed_at,
  'transactionId', paid.transaction_id, 'refundedFen', paid.refunded_fen,
  'failure', CASE WHEN paid.failure_code IS NULL THEN NULL
    ELSE json_build_object('code', paid.failure_code, 'message', coalesce(paid.failure_message, ''))
  END)`;

/** One usual payment notify of a batch: the order it pays, the payment, and the notify's record. */
export type PendingPayment = {
  match: PendingPaymentMatch;
  transactionId: string;
  paidAt: Date;
  notify: PaidNotifyRecord;
};

/** What `payPendingOrdersRecorded` did for one payment: `null` when it wrote nothing for it. */
export type RecordedPayment = { order: OrderRow; seenBefore: boolean } | null;

/**
 * `payPendingOrder` for a batch of payments at once, each with its `order.paid` event (carrying
 * `extra` and the order's view) and its notify's record: on PostgreSQL ONE statement over arrays, atomic by
 * itself; on SQLite four statements (the compare-and-set, the items, the events, the records)
 * that must run in the caller's transaction. The compare-and-set is the same as one payment's, so
 * an order already PAID (by a racing batch or path) is not paid again. No two payments may name
 * the same trade or the same notify (a caller puts a repeat in a later batch): one statement
 * cannot tell which of two would win. Resolves, in the payments' order, what each came to.
 */
export async function payPendingOrdersRecorded(
  db: Db,
  payments: readonly PendingPayment[],
  at: Date,
  extra: { source: string },
): Promise<RecordedPayment[]> {
  const trades = new Set(payments.map((p) => p.match.outTradeNo));
  const identities = new Set(payments.map((p) => p.notify.identity));
  if (trades.size !== payments.length || identities.size !== payments.length) {
    throw new Error('payPendingOrdersRecorded: a trade or a notify appears twice in one batch');
  }
  if (payments.length === 0) return [];
  const paid = paysInOneStatement(db)
    ? await payBatchInOneStatement(db, payments, at, extra)
    : await payBatchInTransaction(db, payments, at, extra);
  return payments.map((p) => paid.get(p.match.outTradeNo) ?? null);
}

type PaidRows = Map<string, { order: OrderRow; seenBefore: boolean }>;

/** PostgreSQL: the batch's arrays, the UPDATE … FROM them, the events and records, one statement. */
async function payBatchInOneStatement(
  db: Db,
  payments: readonly PendingPayment[],
  at: Date,
  extra: { source: string },
): Promise<PaidRows> {
  const column = <T>(get: (p: PendingPayment) => T) => payments.map(get);
  const stamp = at.toISOString();
  const { rows } = await sql<OrderRow & { received_count: number; event_id: string }>`
    WITH batch AS (
      SELECT * FROM unnest(
        ${column((p) => p.match.outTradeNo)}::text[], ${column((p) => p.match.totalFen)}::int[],
        ${column((p) => p.match.currency)}::text[], ${column((p) => p.transactionId)}::text[],
        ${column((p) => p.paidAt.toISOString())}::text[], ${column(() => newId('evt'))}::text[],
        ${column((p) => p.notify.id)}::text[], ${column((p) => p.notify.identity)}::text[],
        ${column((p) => p.notify.outcome)}::text[], ${column((p) => p.notify.detail)}::text[],
        ${column((p) => p.notify.receivedAt)}::text[]
      ) AS b(out_trade_no, total_fen, currency, transaction_id, paid_at, event_id, notify_id,
             identity, outcome, detail, received_at)
    ),
    paid AS (
      UPDATE orders SET transaction_id = batch.transaction_id, paid_at = batch.paid_at,
        next_query_at = NULL, status = 'PAID', version = orders.version + 1,
        updated_at = ${stamp}::text
      FROM batch
      WHERE orders.out_trade_no = batch.out_trade_no AND orders.status IN ('PENDING', 'CLOSING')
        AND orders.total_fen = batch.total_fen AND orders.currency = batch.currency
      RETURNING orders.*, batch.event_id, batch.notify_id, batch.identity, batch.outcome,
        batch.detail, batch.received_at
    ),
    event AS (
      INSERT INTO order_events (id, order_id, type, payload, created_at)
      SELECT paid.event_id, paid.id, 'order.paid',
        json_build_object('order', ${PAID_ORDER_VIEW}, 'source', ${extra.source}::text)::text,
        ${stamp}::text
      FROM paid
    ),
    notify AS (
      INSERT INTO notifications (id, kind, identity, order_id, out_trade_no, outcome, detail,
        received_count, created_at, updated_at)
      SELECT paid.notify_id, 'payment', paid.identity, paid.id, paid.out_trade_no, paid.outcome,
        paid.detail, 1, paid.received_at, paid.received_at
      FROM paid
      ON CONFLICT (kind, identity) DO UPDATE SET
        received_count = notifications.received_count + 1, order_id = excluded.order_id,
        outcome = excluded.outcome, detail = excluded.detail, updated_at = excluded.updated_at
      RETURNING identity, received_count
    )
    SELECT paid.*, notify.received_count FROM paid JOIN notify ON notify.identity = paid.identity
  `.execute(db);
  const paid: PaidRows = new Map();
  for (const row of rows) {
    const {
      received_count,
      event_id,
      notify_id,
      identity,
      outcome,
      detail,
      received_at,
      ...order
    } = row as typeof row &
      Record<'notify_id' | 'identity' | 'outcome' | 'detail' | 'received_at', string>;
    paid.set(order.out_trade_no, { order, seenBefore: received_count > 1 });
  }
  return paid;
}

/**
 * SQLite (in the caller's transaction): the compare-and-set of every order of the batch in one
 * UPDATE … FROM, their items in one read, then all the events and all the records in one INSERT
 * each. SQLite's CTEs cannot write, so this is four statements, not one.
 */
async function payBatchInTransaction(
  db: Db,
  payments: readonly PendingPayment[],
  at: Date,
  extra: { source: string },
): Promise<PaidRows> {
  if (!db.isTransaction) throw new Error('payPendingOrdersRecorded: SQLite needs a transaction');
  const stamp = at.toISOString();
  const values = payments.map(
    (p) =>
      sql`(${p.match.outTradeNo}, ${p.match.totalFen}, ${p.match.currency}, ${p.transactionId}, ${p.paidAt.toISOString()})`,
  );
  const { rows: orders } = await sql<OrderRow>`
    WITH batch(out_trade_no, total_fen, currency, transaction_id, paid_at) AS (
      VALUES ${sql.join(values)}
    )
    UPDATE orders SET transaction_id = batch.transaction_id, paid_at = batch.paid_at,
      next_query_at = NULL, status = 'PAID', version = orders.version + 1, updated_at = ${stamp}
    FROM batch
    WHERE orders.out_trade_no = batch.out_trade_no AND orders.status IN ('PENDING', 'CLOSING')
      AND orders.total_fen = batch.total_fen AND orders.currency = batch.currency
    RETURNING *
  `.execute(db);
  const paid: PaidRows = new Map();
  if (orders.length === 0) return paid;
  const itemsOf = await itemsOfOrders(
    db,
    orders.map((o) => o.id),
  );
  await db
    .insertInto('order_events')
    .values(
      orders.map((order) => ({
        id: newId('evt'),
        order_id: order.id,
        type: 'order.paid',
        payload: JSON.stringify({ order: orderView(order, itemsOf.get(order.id) ?? []), ...extra }),
        created_at: stamp,
      })),
    )
    .execute();
  const byTrade = new Map(payments.map((p) => [p.match.outTradeNo, p]));
  const counted = await db
    .insertInto('notifications')
    .values(
      orders.map((order) => {
        const { notify } = byTrade.get(order.out_trade_no)!;
        return {
          id: notify.id,
          kind: 'payment' as const,
          identity: notify.identity,
          order_id: order.id,
          out_trade_no: order.out_trade_no,
          outcome: notify.outcome,
          detail: notify.detail,
          received_count: 1,
          created_at: notify.receivedAt,
          updated_at: notify.receivedAt,
        };
      }),
    )
    .onConflict((oc) =>
      oc.columns(['kind', 'identity']).doUpdateSet((eb) => ({
        received_count: eb('notifications.received_count', '+', 1),
        order_id: eb.ref('excluded.order_id'),
        outcome: eb.ref('excluded.outcome'),
        detail: eb.ref('excluded.detail'),
        updated_at: eb.ref('excluded.updated_at'),
      })),
    )
    .returning(['identity', 'received_count'])
    .execute();
  const countOf = new Map(counted.map((r) => [r.identity, r.received_count]));
  for (const order of orders) {
    const { notify } = byTrade.get(order.out_trade_no)!;
    paid.set(order.out_trade_no, { order, seenBefore: (countOf.get(notify.identity) ?? 1) > 1 });
  }
  return paid;
}

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

/** A new CREATED order, as checkout writes it. */
export type NewOrder = {
  id: string;
  outTradeNo: string;
  userId: string;
  openid: string;
  description: string;
  totalFen: number;
  currency: string;
  attach: string | null;
  payerIp: string;
  expiresAt: string;
  /** The API the gateway makes new orders with. */
  api: WechatPayApiName;
  at: string;
};

/**
 * Writes a new order CREATED with its items and its `order.created` event, in the caller's
 * transaction. RETURNING and the item rows just written give the event its view: no reads back.
 */
export async function createOrder(
  trx: Db,
  order: NewOrder,
  items: OrderItemRow[],
  at: Date,
): Promise<OrderRow> {
  const [row] = await insertOrder(trx, order);
  await trx.insertInto('order_items').values(items).execute();
  await appendEvent(trx, order.id, 'order.created', { order: orderView(row!, items) }, at);
  return row!;
}

/** Compiled once: the insert every checkout makes. */
const insertOrder = preparedQuery<NewOrder, OrderRow>((db, p) =>
  db
    .insertInto('orders')
    .values({
      id: p('id'),
      out_trade_no: p('outTradeNo'),
      user_id: p('userId'),
      openid: p('openid'),
      status: 'CREATED',
      description: p('description'),
      total_fen: p('totalFen'),
      currency: p('currency'),
      attach: p('attach'),
      payer_ip: p('payerIp'),
      prepay_id: null,
      prepay_expires_at: null,
      transaction_id: null,
      paid_at: null,
      closed_at: null,
      refunded_fen: 0,
      failure_code: null,
      failure_message: null,
      refund_required: 0,
      query_attempts: 0,
      next_query_at: null,
      wechatpay_api: p('api'),
      expires_at: p('expiresAt'),
      version: 0,
      created_at: p('at'),
      updated_at: p('at'),
    })
    .returningAll(),
);

/** A fresh prepay_id for a PENDING order (the old one expired or is about to). */
export async function renewPrepay(
  db: Db,
  id: string,
  prepay: { prepayId: string; prepayExpiresAt: Date },
  at: Date,
): Promise<void> {
  await db
    .updateTable('orders')
    .set({
      prepay_id: prepay.prepayId,
      prepay_expires_at: prepay.prepayExpiresAt.toISOString(),
      ...stamp(at.toISOString()),
    })
    .where('id', '=', id)
    .where('status', '=', 'PENDING')
    .execute();
}

/**
 * When to ask WeChat about an open order next (the pending sweep, the close job): one more
 * query attempt counted, if the order is still `status`.
 */
export async function scheduleQuery(
  db: Db,
  order: OrderRow,
  status: 'PENDING' | 'CLOSING',
  next: Date,
  at: Date,
): Promise<void> {
  await db
    .updateTable('orders')
    .set({
      query_attempts: order.query_attempts + 1,
      next_query_at: next.toISOString(),
      ...stamp(at.toISOString()),
    })
    .where('id', '=', order.id)
    .where('status', '=', status)
    .execute();
}

/** Flags an order whose money must go back (money arrived that it could not take). */
export async function flagRefundRequired(db: Db, id: string, at: Date): Promise<void> {
  await db
    .updateTable('orders')
    .set({ refund_required: 1, ...stamp(at.toISOString()) })
    .where('id', '=', id)
    .execute();
}

/**
 * Claims the order for a change made elsewhere (a refund recorded against it): bumps its version
 * if it is still `order.version`. False when someone changed it since: read again and retry.
 */
export async function claimVersion(trx: Db, order: OrderRow, at: Date): Promise<boolean> {
  const r = await trx
    .updateTable('orders')
    .set(stamp(at.toISOString()))
    .where('id', '=', order.id)
    .where('version', '=', order.version)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/**
 * A refund of `amountFen` succeeded: PAID / PARTIALLY_REFUNDED → `to`, the amount added to
 * `refunded_fen`, with its event (carrying `extra`), if the order is still at `order.version`.
 * Resolves null when it is not (read again and retry).
 */
export function addRefunded(
  trx: Db,
  order: OrderRow,
  amountFen: number,
  to: 'PARTIALLY_REFUNDED' | 'REFUNDED',
  at: Date,
  extra: Record<string, unknown>,
): Promise<TransitionResult | null> {
  if (!canTransition(order.status, to)) {
    throw new Error(`refund settlement: ${order.status} → ${to} is not allowed`);
  }
  const update = (db: Db) =>
    db
      .updateTable('orders')
      .set({
        refunded_fen: sql<number>`refunded_fen + ${amountFen}`,
        status: to,
        ...stamp(at.toISOString()),
      })
      .where('id', '=', order.id)
      .where('version', '=', order.version)
      .where('status', 'in', ['PAID', 'PARTIALLY_REFUNDED'])
      .returningAll()
      .executeTakeFirst();
  return changeStatus(trx, update, to, at, extra);
}
