/**
 * Asking WeChat about an open order (orderquery) and closing one. Used by `?sync=1`, the
 * pending sweep, cancel, expiry, the close job and the admin console.
 *
 * Closing follows WeChat's timing (docs/wechat-rules.md): closeorder is refused within 5
 * minutes of the order, and has been seen to answer SUCCESS while the trade stayed NOTPAY.
 * So a close is data first: PENDING → CLOSING with its reason (no payment parameters from
 * then on), then steps of query → closeorder when allowed → query, taken at once and by the
 * close job until WeChat says CLOSED. Money taken by WeChat is never left on a CLOSED order:
 * only an orderquery answering CLOSED (or that WeChat has no such trade) makes an order
 * CLOSED, and a payment seen at any step makes it PAID.
 */

import type { PaymentsContext } from '../context.js';
import { GatewayError, type TradeState, type TradeStatus } from '../gateway/gateway.js';
import { logged } from '../gateway/gateway-log.js';
import type { OrderStatus } from '../orders/order-states.js';
import type { OrderRow } from '../orders/order-view.js';
import { findOrder, scheduleQuery, transition } from '../orders/orders-repo.js';
import type { Confirmation } from './confirmation.js';

export type CloseReason = 'cancelled' | 'expired' | 'admin' | 'closed_by_wechat';

/** Orders WeChat may still take money for. */
export const OPEN: readonly OrderStatus[] = ['PENDING', 'CLOSING'];

/** WeChat will never take money for these trades. */
const ENDED: readonly TradeState[] = ['CLOSED', 'REVOKED'];
/** Trades closeorder may close now; USERPAYING and ACCEPT wait for WeChat to finish. */
const CLOSABLE: readonly TradeState[] = ['NOTPAY', 'PAYERROR'];

/** WeChat's closing timing, in WeChat time (divided by `wechatTimeScale`). */
export const CLOSE_TIMING = {
  /** "订单生成后不能马上调用关单接口，最短调用时间间隔为5分钟". */
  minAgeMs: 5 * 60_000,
  /** The close job's back-off: 30 s, 1 min, 2 min, … at most 10 min. */
  retryBaseMs: 30_000,
  retryMaxMs: 10 * 60_000,
} as const;

export class TradeSync {
  constructor(
    private readonly ctx: PaymentsContext,
    private readonly confirmation: Confirmation,
  ) {}

  async query(order: OrderRow): Promise<TradeStatus> {
    return logged(
      this.ctx,
      order.id,
      'orderquery',
      () => this.ctx.gateway.forApi(order.wechatpay_api).queryTrade(order.out_trade_no),
      (s) => ({
        state: s.state,
        transactionId: s.transactionId ?? null,
        totalFen: s.totalFen ?? null,
      }),
    );
  }

  /**
   * Applies what an orderquery said to an open order; resolves to the order after it. Paid →
   * PAID; CLOSED (or, while closing, no such trade) → CLOSED; anything else changes nothing.
   */
  async apply(order: OrderRow, status: TradeStatus): Promise<OrderRow> {
    if ((status.state === 'SUCCESS' || status.state === 'REFUND') && status.transactionId) {
      await this.confirmation.applyPaid(order, {
        source: 'query',
        transactionId: status.transactionId,
        totalFen: status.totalFen,
        currency: status.currency,
        appId: status.appId,
        mchId: status.mchId,
        paidAt: status.paidAt,
      });
    } else if (
      ENDED.includes(status.state) ||
      (status.state === 'NOT_FOUND' && order.status === 'CLOSING')
    ) {
      await this.markClosed(order);
    }
    return (await findOrder(this.ctx.db, order.id))!;
  }

  /** Queries an open order and applies the answer (other states are returned as they are). */
  async sync(order: OrderRow): Promise<OrderRow> {
    if (!OPEN.includes(order.status)) return order;
    return this.apply(order, await this.query(order));
  }

  /**
   * Starts closing a PENDING order (PENDING → CLOSING with `reason`) and takes the first step
   * at once. Resolves to the order after it: CLOSED, still CLOSING (the close job goes on), or
   * PAID when the payment won. Any other status is returned as it is.
   */
  async requestClose(order: OrderRow, reason: CloseReason): Promise<OrderRow> {
    if (order.status !== 'PENDING') return order;
    const now = this.ctx.clock();
    await transition(
      this.ctx.db,
      order.id,
      ['PENDING'],
      'CLOSING',
      now,
      { close_reason: reason, query_attempts: 0, next_query_at: now.toISOString() },
      { reason },
    );
    const closing = (await findOrder(this.ctx.db, order.id))!;
    return closing.status === 'CLOSING' ? this.advanceClose(closing) : closing;
  }

  /**
   * One step of closing a CLOSING order. WeChat not answering, or refusing for now, leaves it
   * CLOSING with its next step scheduled (back-off); never throws a GatewayError.
   */
  async advanceClose(order: OrderRow): Promise<OrderRow> {
    let after = order;
    try {
      after = await this.closeStep(order);
    } catch (err) {
      if (!(err instanceof GatewayError)) throw err;
      this.ctx.logger.warn(
        { orderId: order.id, kind: err.kind, code: err.code },
        'closing an order: WeChat did not settle it yet; the close job tries again',
      );
    }
    if (after.status !== 'CLOSING') return after;
    return this.postpone(after);
  }

  /** query → (closeorder when WeChat allows it → query); the order after. */
  private async closeStep(order: OrderRow): Promise<OrderRow> {
    const before = await this.query(order);
    const applied = await this.apply(order, before);
    if (applied.status !== 'CLOSING' || !CLOSABLE.includes(before.state)) return applied;
    if (this.ctx.clock().getTime() < this.closableAt(order)) return applied;
    await this.closeTrade(order);
    return this.apply(applied, await this.query(order));
  }

  /** closeorder; a business refusal (ORDERPAID, ORDERCLOSED, too soon, …) leaves it to the query. */
  private async closeTrade(order: OrderRow): Promise<void> {
    try {
      await logged(this.ctx, order.id, 'closeorder', () =>
        this.ctx.gateway.forApi(order.wechatpay_api).closeTrade(order.out_trade_no),
      );
    } catch (err) {
      if (!(err instanceof GatewayError) || err.kind !== 'rejected') throw err;
      this.ctx.logger.info(
        { orderId: order.id, code: err.code },
        'closeorder refused; the orderquery that follows says where the trade is',
      );
    }
  }

  /** When WeChat lets closeorder close this order (5 minutes of WeChat time after it). */
  private closableAt(order: OrderRow): number {
    return Date.parse(order.created_at) + this.wechatMs(CLOSE_TIMING.minAgeMs);
  }

  /** Schedules the next close step: back-off, and never before WeChat allows a close. */
  private async postpone(order: OrderRow): Promise<OrderRow> {
    const wait = Math.min(
      this.wechatMs(CLOSE_TIMING.retryBaseMs) * 2 ** Math.min(order.query_attempts, 20),
      this.wechatMs(CLOSE_TIMING.retryMaxMs),
    );
    const now = this.ctx.clock();
    const next = Math.max(now.getTime() + wait, this.closableAt(order));
    await scheduleQuery(this.ctx.db, order, 'CLOSING', new Date(next), now);
    return (await findOrder(this.ctx.db, order.id))!;
  }

  /** A WeChat duration in our time (they differ only against a time-scaled sandbox). */
  private wechatMs(ms: number): number {
    return ms / this.ctx.settings.wechatTimeScale;
  }

  /** Open → CLOSED, keeping why it was closed (a close WeChat made itself: closed_by_wechat). */
  private async markClosed(order: OrderRow): Promise<void> {
    const now = this.ctx.clock();
    const reason = (order.close_reason ?? 'closed_by_wechat') as CloseReason;
    const closed = await transition(
      this.ctx.db,
      order.id,
      OPEN,
      'CLOSED',
      now,
      { closed_at: now.toISOString(), next_query_at: null, close_reason: reason },
      { reason },
    );
    if (closed) this.ctx.metrics.inc('minipay_orders_closed_total', { reason });
  }
}
