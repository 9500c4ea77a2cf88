/**
 * Shipping (小程序发货信息管理服务, docs/shipping.md): every paid order gets a shipment. An order
 * of virtual products only is reported to WeChat as soon as it is paid; any other waits for
 * the merchant to ship it (`ship`, from the console). The upload runs as a job: retried with
 * backoff while WeChat is busy or the answer is lost, and FAILED, with WeChat's errcode and
 * what to do, when WeChat refuses it (an admin fixes and retries). Upload, receipt and
 * settlement each append an event (`order.shipped`, `order.receipt_confirmed`,
 * `order.settled`) through the outbox.
 *
 * An upload whose answer was lost may have been taken: the next attempt reads WeChat's view
 * (`get_order`) first and sends the same info, upload_time included, so WeChat sees no
 * correction (it allows one).
 */

import type { Updateable } from 'kysely';
import {
  type AdminOrder,
  type LogisticsType,
  type OrderShipping,
  PAID_STATUSES,
  type Parcel,
  REFUNDABLE_STATUSES,
  type ShipBody,
  type Shipment,
  type ShipmentStatus,
  type ShippingCheck,
  type ShippingQueue,
  type TradeManagement,
  type WechatShippingView,
} from '../../contract/index.js';
import {
  type Courier,
  MiniProgramApiError,
  maskPhone,
  type UploadShippingInfoRequest,
} from '../../miniprogram-api/index.js';
import type { ShipmentsTable } from '../../store/schema.js';
import type { PaymentsContext } from '../context.js';
import type { MinipayEvent } from '../events/events.js';
import { DomainError, notFound, validation } from '../lib/errors.js';
import { decodeTimeCursor, encodeTimeCursor } from '../lib/page-cursor.js';
import { type RunSummary, runEach } from '../lib/run-summary.js';
import { adminOrderView, type OrderRow } from '../orders/order-view.js';
import { findOrder } from '../orders/orders-repo.js';
import type { MiniProgramPlatform } from '../platform/platform.js';
import { type ShipmentRow, shipmentView } from './shipment-view.js';
import {
  dueUploads,
  ensureShipment,
  ensureShipments,
  findShipment,
  listShipments,
  type NewShipment,
  ordersMissingShipment,
  type ShippingEvent,
  updateShipment,
} from './shipments-repo.js';
import { checkShipping } from './shipping-check.js';
import { DEFAULT_SHIPPING, type ShippingSettings } from './shipping-settings.js';
import { TradeManagementCheck } from './trade-management.js';

/** How long a claimed upload is held before another instance may take it (a crash mid-call). */
const CLAIM_MS = 60_000;

/**
 * Takes an upload for this instance: the sweep leaves it alone for CLAIM_MS, so an upload sent
 * at once by the admin's request is not sent a second time by the job meanwhile.
 */
function claim(attempts: number, now: Date) {
  return {
    attempts: attempts + 1,
    next_attempt_at: new Date(now.getTime() + CLAIM_MS).toISOString(),
  };
}
const BATCH = 20;
const ITEM_DESC_CHARS = 120;
/** Errors after which WeChat may have taken the upload: read get_order before sending again. */
const ANSWER_LOST = /^(TIMEOUT|NETWORK|HTTP_5\d\d|MALFORMED_RESPONSE)$/;
/** WeChat's "the payment's receipt reminder is used" (notify_confirm_receive). */
const REMINDER_USED = 10060030;
/** WeChat's "the payment's one re-shipment is used" (重新发货, docs/miniprogram-api.md). */
const CORRECTION_USED = '10060003';

/** What the merchant ships with; `virtual` is reported by minipay itself. */
const SHIPPABLE: readonly string[] = ['express', 'same-city', 'pick-up'];

/** WeChat's courier list changes rarely: asked once a day. */
const COURIERS_TTL_MS = 24 * 3600_000;

export class Shipping {
  private readonly settings: ShippingSettings;
  private couriersCache: { at: number; list: Courier[] } | undefined;
  private readonly managed: TradeManagementCheck;

  constructor(
    private readonly ctx: PaymentsContext,
    private readonly platform: MiniProgramPlatform,
    settings: Partial<ShippingSettings> = {},
  ) {
    this.settings = { ...DEFAULT_SHIPPING, ...settings };
    this.managed = new TradeManagementCheck(ctx, platform);
  }

  /** The outbox subscriber: each paid order of a relay batch gets its shipment, together. */
  async onEvents(events: readonly MinipayEvent[]): Promise<void> {
    const ids = events
      .filter((e) => e.type === 'order.paid')
      .map((e) => (e.data.order as { id: string }).id);
    if (ids.length > 0) await ensureShipments(this.ctx.db, await this.plans(ids), this.ctx.clock());
  }

  /** Creates the paid order's shipment (virtual: ready to upload); none for an unpaid order. */
  async open(orderId: string): Promise<ShipmentRow | undefined> {
    return (await this.create(orderId))?.row;
  }

  /**
   * The sweep job: opens the shipment of each order paid in the last `sweepWindowMs` (and at
   * least `sweepAfterMs` ago) that has none, because the subscriber that opens it gave up
   * (the outbox passes an event after 5 failures). Virtual ones are then uploaded as usual;
   * physical ones join the merchant's queue. Rerunning it, or two instances at once, opens
   * each shipment once.
   */
  async sweepMissing(): Promise<RunSummary> {
    const now = this.ctx.clock().getTime();
    const ids = await ordersMissingShipment(
      this.ctx.db,
      new Date(now - this.settings.sweepWindowMs),
      new Date(now - this.settings.sweepAfterMs),
      BATCH,
    );
    return runEach(
      ids,
      async (orderId) => {
        const created = (await this.create(orderId))?.created ?? false;
        if (created) {
          this.ctx.metrics.inc('minipay_shipments_swept_total');
          this.ctx.logger.warn({ orderId }, 'opened a paid order’s missing shipment');
        }
        return created;
      },
      {
        failed: (err, orderId) =>
          this.ctx.logger.error({ err, orderId }, 'could not open a missing shipment'),
      },
    );
  }

  private async create(
    orderId: string,
  ): Promise<{ row: ShipmentRow; created: boolean } | undefined> {
    const [plan] = await this.plans([orderId]);
    return plan && ensureShipment(this.ctx.db, plan, this.ctx.clock());
  }

  /**
   * The shipment each paid order needs (none for an order not paid): virtual when every item
   * is a virtual product, described by its items. Two reads, whatever the number of orders.
   */
  private async plans(orderIds: readonly string[]): Promise<NewShipment[]> {
    const paid = (
      await this.ctx.db
        .selectFrom('orders')
        .select(['id', 'status', 'transaction_id', 'description'])
        .where('id', 'in', orderIds)
        .execute()
    ).filter((o) => PAID_STATUSES.includes(o.status) && o.transaction_id);
    if (paid.length === 0) return [];
    const items = await this.ctx.db
      .selectFrom('order_items')
      .leftJoin('products', 'products.id', 'order_items.product_id')
      .select([
        'order_items.order_id',
        'order_items.name',
        'order_items.quantity',
        'products.virtual',
      ])
      .where(
        'order_items.order_id',
        'in',
        paid.map((o) => o.id),
      )
      .orderBy('order_items.order_id')
      .orderBy('order_items.line_no')
      .execute();
    const byOrder = new Map<string, typeof items>();
    for (const item of items) {
      const lines = byOrder.get(item.order_id);
      if (lines) lines.push(item);
      else byOrder.set(item.order_id, [item]);
    }
    return paid.map((order) => {
      const lines = byOrder.get(order.id) ?? [];
      const virtual = lines.length > 0 && lines.every((i) => i.virtual === 1);
      return {
        orderId: order.id,
        kind: virtual ? 'virtual' : 'physical',
        itemDesc: itemDescription(lines, order.description),
      };
    });
  }

  /** The job: uploads due shipments. */
  async uploadDue(): Promise<RunSummary> {
    const rows = await dueUploads(this.ctx.db, this.ctx.clock(), BATCH);
    const summary: RunSummary = { examined: rows.length, changed: 0, errors: 0 };
    for (const row of rows) {
      const after = await this.attempt(row);
      if (after?.status === 'UPLOADED') summary.changed++;
      else if (after?.last_error_code) summary.errors++;
    }
    return summary;
  }

  /** The merchant ships a physical order: records how, and uploads it now. */
  async ship(orderId: string, body: ShipBody): Promise<Shipment> {
    const order = await this.paidOrder(orderId);
    const row = (await findShipment(this.ctx.db, orderId)) ?? (await this.open(orderId))!;
    if (row.status === 'UPLOADED' || row.status === 'UPLOADING') {
      throw new DomainError(
        409,
        'ALREADY_SHIPPED',
        row.status === 'UPLOADED'
          ? 'this order is shipped: WeChat has its shipping info (it allows one correction: POST /admin/v1/orders/:id/shipment/correct)'
          : 'this order’s shipping info is being sent to WeChat; wait for the upload’s outcome',
      );
    }
    const parcels = this.parcels(order, body);
    const now = this.ctx.clock();
    const queued = await updateShipment(
      this.ctx.db,
      row,
      {
        status: 'UPLOADING',
        logistics_type: body.logisticsType,
        parcels: JSON.stringify(parcels),
        upload_time: now.toISOString(),
        ...claim(0, now),
        last_error_code: null,
        last_error: null,
      },
      now,
    );
    if (!queued) throw conflict();
    return shipmentView((await this.send(queued, null)) ?? queued);
  }

  /**
   * The merchant corrects the shipping info WeChat has (a wrong tracking number, another
   * courier): WeChat takes one correction, before the buyer confirms receipt. It is taken for
   * this order before WeChat is asked, so a second request meanwhile is refused; WeChat's own
   * "no correction left" (10060003, e.g. made in WeChat's admin) spends it too. Any other
   * refusal gives it back. Sent at once; a lost answer is settled by reading get_order.
   */
  async correct(orderId: string, body: ShipBody): Promise<Shipment> {
    const order = await this.paidOrder(orderId);
    const row = await findShipment(this.ctx.db, orderId);
    if (!row) throw notFound('shipment');
    correctable(row);
    const parcels = JSON.stringify(this.parcels(order, body));
    if (row.logistics_type === body.logisticsType && row.parcels === parcels) {
      throw new DomainError(409, 'UNCHANGED', 'this is the shipping info WeChat has already');
    }
    const now = this.ctx.clock();
    const claimed = await updateShipment(
      this.ctx.db,
      row,
      { corrected_at: now.toISOString() },
      now,
    );
    if (!claimed) throw conflict();
    const next = { ...claimed, logistics_type: body.logisticsType, parcels };
    const corrected = { ...next, upload_time: now.toISOString() };
    try {
      await this.platform.uploadShippingInfo(this.request(corrected, order));
    } catch (err) {
      if (!(await this.correctionLanded(err, order))) {
        throw await this.correctionRefused(claimed, err);
      }
    }
    return shipmentView(
      await this.recordCorrection(claimed, {
        logistics_type: corrected.logistics_type,
        parcels,
        upload_time: corrected.upload_time,
      }),
    );
  }

  /**
   * Records the correction WeChat took. WeChat has it whatever else changed the row meanwhile
   * (a settlement push), so a lost compare-and-set is applied again to the row as it is now.
   */
  private recordCorrection(
    claimed: ShipmentRow,
    set: { logistics_type: string; parcels: string; upload_time: string },
  ): Promise<ShipmentRow> {
    return this.updateCurrent(
      claimed,
      { ...set, last_error_code: null, last_error: null },
      'order.shipment_corrected',
    );
  }

  /**
   * Applies `set` to the shipment as it is now: a compare-and-set lost to another writer (a
   * push, another instance) is tried again on the row read anew, at most 5 times. A row that
   * `done` says has the change already is left as it is.
   */
  private async updateCurrent(
    row: ShipmentRow,
    set: Updateable<ShipmentsTable>,
    event?: ShippingEvent,
    done: (current: ShipmentRow) => boolean = () => false,
  ): Promise<ShipmentRow> {
    let current: ShipmentRow | undefined = row;
    for (let i = 0; current && i < 5; i++) {
      if (done(current)) return current;
      const changed = await updateShipment(this.ctx.db, current, set, this.ctx.clock(), event);
      if (changed) return changed;
      current = await findShipment(this.ctx.db, row.order_id);
    }
    throw conflict();
  }

  /** After a failed correction call: whether WeChat has it anyway (its answer was lost). */
  private async correctionLanded(err: unknown, order: OrderRow): Promise<boolean> {
    if (!(err instanceof MiniProgramApiError) || !ANSWER_LOST.test(err.code)) return false;
    try {
      const view = await this.platform.getOrder({ transactionId: order.transaction_id! });
      return (view.shipping?.finishShippingCount ?? 0) >= 2;
    } catch {
      return false;
    }
  }

  /** The error for a correction WeChat did not take; the correction is given back unless spent. */
  private async correctionRefused(claimed: ShipmentRow, err: unknown): Promise<unknown> {
    const known = err instanceof MiniProgramApiError ? err : undefined;
    if (known?.code === CORRECTION_USED) {
      return new DomainError(
        409,
        'CORRECTION_USED',
        'WeChat has no correction left for this order (10060003: its one correction was made, perhaps in WeChat’s own admin); the shipping info WeChat has stays',
      );
    }
    await this.giveBackCorrection(claimed);
    if (!known) return err;
    return new DomainError(
      502,
      `WECHAT_${known.code}`,
      `WeChat did not take the correction; nothing changed and it can be made again. ${known.message}`,
    );
  }

  /** WeChat did not take it: the correction is the merchant's again (unless re-taken since). */
  private async giveBackCorrection(claimed: ShipmentRow): Promise<void> {
    let row: ShipmentRow | undefined = claimed;
    for (let i = 0; row?.corrected_at === claimed.corrected_at && i < 5; i++) {
      if (await updateShipment(this.ctx.db, row, { corrected_at: null }, this.ctx.clock())) return;
      row = await findShipment(this.ctx.db, claimed.order_id);
    }
  }

  /** An admin retries a FAILED upload (after fixing what WeChat refused). */
  async retry(orderId: string): Promise<Shipment> {
    const row = await findShipment(this.ctx.db, orderId);
    if (!row) throw notFound('shipment');
    if (row.status !== 'FAILED') {
      throw new DomainError(
        409,
        'NOT_FAILED',
        `the shipment is ${row.status}; only a FAILED upload is retried`,
      );
    }
    const now = this.ctx.clock();
    const queued = await updateShipment(
      this.ctx.db,
      row,
      { status: 'UPLOADING', ...claim(0, now) },
      now,
    );
    if (!queued) throw conflict();
    return shipmentView((await this.send(queued, row.last_error_code)) ?? queued);
  }

  /** The buyer's view of a paid order's delivery; null before payment. */
  async forBuyer(order: {
    id: string;
    transactionId: string | null;
  }): Promise<OrderShipping | null> {
    if (!order.transactionId) return null;
    const row = await findShipment(this.ctx.db, order.id);
    // Paid a moment ago: the shipment is made when the relay hands on order.paid.
    if (!row) {
      return {
        stage: 'preparing',
        logisticsType: null,
        parcels: [],
        shippedAt: null,
        receiptConfirmedAt: null,
        confirmReceipt: null,
      };
    }
    const view = shipmentView(row);
    const stage = view.receiptConfirmedAt ? 'received' : view.uploadedAt ? 'shipped' : 'preparing';
    return {
      stage,
      logisticsType: view.logisticsType,
      parcels: view.parcels.map(({ trackingNo, expressCompany, itemDesc }) => ({
        ...(trackingNo && { trackingNo }),
        ...(expressCompany && { expressCompany }),
        itemDesc,
      })),
      shippedAt: view.uploadedAt,
      receiptConfirmedAt: view.receiptConfirmedAt,
      confirmReceipt:
        stage === 'shipped'
          ? {
              businessType: 'weappOrderConfirm',
              extraData: { transaction_id: order.transactionId },
            }
          : null,
    };
  }

  async shipment(orderId: string): Promise<Shipment | null> {
    const row = await findShipment(this.ctx.db, orderId);
    return row ? shipmentView(row) : null;
  }

  /** Shipments needing the merchant (awaiting shipment, failed), or those of `status`. */
  async queue(query: {
    status?: ShipmentStatus;
    limit?: string;
    cursor?: string;
  }): Promise<ShippingQueue> {
    const limit = pageLimit(query.limit);
    const statuses = query.status ? [query.status] : ['AWAITING_SHIPMENT', 'FAILED'];
    const key = query.cursor ? decodeTimeCursor('shipments', query.cursor) : undefined;
    const rows = await listShipments(
      this.ctx.db,
      statuses,
      limit + 1,
      key && { createdAt: key.at, id: key.id },
    );
    const page = rows.slice(0, limit);
    const entries = [];
    for (const row of page) {
      const order = await findOrder(this.ctx.db, row.order_id);
      if (order) entries.push({ order: await this.adminOrder(order), shipment: shipmentView(row) });
    }
    const last = page.at(-1);
    return {
      entries,
      nextCursor:
        rows.length > limit && last
          ? encodeTimeCursor('shipments', { at: last.created_at, id: last.id })
          : null,
    };
  }

  /**
   * WeChat's settlement push (trade_manage_order_settlement, stage settled): the buyer (or
   * WeChat) confirmed receipt and the money went to the merchant. Repeats change nothing.
   */
  async settled(
    transactionId: string,
    confirmedAt: Date | undefined,
    settledAt: Date,
  ): Promise<Shipment | null> {
    const order = await this.ctx.db
      .selectFrom('orders')
      .select('id')
      .where('transaction_id', '=', transactionId)
      .executeTakeFirst();
    if (!order) return null;
    const row = (await findShipment(this.ctx.db, order.id)) ?? (await this.open(order.id));
    if (!row) return null;
    if (row.settled_at) return shipmentView(row);
    const now = this.ctx.clock();
    const events: ShippingEvent[] = row.receipt_confirmed_at
      ? ['order.settled']
      : ['order.receipt_confirmed', 'order.settled'];
    const updated = await updateShipment(
      this.ctx.db,
      row,
      {
        receipt_confirmed_at: row.receipt_confirmed_at ?? (confirmedAt ?? settledAt).toISOString(),
        settled_at: settledAt.toISOString(),
      },
      now,
      events,
    );
    if (!updated) return this.settled(transactionId, confirmedAt, settledAt);
    return shipmentView(updated);
  }

  /** WeChat's couriers, for the ship form's picker. */
  async couriers(): Promise<Courier[]> {
    const now = this.ctx.clock().getTime();
    if (this.couriersCache && now - this.couriersCache.at < COURIERS_TTL_MS) {
      return this.couriersCache.list;
    }
    const list = await asDomainError(() => this.platform.getDeliveryList());
    this.couriersCache = { at: now, list };
    return list;
  }

  /** Whether WeChat manages this mini program's trades, as last asked by any instance. */
  tradeManagement(): Promise<TradeManagement> {
    return this.managed.current();
  }

  /** Asks WeChat (is_trade_managed) now, at start-up; never throws: a failure is stored. */
  checkTradeManaged(): Promise<TradeManagement> {
    return this.managed.check();
  }

  /** The job: asks again when the stored answer is a few hours old (after a failure, sooner). */
  refreshTradeManaged(): Promise<RunSummary> {
    return this.managed.refresh();
  }

  /**
   * Asks WeChat to remind the buyer to confirm receipt (notify_confirm_receive): an express
   * shipment WeChat has, once per order; `receivedAt` is when the courier delivered it. The
   * reminder is remembered when WeChat takes it, or says it was spent (10060030: sent from
   * WeChat's own admin, or by an answer minipay lost); a later request is refused here.
   */
  async remindReceipt(orderId: string, receivedAt: Date): Promise<Shipment> {
    const order = await findOrder(this.ctx.db, orderId);
    const row = order && (await findShipment(this.ctx.db, orderId));
    if (!order?.transaction_id || !row) throw notFound('shipment');
    if (row.status !== 'UPLOADED' || row.logistics_type !== 'express') {
      throw new DomainError(
        409,
        'NOT_REMINDABLE',
        'WeChat reminds the buyer only of an express shipment it has (status UPLOADED, express)',
      );
    }
    if (row.receipt_reminded_at) throw alreadyReminded(row.receipt_reminded_at);
    try {
      await this.platform.notifyConfirmReceive({ transactionId: order.transaction_id }, receivedAt);
    } catch (err) {
      if (!(err instanceof MiniProgramApiError) || err.errcode !== REMINDER_USED) {
        throw wechatRefusal(err);
      }
      const spent = await this.remembered(row);
      throw alreadyReminded(spent.receipt_reminded_at ?? this.ctx.clock().toISOString());
    }
    return shipmentView(await this.remembered(row));
  }

  /** Records that the reminder is spent, whatever else changed the row meanwhile. */
  private remembered(row: ShipmentRow): Promise<ShipmentRow> {
    return this.updateCurrent(
      row,
      { receipt_reminded_at: this.ctx.clock().toISOString() },
      undefined,
      (current) => current.receipt_reminded_at !== null,
    );
  }

  /** WeChat's unshipped orders of the last `days` days against minipay (shipping-check.ts). */
  check(days: number): Promise<ShippingCheck> {
    return checkShipping(this.ctx, this.platform, days);
  }

  /** WeChat's own view of the order's shipping (get_order). */
  async wechatView(orderId: string): Promise<WechatShippingView> {
    const order = await findOrder(this.ctx.db, orderId);
    if (!order) throw notFound('order');
    if (!order.transaction_id) {
      throw new DomainError(
        409,
        'NOT_PAID',
        'the order is not paid: WeChat has no shipping for it',
      );
    }
    const view = await asDomainError(() =>
      this.platform.getOrder({ transactionId: order.transaction_id! }),
    );
    return {
      state: view.state,
      stateName: view.stateName,
      finishShipping: view.shipping?.finishShipping ?? false,
      parcels: (view.shipping?.parcels ?? []).map((p) => ({
        trackingNo: p.trackingNo ?? null,
        expressCompany: p.expressCompany ?? null,
        goodsDesc: p.goodsDesc ?? null,
      })),
    };
  }

  /** One upload attempt of a claimed-or-due shipment; resolves the row after it. */
  private async attempt(row: ShipmentRow): Promise<ShipmentRow | undefined> {
    const now = this.ctx.clock();
    const claimed = await updateShipment(this.ctx.db, row, claim(row.attempts, now), now);
    if (!claimed) return undefined; // another instance took it
    return this.send(claimed, row.last_error_code);
  }

  /**
   * Uploads a shipment this instance has claimed. `lastError` is the code the previous attempt
   * ended with: after a lost answer WeChat is asked first whether it has the upload already.
   */
  private async send(
    claimed: ShipmentRow,
    lastError: string | null,
  ): Promise<ShipmentRow | undefined> {
    const order = await findOrder(this.ctx.db, claimed.order_id);
    if (!order?.transaction_id)
      return this.fail(claimed, 'NO_TRANSACTION', 'the order has no transaction_id');
    try {
      if (lastError && ANSWER_LOST.test(lastError) && (await this.wechatHasIt(order))) {
        return this.uploaded(claimed);
      }
      await this.platform.uploadShippingInfo(this.request(claimed, order));
      return this.uploaded(claimed);
    } catch (err) {
      return this.failed(claimed, err);
    }
  }

  private async wechatHasIt(order: OrderRow): Promise<boolean> {
    const view = await this.platform.getOrder({ transactionId: order.transaction_id! });
    return view.shipping?.finishShipping === true;
  }

  private uploaded(row: ShipmentRow): Promise<ShipmentRow | undefined> {
    const now = this.ctx.clock();
    return updateShipment(
      this.ctx.db,
      row,
      {
        status: 'UPLOADED',
        next_attempt_at: null,
        uploaded_at: now.toISOString(),
        last_error_code: null,
        last_error: null,
      },
      now,
      'order.shipped',
    );
  }

  private failed(row: ShipmentRow, err: unknown): Promise<ShipmentRow | undefined> {
    const known = err instanceof MiniProgramApiError ? err : undefined;
    const code = known?.code ?? 'INTERNAL';
    const message = known?.message ?? 'minipay failed to upload; see its log';
    if (!known) this.ctx.logger.error({ err, orderId: row.order_id }, 'shipping upload failed');
    const again =
      (!known ||
        known.kind === 'retryable' ||
        known.kind === 'token-invalid' ||
        known.kind === 'invalid') &&
      row.attempts < this.settings.maxAttempts;
    if (!again) {
      const gaveUp =
        known?.kind === 'rejected' || known?.kind === 'config'
          ? ''
          : `gave up after ${row.attempts} attempts: `;
      return this.fail(row, code, `${gaveUp}${message}`);
    }
    const now = this.ctx.clock();
    const wait = Math.max(
      known?.retryAfterMs ?? 0,
      Math.min(this.settings.retryCapMs, this.settings.retryBaseMs * 2 ** (row.attempts - 1)),
    );
    return updateShipment(
      this.ctx.db,
      row,
      {
        next_attempt_at: new Date(now.getTime() + wait).toISOString(),
        last_error_code: code,
        last_error: message,
      },
      now,
    );
  }

  private fail(row: ShipmentRow, code: string, message: string): Promise<ShipmentRow | undefined> {
    this.ctx.metrics.inc('minipay_shipping_failures_total', { code });
    return updateShipment(
      this.ctx.db,
      row,
      { status: 'FAILED', next_attempt_at: null, last_error_code: code, last_error: message },
      this.ctx.clock(),
    );
  }

  private request(row: ShipmentRow, order: OrderRow): UploadShippingInfoRequest {
    const parcels = JSON.parse(row.parcels) as Parcel[];
    return {
      order: { transactionId: order.transaction_id! },
      logisticsType: row.logistics_type as LogisticsType,
      deliveryMode: parcels.length > 1 ? 'split' : 'unified',
      ...(parcels.length > 1 && { isAllDelivered: true }),
      parcels: parcels.map((p) => ({
        trackingNo: p.trackingNo,
        expressCompany: p.expressCompany,
        itemDesc: p.itemDesc,
        ...(p.receiverContact && { contact: { receiverContact: p.receiverContact } }),
      })),
      payerOpenid: order.openid,
      uploadTime: new Date(row.upload_time ?? row.created_at),
    };
  }

  /** The parcels of a ship request, checked against WeChat's rules before anything is stored. */
  private parcels(order: OrderRow, body: ShipBody): Parcel[] {
    if (!SHIPPABLE.includes(body.logisticsType)) {
      throw validation('logisticsType must be express, same-city or pick-up');
    }
    if (body.parcels.length > 1 && body.logisticsType !== 'express') {
      throw validation('several parcels are for express only (WeChat: split delivery is express)');
    }
    return body.parcels.map((p, i) => {
      const where = `parcels[${i}]`;
      if (body.logisticsType === 'express' && (!p.trackingNo || !p.expressCompany)) {
        throw validation(`${where}: express needs trackingNo and expressCompany (a courier id)`);
      }
      if (p.expressCompany === 'SF' && !p.receiverPhone) {
        throw validation(
          `${where}: WeChat requires the receiver's phone for SF Express (receiverPhone)`,
        );
      }
      const itemDesc = p.itemDesc ?? order.description;
      return {
        ...(p.trackingNo && { trackingNo: p.trackingNo }),
        ...(p.expressCompany && { expressCompany: p.expressCompany }),
        itemDesc: [...itemDesc].slice(0, ITEM_DESC_CHARS).join(''),
        ...(p.receiverPhone && { receiverContact: maskPhone(p.receiverPhone) }),
      };
    });
  }

  private async paidOrder(orderId: string): Promise<OrderRow> {
    const order = await findOrder(this.ctx.db, orderId);
    if (!order) throw notFound('order');
    if (!REFUNDABLE_STATUSES.includes(order.status)) {
      throw new DomainError(
        409,
        'NOT_SHIPPABLE',
        `the order is ${order.status}: only a paid order (PAID, PARTIALLY_REFUNDED) is shipped`,
      );
    }
    return order;
  }

  private async adminOrder(order: OrderRow): Promise<AdminOrder> {
    const items = await this.ctx.db
      .selectFrom('order_items')
      .selectAll()
      .where('order_id', '=', order.id)
      .execute();
    return adminOrderView(order, items);
  }
}

/** `茉莉花茶*2;月饼*1`, as WeChat's example `微信红包抱枕*1个`, at most 120 characters. */
function itemDescription(items: { name: string; quantity: number }[], fallback: string): string {
  const text = items.length > 0 ? items.map((i) => `${i.name}*${i.quantity}`).join(';') : fallback;
  const chars = [...text];
  return chars.length <= ITEM_DESC_CHARS
    ? text
    : `${chars.slice(0, ITEM_DESC_CHARS - 1).join('')}…`;
}

function pageLimit(raw: string | undefined): number {
  if (raw === undefined) return 50;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 100) throw validation('limit must be 1 to 100');
  return n;
}

/** A platform call for an admin: WeChat's refusal as a 502 that says what WeChat said. */
async function asDomainError<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw wechatRefusal(err);
  }
}

/** WeChat's refusal as a 502 that says what WeChat said; anything else as it is. */
function wechatRefusal(err: unknown): unknown {
  return err instanceof MiniProgramApiError
    ? new DomainError(502, `WECHAT_${err.code}`, err.message)
    : err;
}

/** Whether the merchant may correct this shipment (WeChat's one correction, docs/shipping.md). */
function correctable(row: ShipmentRow): void {
  const refuse = (code: string, message: string) => {
    throw new DomainError(409, code, message);
  };
  if (row.kind !== 'physical' || row.status !== 'UPLOADED') {
    refuse(
      'NOT_CORRECTABLE',
      `only the uploaded shipping info of a physical order is corrected (this one is ${row.kind}, ${row.status})`,
    );
  }
  if (row.receipt_confirmed_at) {
    refuse('NOT_CORRECTABLE', 'the buyer confirmed receipt: WeChat takes no more changes');
  }
  if (row.corrected_at) {
    refuse(
      'ALREADY_CORRECTED',
      `WeChat allows one correction and it was made (${row.corrected_at})`,
    );
  }
}

function conflict(): DomainError {
  return new DomainError(409, 'CONCURRENT_CHANGE', 'the shipment changed meanwhile; read it again');
}

function alreadyReminded(at: string): DomainError {
  return new DomainError(
    409,
    'ALREADY_REMINDED',
    `WeChat reminds the buyer once per order, and this order’s reminder was sent (${at})`,
  );
}
