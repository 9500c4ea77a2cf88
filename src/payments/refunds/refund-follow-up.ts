/**
 * The refund follow-up job: refunds whose outcome is overdue are asked about (refundquery) and
 * settled with WeChat's word; one WeChat never got is sent again with the same out_refund_no,
 * one refused for now is sent again when its back-off is over. Back-off between looks: 1, 2,
 * 4, … minutes, at most an hour.
 */
import type { PaymentsContext } from '../context.js';
import { GatewayError, type RefundStatus as WechatRefundStatus } from '../gateway/gateway.js';
import { logged } from '../gateway/gateway-log.js';
import { gatewayOfOrder } from '../gateway/order-gateway.js';
import type { RunSummary } from '../lib/run-summary.js';
import type { RefundRow } from './refund-view.js';
import { findRefund, postponeQuery, type SettleResult, UNSETTLED } from './refunds-repo.js';

const BATCH = 50;
const FOLLOW_UP_BASE_MS = 60_000;
const FOLLOW_UP_MAX_MS = 3600_000;

/** When to look at a refund again after `attempts` looks. */
export function followUpAt(now: Date, attempts: number): Date {
  const wait = Math.min(FOLLOW_UP_BASE_MS * 2 ** Math.min(attempts, 20), FOLLOW_UP_MAX_MS);
  return new Date(now.getTime() + wait);
}

/** What the follow-up does through the refunds service: send a refund, apply WeChat's word. */
export interface RefundActions {
  submit(refund: RefundRow): Promise<void>;
  apply(refund: RefundRow, status: WechatRefundStatus): Promise<SettleResult | 'processing'>;
}

export class RefundFollowUp {
  constructor(
    private readonly ctx: PaymentsContext,
    private readonly refunds: RefundActions,
  ) {}

  /** One run: refundquery for refunds whose outcome is overdue. */
  async run(): Promise<RunSummary> {
    const now = this.ctx.clock();
    const due = await this.ctx.db
      .selectFrom('refunds')
      .selectAll()
      .where('status', 'in', UNSETTLED)
      .where('next_query_at', '<=', now.toISOString())
      .orderBy('next_query_at')
      .limit(BATCH)
      .execute();
    const summary: RunSummary = { examined: due.length, changed: 0, errors: 0 };
    for (const refund of due) {
      try {
        if (refund.status === 'PENDING' && refund.retry_code !== null) {
          // Refused for now before: send it again (it schedules its own next attempt).
          await this.refunds.submit(refund);
          if ((await findRefund(this.ctx.db, refund.id))?.status !== 'PENDING') summary.changed++;
          continue;
        }
        if (await this.followOne(refund)) {
          summary.changed++;
          continue;
        }
      } catch (err) {
        summary.errors++;
        this.ctx.logger.warn({ err, refundId: refund.id }, 'refund follow-up failed');
      }
      await postponeQuery(
        this.ctx.db,
        refund,
        followUpAt(this.ctx.clock(), refund.query_attempts + 1),
      );
    }
    return summary;
  }

  /** Resolves true when the refund moved on (settled, sent again, or refused). */
  private async followOne(refund: RefundRow): Promise<boolean> {
    let status: WechatRefundStatus;
    const gateway = await gatewayOfOrder(this.ctx, refund.order_id);
    try {
      status = await logged(
        this.ctx,
        refund.order_id,
        'refundquery',
        () => gateway.queryRefund(refund.out_refund_no),
        (s) => ({ outRefundNo: s.outRefundNo, state: s.state, refundFen: s.refundFen }),
      );
    } catch (err) {
      const never =
        err instanceof GatewayError && err.kind === 'rejected' && err.code === 'REFUNDNOTEXIST';
      if (!never || refund.source !== 'minipay') throw err;
      // WeChat never got it: send it again, same out_refund_no and amounts.
      await this.refunds.submit(refund);
      const after = (await findRefund(this.ctx.db, refund.id))!;
      return after.status === 'FAILED';
    }
    if (status.refundFen !== refund.amount_fen) {
      throw new Error(
        `refundquery reports ${status.refundFen} fen for a refund of ${refund.amount_fen}`,
      );
    }
    const result = await this.refunds.apply(refund, status);
    return result === 'settled';
  }
}
