/**
 * The admin reads use indexes, not table scans: each query AdminQueries runs is captured and
 * explained by SQLite's planner (EXPLAIN QUERY PLAN) on a migrated database.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import pino from 'pino';
import { AdminQueries } from '../../../src/payments/admin/admin-queries.js';
import { loadTimeline } from '../../../src/payments/admin/order-timeline.js';
import { DEFAULT_SETTINGS, type PaymentsContext } from '../../../src/payments/context.js';
import { Webhooks } from '../../../src/payments/events/webhooks.js';
import { encodeTimeCursor } from '../../../src/payments/lib/page-cursor.js';
import type { SessionUser } from '../../../src/payments/login/login-service.js';
import type { OrderRow } from '../../../src/payments/orders/order-view.js';
import { OrdersService } from '../../../src/payments/orders/orders-service.js';
import { Refunds } from '../../../src/payments/refunds/refunds.js';
import { migrateToLatest } from '../../../src/store/migrations.js';
import type { Database } from '../../../src/store/schema.js';

type Run = (q: AdminQueries, db: Kysely<Database>, ctx: PaymentsContext) => Promise<unknown>;

async function capture(run: Run) {
  const database = new SQLite(':memory:');
  const seen: { sql: string; parameters: readonly unknown[] }[] = [];
  const db = new Kysely<Database>({
    dialect: new SqliteDialect({ database }),
    log: (event) => {
      if (event.level === 'query') seen.push(event.query);
    },
  });
  await migrateToLatest(db as Kysely<unknown>, 'sqlite');
  seen.length = 0;
  const ctx = {
    db,
    clock: () => new Date(),
    logger: pino({ level: 'silent' }),
    settings: DEFAULT_SETTINGS,
  } as unknown as PaymentsContext;
  await run(new AdminQueries(ctx), db, ctx).catch(() => undefined);
  const plans = seen.map((q) => {
    const rows = database
      .prepare(`EXPLAIN QUERY PLAN ${q.sql}`)
      .all(...(q.parameters as unknown[])) as { detail: string }[];
    return { sql: q.sql, plan: rows.map((r) => r.detail).join(' | ') };
  });
  await db.destroy();
  return plans;
}

/** Every query of `run` on `table` is planned with `index` (and none scans the table). */
async function usesIndex(run: Run, table: string, index: string) {
  const plans = (await capture(run)).filter((p) => p.sql.includes(`from "${table}"`));
  assert.ok(plans.length > 0, `no query on ${table}`);
  for (const { sql, plan } of plans) {
    assert.match(plan, new RegExp(`INDEX ${index}\\b`), `${sql}\n→ ${plan}`);
    assert.doesNotMatch(plan, new RegExp(`SCAN ${table}(?! USING)`), `${sql}\n→ ${plan}`);
  }
}

test('orders: newest first, by openid, by status', async () => {
  await usesIndex((q) => q.listOrders({ limit: 50 }), 'orders', 'orders_created');
  await usesIndex(
    (q) => q.listOrders({ openid: 'o1', cursor: undefined }),
    'orders',
    'orders_openid_created',
  );
  await usesIndex((q) => q.listOrders({ status: 'PAID' }), 'orders', 'orders_status_created');
  // Several statuses: a page of each by the index on status, merged (no sort of them all).
  await usesIndex(
    (q) => q.listOrders({ status: 'PENDING,PAID,REFUNDED' }),
    'orders',
    'orders_status_(created|next_query)',
  );
});

test('stats: paid orders and succeeded refunds by time', async () => {
  await usesIndex(
    (q) => q.dailyStats({ from: '2026-11-01', to: '2026-11-30' }),
    'orders',
    'orders_paid_at',
  );
  await usesIndex(
    (q) => q.dailyStats({ from: '2026-11-01', to: '2026-11-30' }),
    'refunds',
    'refunds_status_succeeded',
  );
});

test('events by type, anomalies by status, an order timeline', async () => {
  await usesIndex(
    (q) => q.listEvents({ type: 'order.paid' }),
    'order_events',
    'order_events_type_seq',
  );
  await usesIndex(
    (q) => q.listAnomalies({ status: 'open' }),
    'anomalies',
    'anomalies_status_created',
  );
  await usesIndex((q) => q.listAnomalies({}), 'anomalies', 'anomalies_created');
});

test("an order's timeline reads each source by the order", async () => {
  const order = { id: 'ord_1', out_trade_no: 'MP1' } as OrderRow;
  const timeline: Run = (_q, db) => loadTimeline(db, order);
  await usesIndex(timeline, 'notifications', 'notifications_order');
  await usesIndex(timeline, 'gateway_calls', 'gateway_calls_order');
  await usesIndex(timeline, 'order_events', 'order_events_order');
  await usesIndex(timeline, 'refunds', 'refunds_order');
  await usesIndex(timeline, 'anomalies', 'anomalies_(order|out_trade_no)');
});

test('a page after a cursor reads each (created_at, id) list by its index', async () => {
  const after = (list: string) =>
    encodeTimeCursor(list, { at: '2026-11-22T08:00:00.000Z', id: 'x_1' });
  await usesIndex((q) => q.listOrders({ cursor: after('orders') }), 'orders', 'orders_created');
  await usesIndex(
    (q) => q.listAnomalies({ cursor: after('anomalies') }),
    'anomalies',
    'anomalies_created',
  );
  const user = { id: 'usr_1' } as SessionUser;
  await usesIndex(
    (_q, _db, ctx) =>
      new OrdersService(ctx, undefined as never, undefined as never).list(
        user,
        20,
        after('user-orders'),
      ),
    'orders',
    'orders_user_created',
  );
  await usesIndex(
    (_q, _db, ctx) => new Refunds(ctx).list({ cursor: after('refunds') }),
    'refunds',
    'refunds_created',
  );
  await usesIndex(
    (_q, _db, ctx) => new Webhooks(ctx).list({ cursor: after('webhook-deliveries') }),
    'webhook_deliveries',
    'webhook_deliveries_created',
  );
});
