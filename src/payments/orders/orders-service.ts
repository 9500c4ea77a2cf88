/**
 * A user's orders: list, read (optionally asking WeChat first), re-issue payment parameters,
 * cancel. Every read is scoped to the caller: another user's order is "not found".
 */

import type { Order, OrderList } from '../../contract/index.js';
import { type Checkout, unverifiedPrepay } from '../checkout/checkout.js';
import { OPEN, type TradeSync } from '../confirmation/trade-sync.js';
import type { PaymentsContext } from '../context.js';
import { GatewayError, type PaymentParams } from '../gateway/gateway.js';
import { DomainError, notFound, wechatUnavailable } from '../lib/errors.js';
import { newestFirst, parseLimit } from '../lib/page-cursor.js';
import type { SessionUser } from '../login/login-service.js';
import type { OrderRow } from './order-view.js';
import { findOrder, loadOrderView, renewPrepay } from './orders-repo.js';
import { QueryThrottle } from './query-throttle.js';

/** A prepay_id this close to its end is replaced before its parameters are handed out. */
const PREPAY_MARGIN_MS = 5 * 60_000;

/** The cursor name of a user's own orders list (`GET /api/v1/orders`). */
const USER_ORDERS = 'user-orders';

export class OrdersService {
  private readonly syncs: QueryThrottle;

  constructor(
    private readonly ctx: PaymentsContext,
    private readonly checkout: Checkout,
    private readonly trades: TradeSync,
  ) {
    this.syncs = new QueryThrottle(ctx.settings.syncIntervalMs, ctx.clock);
  }

  async list(user: SessionUser, limit = 20, cursor?: string): Promise<OrderList> {
    const size = parseLimit(limit, 20);
    const q = this.ctx.db.selectFrom('orders').selectAll().where('user_id', '=', user.id);
    const { page, nextCursor } = await newestFirst(USER_ORDERS, q, size, cursor);
    const orders = await Promise.all(page.map((o) => loadOrderView(this.ctx.db, o)));
    return { orders, nextCursor };
  }

  /**
   * The caller's order; with `sync`, an open (PENDING or CLOSING) order is first checked with
   * WeChat, unless it was asked about in the last `syncIntervalMs` (then the stored order is
   * the answer).
   */
  async get(user: SessionUser, id: string, sync = false): Promise<Order> {
    let order = await this.own(user, id);
    if (sync && OPEN.includes(order.status) && this.syncs.take(order.id)) {
      try {
        order = await this.trades.sync(order);
      } catch (err) {
        if (!(err instanceof GatewayError)) throw err;
        // WeChat did not answer: the local state is still true, the client asks again later.
        this.ctx.logger.warn({ orderId: id, code: err.code }, 'sync=1 could not reach WeChat');
      }
    }
    return loadOrderView(this.ctx.db, order);
  }

  async payment(user: SessionUser, id: string): Promise<{ order: Order; payment: PaymentParams }> {
    let order = await this.own(user, id);
    const now = this.ctx.clock();
    if (order.status === 'PENDING' && order.expires_at <= now.toISOString()) {
      throw new DomainError(
        409,
        'ORDER_EXPIRED',
        'this order expired before it was paid; place a new order',
      );
    }
    if (order.status !== 'PENDING') throw notPending(order);
    const renewBy = new Date(now.getTime() + PREPAY_MARGIN_MS).toISOString();
    if (!order.prepay_id || (order.prepay_expires_at ?? '') <= renewBy) {
      order = await this.renewPrepay(order);
    }
    this.ctx.metrics.inc('minipay_payment_params_issued_total');
    return {
      order: await loadOrderView(this.ctx.db, order),
      payment: this.ctx.gateway.forApi(order.wechatpay_api).paymentParams(order.prepay_id!),
    };
  }

  /**
   * The shopper gives up on an order: CLOSING at once (no more payment parameters), CLOSED
   * once WeChat has closed the trade (now or by the close job), or PAID if the money came.
   */
  async cancel(user: SessionUser, id: string): Promise<Order> {
    const order = await this.own(user, id);
    if (order.status === 'CLOSED' || order.status === 'CLOSING') {
      return loadOrderView(this.ctx.db, order);
    }
    if (order.status !== 'PENDING') throw notPending(order);
    return loadOrderView(this.ctx.db, await this.trades.requestClose(order, 'cancelled'));
  }

  private async renewPrepay(order: OrderRow): Promise<OrderRow> {
    try {
      const prepay = await this.checkout.requestPrepay(order);
      await renewPrepay(this.ctx.db, order.id, prepay, this.ctx.clock());
    } catch (err) {
      if (!(err instanceof GatewayError)) throw err;
      if (err.unverified) throw unverifiedPrepay(err);
      if (err.kind === 'ambiguous' || err.kind === 'invalid') throw wechatUnavailable();
      // ORDERPAID / ORDERCLOSED: WeChat knows better; bring the order up to date.
      const synced = await this.trades.sync(order);
      if (synced.status !== 'PENDING') throw notPending(synced);
      throw new DomainError(
        502,
        'WECHATPAY_REFUSED',
        `WeChat Pay refused a new prepay: ${err.code}`,
      );
    }
    const fresh = (await findOrder(this.ctx.db, order.id))!;
    if (fresh.status !== 'PENDING') throw notPending(fresh);
    return fresh;
  }

  private async own(user: SessionUser, id: string): Promise<OrderRow> {
    const order = await findOrder(this.ctx.db, id);
    if (!order || order.user_id !== user.id) throw notFound('order');
    return order;
  }
}

export function notPending(order: OrderRow): DomainError {
  if (order.status === 'CLOSING') {
    return new DomainError(
      409,
      'ORDER_CLOSING',
      'the order is being cancelled; it cannot be paid any more: place a new order',
    );
  }
  return new DomainError(
    409,
    'ORDER_NOT_PENDING',
    `the order is ${order.status}; only a PENDING order can be paid or cancelled`,
  );
}
