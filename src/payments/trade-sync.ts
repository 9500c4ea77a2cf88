/**
 * Asking WeChat about a PENDING order (orderquery) and closing one (close-then-query). Used by
 * `?sync=1`, the pending sweep, cancel, expiry and the admin console. A payment that raced a
 * close always ends PAID: WeChat is asked before and after closing, and the final
 * PENDING → CLOSED compare-and-set loses to a PENDING → PAID that got there first.
 */
import type { Confirmation } from './confirmation.js';
import type { PaymentsContext } from './context.js';
import { DomainError, wechatUnavailable } from './errors.js';
import { GatewayError, type TradeStatus } from './gateway.js';
import { logged } from './gateway-log.js';
import type { OrderRow } from './order-view.js';
import { findOrder, transition } from './orders-repo.js';

export type CloseReason = 'cancelled' | 'expired' | 'admin' | 'closed_by_wechat';

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
      () => this.ctx.gateway.queryTrade(order.out_trade_no),
      (s) => ({
        state: s.state,
        transactionId: s.transactionId ?? null,
        totalFen: s.totalFen ?? null,
      }),
    );
  }

  /** Applies what an orderquery said to a PENDING order; resolves to the order after it. */
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
    } else if (status.state === 'CLOSED' || status.state === 'REVOKED') {
      await this.markClosed(order, 'closed_by_wechat');
    }
    return (await findOrder(this.ctx.db, order.id))!;
  }

  /** Queries a PENDING order and applies the answer (other states are returned as they are). */
  async sync(order: OrderRow): Promise<OrderRow> {
    if (order.status !== 'PENDING') return order;
    return this.apply(order, await this.query(order));
  }

  /**
   * Close-then-query: resolves to the order after it, CLOSED, or PAID when the payment won.
   * Throws DomainError when WeChat cannot be reached or the user is paying right now.
   */
  async close(order: OrderRow, reason: CloseReason): Promise<OrderRow> {
    if (order.status !== 'PENDING') return order;
    try {
      const before = await this.apply(order, await this.query(order));
      if (before.status !== 'PENDING') return before;
      await this.closeTrade(order);
      const after = await this.query(order);
      if (after.state === 'SUCCESS' || after.state === 'REFUND') return this.apply(order, after);
      await this.markClosed(order, reason);
      return (await findOrder(this.ctx.db, order.id))!;
    } catch (err) {
      if (err instanceof GatewayError) {
        if (err.kind === 'ambiguous' || err.kind === 'invalid') throw wechatUnavailable();
        throw new DomainError(502, 'WECHATPAY_REFUSED', `WeChat Pay refused to close: ${err.code}`);
      }
      throw err;
    }
  }

  private async closeTrade(order: OrderRow): Promise<void> {
    try {
      await logged(this.ctx, order.id, 'closeorder', () =>
        this.ctx.gateway.closeTrade(order.out_trade_no),
      );
    } catch (err) {
      if (!(err instanceof GatewayError) || err.kind !== 'rejected') throw err;
      if (err.code === 'ORDERPAID' || err.code === 'ORDERCLOSED' || err.code === 'ORDERNOTEXIST') {
        return; // the query that follows says which
      }
      if (err.code === 'TRADE_STATE_ERROR' || err.code === 'USERPAYING') {
        throw new DomainError(
          409,
          'ORDER_PAYMENT_IN_PROGRESS',
          'the user is paying this order right now; wait for the payment to finish and check again',
        );
      }
      throw err;
    }
  }

  private async markClosed(order: OrderRow, reason: CloseReason): Promise<void> {
    const now = this.ctx.clock();
    const closed = await transition(
      this.ctx.db,
      order.id,
      ['PENDING'],
      'CLOSED',
      now,
      { closed_at: now.toISOString(), next_query_at: null },
      { reason },
    );
    if (closed) this.ctx.metrics.inc('minipay_orders_closed_total', { reason });
  }
}
