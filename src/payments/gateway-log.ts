/**
 * Every call to WeChat about an order is written to `gateway_calls` (the order timeline shows
 * them) and counted; the wrapper re-throws whatever the gateway threw.
 */

import type { PaymentsContext } from './context.js';
import { GatewayError } from './gateway.js';
import { newId } from './ids.js';

export async function logged<T>(
  ctx: PaymentsContext,
  orderId: string | null,
  operation: string,
  call: () => Promise<T>,
  summarize: (value: T) => Record<string, unknown> = () => ({}),
): Promise<T> {
  const started = performance.now();
  let outcome = 'ok';
  let detail: Record<string, unknown> = {};
  try {
    const value = await call();
    detail = summarize(value);
    return value;
  } catch (err) {
    outcome = err instanceof GatewayError ? err.kind : 'error';
    detail = err instanceof GatewayError ? { code: err.code, message: err.message } : {};
    throw err;
  } finally {
    ctx.metrics.inc('minipay_gateway_calls_total', { operation, outcome });
    const row = {
      id: newId('gwc'),
      order_id: orderId,
      operation,
      outcome,
      detail: JSON.stringify(detail),
      duration_ms: Math.round(performance.now() - started),
      created_at: ctx.clock().toISOString(),
    };
    await ctx.db
      .insertInto('gateway_calls')
      .values(row)
      .execute()
      .catch((err: unknown) =>
        ctx.logger.warn({ err, operation }, 'could not record a gateway call'),
      );
  }
}
