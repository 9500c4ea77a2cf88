/**
 * Payment confirmation. The notify path and the query path (sync=1, the sweep, cancel) both
 * end in `applyPaid`, the ONE place an order becomes PAID: the evidence is checked against
 * the order (merchant, amount, currency) and then PENDING/CLOSING → PAID is a compare-and-set,
 * so duplicates and racing confirmations change nothing.
 */
import type { Transaction } from 'kysely';
import type { Transactor } from '../../store/group-commit.js';
import type { Database } from '../../store/schema.js';
import { recordAnomaly, recordInvalidNotify } from '../anomalies/anomalies.js';
import { type PaymentsContext, transactorOf } from '../context.js';
import {
  GatewayError,
  type NotifyHttpRequest,
  type NotifyOutcome,
  type PaymentNotice,
} from '../gateway/gateway.js';
import { Batcher } from '../lib/batcher.js';
import { crashPoint, crashPointArmed } from '../lib/crash-points.js';
import type { Db } from '../lib/db.js';
import { newId } from '../lib/ids.js';
import type { OrderRow } from '../orders/order-view.js';
import {
  findOrder,
  findOrderByOutTradeNo,
  type PendingPayment,
  payPendingOrder,
  payPendingOrdersRecorded,
  paysInOneStatement,
  type RecordedPayment,
  transition,
} from '../orders/orders-repo.js';
import { recordPaymentNotify } from './notifications-repo.js';

/** Proof that WeChat holds the money for an order (a verified notify or an orderquery). */
export interface PaymentEvidence {
  /** A verified notify, an orderquery, or a row of WeChat's bill (reconciliation). */
  source: 'notify' | 'query' | 'bill';
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
  private readonly transact: Transactor;
  /** The usual notifies, paid and recorded a batch at a time (`payUsual`). */
  private readonly usual: Batcher<PendingPayment, RecordedPayment>;

  constructor(private readonly ctx: PaymentsContext) {
    this.transact = transactorOf(ctx);
    // PostgreSQL pays a batch in one statement on a pooled connection: two in flight keep the
    // database busy while the other batch's answer travels. SQLite's one connection takes one.
    this.usual = new Batcher(
      (batch) => this.payBatch(batch),
      (p) => [p.match.outTradeNo, p.notify.identity],
      64,
      paysInOneStatement(ctx.db) ? 2 : 1,
    );
  }

  /** `db`: the caller's transaction, when the change must commit with the caller's writes. */
  async applyPaid(
    order: OrderRow,
    evidence: PaymentEvidence,
    db: Db = this.ctx.db,
  ): Promise<PaidResult> {
    const now = this.ctx.clock();
    const base = { orderId: order.id, outTradeNo: order.out_trade_no };
    if (!this.sameMerchant(evidence)) {
      await recordAnomaly(
        db,
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
        db,
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
    // CLOSING too: money that arrives while an order is being closed is the order's payment.
    const paid = await transition(
      db,
      order.id,
      ['PENDING', 'CLOSING'],
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
    const current = (await findOrder(db, order.id))!;
    return this.alreadySettled(current, evidence, db);
  }

  /** The order was not PENDING: a duplicate, or money for an order that cannot take it. */
  private async alreadySettled(
    order: OrderRow,
    evidence: PaymentEvidence,
    db: Db,
  ): Promise<PaidResult> {
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
      db,
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

  /**
   * Handles one `POST /wechatpay/v2/notify`; never throws. After the signature checks, the
   * order's change, its event, any anomaly and the notification's record are ONE transaction:
   * one commit per notify, and a crash leaves either all of it or none (WeChat retries).
   */
  async handleNotify(request: NotifyHttpRequest): Promise<NotifyHandling> {
    const received = this.ctx.clock();
    let notice: PaymentNotice;
    try {
      notice = await this.ctx.gateway.readPaymentNotify(request);
    } catch (err) {
      return this.invalidNotify(request, err);
    }
    try {
      const usual = this.usualPayment(notice, received);
      const { handling, known } =
        (usual ? await this.payUsual(usual) : null) ??
        (await this.transact((trx) => this.settleNotify(trx, notice, received, usual === null)));
      if (handling.result === 'paid') crashPoint('order-paid-after-commit');
      if (handling.result !== 'unknown_order' && handling.result !== 'not_paid') {
        this.ctx.metrics.inc('minipay_notifies_total', {
          result: known ? `${handling.result}_again` : (handling.result as string),
        });
      }
      return handling;
    } catch (err) {
      this.ctx.logger.error({ err }, 'notify could not be processed; WeChat will retry');
      this.ctx.metrics.inc('minipay_notifies_total', { result: 'retry' });
      const retry: NotifyHandling = { outcome: 'retry', message: 'temporarily unable to process' };
      // Best effort: the notification's record says it came and what we answered.
      await this.recordNotification(this.ctx.db, notice, received, retry, null).catch(
        () => undefined,
      );
      return retry;
    }
  }

  /** `tryUsual`: false when the batch (`payUsual`) already found that the usual case does not apply. */
  private async settleNotify(
    trx: Transaction<Database>,
    notice: PaymentNotice,
    received: Date,
    tryUsual: boolean,
  ): Promise<{ handling: NotifyHandling; known: boolean }> {
    const fast = tryUsual ? await this.payFromNotice(trx, notice) : null;
    if (fast) {
      const handling: NotifyHandling = { outcome: 'ok', message: 'OK', result: 'paid' };
      const known = await this.recordNotification(trx, notice, received, handling, fast.id);
      return { handling, known };
    }
    const order = await findOrderByOutTradeNo(trx, notice.outTradeNo);
    let handling: NotifyHandling;
    if (!order) {
      await recordAnomaly(
        trx,
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
      handling = { outcome: 'reject', message: 'unknown out_trade_no', result: 'unknown_order' };
    } else if (!notice.succeeded || !notice.transactionId) {
      handling = { outcome: 'ok', message: 'OK', result: 'not_paid' };
    } else {
      const result = await this.applyPaid(
        order,
        {
          source: 'notify',
          transactionId: notice.transactionId,
          totalFen: notice.totalFen,
          currency: notice.currency,
          appId: notice.appId,
          mchId: notice.mchId,
          paidAt: notice.paidAt,
        },
        trx,
      );
      const rejected = result === 'amount_mismatch' || result === 'merchant_mismatch';
      handling = { outcome: rejected ? 'reject' : 'ok', message: rejected ? result : 'OK', result };
    }
    const known = await this.recordNotification(trx, notice, received, handling, order?.id ?? null);
    return { handling, known };
  }

  /**
   * The usual notify in one statement: a successful payment, for this merchant, of exactly a
   * PENDING order's amount and currency, made PAID by `payPendingOrder`'s compare-and-set. The
   * same checks as `applyPaid`, done by the UPDATE's condition; resolves `null` (nothing
   * written) for anything else, which then takes the full path to be told apart.
   */
  private async payFromNotice(
    trx: Transaction<Database>,
    notice: PaymentNotice,
  ): Promise<OrderRow | null> {
    const { transactionId, totalFen } = notice;
    if (!notice.succeeded || !transactionId || totalFen === undefined) return null;
    if (!this.sameMerchant(notice)) return null;
    const now = this.ctx.clock();
    const paid = await payPendingOrder(
      trx,
      { outTradeNo: notice.outTradeNo, totalFen, currency: notice.currency ?? 'CNY' },
      now,
      { transactionId, paidAt: notice.paidAt ?? now },
      { source: 'notify' },
    );
    if (!paid) return null;
    this.ctx.metrics.inc('minipay_orders_paid_total', { source: 'notify' });
    return paid.order;
  }

  /**
   * The usual notify (as `payFromNotice`) as one payment of a batch, with its `order.paid` event
   * and its record; `null` when it is not the usual case. With
   * MINIPAY_CRASH_AT=order-paid-before-commit it is `null` too, and the transaction path runs
   * instead: a batch has no moment of its own between its writes and their commit to crash in.
   */
  private usualPayment(notice: PaymentNotice, received: Date): PendingPayment | null {
    const { transactionId, totalFen } = notice;
    if (!notice.succeeded || !transactionId || totalFen === undefined) return null;
    if (!this.sameMerchant(notice) || crashPointArmed('order-paid-before-commit')) return null;
    return {
      match: { outTradeNo: notice.outTradeNo, totalFen, currency: notice.currency ?? 'CNY' },
      transactionId,
      paidAt: notice.paidAt ?? received,
      notify: {
        id: newId('ntf'),
        identity: notice.noticeId,
        outcome: 'paid',
        detail: 'OK',
        receivedAt: received.toISOString(),
      },
    };
  }

  /** Pays `payment` with the batch it arrived in; `null` when it wrote nothing (full path). */
  private async payUsual(
    payment: PendingPayment,
  ): Promise<{ handling: NotifyHandling; known: boolean } | null> {
    const paid = await this.usual.add(payment);
    if (!paid) return null;
    this.ctx.metrics.inc('minipay_orders_paid_total', { source: 'notify' });
    return { handling: { outcome: 'ok', message: 'OK', result: 'paid' }, known: paid.seenBefore };
  }

  /**
   * A batch of usual notifies: on PostgreSQL one statement, atomic by itself; on SQLite one unit
   * of the group commit, so each is answered only after the COMMIT that made it durable. A batch
   * that fails wrote nothing: each of its notifies then takes the full path alone, so one that
   * cannot be written does not fail the others.
   */
  private async payBatch(batch: PendingPayment[]): Promise<RecordedPayment[]> {
    const pay = (db: Db) =>
      payPendingOrdersRecorded(db, batch, this.ctx.clock(), { source: 'notify' });
    try {
      return await (paysInOneStatement(this.ctx.db) ? pay(this.ctx.db) : this.transact(pay));
    } catch (err) {
      this.ctx.logger.warn({ err, notifies: batch.length }, 'notify batch failed; each alone');
      return batch.map(() => null);
    }
  }

  /** Whether evidence names this merchant (an absent field is not a mismatch). */
  private sameMerchant(evidence: { appId?: string | undefined; mchId?: string | undefined }) {
    const { gateway } = this.ctx;
    return (
      (evidence.appId === undefined || evidence.appId === gateway.appId) &&
      (evidence.mchId === undefined || evidence.mchId === gateway.mchId)
    );
  }

  private async invalidNotify(request: NotifyHttpRequest, err: unknown): Promise<NotifyHandling> {
    this.ctx.metrics.inc('minipay_notifies_total', { result: 'invalid' });
    await recordInvalidNotify(this.ctx, 'payment', request.body, err);
    const merchant = err instanceof GatewayError && err.code.includes('MISMATCH');
    return {
      outcome: 'reject',
      message: merchant ? 'not for this merchant' : 'invalid notification',
      result: 'invalid',
    };
  }

  /**
   * Records a payment notification (its identity, the order, what we answered), dated when it
   * arrived (before whatever it caused). Resolves true when it was seen before.
   */
  private recordNotification(
    db: Db,
    notice: PaymentNotice,
    received: Date,
    handling: NotifyHandling,
    orderId: string | null,
  ): Promise<boolean> {
    return recordPaymentNotify(db, {
      identity: notice.noticeId,
      orderId,
      outTradeNo: notice.outTradeNo,
      outcome: handling.result ?? handling.outcome,
      detail: handling.message,
      at: received.toISOString(),
    });
  }
}
