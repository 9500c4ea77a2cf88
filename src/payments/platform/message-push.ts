/**
 * Message push from WeChat (消息推送) at `/wechat/v1/events`: the URL check (GET) and each push
 * (POST), verified and decrypted by `minipay/miniprogram-api` (`verifyPushUrl`, `readPush`).
 * A push is recorded once by a key of its content (its ciphertext in safe mode): WeChat sends
 * a push again until it hears `success`, and a repeat is acknowledged without acting. A push
 * older or newer than `maxAgeMs` is refused: a captured push cannot be replayed later.
 *
 * The trade-management events act on the order: `trade_manage_order_settlement` at its
 * settled stage records receipt and settlement on the shipment (events `order.receipt_confirmed`,
 * `order.settled`); the other trade events and every other message are recorded.
 */
import { createHash } from 'node:crypto';
import type { WechatPushEntry } from '../../contract/index.js';
import {
  checkPushConfig,
  MiniProgramApiError,
  type PushQuery,
  readPush,
  type VerifiedPush,
  verifyPushUrl,
} from '../../miniprogram-api/index.js';
import type { PaymentsContext } from '../context.js';
import { DomainError, notFound } from '../lib/errors.js';
import { findOrder } from '../orders/orders-repo.js';
import type { Shipping } from '../shipping/shipping.js';
import { DEFAULT_PUSH_MAX_AGE_MS, type PushSettings } from './push-settings.js';
import { pushesOfOrder, recordPush, setPushOutcome } from './pushes-repo.js';

export type PushOutcome = 'applied' | 'recorded' | 'unknown_order' | 'repeat';

export class MessagePush {
  private readonly config: PushSettings | undefined;

  constructor(
    private readonly ctx: PaymentsContext,
    private readonly shipping: Shipping | undefined,
  ) {
    this.config = ctx.settings.push;
    if (this.config) checkPushConfig(this.config);
  }

  /** The URL check: the `echostr` to answer. */
  verifyUrl(query: PushQuery): string {
    return this.guard(() => verifyPushUrl(query, this.configured()));
  }

  /** Verifies, records and applies one push. */
  async handle(query: PushQuery, body: Buffer): Promise<PushOutcome> {
    const config = this.configured();
    const push = this.guard(() => readPush(query, body, config));
    const now = this.ctx.clock();
    const maxAge = config.maxAgeMs ?? DEFAULT_PUSH_MAX_AGE_MS;
    if (Math.abs(now.getTime() - push.timestamp * 1000) > maxAge) {
      throw new DomainError(
        400,
        'PUSH_TOO_OLD',
        `message push: the timestamp is more than ${maxAge / 60_000} minutes from this server's clock; refused (a replay, or a clock to fix)`,
      );
    }
    const key = dedupeKey(body);
    const event = push.event;
    const transactionId = 'transactionId' in event ? event.transactionId : null;
    const fresh = await recordPush(this.ctx.db, {
      dedupe_key: key,
      event: event.type === 'generic' ? (event.event ?? event.msgType) : event.type,
      transaction_id: transactionId,
      order_id: null,
      outcome: 'recorded',
      message: push.message,
      sent_at: new Date(push.timestamp * 1000).toISOString(),
      received_at: now.toISOString(),
    });
    if (!fresh) return 'repeat';
    const outcome = await this.apply(push);
    // A push about a known order is linked to it even when it changed nothing (the console lists it).
    if (outcome.outcome !== 'recorded' || outcome.orderId !== null) {
      await setPushOutcome(this.ctx.db, key, outcome.outcome, outcome.orderId);
    }
    this.ctx.metrics.inc('minipay_wechat_pushes_total', {
      event: push.event.type,
      outcome: outcome.outcome,
    });
    return outcome.outcome;
  }

  /** The pushes about one order, oldest first (the console's order page). */
  async ofOrder(orderId: string): Promise<WechatPushEntry[]> {
    if (!(await findOrder(this.ctx.db, orderId))) throw notFound('order');
    return (await pushesOfOrder(this.ctx.db, orderId)).map((row) => ({
      id: row.id,
      event: row.event,
      outcome: row.outcome as WechatPushEntry['outcome'],
      message: row.message,
      sentAt: row.sent_at,
      receivedAt: row.received_at,
    }));
  }

  private async apply(
    push: VerifiedPush,
  ): Promise<{ outcome: PushOutcome; orderId: string | null }> {
    const event = push.event;
    if (event.type === 'generic' || event.type === 'trade_manage_remind_access_api') {
      return { outcome: 'recorded', orderId: null };
    }
    const order = await this.ctx.db
      .selectFrom('orders')
      .select('id')
      .where('transaction_id', '=', event.transactionId)
      .executeTakeFirst();
    if (!order) return { outcome: 'unknown_order', orderId: null };
    if (
      event.type === 'trade_manage_order_settlement' &&
      event.stage === 'settled' &&
      this.shipping
    ) {
      await this.shipping.settled(
        event.transactionId,
        event.confirmReceiveTime,
        event.settlementTime!,
      );
      return { outcome: 'applied', orderId: order.id };
    }
    if (event.type === 'trade_manage_remind_shipping') {
      this.ctx.logger.warn(
        { orderId: order.id },
        'WeChat reminds: this paid order has no shipping info after 48 hours',
      );
    }
    return { outcome: 'recorded', orderId: order.id };
  }

  private configured(): PushSettings {
    if (!this.config) {
      throw new DomainError(
        503,
        'PUSH_NOT_CONFIGURED',
        'message push is not configured: set MINIPAY_PUSH_TOKEN (and MINIPAY_PUSH_ENCODING_AES_KEY for safe mode) as in the mini program admin (开发管理 → 消息推送)',
      );
    }
    return this.config;
  }

  /** A push that does not verify is the caller's fault: a 400 (or 401) with what was wrong. */
  private guard<T>(read: () => T): T {
    try {
      return read();
    } catch (err) {
      if (!(err instanceof MiniProgramApiError)) throw err;
      const status = err.code === 'BAD_SIGNATURE' ? 401 : err.code === 'TOO_LARGE' ? 413 : 400;
      throw new DomainError(status, `PUSH_${err.code}`, err.message);
    }
  }
}

/** The content's key: its bytes as sent (a safe-mode push's ciphertext carries a random prefix). */
function dedupeKey(body: Buffer): string {
  return createHash('sha256').update(body).digest('hex');
}
