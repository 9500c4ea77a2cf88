/**
 * The background work on orders: start closing PENDING orders past their expiry, take the
 * next step of closing CLOSING orders (until WeChat says CLOSED, trade-sync.ts), give up on
 * CREATED orders whose prepay never got an answer, and sweep PENDING orders whose notify has
 * not arrived (orderquery with back-off). Each run handles a bounded batch.
 */
import type { SelectQueryBuilder } from 'kysely';
import type { Database } from '../../store/schema.js';
import type { PaymentsContext } from '../context.js';
import { GatewayError } from '../gateway/gateway.js';
import { logged } from '../gateway/gateway-log.js';
import { type RunSummary, runEach } from '../lib/run-summary.js';
import type { OrderRow } from '../orders/order-view.js';
import { findOrder, scheduleQuery, transition } from '../orders/orders-repo.js';
import type { TradeSync } from './trade-sync.js';

const BATCH = 50;

type OrderQuery = SelectQueryBuilder<Database, 'orders', OrderRow>;
/** Sweep back-off: 1, 2, 4, … minutes, at most 30. */
const SWEEP_BASE_MS = 60_000;
const SWEEP_MAX_MS = 30 * 60_000;

export class Maintenance {
  constructor(
    private readonly ctx: PaymentsContext,
    private readonly trades: TradeSync,
  ) {}

  /** Starts closing expired PENDING orders and fails expired CREATED ones. */
  async expire(): Promise<RunSummary> {
    const now = this.ctx.clock().toISOString();
    const due = await this.due(
      (q) => q.where('status', 'in', ['PENDING', 'CREATED']).where('expires_at', '<=', now),
      'expires_at',
    );
    return runEach(
      due,
      async (order) => {
        const after =
          order.status === 'PENDING'
            ? await this.trades.requestClose(order, 'expired')
            : await this.failUnconfirmed(order);
        return after !== undefined && after.status !== order.status;
      },
      { failed: this.warn('expiry could not settle an order') },
    );
  }

  /** The next step for CLOSING orders that are due: CLOSED once WeChat says so, or PAID. */
  async close(): Promise<RunSummary> {
    const now = this.ctx.clock().toISOString();
    const due = await this.due(
      (q) => q.where('status', '=', 'CLOSING').where('next_query_at', '<=', now),
      'next_query_at',
    );
    return runEach(
      due,
      async (order) => (await this.trades.advanceClose(order)).status !== 'CLOSING',
      { failed: this.warn('the close job could not step an order') },
    );
  }

  /** Queries PENDING orders whose notify is overdue; paid ones become PAID. */
  async sweep(): Promise<RunSummary> {
    const now = this.ctx.clock();
    const due = await this.due(
      (q) => q.where('status', '=', 'PENDING').where('next_query_at', '<=', now.toISOString()),
      'next_query_at',
    );
    return runEach(due, async (order) => (await this.trades.sync(order)).status !== order.status, {
      failed: this.warn('sweep could not query an order'),
      unchanged: (order) => {
        const wait = Math.min(SWEEP_BASE_MS * 2 ** order.query_attempts, SWEEP_MAX_MS);
        return scheduleQuery(this.ctx.db, order, 'PENDING', new Date(now.getTime() + wait), now);
      },
    });
  }

  /** The oldest BATCH orders `where` selects, by `column`. */
  private due(
    where: (q: OrderQuery) => OrderQuery,
    column: 'expires_at' | 'next_query_at',
  ): Promise<OrderRow[]> {
    return where(this.ctx.db.selectFrom('orders').selectAll())
      .orderBy(column)
      .limit(BATCH)
      .execute();
  }

  private warn(message: string) {
    return (err: unknown, order: OrderRow) =>
      this.ctx.logger.warn({ err, orderId: order.id }, message);
  }

  /** A CREATED order past its expiry: WeChat never confirmed a prepay. Close it there; FAILED. */
  private async failUnconfirmed(order: OrderRow) {
    const { id, out_trade_no: outTradeNo } = order;
    try {
      await logged(this.ctx, id, 'closeorder', () =>
        this.ctx.gateway.forApi(order.wechatpay_api).closeTrade(outTradeNo),
      );
    } catch (err) {
      const settled =
        err instanceof GatewayError &&
        err.kind === 'rejected' &&
        ['ORDERNOTEXIST', 'ORDERCLOSED'].includes(err.code);
      if (!settled) throw err;
    }
    await transition(this.ctx.db, id, ['CREATED'], 'FAILED', this.ctx.clock(), {
      failure_code: 'PREPAY_UNCONFIRMED',
      failure_message: 'WeChat Pay never confirmed the prepay before the order expired',
    });
    return findOrder(this.ctx.db, id);
  }
}
