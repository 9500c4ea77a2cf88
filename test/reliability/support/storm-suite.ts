/**
 * Duplicate storm, quick version (50 orders × 10 concurrent copies of each genuine notify), one
 * file per store. The 1,000-order run is `npm run reliability` (RELIABILITY.md).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startDemo } from '../../support/demo.js';
import { describeOnStores, type StoreKind } from '../../support/stores.js';
import { duplicateStorm } from './storm.js';

const ORDERS = 50;
const COPIES = 10;

export function stormSuite(kind: StoreKind) {
  describeOnStores(
    'duplicate storm',
    (stores) => {
      test(`${ORDERS} orders × ${COPIES} concurrent copies: each PAID once, every copy acknowledged`, async (t) => {
        const demo = await startDemo(t, await stores.freshUrl());
        const r = await duplicateStorm(demo, {
          orders: ORDERS,
          copies: COPIES,
          parallelOrders: 10,
        });
        assert.deepEqual(r.statuses, { 200: ORDERS * COPIES }, 'no 5xx, no 4xx');
        assert.equal(r.notAcknowledged, 0, 'WeChat must hear SUCCESS for every copy');
        assert.equal(r.paid, ORDERS);
        assert.equal(r.paidEvents, ORDERS);
        assert.equal(r.doublePaid, 0);
        assert.equal(
          r.notificationsReceived,
          ORDERS * COPIES,
          'every copy was recorded as received',
        );
      });
    },
    [kind],
  );
}
