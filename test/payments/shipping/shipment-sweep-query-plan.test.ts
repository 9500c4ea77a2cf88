/**
 * The shipment sweep's query at scale, on SQLite and PostgreSQL: 100,000 orders (about 36 days,
 * test/support/growth-seed.ts), every paid one shipped but three in the last week. The query
 * finds exactly those three, and its plan reads orders by paid_at (orders_paid_at), never the
 * whole table (at a million orders the week is 2 % of them). SQLite without statistics (minipay
 * never runs ANALYZE) would walk every PAID order by orders_status_created if the query let it
 * use the status; it compares the status as an expression so that it cannot.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CompiledQuery, sql } from 'kysely';
import { ordersMissingShipmentQuery } from '../../../src/payments/shipping/shipments-repo.js';
import type { Store } from '../../../src/store/index.js';
import { seedGrowth } from '../../support/growth-seed.js';
import { describeOnStores } from '../../support/stores.js';

const ORDERS = 100_000;
const STEP_MS = 31_000;
const EPOCH = Date.UTC(2026, 0, 1);
/** Just after the last seeded order was paid. */
const NOW = EPOCH + ORDERS * STEP_MS + 60_000;
const WEEK = 7 * 24 * 3600_000;
/** Paid orders of the last week left without a shipment (numbers ≡ 0..6 mod 10 are PAID). */
const MISSING = ['ord_g000000099990', 'ord_g000000095001', 'ord_g000000090002'];

async function shipAllButMissing(store: Store): Promise<void> {
  await sql`INSERT INTO shipments (id, order_id, kind, status, logistics_type, parcels,
      upload_time, attempts, next_attempt_at, last_error_code, last_error, uploaded_at,
      receipt_confirmed_at, settled_at, version, created_at, updated_at)
    SELECT 'shp_' || id, id, 'virtual', 'UPLOADED', 'virtual', '[]', paid_at, 1, NULL, NULL,
      NULL, paid_at, NULL, NULL, 1, paid_at, paid_at
    FROM orders WHERE paid_at IS NOT NULL AND id NOT IN (${sql.join(MISSING)})`.execute(store.db);
  await (store.dialect === 'postgres' ? sql`VACUUM ANALYZE` : sql`ANALYZE`).execute(store.db);
}

interface PgNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PgNode[];
}
const pgNodes = (n: PgNode): PgNode[] => [n, ...(n.Plans ?? []).flatMap(pgNodes)];

/** The plan as [operation, relation or index] pairs, on either store. */
async function plan(store: Store, query: CompiledQuery): Promise<string[]> {
  if (store.dialect === 'postgres') {
    const res = await store.db.executeQuery<{ 'QUERY PLAN': [{ Plan: PgNode }] }>(
      CompiledQuery.raw(`EXPLAIN (FORMAT JSON) ${query.sql}`, [...query.parameters]),
    );
    return pgNodes(res.rows[0]!['QUERY PLAN'][0].Plan).map(
      (n) => `${n['Node Type']} ${n['Index Name'] ?? n['Relation Name'] ?? ''}`,
    );
  }
  const res = await store.db.executeQuery<{ detail: string }>(
    CompiledQuery.raw(`EXPLAIN QUERY PLAN ${query.sql}`, [...query.parameters]),
  );
  return res.rows.map((r) => r.detail);
}

const since = new Date(NOW - WEEK);
const until = new Date(NOW - 60_000);

describeOnStores('shipment sweep query at 100k orders', (stores) => {
  test('without statistics the query reads orders by paid_at, not by status', async () => {
    const store = await stores.fresh();
    const steps = await plan(
      store,
      ordersMissingShipmentQuery(store.db, since, until, 100).compile(),
    );
    if (store.dialect === 'sqlite') {
      assert.match(
        steps.join(' | '),
        /SEARCH orders USING INDEX orders_paid_at \(paid_at>\? AND paid_at<\?\)/,
      );
    } else {
      assert.ok(!steps.some((s) => s.startsWith('Seq Scan orders')), steps.join(' | '));
    }
  });

  test('finds the week’s paid orders without a shipment, by paid_at', async () => {
    const store = await stores.fresh();
    await seedGrowth(store, 0, ORDERS);
    await shipAllButMissing(store);
    const query = ordersMissingShipmentQuery(store.db, since, until, 100);
    const found = (await query.execute()).map((r) => r.id);
    assert.deepEqual(found, [...MISSING].reverse(), 'oldest payment first');
    const steps = await plan(store, query.compile());
    const shown = steps.join(' | ');
    assert.ok(
      steps.some((s) => /orders_paid_at\b/.test(s)),
      shown,
    );
    // Neither a scan of all orders nor of all shipments (each is probed by its unique key).
    for (const table of ['orders', 'shipments']) {
      assert.ok(
        !steps.some((s) => new RegExp(`^(Seq Scan ${table}|SCAN ${table}$)`).test(s)),
        shown,
      );
    }
  });
});
