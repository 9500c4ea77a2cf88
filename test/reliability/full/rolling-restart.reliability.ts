/**
 * A rolling restart under load, long run (support/rolling-restart.ts): 8 buyers, each of two
 * instances restarted 5 times in turn. Run by `npm run reliability`; figures in RELIABILITY.md.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { postgresSkipReason } from '../../support/postgres.js';
import { rollingRestart } from '../support/rolling-restart.js';

test('rolling restarts under load, long run', {
  skip: postgresSkipReason() ?? false,
}, async (t) => {
  const rounds = Number(process.env.MINIPAY_ROLLING_ROUNDS ?? 5);
  const r = await rollingRestart({ buyers: 8, rounds, drainSeconds: 1 });
  t.diagnostic(JSON.stringify(r));
  assert.equal(r.restarts, 2 * rounds);
  assert.ok(
    r.exitCodes.every((c) => c === 0),
    'each instance stopped cleanly',
  );
  assert.deepEqual(r.failed, [], 'no request failed');
  assert.equal(r.notifyFailed, 0, 'no notify failed');
  assert.equal(r.paidInStore, r.paidAtWechat);
});
