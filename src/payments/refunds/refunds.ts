/**
 * Refunds minipay asks for (admin API) and their follow-up. The order of things is what keeps
 * money safe:
 * 1. the refund row, with its `out_refund_no`, is written (and the amount reserved against
 *    the order) BEFORE WeChat is asked;
 * 2. WeChat is asked with that `out_refund_no`, and again with the same number and amounts
 *    whenever an answer is ambiguous, so WeChat sees one refund however often it is retried;
 * 3. an answer that never came leaves the refund PROCESSING; the follow-up job (refundquery)
 *    settles it, or sends it again when WeChat never got it. Nothing is ever deleted;
 * 4. a refund WeChat refuses for now (`later`: NOTENOUGH, FREQUENCY_LIMITED) stays PENDING with
 *    why, its amount reserved, and is sent again with the SAME out_refund_no after a back-off
 *    (WeChat's rule, docs/wechat-rules.md), or now by an admin, until an admin gives it up
 *    (FAILED, the amount free again) once WeChat confirms it has no such refund.
 */
import {
  REFUND_STATUSES,
  REFUNDABLE_STATUSES,
  type Refund,
  type RefundAnswer,
  type RefundList,
} from '../../contract/index.js';
import { outRefundNo } from '../../wechatpay/ids.js';
import { type PaymentsContext, refundNotifyUrlFor } from '../context.js';
import {
  GatewayError,
  type RefundAccepted,
  type RefundStatus as WechatRefundStatus,
} from '../gateway/gateway.js';
import { logged } from '../gateway/gateway-log.js';
import { gatewayOfOrder } from '../gateway/order-gateway.js';
import { IdempotencyKeys } from '../idempotency/idempotency-repo.js';
import {
  checkKey,
  idempotent,
  type KeyLink,
  type KeyRef,
  requestHash,
} from '../idempotency/idempotent-request.js';
import { crashPoint } from '../lib/crash-points.js';
import { DomainError, notFound, validation } from '../lib/errors.js';
import { newestFirst, parseLimit } from '../lib/page-cursor.js';
import { retrying } from '../lib/retry.js';
import type { RunSummary } from '../lib/run-summary.js';
import { parseStatusFilter } from '../lib/status-filter.js';
import type { OrderRow } from '../orders/order-view.js';
import { findOrder } from '../orders/orders-repo.js';
import { checkReason, refusalFor } from './refund-amounts.js';
import { followUpAt, RefundFollowUp } from './refund-follow-up.js';
import { type RefundRow, refundView } from './refund-view.js';
import {
  deferRefund,
  findRefund,
  GIVEN_UP,
  insertRefund,
  loadAdminOrder,
  markProcessing,
  type RefundOutcome,
  reopenGivenUp,
  type SettleResult,
  settleRefund,
} from './refunds-repo.js';

/** The cursor name of `GET /admin/v1/refunds`. */
const REFUNDS = 'refunds';
/** A PENDING refund is left to its request this long before the follow-up takes it over. */
const PENDING_GRACE_MS = 2 * 60_000;
/**
 * A refund refused for now is sent again after 1, 2, 4, … minutes of WeChat time, at most an
 * hour (WeChat: refunds of one order a minute apart; a balance takes a while to top up).
 */
const RETRY_BASE_MS = 60_000;
const RETRY_MAX_MS = 3600_000;

export interface RefundInput {
  amountFen: number;
  reason?: string | null;
}

export class Refunds {
  private readonly keys: IdempotencyKeys;
  private readonly followUps: RefundFollowUp;

  constructor(private readonly ctx: PaymentsContext) {
    this.keys = new IdempotencyKeys(ctx.db);
    this.followUps = new RefundFollowUp(ctx, this);
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
    const ref: KeyRef = {
      scope: `admin:order:${orderId}:refunds`,
      key,
      hash: requestHash({ amountFen, reason }),
    };
    const { keys, ctx } = this;
    return idempotent<RefundRow, RefundAnswer>(
      { keys, ref, now: ctx.clock(), logger: ctx.logger, claimInCreate: false },
      {
        create: (link) => this.reserve(orderId, amountFen, reason, link),
        load: (id) => findRefund(ctx.db, id),
        finish: async (refund) => {
          if (refund.status === 'PENDING') await this.submit(refund);
          return this.answer(refund.id);
        },
      },
    );
  }

  /** Records the refund and reserves its amount, or refuses with what can still be refunded. */
  private async reserve(
    orderId: string,
    amountFen: number,
    reason: string | null,
    link: KeyLink,
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
        if (!REFUNDABLE_STATUSES.includes(order.status)) {
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
      link,
    );
  }

  /**
   * Asks WeChat for a recorded refund, with its own `out_refund_no` every time. Accepted or
   * unanswered: PROCESSING; refused for now: PENDING with why, sent again later; refused:
   * FAILED (its amount is free again).
   */
  async submit(refund: RefundRow): Promise<void> {
    const order = (await findOrder(this.ctx.db, refund.order_id))!;
    const { settings } = this.ctx;
    const ask = () =>
      logged(
        this.ctx,
        order.id,
        'refund',
        () =>
          this.ctx.gateway.forApi(order.wechatpay_api).refund({
            outTradeNo: order.out_trade_no,
            outRefundNo: refund.out_refund_no,
            totalFen: order.total_fen,
            refundFen: refund.amount_fen,
            ...(refund.reason !== null && { reason: refund.reason }),
            ...(refundNotifyUrlFor(settings, order.wechatpay_api) && {
              notifyUrl: refundNotifyUrlFor(settings, order.wechatpay_api),
            }),
            ...(settings.refundAccount && { account: settings.refundAccount }),
          }),
        (a) => ({ outRefundNo: a.outRefundNo, refundId: a.refundId, refundFen: a.refundFen }),
      );
    crashPoint('refund-before-wechat');
    let accepted: RefundAccepted;
    try {
      accepted = await retrying(
        ask,
        { attempts: settings.refundAttempts, delayMs: settings.retryDelayMs },
        unanswered,
      );
    } catch (err) {
      if (!(err instanceof GatewayError)) throw err;
      return this.notAccepted(refund, err);
    }
    crashPoint('refund-after-wechat');
    await this.atWechat(refund, accepted.refundId);
    this.ctx.metrics.inc('minipay_refunds_total', { outcome: 'accepted' });
  }

  /** WeChat did not take the refund: unanswered (PROCESSING), refused for now, or refused. */
  private async notAccepted(refund: RefundRow, err: GatewayError): Promise<void> {
    if (unanswered(err)) {
      // WeChat may have it: the follow-up asks (refundquery) and sends it again if not.
      await this.atWechat(refund, null);
      this.ctx.metrics.inc('minipay_refunds_total', { outcome: 'unanswered' });
      this.ctx.logger.warn(
        { refundId: refund.id, code: err.code },
        'refund request unanswered; the follow-up will settle it',
      );
      return;
    }
    if (err.kind === 'later') return this.deferred(refund, err);
    await settleRefund(
      this.ctx.db,
      refund.id,
      { status: 'FAILED', failure: { code: err.code, message: err.message } },
      this.now(),
    );
    this.ctx.metrics.inc('minipay_refunds_total', { outcome: 'refused' });
  }

  /**
   * WeChat has (or may have) the refund: PROCESSING. A refund given up meanwhile, while this
   * request was on its way, is taken back up: WeChat's word wins over the give-up.
   */
  private async atWechat(refund: RefundRow, refundId: string | null): Promise<void> {
    const next = followUpAt(this.now(), 0);
    if (await markProcessing(this.ctx.db, refund, refundId, next, this.now())) return;
    if (await reopenGivenUp(this.ctx.db, refund, refundId, next, this.now())) {
      this.ctx.metrics.inc('minipay_refunds_total', { outcome: 'reopened' });
      this.ctx.logger.warn(
        { refundId: refund.id },
        'WeChat accepted a refund that was given up while the request was on its way: PROCESSING again',
      );
    }
  }

  /** Refused for now: PENDING with why, sent again after the back-off. */
  private async deferred(refund: RefundRow, err: GatewayError): Promise<void> {
    const current = (await findRefund(this.ctx.db, refund.id)) ?? refund;
    const wait = Math.min(
      (RETRY_BASE_MS / this.ctx.settings.wechatTimeScale) *
        2 ** Math.min(current.query_attempts, 20),
      RETRY_MAX_MS / this.ctx.settings.wechatTimeScale,
    );
    const next = new Date(this.now().getTime() + wait);
    const reason = { code: err.code, message: err.message };
    await deferRefund(this.ctx.db, current, reason, next, this.now());
    this.ctx.metrics.inc('minipay_refunds_total', { outcome: 'deferred' });
    this.ctx.logger.warn(
      { refundId: refund.id, code: err.code, nextAttemptAt: next.toISOString() },
      'WeChat refused the refund for now; it is sent again later with the same out_refund_no',
    );
  }

  /**
   * `POST /admin/v1/refunds/:id/retry`: sends a waiting (PENDING) refund to WeChat now, with
   * its own out_refund_no; answers the refund after it.
   */
  async retryNow(id: string): Promise<Refund> {
    const refund = await this.waiting(id, 'sent again');
    await this.submit(refund);
    this.ctx.metrics.inc('minipay_admin_actions_total', { action: 'refund_retry' });
    return this.get(id);
  }

  /**
   * `POST /admin/v1/refunds/:id/give-up`: a waiting (PENDING) refund becomes FAILED and its
   * amount free again, once WeChat confirms it has no such refund (refundquery); when WeChat
   * has it, its word is applied instead and the answer is a 409.
   */
  async giveUp(id: string): Promise<Refund> {
    const refund = await this.waiting(id, 'given up');
    try {
      const gateway = await gatewayOfOrder(this.ctx, refund.order_id);
      const status = await logged(this.ctx, refund.order_id, 'refundquery', () =>
        gateway.queryRefund(refund.out_refund_no),
      );
      await this.apply(refund, status);
      throw new DomainError(
        409,
        'REFUND_AT_WECHAT',
        `WeChat has this refund (${status.state}); it cannot be given up`,
      );
    } catch (err) {
      if (!(err instanceof GatewayError)) throw err;
      if (err.code !== 'REFUNDNOTEXIST') {
        throw new DomainError(
          502,
          'WECHATPAY_UNAVAILABLE',
          `could not confirm with WeChat Pay that it has no such refund (${err.code}); try again`,
        );
      }
    }
    const attempts = refund.query_attempts;
    const last = refund.retry_code ? `; WeChat last said ${refund.retry_code}` : '';
    const outcome = await settleRefund(
      this.ctx.db,
      refund.id,
      {
        status: 'FAILED',
        failure: {
          code: GIVEN_UP,
          message: `given up by an admin after ${attempts} attempts${last}`,
        },
      },
      this.now(),
    );
    if (outcome !== 'settled') throw notWaiting(refund.id, (await this.get(id)).status, 'given up');
    this.ctx.metrics.inc('minipay_admin_actions_total', { action: 'refund_give_up' });
    this.ctx.logger.info({ refundId: id }, 'admin gave up a refund');
    return this.get(id);
  }

  /** A PENDING refund of minipay's own, else 404 / 409. */
  private async waiting(id: string, what: string): Promise<RefundRow> {
    const refund = /^[A-Za-z0-9_-]{1,64}$/.test(id) ? await findRefund(this.ctx.db, id) : undefined;
    if (!refund) throw notFound('refund');
    if (refund.status !== 'PENDING' || refund.source !== 'minipay') {
      throw notWaiting(id, refund.status, what);
    }
    return refund;
  }

  /** Applies WeChat's word on a refund (notify or refundquery). */
  async apply(refund: RefundRow, status: WechatRefundStatus): Promise<SettleResult | 'processing'> {
    if (status.state === 'PROCESSING') {
      if (refund.status === 'PENDING' || (status.refundId && !refund.refund_id)) {
        await markProcessing(
          this.ctx.db,
          refund,
          status.refundId ?? null,
          followUpAt(this.now(), refund.query_attempts),
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
  followUp(): Promise<RunSummary> {
    return this.followUps.run();
  }

  async get(id: string): Promise<Refund> {
    const row = await findRefund(this.ctx.db, id);
    if (!row) throw notFound('refund');
    return refundView(row);
  }

  /** `GET /admin/v1/refunds`: newest first, optionally by status (comma-separated). */
  async list(
    options: { status?: string; orderId?: string; limit?: string | number; cursor?: string } = {},
  ): Promise<RefundList> {
    const limit = parseLimit(options.limit);
    const statuses = parseStatusFilter(options.status, REFUND_STATUSES);
    let q = this.ctx.db.selectFrom('refunds').selectAll();
    if (statuses) q = q.where('status', 'in', statuses);
    if (options.orderId) q = q.where('order_id', '=', options.orderId);
    const { page, nextCursor } = await newestFirst(REFUNDS, q, limit, options.cursor);
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
}

/** WeChat's answer never came or could not be trusted: it may have the refund. */
function unanswered(err: unknown): boolean {
  return err instanceof GatewayError && (err.kind === 'ambiguous' || err.kind === 'invalid');
}

function notWaiting(id: string, status: string, what: string): DomainError {
  return new DomainError(
    409,
    'REFUND_NOT_WAITING',
    `refund ${id} is ${status}; only a PENDING refund asked for through minipay can be ${what}`,
  );
}
