/**
 * The background work on orders: start closing PENDING orders past their expiry, take the
 * next step of closing CLOSING orders (until WeChat says CLOSED, trade-sync.ts), give up on
 * CREATED orders whose prepay never got an answer, and sweep PENDING orders whose notify has
 * not arrived (orderquery with back-off). Each run handles a bounded batch.
 */
import type { PaymentsContext } from '../context.js';
import { GatewayError } from '../gateway/gateway.js';
import { logged } from '../gateway/gateway-log.js';
import type { RunSummary } from '../lib/run-summary.js';
import { findOrder, transition } from '../orders/orders-repo.js';
import type { TradeSync } from './trade-sync.js';

const BATCH = 50;
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
    const due = await this.ctx.db
      .selectFrom('orders')
      .selectAll()
      .where('status', 'in', ['PENDING', 'CREATED'])
      .where('expires_at', '<=', now)
      .orderBy('expires_at')
      .limit(BATCH)
      .execute();
    const summary: RunSummary = { examined: due.length, changed: 0, errors: 0 };
    for (const order of due) {
      try {
        const after =
          order.status === 'PENDING'
            ? await this.trades.requestClose(order, 'expired')
            : await this.failUnconfirmed(order.id, order.out_trade_no);
        if (after && after.status !== order.status) summary.changed++;
      } catch (err) {
        summary.errors++;
        this.ctx.logger.warn({ err, orderId: order.id }, 'expiry could not settle an order');
      }
    }
    return summary;
  }

  /** The next step for CLOSING orders that are due: CLOSED once WeChat says so, or PAID. */
  async close(): Promise<RunSummary> {
    const now = this.ctx.clock().toISOString();
    const due = await this.ctx.db
      .selectFrom('orders')
      .selectAll()
      .where('status', '=', 'CLOSING')
      .where('next_query_at', '<=', now)
      .orderBy('next_query_at')
      .limit(BATCH)
      .execute();
    const summary: RunSummary = { examined: due.length, changed: 0, errors: 0 };
    for (const order of due) {
      try {
        const after = await this.trades.advanceClose(order);
        if (after.status !== 'CLOSING') summary.changed++;
      } catch (err) {
        summary.errors++;
        this.ctx.logger.warn({ err, orderId: order.id }, 'the close job could not step an order');
      }
    }
    return summary;
  }

  /** Queries PENDING orders whose notify is overdue; paid ones become PAID. */
  async sweep(): Promise<RunSummary> {
    const now = this.ctx.clock();
    const due = await this.ctx.db
      .selectFrom('orders')
      .selectAll()
      .where('status', '=', 'PENDING')
      .where('next_query_at', '<=', now.toISOString())
      .orderBy('next_query_at')
      .limit(BATCH)
      .execute();
    const summary: RunSummary = { examined: due.length, changed: 0, errors: 0 };
    for (const order of due) {
      try {
        const after = await this.trades.sync(order);
        if (after.status !== order.status) {
          summary.changed++;
          continue;
        }
      } catch (err) {
        summary.errors++;
        this.ctx.logger.warn({ err, orderId: order.id }, 'sweep could not query an order');
      }
      const wait = Math.min(SWEEP_BASE_MS * 2 ** order.query_attempts, SWEEP_MAX_MS);
      await this.ctx.db
        .updateTable('orders')
        .set({
          query_attempts: order.query_attempts + 1,
          next_query_at: new Date(now.getTime() + wait).toISOString(),
        })
        .where('id', '=', order.id)
        .where('status', '=', 'PENDING')
        .execute();
    }
    return summary;
  }

  /** A CREATED order past its expiry: WeChat never confirmed a prepay. Close it there; FAILED. */
  private async failUnconfirmed(id: string, outTradeNo: string) {
    try {
      await logged(this.ctx, id, 'closeorder', () => this.ctx.gateway.closeTrade(outTradeNo));
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
