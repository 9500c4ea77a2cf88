/**
 * The admin reads use indexes on PostgreSQL too: each query AdminQueries runs is captured and
 * explained (EXPLAIN, JSON) on a database grown to 20,000 orders and analysed
 * (test/support/growth-seed.ts), so that the planner decides from real statistics. No read
 * may scan a whole table, and each must use the index named.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CompiledQuery, Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import pino from 'pino';
import { AdminQueries } from '../../../src/payments/admin/admin-queries.js';
import { loadTimeline } from '../../../src/payments/admin/order-timeline.js';
import { DEFAULT_SETTINGS, type PaymentsContext } from '../../../src/payments/context.js';
import { encodeTimeCursor } from '../../../src/payments/lib/page-cursor.js';
import type { OrderRow } from '../../../src/payments/orders/order-view.js';
import { openStore } from '../../../src/store/index.js';
import type { Database } from '../../../src/store/schema.js';
import { lastOrderDay, seedGrowth } from '../../support/growth-seed.js';
import { type PgCluster, postgresSkipReason, startPostgres } from '../../support/postgres.js';

const ORDERS = 20_000;

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

describe('admin query plans [postgres]', { skip: postgresSkipReason() ?? false }, () => {
  let cluster: PgCluster;
  let pool: pg.Pool;
  let db: Kysely<Database>;
  let seen: CompiledQuery[] = [];

  before(async () => {
    cluster = (await startPostgres())!;
    const url = await cluster.createDatabase();
    const store = openStore(url);
    await store.migrate();
    await seedGrowth(store, 0, ORDERS);
    await store.close();
    pool = new pg.Pool({ connectionString: url, max: 2 });
    // Stopping the cluster ends idle connections; that is no error of the test.
    pool.on('error', () => undefined);
    db = new Kysely<Database>({
      dialect: new PostgresDialect({ pool }),
      log: (event) => {
        if (event.level === 'query') seen.push(event.query);
      },
    });
  });
  after(async () => {
    await db?.destroy();
    await cluster?.stop();
  });

  type Run = (q: AdminQueries, db: Kysely<Database>) => Promise<unknown>;

  async function plans(run: Run) {
    seen = [];
    const ctx = {
      db,
      clock: () => new Date(),
      logger: pino({ level: 'silent' }),
      settings: DEFAULT_SETTINGS,
    } as unknown as PaymentsContext;
    await run(new AdminQueries(ctx), db);
    // Transaction control and SET statements have no plan.
    const queries = seen.filter((q) => !/^(begin|commit|rollback|set )/i.test(q.sql));
    const out = [];
    for (const q of queries) {
      const explained = await db.executeQuery<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
        CompiledQuery.raw(`EXPLAIN (FORMAT JSON) ${q.sql}`, [...q.parameters]),
      );
      out.push({ sql: q.sql, plan: explained.rows[0]!['QUERY PLAN'][0].Plan });
    }
    return out;
  }

  /** Every query of `run` on `table` uses `index` and none reads the whole table. */
  async function usesIndex(run: Run, table: string, index: string) {
    const explained = (await plans(run)).filter((p) => p.sql.includes(`from "${table}"`));
    assert.ok(explained.length > 0, `no query on ${table}`);
    for (const { sql, plan } of explained) {
      const all = nodes(plan);
      const shown = JSON.stringify(all.map((n) => [n['Node Type'], n['Index Name']]));
      assert.ok(
        !all.some((n) => n['Node Type'] === 'Seq Scan' && n['Relation Name'] === table),
        `${sql}\n→ ${shown}`,
      );
      assert.ok(
        all.some(
          (n) => n['Index Name'] !== undefined && new RegExp(`^${index}$`).test(n['Index Name']),
        ),
        `${sql}\n→ ${shown}`,
      );
    }
  }

  test('orders: newest first, a page after a cursor, by openid, by status, by day', async () => {
    await usesIndex((q) => q.listOrders({}), 'orders', 'orders_created');
    const cursor = encodeTimeCursor('orders', { at: '2026-01-03T00:00:00.000Z', id: 'ord_x' });
    await usesIndex((q) => q.listOrders({ cursor }), 'orders', 'orders_created');
    await usesIndex(
      (q) => q.listOrders({ openid: 'oGrowth000000000042' }),
      'orders',
      'orders_openid_created',
    );
    // A common status is as quickly found walking all orders newest first: either index will do.
    await usesIndex((q) => q.listOrders({ status: 'PAID' }), 'orders', 'orders_(status_)?created');
    // A status few orders have is found by an index on status (then its few rows sorted).
    await usesIndex(
      (q) => q.listOrders({ status: 'CLOSING' }),
      'orders',
      'orders_status_(created|next_query)',
    );
    await usesIndex(
      (q) => q.listOrders({ status: 'PENDING,CLOSING,PAID' }),
      'orders',
      'orders_(status_)?created',
    );
    await usesIndex(
      (q) => q.listOrders({ from: '2026-01-03T00:00:00.000Z', to: '2026-01-04T00:00:00.000Z' }),
      'orders',
      'orders_created',
    );
  });

  test('daily stats read paid orders and refunds by time', async () => {
    const day = lastOrderDay(ORDERS);
    await usesIndex((q) => q.dailyStats({ from: day, to: day }), 'orders', 'orders_paid_at');
    await usesIndex(
      (q) => q.dailyStats({ from: day, to: day }),
      'refunds',
      'refunds_status_succeeded',
    );
    // Without parallel workers (BENCHMARKS.md, "Admin reads as the shop grows").
    assert.ok(seen.some((q) => /^set local max_parallel_workers_per_gather = 0$/i.test(q.sql)));
  });

  test("events by type; an order's page reads each source by the order", async () => {
    await usesIndex(
      (q) => q.listEvents({ type: 'order.refunded' }),
      'order_events',
      'order_events_type_seq',
    );
    const order = { id: 'ord_g000000000123', out_trade_no: 'MPG000000000123' } as OrderRow;
    const timeline: Run = (_q, d) => loadTimeline(d, order);
    await usesIndex(timeline, 'notifications', 'notifications_order');
    await usesIndex(timeline, 'order_events', 'order_events_order');
    await usesIndex(timeline, 'refunds', 'refunds_order');
    await usesIndex((q) => q.order('ord_g000000000123'), 'orders', 'orders_pkey');
  });
});
