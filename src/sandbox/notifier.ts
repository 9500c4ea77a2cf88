/**
 * Delivers payment and refund notifications to the merchant the way WeChat does: POST the
 * XML (v2) or the signed JSON (v3, signed afresh at each attempt) to the notify URL, and until
 * the merchant answers SUCCESS (v2) or 200/204 (v3) retry on WeChat's schedule
 * (15s/15s/30s/3m/10m/20m/30m/30m/30m/60m/3h/3h/3h/6h/6h, divided by `timeScale`), with the
 * notification faults applied. Every attempt is recorded, and pending deliveries live in the
 * state, so a restarted sandbox carries on where it stopped.
 *
 * Decisions (not documented by WeChat; docs/wechat-rules.md, "Payment notifications"):
 * - 16 deliveries in all: the first at once, then one after each of the 15 intervals, so the
 *   last comes 24h4m after the first (the documented "总计 24h4m").
 * - The schedule is anchored at the due time of the first attempt, not at when each failed
 *   attempt ended, so a slow merchant does not stretch it.
 * - The reply deadline (`notifyTimeoutMs`, default 5 s as APIv3 documents) is real time and is
 *   not scaled: a merchant's server does not answer faster because the test runs faster.
 * - Refund notifications use the same schedule.
 */
import { Agent, request } from 'undici';
import { isNotificationAcknowledged } from '../wechatpay/v3/index.js';
import type { SandboxCore } from './core.js';
import { DueTimer } from './due-timer.js';
import type {
  AttemptOutcome,
  AttemptRow,
  DeliveryFormat,
  DeliveryKind,
  DeliveryRow,
  DeliveryStatus,
} from './state/delivery-store.js';
import { attemptHeaders } from './v3-notify.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** WeChat's retry intervals after a failed delivery (official notify docs). */
export const NOTIFY_RETRY_INTERVALS_MS: readonly number[] = [
  15 * SECOND,
  15 * SECOND,
  30 * SECOND,
  3 * MINUTE,
  10 * MINUTE,
  20 * MINUTE,
  30 * MINUTE,
  30 * MINUTE,
  30 * MINUTE,
  60 * MINUTE,
  3 * HOUR,
  3 * HOUR,
  3 * HOUR,
  6 * HOUR,
  6 * HOUR,
];
/** The first attempt plus one per interval. */
export const NOTIFY_MAX_ATTEMPTS = 1 + NOTIFY_RETRY_INTERVALS_MS.length;
/** With `reorderNotifies`, new notifications wait until none has arrived for this long (real ms). */
export const REORDER_HOLD_MS = 1000;
/** The second copy of a duplicated attempt follows the first within this (real ms). */
export const DUPLICATE_WITHIN_MS = 900;
/** How much of a merchant's reply the log keeps. */
export const REPLY_LOG_CHARS = 512;
/** How much of a reply is read at all (a SUCCESS XML is under 100 bytes). */
const REPLY_MAX_BYTES = 64 * 1024;

/** Decides from the merchant's answer whether the notification was accepted. */
export type ReplyJudge = (statusCode: number, body: string) => boolean;

/** One notification with all its attempts, as `GET /sandbox/v1/notifications` shows it. */
export interface NotificationLogEntry {
  id: number;
  kind: DeliveryKind;
  outTradeNo: string;
  outRefundNo: string | null;
  /** v2 (XML) or v3 (JSON with an encrypted resource). */
  format: DeliveryFormat;
  url: string;
  status: DeliveryStatus;
  /** Attempts made so far (a duplicated attempt counts once, with two copies below). */
  attemptCount: number;
  nextAttemptAt: string | null;
  createdAt: string;
  deliveredAt: string | null;
  /** The XML exactly as sent (a refund's `req_info` stays encrypted; see `fields`). */
  body: string;
  attempts: NotificationAttempt[];
}

export interface NotificationAttempt {
  attempt: number;
  /** 1, or 2 for the second copy of a duplicated attempt. */
  copy: number;
  /** When the schedule planned it (sandbox time), ISO and as epoch milliseconds. */
  dueAt: string;
  dueAtMs: number;
  /** When it was made (sandbox time). */
  at: string;
  durationMs: number;
  /** success: the merchant answered SUCCESS; fail: it answered something else; timeout: no
   *  answer in time; error: no connection; dropped: lost on purpose (dropNotifyRate). */
  outcome: AttemptOutcome;
  httpStatus: number | null;
  /** The start of the merchant's reply body. */
  reply: string | null;
  error: string | null;
}

export interface NewNotification {
  kind: DeliveryKind;
  /** Default v2. */
  format?: DeliveryFormat;
  outTradeNo: string;
  outRefundNo?: string;
  url: string;
  body: string;
}

interface CopyResult {
  outcome: AttemptOutcome;
  httpStatus: number | null;
  reply: string | null;
  error: string | null;
  startedAt: number;
  durationMs: number;
}

export class Notifier {
  private readonly timer: DueTimer;
  private readonly agent: Agent;
  private readonly inFlight = new Map<number, AbortController>();
  private closed = false;

  constructor(
    private readonly core: SandboxCore,
    private readonly judge: ReplyJudge,
  ) {
    this.agent = new Agent({ connections: 64, connect: { timeout: core.config.notifyTimeoutMs } });
    this.timer = new DueTimer(
      core.clock,
      () => core.state.deliveries.pending.nextAt(),
      () => this.runDue(),
    );
  }

  /** Resumes deliveries left pending by a previous run (those cut off mid-attempt start again). */
  start(): void {
    this.core.state.deliveries.resumeInterrupted(this.core.clock.now());
    this.timer.arm();
  }

  /** Schedules a new notification (or records it as suppressed when `send` is false). */
  enqueue(notification: NewNotification, send = true): number {
    const now = this.core.clock.now();
    const faults = this.core.faults.faults;
    let firstAt = now + faults.delayNotifyMs;
    if (send && faults.reorderNotifies) {
      firstAt += REORDER_HOLD_MS;
      this.core.state.deliveries.holdUntried(firstAt);
    }
    const id = this.core.state.deliveries.insert({
      kind: notification.kind,
      out_trade_no: notification.outTradeNo,
      out_refund_no: notification.outRefundNo ?? null,
      url: notification.url,
      body: notification.body,
      status: send ? 'pending' : 'suppressed',
      attempts: 0,
      next_at: send ? firstAt : null,
      created_at: now,
      delivered_at: null,
      format: notification.format ?? 'v2',
    });
    if (send) this.timer.arm();
    return id;
  }

  /** Stops timers and aborts attempts in flight; they stay pending in the state. */
  async close(): Promise<void> {
    this.closed = true;
    this.timer.stop();
    for (const controller of this.inFlight.values()) controller.abort();
    await this.agent.destroy().catch(() => undefined);
  }

  /** The delivery log, oldest first. */
  log(): NotificationLogEntry[] {
    const attempts = new Map<number, NotificationAttempt[]>();
    for (const a of this.core.state.deliveries.attempts()) {
      const list = attempts.get(a.delivery_id) ?? [];
      list.push({
        attempt: a.attempt,
        copy: a.copy,
        dueAt: iso(a.due_at),
        dueAtMs: a.due_at,
        at: iso(a.started_at),
        durationMs: a.duration_ms,
        outcome: a.outcome,
        httpStatus: a.http_status,
        reply: a.reply,
        error: a.error,
      });
      attempts.set(a.delivery_id, list);
    }
    return this.core.state.deliveries.all().map((d) => ({
      id: d.id,
      kind: d.kind,
      outTradeNo: d.out_trade_no,
      outRefundNo: d.out_refund_no,
      format: d.format,
      url: d.url,
      status: d.status,
      attemptCount: d.attempts,
      nextAttemptAt: d.next_at === null ? null : iso(d.next_at),
      createdAt: iso(d.created_at),
      deliveredAt: d.delivered_at === null ? null : iso(d.delivered_at),
      body: d.body,
      attempts: attempts.get(d.id) ?? [],
    }));
  }

  private runDue(): void {
    if (this.closed) return;
    const due = this.core.state.deliveries.pending
      .dueBy(this.core.clock.now())
      .filter((d) => !this.inFlight.has(d.id));
    if (due.length === 0) return;
    const reorder = this.core.faults.faults.reorderNotifies;
    const held = reorder ? due.filter((d) => d.attempts === 0).reverse() : [];
    for (const d of due) this.markInFlight(d);
    if (held.length > 0) void this.runInOrder(held);
    for (const d of due) {
      if (!held.includes(d)) void this.attempt(d);
    }
  }

  private markInFlight(d: DeliveryRow): void {
    this.inFlight.set(d.id, new AbortController());
    this.core.state.deliveries.update(d.id, {
      status: 'pending',
      attempts: d.attempts,
      next_at: null,
      delivered_at: null,
    });
  }

  /** Held (reordered) deliveries go one after the other, newest first. */
  private async runInOrder(deliveries: DeliveryRow[]): Promise<void> {
    for (const d of deliveries) await this.attempt(d);
  }

  private async attempt(d: DeliveryRow): Promise<void> {
    const controller = this.inFlight.get(d.id)!;
    const dueAt = d.next_at ?? this.core.clock.now();
    const attempt = d.attempts + 1;
    const { faults, random } = this.core.faults;
    let results: CopyResult[];
    try {
      if (random.chance('notify:drop', faults.dropNotifyRate)) {
        results = [{ ...noSend(this.core.clock.now()), outcome: 'dropped' }];
      } else if (random.chance('notify:duplicate', faults.duplicateNotifyRate)) {
        const gap = random.below('notify:duplicate-gap', DUPLICATE_WITHIN_MS);
        results = await Promise.all([
          this.send(d, controller.signal),
          delay(gap, controller.signal).then(() => this.send(d, controller.signal)),
        ]);
      } else {
        results = [await this.send(d, controller.signal)];
      }
    } catch {
      results = [];
    }
    this.inFlight.delete(d.id);
    if (this.closed || controller.signal.aborted) return; // left pending; resumes on restart
    this.finish(d, attempt, dueAt, results);
  }

  private finish(d: DeliveryRow, attempt: number, dueAt: number, results: CopyResult[]): void {
    const state = this.core.state;
    const delivered = results.some((r) => r.outcome === 'success');
    const last = attempt >= NOTIFY_MAX_ATTEMPTS;
    const interval = NOTIFY_RETRY_INTERVALS_MS[attempt - 1] ?? 0;
    state.tx(() => {
      results.forEach((r, i) => {
        const row: AttemptRow = {
          delivery_id: d.id,
          attempt,
          copy: i + 1,
          due_at: dueAt,
          started_at: r.startedAt,
          duration_ms: r.durationMs,
          outcome: r.outcome,
          http_status: r.httpStatus,
          reply: r.reply,
          error: r.error,
        };
        state.deliveries.insertAttempt(row);
      });
      state.deliveries.update(d.id, {
        status: delivered ? 'delivered' : last ? 'failed' : 'pending',
        attempts: attempt,
        next_at: delivered || last ? null : dueAt + interval / this.core.config.timeScale,
        delivered_at: delivered ? this.core.clock.now() : null,
      });
    });
    this.timer.arm();
  }

  private async send(d: DeliveryRow, signal: AbortSignal): Promise<CopyResult> {
    const startedAt = this.core.clock.now();
    const started = performance.now();
    const timeoutMs = this.core.config.notifyTimeoutMs;
    const deadline = AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]);
    const took = () => Math.round(performance.now() - started);
    try {
      const v3 = d.format === 'v3';
      const res = await request(d.url, {
        method: 'POST',
        body: d.body,
        headers: {
          ...(v3
            ? attemptHeaders(this.core, d.body)
            : { 'content-type': 'text/xml; charset=utf-8' }),
          'user-agent': 'Mozilla/4.0',
        },
        dispatcher: this.agent,
        signal: deadline,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      const reply = await readCapped(res.body);
      // A reply past the cap was not read whole, so it cannot be judged a SUCCESS reply.
      const ok =
        reply !== undefined &&
        (v3 ? isNotificationAcknowledged(res.statusCode) : this.judge(res.statusCode, reply));
      return {
        outcome: ok ? 'success' : 'fail',
        httpStatus: res.statusCode,
        reply: reply === undefined ? null : reply.slice(0, REPLY_LOG_CHARS),
        error: reply === undefined ? `the reply is larger than ${REPLY_MAX_BYTES} bytes` : null,
        startedAt,
        durationMs: took(),
      };
    } catch (err) {
      if (signal.aborted) throw err;
      const timedOut = deadline.aborted || isTimeout(err);
      return {
        outcome: timedOut ? 'timeout' : 'error',
        httpStatus: null,
        reply: null,
        error: timedOut ? `no answer within ${timeoutMs} ms` : describe(err),
        startedAt,
        durationMs: took(),
      };
    }
  }
}

function noSend(at: number): CopyResult {
  return {
    outcome: 'dropped',
    httpStatus: null,
    reply: null,
    error: null,
    startedAt: at,
    durationMs: 0,
  };
}

/** The reply as text, or undefined when it is larger than REPLY_MAX_BYTES (reading stops there). */
async function readCapped(body: AsyncIterable<Buffer>): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    if (size > REPLY_MAX_BYTES) return undefined;
  }
  return Buffer.concat(chunks).toString('utf8');
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const t = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

function isTimeout(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  return (
    code === 'UND_ERR_HEADERS_TIMEOUT' ||
    code === 'UND_ERR_BODY_TIMEOUT' ||
    code === 'UND_ERR_CONNECT_TIMEOUT'
  );
}

/** A short, safe description of a connection error (no bodies, no secrets). */
function describe(err: unknown): string {
  const e = err as { code?: string; message?: string } | null;
  const text = e?.code ? `${e.code}: ${e.message ?? ''}` : String(e?.message ?? err);
  return text.slice(0, 200);
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
