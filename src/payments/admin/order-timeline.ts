/**
 * An order's timeline for the admin console: everything that happened to it, from every
 * table that records something about it, as one time-ordered list of typed entries
 * (docs/http-api.md "TimelineEntry"). Each source is read by the order's id (or its
 * out_trade_no for anomalies); `data` only carries fields chosen here, never secrets.
 */

import type { Kysely, Selectable } from 'kysely';
import type { TimelineEntry } from '../../contract/index.js';
import type {
  Database,
  GatewayCallsTable,
  NotificationsTable,
  OrderEventsTable,
  WebhookDeliveriesTable,
} from '../../store/schema.js';
import { type AnomalyRow, parseJsonObject } from '../anomalies/anomaly-view.js';
import { redactUrl } from '../lib/url-redaction.js';
import type { OrderRow } from '../orders/order-view.js';
import type { RefundRow } from '../refunds/refund-view.js';

type EventRow = Selectable<OrderEventsTable>;
type CallRow = Selectable<GatewayCallsTable>;
type NotificationRow = Selectable<NotificationsTable>;
type DeliveryRow = Selectable<WebhookDeliveriesTable>;

/**
 * At the same millisecond, causes come before effects: a notify or a WeChat call before the
 * transition it led to, the transition before the anomaly or webhook it raised.
 */
const RANK = { cause: 0, transition: 1, consequence: 2 } as const;

interface Ranked {
  entry: TimelineEntry;
  rank: number;
}

export async function loadTimeline(
  db: Kysely<Database>,
  order: OrderRow,
): Promise<TimelineEntry[]> {
  const [events, calls, notifications, refunds, anomalies] = await Promise.all([
    db
      .selectFrom('order_events')
      .selectAll()
      .where('order_id', '=', order.id)
      .orderBy('seq')
      .execute(),
    db
      .selectFrom('gateway_calls')
      .selectAll()
      .where('order_id', '=', order.id)
      .orderBy('created_at')
      .execute(),
    db
      .selectFrom('notifications')
      .selectAll()
      .where('order_id', '=', order.id)
      .orderBy('created_at')
      .execute(),
    db
      .selectFrom('refunds')
      .selectAll()
      .where('order_id', '=', order.id)
      .orderBy('created_at')
      .execute(),
    db
      .selectFrom('anomalies')
      .selectAll()
      .where((eb) =>
        eb.or([eb('order_id', '=', order.id), eb('out_trade_no', '=', order.out_trade_no)]),
      )
      .orderBy('created_at')
      .execute(),
  ]);
  const deliveries =
    events.length === 0
      ? []
      : await db
          .selectFrom('webhook_deliveries')
          .selectAll()
          .where(
            'event_id',
            'in',
            events.map((e) => e.id),
          )
          .orderBy('created_at')
          .execute();
  return buildTimeline({ order, events, calls, notifications, refunds, anomalies, deliveries });
}

export interface TimelineSources {
  order: OrderRow;
  events: EventRow[];
  calls: CallRow[];
  notifications: NotificationRow[];
  refunds: RefundRow[];
  anomalies: AnomalyRow[];
  deliveries: DeliveryRow[];
}

/** Merges the rows into one list, oldest first (stable within each source). */
export function buildTimeline(s: TimelineSources): TimelineEntry[] {
  const settledByEvent = new Set<string>();
  const ranked: Ranked[] = [];
  for (const e of s.events) {
    const entry = fromEvent(e, s.order);
    if (!entry) continue;
    const refundId = refundIdOf(e);
    if (refundId) settledByEvent.add(`${e.type}:${refundId}`);
    ranked.push({ entry, rank: RANK.transition });
  }
  for (const c of s.calls) ranked.push({ entry: fromCall(c), rank: RANK.cause });
  for (const n of s.notifications) {
    for (const entry of fromNotification(n)) ranked.push({ entry, rank: RANK.cause });
  }
  for (const r of s.refunds) {
    for (const entry of fromRefund(r, settledByEvent)) ranked.push({ entry, rank: RANK.cause });
  }
  for (const a of s.anomalies) {
    for (const entry of fromAnomaly(a)) ranked.push({ entry, rank: RANK.consequence });
  }
  const eventTypes = new Map(s.events.map((e) => [e.id, e.type]));
  for (const d of s.deliveries) {
    const entry = fromDelivery(d, eventTypes.get(d.event_id) ?? d.event_type);
    if (entry) ranked.push({ entry, rank: RANK.consequence });
  }
  return ranked
    .map((r, i) => ({ ...r, i }))
    .sort(
      (a, b) =>
        (a.entry.at < b.entry.at ? -1 : a.entry.at > b.entry.at ? 1 : 0) ||
        a.rank - b.rank ||
        a.i - b.i,
    )
    .map((r) => r.entry);
}

function refundIdOf(e: EventRow): string | null {
  if (!e.type.startsWith('refund.')) return null;
  const refund = parseJsonObject(e.payload).refund as { id?: unknown } | undefined;
  return typeof refund?.id === 'string' ? refund.id : null;
}

function fromEvent(e: EventRow, order: OrderRow): TimelineEntry | null {
  const payload = parseJsonObject(e.payload);
  const snapshot = (payload.order ?? {}) as Record<string, unknown>;
  const base = { eventId: e.id };
  const entry = (summary: string, data: Record<string, unknown> = {}): TimelineEntry => ({
    at: e.created_at,
    kind: e.type,
    summary,
    data: { ...base, ...data },
  });
  switch (e.type) {
    case 'order.created':
      return entry(`Order created for ${snapshot.totalFen ?? order.total_fen} fen.`, {
        totalFen: snapshot.totalFen ?? order.total_fen,
      });
    case 'order.pending':
      return entry('Prepay accepted; waiting for the payer.');
    case 'order.paid':
      return entry(
        `Paid (transaction ${String(snapshot.transactionId ?? order.transaction_id)}), confirmed by ${String(payload.source ?? 'WeChat')}.`,
        { source: payload.source ?? null, transactionId: snapshot.transactionId ?? null },
      );
    case 'order.failed': {
      const failure = (snapshot.failure ?? {}) as { code?: string; message?: string };
      return entry(`Prepay refused by WeChat: ${failure.code ?? 'unknown reason'}.`, {
        failure: snapshot.failure ?? null,
      });
    }
    case 'order.closing':
      return entry(
        `Closing (${String(payload.reason ?? 'unknown reason')}): no more payment; CLOSED once WeChat has closed the trade.`,
        { reason: payload.reason ?? null },
      );
    case 'order.closed':
      return entry(`Closed (${String(payload.reason ?? 'unknown reason')}).`, {
        reason: payload.reason ?? null,
      });
    case 'order.partially_refunded':
    case 'order.refunded':
      return entry(
        `${e.type === 'order.refunded' ? 'Fully' : 'Partially'} refunded: ${String(snapshot.refundedFen)} of ${String(snapshot.totalFen)} fen returned.`,
        { refundedFen: snapshot.refundedFen ?? null },
      );
    case 'order.shipped': {
      const shipment = (payload.shipment ?? {}) as { logisticsType?: string; parcels?: unknown[] };
      return entry(
        `Shipping info accepted by WeChat (${String(shipment.logisticsType)}, ${shipment.parcels?.length ?? 0} parcel(s)).`,
        { logisticsType: shipment.logisticsType ?? null },
      );
    }
    case 'order.shipment_corrected': {
      const shipment = (payload.shipment ?? {}) as { logisticsType?: string; parcels?: unknown[] };
      return entry(
        `Shipping info corrected, WeChat's one correction (${String(shipment.logisticsType)}, ${shipment.parcels?.length ?? 0} parcel(s)).`,
        { logisticsType: shipment.logisticsType ?? null },
      );
    }
    case 'order.receipt_confirmed':
      return entry('The buyer confirmed receipt (WeChat).');
    case 'order.settled':
      return entry('WeChat settled the payment to the merchant.');
    case 'anomaly.detected':
    case 'refund.created':
      // The anomaly and refund rows give these, with their current status.
      return null;
    case 'refund.succeeded':
    case 'refund.failed': {
      const refund = (payload.refund ?? {}) as Record<string, unknown>;
      return entry(
        `Refund of ${String(refund.amountFen)} fen ${e.type === 'refund.succeeded' ? 'succeeded' : `failed (${String(refund.status)})`}.`,
        {
          refundId: refund.id ?? null,
          amountFen: refund.amountFen ?? null,
          status: refund.status ?? null,
        },
      );
    }
    default:
      return entry(`Event ${e.type}.`);
  }
}

function fromCall(c: CallRow): TimelineEntry {
  const detail = parseJsonObject(c.detail);
  const ok = c.outcome === 'ok';
  const failure = ok ? '' : `: ${String(detail.code ?? c.outcome)} (${c.outcome})`;
  const data = { operation: c.operation, outcome: c.outcome, durationMs: c.duration_ms, ...detail };
  switch (c.operation) {
    case 'unifiedorder':
      return {
        at: c.created_at,
        kind: ok ? 'prepay.succeeded' : 'prepay.failed',
        summary: ok ? 'WeChat issued a prepay (unifiedorder).' : `unifiedorder failed${failure}.`,
        data,
      };
    case 'orderquery':
      return {
        at: c.created_at,
        kind: 'query.made',
        summary: ok
          ? `Asked WeChat (orderquery): the trade is ${String(detail.state)}.`
          : `orderquery failed${failure}.`,
        data,
      };
    case 'closeorder':
      return {
        at: c.created_at,
        kind: 'close.requested',
        summary: ok ? 'Asked WeChat to close the trade.' : `closeorder answered${failure}.`,
        data,
      };
    default:
      return {
        at: c.created_at,
        kind: `gateway.${c.operation}`,
        summary: ok
          ? `WeChat ${c.operation} succeeded.`
          : `WeChat ${c.operation} failed${failure}.`,
        data,
      };
  }
}

/** How a notify was handled (notifications.outcome) when it was refused. */
const REJECTED = new Set([
  'amount_mismatch',
  'merchant_mismatch',
  'unknown_order',
  'invalid',
  'mismatch',
  'order_not_paid',
]);

function fromNotification(n: NotificationRow): TimelineEntry[] {
  const what = n.kind === 'payment' ? 'Payment notify' : `${n.kind} notify`;
  const prefix = n.kind === 'payment' ? 'notify' : `${n.kind}_notify`;
  const rejected = REJECTED.has(n.outcome);
  const once = n.received_count <= 1;
  const first: TimelineEntry = {
    at: n.created_at,
    kind: rejected ? `${prefix}.rejected` : `${prefix}.received`,
    summary: once ? `${what} received, handled as ${n.outcome}.` : `${what} received.`,
    data: once ? { notificationId: n.id, outcome: n.outcome } : { notificationId: n.id },
  };
  if (once) return [first];
  return [
    first,
    {
      at: n.updated_at,
      kind: `${prefix}.repeated`,
      summary: `The same ${what.toLowerCase()} arrived ${n.received_count} times in all; the last was handled as ${n.outcome}.`,
      data: { notificationId: n.id, receivedCount: n.received_count, outcome: n.outcome },
    },
  ];
}

const FAILED_REFUND = new Set(['CHANGE', 'REFUNDCLOSE', 'FAILED']);

function fromRefund(r: RefundRow, settledByEvent: Set<string>): TimelineEntry[] {
  const data = {
    refundId: r.id,
    outRefundNo: r.out_refund_no,
    amountFen: r.amount_fen,
    status: r.status,
    source: r.source,
  };
  const entries: TimelineEntry[] = [
    {
      at: r.created_at,
      kind: 'refund.requested',
      summary: `Refund of ${r.amount_fen} fen requested${r.source === 'minipay' ? '' : ` (${r.source})`}${r.reason ? `: ${r.reason}` : ''}.`,
      data: { ...data, reason: r.reason },
    },
  ];
  if (r.status === 'SUCCESS' && !settledByEvent.has(`refund.succeeded:${r.id}`)) {
    entries.push({
      at: r.succeeded_at ?? r.updated_at,
      kind: 'refund.succeeded',
      summary: `Refund of ${r.amount_fen} fen succeeded.`,
      data,
    });
  } else if (FAILED_REFUND.has(r.status) && !settledByEvent.has(`refund.failed:${r.id}`)) {
    entries.push({
      at: r.updated_at,
      kind: 'refund.failed',
      summary: `Refund of ${r.amount_fen} fen failed (${r.status}${r.failure_code ? `: ${r.failure_code}` : ''}).`,
      data: { ...data, failureCode: r.failure_code },
    });
  }
  return entries;
}

function fromAnomaly(a: AnomalyRow): TimelineEntry[] {
  const entries: TimelineEntry[] = [
    {
      at: a.created_at,
      kind: 'anomaly.detected',
      summary: `Anomaly: ${a.kind.replaceAll('_', ' ')} (${a.status}).`,
      data: {
        anomalyId: a.id,
        anomalyKind: a.kind,
        status: a.status,
        detail: parseJsonObject(a.detail),
      },
    },
  ];
  if (a.status === 'resolved' && a.resolved_at) {
    entries.push({
      at: a.resolved_at,
      kind: 'anomaly.resolved',
      summary: `Anomaly ${a.kind.replaceAll('_', ' ')} resolved: ${a.resolution ?? ''}`.trim(),
      data: { anomalyId: a.id, resolution: a.resolution },
    });
  }
  return entries;
}

function fromDelivery(d: DeliveryRow, eventType: string): TimelineEntry | null {
  if (!d.last_attempt_at) return null;
  const url = redactUrl(d.url);
  const data = {
    deliveryId: d.id,
    eventId: d.event_id,
    eventType,
    url,
    status: d.status,
    attempts: d.attempts,
    lastStatusCode: d.last_status_code,
  };
  if (d.status === 'delivered') {
    return {
      at: d.last_attempt_at,
      kind: 'webhook.delivered',
      summary: `Webhook ${eventType} delivered to ${url} (attempt ${d.attempts}).`,
      data,
    };
  }
  const next = d.status === 'dead' ? 'dead-lettered' : 'will retry';
  return {
    at: d.last_attempt_at,
    kind: 'webhook.failed',
    summary: `Webhook ${eventType} to ${url} failed ${d.attempts} time(s) (last: ${d.last_status_code === null ? 'no answer' : `HTTP ${d.last_status_code}`}); ${next}.`,
    data,
  };
}
