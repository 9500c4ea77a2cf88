/**
 * Several instances on one PostgreSQL, quick version (support/cluster.ts): three `minipay start`
 * processes, one SIGKILLed and restarted mid-run. The long run is `npm run reliability`
 * (RELIABILITY.md).
 */
import { test } from 'node:test';
import { postgresSkipReason } from '../support/postgres.js';
import { runCluster } from './support/cluster.js';
import { assertCluster } from './support/cluster-assertions.js';

test('three instances on one PostgreSQL: each trade PAID once, refunds not doubled, jobs once per slot', {
  skip: postgresSkipReason() ?? false,
}, async (t) => {
  const r = await runCluster({
    instances: 3,
    orders: 24,
    sharedNotifies: 12,
    refunds: 6,
    parallel: 6,
  });
  t.diagnostic(JSON.stringify(r));
  assertCluster(r);
});
