/** Money, order states and errors in words. */
import { MinipayError, type OrderStatus } from 'minipay/client';

/** 1200 → "¥12.00" (integer arithmetic: no floating point on money). */
export function yuan(fen: number): string {
  return `¥${Math.floor(fen / 100)}.${String(fen % 100).padStart(2, '0')}`;
}

const STATUS_TEXT: Record<OrderStatus, string> = {
  CREATED: 'Being created',
  PENDING: 'Awaiting payment',
  PAID: 'Paid',
  PARTIALLY_REFUNDED: 'Partly refunded',
  REFUNDED: 'Refunded',
  // Cancelled here; WeChat closes the payment within minutes (it refuses to sooner).
  CLOSING: 'Being cancelled',
  CLOSED: 'Closed',
  FAILED: 'Failed',
};

export function statusText(status: OrderStatus): string {
  return STATUS_TEXT[status] ?? status;
}

/** A sentence for the user; the server's messages already say what to do. */
export function errorText(err: unknown): string {
  if (err instanceof MinipayError) {
    return err.code === 'NETWORK_ERROR'
      ? 'No connection to the shop. Check the network and try again.'
      : err.message;
  }
  console.error('minipay example:', err); // a bug, not the network or the server
  return 'Something went wrong. Please try again.';
}
