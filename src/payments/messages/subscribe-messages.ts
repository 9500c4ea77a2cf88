/**
 * Subscribe messages (订阅消息) on payment and refund success. An outbox subscriber fills the
 * configured template with the order's values as they are at the event and queues the message
 * (`subscribe_messages`, one per event); a job sends it, so neither the payment flow nor the
 * outbox ever waits on WeChat. What WeChat answers is recorded:
 * - sent;
 * - refused, for good: the user did not subscribe or used the subscription up (43101), a value
 *   or the template WeChat refuses (47003, 40037, ...), any errcode minipay does not know;
 * - pending again while WeChat could not take it for now (system busy, a frequency limit, no
 *   answer, a token the token manager could not replace at once): sent again with backoff,
 *   up to `maxAttempts`, then failed;
 * - failed at once when the setup is wrong (IP whitelist, permissions): a person must act.
 * A send whose answer was lost may have reached the user; its next attempt may then meet 43101
 * (a one-time subscription is spent), which the record says.
 */

import type {
  Order,
  Refund,
  SubscribeKind,
  SubscribeMessageEntry,
  SubscribeMessageList,
  SubscribeMessageQuery,
  SubscribeOutcome,
} from '../../contract/index.js';
import {
  buildTemplateData,
  MiniProgramApiError,
  type SubscribeMessage,
  type SubscribeSendResult,
  type TemplateValue,
} from '../../miniprogram-api/index.js';
import type { PaymentsContext } from '../context.js';
import type { MinipayEvent } from '../events/events.js';
import { notFound } from '../lib/errors.js';
import { newestFirst, parseLimit } from '../lib/page-cursor.js';
import type { RunSummary } from '../lib/run-summary.js';
import { findOrder } from '../orders/orders-repo.js';
import type { MiniProgramPlatform } from '../platform/platform.js';
import {
  type AttemptResult,
  claimAttempt,
  dueMessages,
  type MessageRow,
  messagesQuery,
  type NewMessage,
  queueMessages,
  recordAttempt,
} from './subscribe-messages-repo.js';
import {
  DEFAULT_SUBSCRIBE_RETRY,
  type SubscribeRetry,
  type SubscribeSettings,
  type SubscribeTemplate,
} from './subscribe-settings.js';

/** How long a claimed attempt is held before another instance may take it (a crash mid-call). */
const CLAIM_MS = 60_000;
const BATCH = 20;
/** Errors after which WeChat may have delivered the message. */
const ANSWER_LOST = /^(TIMEOUT|NETWORK|HTTP_5\d\d|MALFORMED_RESPONSE)$/;

/** A message an event asks for, before the buyer's openid is read. */
interface WantedMessage {
  eventId: string;
  kind: SubscribeKind;
  template: SubscribeTemplate;
  order: Order;
  values: Record<string, TemplateValue | undefined>;
}

export class SubscribeMessages {
  private readonly retry: SubscribeRetry;

  constructor(
    private readonly ctx: PaymentsContext,
    private readonly platform: MiniProgramPlatform,
    private readonly settings: SubscribeSettings,
  ) {
    this.retry = { ...DEFAULT_SUBSCRIBE_RETRY, ...ctx.settings.subscribeRetry };
  }

  /** The template ids the mini program asks the user to accept at checkout. */
  templateIds(): { paid: string | null; refunded: string | null } {
    return {
      paid: this.settings.paid?.templateId ?? null,
      refunded: this.settings.refunded?.templateId ?? null,
    };
  }

  /**
   * The outbox subscriber: queues the messages of a relay batch's events (nothing is sent
   * here), reading the buyers' openids in one query and writing the messages in one statement.
   */
  async onEvents(events: readonly MinipayEvent[]): Promise<void> {
    const wanted = events.flatMap((event) => this.wanted(event) ?? []);
    if (wanted.length === 0) return;
    const rows = await this.ctx.db
      .selectFrom('orders')
      .select(['id', 'openid'])
      .where('id', 'in', [...new Set(wanted.map((w) => w.order.id))])
      .execute();
    const openids = new Map(rows.map((r) => [r.id, r.openid]));
    const at = this.ctx.clock();
    const messages = wanted.flatMap((w) => {
      const openid = openids.get(w.order.id);
      return openid === undefined ? [] : [this.message(w, openid, at)];
    });
    const queued = await queueMessages(this.ctx.db, messages);
    // A message that could not be built is counted when recorded (once, whatever the repeats).
    for (const m of messages) {
      if (m.outcome !== 'pending' && queued.has(m.eventId)) this.count(m.kind, m.outcome);
    }
  }

  /** The message an event asks for, if a template is configured for it. */
  private wanted(event: MinipayEvent): WantedMessage | undefined {
    const order = event.data.order as Order;
    if (event.type === 'order.paid' && this.settings.paid) {
      const values = this.values(order);
      return { eventId: event.id, kind: 'paid', template: this.settings.paid, order, values };
    }
    if (event.type === 'refund.succeeded' && this.settings.refunded) {
      const refund = event.data.refund as Refund;
      const values = {
        ...this.values(order),
        refundFen: refund.amountFen,
        refundedAt: new Date(refund.succeededAt ?? event.createdAt),
      };
      return {
        eventId: event.id,
        kind: 'refunded',
        template: this.settings.refunded,
        order,
        values,
      };
    }
    return undefined;
  }

  /** The job: one attempt of each due message. */
  async sendDue(): Promise<RunSummary> {
    const rows = await dueMessages(this.ctx.db, this.ctx.clock(), BATCH);
    const summary: RunSummary = { examined: rows.length, changed: 0, errors: 0 };
    for (const row of rows) {
      const outcome = await this.attempt(row);
      if (outcome === 'sent') summary.changed++;
      else if (outcome !== undefined) summary.errors++;
    }
    return summary;
  }

  /** Newest first, of one outcome or one order (the admin API). */
  async list(query: SubscribeMessageQuery): Promise<SubscribeMessageList> {
    const limit = parseLimit(query.limit);
    if (query.orderId !== undefined && !(await findOrder(this.ctx.db, query.orderId))) {
      throw notFound('order');
    }
    const q = messagesQuery(this.ctx.db, query);
    const { page, nextCursor } = await newestFirst('subscribe-messages', q, limit, query.cursor);
    return { messages: page.map(messageEntry), nextCursor };
  }

  private values(order: Order): Record<string, TemplateValue | undefined> {
    return {
      outTradeNo: order.outTradeNo,
      description: order.description,
      productName: order.items[0]?.name ?? order.description,
      totalFen: order.totalFen,
      paidAt: order.paidAt ? new Date(order.paidAt) : undefined,
      storeName: this.ctx.settings.storeName,
    };
  }

  /**
   * The template filled with the order's values; a mapping or a value WeChat would refuse is
   * recorded as such, never sent.
   */
  private message(w: WantedMessage, openid: string, at: Date): NewMessage {
    const base = {
      eventId: w.eventId,
      orderId: w.order.id,
      kind: w.kind,
      templateId: w.template.templateId,
      openid,
      at,
    };
    try {
      const message: SubscribeMessage = {
        toOpenid: openid,
        templateId: w.template.templateId,
        data: buildTemplateData(w.template.fields, w.values),
        ...(this.settings.page && { page: `${this.settings.page}?orderId=${w.order.id}` }),
        ...(this.settings.miniprogramState && { miniprogramState: this.settings.miniprogramState }),
      };
      return { ...base, message: JSON.stringify(message), outcome: 'pending' };
    } catch (err) {
      if (!(err instanceof MiniProgramApiError)) throw err;
      const outcome = err.kind === 'config' ? 'failed' : 'refused';
      return { ...base, message: null, outcome, code: err.code, detail: err.message };
    }
  }

  /** One attempt of a due message; its outcome after, or undefined when another took it. */
  private async attempt(due: MessageRow): Promise<SubscribeOutcome | undefined> {
    const now = this.ctx.clock();
    const row = await claimAttempt(this.ctx.db, due, now, new Date(now.getTime() + CLAIM_MS));
    if (!row) return undefined;
    let result: AttemptResult;
    try {
      const message = JSON.parse(row.message ?? 'null') as SubscribeMessage | null;
      if (!message) throw new Error(`subscribe message ${row.id} has no message to send`);
      result = this.answered(row, await this.platform.sendSubscribeMessage(message));
    } catch (err) {
      result = this.failed(row, err);
    }
    await recordAttempt(this.ctx.db, row, result, this.ctx.clock());
    this.count(row.kind, result.outcome === 'pending' ? 'retry' : result.outcome);
    return result.outcome;
  }

  private answered(row: MessageRow, answer: SubscribeSendResult): AttemptResult {
    if (answer.sent) return { outcome: 'sent', code: null, detail: null, nextAttemptAt: null };
    const code = answer.errcode === undefined ? answer.refusal : String(answer.errcode);
    const lost =
      answer.errcode === 43101 && row.code !== null && ANSWER_LOST.test(row.code)
        ? ` (an earlier attempt's answer was lost (${row.code}): that one may have reached the user)`
        : '';
    return { outcome: 'refused', code, detail: `${answer.message}${lost}`, nextAttemptAt: null };
  }

  private failed(row: MessageRow, err: unknown): AttemptResult {
    const known = err instanceof MiniProgramApiError ? err : undefined;
    if (!known) this.ctx.logger.error({ err, orderId: row.order_id }, 'subscribe message failed');
    else this.ctx.logger.warn({ code: known.code, orderId: row.order_id }, known.message);
    const code = known?.code ?? 'INTERNAL';
    const message = known?.message ?? 'minipay failed to send it; see its log';
    if (known?.kind === 'rejected') {
      return { outcome: 'refused', code, detail: message, nextAttemptAt: null };
    }
    if (known?.kind === 'config') {
      return { outcome: 'failed', code, detail: message, nextAttemptAt: null };
    }
    if (row.attempts >= this.retry.maxAttempts) {
      const detail = `gave up after ${row.attempts} attempts: ${message}`;
      return { outcome: 'failed', code, detail, nextAttemptAt: null };
    }
    const backoff = this.retry.retryBaseMs * 2 ** (row.attempts - 1);
    const wait = Math.max(known?.retryAfterMs ?? 0, Math.min(this.retry.retryCapMs, backoff));
    const nextAttemptAt = new Date(this.ctx.clock().getTime() + wait);
    return { outcome: 'pending', code, detail: message, nextAttemptAt };
  }

  private count(kind: string, outcome: string): void {
    this.ctx.metrics.inc('minipay_subscribe_messages_total', { kind, outcome });
  }
}

export function messageEntry(row: MessageRow): SubscribeMessageEntry {
  return {
    id: row.id,
    orderId: row.order_id,
    kind: row.kind as SubscribeKind,
    templateId: row.template_id,
    outcome: row.outcome as SubscribeOutcome,
    attempts: row.attempts,
    nextAttemptAt: row.outcome === 'pending' ? row.next_attempt_at : null,
    result: row.code === null ? null : { code: row.code, message: row.detail ?? '' },
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
