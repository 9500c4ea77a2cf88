/**
 * Payment confirmation. The notify path and the query path (sync=1, the sweep, cancel) both
 * end in `applyPaid`, the ONE place an order becomes PAID: the evidence is checked against
 * the order (merchant, amount, currency) and then PENDING → PAID is a compare-and-set, so
 * duplicates and racing confirmations change nothing.
 */
import { createHash } from 'node:crypto';
import { recordAnomaly } from './anomalies.js';
import type { PaymentsContext } from './context.js';
import { GatewayError, type NotifyHttpRequest, type NotifyOutcome } from './gateway.js';
import { newId } from './ids.js';
import type { OrderRow } from './order-view.js';
import { findOrder, findOrderByOutTradeNo, transition } from './orders-repo.js';

/** Proof that WeChat holds the money for an order (a verified notify or an orderquery). */
export interface PaymentEvidence {
  source: 'notify' | 'query';
  transactionId: string;
  totalFen: number | undefined;
  currency: string | undefined;
  appId: string | undefined;
  mchId: string | undefined;
  paidAt: Date | undefined;
}

export type PaidResult =
  | 'paid'
  | 'duplicate'
  | 'amount_mismatch'
  | 'merchant_mismatch'
  | 'paid_after_close'
  | 'unexpected_state';

export interface NotifyHandling {
  outcome: NotifyOutcome;
  message: string;
  result?: PaidResult | 'unknown_order' | 'invalid' | 'not_paid';
}

export class Confirmation {
  constructor(private readonly ctx: PaymentsContext) {}

  async applyPaid(order: OrderRow, evidence: PaymentEvidence): Promise<PaidResult> {
    const { gateway } = this.ctx;
    const now = this.ctx.clock();
    const base = { orderId: order.id, outTradeNo: order.out_trade_no };
    if (
      (evidence.appId !== undefined && evidence.appId !== gateway.appId) ||
      (evidence.mchId !== undefined && evidence.mchId !== gateway.mchId)
    ) {
      await recordAnomaly(
        this.ctx.db,
        {
          ...base,
          kind: 'merchant_mismatch',
          dedupeKey: `${order.out_trade_no}:${evidence.appId}:${evidence.mchId}`,
          detail: { source: evidence.source, appId: evidence.appId, mchId: evidence.mchId },
        },
        now,
      );
      return 'merchant_mismatch';
    }
    const currency = evidence.currency ?? 'CNY';
    if (evidence.totalFen !== order.total_fen || currency !== order.currency) {
      await recordAnomaly(
        this.ctx.db,
        {
          ...base,
          kind: 'amount_mismatch',
          dedupeKey: `${order.out_trade_no}:${evidence.transactionId}:${evidence.totalFen}:${currency}`,
          detail: {
            source: evidence.source,
            expectedFen: order.total_fen,
            reportedFen: evidence.totalFen ?? null,
            expectedCurrency: order.currency,
            reportedCurrency: currency,
            transactionId: evidence.transactionId,
          },
        },
        now,
      );
      this.ctx.logger.error({ orderId: order.id }, 'payment amount does not match the order');
      return 'amount_mismatch';
    }
    const paid = await transition(
      this.ctx.db,
      order.id,
      ['PENDING'],
      'PAID',
      now,
      {
        transaction_id: evidence.transactionId,
        paid_at: (evidence.paidAt ?? now).toISOString(),
        next_query_at: null,
      },
      { source: evidence.source },
    );
    if (paid) {
      this.ctx.metrics.inc('minipay_orders_paid_total', { source: evidence.source });
      return 'paid';
    }
    const current = (await findOrder(this.ctx.db, order.id))!;
    return this.alreadySettled(current, evidence);
  }

  /** The order was not PENDING: a duplicate, or money for an order that cannot take it. */
  private async alreadySettled(order: OrderRow, evidence: PaymentEvidence): Promise<PaidResult> {
    const now = this.ctx.clock();
    const base = { orderId: order.id, outTradeNo: order.out_trade_no };
    const settled = ['PAID', 'PARTIALLY_REFUNDED', 'REFUNDED'].includes(order.status);
    if (settled && order.transaction_id === evidence.transactionId) return 'duplicate';
    const kind = settled
      ? 'duplicate_payment'
      : order.status === 'CLOSED'
        ? 'paid_after_close'
        : 'paid_in_unexpected_state';
    await recordAnomaly(
      this.ctx.db,
      {
        ...base,
        kind,
        dedupeKey: `${order.out_trade_no}:${evidence.transactionId}`,
        detail: {
          source: evidence.source,
          status: order.status,
          transactionId: evidence.transactionId,
          amountFen: evidence.totalFen ?? null,
          action: 'refund this payment: the order did not take it',
        },
        refundRequired: true,
      },
      now,
    );
    this.ctx.logger.error(
      { orderId: order.id, kind },
      'money arrived for an order that cannot take it',
    );
    return kind === 'paid_after_close' ? 'paid_after_close' : 'unexpected_state';
  }

  /** Handles one `POST /wechatpay/v2/notify`; never throws. */
  async handleNotify(request: NotifyHttpRequest): Promise<NotifyHandling> {
    let notice: Awaited<ReturnType<PaymentsContext['gateway']['readPaymentNotify']>>;
    try {
      notice = await this.ctx.gateway.readPaymentNotify(request);
    } catch (err) {
      return this.invalidNotify(request, err);
    }
    try {
      const known = await this.recordNotification(notice.noticeId, notice.outTradeNo);
      const order = await findOrderByOutTradeNo(this.ctx.db, notice.outTradeNo);
      if (!order) {
        await recordAnomaly(
          this.ctx.db,
          {
            kind: 'unknown_order',
            outTradeNo: notice.outTradeNo,
            dedupeKey: notice.noticeId,
            detail: {
              transactionId: notice.transactionId ?? null,
              totalFen: notice.totalFen ?? null,
            },
          },
          this.ctx.clock(),
        );
        return this.finish(notice.noticeId, 'reject', 'unknown out_trade_no', 'unknown_order');
      }
      await this.linkNotification(notice.noticeId, order.id);
      if (!notice.succeeded || !notice.transactionId) {
        return this.finish(notice.noticeId, 'ok', 'OK', 'not_paid');
      }
      const result = await this.applyPaid(order, {
        source: 'notify',
        transactionId: notice.transactionId,
        totalFen: notice.totalFen,
        currency: notice.currency,
        appId: notice.appId,
        mchId: notice.mchId,
        paidAt: notice.paidAt,
      });
      const rejected = result === 'amount_mismatch' || result === 'merchant_mismatch';
      this.ctx.metrics.inc('minipay_notifies_total', {
        result: known ? `${result}_again` : result,
      });
      return this.finish(
        notice.noticeId,
        rejected ? 'reject' : 'ok',
        rejected ? result : 'OK',
        result,
      );
    } catch (err) {
      this.ctx.logger.error({ err }, 'notify could not be processed; WeChat will retry');
      this.ctx.metrics.inc('minipay_notifies_total', { result: 'retry' });
      return { outcome: 'retry', message: 'temporarily unable to process' };
    }
  }

  private async invalidNotify(request: NotifyHttpRequest, err: unknown): Promise<NotifyHandling> {
    const reason = err instanceof GatewayError ? `${err.code}: ${err.message}` : 'unreadable';
    this.ctx.metrics.inc('minipay_notifies_total', { result: 'invalid' });
    this.ctx.logger.warn({ reason }, 'rejected a payment notify that failed verification');
    const digest = createHash('sha256').update(request.body).digest('hex');
    try {
      await recordAnomaly(
        this.ctx.db,
        {
          kind: 'invalid_notify',
          dedupeKey: digest,
          detail: { reason, bytes: request.body.length },
        },
        this.ctx.clock(),
      );
    } catch (dbErr) {
      this.ctx.logger.error({ err: dbErr }, 'could not record an invalid notify');
    }
    const merchant = err instanceof GatewayError && err.code.includes('MISMATCH');
    return {
      outcome: 'reject',
      message: merchant ? 'not for this merchant' : 'invalid notification',
      result: 'invalid',
    };
  }

  /** Resolves true when this notification was seen before. */
  private async recordNotification(identity: string, outTradeNo: string): Promise<boolean> {
    const iso = this.ctx.clock().toISOString();
    const inserted = await this.ctx.db
      .insertInto('notifications')
      .values({
        id: newId('ntf'),
        kind: 'payment',
        identity,
        order_id: null,
        out_trade_no: outTradeNo,
        outcome: 'received',
        detail: null,
        received_count: 1,
        created_at: iso,
        updated_at: iso,
      })
      .onConflict((oc) =>
        oc.columns(['kind', 'identity']).doUpdateSet((eb) => ({
          received_count: eb('notifications.received_count', '+', 1),
          updated_at: iso,
        })),
      )
      .returning('received_count')
      .executeTakeFirst();
    return (inserted?.received_count ?? 1) > 1;
  }

  private async linkNotification(identity: string, orderId: string): Promise<void> {
    await this.ctx.db
      .updateTable('notifications')
      .set({ order_id: orderId })
      .where('kind', '=', 'payment')
      .where('identity', '=', identity)
      .execute();
  }

  private async finish(
    identity: string,
    outcome: NotifyOutcome,
    message: string,
    result: NotifyHandling['result'],
  ): Promise<NotifyHandling> {
    await this.ctx.db
      .updateTable('notifications')
      .set({
        outcome: result ?? outcome,
        detail: message,
        updated_at: this.ctx.clock().toISOString(),
      })
      .where('kind', '=', 'payment')
      .where('identity', '=', identity)
      .execute();
    return { outcome, message, result };
  }
}
