/**
 * The outbox relay. Every order change wrote its `order_events` row in its own transaction;
 * the relay picks up rows not yet dispatched, in order, queues one webhook delivery per
 * configured URL (idempotent: one row per event and URL) and hands the event to in-process
 * subscribers, then marks it dispatched. A crash anywhere in between repeats work, never loses
 * it: events are delivered at least once, and carry an `id` to deduplicate on.
 */
import type { Selectable } from 'kysely';
import type { OrderEventsTable } from '../../store/schema.js';
import type { PaymentsContext } from '../context.js';
import { newIds } from '../lib/ids.js';
import type { RunSummary } from '../lib/run-summary.js';
import { drainBatches } from './drain.js';
import type { EventType, MinipayEvent } from './events.js';

const BATCH = 100;
/** How long one run of the relay job may keep taking full batches before it yields the turn. */
const DRAIN_BUDGET_MS = 1000;
/** A subscriber that keeps failing on one event gets it this many times, then it is passed. */
const SUBSCRIBER_ATTEMPTS = 5;

export type EventRow = Selectable<OrderEventsTable>;
export type EventListener = (event: MinipayEvent) => void | Promise<void>;

/** The event as webhooks and subscribers receive it (docs/http-api.md "Event"). */
export function eventFromRow(row: EventRow): MinipayEvent {
  return {
    id: row.id,
    type: row.type as EventType,
    createdAt: row.created_at,
    data: JSON.parse(row.payload) as MinipayEvent['data'],
  };
}

/**
 * A subscriber that takes a relay batch's events together (minipay's own: a statement per
 * batch instead of one per event). It must be idempotent per event: after a failure the relay
 * hands it the batch's events again, one at a time.
 */
export type BatchListener = (events: readonly MinipayEvent[]) => Promise<void>;

/** In-process subscribers (library users): `payments.events.subscribe(fn)`. */
export class EventBus {
  private readonly listeners = new Set<EventListener>();
  private readonly batchListeners = new Set<BatchListener>();

  /** Calls `listener` with every event from now on, at least once; returns an unsubscribe. */
  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Calls `listener` with the events of each relay batch, at least once each. */
  subscribeBatch(listener: BatchListener): () => void {
    this.batchListeners.add(listener);
    return () => {
      this.batchListeners.delete(listener);
    };
  }

  get size(): number {
    return this.listeners.size + this.batchListeners.size;
  }

  /**
   * Hands `events` to every batch listener at once; resolves false when one failed (the relay
   * then publishes each event on its own, batch listeners included, to find the one that fails).
   */
  async publishBatch(events: readonly MinipayEvent[]): Promise<boolean> {
    let ok = true;
    for (const listener of [...this.batchListeners]) {
      try {
        await listener(events);
      } catch {
        ok = false;
      }
    }
    return ok;
  }

  /**
   * Awaits every listener (batch listeners too, with this one event, unless `batched` says they
   * have had it); throws the first failure after all have run.
   */
  async publish(event: MinipayEvent, batched = false): Promise<void> {
    let failure: unknown;
    const each = [...this.listeners];
    if (!batched) each.push(...[...this.batchListeners].map((l) => () => l([event])));
    for (const listener of each) {
      try {
        await listener(event);
      } catch (err) {
        failure ??= err;
      }
    }
    if (failure !== undefined) throw failure;
  }
}

export class Outbox {
  private readonly failures = new Map<string, number>();

  constructor(
    private readonly ctx: PaymentsContext,
    readonly events: EventBus,
  ) {}

  /** The relay job: batch after batch while the backlog lasts (at most a second a run). */
  drain(): Promise<RunSummary> {
    return drainBatches(() => this.relay(), BATCH, DRAIN_BUDGET_MS);
  }

  /**
   * One batch: dispatches undispatched events, oldest first, up to BATCH. The batch's
   * webhook deliveries are queued in one statement and the events published in order are marked
   * dispatched in one more (it was two statements, each its own commit, per event). A crash in
   * between publishes those events again: at least once, as promised.
   */
  async relay(): Promise<RunSummary> {
    const rows = await this.ctx.db
      .selectFrom('order_events')
      .selectAll()
      .where('dispatched_at', 'is', null)
      .orderBy('seq')
      .limit(BATCH)
      .execute();
    const summary: RunSummary = { examined: rows.length, changed: 0, errors: 0 };
    if (rows.length === 0) return summary;
    const events = rows.map(eventFromRow);
    await this.queueDeliveries(events);
    const batched = await this.events.publishBatch(events);
    const published: string[] = [];
    for (const event of events) {
      if (!(await this.publish(event, batched))) {
        summary.errors++;
        break; // keep the order: this event (and what follows) is tried again next run
      }
      published.push(event.id);
    }
    if (published.length > 0) {
      await this.ctx.db
        .updateTable('order_events')
        .set({ dispatched_at: this.ctx.clock().toISOString() })
        .where('id', 'in', published)
        .where('dispatched_at', 'is', null)
        .execute();
    }
    summary.changed = published.length;
    return summary;
  }

  /** One webhook delivery per event and URL; a repeat of one already queued adds nothing. */
  private async queueDeliveries(events: readonly MinipayEvent[]): Promise<void> {
    const urls = this.ctx.settings.webhooks?.urls ?? [];
    if (urls.length === 0) return;
    const iso = this.ctx.clock().toISOString();
    const ids = newIds('whd', events.length * urls.length);
    await this.ctx.db
      .insertInto('webhook_deliveries')
      .values(
        events.flatMap((event, e) =>
          urls.map((url, u) => ({
            id: ids[e * urls.length + u]!,
            event_id: event.id,
            event_type: event.type,
            url,
            status: 'pending',
            attempts: 0,
            last_attempt_at: null,
            next_attempt_at: iso,
            last_status_code: null,
            last_error: null,
            created_at: iso,
            first_attempt_at: null,
          })),
        ),
      )
      .onConflict((oc) => oc.columns(['event_id', 'url']).doNothing())
      .execute();
  }

  /** Resolves false when a subscriber failed and the event should be tried again. */
  private async publish(event: MinipayEvent, batched: boolean): Promise<boolean> {
    if (this.events.size === 0) return true;
    try {
      await this.events.publish(event, batched);
      this.failures.delete(event.id);
      return true;
    } catch (err) {
      const n = (this.failures.get(event.id) ?? 0) + 1;
      this.failures.set(event.id, n);
      if (n < SUBSCRIBER_ATTEMPTS) {
        this.ctx.logger.warn({ err, eventId: event.id, attempt: n }, 'an event subscriber failed');
        return false;
      }
      this.failures.delete(event.id);
      this.ctx.logger.error(
        { err, eventId: event.id },
        `an event subscriber failed ${n} times; moving past the event`,
      );
      return true;
    }
  }
}
