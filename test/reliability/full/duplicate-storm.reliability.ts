/**
 * Duplicate storm, full size: 1,000 orders × 10 concurrent copies of each genuine notify, on
 * SQLite and PostgreSQL. Run by `npm run reliability`; the figures go to RELIABILITY.md.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startDemo } from '../../support/demo.js';
import { describeOnStores, type StoreKind } from '../../support/stores.js';
import { duplicateStorm } from '../support/storm.js';

const ORDERS = Number(process.env.MINIPAY_STORM_ORDERS ?? 1000);
const COPIES = 10;
/** MINIPAY_STORM_STORES=sqlite (or postgres) runs one store only. */
const KINDS = (process.env.MINIPAY_STORM_STORES ?? 'sqlite,postgres').split(',') as StoreKind[];

describeOnStores(
  'duplicate storm (full)',
  (stores) => {
    test(`${ORDERS} orders × ${COPIES} concurrent copies`, async (t) => {
      // 1,000 checkouts by 5 users set the storm up: past the per-user limit, not the point.
      const demo = await startDemo(t, await stores.freshUrl(), {
        env: { MINIPAY_RATE_LIMIT_ORDERS: '0' },
      });
      const r = await duplicateStorm(demo, { orders: ORDERS, copies: COPIES, parallelOrders: 10 });
      t.diagnostic(`[${stores.kind}] ${JSON.stringify(r)}`);
      assert.deepEqual(r.statuses, { 200: ORDERS * COPIES }, 'no 5xx, no 4xx');
      assert.equal(r.notAcknowledged, 0);
      assert.equal(r.paid, ORDERS);
      assert.equal(r.paidEvents, ORDERS);
      assert.equal(r.doublePaid, 0);
      assert.equal(r.notificationsReceived, ORDERS * COPIES);
    });
  },
  KINDS,
);
