/**
 * What the admin console changes: ask WeChat about an order now, close an order (any
 * user's), and resolve an anomaly. Order changes go through TradeSync, the same paths as
 * `?sync=1` and cancel, so every transition stays a compare-and-set with its event.
 */

import type { AdminOrder, Anomaly } from '../../contract/index.js';
import { anomalyView } from '../anomalies/anomaly-view.js';
import type { TradeSync } from '../confirmation/trade-sync.js';
import type { PaymentsContext } from '../context.js';
import { GatewayError } from '../gateway/gateway.js';
import { DomainError, notFound, validation, wechatUnverified } from '../lib/errors.js';

import { findOrder } from '../orders/orders-repo.js';
import type { AdminQueries } from './admin-queries.js';

/** Longest note an anomaly resolution keeps. */
export const MAX_RESOLUTION_CHARS = 1000;

export class AdminActions {
  constructor(
    private readonly ctx: PaymentsContext,
    private readonly trades: TradeSync,
    private readonly queries: AdminQueries,
  ) {}

  /**
   * An orderquery now, whatever the order's status, applied through the same path as the
   * sweep: a PENDING order may become PAID or CLOSED; money found for a CLOSED or FAILED
   * order becomes an anomaly (refund required). WeChat not answering is a 502.
   */
  async sync(id: string): Promise<AdminOrder> {
    const order = await this.find(id);
    try {
      await this.trades.apply(order, await this.trades.query(order));
    } catch (err) {
      if (!(err instanceof GatewayError)) throw err;
      if (err.unverified) {
        throw wechatUnverified('The orderquery answer', err.code, 'try the sync again then');
      }
      if (err.kind === 'ambiguous' || err.kind === 'invalid') {
        throw new DomainError(
          502,
          'WECHATPAY_UNAVAILABLE',
          'WeChat Pay did not answer the orderquery in time; try the sync again',
        );
      }
      throw new DomainError(
        502,
        'WECHATPAY_REFUSED',
        `WeChat Pay refused the orderquery: ${err.code}`,
      );
    }
    this.ctx.metrics.inc('minipay_admin_actions_total', { action: 'sync' });
    this.ctx.logger.info({ orderId: id }, 'admin synced an order with WeChat');
    return this.queries.orderView(id);
  }

  /**
   * Starts closing a PENDING order (TradeSync.requestClose): CLOSED when WeChat closed it at
   * once, CLOSING while WeChat does not allow it yet (the close job finishes it), PAID when
   * the payment won. A CLOSING order takes its next step now. CLOSED is answered as it is;
   * any other status is a 409.
   */
  async close(id: string): Promise<AdminOrder> {
    const order = await this.find(id);
    if (order.status === 'PENDING' || order.status === 'CLOSING') {
      if (order.status === 'PENDING') await this.trades.requestClose(order, 'admin');
      else await this.trades.advanceClose(order);
      this.ctx.metrics.inc('minipay_admin_actions_total', { action: 'close' });
      this.ctx.logger.info({ orderId: id }, 'admin closed an order');
    } else if (order.status !== 'CLOSED') {
      throw new DomainError(
        409,
        'ORDER_NOT_PENDING',
        `the order is ${order.status}; only a PENDING order can be closed`,
      );
    }
    return this.queries.orderView(id);
  }

  /** open → resolved (compare-and-set), keeping the note; a resolved anomaly is a 409. */
  async resolveAnomaly(id: string, note: string): Promise<Anomaly> {
    const text = typeof note === 'string' ? note.trim() : '';
    if (text.length === 0 || text.length > MAX_RESOLUTION_CHARS) {
      throw validation(`note must say what was done, 1 to ${MAX_RESOLUTION_CHARS} characters`);
    }
    const now = this.ctx.clock().toISOString();
    const result = await this.ctx.db
      .updateTable('anomalies')
      .set({ status: 'resolved', resolved_at: now, resolution: text })
      .where('id', '=', id)
      .where('status', '=', 'open')
      .executeTakeFirst();
    const row = await this.ctx.db
      .selectFrom('anomalies')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) throw notFound('anomaly');
    if (Number(result.numUpdatedRows) !== 1) {
      throw new DomainError(
        409,
        'ANOMALY_ALREADY_RESOLVED',
        `this anomaly was resolved at ${row.resolved_at}: ${row.resolution ?? ''}`.trim(),
      );
    }
    this.ctx.metrics.inc('minipay_admin_actions_total', { action: 'resolve_anomaly' });
    this.ctx.logger.info({ anomalyId: id, kind: row.kind }, 'admin resolved an anomaly');
    return anomalyView(row);
  }

  private async find(id: string) {
    const order = /^[A-Za-z0-9_-]{1,64}$/.test(id) ? await findOrder(this.ctx.db, id) : undefined;
    if (!order) throw notFound('order');
    return order;
  }
}
