/**
 * The refund dialog's rules, apart from its looks. One Idempotency-Key per dialog: a retry
 * after no answer (or a 5xx, or "in progress") sends the same key and the same body, so the
 * server records at most one refund however often the button is pressed. After such an
 * ambiguous attempt the amount and reason are locked (a different body under the same key
 * would be refused, and a new key could refund twice). After a definite refusal the next
 * attempt is a new request with a new key.
 */
import { newIdempotencyKey } from '../../src/client/idempotency-key.js';
import { parseYuan } from '../common/format.js';

export type RefundMode = 'full' | 'partial';

export interface RefundFormState {
  mode: RefundMode;
  /** What the person typed for a partial refund, in yuan ("12.5"). */
  amountText: string;
  reason: string;
  key: string;
  /** The last attempt may have taken effect: only the same request may be sent again. */
  locked: boolean;
}

export function newRefundForm(): RefundFormState {
  return { mode: 'full', amountText: '', reason: '', key: newIdempotencyKey(), locked: false };
}

/** What is left to refund as far as the order says (the server also counts refunds in flight). */
export function refundableFen(order: { totalFen: number; refundedFen: number }): number {
  return Math.max(0, order.totalFen - order.refundedFen);
}

export type RefundRequest =
  | { ok: true; body: { amountFen: number; reason?: string } }
  | { ok: false; problem: 'amount_invalid' | 'amount_too_large' | 'reason_too_long' };

/** The request body the form stands for, or why it cannot be sent. */
export function refundRequest(form: RefundFormState, leftFen: number): RefundRequest {
  const amountFen = form.mode === 'full' ? leftFen : parseYuan(form.amountText);
  if (amountFen === undefined || amountFen <= 0) return { ok: false, problem: 'amount_invalid' };
  if (amountFen > leftFen) return { ok: false, problem: 'amount_too_large' };
  const reason = form.reason.trim();
  // WeChat's refund_desc holds 80 bytes of UTF-8: 26 Chinese characters.
  if (new TextEncoder().encode(reason).length > 80)
    return { ok: false, problem: 'reason_too_long' };
  return { ok: true, body: reason ? { amountFen, reason } : { amountFen } };
}

/** After an attempt failed: keep the key (and lock the body) only when it may have worked. */
export function afterFailure(form: RefundFormState, ambiguous: boolean): RefundFormState {
  if (ambiguous) return { ...form, locked: true };
  return { ...form, locked: false, key: newIdempotencyKey() };
}
