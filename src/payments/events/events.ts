/**
 * Events: what the outbox stores and what webhooks and in-process subscribers receive
 * (docs/http-api.md "Event"). An event is written in the same transaction as the state change
 * it reports, is delivered at least once, and is deduplicated on `id`. Order, refund and
 * anomaly events carry the order; reconciliation events carry the run instead.
 */
import { randomBytes } from 'node:crypto';

export const EVENT_TYPES = [
  'order.created',
  'order.pending',
  'order.paid',
  'order.failed',
  'order.closing',
  'order.closed',
  'order.partially_refunded',
  'order.refunded',
  'order.shipped',
  'order.shipment_corrected',
  'order.receipt_confirmed',
  'order.settled',
  'refund.created',
  'refund.succeeded',
  'refund.failed',
  'anomaly.detected',
  'reconciliation.completed',
  'reconciliation.mismatch',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

export function isEventType(value: string): value is EventType {
  return (EVENT_TYPES as readonly string[]).includes(value);
}

/** What each event carries: the order after the transition, or the reconciliation run. */
export interface EventData<Order, Refund, Anomaly> {
  /** Every event but the reconciliation ones. */
  order?: Order;
  refund?: Refund;
  anomaly?: Anomaly;
  /** The order's shipment (docs/shipping.md), on the shipping events. */
  shipment?: unknown;
  /** The run, on the reconciliation events (reconciliation-events.ts). */
  reconciliation?: unknown;
}

export interface MinipayEvent<Order = unknown, Refund = unknown, Anomaly = unknown> {
  id: string;
  type: EventType;
  createdAt: string;
  data: EventData<Order, Refund, Anomaly>;
}

/** What each event must carry besides the order (the reconciliation events carry no order). */
const NEEDS: Partial<Record<EventType, 'refund' | 'anomaly' | 'shipment' | 'reconciliation'>> = {
  'order.shipped': 'shipment',
  'order.shipment_corrected': 'shipment',
  'order.receipt_confirmed': 'shipment',
  'order.settled': 'shipment',
  'refund.created': 'refund',
  'refund.succeeded': 'refund',
  'refund.failed': 'refund',
  'anomaly.detected': 'anomaly',
  'reconciliation.completed': 'reconciliation',
  'reconciliation.mismatch': 'reconciliation',
};

/** A fresh event id: `evt_` + 20 random bytes in base64url (opaque, never sequential). */
export function newEventId(): string {
  return `evt_${randomBytes(20).toString('base64url')}`;
}

/** Whether events of `type` are about an order (and carry it): all but reconciliation's. */
export function isOrderEventType(type: EventType): boolean {
  return !type.startsWith('reconciliation.');
}

/** Builds an event, refusing one that lacks the order, refund or anomaly its type promises. */
export function buildEvent<O, R, A>(
  type: EventType,
  data: EventData<O, R, A>,
  now: Date = new Date(),
  id: string = newEventId(),
): MinipayEvent<O, R, A> {
  if (isOrderEventType(type) && data.order === undefined) {
    throw new TypeError(`a ${type} event must carry data.order`);
  }
  const need = NEEDS[type];
  if (need && data[need] === undefined) {
    throw new TypeError(`a ${type} event must carry data.${need}`);
  }
  return { id, type, createdAt: now.toISOString(), data };
}

/** The order event that reports an order entering `status` (null: no event for it). */
export function orderEventType(status: string): EventType | null {
  const type = `order.${status.toLowerCase()}`;
  return isEventType(type) ? type : null;
}

/** The refund event for a refund entering `status`. */
export function refundEventType(status: string): EventType | null {
  switch (status) {
    case 'PROCESSING':
      return 'refund.created';
    case 'SUCCESS':
      return 'refund.succeeded';
    case 'CHANGE':
    case 'REFUNDCLOSE':
    case 'FAILED':
      return 'refund.failed';
    default:
      return null;
  }
}
