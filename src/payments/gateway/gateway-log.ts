/**
 * Every call to WeChat about an order is written to `gateway_calls` (the order timeline shows
 * them) and counted; the wrapper re-throws whatever the gateway threw.
 */

import type { PaymentsContext } from '../context.js';
import { newId } from '../lib/ids.js';
import { GatewayError } from './gateway.js';
import { type GatewayCallRow, writeGatewayCall } from './gateway-calls-repo.js';

/** Calls WeChat and writes the call's row at once, whatever the outcome. */
export async function logged<T>(
  ctx: PaymentsContext,
  orderId: string | null,
  operation: string,
  call: () => Promise<T>,
  summarize: (value: T) => Record<string, unknown> = () => ({}),
): Promise<T> {
  const { value, record } = await loggedLater(ctx, orderId, operation, call, summarize);
  await writeLogged(ctx, record);
  return value;
}

/**
 * Like `logged`, but a success's row is handed back for the caller to write in the transaction
 * that records what the answer changed (one commit instead of two); a failure's row is written
 * at once. A crash before that transaction commits loses the row with the change it describes.
 */
export async function loggedLater<T>(
  ctx: PaymentsContext,
  orderId: string | null,
  operation: string,
  call: () => Promise<T>,
  summarize: (value: T) => Record<string, unknown> = () => ({}),
): Promise<{ value: T; record: GatewayCallRow }> {
  const started = performance.now();
  let value: T;
  try {
    value = await call();
  } catch (err) {
    const outcome = err instanceof GatewayError ? err.kind : 'error';
    const detail = err instanceof GatewayError ? { code: err.code, message: err.message } : {};
    ctx.metrics.inc('minipay_gateway_calls_total', { operation, outcome });
    if (err instanceof GatewayError && err.unverified) unverified(ctx, orderId, operation, err);
    await writeLogged(ctx, callRow(ctx, orderId, operation, outcome, detail, started));
    throw err;
  }
  ctx.metrics.inc('minipay_gateway_calls_total', { operation, outcome: 'ok' });
  return { value, record: callRow(ctx, orderId, operation, 'ok', summarize(value), started) };
}

/**
 * An answer that failed verification is the merchant's setup to fix (or someone on the path):
 * counted by operation and code, and logged as an error with what to check.
 */
function unverified(
  ctx: PaymentsContext,
  orderId: string | null,
  operation: string,
  err: GatewayError,
): void {
  ctx.metrics.inc('minipay_wechatpay_unverified_total', { operation, code: err.code });
  ctx.logger.error(
    { err, orderId, operation, code: err.code },
    "WeChat Pay's answer failed verification and was not used: check the WeChat Pay public key and its id (or the platform certificates) and the clock",
  );
}

function callRow(
  ctx: PaymentsContext,
  orderId: string | null,
  operation: string,
  outcome: string,
  detail: Record<string, unknown>,
  started: number,
): GatewayCallRow {
  return {
    id: newId('gwc'),
    order_id: orderId,
    operation,
    outcome,
    detail: JSON.stringify(detail),
    duration_ms: Math.round(performance.now() - started),
    created_at: ctx.clock().toISOString(),
  };
}

/** Outside any transaction: a row that cannot be written is a warning, not a failed call. */
async function writeLogged(ctx: PaymentsContext, record: GatewayCallRow): Promise<void> {
  await writeGatewayCall(ctx.db, record).catch((err: unknown) =>
    ctx.logger.warn({ err, operation: record.operation }, 'could not record a gateway call'),
  );
}
