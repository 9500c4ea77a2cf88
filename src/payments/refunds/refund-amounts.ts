/**
 * Refund arithmetic, in integer fen. What may still be refunded is what was paid minus what
 * has been refunded and minus what is in flight (asked for, not settled): counting in-flight
 * refunds is what stops two concurrent requests from both fitting (Medusa #13301).
 * The database enforces the same sum with a conditional UPDATE (see refunds-repo.ts); these pure
 * functions give the reasons and the numbers for messages and tests, and check a refund's reason.
 */
import { utf8Length } from '../../wechatpay/limits.js';
import { validation } from '../lib/errors.js';

/** WeChat accepts at most 50 refunds per trade (official refund doc). */
export const MAX_REFUNDS_PER_ORDER = 50;
/** WeChat's refund_desc is at most 80 bytes of UTF-8. */
export const MAX_REFUND_REASON_BYTES = 80;

export interface RefundLedger {
  paidFen: number;
  /** Sum of SUCCESS refunds. */
  succeededFen: number;
  /** Sum of PENDING and PROCESSING refunds (CHANGE counts here too: WeChat keeps it). */
  inFlightFen: number;
  refundCount: number;
}

export function refundableFen(ledger: RefundLedger): number {
  return Math.max(0, ledger.paidFen - ledger.succeededFen - ledger.inFlightFen);
}

export type RefundRefusal =
  | { code: 'VALIDATION_FAILED'; message: string }
  | { code: 'REFUND_EXCEEDS_PAID'; message: string }
  | { code: 'ORDER_FULLY_REFUNDED'; message: string }
  | { code: 'TOO_MANY_REFUNDS'; message: string };

/** `null` when a refund of `amountFen` fits, else why not (a message that says what to do). */
export function refusalFor(amountFen: number, ledger: RefundLedger): RefundRefusal | null {
  if (!Number.isSafeInteger(amountFen) || amountFen < 1) {
    return {
      code: 'VALIDATION_FAILED',
      message: `amountFen must be a positive whole number of fen, got ${String(amountFen)}`,
    };
  }
  const left = refundableFen(ledger);
  if (left === 0) {
    return {
      code: 'ORDER_FULLY_REFUNDED',
      message:
        ledger.inFlightFen > 0
          ? `nothing left to refund: ${ledger.inFlightFen} fen are still being refunded`
          : 'the order is already fully refunded',
    };
  }
  if (amountFen > left) {
    return {
      code: 'REFUND_EXCEEDS_PAID',
      message: `at most ${left} fen can be refunded (paid ${ledger.paidFen}, refunded ${ledger.succeededFen}, in progress ${ledger.inFlightFen})`,
    };
  }
  if (ledger.refundCount >= MAX_REFUNDS_PER_ORDER) {
    return {
      code: 'TOO_MANY_REFUNDS',
      message: `WeChat allows at most ${MAX_REFUNDS_PER_ORDER} refunds per order; refund the rest in one`,
    };
  }
  return null;
}

/** The order status once `settledFen` of `paidFen` is refunded (SUCCESS refunds only). */
export function refundedStatus(
  paidFen: number,
  settledFen: number,
): 'PAID' | 'PARTIALLY_REFUNDED' | 'REFUNDED' {
  if (settledFen <= 0) return 'PAID';
  return settledFen >= paidFen ? 'REFUNDED' : 'PARTIALLY_REFUNDED';
}

/** A refund's reason as WeChat takes it (null when blank), else a 400. */
export function checkReason(reason: string | null | undefined): string | null {
  if (reason === undefined || reason === null || reason.trim() === '') return null;
  if (utf8Length(reason) > MAX_REFUND_REASON_BYTES) {
    throw validation(
      `reason must be at most ${MAX_REFUND_REASON_BYTES} bytes of UTF-8 (WeChat's refund_desc; a Chinese character is 3)`,
    );
  }
  return reason;
}
