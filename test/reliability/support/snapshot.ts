/**
 * What "no state change" means: the orders as they stand and the row counts of the business
 * tables. `anomaly.detected` events are left out: recording that a correctly signed message
 * was wrong (amount, merchant, a second payment) is the system working, not a change of state.
 * So is an order's `version`, which counts every write of the row: the refund_required flag
 * such an anomaly raises on its order (a second payment must go back) is one.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../../src/store/schema.js';

const COUNTED = [
  'orders',
  'order_items',
  'order_events',
  'idempotency_keys',
  'users',
  'sessions',
  'products',
  'refunds',
] as const;

export async function businessState(db: Kysely<Database>): Promise<string> {
  const orders = await db
    .selectFrom('orders')
    .select(['id', 'status', 'transaction_id', 'total_fen', 'refunded_fen'])
    .orderBy('id')
    .execute();
  const counts: Record<string, number> = {};
  for (const table of COUNTED) {
    let query = db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n'));
    if (table === 'order_events') query = query.where('type', '!=', 'anomaly.detected');
    counts[table] = Number((await query.executeTakeFirstOrThrow()).n);
  }
  return JSON.stringify({ orders, counts });
}
