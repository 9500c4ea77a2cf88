/**
 * `POST /wechatpay/v2/refund-notify`. APIv2 refund notifies are not signed: `req_info` is
 * AES-256-ECB under md5(key), and the gateway has decrypted and checked the envelope. What it
 * says is then matched against our own records (order, amounts, refund) before anything
 * changes; a refund we never asked for, on an order we know, was made in the merchant portal
 * and is recorded as such. Settling is idempotent: a repeated notify changes nothing.
 */
import { recordAnomaly, recordInvalidNotify } from '../anomalies/anomalies.js';
import {
  answerNotify,
  linkNotify,
  recordRefundNotify,
} from '../confirmation/notifications-repo.js';
import { OPEN, type TradeSync } from '../confirmation/trade-sync.js';
import type { PaymentsContext } from '../context.js';
import type { NotifyHttpRequest, NotifyOutcome, RefundStatus } from '../gateway/gateway.js';
import type { OrderRow } from '../orders/order-view.js';
import { findOrderByOutTradeNo } from '../orders/orders-repo.js';
import type { RefundRow } from './refund-view.js';
import type { Refunds } from './refunds.js';
import { findRefundByOutRefundNo, insertRefund } from './refunds-repo.js';

export type RefundNotifyResult =
  | 'settled'
  | 'duplicate'
  | 'portal_refund'
  | 'unknown_order'
  | 'mismatch'
  | 'invalid'
  | 'order_not_paid';

export interface RefundNotifyHandling {
  outcome: NotifyOutcome;
  message: string;
  result?: RefundNotifyResult;
}

export class RefundNotifications {
  constructor(
    private readonly ctx: PaymentsContext,
    private readonly refunds: Refunds,
    private readonly trades: TradeSync,
  ) {}

  /** Handles one refund notify; never throws. */
  async handle(request: NotifyHttpRequest): Promise<RefundNotifyHandling> {
    let notice: RefundStatus;
    try {
      notice = await this.ctx.gateway.readRefundNotify(request);
    } catch (err) {
      return this.invalid(request, err);
    }
    const identity = `${notice.outRefundNo}:${notice.state}`;
    try {
      await recordRefundNotify(
        this.ctx.db,
        identity,
        notice.outTradeNo,
        this.ctx.clock().toISOString(),
      );
      let order = await findOrderByOutTradeNo(this.ctx.db, notice.outTradeNo);
      if (!order) {
        await this.anomaly(
          'unknown_order',
          null,
          notice,
          identity,
          'no order has this out_trade_no',
        );
        return this.finish(identity, 'reject', 'unknown out_trade_no', 'unknown_order');
      }
      await linkNotify(this.ctx.db, 'refund', identity, order.id);
      let refund = await findRefundByOutRefundNo(this.ctx.db, notice.outRefundNo);
      const mismatch = this.mismatch(order, refund, notice);
      if (mismatch) {
        await this.anomaly('refund_mismatch', order, notice, identity, mismatch);
        this.ctx.logger.error({ orderId: order.id, mismatch }, 'refund notify does not match');
        return this.finish(identity, 'reject', 'does not match the order', 'mismatch');
      }
      let result: RefundNotifyResult;
      if (!refund) {
        if (OPEN.includes(order.status) || order.status === 'CREATED') {
          order = await this.trades.sync(order);
          if (OPEN.includes(order.status) || order.status === 'CREATED') {
            return this.finish(identity, 'retry', 'payment not confirmed yet', 'order_not_paid');
          }
        }
        refund = await this.recordPortalRefund(order, notice);
        await this.refunds.apply(refund, notice);
        result = 'portal_refund';
      } else {
        result = (await this.refunds.apply(refund, notice)) === 'settled' ? 'settled' : 'duplicate';
      }
      this.ctx.metrics.inc('minipay_refund_notifies_total', { result });
      return this.finish(identity, 'ok', 'OK', result);
    } catch (err) {
      this.ctx.logger.error({ err }, 'refund notify could not be processed; WeChat will retry');
      this.ctx.metrics.inc('minipay_refund_notifies_total', { result: 'retry' });
      return { outcome: 'retry', message: 'temporarily unable to process' };
    }
  }

  /** Why the notify cannot be about our order and refund, or null when it matches. */
  private mismatch(order: OrderRow, refund: RefundRow | undefined, n: RefundStatus): string | null {
    if (n.totalFen !== undefined && n.totalFen !== order.total_fen) {
      return `total_fee ${n.totalFen} is not the order's ${order.total_fen}`;
    }
    if (n.refundFen < 1 || n.refundFen > order.total_fen) {
      return `refund_fee ${n.refundFen} is outside 1..${order.total_fen}`;
    }
    if (order.transaction_id && n.transactionId && n.transactionId !== order.transaction_id) {
      return 'transaction_id is not the order’s';
    }
    if (!refund) return null;
    if (refund.order_id !== order.id) return 'out_refund_no belongs to another order';
    if (refund.amount_fen !== n.refundFen) {
      return `refund_fee ${n.refundFen} is not the refund's ${refund.amount_fen}`;
    }
    return null;
  }

  /** A refund made outside minipay: recorded (PROCESSING), then settled like any other. */
  private async recordPortalRefund(order: OrderRow, n: RefundStatus): Promise<RefundRow> {
    const now = this.ctx.clock();
    try {
      return await insertRefund(
        this.ctx.db,
        order.id,
        {
          outRefundNo: n.outRefundNo,
          amountFen: n.refundFen,
          reason: null,
          source: 'merchant_portal',
          status: 'PROCESSING',
          refundId: n.refundId ?? null,
          nextQueryAt: now,
        },
        now,
        () => undefined, // the money has already moved at WeChat: record it whatever we think
      );
    } catch (err) {
      // The same notify twice at once: the other one inserted it.
      const existing = await findRefundByOutRefundNo(this.ctx.db, n.outRefundNo);
      if (existing) return existing;
      throw err;
    }
  }

  private async anomaly(
    kind: 'unknown_order' | 'refund_mismatch',
    order: OrderRow | null,
    n: RefundStatus,
    identity: string,
    reason: string,
  ): Promise<void> {
    await recordAnomaly(
      this.ctx.db,
      {
        kind,
        orderId: order?.id ?? null,
        outTradeNo: n.outTradeNo,
        dedupeKey: `refund:${identity}`,
        detail: {
          source: 'refund_notify',
          reason,
          outRefundNo: n.outRefundNo,
          refundFen: n.refundFen,
          totalFen: n.totalFen ?? null,
          state: n.state,
        },
      },
      this.ctx.clock(),
    );
  }

  private async invalid(request: NotifyHttpRequest, err: unknown): Promise<RefundNotifyHandling> {
    this.ctx.metrics.inc('minipay_refund_notifies_total', { result: 'invalid' });
    await recordInvalidNotify(this.ctx, 'refund', request.body, err);
    return { outcome: 'reject', message: 'invalid notification', result: 'invalid' };
  }

  private async finish(
    identity: string,
    outcome: NotifyOutcome,
    message: string,
    result: RefundNotifyResult,
  ): Promise<RefundNotifyHandling> {
    const at = this.ctx.clock().toISOString();
    await answerNotify(this.ctx.db, 'refund', identity, { outcome: result, detail: message, at });
    return { outcome, message, result };
  }
}
