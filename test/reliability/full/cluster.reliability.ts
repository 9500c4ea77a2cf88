/**
 * Several instances on one PostgreSQL, long run (support/cluster.ts): three `minipay start`
 * processes, 1,200 orders, 300 notifies sent to all three at once, 100 refunds asked from two
 * consoles at once, one instance SIGKILLed and restarted mid-run. Run by `npm run reliability`;
 * figures in RELIABILITY.md. MINIPAY_CLUSTER_ORDERS changes the size.
 */
import { test } from 'node:test';
import { postgresSkipReason } from '../../support/postgres.js';
import { runCluster } from '../support/cluster.js';
import { assertCluster } from '../support/cluster-assertions.js';

test('three instances on one PostgreSQL, long run', {
  skip: postgresSkipReason() ?? false,
}, async (t) => {
  const orders = Number(process.env.MINIPAY_CLUSTER_ORDERS ?? 1200);
  const r = await runCluster({
    instances: 3,
    orders: orders - orders / 4,
    sharedNotifies: orders / 4,
    refunds: 100,
    parallel: 12,
  });
  t.diagnostic(JSON.stringify(r));
  assertCluster(r);
});
