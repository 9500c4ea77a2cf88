/**
 * Refunds minipay asks for (admin API) and their follow-up. The order of things is what keeps
 * money safe:
 * 1. the refund row, with its `out_refund_no`, is written (and the amount reserved against
 *    the order) BEFORE WeChat is asked;
 * 2. WeChat is asked with that `out_refund_no`, and again with the same number and amounts
 *    whenever an answer is ambiguous, so WeChat sees one refund however often it is retried;
 * 3. an answer that never came leaves the refund PROCESSING; the follow-up job (refundquery)
 *    settles it, or sends it again when WeChat never got it. Nothing is ever deleted.
 */
import { outRefundNo } from '../wechatpay/ids.js';
import { type PaymentsContext, sleep } from './context.js';
import { crashPoint } from './crash-points.js';
import { DomainError, notFound, validation } from './errors.js';
import { GatewayError, type RefundStatus as WechatRefundStatus } from './gateway.js';
import { logged } from './gateway-log.js';
import { checkKey, IdempotencyKeys, requestHash } from './idempotency.js';
import type { RunSummary } from './maintenance.js';
import type { AdminOrderView, OrderRow } from './order-view.js';
import { findOrder } from './orders-repo.js';
import { decodeTimeCursor, olderThan, parseLimit, timePage } from './page-cursor.js';
import { MAX_REFUND_REASON_CHARS, refusalFor } from './refund-amounts.js';
import {
  REFUND_STATUSES,
  type RefundRow,
  type RefundStatus,
  type RefundView,
  refundView,
} from './refund-view.js';
import {
  findRefund,
  insertRefund,
  loadAdminOrder,
  markProcessing,
  postponeQuery,
  REFUNDABLE,
  type RefundOutcome,
  type SettleResult,
  settleRefund,
  UNSETTLED,
} from './refunds-repo.js';
import { parseStatusFilter } from './status-filter.js';

const BATCH = 50;
/** The cursor name of `GET /admin/v1/refunds`. */
const REFUNDS = 'refunds';
/** A PENDING refund is left to its request this long before the follow-up takes it over. */
const PENDING_GRACE_MS = 2 * 60_000;
/** Follow-up back-off: 1, 2, 4, … minutes, at most an hour. */
const FOLLOW_UP_BASE_MS = 60_000;
const FOLLOW_UP_MAX_MS = 3600_000;

export interface RefundInput {
  amountFen: number;
  reason?: string | null;
}

export interface RefundAnswer {
  refund: RefundView;
  order: AdminOrderView;
}

export interface RefundPage {
  refunds: RefundView[];
  nextCursor: string | null;
}

export class Refunds {
  private readonly keys: IdempotencyKeys;

  constructor(private readonly ctx: PaymentsContext) {
    this.keys = new IdempotencyKeys(ctx.db);
  }

  /**
   * `POST /admin/v1/orders/:id/refunds`: 201 with the refund (PROCESSING once WeChat has it,
   * FAILED when WeChat refused it) and the order; the stored answer on a replay of the key.
   */
  async request(
    orderId: string,
    input: RefundInput,
    idempotencyKey: string | undefined,
  ): Promise<{ status: number; body: RefundAnswer }> {
    const key = checkKey(idempotencyKey);
    const amountFen = input.amountFen;
    const reason = checkReason(input.reason);
    if (!Number.isSafeInteger(amountFen) || amountFen < 1) {
      throw validation('amountFen must be a positive whole number of fen');
    }
    const scope = `admin:order:${orderId}:refunds`;
    const claim = await this.keys.claim(
      scope,
      key,
      requestHash({ amountFen, reason }),
      this.ctx.clock(),
    );
    if (claim.kind === 'replay') return { status: claim.status, body: claim.body as RefundAnswer };
    let refundRowId: string | null = claim.kind === 'resume' ? claim.resourceId : null;
    try {
      let refund = refundRowId ? await findRefund(this.ctx.db, refundRowId) : undefined;
      if (!refund) {
        refund = await this.reserve(orderId, amountFen, reason, scope, key);
        refundRowId = refund.id;
      }
      if (refund.status === 'PENDING') await this.submit(refund);
      const body = await this.answer(refund.id);
      await this.keys.complete(scope, key, 201, body);
      return { status: 201, body };
    } catch (err) {
      await this.keys.release(scope, key, refundRowId).catch((e: unknown) => {
        this.ctx.logger.error({ err: e }, 'could not release an idempotency key');
      });
      throw err;
    }
  }

  /** Records the refund and reserves its amount, or refuses with what can still be refunded. */
  private async reserve(
    orderId: string,
    amountFen: number,
    reason: string | null,
    scope: string,
    key: string,
  ): Promise<RefundRow> {
    const now = this.ctx.clock();
    return insertRefund(
      this.ctx.db,
      orderId,
      {
        outRefundNo: outRefundNo('RF', now),
        amountFen,
        reason,
        source: 'minipay',
        status: 'PENDING',
        nextQueryAt: new Date(now.getTime() + PENDING_GRACE_MS),
      },
      now,
      (order, ledger) => {
        if (!REFUNDABLE.includes(order.status)) {
          throw new DomainError(
            409,
            'ORDER_NOT_REFUNDABLE',
            `the order is ${order.status}; only a PAID or PARTIALLY_REFUNDED order can be refunded`,
          );
        }
        const refusal = refusalFor(amountFen, ledger);
        if (refusal) {
          throw new DomainError(
            refusal.code === 'VALIDATION_FAILED' ? 400 : 422,
            refusal.code,
            refusal.message,
          );
        }
      },
      async (trx, refundRowId) => {
        await trx
          .updateTable('idempotency_keys')
          .set({ resource_id: refundRowId })
          .where('scope', '=', scope)
          .where('key', '=', key)
          .execute();
      },
    );
  }

  /**
   * Asks WeChat for a recorded refund, with its own `out_refund_no` every time. Accepted or
   * unanswered: PROCESSING; refused: FAILED (its amount is free again).
   */
  async submit(refund: RefundRow): Promise<void> {
    const order = (await findOrder(this.ctx.db, refund.order_id))!;
    const { settings } = this.ctx;
    crashPoint('refund-before-wechat');
    for (let attempt = 1; ; attempt++) {
      try {
        const accepted = await logged(
          this.ctx,
          order.id,
          'refund',
          () =>
            this.ctx.gateway.refund({
              outTradeNo: order.out_trade_no,
              outRefundNo: refund.out_refund_no,
              totalFen: order.total_fen,
              refundFen: refund.amount_fen,
              ...(refund.reason !== null && { reason: refund.reason }),
              ...(settings.refundNotifyUrl && { notifyUrl: settings.refundNotifyUrl }),
            }),
          (a) => ({ outRefundNo: a.outRefundNo, refundId: a.refundId, refundFen: a.refundFen }),
        );
        crashPoint('refund-after-wechat');
        await markProcessing(this.ctx.db, refund, accepted.refundId, this.nextQuery(0), this.now());
        this.ctx.metrics.inc('minipay_refunds_total', { outcome: 'accepted' });
        return;
      } catch (err) {
        if (!(err instanceof GatewayError)) throw err;
        const unknown = err.kind === 'ambiguous' || err.kind === 'invalid';
        if (unknown && attempt < settings.prepayAttempts) {
          await sleep(settings.retryDelayMs * 2 ** (attempt - 1));
          continue;
        }
        if (unknown) {
          // WeChat may have it: the follow-up asks (refundquery) and sends it again if not.
          await markProcessing(this.ctx.db, refund, null, this.nextQuery(0), this.now());
          this.ctx.metrics.inc('minipay_refunds_total', { outcome: 'unanswered' });
          this.ctx.logger.warn(
            { refundId: refund.id, code: err.code },
            'refund request unanswered; the follow-up will settle it',
          );
          return;
        }
        await settleRefund(
          this.ctx.db,
          refund.id,
          { status: 'FAILED', failure: { code: err.code, message: err.message } },
          this.now(),
        );
        this.ctx.metrics.inc('minipay_refunds_total', { outcome: 'refused' });
        return;
      }
    }
  }

  /** Applies WeChat's word on a refund (notify or refundquery). */
  async apply(refund: RefundRow, status: WechatRefundStatus): Promise<SettleResult | 'processing'> {
    if (status.state === 'PROCESSING') {
      if (refund.status === 'PENDING' || (status.refundId && !refund.refund_id)) {
        await markProcessing(
          this.ctx.db,
          refund,
          status.refundId ?? null,
          this.nextQuery(refund.query_attempts),
          this.now(),
        );
      }
      return 'processing';
    }
    const outcome: RefundOutcome = {
      status: status.state,
      refundId: status.refundId,
      succeededAt: status.succeededAt,
    };
    const result = await settleRefund(this.ctx.db, refund.id, outcome, this.now());
    if (result === 'settled') {
      this.ctx.metrics.inc('minipay_refunds_settled_total', { status: status.state });
    }
    return result;
  }

  /** The follow-up job: refundquery for refunds whose outcome is overdue. */
  async followUp(): Promise<RunSummary> {
    const now = this.now();
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
        if (await this.followOne(refund)) {
          summary.changed++;
          continue;
        }
      } catch (err) {
        summary.errors++;
        this.ctx.logger.warn({ err, refundId: refund.id }, 'refund follow-up failed');
      }
      await postponeQuery(this.ctx.db, refund, this.nextQuery(refund.query_attempts + 1));
    }
    return summary;
  }

  /** Resolves true when the refund moved on (settled, sent again, or refused). */
  private async followOne(refund: RefundRow): Promise<boolean> {
    let status: WechatRefundStatus;
    try {
      status = await logged(
        this.ctx,
        refund.order_id,
        'refundquery',
        () => this.ctx.gateway.queryRefund(refund.out_refund_no),
        (s) => ({ outRefundNo: s.outRefundNo, state: s.state, refundFen: s.refundFen }),
      );
    } catch (err) {
      const never =
        err instanceof GatewayError && err.kind === 'rejected' && err.code === 'REFUNDNOTEXIST';
      if (!never || refund.source !== 'minipay') throw err;
      // WeChat never got it: send it again, same out_refund_no and amounts.
      await this.submit(refund);
      const after = (await findRefund(this.ctx.db, refund.id))!;
      return after.status === 'FAILED';
    }
    if (status.refundFen !== refund.amount_fen) {
      throw new Error(
        `refundquery reports ${status.refundFen} fen for a refund of ${refund.amount_fen}`,
      );
    }
    const result = await this.apply(refund, status);
    return result === 'settled';
  }

  async get(id: string): Promise<RefundView> {
    const row = await findRefund(this.ctx.db, id);
    if (!row) throw notFound('refund');
    return refundView(row);
  }

  /** Refunds of one order, oldest first. */
  async ofOrder(orderId: string): Promise<RefundView[]> {
    const rows = await this.ctx.db
      .selectFrom('refunds')
      .selectAll()
      .where('order_id', '=', orderId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(refundView);
  }

  /** `GET /admin/v1/refunds`: newest first, optionally by status (comma-separated). */
  async list(
    options: { status?: string; orderId?: string; limit?: number; cursor?: string } = {},
  ): Promise<RefundPage> {
    const limit = parseLimit(options.limit);
    const statuses = parseStatusFilter(options.status, REFUND_STATUSES);
    const after =
      options.cursor === undefined ? undefined : decodeTimeCursor(REFUNDS, options.cursor);
    let q = this.ctx.db
      .selectFrom('refunds')
      .selectAll()
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit + 1);
    if (statuses) q = q.where('status', 'in', statuses);
    if (options.orderId) q = q.where('order_id', '=', options.orderId);
    if (after) q = q.where(olderThan(after));
    const { page, nextCursor } = timePage(REFUNDS, await q.execute(), limit);
    return { refunds: page.map(refundView), nextCursor };
  }

  private async answer(refundRowId: string): Promise<RefundAnswer> {
    const refund = (await findRefund(this.ctx.db, refundRowId))!;
    const order = (await findOrder(this.ctx.db, refund.order_id)) as OrderRow;
    return { refund: refundView(refund), order: await loadAdminOrder(this.ctx.db, order) };
  }

  private now(): Date {
    return this.ctx.clock();
  }

  private nextQuery(attempts: number): Date {
    const wait = Math.min(FOLLOW_UP_BASE_MS * 2 ** Math.min(attempts, 20), FOLLOW_UP_MAX_MS);
    return new Date(this.now().getTime() + wait);
  }
}

function checkReason(reason: string | null | undefined): string | null {
  if (reason === undefined || reason === null || reason.trim() === '') return null;
  if ([...reason].length > MAX_REFUND_REASON_CHARS) {
    throw validation(`reason must be at most ${MAX_REFUND_REASON_CHARS} characters`);
  }
  return reason;
}

export type { RefundStatus };
