/**
 * A rolling restart under load, quick version (support/rolling-restart.ts): each of two
 * instances behind a load balancer is stopped (SIGTERM) and started again while buyers pay;
 * no request and no notify may fail. The long run is `npm run reliability` (RELIABILITY.md).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { postgresSkipReason } from '../support/postgres.js';
import { rollingRestart } from './support/rolling-restart.js';

test('rolling restart of two instances under load: no request fails', {
  skip: postgresSkipReason() ?? false,
}, async (t) => {
  const r = await rollingRestart({ buyers: 4, rounds: 1, drainSeconds: 1 });
  t.diagnostic(JSON.stringify(r));
  assert.equal(r.restarts, 2);
  assert.deepEqual(r.exitCodes, [0, 0], 'each instance stopped cleanly');
  assert.ok(r.requests > 0);
  assert.deepEqual(r.failed, [], 'no request failed');
  assert.equal(r.notifyFailed, 0, 'no notify failed');
  assert.equal(r.paidInStore, r.paidAtWechat);
});
