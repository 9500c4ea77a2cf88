/** What the pages show: money, order states and errors in words. */
import { MinipayError, type OrderStatus } from '../lib/minipay';

/** 1200 → "¥12.00" (integer arithmetic: no floating point on money). */
export function yuan(fen: number): string {
  const sign = fen < 0 ? '-' : '';
  const abs = Math.abs(fen);
  return `${sign}¥${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

const STATUS_TEXT: Record<OrderStatus, string> = {
  CREATED: 'Being created',
  PENDING: 'Awaiting payment',
  CLOSING: 'Being cancelled',
  PAID: 'Paid',
  PARTIALLY_REFUNDED: 'Partly refunded',
  REFUNDED: 'Refunded',
  CLOSED: 'Closed',
  FAILED: 'Failed',
};

export function statusText(status: OrderStatus): string {
  return STATUS_TEXT[status] ?? status;
}

/** A sentence for the user; the server's messages already say what to do. */
export function errorText(err: unknown): string {
  if (err instanceof MinipayError) {
    if (err.code === 'NETWORK_ERROR')
      return 'No connection to the shop. Check the network and try again.';
    return err.message;
  }
  return 'Something went wrong. Please try again.';
}

/** "2026-11-22T08:00:00.000Z" → "2026-11-22 16:00" in the phone's time zone. */
export function when(iso: string | null): string {
  if (!iso) return '';
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
