/**
 * The order state machine: the states are the contract's (ORDER_STATUSES), the moves between
 * them are data here. Every change of `status` goes through orders-repo.ts, which refuses any
 * pair not listed here.
 *
 * CLOSING: the order is being closed (cancel, expiry, admin) but WeChat has not said the trade
 * is CLOSED yet (closeorder is refused within 5 minutes of the order, and has been seen to
 * answer SUCCESS while the trade stayed NOTPAY). It gets no new payment parameters; the close
 * job ends it CLOSED once orderquery says CLOSED, or PAID when the money came after all.
 */
import type { OrderStatus } from '../../contract/statuses.js';

export { ORDER_STATUSES, type OrderStatus } from '../../contract/statuses.js';

const NEXT: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  CREATED: ['PENDING', 'FAILED'],
  PENDING: ['PAID', 'CLOSING', 'CLOSED'],
  CLOSING: ['PAID', 'CLOSED'],
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
