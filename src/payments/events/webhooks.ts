/**
 * Webhook delivery: each `webhook_deliveries` row is POSTed to its URL, signed
 * (webhook-signature.ts), until the receiver answers 2xx in time. Failures are retried with
 * exponential backoff and jitter (webhook-retry.ts) for about a day from the first attempt,
 * then the delivery is `dead` and can be replayed. A receiver that is down, slow or answers 500
 * loses nothing; one that is slow does not hold up the others (deliveries run side by side).
 */

import type { Selectable } from 'kysely';
import { DELIVERY_STATUSES, type Delivery, type DeliveryStatus } from '../../contract/index.js';
import type { WebhookDeliveriesTable } from '../../store/schema.js';
import type { PaymentsContext, WebhookSettings } from '../context.js';
import { notFound } from '../lib/errors.js';
import { newestFirst, parseLimit } from '../lib/page-cursor.js';
import type { RunSummary } from '../lib/run-summary.js';
import { parseStatusFilter } from '../lib/status-filter.js';
import { redactUrl, redactUrlsIn } from '../lib/url-redaction.js';
import { drainBatches } from './drain.js';
import { eventFromRow } from './outbox.js';
import { DEFAULT_WEBHOOK_RETRY, nextRetryAt } from './webhook-retry.js';
import {
  signWebhook,
  WEBHOOK_EVENT_ID_HEADER,
  WEBHOOK_EVENT_TYPE_HEADER,
  WEBHOOK_SIGNATURE_HEADER,
} from './webhook-signature.js';

export type DeliveryRow = Selectable<WebhookDeliveriesTable>;

/** What one POST came to: the receiver's status, or why there was none. */
export type SendResult = { status: number } | { error: string };

/** Sends one webhook; swappable in tests. Never throws. */
export type WebhookSender = (
  url: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
) => Promise<SendResult>;

export const fetchSender: WebhookSender = async (url, headers, body, timeoutMs) => {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers,
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.body?.cancel().catch(() => undefined);
    return { status: res.status };
  } catch (err) {
    const e = err as { name?: string; cause?: { code?: string }; message?: string };
    if (e.name === 'TimeoutError' || e.name === 'AbortError') {
      return { error: `no answer within ${timeoutMs} ms` };
    }
    return { error: (e.cause?.code ?? e.message ?? 'request failed').slice(0, 200) };
  }
};

const BATCH = 50;
/** How long one run of the delivery job may keep taking full batches (deliveries wait on HTTP). */
const DRAIN_BUDGET_MS = 5000;
/** The cursor name of `GET /admin/v1/webhooks/deliveries`. */
const DELIVERIES = 'webhook-deliveries';
const DEFAULT_TIMEOUT_MS = 10_000;
/** A claimed delivery is not picked again for this long (a crashed sender's lease runs out). */
const LEASE_MS = 60_000;

export function deliveryView(r: DeliveryRow): Delivery {
  return {
    id: r.id,
    eventId: r.event_id,
    eventType: r.event_type,
    url: redactUrl(r.url),
    status: r.status as DeliveryStatus,
    attempts: r.attempts,
    lastAttemptAt: r.last_attempt_at,
    nextAttemptAt: r.next_attempt_at,
    lastStatusCode: r.last_status_code,
    lastError: r.last_error === null ? null : redactUrlsIn(r.last_error),
    createdAt: r.created_at,
  };
}

export class Webhooks {
  constructor(
    private readonly ctx: PaymentsContext,
    private readonly send: WebhookSender = fetchSender,
  ) {}

  private get settings(): WebhookSettings | undefined {
    return this.ctx.settings.webhooks;
  }

  /** The delivery job: batch after batch of due deliveries while they last (up to 5 s a run). */
  deliverAll(): Promise<RunSummary> {
    return drainBatches(() => this.deliver(), BATCH, DRAIN_BUDGET_MS);
  }

  /** One batch: sends each due delivery once. */
  async deliver(): Promise<RunSummary> {
    const settings = this.settings;
    const summary: RunSummary = { examined: 0, changed: 0, errors: 0 };
    if (!settings || settings.secrets.length === 0) return summary;
    const now = this.ctx.clock();
    const due = await this.ctx.db
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('status', 'in', ['pending', 'failed'])
      .where('next_attempt_at', '<=', now.toISOString())
      .orderBy('next_attempt_at')
      .limit(BATCH)
      .execute();
    summary.examined = due.length;
    const queue = [...due];
    const worker = async () => {
      for (let row = queue.shift(); row; row = queue.shift()) {
        try {
          if (await this.attempt(row, settings)) summary.changed++;
        } catch (err) {
          summary.errors++;
          this.ctx.logger.warn({ err, deliveryId: row.id }, 'webhook delivery failed to run');
        }
      }
    };
    await Promise.all(Array.from({ length: settings.concurrency ?? 8 }, worker));
    return summary;
  }

  /** Claims, sends and records one delivery; resolves true when it was delivered. */
  private async attempt(row: DeliveryRow, settings: WebhookSettings): Promise<boolean> {
    const { db } = this.ctx;
    const start = this.ctx.clock();
    const claimed = await db
      .updateTable('webhook_deliveries')
      .set({ next_attempt_at: new Date(start.getTime() + LEASE_MS).toISOString() })
      .where('id', '=', row.id)
      .where('status', '=', row.status)
      .where('next_attempt_at', '=', row.next_attempt_at)
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) !== 1) return false; // another sender has it
    const event = await db
      .selectFrom('order_events')
      .selectAll()
      .where('id', '=', row.event_id)
      .executeTakeFirst();
    if (!event) {
      await this.record(row, start, { error: 'the event no longer exists' }, settings, true);
      return false;
    }
    const body = JSON.stringify(eventFromRow(event));
    const headers = {
      'content-type': 'application/json; charset=utf-8',
      'user-agent': 'minipay-webhooks/1',
      [WEBHOOK_EVENT_ID_HEADER]: event.id,
      [WEBHOOK_EVENT_TYPE_HEADER]: event.type,
      [WEBHOOK_SIGNATURE_HEADER]: signWebhook(
        settings.secrets,
        body,
        Math.floor(start.getTime() / 1000),
      ),
    };
    const result = await this.send(
      row.url,
      headers,
      body,
      settings.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    );
    return this.record(row, start, result, settings, false);
  }

  private async record(
    row: DeliveryRow,
    startedAt: Date,
    result: SendResult,
    settings: WebhookSettings,
    giveUp: boolean,
  ): Promise<boolean> {
    const now = this.ctx.clock();
    const ok = 'status' in result && result.status >= 200 && result.status <= 299;
    const attempts = row.attempts + 1;
    const first = row.first_attempt_at ?? startedAt.toISOString();
    const next =
      ok || giveUp
        ? null
        : nextRetryAt(attempts, new Date(first), now, settings.retry ?? DEFAULT_WEBHOOK_RETRY);
    const status: DeliveryStatus = ok ? 'delivered' : next ? 'failed' : 'dead';
    await this.ctx.db
      .updateTable('webhook_deliveries')
      .set({
        status,
        attempts,
        first_attempt_at: first,
        last_attempt_at: startedAt.toISOString(),
        next_attempt_at: next?.toISOString() ?? null,
        last_status_code: 'status' in result ? result.status : null,
        last_error: ok
          ? null
          : 'status' in result
            ? `answered HTTP ${result.status}`
            : result.error,
      })
      .where('id', '=', row.id)
      .execute();
    this.ctx.metrics.inc('minipay_webhook_deliveries_total', { outcome: status });
    if (status === 'dead') {
      this.ctx.logger.error(
        { deliveryId: row.id, eventId: row.event_id, url: redactUrl(row.url) },
        'webhook delivery dead-lettered; replay it from the admin API',
      );
    }
    return ok;
  }

  /** `GET /admin/v1/webhooks/deliveries`: newest first. */
  async list(
    options: { status?: string; eventId?: string; limit?: string | number; cursor?: string } = {},
  ): Promise<{ deliveries: Delivery[]; nextCursor: string | null }> {
    const limit = parseLimit(options.limit);
    const statuses = parseStatusFilter(options.status, DELIVERY_STATUSES);
    let q = this.ctx.db.selectFrom('webhook_deliveries').selectAll();
    if (statuses) q = q.where('status', 'in', statuses);
    if (options.eventId) q = q.where('event_id', '=', options.eventId);
    const { page, nextCursor } = await newestFirst(DELIVERIES, q, limit, options.cursor);
    return { deliveries: page.map(deliveryView), nextCursor };
  }

  /** Queues a delivery again now, with a fresh retry window (any status). */
  async replay(id: string): Promise<Delivery> {
    const now = this.ctx.clock().toISOString();
    const r = await this.ctx.db
      .updateTable('webhook_deliveries')
      .set({ status: 'pending', attempts: 0, first_attempt_at: null, next_attempt_at: now })
      .where('id', '=', id)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) throw notFound('webhook delivery');
    const row = await this.ctx.db
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    return deliveryView(row);
  }
}
