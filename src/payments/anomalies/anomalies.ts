/**
 * Anomalies: things that must not happen and that a person has to look at (a notify for an
 * amount we never asked for, money for a closed order, …). Recorded once per `dedupeKey`;
 * an anomaly about an order also writes an `anomaly.detected` event in the same transaction.
 */
import { createHash } from 'node:crypto';
import type { PaymentsContext } from '../context.js';
import { GatewayError } from '../gateway/gateway.js';
import { type Db, inTransaction } from '../lib/db.js';
import { newId } from '../lib/ids.js';
import { appendEvent, flagRefundRequired } from '../orders/orders-repo.js';

export type AnomalyKind =
  | 'amount_mismatch'
  | 'merchant_mismatch'
  | 'unknown_order'
  | 'invalid_notify'
  | 'paid_after_close'
  | 'paid_in_unexpected_state'
  | 'duplicate_payment'
  | 'refund_mismatch'
  /** A difference between WeChat's bill and the ledger that reconciliation could not repair. */
  | 'reconciliation';

export interface AnomalyInput {
  kind: AnomalyKind;
  orderId?: string | null;
  outTradeNo?: string | null;
  /** Same key → same anomaly (WeChat retrying a notify does not multiply them). */
  dedupeKey: string;
  detail: Record<string, unknown>;
  /** Also flag the order: its money must be refunded. */
  refundRequired?: boolean;
}

/**
 * The dedupe key of an invalid notify. Anyone who can reach the notify URL can send garbage, and
 * keyed by each body's digest every distinct body added a row; so a body that never proved it
 * came from a holder of the merchant key (unreadable XML, return_code=FAIL, a signature that
 * does not verify; for refund notifies, whose envelope is unsigned, any failure) is one anomaly
 * per kind of notify, failure code and hour. How many came is the notify counters' job. A
 * correctly signed message that is still wrong (another merchant's ids, a malformed amount)
 * is one anomaly per body, as before: only WeChat or a leaked key can make one.
 */
export function invalidNotifyKey(
  notify: 'payment' | 'refund',
  err: unknown,
  body: Buffer,
  at: Date,
): string {
  const code = err instanceof GatewayError ? err.code : 'UNREADABLE';
  if (notify === 'payment' && !UNVERIFIED.test(code)) {
    return createHash('sha256').update(body).digest('hex');
  }
  return `${notify}:${code}:${at.toISOString().slice(0, 13)}`;
}

/** Failures before a payment notify's signature was verified. */
const UNVERIFIED = /^(XML_.*|RETURN_FAIL|BAD_SIGNATURE|UNREADABLE)$/;

/** Records an anomaly; resolves true when it is new. */
export async function recordAnomaly(db: Db, input: AnomalyInput, at: Date): Promise<boolean> {
  return inTransaction(db, async (trx) => {
    const id = newId('anm');
    const result = await trx
      .insertInto('anomalies')
      .values({
        id,
        kind: input.kind,
        order_id: input.orderId ?? null,
        out_trade_no: input.outTradeNo ?? null,
        dedupe_key: `${input.kind}:${input.dedupeKey}`,
        detail: JSON.stringify(input.detail),
        status: 'open',
        created_at: at.toISOString(),
        resolved_at: null,
        resolution: null,
      })
      .onConflict((oc) => oc.column('dedupe_key').doNothing())
      .executeTakeFirst();
    if (Number(result.numInsertedOrUpdatedRows ?? 0) !== 1) return false;
    if (input.orderId) {
      if (input.refundRequired) await flagRefundRequired(trx, input.orderId, at);
      const anomaly = { id, kind: input.kind, detail: input.detail };
      await appendEvent(trx, input.orderId, 'anomaly.detected', { anomaly }, at);
    }
    return true;
  });
}

/**
 * A notify that failed verification: why, as a log line and one `invalid_notify` anomaly (per
 * `invalidNotifyKey`). Never throws: a row that cannot be written is logged. Resolves the reason.
 */
export async function recordInvalidNotify(
  ctx: PaymentsContext,
  notify: 'payment' | 'refund',
  body: Buffer,
  err: unknown,
): Promise<string> {
  const reason = err instanceof GatewayError ? `${err.code}: ${err.message}` : 'unreadable';
  const what = notify === 'payment' ? 'notify' : 'refund notify';
  ctx.logger.warn({ reason }, `rejected a ${what} that failed verification`);
  const now = ctx.clock();
  try {
    await recordAnomaly(
      ctx.db,
      {
        kind: 'invalid_notify',
        dedupeKey: invalidNotifyKey(notify, err, body, now),
        detail: {
          reason,
          bytes: body.length,
          ...(notify === 'refund' && { notify }),
          sha256: createHash('sha256').update(body).digest('hex'),
        },
      },
      now,
    );
  } catch (dbErr) {
    ctx.logger.error({ err: dbErr }, `could not record an invalid ${what}`);
  }
  return reason;
}
