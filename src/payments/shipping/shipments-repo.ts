/**
 * The shipments repository: the one writer of `shipments`. Every write bumps `version` and
 * `updated_at`; a change that other instances may race on (claiming an upload, recording its
 * outcome) is a compare-and-set on the version. The events `order.shipped`,
 * `order.receipt_confirmed` and `order.settled` are appended in the same transaction as the
 * change they report, with the order and the shipment as they are after it.
 */
import { sql, type Updateable } from 'kysely';
import { REFUNDABLE_STATUSES, type ShipmentKind } from '../../contract/index.js';
import type { ShipmentsTable } from '../../store/schema.js';
import { type Db, inTransaction } from '../lib/db.js';
import { newIds } from '../lib/ids.js';
import { appendEvent, findOrder, loadOrderView } from '../orders/orders-repo.js';
import { type ShipmentRow, shipmentView } from './shipment-view.js';

export type ShippingEvent =
  | 'order.shipped'
  | 'order.shipment_corrected'
  | 'order.receipt_confirmed'
  | 'order.settled';

function stamp(at: Date) {
  return { version: sql<number>`version + 1`, updated_at: at.toISOString() };
}

export async function findShipment(db: Db, orderId: string): Promise<ShipmentRow | undefined> {
  return db.selectFrom('shipments').selectAll().where('order_id', '=', orderId).executeTakeFirst();
}

/** A paid order's shipment to open: virtual ones are reported by minipay itself. */
export interface NewShipment {
  orderId: string;
  kind: ShipmentKind;
  itemDesc: string;
}

function shipmentValues({ orderId, kind, itemDesc }: NewShipment, id: string, iso: string) {
  const virtual = kind === 'virtual';
  return {
    id,
    order_id: orderId,
    kind,
    status: virtual ? 'UPLOADING' : 'AWAITING_SHIPMENT',
    logistics_type: virtual ? 'virtual' : null,
    parcels: JSON.stringify(virtual ? [{ itemDesc }] : []),
    upload_time: virtual ? iso : null,
    attempts: 0,
    next_attempt_at: virtual ? iso : null,
    last_error_code: null,
    last_error: null,
    uploaded_at: null,
    receipt_confirmed_at: null,
    receipt_reminded_at: null,
    settled_at: null,
    version: 0,
    created_at: iso,
    updated_at: iso,
  };
}

/**
 * Opens the shipments of orders that have none, in one statement: a virtual one ready to upload
 * at once, a physical one awaiting the merchant. Repeating it (events arrive at least once, the
 * sweep may race the subscriber or another instance) changes nothing: the unique order_id
 * decides.
 */
export async function ensureShipments(
  db: Db,
  shipments: readonly NewShipment[],
  at: Date,
): Promise<number> {
  if (shipments.length === 0) return 0;
  const iso = at.toISOString();
  const ids = newIds('shp', shipments.length);
  const inserted = await db
    .insertInto('shipments')
    .values(shipments.map((s, i) => shipmentValues(s, ids[i]!, iso)))
    .onConflict((oc) => oc.column('order_id').doNothing())
    .executeTakeFirst();
  return Number(inserted.numInsertedOrUpdatedRows ?? 0);
}

/** The order's shipment, opened when it has none; `created` says whether this call made it. */
export async function ensureShipment(
  db: Db,
  shipment: NewShipment,
  at: Date,
): Promise<{ row: ShipmentRow; created: boolean }> {
  const created = (await ensureShipments(db, [shipment], at)) > 0;
  const row = (await findShipment(db, shipment.orderId))!;
  return { row, created };
}

/**
 * Orders paid between `since` and `until` and not refunded in full that have no shipment,
 * oldest payment first: what the sweep repairs. Read by orders_paid_at, so the cost is the
 * window's paid orders, not the whole table. The status is compared as an expression so that
 * no planner takes the status indexes instead (SQLite without statistics would walk every
 * PAID order); an index of its own would cost every notify one more index write.
 */
export function ordersMissingShipmentQuery(db: Db, since: Date, until: Date, limit: number) {
  return db
    .selectFrom('orders')
    .select('orders.id')
    .where(sql<string>`orders.status || ''`, 'in', [...REFUNDABLE_STATUSES])
    .where('orders.paid_at', '>=', since.toISOString())
    .where('orders.paid_at', '<=', until.toISOString())
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('shipments')
            .select('shipments.id')
            .whereRef('shipments.order_id', '=', 'orders.id'),
        ),
      ),
    )
    .orderBy('orders.paid_at')
    .limit(limit);
}

export async function ordersMissingShipment(
  db: Db,
  since: Date,
  until: Date,
  limit: number,
): Promise<string[]> {
  const rows = await ordersMissingShipmentQuery(db, since, until, limit).execute();
  return rows.map((r) => r.id);
}

/** Shipments whose upload is due, oldest first. */
export async function dueUploads(db: Db, now: Date, limit: number): Promise<ShipmentRow[]> {
  return db
    .selectFrom('shipments')
    .selectAll()
    .where('status', '=', 'UPLOADING')
    .where('next_attempt_at', '<=', now.toISOString())
    .orderBy('next_attempt_at')
    .limit(limit)
    .execute();
}

/**
 * Changes a shipment if it is still at `version`; resolves the row after the change, or
 * undefined when another writer changed it first. `event`, when given, is appended in the same
 * transaction with the order and the shipment after the change.
 */
export async function updateShipment(
  db: Db,
  row: ShipmentRow,
  set: Updateable<ShipmentsTable>,
  at: Date,
  event?: ShippingEvent | ShippingEvent[],
): Promise<ShipmentRow | undefined> {
  return inTransaction(db, async (trx) => {
    const updated = await trx
      .updateTable('shipments')
      .set({ ...set, ...stamp(at) })
      .where('id', '=', row.id)
      .where('version', '=', row.version)
      .returningAll()
      .executeTakeFirst();
    if (!updated || !event) return updated;
    const order = await findOrder(trx, updated.order_id);
    if (!order) throw new Error(`shipment ${updated.id} has no order`);
    const data = { order: await loadOrderView(trx, order), shipment: shipmentView(updated) };
    for (const type of Array.isArray(event) ? event : [event]) {
      await appendEvent(trx, order.id, type, data, at);
    }
    return updated;
  });
}

/** A page of shipments in `statuses`, newest first, after `cursor` (created_at, id). */
export async function listShipments(
  db: Db,
  statuses: readonly string[],
  limit: number,
  cursor?: { createdAt: string; id: string },
): Promise<ShipmentRow[]> {
  let q = db
    .selectFrom('shipments')
    .selectAll()
    .where('status', 'in', [...statuses]);
  if (cursor) {
    q = q.where((eb) =>
      eb.or([
        eb('created_at', '<', cursor.createdAt),
        eb.and([eb('created_at', '=', cursor.createdAt), eb('id', '<', cursor.id)]),
      ]),
    );
  }
  return q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
}
