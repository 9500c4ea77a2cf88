/**
 * The order state machine. Every change of `status` goes through `transition()` in
 * orders-repo.ts, which refuses any pair not listed here.
 */
import type { OrderStatus } from '../store/schema.js';

export type { OrderStatus };

export const ORDER_STATUSES: readonly OrderStatus[] = [
  'CREATED',
  'PENDING',
  'PAID',
  'PARTIALLY_REFUNDED',
  'REFUNDED',
  'CLOSED',
  'FAILED',
];

const NEXT: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  CREATED: ['PENDING', 'FAILED'],
  PENDING: ['PAID', 'CLOSED'],
  PAID: ['PARTIALLY_REFUNDED', 'REFUNDED'],
  PARTIALLY_REFUNDED: ['PARTIALLY_REFUNDED', 'REFUNDED'],
  REFUNDED: [],
  CLOSED: [],
  FAILED: [],
};

export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return NEXT[from].includes(to);
}

/** The outbox event type a transition into `to` records. */
export function eventTypeFor(to: OrderStatus): string {
  return `order.${to.toLowerCase()}`;
}
